#include "server/webrtc/webrtc_worker.h"

#include <netinet/in.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include <array>
#include <sstream>

#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>

#include "media/stun/stun_message.h"
#include "server/webrtc/random_id.h"
#include "transport/sdk/json_fields.h"

namespace atrium::server {

namespace asio = boost::asio;
using webrtc::SocketAddress;

namespace {

constexpr size_t kReceiveBuffer = 2048;
constexpr int kMaxDatagramsPerWake = 64;  // then let timers and posted work run
constexpr size_t kSendStreamsOffered = 8;
// Datagrams per sendmmsg. A pump that fans one packet out to N viewers queues N datagrams; they leave in
// ceil(N / kSendBatch) system calls instead of N.
constexpr size_t kSendBatch = 128;
// A session whose queue holds this many (of DatagramQueue's 64 slots) sends the batch at once, so that
// batching never makes a queue overflow.
constexpr size_t kQueueHighWater = 32;

SocketAddress to_socket_address(const asio::ip::udp::endpoint& ep) {
  SocketAddress a;
  const auto addr = ep.address();
  if (addr.is_v4()) {
    const auto b = addr.to_v4().to_bytes();
    std::copy(b.begin(), b.end(), a.ip.begin());
  } else {
    a.v6 = true;
    a.ip = addr.to_v6().to_bytes();
  }
  a.port = ep.port();
  return a;
}

// The ufrag a binding request is addressed to: USERNAME is "<our ufrag>:<their ufrag>".
std::optional<std::string_view> stun_target_ufrag(std::span<const uint8_t> data) {
  auto msg = media::StunMessage::parse(data);
  if (!msg || msg->type() != media::kStunBindingRequest) return std::nullopt;
  auto user = msg->username();
  if (!user) return std::nullopt;
  const auto colon = user->find(':');
  if (colon == std::string_view::npos) return std::nullopt;
  return user->substr(0, colon);
}

// Reads "a=ice-ufrag:" and "a=ice-pwd:" from a trickle-ice-sdpfrag (RFC 8840).
struct Fragment {
  std::string ufrag;
  std::string pwd;
  bool ok = true;
};
Fragment parse_fragment(std::string_view body) {
  Fragment f;
  std::string line;
  std::istringstream in{std::string(body)};
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    if (line.size() < 2 || line[1] != '=') {
      f.ok = false;
      return f;
    }
    if (line.starts_with("a=ice-ufrag:")) f.ufrag = line.substr(12);
    if (line.starts_with("a=ice-pwd:")) f.pwd = line.substr(10);
  }
  return f;
}

}  // namespace

struct WebRtcWorker::SendBatch {
  std::array<mmsghdr, kSendBatch> msgs{};
  std::array<iovec, kSendBatch> iov{};
  std::array<sockaddr_storage, kSendBatch> addr{};
  std::array<Entry*, kSendBatch> owner{};
  size_t size = 0;

  void add(std::span<const uint8_t> data, const SocketAddress& to, Entry* e) {
    const size_t i = size++;
    auto& a = addr[i];
    socklen_t len = 0;
    if (to.v6) {
      auto* a6 = reinterpret_cast<sockaddr_in6*>(&a);
      *a6 = {};
      a6->sin6_family = AF_INET6;
      a6->sin6_port = htons(to.port);
      std::memcpy(&a6->sin6_addr, to.ip.data(), 16);
      len = sizeof(sockaddr_in6);
    } else {
      auto* a4 = reinterpret_cast<sockaddr_in*>(&a);
      *a4 = {};
      a4->sin_family = AF_INET;
      a4->sin_port = htons(to.port);
      std::memcpy(&a4->sin_addr, to.ip.data(), 4);
      len = sizeof(sockaddr_in);
    }
    iov[i] = {const_cast<uint8_t*>(data.data()), data.size()};
    msgs[i] = {};
    msgs[i].msg_hdr.msg_name = &a;
    msgs[i].msg_hdr.msg_namelen = len;
    msgs[i].msg_hdr.msg_iov = &iov[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
    owner[i] = e;
  }
};

WebRtcWorker::WebRtcWorker(Worker& worker, WorkerCore& core, WebRtcWorkerSettings settings,
                           WebRtcCounters& counters)
    : worker_(worker),
      core_(core),
      settings_(std::move(settings)),
      counters_(counters),
      socket_(worker.io_context()),
      receive_buffer_(kReceiveBuffer),
      batch_(std::make_unique<SendBatch>()) {
  core_.set_after_tick([this](int64_t now) { tick(now); });
  core_.set_after_bus([this](int64_t now) {
    pump(now, nullptr);
    for (Entry* e : closed_)
      remove(now, e);
    closed_.clear();
  });
}

WebRtcWorker::~WebRtcWorker() {
  core_.set_after_tick({});
  core_.set_after_bus({});
  const int64_t now = WorkerCore::now();
  for (auto& [id, e] : by_id_) {
    e->session->close(now, "server shutting down");
    answer_if_decided(*e, true);  // a POST still waiting for its join: 503
    flush(*e);
  }
  send_batch();
  boost::system::error_code ec;
  socket_.close(ec);
}

std::string WebRtcWorker::open(const asio::ip::address& bind, uint16_t port) {
  boost::system::error_code ec;
  const asio::ip::udp::endpoint ep(bind, port);
  socket_.open(ep.protocol(), ec);
  if (!ec) socket_.bind(ep, ec);
  if (ec)
    return "cannot bind UDP " + ep.address().to_string() + ":" + std::to_string(port) + ": " + ec.message();
  socket_.non_blocking(true, ec);
  // Bursts of fan-out leave faster than the kernel's default buffers drain.
  socket_.set_option(asio::socket_base::send_buffer_size(4 << 20), ec);
  socket_.set_option(asio::socket_base::receive_buffer_size(4 << 20), ec);
  port_ = socket_.local_endpoint().port();
  receive();
  return {};
}

void WebRtcWorker::receive() {
  socket_.async_wait(asio::ip::udp::socket::wait_read, [this](const boost::system::error_code& ec) {
    if (ec) return;
    const int64_t now = WorkerCore::now();
    for (int i = 0; i < kMaxDatagramsPerWake; ++i) {
      asio::ip::udp::endpoint from;
      boost::system::error_code rec;
      const size_t n = socket_.receive_from(asio::buffer(receive_buffer_), from, 0, rec);
      if (rec) break;  // would_block: drained
      counters_.datagrams_in.fetch_add(1, std::memory_order_relaxed);
      counters_.bytes_in.fetch_add(n, std::memory_order_relaxed);
      on_datagram(now, to_socket_address(from), std::span(receive_buffer_.data(), n));
    }
    for (Entry* e : closed_)
      remove(now, e);
    closed_.clear();
    receive();
  });
}

void WebRtcWorker::on_datagram(int64_t now, const SocketAddress& from, std::span<uint8_t> data) {
  Entry* e = nullptr;
  if (auto it = by_address_.find(from); it != by_address_.end()) {
    e = it->second;
  } else if (auto ufrag = stun_target_ufrag(data)) {
    if (auto u = by_ufrag_.find(std::string(*ufrag)); u != by_ufrag_.end()) e = u->second;
  }
  if (!e) {
    counters_.unknown_dropped.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  e->session->on_datagram(now, from, data);
  learn_addresses(*e);
  pump(now, e);
}

void WebRtcWorker::learn_addresses(Entry& e) {
  const auto& validated = e.session->validated_addresses();
  if (validated.size() == e.addresses.size()) return;
  for (size_t i = e.addresses.size(); i < validated.size(); ++i) {
    const SocketAddress& a = validated[i];
    auto [it, inserted] = by_address_.emplace(a, &e);
    if (!inserted && it->second != &e) it->second = &e;  // the client reused a port for a new session
    e.addresses.push_back(a);
  }
}

void WebRtcWorker::pump(int64_t now, Entry* first) {
  auto& hub = core_.hub();
  if (first) pending_.push_back(first);
  do {
    while (!pending_.empty()) {
      Entry* e = pending_.back();
      pending_.pop_back();
      while (auto ev = e->session->pop_event()) {
        if (const auto* b = std::get_if<core::tev::BandwidthEstimate>(&*ev))
          spdlog::debug("webrtc: session {} estimate {} kbit/s", e->id, b->bps / 1000);
        hub.on_transport(now, e->endpoint, std::move(*ev));
      }
      flush(*e);
    }
    while (auto out = hub.pop_output()) {
      Entry* e = by_endpoint(out->to);
      if (!e) continue;
      if (const auto* l = std::get_if<core::eev::LocalTrackLayerChanged>(&out->event))
        spdlog::debug("webrtc: session {} track {} now forwards layer {}/{}", e->id, l->id, l->spatial,
                      l->temporal);
      else if (const auto* h = std::get_if<core::eev::BitrateHint>(&out->event))
        spdlog::debug("webrtc: session {} track {} subscribers want {} kbit/s", e->id, h->id,
                      h->bitrate_bps / 1000);
      else if (const auto* w = std::get_if<core::eev::BandwidthWanted>(&out->event))
        spdlog::debug("webrtc: session {} could use {} kbit/s", e->id, w->bps / 1000);
      e->session->on_endpoint_event(now, out->event);
      if (e->answer_when_joined) answer_if_decided(*e);
      flush(*e);
      pending_.push_back(e);
    }
  } while (!pending_.empty());
  send_batch();
}

void WebRtcWorker::flush(Entry& e) {
  auto& q = e.session->datagrams();
  while (e.batched < q.size()) {
    if (batch_->size == kSendBatch) send_batch();  // pops what it sent: e.batched and q.size() shrink alike
    const auto d = q.at(e.batched);
    batch_->add(d.data, d.to, &e);
    ++e.batched;
  }
  if (q.size() >= kQueueHighWater) send_batch();
  if (e.sdk) {
    while (auto m = e.sdk->pop_message())
      if (e.ws) e.ws->send(std::move(*m));
  }
  if (e.session->closed() && std::find(closed_.begin(), closed_.end(), &e) == closed_.end())
    closed_.push_back(&e);
}

void WebRtcWorker::send_batch() {
  auto& b = *batch_;
  if (b.size == 0) return;
  const int fd = socket_.native_handle();
  size_t off = 0;
  uint64_t sent = 0, bytes = 0, errors = 0;
  while (off < b.size) {
    const int n = ::sendmmsg(fd, &b.msgs[off], static_cast<unsigned>(b.size - off), 0);
    if (n > 0) {
      for (size_t i = off; i < off + static_cast<size_t>(n); ++i)
        bytes += b.iov[i].iov_len;
      sent += static_cast<uint64_t>(n);
      off += static_cast<size_t>(n);
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else {
      ++errors;  // this datagram is dropped (e.g. the send buffer is full), as send_to did; go on with the
                 // next
      ++off;
    }
  }
  for (size_t i = 0; i < b.size; ++i) {
    Entry* e = b.owner[i];
    e->session->datagrams().pop();
    --e->batched;
  }
  b.size = 0;
  if (sent) {
    counters_.datagrams_out.fetch_add(sent, std::memory_order_relaxed);
    counters_.bytes_out.fetch_add(bytes, std::memory_order_relaxed);
  }
  if (errors) counters_.send_errors.fetch_add(errors, std::memory_order_relaxed);
}

WebRtcWorker::Entry* WebRtcWorker::by_endpoint(core::EndpointId id) {
  auto it = by_endpoint_.find(id);
  return it == by_endpoint_.end() ? nullptr : it->second;
}

void WebRtcWorker::sync_stats(Entry& e) {
  const auto s = e.session->counters();
  auto& r = reported_[&e];
  auto add = [](std::atomic<uint64_t>& total, uint64_t now_value, uint64_t& before) {
    if (now_value > before) total.fetch_add(now_value - before, std::memory_order_relaxed);
    before = now_value;
  };
  add(counters_.rtp_in, s.rtp_in, r.rtp_in);
  add(counters_.rtp_out, s.rtp_out, r.rtp_out);
  add(counters_.rtcp_in, s.rtcp_in, r.rtcp_in);
  add(counters_.rtcp_out, s.rtcp_out, r.rtcp_out);
  add(counters_.nacks_in, s.nacks_in, r.nacks_in);
  add(counters_.nack_resent, s.nack_resent, r.nack_resent);
  add(counters_.plis_in, s.plis_in, r.plis_in);
  add(counters_.plis_out, s.plis_out, r.plis_out);
  add(counters_.twcc_feedback_in, s.twcc_feedback_in, r.twcc_feedback_in);
  add(counters_.padding_out, s.padding_out, r.padding_out);
  add(counters_.remb_out, s.remb_out, r.remb_out);
  add(counters_.nacks_out, s.nacks_out, r.nacks_out);
  add(counters_.nack_duplicated, s.nack_duplicated, r.nack_duplicated);
  add(counters_.rtx_duplicates, s.rtx_duplicates, r.rtx_duplicates);
  add(counters_.srtp_failures, s.srtp_failures, r.srtp_failures);
  add(counters_.stun_bad_integrity, s.stun_bad_integrity, r.stun_bad_integrity);
  add(counters_.malformed, s.dropped_malformed + s.stun_malformed,
      r.dropped_malformed);  // r.dropped_malformed holds the sum
  add(counters_.unknown_dropped, s.dropped_unknown + s.dropped_unvalidated, r.dropped_unknown);
}

void WebRtcWorker::tick(int64_t now) {
  // The hub ticked just before: key-frame retries and the like may be waiting in its output queue.
  for (auto& [id, e] : by_id_) {
    e->session->on_tick(now);
    if (e->pending && e->session->media_connected()) e->pending = {};
    sync_stats(*e);
    pending_.push_back(e.get());
  }
  pump(now, nullptr);
  for (Entry* e : closed_)
    remove(now, e);
  closed_.clear();
  std::erase_if(recently_closed_, [now](const auto& kv) { return now - kv.second > 60'000'000; });
}

WebRtcWorker::Media WebRtcWorker::make_media(webrtc::SessionKind kind, const core::JoinParams& join,
                                             const std::string& source, const std::string& offer_sdp,
                                             bool join_room) {
  const int64_t now = WorkerCore::now();
  Media media;
  auto ice = webrtc::IceCredentials::random();
  webrtc::AnswerParams params;
  params.kind = kind;
  params.ice_ufrag = ice.ufrag;
  params.ice_pwd = ice.pwd;
  params.fingerprint_sha256 = settings_.dtls->certificate().fingerprint_sha256();
  for (const auto& ip : settings_.candidate_ips)
    params.candidates.push_back({ip, port_, true, 0});
  const std::string cname = random_hex(8);
  const std::string stream = "atrium-" + random_hex(4);
  if (kind != webrtc::SessionKind::kPublish) {
    // One set per section the client receives on; an SDK client pre-allocates many.
    const size_t sections =
        kSendStreamsOffered + static_cast<size_t>(std::count(offer_sdp.begin(), offer_sdp.end(), '\n'));
    for (size_t i = 0; i < std::min<size_t>(sections, 64); ++i)
      params.send_streams.push_back({random_u32(), random_u32(), cname, stream, "track" + std::to_string(i)});
  }
  RAND_bytes(reinterpret_cast<unsigned char*>(&params.session_id), sizeof params.session_id);
  params.session_id &= 0x7FFFFFFFFFFFFFFFULL;

  auto negotiated = webrtc::negotiate_answer(offer_sdp, webrtc::ServerMediaCaps::defaults(), params);
  if (!negotiated) {
    media.status = static_cast<unsigned>(negotiated.error().http_status);
    media.error = negotiated.error().reason;
    return media;
  }
  media.answer = std::move(negotiated.value());
  webrtc::WebRtcSessionConfig config;
  config.kind = kind;
  config.join = join;
  config.source = source;
  config.ice = ice;
  config.remote_fingerprint = {media.answer.remote_fingerprint.algorithm,
                               media.answer.remote_fingerprint.hex};
  config.media = media.answer.media;
  config.rtcp_ssrc = random_u32();
  config.join_room = join_room;
  media.session = std::make_unique<webrtc::WebRtcSession>(settings_.dtls, std::move(config), now);
  return media;
}

WebRtcWorker::Entry* WebRtcWorker::add_entry(std::unique_ptr<Entry> entry) {
  Entry* e = entry.get();
  e->endpoint = core_.hub().create_endpoint();
  by_endpoint_[e->endpoint] = e;
  by_id_[e->id] = std::move(entry);
  counters_.sessions.fetch_add(1, std::memory_order_relaxed);
  sync_ufrag(*e);
  return e;
}

void WebRtcWorker::sync_ufrag(Entry& e) {
  const std::string& now_ufrag = e.session->ice_ufrag();
  if (now_ufrag == e.ufrag) return;
  if (!e.ufrag.empty()) {
    auto it = by_ufrag_.find(e.ufrag);
    if (it != by_ufrag_.end() && it->second == &e) by_ufrag_.erase(it);
  }
  e.ufrag = now_ufrag;
  if (!e.ufrag.empty()) by_ufrag_[e.ufrag] = &e;
}

void WebRtcWorker::create_session(SessionOffer offer, std::function<void(SessionCreated)> answer) {
  const int64_t now = WorkerCore::now();
  SessionCreated result;
  core::JoinParams join;
  join.room = offer.room;
  join.peer = offer.peer;
  auto media = make_media(offer.kind, join, offer.source, offer.sdp, true);
  if (!media.session) {
    release_slot();
    result.status = media.status;
    result.error = media.error;
    return answer(std::move(result));
  }
  auto entry = std::make_unique<Entry>();
  entry->answer = std::move(media.answer);
  entry->whip = media.session.get();
  entry->session = std::move(media.session);
  entry->id = std::to_string(worker_.index()) + "-" + random_hex(kSessionIdBytes);
  entry->remote_ufrag = entry->answer.remote_ice_ufrag;
  entry->etag = "\"" + random_hex(8) + "\"";
  entry->description = std::string(offer.kind == webrtc::SessionKind::kPublish ? "whip " : "whep ") +
                       offer.room + "/" + offer.peer;
  entry->room = offer.room;
  entry->peer = offer.peer;
  entry->pending = std::move(offer.pending);
  Entry* e = add_entry(std::move(entry));
  e->answer_when_joined = std::move(answer);
  pump(now, e);  // the join: the embedded bus answers at once, a NATS bus when its directory claim completes
  if (e->whip->join_failed()) {
    closed_.erase(std::remove(closed_.begin(), closed_.end(), e), closed_.end());
    remove(now, e);  // answers 409
  }
}

void WebRtcWorker::answer_if_decided(Entry& e, bool ending) {
  if (!e.answer_when_joined || !e.whip) return;
  SessionCreated result;
  if (e.whip->join_failed()) {
    // A taken peer id (or another refusal) is the client's to change: 409; a cluster directory that did not
    // answer in time is worth retrying as it is: 503. The reason says which.
    result.status = e.whip->join_error() == core::ErrorCode::kUnavailable ? 503 : 409;
    result.error = e.session->close_reason();
  } else if (e.session->closed() || ending) {
    result.status = 503;
    result.error = "the session ended before its join was answered: " + e.session->close_reason();
  } else if (e.whip->joined()) {
    spdlog::info("webrtc: session {} created ({}, udp port {})", e.id, e.description, port_);
    result.id = e.id;
    result.answer = e.answer.sdp;
    result.etag = e.etag;
  } else {
    return;  // still joining
  }
  auto answer = std::move(e.answer_when_joined);
  e.answer_when_joined = nullptr;
  answer(std::move(result));
}

void WebRtcWorker::after_sdk_input(int64_t now, Entry* e) {
  pump(now, e);
  if (by_id_.count(e->id) == 0) return;
  e->sdk->finish_request();
  sync_ufrag(*e);
  flush(*e);
  send_batch();
  for (Entry* c : closed_)
    remove(now, c);
  closed_.clear();
}

void WebRtcWorker::sdk_open(std::shared_ptr<WebSocketConnection> ws, std::string text,
                            sdk::SdkPermissions permissions, bool reserved, PendingSessions::Slot pending) {
  const int64_t now = WorkerCore::now();
  auto request = nlohmann::json::parse(text, nullptr, false);
  // The HTTP side checked the join's field types (sdk_routes.cpp); read them as carefully here all the same.
  std::optional<sdk::JsonFields> fields;
  if (request.is_object()) fields.emplace(request);
  const nlohmann::json* resume = fields ? fields->object("resume") : nullptr;
  if (resume) {
    if (reserved) release_slot();
    pending = {};  // a resume makes no new session
    sdk::JsonFields secrets(*resume);
    const std::string id = secrets.string("session").value_or("");
    const std::string secret = secrets.string("secret").value_or("");
    const std::string room = fields->string("room").value_or("");
    auto it = by_id_.find(id);
    Entry* e = it == by_id_.end() ? nullptr : it->second.get();
    // The secret is compared in constant time: how long a refusal takes says nothing about how much matched.
    const bool secret_ok = e && e->sdk && e->sdk->resume_secret().size() == secret.size() &&
                           CRYPTO_memcmp(e->sdk->resume_secret().data(), secret.data(), secret.size()) == 0;
    if (!secret_ok || !secrets.ok() || !fields->ok() || e->sdk->room() != room) {
      ws->send(nlohmann::json{{"type", "response"},
                              {"id", fields->id()},
                              {"ok", false},
                              {"error",
                               {{"code", "RESUME_FAILED"},
                                {"message", "no such session to resume (it may have ended); join again"}}}}
                   .dump());
      ws->close(4001, "resume refused");
      return;
    }
    if (e->ws) {
      by_ws_.erase(e->ws.get());
      e->ws->close(4000, "the session was resumed on another connection");
    }
    e->ws = ws;
    by_ws_[ws.get()] = e;
    spdlog::info("sdk: session {} resumed ({})", e->id, e->description);
    e->sdk->on_resume(now, request);
    after_sdk_input(now, e);
    return;
  }

  auto entry = std::make_unique<Entry>();
  entry->id = std::to_string(worker_.index()) + "-" + random_hex(kSessionIdBytes);
  sdk::SdkSessionConfig config;
  config.id = entry->id;
  config.resume_secret = random_hex(16);
  config.permissions = permissions;
  auto session = std::make_unique<sdk::SdkSession>(std::move(config), [this](const std::string& offer) {
    auto media = make_media(webrtc::SessionKind::kPeer, {}, {}, offer, false);
    return sdk::MediaOffer{std::move(media.session), media.answer.sdp, media.error};
  });
  entry->sdk = session.get();
  entry->session = std::move(session);
  entry->ws = ws;
  entry->pending = std::move(pending);
  entry->description = "sdk";
  if (!reserved) entry->description += " (unreserved)";
  Entry* e = add_entry(std::move(entry));
  by_ws_[ws.get()] = e;
  e->sdk->on_message(now, text);
  e->description = "sdk " + e->sdk->room() + "/" + e->sdk->peer();
  after_sdk_input(now, e);
  if (by_id_.count(e->id) && !e->sdk->closed()) {
    if (e->sdk->room().empty()) {
      // Not even a join that reached the core (bad request): the answer says why, then the socket closes so
      // the next try starts clean (and its token is checked again).
      e->session->close(now, "the join was not valid");
      remove(now, e);
      return;
    }
    spdlog::info("sdk: session {} created ({}, udp port {})", e->id, e->description, port_);
  }
}

void WebRtcWorker::sdk_message(const WebSocketConnection* ws, std::string text) {
  auto it = by_ws_.find(ws);
  if (it == by_ws_.end()) return;  // its session ended; the socket is being closed
  const int64_t now = WorkerCore::now();
  Entry* e = it->second;
  e->sdk->on_message(now, text);
  after_sdk_input(now, e);
}

void WebRtcWorker::sdk_closed(const WebSocketConnection* ws) {
  auto it = by_ws_.find(ws);
  if (it == by_ws_.end()) return;
  Entry* e = it->second;
  by_ws_.erase(it);
  e->ws = nullptr;
  if (!e->sdk->closed() && !e->sdk->joined()) {
    // Gone before its join was answered (a slow cluster directory): nobody could resume it, so it ends now,
    // and with it its join (the bus withdraws the claim), its pending-session and --max-sessions slots.
    const int64_t now = WorkerCore::now();
    e->session->close(now, "the socket closed before the join was answered");
    closed_.erase(std::remove(closed_.begin(), closed_.end(), e), closed_.end());
    remove(now, e);
    return;
  }
  if (!e->sdk->closed()) {
    spdlog::info("sdk: session {} lost its connection; it waits for a resume", e->id);
    e->sdk->on_disconnected(WorkerCore::now());
  }
}

std::string WebRtcWorker::refusal(const Entry& e, const std::optional<SessionCaller>& caller) {
  if (!caller) return {};
  if (caller->room != "*" && caller->room != e.room)
    return "PERMISSION_DENIED: this token is for room '" + caller->room + "', not the session's room";
  if (!caller->admin && !caller->peer.empty() && caller->peer != e.peer)
    return "PERMISSION_DENIED: this token is for peer '" + caller->peer + "', not the session's peer";
  return {};
}

SessionPatched WebRtcWorker::patch_session(const std::string& id, const std::optional<SessionCaller>& caller,
                                           std::string_view if_match, std::string_view body) {
  SessionPatched result;
  auto it = by_id_.find(id);
  if (it == by_id_.end() || !it->second->whip) return {404, "no such session", {}, {}};
  Entry& e = *it->second;
  if (auto why = refusal(e, caller); !why.empty()) return {403, std::move(why), {}, {}};
  if (!if_match.empty() && if_match != "*" && if_match != e.etag)
    return {412,
            "the session changed: If-Match " + std::string(if_match) + " is not the current ETag " + e.etag,
            {},
            {}};
  auto frag = parse_fragment(body);
  if (!frag.ok) return {400, "the body is not an SDP fragment (RFC 8840)", {}, {}};
  const bool restart = !frag.ufrag.empty() && frag.ufrag != e.remote_ufrag;
  if (!restart) return {204, {}, {}, {}};  // trickled candidates: an ICE-lite server learns them from checks
  if (frag.pwd.empty()) return {422, "an ICE restart needs both a=ice-ufrag and a=ice-pwd", {}, {}};
  if (if_match.empty()) return {428, "an ICE restart needs If-Match: \"*\"", {}, {}};

  auto ice = webrtc::IceCredentials::random();
  e.remote_ufrag = frag.ufrag;
  e.whip->restart_ice(ice);
  sync_ufrag(e);
  e.etag = "\"" + random_hex(8) + "\"";

  std::string out = "a=ice-lite\r\na=ice-ufrag:" + ice.ufrag + "\r\na=ice-pwd:" + ice.pwd + "\r\n";
  if (!e.answer.media.empty()) {
    out += "a=group:BUNDLE";
    for (const auto& m : e.answer.media)
      out += " " + m.mid;
    out += "\r\n";
    const auto& first = e.answer.media.front();
    out += std::string("m=") + std::string(media::to_string(first.kind)) + " 9 UDP/TLS/RTP/SAVPF";
    for (const auto& c : first.codecs)
      out += " " + std::to_string(c.pt);
    out += "\r\na=mid:" + first.mid + "\r\n";
    for (size_t k = 0; k < settings_.candidate_ips.size(); ++k) {
      webrtc::IceCandidate c;
      c.foundation = std::to_string(k + 1);
      c.transport = "udp";
      c.priority = (126u << 24) | ((65535u - static_cast<uint32_t>(k)) << 8) | 255u;
      c.address = settings_.candidate_ips[k];
      c.port = port_;
      c.type = "host";
      out += "a=candidate:" + webrtc::format_candidate(c) + "\r\n";
    }
    out += "a=end-of-candidates\r\n";
  }
  spdlog::info("webrtc: session {} ICE restart", e.id);
  return {200, {}, std::move(out), e.etag};
}

SessionDeleted WebRtcWorker::delete_session(const std::string& id,
                                            const std::optional<SessionCaller>& caller) {
  auto it = by_id_.find(id);
  if (it == by_id_.end()) {
    if (recently_closed_.erase(id) > 0) return {};
    return {404, "no such session"};
  }
  if (!it->second->whip) return {404, "no such session"};
  Entry* e = it->second.get();
  if (auto why = refusal(*e, caller); !why.empty()) return {403, std::move(why)};
  const int64_t now = WorkerCore::now();
  e->session->close(now, "deleted by the client");
  flush(*e);
  send_batch();
  closed_.erase(std::remove(closed_.begin(), closed_.end(), e), closed_.end());
  remove(now, e);
  recently_closed_.erase(id);  // a second DELETE is a 404
  return {};
}

void WebRtcWorker::remove(int64_t now, Entry* e) {
  auto it = by_id_.find(e->id);
  if (it == by_id_.end()) return;
  answer_if_decided(*e, true);  // a POST still waiting: the join was refused, or the session ended first
  send_batch();                 // the batch may point into this session's queue
  sync_stats(*e);
  reported_.erase(e);
  spdlog::info("webrtc: session {} closed ({}): {}", e->id, e->description, e->session->close_reason());
  if (recently_closed_.size() < 10000) recently_closed_[e->id] = now;
  for (const auto& a : e->addresses) {
    auto found = by_address_.find(a);
    if (found != by_address_.end() && found->second == e) by_address_.erase(found);
  }
  if (auto u = by_ufrag_.find(e->ufrag); u != by_ufrag_.end() && u->second == e) by_ufrag_.erase(u);
  by_endpoint_.erase(e->endpoint);
  if (e->ws) {
    by_ws_.erase(e->ws.get());
    // 4001 for a join that never got in (as the HTTP side refuses joins), 1000 for a session that ended.
    e->ws->close(e->sdk && !e->sdk->joined() ? 4001 : 1000, e->session->close_reason());
  }
  const auto endpoint = e->endpoint;
  auto owned = std::move(it->second);
  by_id_.erase(it);
  counters_.sessions.fetch_sub(1, std::memory_order_relaxed);
  release_slot();  // the pending-session slot, if still held, goes with `owned`
  pending_.erase(std::remove(pending_.begin(), pending_.end(), e), pending_.end());
  core_.hub().remove_endpoint(now, endpoint);
  pump(now, nullptr);  // others in the room hear about it (peer left, track ended) now
}

}  // namespace atrium::server
