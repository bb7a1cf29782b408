#include "media/codec/h264.h"

#include "media/rtp/bytes.h"

namespace atrium::media {

namespace {
void note(H264PayloadInfo& info, uint8_t nal_type) {
  if (nal_type == kH264NalSps) info.has_sps = true;
  if (nal_type == kH264NalPps) info.has_pps = true;
  if (nal_type == kH264NalIdr) info.has_idr = true;
}
}  // namespace

std::optional<H264PayloadInfo> inspect_h264(std::span<const uint8_t> p) {
  if (p.empty()) return std::nullopt;
  H264PayloadInfo info;
  info.packet_type = p[0] & 0x1F;
  if (info.packet_type >= 1 && info.packet_type <= 23) {
    info.fragment_start = true;
    note(info, info.packet_type);
    return info;
  }
  if (info.packet_type == kH264NalStapA) {
    info.fragment_start = true;
    size_t pos = 1;
    if (pos == p.size()) return std::nullopt;  // an aggregate of nothing
    while (pos < p.size()) {
      if (p.size() - pos < 2) return std::nullopt;
      const size_t len = bytes::read16(p, pos);
      pos += 2;
      if (len == 0 || len > p.size() - pos) return std::nullopt;
      note(info, p[pos] & 0x1F);
      pos += len;
    }
    return info;
  }
  if (info.packet_type == kH264NalFuA) {
    if (p.size() < 2) return std::nullopt;
    const uint8_t fu = p[1];
    info.fragment_start = (fu & 0x80) != 0;
    if (info.fragment_start) note(info, fu & 0x1F);
    return info;
  }
  return std::nullopt;
}

bool h264_is_keyframe(std::span<const uint8_t> payload) {
  auto info = inspect_h264(payload);
  return info && info->keyframe();
}

}  // namespace atrium::media
