// A generic SDP (RFC 8866) model, parser and serializer. The parser is strict on structure (v= first, then o=
// and s=, a t= before the first m=, well-formed m= lines) and tolerant on line endings (\r\n or \n). It keeps
// every line in order, so serialize_sdp(parse_sdp(x)) keeps what matters. WebRTC meaning lives in
// webrtc_sdp.h; this file knows nothing about ICE or codecs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "media/sdp/sdp_result.h"

namespace atrium::sdp {

inline constexpr size_t kSdpMaxSize = 64 * 1024;
inline constexpr size_t kSdpMaxLines = 4096;
inline constexpr size_t kSdpMaxMediaSections = 64;
inline constexpr size_t kSdpMaxFormats = 128;  // per m= line

struct SdpError {
  size_t line = 0;  // 1-based; 0 when the error is about the whole text (too big, missing line)
  std::string reason;
};

// "a=name:value" or "a=name" (has_value false).
struct SdpAttribute {
  std::string name;
  std::string value;
  bool has_value = false;
};

// Any other line (i= u= e= p= c= b= t= r= z= k=, unknown letters), kept as written.
struct SdpLine {
  char type = 0;
  std::string value;
};

struct SdpAttributeList {
  std::vector<SdpAttribute> attributes;

  const SdpAttribute* find(std::string_view name) const;  // the first one
  bool has(std::string_view name) const { return find(name) != nullptr; }
  std::optional<std::string_view> value(std::string_view name) const;  // the first one's value
  std::vector<std::string_view> values(std::string_view name) const;   // every value, in order
  void add(std::string name, std::string value);
  void add_flag(std::string name);
};

struct MediaSection : SdpAttributeList {
  std::string media;  // audio, video, application, ...
  uint16_t port = 0;
  std::optional<uint16_t> port_count;  // "port/count"
  std::string proto;                   // UDP/TLS/RTP/SAVPF, UDP/DTLS/SCTP, ...
  std::vector<std::string> formats;    // payload types (as text) or e.g. webrtc-datachannel
  std::vector<SdpLine> lines;          // i= c= b= k= in order
  size_t line_number = 0;              // of the m= line, for messages
};

struct SessionDescription : SdpAttributeList {
  std::string origin;          // the o= value, as written
  std::string session_name;    // the s= value
  std::vector<SdpLine> lines;  // other session-level lines (t= c= b= i= ...) in order
  std::vector<MediaSection> media;
};

SdpResult<SessionDescription, SdpError> parse_sdp(std::string_view text);

// v=0, o=, s=, the other session lines, session attributes, then each section (m=, its lines, attributes).
// Lines end with \r\n.
std::string serialize_sdp(const SessionDescription& sdp);
// An SDP fragment (RFC 8840, application/trickle-ice-sdpfrag): the session attributes, then each section, and
// no v=, o=, s= or t= line (origin, session_name and the other session lines are not written).
std::string serialize_sdp_fragment(const SessionDescription& fragment);

}  // namespace atrium::sdp
