// Which protocol does a datagram on a shared WebRTC 5-tuple carry? RFC 7983 (first byte ranges) and RFC 5761
// (RTP and RTCP on one port: RTCP packet types 192..223 look like RTP payload types 64..95).
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

namespace atrium::media {

enum class PacketClass : uint8_t { kUnknown, kStun, kDtls, kRtp, kRtcp };

std::string_view to_string(PacketClass c);

// Looks at the first two bytes only; the protocol's own parser still validates the rest. An empty datagram,
// one in a range we do not handle (ZRTP, TURN channel, QUIC), or an RTP-range datagram shorter than two bytes
// is kUnknown.
PacketClass classify_packet(std::span<const uint8_t> datagram);

// RFC 5761 section 4: given a datagram already known to be RTP or RTCP (first byte 128..191), is it RTCP?
constexpr bool is_rtcp_packet_type(uint8_t second_byte) {
  const uint8_t pt = second_byte & 0x7F;
  return pt >= 64 && pt <= 95;
}

}  // namespace atrium::media
