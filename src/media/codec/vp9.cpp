#include "media/codec/vp9.h"

#include "media/codec/picture_id.h"

#include "media/rtp/bytes.h"

namespace atrium::media {

namespace {

struct Vp9Layout {
  size_t picture_id_at = 0;
  size_t tl0_at = 0;
};

std::optional<Vp9Descriptor> parse(std::span<const uint8_t> p, Vp9Layout* layout) {
  if (p.empty()) return std::nullopt;
  Vp9Descriptor d;
  const uint8_t b0 = p[0];
  d.has_picture_id = (b0 & 0x80) != 0;
  d.inter_picture_predicted = (b0 & 0x40) != 0;
  d.has_layer_indices = (b0 & 0x20) != 0;
  d.flexible_mode = (b0 & 0x10) != 0;
  d.begin_of_frame = (b0 & 0x08) != 0;
  d.end_of_frame = (b0 & 0x04) != 0;
  d.has_scalability_structure = (b0 & 0x02) != 0;
  d.not_ref_for_upper_spatial = (b0 & 0x01) != 0;
  size_t pos = 1;
  auto have = [&](size_t n) { return p.size() - pos >= n; };

  if (d.has_picture_id) {
    const auto pid = read_picture_id(p, pos);
    if (!pid) return std::nullopt;
    if (layout) layout->picture_id_at = pos;
    d.picture_id = pid->id;
    d.picture_id_15bit = pid->fifteen_bit;
    pos += pid->size;
  }
  if (d.has_layer_indices) {
    if (!have(1)) return std::nullopt;
    const uint8_t b = p[pos++];
    d.temporal_id = static_cast<uint8_t>(b >> 5);
    d.switching_up = (b & 0x10) != 0;
    d.spatial_id = static_cast<uint8_t>((b >> 1) & 0x07);
    d.inter_layer_dependency = (b & 0x01) != 0;
    if (!d.flexible_mode) {
      if (!have(1)) return std::nullopt;
      if (layout) layout->tl0_at = pos;
      d.has_tl0_pic_idx = true;
      d.tl0_pic_idx = p[pos++];
    }
  }
  if (d.flexible_mode && d.inter_picture_predicted) {
    bool more = true;
    while (more) {
      if (d.num_ref_pics == 3 || !have(1)) return std::nullopt;
      const uint8_t b = p[pos++];
      d.p_diff[d.num_ref_pics++] = static_cast<uint8_t>(b >> 1);
      more = (b & 0x01) != 0;
    }
  }
  if (d.has_scalability_structure) {
    if (!have(1)) return std::nullopt;
    const uint8_t b = p[pos++];
    d.num_spatial_layers = static_cast<uint8_t>((b >> 5) + 1);
    d.has_resolutions = (b & 0x10) != 0;
    d.has_gof = (b & 0x08) != 0;
    if (d.has_resolutions) {
      if (!have(4 * size_t{d.num_spatial_layers})) return std::nullopt;
      for (size_t i = 0; i < d.num_spatial_layers; ++i) {
        d.width[i] = bytes::read16(p, pos);
        d.height[i] = bytes::read16(p, pos + 2);
        pos += 4;
      }
    }
    if (d.has_gof) {
      if (!have(1)) return std::nullopt;
      d.num_frames_in_gof = p[pos++];
      for (size_t i = 0; i < d.num_frames_in_gof; ++i) {
        if (!have(1)) return std::nullopt;
        const size_t refs = (p[pos++] >> 2) & 0x03;
        if (!have(refs)) return std::nullopt;
        pos += refs;
      }
    }
  }
  if (!have(1)) return std::nullopt;
  d.size = pos;
  return d;
}

}  // namespace

std::optional<Vp9Descriptor> parse_vp9_descriptor(std::span<const uint8_t> payload) {
  return parse(payload, nullptr);
}

bool vp9_is_keyframe(std::span<const uint8_t> payload) {
  auto d = parse(payload, nullptr);
  if (!d) return false;
  return d->begin_of_frame && !d->inter_picture_predicted && (!d->has_layer_indices || d->spatial_id == 0);
}

bool vp9_rewrite_descriptor(std::span<uint8_t> payload, std::optional<uint16_t> picture_id,
                            std::optional<uint8_t> tl0_pic_idx) {
  Vp9Layout at;
  auto d = parse(payload, &at);
  if (!d) return false;
  if (picture_id && !d->has_picture_id) return false;
  if (tl0_pic_idx && !d->has_tl0_pic_idx) return false;
  if (picture_id) write_picture_id(payload, at.picture_id_at, d->picture_id_15bit, *picture_id);
  if (tl0_pic_idx) payload[at.tl0_at] = *tl0_pic_idx;
  return true;
}

}  // namespace atrium::media
