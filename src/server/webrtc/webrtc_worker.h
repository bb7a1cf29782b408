// The WebRTC side of one media worker, as the HTTP side sees it: WHIP/WHEP resources (create, PATCH,
// DELETE) and the room SDK's connections, on top of the worker's SessionRuntime (UDP port, session table,
// pump). Everything here runs on the worker's thread; the HTTP side reaches it by posting.
//
//   session_runtime.*  the pump between sessions and the EndpointHub; reaps closed sessions
//   udp_port.*         the UDP socket: receive, sendmmsg batches
//   tcp_port.*         the ICE-TCP listener: pending connections, their limits and timeout
//   tcp_connection.*   one ICE-TCP connection: RFC 4571 frames in, a bounded frame-dropping queue out
//   send_path.*        each datagram a session sends, to the UDP batch or to its TCP connection
//   session_table.*    every session and its lookups (id, endpoint, ufrag, address, WebSocket)
//   session_maker.*    offer -> negotiated answer -> WebRtcSession
//   whip_resource.*    one WHIP/WHEP session as an HTTP resource: ETag/If-Match, PATCH, permissions
//   sdk_connections.*  SDK joins, resumes, messages, lost connections
//   webrtc_counters.*  the counters /metrics reads, and syncing sessions' counters into them
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/ip/address.hpp>

#include "server/http/websocket_connection.h"
#include "server/webrtc/pending_sessions.h"
#include "server/webrtc/sdk_connections.h"
#include "server/webrtc/session_maker.h"
#include "server/webrtc/session_runtime.h"
#include "server/webrtc/webrtc_counters.h"
#include "server/webrtc/whip_resource.h"
#include "server/worker.h"
#include "server/worker_core.h"
#include "transport/sdk/sdk_session.h"

namespace atrium::server {

struct WebRtcWorkerSettings {
  std::shared_ptr<webrtc::DtlsContext> dtls;
  std::vector<std::string> candidate_ips;  // advertised in this order, with this worker's port
  // Slots reserved against --max-sessions by the HTTP side; the worker gives one back for every offer it was
  // handed that did not become a session, and for every session it removes.
  std::atomic<int64_t>* reserved_sessions = nullptr;
  // The ICE servers (with a fresh TURN credential) for an SDK peer's join response; null: none.
  std::function<nlohmann::json(const std::string& peer)> ice_servers;
  // Addresses of the TURN servers (--turn-urls): a client whose nominated address is one of them is relayed.
  std::vector<std::string> relay_addresses;
  TcpPortLimits tcp;  // the ICE-TCP listener's limits (--tcp-*)
};

class WebRtcWorker {
 public:
  WebRtcWorker(Worker& worker, WorkerCore& core, WebRtcWorkerSettings settings, WebRtcCounters& counters);

  // Binds the worker's UDP socket and, unless `tcp_port` is none, its ICE-TCP listener; "" or a sentence
  // saying why not.
  std::string open(const boost::asio::ip::address& bind, uint16_t port, std::optional<uint16_t> tcp_port);
  uint16_t port() const { return runtime_.port(); }
  uint16_t tcp_port() const { return runtime_.tcp_port(); }

  // `answer` runs on this worker once the session's join is decided: at once with the embedded bus, when the
  // directory's claim completes with a NATS bus (the worker goes on meanwhile).
  void create_session(SessionOffer offer, std::function<void(SessionCreated)> answer);
  // `caller`: the token's claims (with --auth-secret); a session of another room, or of another peer when the
  // token names one and is not an admin's, is refused with 403.
  SessionPatched patch_session(const std::string& id, const std::optional<SessionCaller>& caller,
                               std::string_view if_match, std::string_view fragment);
  SessionDeleted delete_session(const std::string& id, const std::optional<SessionCaller>& caller);

  // The room SDK over a WebSocket (SdkConnections). The first message of a connection (a join, possibly
  // resuming a session by id and secret) goes to sdk_open; later ones to sdk_message; sdk_closed when the
  // socket is gone. `reserved`: the HTTP side took a --max-sessions slot for this join (resumes take none);
  // `pending`: the pending-session slot taken for it, held until its media connects.
  void sdk_open(std::shared_ptr<WebSocketConnection> ws, std::string text, sdk::SdkPermissions permissions,
                bool reserved, PendingSessions::Slot pending) {
    sdk_.open(std::move(ws), std::move(text), permissions, reserved, std::move(pending));
  }
  void sdk_message(const WebSocketConnection* ws, std::string text) { sdk_.message(ws, std::move(text)); }
  void sdk_closed(const WebSocketConnection* ws) { sdk_.closed(ws); }

 private:
  size_t index_;
  SessionMaker maker_;
  SessionRuntime runtime_;  // after maker_: sessions close before what made them goes
  SdkConnections sdk_;
};

}  // namespace atrium::server
