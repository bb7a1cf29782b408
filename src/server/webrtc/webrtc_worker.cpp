#include "server/webrtc/webrtc_worker.h"

#include <spdlog/spdlog.h>

#include "server/webrtc/random_id.h"

namespace atrium::server {

WebRtcWorker::WebRtcWorker(Worker& worker, WorkerCore& core, WebRtcWorkerSettings settings,
                           WebRtcCounters& counters)
    : index_(worker.index()),
      maker_(std::move(settings.dtls), std::move(settings.candidate_ips)),
      runtime_(worker, core, counters, settings.reserved_sessions, settings.tcp),
      sdk_(worker.index(), runtime_, maker_, std::move(settings.ice_servers)) {
  runtime_.set_relay_addresses(std::move(settings.relay_addresses));
}

std::string WebRtcWorker::open(const boost::asio::ip::address& bind, uint16_t port,
                               std::optional<uint16_t> tcp_port) {
  auto error = runtime_.open(bind, port);
  if (!error.empty()) return error;
  maker_.set_port(runtime_.port());
  if (!tcp_port) return {};
  error = runtime_.open_tcp(bind, *tcp_port);
  if (error.empty()) maker_.set_tcp_port(runtime_.tcp_port());
  return error;
}

void WebRtcWorker::create_session(SessionOffer offer, std::function<void(SessionCreated)> answer) {
  const int64_t now = WorkerCore::now();
  core::JoinParams join;
  join.room = offer.room;
  join.peer = offer.peer;
  auto media = maker_.make(offer.kind, join, offer.source, offer.sdp, true);
  if (!media.session) {
    runtime_.release_slot();
    return answer({media.status, media.error, {}, {}, {}});
  }
  auto entry = std::make_unique<SessionEntry>();
  entry->whip =
      std::make_unique<WhipResource>(*media.session, std::move(media.answer), offer.room, offer.peer);
  entry->session = std::move(media.session);
  entry->id = new_session_id(index_);
  entry->description = std::string(offer.kind == webrtc::SessionKind::kPublish ? "whip " : "whep ") +
                       offer.room + "/" + offer.peer;
  entry->pending = std::move(offer.pending);
  SessionEntry& e = runtime_.add(std::move(entry));
  e.whip->answer_when_joined(e.id, e.description + ", udp port " + std::to_string(runtime_.port()),
                             std::move(answer));
  runtime_.pump(now, &e);  // the join: the embedded bus answers at once, a NATS bus when its claim completes
  if (e.whip->session().join_failed()) runtime_.remove(now, e);  // answers 409 (or 503)
}

SessionPatched WebRtcWorker::patch_session(const std::string& id, const std::optional<SessionCaller>& caller,
                                           std::string_view if_match, std::string_view body) {
  SessionEntry* e = runtime_.sessions().find(id);
  if (!e || !e->whip) return {404, "no such session", {}, {}};
  auto patched = e->whip->patch(caller, if_match, body, maker_.host_candidates());
  if (patched.status == 200) {
    runtime_.sessions().sync_ufrag(*e);
    spdlog::info("webrtc: session {} ICE restart", e->id);
  }
  return patched;
}

SessionDeleted WebRtcWorker::delete_session(const std::string& id,
                                            const std::optional<SessionCaller>& caller) {
  auto& table = runtime_.sessions();
  SessionEntry* e = table.find(id);
  if (!e) {
    if (table.forget_recent(id)) return {};
    return {404, "no such session"};
  }
  if (!e->whip) return {404, "no such session"};
  if (auto why = e->whip->refusal(caller); !why.empty()) return {403, std::move(why)};
  const int64_t now = WorkerCore::now();
  e->session->close(now, "deleted by the client");
  runtime_.flush(*e);
  runtime_.send_batch();
  runtime_.remove(now, *e);
  table.forget_recent(id);  // a second DELETE is a 404
  return {};
}

}  // namespace atrium::server
