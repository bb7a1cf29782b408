// The room SDK's WebSocket endpoint (docs/protocol.md). On the HTTP thread: the first message must be a join;
// its token is checked here (the secret never reaches a worker), the room picks the worker, and every later
// message of the connection goes to that worker in order. A client that floods gets coded errors, then the
// door.
#include <chrono>
#include <mutex>

#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include "server/auth/access_token.h"
#include "server/http/websocket_connection.h"
#include "server/webrtc/webrtc_service.h"
#include "transport/sdk/json_fields.h"
#include "transport/sdk/resume_request.h"
#include "transport/sdk/sdk_responses.h"

namespace atrium::server {

namespace {

constexpr double kRequestsPerSecond = 100;  // sustained, per connection
constexpr double kBurst = 200;
constexpr int kRejectionsBeforeClose = 500;
constexpr std::chrono::milliseconds kJoinTimeout{10'000};  // docs/security.md

using sdk::error_response;

// Lives as long as the connection; only the HTTP thread touches it.
struct Connection {
  Worker* worker = nullptr;  // set by the first join that reached a worker
  double tokens = kBurst;
  std::chrono::steady_clock::time_point refilled = std::chrono::steady_clock::now();
  int rejected_in_a_row = 0;

  bool take() {
    const auto now = std::chrono::steady_clock::now();
    tokens =
        std::min(kBurst, tokens + std::chrono::duration<double>(now - refilled).count() * kRequestsPerSecond);
    refilled = now;
    if (tokens < 1) return false;
    tokens -= 1;
    return true;
  }
};

}  // namespace

void WebRtcService::add_sdk_routes(HttpRouter& router, WorkerPool& workers) {
  router.websocket("/sdk/v1", [this, &workers](const std::shared_ptr<WebSocketConnection>& socket) {
    auto conn = std::make_shared<Connection>();
    std::weak_ptr<WebSocketConnection> weak = socket;
    // A socket that has not joined in time is let go, so idle sockets cannot hold descriptors for ever.
    socket->close_unless_kept(kJoinTimeout, 4008, "no join within 10 s");
    socket->on_message([this, &workers, conn, weak](std::string text) {
      auto ws = weak.lock();
      if (!ws) return;
      if (!conn->take()) {
        if (++conn->rejected_in_a_row >= kRejectionsBeforeClose) {
          ws->close(1008, "too many requests");
          return;
        }
        auto j = nlohmann::json::parse(text, nullptr, false);
        const auto id = j.is_object() && j.contains("id") ? j["id"] : nlohmann::json();
        ws->send(error_response(id, "RATE_LIMITED", "slow down: at most 100 requests per second"));
        return;
      }
      conn->rejected_in_a_row = 0;
      if (conn->worker) {
        Worker* w = conn->worker;
        w->post([w, ws, text = std::move(text)]() mutable {
          if (auto* rt = w->find<WebRtcWorker>()) rt->sdk_message(ws.get(), std::move(text));
        });
        return;
      }
      // Not bound yet: this must be the join (or a resume). Every field is read by type: a client's JSON must
      // never throw here.
      auto j = nlohmann::json::parse(text, nullptr, false);
      if (!j.is_object())
        return ws->send(error_response(nullptr, "BAD_REQUEST", "a request is a JSON object"));
      sdk::JsonFields fields(j);
      const auto id = fields.id();
      const auto type = fields.string("type");
      if (!fields.ok()) return ws->send(error_response(id, "BAD_REQUEST", fields.error()));
      if (!type || type->empty())
        return ws->send(error_response(id, "BAD_REQUEST", "a request needs a string \"type\""));
      if (type == "ping") return ws->send(sdk::ok_response(id, nlohmann::json::object()));
      // Before the join: the ICE servers (TURN credential minted for `peer`), so the client can configure its
      // peer connection before it gathers candidates for the join's offer. With --auth-secret: the join's
      // token.
      if (type == "ice_servers") {
        const std::string room = fields.string("room").value_or("");
        const std::string peer = fields.string("peer").value_or("");
        const std::string token = fields.string("token").value_or("");
        if (!fields.ok()) return ws->send(error_response(id, "INVALID_ARGUMENT", fields.error()));
        if (!config_.auth_secret.empty()) {
          const auto access = authorize(token, room, peer);
          if (!access.ok) return ws->send(error_response(id, access.code, access.message));
        }
        return ws->send(sdk::ok_response(id, {{"ice_servers", ice_servers_json(ice_servers(peer))}}));
      }
      if (type != "join") return ws->send(error_response(id, "NOT_JOINED", "join a room first"));
      // A join that fails here ends the connection, as one the room refuses does: retries start clean.
      auto refuse = [&](std::string_view code, std::string_view message) {
        ws->send(error_response(id, code, message));
        ws->close(4001, "join refused");
      };
      const std::string room = fields.string("room").value_or("");
      const std::string peer = fields.string("peer").value_or("");
      const std::string token = fields.string("token").value_or("");
      const auto resume_request = sdk::read_resume(fields);
      if (resume_request && !resume_request->error.empty())
        return refuse("INVALID_ARGUMENT", "in \"resume\": " + resume_request->error);
      if (!fields.ok()) return refuse("INVALID_ARGUMENT", fields.error());
      if (room.empty()) return refuse("INVALID_ARGUMENT", "join needs a \"room\"");
      sdk::SdkPermissions permissions;
      if (!config_.auth_secret.empty()) {
        const auto access = authorize(token, room, peer);
        if (!access.ok) return refuse(access.code, access.message);
        permissions.publish = access.publish;
        permissions.subscribe = access.subscribe;
      }
      const bool resume = resume_request.has_value();
      if (!resume && sessions_.fetch_add(1, std::memory_order_relaxed) >= config_.max_sessions) {
        sessions_.fetch_sub(1, std::memory_order_relaxed);
        return ws->send(
            error_response(id, "SERVER_FULL", "the server is at its session limit; try again later"));
      }
      // A new session has not connected its media yet: it counts against the pending caps of its address.
      PendingSessions::Slot pending;
      if (!resume) {
        std::string full;
        pending = reserve_pending(ws->request().remote.address().to_string(), full);
        if (!pending) {
          sessions_.fetch_sub(1, std::memory_order_relaxed);
          return ws->send(error_response(id, "SERVER_FULL", full));
        }
      }
      Worker& worker = worker_for_room(workers, room);
      conn->worker = &worker;
      ws->keep();
      worker.post([this, w = &worker, ws, text = std::move(text), permissions, resume,
                   pending = std::move(pending)]() mutable {
        auto* rt = w->find<WebRtcWorker>();
        if (!rt) {
          if (!resume) sessions_.fetch_sub(1, std::memory_order_relaxed);
          return;
        }
        rt->sdk_open(ws, std::move(text), permissions, !resume, std::move(pending));
      });
    });
    socket->on_close([conn, weak](uint16_t) {
      auto ws = weak.lock();
      if (!ws || !conn->worker) return;
      Worker* w = conn->worker;
      const WebSocketConnection* key = ws.get();
      // The worker only compares the pointer; `ws` keeps it from being reused before that.
      w->post([w, key, ws]() {
        if (auto* rt = w->find<WebRtcWorker>()) rt->sdk_closed(key);
      });
    });
  });
}

}  // namespace atrium::server
