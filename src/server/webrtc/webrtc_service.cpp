#include "server/webrtc/webrtc_service.h"

#include <chrono>

#include "core/names.h"
#include "core/util/fnv1a.h"
#include "media/util/text.h"
#include "server/auth/access_token.h"
#include "server/webrtc/random_id.h"

#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <openssl/rand.h>

#include <algorithm>
#include <cctype>
#include <sstream>
#include <stdexcept>

#include <spdlog/spdlog.h>
#include <boost/asio/ip/address.hpp>

namespace atrium::server {

namespace {

std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  for (std::string item; std::getline(in, item, ',');) {
    item.erase(0, item.find_first_not_of(' '));
    item.erase(item.find_last_not_of(' ') + 1);
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

// Every IPv4 address of the machine that is up, non-loopback first, loopback last.
std::vector<std::string> machine_addresses() {
  std::vector<std::string> outside, loopback;
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return {"127.0.0.1"};
  for (ifaddrs* i = list; i; i = i->ifa_next) {
    if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET || !(i->ifa_flags & IFF_UP)) continue;
    const auto* sin = reinterpret_cast<const sockaddr_in*>(static_cast<const void*>(i->ifa_addr));
    const auto ip = boost::asio::ip::address_v4(ntohl(sin->sin_addr.s_addr));
    auto& dest = ip.is_loopback() ? loopback : outside;
    if (std::find(dest.begin(), dest.end(), ip.to_string()) == dest.end()) dest.push_back(ip.to_string());
  }
  freeifaddrs(list);
  outside.insert(outside.end(), loopback.begin(), loopback.end());
  if (outside.empty()) outside.push_back("127.0.0.1");
  return outside;
}

std::optional<std::string> query_param(std::string_view query, std::string_view key) {
  while (!query.empty()) {
    const auto amp = query.find('&');
    const auto part = query.substr(0, amp);
    const auto eq = part.find('=');
    if (part.substr(0, eq) == key) {
      // A query is form-encoded: '+' is a space there, unlike in a path.
      std::string value(eq == std::string_view::npos ? "" : part.substr(eq + 1));
      std::replace(value.begin(), value.end(), '+', ' ');
      return percent_decode(value);
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return std::nullopt;
}

bool content_type_is(const HttpRequest& req, std::string_view type) {
  auto ct = media::ascii_lower(req.header("Content-Type"));
  const auto semi = ct.find(';');
  if (semi != std::string::npos) ct.resize(semi);
  while (!ct.empty() && ct.back() == ' ')
    ct.pop_back();
  return ct == type;
}

int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

HttpResponse error(unsigned status, const std::string& sentence) {
  return HttpResponse::text(status, sentence + "\n");
}

WebRtcService::WebRtcService(const ServerConfig& config, MetricsRegistry& metrics)
    : config_(config),
      metrics_(metrics),
      ports_(static_cast<size_t>(config.workers)),
      tcp_ports_(static_cast<size_t>(config.workers)),
      pending_(
          std::make_shared<PendingSessions>(config.max_pending_sessions, config.max_pending_per_address)) {
  metrics.gauge_callback("atrium_webrtc_pending_sessions",
                         "sessions (WHIP, WHEP, SDK) created but not connected yet (ICE/DTLS not done)",
                         [this] { return static_cast<double>(pending_->total()); });
  dtls_ = webrtc::DtlsContext::create(webrtc::DtlsCertificate::generate());
  if (!config.public_ip.empty()) {
    candidate_ips_ = split_list(config.public_ip);
  } else if (config.bind != "0.0.0.0" && config.bind != "::") {
    candidate_ips_ = {config.bind};
  } else {
    candidate_ips_ = machine_addresses();
  }
  relay_ips_ = turn_server_addresses(config.turn_urls);
  if (!config.turn_secret.empty() && !config.turn_urls.empty()) {
    std::string ips;
    for (const auto& ip : relay_ips_)
      ips += (ips.empty() ? "" : ", ") + ip;
    spdlog::info("webrtc: TURN credentials for {} (valid {} s); relay addresses {}", config.turn_urls,
                 config.turn_ttl, ips.empty() ? "unresolved" : ips);
  }
  Histogram& first_video = metrics.histogram(
      "atrium_viewer_first_video_seconds",
      "seconds from a session's media connect (ICE and DTLS done, SRTP keys in place) to its first video RTP "
      "packet sent (WHEP viewers and SDK sessions that receive video)",
      kFirstVideoBuckets);
  for (int i = 0; i < config.workers; ++i) {
    counters_.emplace_back();
    WebRtcCounters& c = counters_.back();
    c.first_video = &first_video;
    register_webrtc_metrics(metrics, c, MetricLabels{{"worker", std::to_string(i)}});
  }
}

std::vector<uint16_t> WebRtcService::ports() const {
  std::vector<uint16_t> out;
  for (const auto& p : ports_)
    out.push_back(p.load());
  return out;
}

std::vector<uint16_t> WebRtcService::tcp_ports() const {
  std::vector<uint16_t> out;
  for (const auto& p : tcp_ports_)
    out.push_back(p.load());
  return out;
}

std::string WebRtcService::start_worker(Worker& worker, WorkerCore& core) {
  WebRtcWorkerSettings settings{dtls_, candidate_ips_, &sessions_, {}, relay_ips_, {}};
  settings.tcp.max_connections = static_cast<size_t>(config_.tcp_max_connections);
  settings.tcp.max_pending = static_cast<size_t>(config_.tcp_max_pending);
  settings.tcp.max_pending_per_address = static_cast<size_t>(config_.tcp_max_pending_per_address);
  settings.tcp.pending_timeout = int64_t{config_.tcp_pending_timeout} * 1000;
  settings.tcp.send_queue = static_cast<size_t>(config_.tcp_send_queue);
  settings.ice_servers = [this](const std::string& peer) { return ice_servers_json(ice_servers(peer)); };
  auto& w = worker.emplace<WebRtcWorker>(worker, core, std::move(settings), counters_[worker.index()]);
  boost::system::error_code ec;
  const auto bind = boost::asio::ip::make_address(config_.bind, ec);
  const uint16_t port =
      config_.udp_port == 0 ? 0 : static_cast<uint16_t>(config_.udp_port + static_cast<int>(worker.index()));
  auto err = w.open(bind, port, tcp_port_of(config_, static_cast<int>(worker.index())));
  if (err.empty()) {
    ports_[worker.index()] = w.port();
    tcp_ports_[worker.index()] = w.tcp_port();
  }
  return err;
}

std::string_view WebRtcService::bearer(const HttpRequest& req) {
  const auto h = req.header("Authorization");
  return h.starts_with("Bearer ") ? h.substr(7) : std::string_view();
}

PendingSessions::Slot WebRtcService::reserve_pending(std::string_view address, std::string& refusal) {
  auto why = PendingSessions::Reserved::kYes;
  auto slot = pending_->take(address, why);
  if (why == PendingSessions::Reserved::kAddressFull)
    refusal = "your address has " + std::to_string(pending_->max_per_address()) +
              " sessions that have not connected yet (--max-pending-per-address); try again later";
  else if (why == PendingSessions::Reserved::kServerFull)
    refusal = "the server has " + std::to_string(pending_->max_total()) +
              " sessions that have not connected yet (--max-pending-sessions); try again later";
  return slot;
}

WebRtcService::Access WebRtcService::authorize(std::string_view token, std::string_view room,
                                               std::string_view peer) const {
  Access a;
  if (config_.auth_secret.empty()) return a;
  auto check = verify_access_token(config_.auth_secret, token, unix_now());
  if (!check.claims) return {false, false, false, check.code, check.message};
  if (auto scope = check_scope(*check.claims, room, peer); !scope.empty())
    return {false, false, false, scope,
            scope == "TOKEN_WRONG_ROOM" ? "the token is for room '" + check.claims->room + "'"
                                        : "the token is for peer '" + check.claims->peer + "'"};
  a.publish = check.claims->publish || check.claims->admin;
  a.subscribe = check.claims->subscribe || check.claims->admin;
  return a;
}

std::vector<IceServer> WebRtcService::ice_servers(std::string_view peer) const {
  return ice_servers_for(
      IceServerSettings{config_.ice_servers, config_.turn_urls, config_.turn_secret, config_.turn_ttl}, peer,
      unix_now());
}

Worker& WebRtcService::worker_for_room(WorkerPool& workers, std::string_view room) {
  return workers.at(core::fnv1a(room) % workers.size());
}

void WebRtcService::add_routes(HttpRouter& router, WorkerPool& workers) {
  // The session URL (PATCH, DELETE) needs a valid token too. Its claims go to the worker, which knows the
  // session's room and peer and refuses (403) a token of another room or peer: holding some valid token must
  // not let anyone end or change someone else's session.
  struct Caller {
    bool valid = true;
    std::optional<SessionCaller> claims;  // none without --auth-secret
  };
  auto caller = [this](const HttpRequest& req) -> Caller {
    if (config_.auth_secret.empty()) return {};
    auto check = verify_access_token(config_.auth_secret, bearer(req), unix_now());
    if (!check.claims) return {false, std::nullopt};
    return {true, SessionCaller{check.claims->room, check.claims->peer, check.claims->admin}};
  };
  auto unauthorized = [] {
    return error(401, "missing, expired or wrong bearer token").with_header("WWW-Authenticate", "Bearer");
  };
  auto worker_of_session = [&workers](const std::string& id) -> Worker* {
    const auto dash = id.find('-');
    if (dash == std::string::npos || dash == 0 || dash > 4) return nullptr;
    size_t index = 0;
    for (size_t i = 0; i < dash; ++i) {
      if (!std::isdigit(static_cast<unsigned char>(id[i]))) return nullptr;
      index = index * 10 + static_cast<size_t>(id[i] - '0');
    }
    return index < workers.size() ? &workers.at(index) : nullptr;
  };

  auto offer = [this, &workers](webrtc::SessionKind kind, const HttpRequest& req, Responder respond) {
    const bool publish = kind == webrtc::SessionKind::kPublish;
    if (!content_type_is(req, "application/sdp"))
      return respond(error(415, "the offer must be sent with Content-Type: application/sdp"));
    const std::string room(req.param("room"));
    if (!core::is_url_safe_name(room))
      return respond(error(400, "room names are 1 to 128 characters of A-Z a-z 0-9 - _ . ~"));
    std::string peer = query_param(req.query, "peer").value_or("");
    if (peer.empty()) peer = (publish ? "whip-" : "whep-") + random_hex(4);
    if (!core::is_url_safe_name(peer))
      return respond(error(400, "peer names are 1 to 128 characters of A-Z a-z 0-9 - _ . ~"));
    const std::string source = publish ? "" : query_param(req.query, "source").value_or("");
    if (!source.empty() && !core::is_url_safe_name(source))
      return respond(error(400, "source must be a valid peer name"));
    if (!config_.auth_secret.empty()) {
      const auto access = authorize(bearer(req), room, peer);
      if (!access.ok)
        return respond(
            error(401, access.code + ": " + access.message).with_header("WWW-Authenticate", "Bearer"));
      if (publish ? !access.publish : !access.subscribe)
        return respond(error(403, std::string("PERMISSION_DENIED: this token may not ") +
                                      (publish ? "publish" : "subscribe")));
    }
    if (req.body.empty()) return respond(error(400, "the body must be an SDP offer"));
    // Reserve the slot now: offers arriving together must not all pass the check before any worker counted.
    if (sessions_.fetch_add(1, std::memory_order_relaxed) >= config_.max_sessions) {
      sessions_.fetch_sub(1, std::memory_order_relaxed);
      return respond(error(503, "the server is at its session limit (" +
                                    std::to_string(config_.max_sessions) + "); try again later")
                         .with_header("Retry-After", "5"));
    }
    // Sessions that never connect are reaped only after the connect timeout: cap them per address too.
    std::string full;
    auto pending = reserve_pending(req.remote.address().to_string(), full);
    if (!pending) {
      sessions_.fetch_sub(1, std::memory_order_relaxed);
      return respond(error(503, full).with_header("Retry-After", "5"));
    }

    Worker& worker = worker_for_room(workers, room);
    SessionOffer o{kind, room, peer, source, req.body, std::move(pending)};
    worker.post([this, &worker, peer, o = std::move(o), respond]() mutable {
      auto* w = worker.find<WebRtcWorker>();
      if (!w) {
        sessions_.fetch_sub(1, std::memory_order_relaxed);
        return respond(error(503, "the media worker is not running"));
      }
      // Answered once the join is decided: at once with the embedded bus, when the cluster directory's claim
      // completes with NATS (the worker serves its other sessions meanwhile).
      w->create_session(std::move(o), [this, peer, respond](SessionCreated created) {
        if (created.status == 503) return respond(error(503, created.error).with_header("Retry-After", "2"));
        if (created.status != 201) return respond(error(created.status, created.error));
        HttpResponse r{201, "application/sdp", std::move(created.answer), {}};
        r.with_header("Location", "/session/" + created.id).with_header("ETag", created.etag);
        for (auto& link : ice_server_links(ice_servers(peer)))
          r.with_header("Link", std::move(link));
        respond(std::move(r));
      });
    });
  };
  router.post("/whip/{room}", [offer](const HttpRequest& req, Responder respond) {
    offer(webrtc::SessionKind::kPublish, req, std::move(respond));
  });
  router.post("/whep/{room}", [offer](const HttpRequest& req, Responder respond) {
    offer(webrtc::SessionKind::kSubscribe, req, std::move(respond));
  });

  // OPTIONS on the endpoint: the CORS preflight, and (not a preflight: no Access-Control-Request-Method) the
  // ICE servers as Link headers, so a client can configure its RTCPeerConnection before it gathers for the
  // offer (a browser cannot add TURN servers to a gathering that has begun without an ICE restart). With
  // --auth-secret the TURN credential needs a valid bearer token; the preflight itself never carries one.
  auto endpoint_options = [this](bool publish, const HttpRequest& req, Responder respond) {
    const auto asked = req.header("Access-Control-Request-Headers");
    HttpResponse r = HttpResponse::empty(204);
    r.with_header("Allow", "OPTIONS, POST")
        .with_header("Access-Control-Allow-Methods", "OPTIONS, POST")
        .with_header("Access-Control-Allow-Headers",
                     asked.empty() ? "Authorization, Content-Type, If-Match" : std::string(asked))
        .with_header("Access-Control-Max-Age", "86400");
    if (req.header("Access-Control-Request-Method").empty()) {
      const std::string room(req.param("room"));
      std::string peer = query_param(req.query, "peer").value_or("");
      if (peer.empty() || !core::is_url_safe_name(peer)) peer = (publish ? "whip-" : "whep-") + random_hex(4);
      const bool allowed = config_.auth_secret.empty() || authorize(bearer(req), room, peer).ok;
      if (allowed)
        for (auto& link : ice_server_links(ice_servers(peer)))
          r.with_header("Link", std::move(link));
    }
    respond(std::move(r));
  };
  router.add(boost::beast::http::verb::options, "/whip/{room}",
             [endpoint_options](const HttpRequest& req, Responder respond) {
               endpoint_options(true, req, std::move(respond));
             });
  router.add(boost::beast::http::verb::options, "/whep/{room}",
             [endpoint_options](const HttpRequest& req, Responder respond) {
               endpoint_options(false, req, std::move(respond));
             });

  router.add(boost::beast::http::verb::patch, "/session/{id}",
             [caller, unauthorized, worker_of_session](const HttpRequest& req, Responder respond) {
               auto who = caller(req);
               if (!who.valid) return respond(unauthorized());
               if (!content_type_is(req, "application/trickle-ice-sdpfrag"))
                 return respond(error(415, "PATCH takes Content-Type: application/trickle-ice-sdpfrag"));
               const std::string id(req.param("id"));
               Worker* worker = worker_of_session(id);
               if (!worker) return respond(error(404, "no such session"));
               worker->post([worker, id, claims = std::move(who.claims),
                             if_match = std::string(req.header("If-Match")), body = req.body, respond]() {
                 auto* w = worker->find<WebRtcWorker>();
                 if (!w) return respond(error(404, "no such session"));
                 auto patched = w->patch_session(id, claims, if_match, body);
                 if (patched.status == 204) return respond(HttpResponse::empty(204));
                 if (patched.status != 200) return respond(error(patched.status, patched.error));
                 HttpResponse r{200, "application/trickle-ice-sdpfrag", std::move(patched.body), {}};
                 respond(std::move(r.with_header("ETag", patched.etag)));
               });
             });
  router.add(boost::beast::http::verb::delete_, "/session/{id}",
             [caller, unauthorized, worker_of_session](const HttpRequest& req, Responder respond) {
               auto who = caller(req);
               if (!who.valid) return respond(unauthorized());
               const std::string id(req.param("id"));
               Worker* worker = worker_of_session(id);
               if (!worker) return respond(error(404, "no such session"));
               worker->post([worker, id, claims = std::move(who.claims), respond]() {
                 auto* w = worker->find<WebRtcWorker>();
                 if (!w) return respond(error(404, "no such session"));
                 auto deleted = w->delete_session(id, claims);
                 if (deleted.status != 200) return respond(error(deleted.status, deleted.error));
                 respond(HttpResponse::text(200, "session deleted\n"));
               });
             });
}

}  // namespace atrium::server
