// The room SDK's WebSocket connections on one worker (docs/protocol.md): the first message of a connection
// is a join, which makes an SdkSession, or a resume, which hands an existing session (proved by its id and
// secret) the new connection; later messages go to the connection's session; a closed connection starts the
// session's grace period. After every input the core is pumped until quiet, then the request is answered
// (docs/architecture.md, "Requests are answered after the core is quiet").
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "server/http/websocket_connection.h"
#include "server/webrtc/pending_sessions.h"
#include "server/webrtc/session_maker.h"
#include "server/webrtc/session_runtime.h"
#include "transport/sdk/sdk_session.h"

namespace atrium::server {

class SdkConnections {
 public:
  SdkConnections(size_t worker_index, SessionRuntime& runtime, const SessionMaker& maker,
                 std::function<nlohmann::json(const std::string& peer)> ice_servers = {})
      : worker_index_(worker_index), runtime_(runtime), maker_(maker), ice_servers_(std::move(ice_servers)) {}

  // `reserved`: the HTTP side took a --max-sessions slot for this join (resumes take none);
  // `pending`: the pending-session slot taken for it, held until its media connects.
  void open(std::shared_ptr<WebSocketConnection> ws, std::string text, sdk::SdkPermissions permissions,
            bool reserved, PendingSessions::Slot pending);
  void message(const WebSocketConnection* ws, std::string text);
  void closed(const WebSocketConnection* ws);

 private:
  // The core is quiet after input to `e`: answer the request and send what it produced.
  void settle(int64_t now, SessionEntry& e);

  size_t worker_index_;
  SessionRuntime& runtime_;
  const SessionMaker& maker_;
  std::function<nlohmann::json(const std::string& peer)> ice_servers_;
};

}  // namespace atrium::server
