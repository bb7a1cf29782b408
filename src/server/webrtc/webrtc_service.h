// Everything WebRTC the API server offers, and the per-worker runtime its sessions live on: WHIP (RFC 9725)
// and WHEP (draft-ietf-wish-whep) over HTTP, and the room SDK's signalling over a WebSocket
// (docs/protocol.md).
//
//   POST   /whip/{room}[?peer=NAME]                 application/sdp offer -> 201 + answer, Location, ETag
//   POST   /whep/{room}[?peer=NAME][&source=PEER]   the same for a viewer
//   PATCH  /session/{id}                            application/trickle-ice-sdpfrag: trickle (204) or ICE
//                                                   restart (200 + fragment, new ETag)
//   DELETE /session/{id}                            200; the room sees the peer leave
// With --auth-secret, PATCH and DELETE need a token of the session's room (and peer, when the token names one
// and is not an admin's): 401 without a valid one, 403 for someone else's session.
//   GET    /sdk/v1 (WebSocket)                      the room SDK
//
// Sessions of one room go to one worker (the embedded bus is per worker), chosen by a hash of the room name.
#pragma once

#include "server/webrtc/turn_credentials.h"

#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "server/http/http_router.h"
#include "server/metrics/metrics_registry.h"
#include "server/server_config.h"
#include "server/webrtc/webrtc_worker.h"
#include "server/worker_pool.h"

namespace atrium::server {

HttpResponse error(unsigned status, const std::string& sentence);  // text/plain, one sentence

class WebRtcService {
 public:
  // Makes the DTLS certificate and works out the candidate addresses. Throws std::runtime_error with a
  // sentence for the user when that fails.
  WebRtcService(const ServerConfig& config, MetricsRegistry& metrics);

  // In each worker's start hook: opens its UDP port. Returns "" or why not.
  std::string start_worker(Worker& worker, WorkerCore& core);
  void add_routes(HttpRouter& router, WorkerPool& workers);
  void add_sdk_routes(HttpRouter& router, WorkerPool& workers);  // sdk_routes.cpp

  const std::vector<std::string>& candidate_ips() const { return candidate_ips_; }
  std::vector<uint16_t> ports() const;
  std::vector<uint16_t> tcp_ports() const;  // the ICE-TCP listeners' (0: off)

  // With --auth-secret: the claims of a valid token for (room, peer), else an error code and sentence.
  struct Access {
    bool ok = true;
    bool publish = true;
    bool subscribe = true;
    std::string code;
    std::string message;
  };
  Access authorize(std::string_view token, std::string_view room, std::string_view peer) const;
  // The ICE servers a session of `peer` is told to use, with a TURN credential minted now (docs/turn.md).
  std::vector<IceServer> ice_servers(std::string_view peer) const;
  static std::string_view bearer(const HttpRequest& req);
  // Every session of a room goes to one worker (the embedded bus is per worker): a hash of the name picks it.
  static Worker& worker_for_room(WorkerPool& workers, std::string_view room);
  // A pending-session slot for a client at `address` (PendingSessions), or an empty one and why not in
  // `refusal`, a sentence.
  PendingSessions::Slot reserve_pending(std::string_view address, std::string& refusal);

 private:
  const ServerConfig& config_;
  MetricsRegistry& metrics_;
  std::shared_ptr<webrtc::DtlsContext> dtls_;
  std::vector<std::string> candidate_ips_;
  std::vector<std::string> relay_ips_;   // of --turn-urls, resolved at start
  std::deque<WebRtcCounters> counters_;  // one per worker; deque: stable addresses
  std::vector<std::atomic<uint16_t>> ports_;
  std::vector<std::atomic<uint16_t>> tcp_ports_;
  std::atomic<int64_t> sessions_{0};          // reserved or open, all workers, for --max-sessions
  std::shared_ptr<PendingSessions> pending_;  // not connected yet, for --max-pending-sessions / -per-address
};

}  // namespace atrium::server
