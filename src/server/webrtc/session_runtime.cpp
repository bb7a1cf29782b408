#include "server/webrtc/session_runtime.h"

#include <algorithm>

#include <spdlog/spdlog.h>

#include "transport/webrtc/ice/candidate_priority.h"

namespace atrium::server {

SessionRuntime::SessionRuntime(Worker& worker, WorkerCore& core, WebRtcCounters& counters,
                               std::atomic<int64_t>* reserved_sessions, TcpPortLimits tcp_limits)
    : core_(core),
      counters_(counters),
      reserved_sessions_(reserved_sessions),
      counter_sync_(counters),
      tcp_(
          worker.io_context(), counters.tcp, tcp_limits,
          [this](int64_t now, TcpConnection& c, std::span<uint8_t> data) { on_tcp_frame(now, c, data); },
          [this](int64_t now) { reap(now); }),
      port_(
          worker.io_context(), counters,
          [this](int64_t now, const webrtc::SocketAddress& from, std::span<uint8_t> data) {
            on_datagram(now, from, data);
          },
          [this](int64_t now) { reap(now); }) {
  core_.set_after_tick([this](int64_t now) { tick(now); });
  core_.set_after_bus([this](int64_t now) {
    pump(now, nullptr);
    reap(now);
  });
  core_.set_pump([this](int64_t now) { pump(now, nullptr); });
}

SessionRuntime::~SessionRuntime() {
  core_.set_after_tick({});
  core_.set_after_bus({});
  core_.set_pump({});
  const int64_t now = WorkerCore::now();
  table_.for_each([&](SessionEntry& e) {
    e.session->close(now, "server shutting down");
    if (e.whip) e.whip->answer_if_decided(true);  // a POST still waiting for its join: 503
    flush(e);
  });
  send_batch();
}

SessionEntry& SessionRuntime::add(std::unique_ptr<SessionEntry> entry) {
  entry->endpoint = core_.hub().create_endpoint();
  entry->out.session = entry->session.get();
  counters_.sessions.fetch_add(1, std::memory_order_relaxed);
  return table_.add(std::move(entry));
}

void SessionRuntime::on_datagram(int64_t now, const webrtc::SocketAddress& from, std::span<uint8_t> data) {
  SessionEntry* e = table_.for_datagram(from, data);
  if (!e) {
    counters_.unmatched.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  e->session->on_datagram(now, from, data);
  table_.learn_addresses(*e);
  pump(now, e);
}

void SessionRuntime::on_tcp_frame(int64_t now, TcpConnection& c, std::span<uint8_t> data) {
  if (data.empty()) return;  // an empty RFC 4571 frame carries nothing
  SessionEntry* e = table_.for_datagram(c.remote(), data);
  if (!c.pending()) {
    if (!e) {
      counters_.unmatched.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    e->session->on_datagram(now, c.remote(), data);
    table_.learn_addresses(*e);
    pump(now, e);
    return;
  }
  // The first frame: only a binding request to a session's ufrag can match the connection.
  if (!e) {
    const bool stun = data[0] < 4 && data.size() >= 20;
    return tcp_.refuse(now, c, stun ? counters_.tcp.unmatched : counters_.tcp.malformed,
                       stun ? "its first check names no session" : "its first frame is not a STUN check");
  }
  e->session->on_datagram(now, c.remote(), data);
  table_.learn_addresses(*e);
  const auto& validated = e->session->validated_addresses();
  if (std::find(validated.begin(), validated.end(), c.remote()) == validated.end()) {
    tcp_.refuse(now, c, counters_.tcp.unauthorized, "its first check failed authentication");
  } else {
    tcp_.match(c);
    e->tcp_paths.push_back(c.remote());
    spdlog::debug("webrtc: session {} ICE-TCP connection from {}", e->id, c.remote().to_string());
  }
  pump(now, e);
}

void SessionRuntime::pump(int64_t now, SessionEntry* first) {
  auto& hub = core_.hub();
  if (first) pending_.push_back(first);
  do {
    while (!pending_.empty()) {
      SessionEntry* e = pending_.back();
      pending_.pop_back();
      while (auto ev = e->session->pop_event()) {
        if (const auto* b = std::get_if<core::tev::BandwidthEstimate>(&*ev))
          spdlog::debug("webrtc: session {} estimate {} kbit/s", e->id, b->bps / 1000);
        hub.on_transport(now, e->endpoint, std::move(*ev));
      }
      flush(*e);
    }
    while (auto out = hub.pop_output()) {
      SessionEntry* e = table_.by_endpoint(out->to);
      if (!e) {
        core_.deliver(now, *out);  // another transport's endpoint (RTMP, ...)
        continue;
      }
      if (const auto* l = std::get_if<core::eev::LocalTrackLayerChanged>(&out->event))
        spdlog::debug("webrtc: session {} track {} now forwards layer {}/{}", e->id, l->id, l->spatial,
                      l->temporal);
      else if (const auto* h = std::get_if<core::eev::BitrateHint>(&out->event))
        spdlog::debug("webrtc: session {} track {} subscribers want {} kbit/s", e->id, h->id,
                      h->bitrate_bps / 1000);
      else if (const auto* w = std::get_if<core::eev::BandwidthWanted>(&out->event))
        spdlog::debug("webrtc: session {} could use {} kbit/s", e->id, w->bps / 1000);
      e->session->on_endpoint_event(now, out->event);
      if (e->whip) e->whip->answer_if_decided();
      flush(*e);
      pending_.push_back(e);
    }
  } while (!pending_.empty());
  send_batch();
}

void SessionRuntime::flush(SessionEntry& e) {
  send_path_.stage(e.out);
  if (e.sdk) {
    while (auto m = e.sdk->pop_message())
      if (e.ws) e.ws->send(std::move(*m));
  }
  if (e.session->closed()) table_.note_closed(e);
}

void SessionRuntime::tick(int64_t now) {
  // The hub ticked just before: key-frame retries and the like may be waiting in its output queue.
  table_.for_each([&](SessionEntry& e) {
    e.session->on_tick(now);
    if (e.pending && e.session->media_connected()) e.pending = {};
    count_first_video(e);
    note_transport(e);
    counter_sync_.sync(&e, e.session->counters());
    pending_.push_back(&e);
  });
  pump(now, nullptr);
  reap(now);
  table_.prune_recent(now);
  tcp_.tick(now);
}

void SessionRuntime::count_first_video(SessionEntry& e) {
  // Both times are the transport's own (the `now` of the datagram and of the packet), so how late the tick
  // looks does not matter; once per media connection (an SDK session that replaces its connection counts
  // again).
  const auto connected = e.session->connected_at();
  const auto first = e.session->first_video_sent();
  if (!connected || !first || e.first_video_counted == connected || !counters_.first_video) return;
  e.first_video_counted = connected;
  counters_.first_video->observe(static_cast<double>(*first - *connected) / 1e6);
}

void SessionRuntime::note_transport(SessionEntry& e) {
  const auto connected = e.session->connected_at();
  if (!connected || e.transport_counted == connected) return;
  // DTLS may finish before the client nominates (it starts on the first valid check): wait for the
  // nomination.
  const auto address = e.session->nominated_address();
  if (!address) return;
  e.transport_counted = connected;
  const auto priority = e.session->nominated_priority();
  const auto by_priority =
      priority ? webrtc::candidate_type_of_priority(*priority) : webrtc::CandidateType::kUnknown;
  const bool from_turn =
      address && std::find(relay_ips_.begin(), relay_ips_.end(), address->ip_string()) != relay_ips_.end();
  const bool relay = from_turn || by_priority == webrtc::CandidateType::kRelay;
  const char* path = relay ? "relay" : address->tcp ? "tcp" : "udp";
  (relay          ? counters_.sessions_relay
   : address->tcp ? counters_.sessions_tcp
                  : counters_.sessions_udp)
      .fetch_add(1, std::memory_order_relaxed);
  spdlog::info(
      "webrtc: session {} ({}) connected via {} from {} (check priority {}: type preference {}, {}{})", e.id,
      e.description, path, address->to_string(), priority ? std::to_string(*priority) : "none",
      priority ? std::to_string(*priority >> 24) : "-", webrtc::candidate_type_name(by_priority),
      from_turn ? "; a TURN server's address" : "");
}

void SessionRuntime::reap(int64_t now) {
  while (SessionEntry* e = table_.next_closed())
    remove(now, *e);
}

void SessionRuntime::remove(int64_t now, SessionEntry& e) {
  if (table_.find(e.id) != &e) return;
  if (e.whip) e.whip->answer_if_decided(true);  // a POST still waiting: refused, or the session ended first
  send_batch();                                 // the batch may point into this session's queue
  count_first_video(e);
  counter_sync_.sync(&e, e.session->counters());
  counter_sync_.forget(&e);
  spdlog::info("webrtc: session {} closed ({}): {}", e.id, e.description, e.session->close_reason());
  for (const auto& remote : e.tcp_paths)
    tcp_.close(remote);
  auto owned = table_.take(now, e);
  if (owned->ws) {
    // 4001 for a join that never got in (as the HTTP side refuses joins), 1000 for a session that ended.
    owned->ws->close(owned->sdk && !owned->sdk->joined() ? 4001 : 1000, owned->session->close_reason());
  }
  counters_.sessions.fetch_sub(1, std::memory_order_relaxed);
  release_slot();  // the pending-session slot, if still held, goes with `owned`
  pending_.erase(std::remove(pending_.begin(), pending_.end(), owned.get()), pending_.end());
  core_.hub().remove_endpoint(now, owned->endpoint);
  pump(now, nullptr);  // others in the room hear about it (peer left, track ended) now
}

}  // namespace atrium::server
