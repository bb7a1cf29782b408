#include "server/webrtc/sdk_connections.h"

#include <openssl/crypto.h>

#include <optional>

#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>

#include "server/webrtc/random_id.h"
#include "transport/sdk/json_fields.h"
#include "transport/sdk/resume_request.h"
#include "transport/sdk/sdk_responses.h"

namespace atrium::server {

namespace {

// Compared in constant time: how long a refusal takes says nothing about how much matched.
bool same_secret(const std::string& expected, const std::string& given) {
  return expected.size() == given.size() && CRYPTO_memcmp(expected.data(), given.data(), given.size()) == 0;
}

}  // namespace

void SdkConnections::settle(int64_t now, SessionEntry& e) {
  const std::string id = e.id;
  runtime_.pump(now, &e);
  if (!runtime_.sessions().find(id)) return;  // removed meanwhile
  e.sdk->finish_request();
  runtime_.sessions().sync_ufrag(e);
  runtime_.flush(e);
  runtime_.send_batch();
  runtime_.reap(now);
}

void SdkConnections::open(std::shared_ptr<WebSocketConnection> ws, std::string text,
                          sdk::SdkPermissions permissions, bool reserved, PendingSessions::Slot pending) {
  const int64_t now = WorkerCore::now();
  auto& table = runtime_.sessions();
  auto request = nlohmann::json::parse(text, nullptr, false);
  // The HTTP side checked the join's field types (sdk_routes.cpp); read them as carefully here all the same.
  std::optional<sdk::JsonFields> fields;
  if (request.is_object()) fields.emplace(request);
  const auto resume = fields ? sdk::read_resume(*fields) : std::nullopt;
  if (resume) {
    if (reserved) runtime_.release_slot();
    pending = {};  // a resume makes no new session
    const std::string room = fields->string("room").value_or("");
    SessionEntry* e = table.find(resume->session);
    const bool proved = e && e->sdk && same_secret(e->sdk->resume_secret(), resume->secret);
    if (!proved || !resume->error.empty() || !fields->ok() || e->sdk->room() != room) {
      ws->send(sdk::error_response(fields->id(), "RESUME_FAILED",
                                   "no such session to resume (it may have ended); join again"));
      ws->close(4001, "resume refused");
      return;
    }
    if (auto old = table.release_ws(*e)) old->close(4000, "the session was resumed on another connection");
    table.bind_ws(*e, ws);
    spdlog::info("sdk: session {} resumed ({})", e->id, e->description);
    e->sdk->on_resume(now, request);
    settle(now, *e);
    return;
  }

  auto entry = std::make_unique<SessionEntry>();
  entry->id = new_session_id(worker_index_);
  sdk::SdkSessionConfig config;
  config.id = entry->id;
  config.resume_secret = random_hex(16);
  config.permissions = permissions;
  config.ice_servers = ice_servers_;
  auto session = std::make_unique<sdk::SdkSession>(std::move(config), [this](const std::string& offer) {
    auto media = maker_.make(webrtc::SessionKind::kPeer, {}, {}, offer, false);
    return sdk::MediaOffer{std::move(media.session), media.answer.sdp, media.error};
  });
  entry->sdk = session.get();
  entry->session = std::move(session);
  entry->ws = ws;
  entry->pending = std::move(pending);
  entry->description = "sdk";
  if (!reserved) entry->description += " (unreserved)";
  SessionEntry& e = runtime_.add(std::move(entry));
  const std::string id = e.id;
  e.sdk->on_message(now, text);
  e.description = "sdk " + e.sdk->room() + "/" + e.sdk->peer();
  settle(now, e);
  if (!table.find(id) || e.sdk->closed()) return;
  if (e.sdk->room().empty()) {
    // Not even a join that reached the core (bad request): the answer says why, then the socket closes so the
    // next try starts clean (and its token is checked again).
    e.session->close(now, "the join was not valid");
    runtime_.remove(now, e);
    return;
  }
  spdlog::info("sdk: session {} created ({}, udp port {})", e.id, e.description, runtime_.port());
}

void SdkConnections::message(const WebSocketConnection* ws, std::string text) {
  SessionEntry* e = runtime_.sessions().by_ws(ws);
  if (!e) return;  // its session ended; the socket is being closed
  const int64_t now = WorkerCore::now();
  e->sdk->on_message(now, text);
  settle(now, *e);
}

void SdkConnections::closed(const WebSocketConnection* ws) {
  SessionEntry* e = runtime_.sessions().by_ws(ws);
  if (!e) return;
  runtime_.sessions().release_ws(*e);
  if (!e->sdk->closed() && !e->sdk->joined()) {
    // Gone before its join was answered (a slow cluster directory): nobody could resume it, so it ends now,
    // and with it its join (the bus withdraws the claim), its pending-session and --max-sessions slots.
    const int64_t now = WorkerCore::now();
    e->session->close(now, "the socket closed before the join was answered");
    runtime_.remove(now, *e);
    return;
  }
  if (!e->sdk->closed()) {
    spdlog::info("sdk: session {} lost its connection; it waits for a resume", e->id);
    e->sdk->on_disconnected(WorkerCore::now());
  }
}

}  // namespace atrium::server
