// Negotiates a client's offer into a media session: fresh ICE credentials, this worker's host candidates,
// SSRCs for every section the server may send on (as many as the parsed offer can use), our DTLS
// certificate; then the WebRtcSession built from the accepted answer.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/events/transport_event.h"
#include "transport/webrtc/dtls/dtls_transport.h"
#include "transport/webrtc/sdp/negotiator.h"
#include "transport/webrtc/session/webrtc_session.h"

namespace atrium::server {

class SessionMaker {
 public:
  struct Media {
    std::unique_ptr<webrtc::WebRtcSession> session;  // null when the offer was refused
    webrtc::Answer answer;
    unsigned status = 201;  // else 400/406/422
    std::string error;
  };

  // `candidate_ips`: advertised in this order, with the worker's port.
  SessionMaker(std::shared_ptr<webrtc::DtlsContext> dtls, std::vector<std::string> candidate_ips)
      : dtls_(std::move(dtls)), candidate_ips_(std::move(candidate_ips)) {}

  void set_port(uint16_t port) { port_ = port; }  // once the worker's UDP port is bound
  // Once its ICE-TCP listener is: every address is then also a passive TCP candidate (0: none).
  void set_tcp_port(uint16_t port) { tcp_port_ = port; }
  // Our host candidates, as in every answer and ICE restart: UDP on every address, then TCP (passive), which
  // ranks below every UDP one (host_candidate_priority), so a client uses it only when UDP fails.
  std::vector<webrtc::HostCandidate> host_candidates() const;

  // `join_room`: WHIP/WHEP sessions join themselves, an SDK session's signalling does it.
  Media make(webrtc::SessionKind kind, const core::JoinParams& join, const std::string& source,
             const std::string& offer_sdp, bool join_room) const;

 private:
  std::shared_ptr<webrtc::DtlsContext> dtls_;
  std::vector<std::string> candidate_ips_;
  uint16_t port_ = 0;
  uint16_t tcp_port_ = 0;
};

}  // namespace atrium::server
