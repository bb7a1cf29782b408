// WebRTC meaning of SDP attributes (RFC 8829 JSEP, 8839 ICE, 8842 DTLS, 8843 BUNDLE, 8851 rid, 8853
// simulcast, 8285 extmap, 4585 rtcp-fb, 5576 ssrc, 8830 msid). Each accessor reads one section (with a
// session-level fallback where SDP allows one); malformed lines are skipped, never fatal: the negotiator
// decides what a missing value means.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "media/sdp/sdp.h"

namespace atrium::webrtc {

// The generic SDP model lives in media/sdp, since SIP offers and answers SDP too; WebRTC code names it
// unqualified.
using sdp::MediaSection;
using sdp::parse_sdp;
using sdp::SdpAttribute;
using sdp::SdpAttributeList;
using sdp::SdpError;
using sdp::SdpLine;
using sdp::SdpResult;
using sdp::serialize_sdp;
using sdp::serialize_sdp_fragment;
using sdp::SessionDescription;

enum class SdpDirection : uint8_t { kSendRecv, kSendOnly, kRecvOnly, kInactive };
std::string_view to_string(SdpDirection d);
std::optional<SdpDirection> direction_from_string(std::string_view s);
SdpDirection reverse(SdpDirection d);  // sendonly <-> recvonly

enum class SetupRole : uint8_t { kActPass, kActive, kPassive, kHoldConn };
std::string_view to_string(SetupRole r);

struct SdpFingerprint {
  std::string algorithm;  // lower case: sha-256, sha-1, ...
  std::string hex;        // upper case, colon separated, as in SDP
  std::vector<uint8_t> bytes;
};
// "AB:CD:..." or "abcd..." -> bytes; nullopt when not even hex pairs.
std::optional<std::vector<uint8_t>> parse_fingerprint_hex(std::string_view hex);
std::string format_fingerprint_hex(const std::vector<uint8_t>& bytes);  // "AB:CD:..."

struct RtpMap {
  uint8_t pt = 0;
  std::string name;  // as written (VP8, opus, H264, rtx, red, ulpfec, ...)
  uint32_t clock_rate = 0;
  uint8_t channels = 0;  // 0 when not given
};

struct Fmtp {
  uint8_t pt = 0;
  std::string params;                                       // as written
  std::vector<std::pair<std::string, std::string>> parsed;  // key=value pairs split on ';' (keys lower case)
  std::optional<std::string_view> get(std::string_view key) const;
};

struct RtcpFb {
  std::optional<uint8_t> pt;  // nullopt for '*'
  std::string type;           // nack, ccm, goog-remb, transport-cc, ...
  std::string param;          // pli, fir, ... or empty
};

struct ExtMap {
  uint16_t id = 0;  // 1..14 one-byte, up to 255 two-byte
  std::optional<SdpDirection> direction;
  std::string uri;
  std::string attributes;  // what follows the uri, if anything
};

struct SsrcAttribute {
  uint32_t ssrc = 0;
  std::string attribute;  // cname, msid, ...
  std::string value;
};

struct SsrcGroup {
  std::string semantics;  // FID, SIM, FEC-FR
  std::vector<uint32_t> ssrcs;
};

enum class RidDirection : uint8_t { kSend, kRecv };
struct Rid {
  std::string id;
  RidDirection direction = RidDirection::kSend;
  std::vector<uint8_t> pts;  // from pt=..., empty when not restricted
  std::string params;        // restrictions as written (without pt=)
};

struct SimulcastStream {
  std::string rid;
  bool paused = false;  // '~'
};
// Each entry of send/recv is one simulcast stream with its alternatives (usually one).
struct Simulcast {
  std::vector<std::vector<SimulcastStream>> send;
  std::vector<std::vector<SimulcastStream>> recv;
};

struct IceCandidate {
  std::string foundation;
  uint16_t component = 1;
  std::string transport;  // udp / tcp (lower case)
  uint32_t priority = 0;
  std::string address;
  uint16_t port = 0;
  std::string type;  // host, srflx, prflx, relay
  std::string related_address;
  uint16_t related_port = 0;
  std::string tcp_type;
};
std::optional<IceCandidate> parse_candidate(std::string_view value);  // the part after "a=candidate:"
std::string format_candidate(const IceCandidate& c);

struct SdpGroup {
  std::string semantics;  // BUNDLE, LS, ...
  std::vector<std::string> mids;
};

struct Msid {
  std::string stream_id;
  std::string track_id;  // may be empty
};

// Section accessors.
std::optional<std::string_view> mid(const MediaSection& m);
// The section's direction attribute, else the session's, else sendrecv.
SdpDirection direction(const SessionDescription& s, const MediaSection& m);
std::optional<std::string_view> ice_ufrag(const SessionDescription& s, const MediaSection& m);
std::optional<std::string_view> ice_pwd(const SessionDescription& s, const MediaSection& m);
std::vector<std::string> ice_options(const SessionDescription& s, const MediaSection& m);
std::optional<SdpFingerprint> fingerprint(const SessionDescription& s, const MediaSection& m);
std::optional<SetupRole> setup(const SessionDescription& s, const MediaSection& m);
bool rtcp_mux(const MediaSection& m);
bool rtcp_rsize(const MediaSection& m);
std::vector<RtpMap> rtpmaps(const MediaSection& m);
std::optional<RtpMap> rtpmap(const MediaSection& m, uint8_t pt);
std::vector<Fmtp> fmtps(const MediaSection& m);
std::optional<Fmtp> fmtp(const MediaSection& m, uint8_t pt);
std::vector<RtcpFb> rtcp_fbs(const MediaSection& m);
std::vector<ExtMap> extmaps(const SessionDescription& s, const MediaSection& m);  // section, then session
std::vector<SsrcAttribute> ssrcs(const MediaSection& m);
std::vector<SsrcGroup> ssrc_groups(const MediaSection& m);
std::vector<Rid> rids(const MediaSection& m);
std::optional<Simulcast> simulcast(const MediaSection& m);
std::vector<IceCandidate> candidates(const MediaSection& m);
std::vector<Msid> msids(const MediaSection& m);
// Session-level a=group lines.
std::vector<SdpGroup> groups(const SessionDescription& s);
std::optional<SdpGroup> bundle_group(const SessionDescription& s);  // the first BUNDLE group

// Single-value parsers, exposed for tests and for the negotiator.
std::optional<RtpMap> parse_rtpmap(std::string_view value);
std::optional<Fmtp> parse_fmtp(std::string_view value);
std::optional<RtcpFb> parse_rtcp_fb(std::string_view value);
std::optional<ExtMap> parse_extmap(std::string_view value);
std::optional<Rid> parse_rid(std::string_view value);
std::optional<Simulcast> parse_simulcast(std::string_view value);

}  // namespace atrium::webrtc
