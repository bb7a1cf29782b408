#include "server/sip/sip_call_worker.h"

#include <array>
#include <random>

#include <spdlog/spdlog.h>

#include "server/sip/sip_counters.h"

namespace atrium::server {

struct SipCallWorker::Call {
  Call(boost::asio::io_context& io, int fd, const sip::NegotiatedAudio& audio, core::JoinParams join,
       uint64_t seed)
      : socket(io, boost::asio::ip::udp::v4(), fd), session(audio, std::move(join), seed) {
    boost::system::error_code ignored;
    socket.non_blocking(true, ignored);  // a full send buffer drops the packet, never stalls the worker
  }

  sip::CallHandle handle = 0;
  boost::asio::ip::udp::socket socket;
  sip::SipMediaSession session;
  boost::asio::ip::udp::endpoint remote;  // where the SDP says the caller takes RTP
  boost::asio::ip::udp::endpoint from;
  std::array<uint8_t, 2048> buffer{};
  core::EndpointId endpoint = 0;
  std::string description;
  std::function<void(SipCallOutcome)> done;
  bool ended = false;
  sip::SipMediaCounters reported;
};

namespace {

boost::asio::ip::udp::endpoint endpoint_of(const sip::NegotiatedAudio& audio) {
  boost::system::error_code ec;
  auto address = boost::asio::ip::make_address(audio.remote_address, ec);
  if (ec) return {};
  return {address, audio.remote_port};
}

}  // namespace

SipCallWorker::SipCallWorker(Worker& worker, WorkerCore& core, SipCounters& counters)
    : worker_(worker), core_(core), counters_(counters), seed_(std::random_device{}()) {}

SipCallWorker::~SipCallWorker() {
  const int64_t now = WorkerCore::now();
  for (auto& [handle, c] : calls_) {
    if (c->endpoint) {
      core_.disown(c->endpoint);
      core_.hub().remove_endpoint(now, c->endpoint);
    }
  }
}

void SipCallWorker::start_call(sip::CallHandle call, int rtp_fd, const sip::NegotiatedAudio& audio,
                               core::JoinParams join, std::string description,
                               std::function<void(SipCallOutcome)> done) {
  const int64_t now = WorkerCore::now();
  auto c = std::make_unique<Call>(worker_.io_context(), rtp_fd, audio, std::move(join), seed_ += 0x9E37);
  c->handle = call;
  c->remote = endpoint_of(audio);
  c->description = std::move(description);
  c->done = std::move(done);
  c->endpoint = core_.hub().create_endpoint();
  Call& ref = *c;
  by_endpoint_[c->endpoint] = &ref;
  core_.own(c->endpoint, *this);
  calls_[call] = std::move(c);
  receive(ref);
  ref.session.start();
  flush(now, ref);
}

void SipCallWorker::update_call(sip::CallHandle call, const sip::NegotiatedAudio& audio) {
  auto it = calls_.find(call);
  if (it == calls_.end()) return;
  it->second->session.update(audio);
  it->second->remote = endpoint_of(audio);
  spdlog::info("{}: media now {} to {}:{}", it->second->description, sip::to_string(audio.direction),
               audio.remote_address, audio.remote_port);
}

void SipCallWorker::end_call(sip::CallHandle call, const std::string& why) {
  auto it = calls_.find(call);
  if (it == calls_.end()) return;
  const int64_t now = WorkerCore::now();
  std::unique_ptr<Call> c = std::move(it->second);
  calls_.erase(it);
  c->ended = true;
  const auto& k = c->session.counters();
  spdlog::info("{}: ended ({}): {} RTP in, {} out, {} transcoded, {} digits", c->description, why, k.rtp_in,
               k.rtp_out, k.transcoded, k.dtmf_digits);
  by_endpoint_.erase(c->endpoint);
  core_.disown(c->endpoint);
  core_.hub().remove_endpoint(now, c->endpoint);
  core_.pump(now);
  boost::system::error_code ignored;
  c->socket.close(ignored);
  // A receive may still be queued with the socket's cancellation: it owns nothing, but it points at `c`.
  boost::asio::post(worker_.io_context(), [keep = std::shared_ptr<Call>(std::move(c))] {});
}

void SipCallWorker::receive(Call& c) {
  c.socket.async_receive_from(boost::asio::buffer(c.buffer), c.from,
                              [this, &c](const boost::system::error_code& ec, size_t n) {
                                if (ec || c.ended) return;
                                const int64_t now = WorkerCore::now();
                                if (c.from != c.remote) {
                                  counters_.rtp_wrong_address.fetch_add(1, std::memory_order_relaxed);
                                } else {
                                  c.session.receive_rtp(now, std::span<const uint8_t>(c.buffer.data(), n));
                                  flush(now, c);
                                }
                                receive(c);
                              });
}

void SipCallWorker::flush(int64_t now, Call& c) {
  auto& hub = core_.hub();
  while (auto event = c.session.pop_event())
    hub.on_transport(now, c.endpoint, std::move(*event));
  while (auto digit = c.session.pop_digit()) {
    spdlog::info("{}: DTMF {}", c.description, *digit);
    hub.on_transport(now, c.endpoint,
                     core::tev::SendMessage{"", std::string(R"({"type":"dtmf","digit":")") + *digit + "\"}"});
  }
  core_.pump(now);
  const auto& k = c.session.counters();
  counters_.rtp_in.fetch_add(k.rtp_in - c.reported.rtp_in, std::memory_order_relaxed);
  counters_.transcoded.fetch_add(k.transcoded - c.reported.transcoded, std::memory_order_relaxed);
  counters_.dtmf_digits.fetch_add(k.dtmf_digits - c.reported.dtmf_digits, std::memory_order_relaxed);
  counters_.rtp_dropped.fetch_add((k.malformed + k.unknown_pt + k.wrong_ssrc) -
                                      (c.reported.malformed + c.reported.unknown_pt + c.reported.wrong_ssrc),
                                  std::memory_order_relaxed);
  c.reported = k;
  finish_join(c);
}

void SipCallWorker::finish_join(Call& c) {
  if (!c.done) return;
  if (c.session.joined()) {
    auto done = std::move(c.done);
    c.done = nullptr;
    done(SipCallOutcome{c.handle, true, 200, "OK"});
  } else if (const auto& error = c.session.join_error()) {
    auto done = std::move(c.done);
    c.done = nullptr;
    const bool taken = error->code == core::ErrorCode::kPeerIdTaken;
    done(SipCallOutcome{c.handle, false, taken ? 486 : 403, taken ? "Busy Here" : "Forbidden"});
    spdlog::warn("{}: the room refused the caller: {}: {}", c.description, core::to_string(error->code),
                 error->message);
  }
}

void SipCallWorker::on_endpoint_event(int64_t now, core::EndpointId id, const core::EndpointEvent& event) {
  auto it = by_endpoint_.find(id);
  if (it == by_endpoint_.end()) return;
  Call& c = *it->second;
  c.session.on_endpoint_event(now, event);
  while (auto rtp = c.session.pop_rtp()) {
    boost::system::error_code ec;
    c.socket.send_to(boost::asio::buffer(rtp->data(), rtp->size()), c.remote, 0, ec);
    if (!ec) counters_.rtp_out.fetch_add(1, std::memory_order_relaxed);
  }
  // The session's own events (publish, attach the mix) go to the hub after this delivery; the caller
  // drains the hub's queue until quiet (EndpointOwner).
  auto& hub = core_.hub();
  while (auto e = c.session.pop_event())
    hub.on_transport(now, c.endpoint, std::move(*e));
  finish_join(c);
}

}  // namespace atrium::server
