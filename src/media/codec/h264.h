// H.264 RTP payloads (RFC 6184, packetization modes 0 and 1): single NAL unit (types 1-23), STAP-A (24) and
// FU-A (28). Finds which parameter sets and IDR slices a packet starts or carries.
#pragma once

#include <cstdint>
#include <optional>
#include <span>

namespace atrium::media {

inline constexpr uint8_t kH264NalIdr = 5;
inline constexpr uint8_t kH264NalSps = 7;
inline constexpr uint8_t kH264NalPps = 8;
inline constexpr uint8_t kH264NalStapA = 24;
inline constexpr uint8_t kH264NalFuA = 28;

struct H264PayloadInfo {
  uint8_t packet_type = 0;  // type of the RTP payload's own NAL header (1-23, 24, 28, ...)
  bool has_sps = false;
  bool has_pps = false;
  bool has_idr = false;         // an IDR slice, or the start fragment of one in FU-A
  bool fragment_start = false;  // FU-A with S=1 (also true for non-fragmented packets)

  // A packet starting (or carrying) an IDR slice or an SPS begins a decodable frame.
  bool keyframe() const { return has_idr || has_sps; }
};

// nullopt when empty, truncated (a STAP-A unit overrunning the packet, an FU-A shorter than 2 bytes) or of a
// type this server does not handle (0, 25-27, 29-31).
std::optional<H264PayloadInfo> inspect_h264(std::span<const uint8_t> payload);

bool h264_is_keyframe(std::span<const uint8_t> payload);

}  // namespace atrium::media
