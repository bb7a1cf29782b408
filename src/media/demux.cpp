#include "media/demux.h"

namespace atrium::media {

std::string_view to_string(PacketClass c) {
  switch (c) {
    case PacketClass::kStun:
      return "stun";
    case PacketClass::kDtls:
      return "dtls";
    case PacketClass::kRtp:
      return "rtp";
    case PacketClass::kRtcp:
      return "rtcp";
    case PacketClass::kUnknown:
      break;
  }
  return "unknown";
}

PacketClass classify_packet(std::span<const uint8_t> datagram) {
  if (datagram.empty()) return PacketClass::kUnknown;
  const uint8_t b = datagram[0];
  if (b <= 3) return PacketClass::kStun;
  if (b >= 20 && b <= 63) return PacketClass::kDtls;
  if (b >= 128 && b <= 191) {
    if (datagram.size() < 2) return PacketClass::kUnknown;
    return is_rtcp_packet_type(datagram[1]) ? PacketClass::kRtcp : PacketClass::kRtp;
  }
  return PacketClass::kUnknown;
}

}  // namespace atrium::media
