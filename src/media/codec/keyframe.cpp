#include "media/codec/keyframe.h"

#include "media/codec/av1.h"
#include "media/codec/h264.h"
#include "media/codec/vp8.h"
#include "media/codec/vp9.h"

namespace atrium::media {

bool is_keyframe(Codec codec, std::span<const uint8_t> payload) {
  switch (codec) {
    case Codec::kOpus:
    case Codec::kPcmu:
    case Codec::kPcma:
      return true;
    case Codec::kVP8:
      return vp8_is_keyframe(payload);
    case Codec::kVP9:
      return vp9_is_keyframe(payload);
    case Codec::kH264:
      return h264_is_keyframe(payload);
    case Codec::kAV1:
      return av1_is_keyframe(payload);
    case Codec::kUnknown:
      break;
  }
  return false;
}

LayerInfo layer_info(Codec codec, std::span<const uint8_t> payload) {
  switch (codec) {
    case Codec::kVP8: {
      auto d = parse_vp8_descriptor(payload);
      if (d && d->has_tid) return {0, d->tid};
      break;
    }
    case Codec::kVP9: {
      auto d = parse_vp9_descriptor(payload);
      if (d && d->has_layer_indices) return {d->spatial_id, d->temporal_id};
      break;
    }
    case Codec::kAV1: {
      auto l = av1_first_obu_layer(payload);
      if (l) return {l->spatial_id, l->temporal_id};
      break;
    }
    case Codec::kOpus:
    case Codec::kPcmu:
    case Codec::kPcma:
    case Codec::kH264:
    case Codec::kUnknown:
      break;
  }
  return {};
}

PictureInfo picture_info(Codec codec, std::span<const uint8_t> payload) {
  PictureInfo out;
  if (codec != Codec::kVP8) return out;
  auto d = parse_vp8_descriptor(payload);
  if (!d) return out;
  if (d->has_picture_id) out.picture_id = d->picture_id;
  if (d->has_tl0_pic_idx) out.tl0_pic_idx = d->tl0_pic_idx;
  out.layer_sync = d->has_tid && d->layer_sync;
  return out;
}

}  // namespace atrium::media
