#include "server/webrtc/session_maker.h"

#include <openssl/rand.h>

#include <algorithm>

#include "server/webrtc/random_id.h"
#include "server/worker_core.h"

namespace atrium::server {

std::vector<webrtc::HostCandidate> SessionMaker::host_candidates() const {
  std::vector<webrtc::HostCandidate> out;
  for (const auto& ip : candidate_ips_)
    out.push_back({ip, port_, true, 0});
  if (tcp_port_ != 0) {
    for (const auto& ip : candidate_ips_)
      out.push_back({ip, tcp_port_, false, 0});
  }
  return out;
}

SessionMaker::Media SessionMaker::make(webrtc::SessionKind kind, const core::JoinParams& join,
                                       const std::string& source, const std::string& offer_sdp,
                                       bool join_room) const {
  const int64_t now = WorkerCore::now();
  Media media;
  auto offer = webrtc::parse_offer(offer_sdp);
  if (!offer) {
    media.status = static_cast<unsigned>(offer.error().http_status);
    media.error = offer.error().reason;
    return media;
  }
  auto ice = webrtc::IceCredentials::random();
  webrtc::AnswerParams params;
  params.kind = kind;
  params.ice_ufrag = ice.ufrag;
  params.ice_pwd = ice.pwd;
  params.fingerprint_sha256 = dtls_->certificate().fingerprint_sha256();
  params.candidates = host_candidates();
  // One set per section the client receives on; an SDK client pre-allocates many.
  const size_t sends = webrtc::max_send_streams(*offer, kind);
  if (sends > 0) {
    const std::string cname = random_hex(8);
    const std::string stream = "atrium-" + random_hex(4);
    for (size_t i = 0; i < sends; ++i)
      params.send_streams.push_back({random_u32(), random_u32(), cname, stream, "track" + std::to_string(i)});
  }
  RAND_bytes(reinterpret_cast<unsigned char*>(&params.session_id), sizeof params.session_id);
  params.session_id &= 0x7FFFFFFFFFFFFFFFULL;

  auto negotiated = webrtc::negotiate_answer(*offer, webrtc::ServerMediaCaps::defaults(), params);
  if (!negotiated) {
    media.status = static_cast<unsigned>(negotiated.error().http_status);
    media.error = negotiated.error().reason;
    return media;
  }
  media.answer = std::move(negotiated.value());
  webrtc::WebRtcSessionConfig config;
  config.kind = kind;
  config.join = join;
  config.source = source;
  config.ice = ice;
  config.remote_fingerprint = {media.answer.remote_fingerprint.algorithm,
                               media.answer.remote_fingerprint.hex};
  config.media = media.answer.media;
  config.rtcp_ssrc = random_u32();
  config.join_room = join_room;
  media.session = std::make_unique<webrtc::WebRtcSession>(dtls_, std::move(config), now);
  return media;
}

}  // namespace atrium::server
