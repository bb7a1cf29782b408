#include "server/sip/sip_service.h"

#include <random>

#include <spdlog/spdlog.h>

#include "core/names.h"
#include "core/util/overloaded.h"
#include "server/auth/access_token.h"
#include "server/host_port.h"
#include "server/webrtc/webrtc_service.h"

namespace atrium::server {
namespace {

constexpr std::chrono::milliseconds kTick{20};
constexpr int64_t kRateWindow = 10'000'000;  // --sip-rate-limit counts INVITEs per 10 s
constexpr size_t kMaxRateEntries = 4096;

std::string json_escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out;
}

// A peer id from the caller's name: the characters room names allow, others as '-', at most 64.
std::string peer_id_from(std::string_view name) {
  std::string out;
  for (char c : name) {
    if (out.size() >= 64) break;
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                    c == '_' || c == '.' || c == '~';
    out += ok ? c : '-';
  }
  return out;
}

}  // namespace

std::vector<SipService::Cidr> parse_cidrs(const std::string& list, std::string* error) {
  std::vector<SipService::Cidr> out;
  size_t start = 0;
  while (start < list.size()) {
    size_t end = list.find(',', start);
    if (end == std::string::npos) end = list.size();
    std::string item = list.substr(start, end - start);
    start = end + 1;
    if (item.empty()) continue;
    SipService::Cidr c;
    const auto slash = item.find('/');
    boost::system::error_code ec;
    c.network = boost::asio::ip::make_address(item.substr(0, slash), ec);
    const int max_bits = c.network.is_v4() ? 32 : 128;
    c.bits = max_bits;
    if (!ec && slash != std::string::npos) {
      try {
        size_t used = 0;
        c.bits = std::stoi(item.substr(slash + 1), &used);
        if (used != item.size() - slash - 1) c.bits = -1;
      } catch (...) {
        c.bits = -1;
      }
    }
    if (ec || c.bits < 0 || c.bits > max_bits) {
      if (error) *error = "--sip-allow: '" + item + "' is not an address/bits network (e.g. 10.0.0.0/8)";
      return {};
    }
    out.push_back(c);
  }
  return out;
}

bool cidr_contains(const SipService::Cidr& net, const boost::asio::ip::address& a) {
  auto addr = a;
  if (addr.is_v6() && addr.to_v6().is_v4_mapped() && net.network.is_v4())
    addr = boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, addr.to_v6());
  if (addr.is_v4() != net.network.is_v4()) return false;
  auto bytes_of = [](const boost::asio::ip::address& x) {
    std::array<unsigned char, 16> b{};
    if (x.is_v4()) {
      auto v = x.to_v4().to_bytes();
      std::copy(v.begin(), v.end(), b.begin());
    } else {
      b = x.to_v6().to_bytes();
    }
    return b;
  };
  const auto x = bytes_of(addr), n = bytes_of(net.network);
  int bits = net.bits;
  for (size_t i = 0; bits > 0; ++i, bits -= 8) {
    const unsigned mask = bits >= 8 ? 0xFFu : (0xFFu << (8 - bits)) & 0xFFu;
    if ((x[i] & mask) != (n[i] & mask)) return false;
  }
  return true;
}

SipService::SipService(const ServerConfig& config, MetricsRegistry& metrics, WorkerPool& workers)
    : config_(config), workers_(workers), address_(sip_address(config)) {
  size_t start = 0;
  const std::string& s = config.sip_codecs;
  while (start <= s.size()) {
    const size_t end = std::min(s.find(',', start), s.size());
    const std::string name = s.substr(start, end - start);
    if (name == "opus") codecs_.push_back(media::Codec::kOpus);
    if (name == "pcmu") codecs_.push_back(media::Codec::kPcmu);
    if (name == "pcma") codecs_.push_back(media::Codec::kPcma);
    start = end + 1;
  }
  if (enabled()) register_sip_metrics(metrics, counters_);
}

std::string SipService::start_worker(Worker& worker, WorkerCore& core) {
  if (!enabled()) return {};
  worker.emplace<SipCallWorker>(worker, core, counters_);
  if (worker.index() != 0) return {};
  std::string error;
  allow_ = parse_cidrs(config_.sip_allow, &error);
  if (!error.empty()) return error;
  auto endpoint = parse_host_port(address_);
  if (!endpoint) return "invalid --sip address '" + address_ + "'";
  auto& signaling = worker.emplace<SipSignaling>(worker, *this);
  return signaling.listen({endpoint->address(), endpoint->port()});
}

std::string SipService::listening() const {
  if (!enabled()) return "off";
  auto endpoint = parse_host_port(address_);
  if (!endpoint) return address_;
  endpoint->port(port_.load());
  return format_host_port(*endpoint);
}

SipSignaling::SipSignaling(Worker& worker, SipService& service)
    : worker_(worker), service_(service), socket_(worker.io_context()), timer_(worker.io_context()) {}

SipSignaling::~SipSignaling() {
  *alive_ = false;
}

std::string SipSignaling::listen(const boost::asio::ip::udp::endpoint& at) {
  boost::system::error_code ec;
  socket_.open(at.protocol(), ec);
  if (!ec) socket_.bind(at, ec);
  if (ec)
    return "--sip: cannot listen on UDP " + at.address().to_string() + ":" + std::to_string(at.port()) +
           ": " + ec.message() + " (another SIP server? --sip ADDR:PORT or --sip off)";
  socket_.non_blocking(true, ec);
  const auto bound = socket_.local_endpoint(ec);
  service_.port().store(bound.port());
  // What the SDP answer and Contact name: the listener's address, unless it listens on every address.
  media_ip_ = bound.address().to_string();
  if (bound.address().is_unspecified()) {
    const std::string& pub = service_.config().public_ip;
    media_ip_ = pub.empty() ? "127.0.0.1" : pub.substr(0, pub.find(','));
  }
  sip::SipUserAgentConfig c;
  c.host = media_ip_;
  c.port = bound.port();
  c.max_calls = static_cast<size_t>(service_.config().sip_max_calls);
  c.digest_password = service_.config().sip_secret;
  {
    std::random_device rd;
    for (int i = 0; i < 4; ++i)
      c.nonce_key += std::to_string(rd());
  }
  ua_ = std::make_unique<sip::SipUserAgent>(c, std::random_device{}());
  receive();
  tick();
  return {};
}

uint16_t SipSignaling::port() const {
  return service_.port().load();
}

void SipSignaling::receive() {
  socket_.async_receive_from(boost::asio::buffer(buffer_), from_,
                             [this, alive = alive_](const boost::system::error_code& ec, size_t n) {
                               if (!*alive || ec == boost::asio::error::operation_aborted) return;
                               if (!ec) {
                                 const int64_t now = WorkerCore::now();
                                 if (!allowed(from_.address())) {
                                   service_.counters().refused_address.fetch_add(1,
                                                                                 std::memory_order_relaxed);
                                 } else {
                                   ua_->receive(now, {from_.address().to_string(), from_.port()},
                                                std::string_view(buffer_.data(), n));
                                   drain(now);
                                 }
                               }
                               receive();
                             });
}

void SipSignaling::tick() {
  timer_.expires_after(kTick);
  timer_.async_wait([this, alive = alive_](const boost::system::error_code& ec) {
    if (ec || !*alive) return;
    const int64_t now = WorkerCore::now();
    ua_->tick(now);
    drain(now);
    tick();
  });
}

bool SipSignaling::allowed(const boost::asio::ip::address& a) const {
  const auto& nets = service_.allow();
  if (nets.empty()) return true;
  for (const auto& n : nets)
    if (cidr_contains(n, a)) return true;
  return false;
}

bool SipSignaling::within_rate(int64_t now, const std::string& ip) {
  if (rates_.size() > kMaxRateEntries) {
    for (auto it = rates_.begin(); it != rates_.end();)
      it = now - it->second.start > kRateWindow ? rates_.erase(it) : std::next(it);
    if (rates_.size() > kMaxRateEntries) rates_.clear();  // a spoofed-source flood: forget, stay bounded
  }
  RateWindow& w = rates_[ip];
  if (now - w.start > kRateWindow) w = RateWindow{now, 0};
  return ++w.count <= service_.config().sip_rate_limit;
}

void SipSignaling::drain(int64_t now) {
  while (auto event = ua_->pop_event()) {
    std::visit(core::Overloaded{
                   [&](sip::IncomingCall& in) { on_incoming(now, in); },
                   [&](sip::CallReoffer& r) { on_reoffer(now, r); },
                   [&](sip::CallEnded& e) { on_ended(e); },
               },
               *event);
  }
  while (auto d = ua_->pop_datagram()) {
    boost::system::error_code ec;
    const auto address = boost::asio::ip::make_address(d->to.ip, ec);
    if (ec) continue;
    socket_.send_to(boost::asio::buffer(d->bytes), {address, d->to.port}, 0, ec);
  }
  auto& k = service_.counters();
  const auto& u = ua_->counters();
  k.calls.store(static_cast<int64_t>(ua_->calls()), std::memory_order_relaxed);
  k.dialogs.store(static_cast<int64_t>(ua_->dialogs()), std::memory_order_relaxed);
  k.requests.store(u.requests, std::memory_order_relaxed);
  k.malformed.store(u.malformed, std::memory_order_relaxed);
  k.stray_acks.store(u.stray_acks, std::memory_order_relaxed);
  k.unknown_dialog.store(u.unknown_dialog, std::memory_order_relaxed);
  k.retransmissions_out.store(u.retransmissions_out, std::memory_order_relaxed);
  k.calls_started.store(u.calls_started, std::memory_order_relaxed);
  k.calls_answered.store(u.calls_answered, std::memory_order_relaxed);
  k.ack_timeouts.store(u.ack_timeouts, std::memory_order_relaxed);
  k.refused_busy.store(u.refused_busy, std::memory_order_relaxed);
  k.auth_challenges.store(u.auth_challenges, std::memory_order_relaxed);
  k.auth_failures.store(u.auth_failures, std::memory_order_relaxed);
}

void SipSignaling::refuse(int64_t now, sip::CallHandle call, int status, const std::string& reason,
                          const std::string& why, std::atomic<uint64_t>& counter) {
  counter.fetch_add(1, std::memory_order_relaxed);
  spdlog::warn("sip: call {} refused {} {}: {}", call, status, reason, why);
  ua_->reject(now, call, status, reason);
}

void SipSignaling::on_incoming(int64_t now, sip::IncomingCall& in) {
  auto& k = service_.counters();
  const std::string who = in.caller_uri + " from " + in.source.ip + ":" + std::to_string(in.source.port);
  if (!within_rate(now, in.source.ip))
    return refuse(now, in.call, 503, "Service Unavailable",
                  who + " is over --sip-rate-limit (" + std::to_string(service_.config().sip_rate_limit) +
                      " INVITEs per 10 s)",
                  k.refused_rate);
  // A room token where the room goes (sip:TOKEN@host): the room, and maybe the peer, come from its claims. On
  // a server with --auth-secret and no --sip-secret it is the only way in.
  std::string token_peer;
  const auto& config = service_.config();
  if (!config.auth_secret.empty() && looks_like_token(in.room)) {
    auto check = verify_access_token(config.auth_secret, in.room, unix_seconds());
    if (!check.claims)
      return refuse(now, in.call, 403, "Forbidden", who + ": " + check.code + ": " + check.message,
                    k.refused_room);
    if (!check.claims->publish && !check.claims->admin)
      return refuse(now, in.call, 403, "Forbidden", who + ": PERMISSION_DENIED: the token may not publish",
                    k.refused_room);
    in.room = check.claims->room;
    token_peer = check.claims->peer;
  } else if (!config.auth_secret.empty() && config.sip_secret.empty()) {
    return refuse(
        now, in.call, 403, "Forbidden",
        who +
            ": this server has --auth-secret: call sip:TOKEN@host (`atrium token ROOM`), or set --sip-secret",
        k.refused_room);
  }
  if (!core::is_url_safe_name(in.room))
    return refuse(
        now, in.call, 404, "Not Found",
        who + " called '" + in.room + "': a room is sip:ROOM@host, ROOM 1-128 of A-Z a-z 0-9 - _ . ~",
        k.refused_room);
  if (in.offer.empty())
    return refuse(now, in.call, 488, "Not Acceptable Here", who + ": an INVITE without an SDP offer",
                  k.refused_room);
  auto offer = sip::read_audio_offer(in.offer);
  if (!offer.offer)
    return refuse(now, in.call, 488, "Not Acceptable Here", who + ": " + offer.error, k.refused_room);
  std::string why;
  auto audio = sip::choose_audio(*offer.offer, service_.codecs(), &why);
  if (!audio) return refuse(now, in.call, 488, "Not Acceptable Here", who + ": " + why, k.refused_room);

  // The call's RTP socket, opened here to name its port in the answer, then handed to the room's worker.
  boost::asio::ip::udp::socket rtp(worker_.io_context());
  boost::system::error_code ec;
  const auto ip = boost::asio::ip::make_address(media_ip_, ec);
  if (!ec) rtp.open(ip.is_v4() ? boost::asio::ip::udp::v4() : boost::asio::ip::udp::v6(), ec);
  if (!ec) rtp.bind({ip, 0}, ec);
  if (ec)
    return refuse(now, in.call, 500, "Server Internal Error", "no RTP socket: " + ec.message(),
                  k.refused_room);
  Pending p;
  p.worker = &WebRtcService::worker_for_room(service_.workers(), in.room);
  p.audio = *audio;
  p.local_ip = media_ip_;
  p.local_port = rtp.local_endpoint().port();
  p.session_id = static_cast<uint64_t>(now) & 0xFFFFFFFFFFFFull;
  p.answer = sip::write_audio_answer(p.audio, p.local_ip, p.local_port, p.session_id, p.version);
  std::string peer =
      token_peer.empty() ? peer_id_from(in.caller_name.empty() ? "phone" : in.caller_name) : token_peer;
  if (!core::is_url_safe_name(peer)) peer = "phone";
  p.description =
      "sip " + in.room + "/" + peer + " (" + who + ", " + std::string(media::to_string(audio->codec)) + ")";
  core::JoinParams join;
  join.room = in.room;
  join.peer = peer;
  join.meta = R"({"name":")" + json_escape(in.caller_name.empty() ? peer : in.caller_name) +
              R"(","transport":"sip","caller":")" + json_escape(in.caller_uri) + "\"}";
  // A phone needs no room events: it hears the mix.
  join.peers = core::SubscribeMode::kManual;
  join.tracks = core::SubscribeMode::kManual;
  spdlog::info("{}: ringing", p.description);
  ua_->ring(in.call);
  const int fd = rtp.release(ec);
  Worker* target = p.worker;
  const std::string description = p.description;
  const sip::NegotiatedAudio negotiated = p.audio;
  calls_[in.call] = std::move(p);
  const sip::CallHandle call = in.call;
  Worker* home = &worker_;
  target->post([target, home, call, fd, negotiated, join = std::move(join), description, self = this,
                alive = alive_]() mutable {
    auto* w = target->find<SipCallWorker>();
    if (!w) return;
    w->start_call(call, fd, negotiated, std::move(join), description,
                  [home, self, alive](SipCallOutcome outcome) {
                    home->post([self, alive, outcome = std::move(outcome)] {
                      if (*alive) self->on_outcome(outcome);
                    });
                  });
  });
  calls_[in.call].started = true;
}

void SipSignaling::on_outcome(const SipCallOutcome& outcome) {
  auto it = calls_.find(outcome.call);
  if (it == calls_.end()) return;  // ended meanwhile
  const int64_t now = WorkerCore::now();
  if (outcome.joined) {
    spdlog::info("{}: answered", it->second.description);
    ua_->accept(now, outcome.call, it->second.answer);
  } else {
    service_.counters().refused_room.fetch_add(1, std::memory_order_relaxed);
    ua_->reject(now, outcome.call, outcome.status, outcome.reason);
    Worker* w = it->second.worker;
    const sip::CallHandle call = outcome.call;
    w->post([w, call] {
      if (auto* cw = w->find<SipCallWorker>()) cw->end_call(call, "refused by the room");
    });
    calls_.erase(it);
  }
  drain(now);
}

void SipSignaling::on_reoffer(int64_t now, sip::CallReoffer& r) {
  auto it = calls_.find(r.call);
  if (it == calls_.end()) return ua_->reject_reoffer(now, r.call, 481, "Call/Transaction Does Not Exist");
  Pending& p = it->second;
  auto offer = sip::read_audio_offer(r.offer);
  std::string why = offer.error;
  std::optional<sip::NegotiatedAudio> audio;
  // The codec stays: a re-INVITE here changes the direction (hold) or the address.
  if (offer.offer) audio = sip::choose_audio(*offer.offer, {p.audio.codec}, &why);
  if (!audio) {
    spdlog::warn("{}: re-INVITE refused: {}", p.description, why);
    return ua_->reject_reoffer(now, r.call, 488, "Not Acceptable Here");
  }
  p.audio = *audio;
  p.answer = sip::write_audio_answer(p.audio, p.local_ip, p.local_port, p.session_id, ++p.version);
  ua_->accept_reoffer(now, r.call, p.answer);
  Worker* w = p.worker;
  const sip::CallHandle call = r.call;
  const sip::NegotiatedAudio negotiated = p.audio;
  w->post([w, call, negotiated] {
    if (auto* cw = w->find<SipCallWorker>()) cw->update_call(call, negotiated);
  });
}

void SipSignaling::on_ended(sip::CallEnded& e) {
  auto it = calls_.find(e.call);
  if (it == calls_.end()) return;
  Worker* w = it->second.worker;
  const sip::CallHandle call = e.call;
  std::string why = e.reason;
  spdlog::info("{}: {}", it->second.description, why);
  calls_.erase(it);
  w->post([w, call, why] {
    if (auto* cw = w->find<SipCallWorker>()) cw->end_call(call, why);
  });
}

}  // namespace atrium::server
