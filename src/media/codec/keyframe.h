// Does this RTP payload start a frame that decodes on its own? Which layer is it? One dispatch per codec's
// payload format (vp8.h, vp9.h, h264.h, av1.h hold the details).
#pragma once

#include <cstdint>
#include <span>

#include "media/media_packet.h"

namespace atrium::media {

// True for audio always; for video, true only for the first packet of an intra frame. Never reads out of
// bounds: a truncated or malformed payload is "not a key frame". kUnknown is never a key frame.
bool is_keyframe(Codec codec, std::span<const uint8_t> payload);

struct LayerInfo {
  uint8_t spatial = 0;
  uint8_t temporal = 0;
  bool operator==(const LayerInfo&) const = default;
};

// Spatial and temporal layer the payload descriptor names (VP8: TID; VP9: SID/TID; AV1: the first OBU's
// extension header). {0, 0} when the codec has no layer signalling in the payload, the field is absent, or
// the payload is malformed.
LayerInfo layer_info(Codec codec, std::span<const uint8_t> payload);

// The per-picture fields a forwarder rewrites when it splices streams (VP8 only; defaults for every other
// codec, and for absent fields or a malformed payload). The transport copies them into the MediaPacket.
struct PictureInfo {
  int32_t picture_id = -1;
  int16_t tl0_pic_idx = -1;
  bool layer_sync = false;  // Y bit, only with a TID
  bool operator==(const PictureInfo&) const = default;
};
PictureInfo picture_info(Codec codec, std::span<const uint8_t> payload);

}  // namespace atrium::media
