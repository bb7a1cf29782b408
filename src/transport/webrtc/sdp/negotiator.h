// Server-side offer/answer (RFC 3264, JSEP RFC 8829 section 5.3) for an ICE-lite, DTLS-passive, BUNDLE-only
// SFU. The client always offers (WHIP, WHEP, the SDK); the server answers with what it can serve:
//  - payload type numbers stay the offerer's; per audio/video section the supported codecs are kept in the
//    offer's order (optionally only one preferred codec per kind), with their RTX; red/ulpfec/flexfec go;
//  - the answer direction mirrors the offer; a sendrecv offer becomes recvonly in a publish (WHIP) session
//    and sendonly in a subscribe (WHEP) session; a section that points the wrong way for the session kind is
//    rejected;
//  - rtcp-mux, BUNDLE, ICE credentials and a DTLS fingerprint are required; the answer says setup:passive,
//    ice-lite, sha-256 fingerprint, and carries the host candidates in the first accepted section;
//  - m=application (data channels) and sections without a supported codec are rejected with port 0; when
//    nothing can be served the negotiation fails;
//  - a=simulcast:send with rids is answered with the same rids as recv.
// Errors carry the HTTP status a WHIP/WHEP endpoint should answer with: 400 (the offer is not usable SDP or
// lacks something WebRTC requires), 406 (no codec in common), 422 (valid, but not what this session does).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "media/media_packet.h"
#include "media/sdp/sdp.h"
#include "transport/webrtc/sdp/webrtc_sdp.h"

namespace atrium::webrtc {

// Audio sections and video sections an offer may have, each (the SDK pre-allocates 8 + 8 and sends on a few).
// Every section the server sends on costs it a packet cache and stream state: an offer of many sections is
// refused with 400 before any of that exists.
inline constexpr size_t kMaxSectionsPerKind = 16;

inline constexpr std::string_view kExtMid = "urn:ietf:params:rtp-hdrext:sdes:mid";
inline constexpr std::string_view kExtRid = "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id";
inline constexpr std::string_view kExtRepairedRid = "urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id";
inline constexpr std::string_view kExtTransportCc =
    "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01";
inline constexpr std::string_view kExtAudioLevel = "urn:ietf:params:rtp-hdrext:ssrc-audio-level";

struct CodecCapability {
  media::Codec codec = media::Codec::kUnknown;
  uint32_t clock_rate = 90000;
  uint8_t channels = 0;  // audio: required channel count (opus: 2); 0 for video
  // H264 only: accepted profile-level-id values (hex, compared case-insensitively); packetization-mode must
  // be 1. VP9 / AV1: profile-id / profile must be absent or 0.
  std::vector<std::string> h264_profiles;
};

struct ServerMediaCaps {
  std::vector<CodecCapability> codecs;
  std::vector<std::string> header_extensions;  // URIs
  std::vector<std::string> rtcp_fb;            // "nack", "nack pli", "ccm fir", "goog-remb", "transport-cc"
  // opus 48000/2; VP8; VP9 profile 0; H264 pm=1 42e01f/42001f/4d001f/640c1f; AV1; the six extensions above;
  // nack, nack pli, ccm fir, goog-remb, transport-cc.
  static ServerMediaCaps defaults();
};

enum class SessionKind : uint8_t {
  kPublish,    // WHIP: the client sends, the server receives
  kSubscribe,  // WHEP: the server sends
  kPeer,       // SDK: both ways; sendrecv stays sendrecv
};

struct HostCandidate {
  std::string ip;  // textual IPv4 or IPv6
  uint16_t port = 0;
  bool udp = true;        // false: TCP passive
  uint32_t priority = 0;  // 0: computed (host type preference, in list order)
};

// What the server sends in one section (WHEP / SDK): becomes a=msid, a=ssrc and a=ssrc-group:FID.
struct SendStreamParams {
  uint32_t ssrc = 0;
  uint32_t rtx_ssrc = 0;  // 0: no RTX stream
  std::string cname;
  std::string stream_id;  // msid stream
  std::string track_id;   // msid track
};

struct AnswerParams {
  SessionKind kind = SessionKind::kPublish;
  std::string ice_ufrag;
  std::string ice_pwd;
  std::string fingerprint_sha256;  // our DTLS certificate: "AB:CD:..." or plain hex, 32 bytes
  std::vector<HostCandidate> candidates;
  std::optional<media::Codec> preferred_audio;  // only this codec when set
  std::optional<media::Codec> preferred_video;
  // Taken in order by the accepted sections in which the server sends; sections beyond the list get none.
  std::vector<SendStreamParams> send_streams;
  uint64_t session_id = 0;  // o= line; 0 gives a fixed value
};

struct NegotiatedCodec {
  media::Codec codec = media::Codec::kUnknown;
  uint8_t pt = 0;
  std::optional<uint8_t> rtx_pt;
  uint32_t clock_rate = 0;
  uint8_t channels = 0;
  std::string fmtp;  // as offered (empty when none)
};

// Extension ids in both directions; 0 when not negotiated.
struct HeaderExtensionIds {
  uint8_t mid = 0;
  uint8_t rid = 0;
  uint8_t repaired_rid = 0;
  uint8_t transport_cc = 0;
  uint8_t audio_level = 0;
};

struct RtcpFeedbackFlags {
  bool nack = false;
  bool pli = false;
  bool fir = false;
  bool remb = false;
  bool transport_cc = false;
};

struct NegotiatedMedia {
  size_t index = 0;  // of the m= section
  std::string mid;
  media::MediaKind kind = media::MediaKind::kAudio;
  SdpDirection direction = SdpDirection::kRecvOnly;  // ours, as in the answer
  std::vector<NegotiatedCodec> codecs;               // in the answer's preference order
  HeaderExtensionIds extensions;
  RtcpFeedbackFlags feedback;  // for the first codec
  bool rtcp_rsize = false;
  // What the client sends (publish): its SSRCs, FID pairs (primary, rtx) and simulcast rids in order.
  std::vector<uint32_t> remote_ssrcs;
  std::vector<std::pair<uint32_t, uint32_t>> remote_rtx_pairs;
  std::vector<std::string> remote_rids;
  std::optional<Msid> remote_msid;
  std::optional<SendStreamParams> send;  // what we send here (subscribe / peer), if given
};

struct Answer {
  std::string sdp;
  std::vector<NegotiatedMedia> media;  // accepted sections only
  std::string remote_ice_ufrag;
  std::string remote_ice_pwd;
  SdpFingerprint remote_fingerprint;
  SetupRole remote_setup = SetupRole::kActPass;
  std::vector<IceCandidate> remote_candidates;
};

struct NegotiationError {
  int http_status = 400;  // 400, 406 or 422
  std::string reason;     // a sentence for the client
};

SdpResult<Answer, NegotiationError> negotiate_answer(const SessionDescription& offer,
                                                     const ServerMediaCaps& caps, const AnswerParams& params);
// Parses first; a parse error is a 400 naming the line.
SdpResult<Answer, NegotiationError> negotiate_answer(std::string_view offer_sdp, const ServerMediaCaps& caps,
                                                     const AnswerParams& params);
// The parse step alone, with the same 400.
SdpResult<SessionDescription, NegotiationError> parse_offer(std::string_view offer_sdp);

// How many SendStreamParams an answer to `offer` can use: its audio and video sections in which the server
// would send for this kind of session (none for a publish). Sections the negotiation rejects for other
// reasons are counted too, so this is an upper bound, never short.
size_t max_send_streams(const SessionDescription& offer, SessionKind kind);

// Our host candidates as a=candidate lines (foundation = place in the list, priority from
// host_candidate_priority when not given), then a=end-of-candidates: the answer's, and an ICE restart's.
void add_host_candidates(MediaSection& m, const std::vector<HostCandidate>& candidates);

}  // namespace atrium::webrtc
