#include "media/codec/vp8.h"

#include "media/codec/picture_id.h"

namespace atrium::media {

namespace {

// Offsets of the rewritable fields, found while parsing.
struct Vp8Layout {
  size_t picture_id_at = 0;
  size_t tl0_at = 0;
};

std::optional<Vp8Descriptor> parse(std::span<const uint8_t> p, Vp8Layout* layout) {
  if (p.empty()) return std::nullopt;
  Vp8Descriptor d;
  const uint8_t b0 = p[0];
  d.non_reference = (b0 & 0x20) != 0;
  d.start_of_partition = (b0 & 0x10) != 0;
  d.partition_id = b0 & 0x07;
  size_t pos = 1;
  if (b0 & 0x80) {
    if (pos >= p.size()) return std::nullopt;
    const uint8_t x = p[pos++];
    d.has_picture_id = (x & 0x80) != 0;
    d.has_tl0_pic_idx = (x & 0x40) != 0;
    d.has_tid = (x & 0x20) != 0;
    d.has_key_idx = (x & 0x10) != 0;
    if (d.has_picture_id) {
      const auto pid = read_picture_id(p, pos);
      if (!pid) return std::nullopt;
      if (layout) layout->picture_id_at = pos;
      d.picture_id = pid->id;
      d.picture_id_15bit = pid->fifteen_bit;
      pos += pid->size;
    }
    if (d.has_tl0_pic_idx) {
      if (pos >= p.size()) return std::nullopt;
      if (layout) layout->tl0_at = pos;
      d.tl0_pic_idx = p[pos++];
    }
    if (d.has_tid || d.has_key_idx) {
      if (pos >= p.size()) return std::nullopt;
      const uint8_t t = p[pos++];
      if (d.has_tid) {
        d.tid = static_cast<uint8_t>(t >> 6);
        d.layer_sync = (t & 0x20) != 0;
      }
      if (d.has_key_idx) d.key_idx = t & 0x1F;
    }
  }
  if (pos >= p.size()) return std::nullopt;  // a descriptor with no VP8 data is malformed
  d.size = pos;
  return d;
}

}  // namespace

std::optional<Vp8Descriptor> parse_vp8_descriptor(std::span<const uint8_t> payload) {
  return parse(payload, nullptr);
}

bool vp8_is_keyframe(std::span<const uint8_t> payload) {
  auto d = parse(payload, nullptr);
  if (!d || !d->starts_frame()) return false;
  return (payload[d->size] & 0x01) == 0;
}

bool vp8_rewrite_descriptor(std::span<uint8_t> payload, std::optional<uint16_t> picture_id,
                            std::optional<uint8_t> tl0_pic_idx) {
  Vp8Layout at;
  auto d = parse(payload, &at);
  if (!d) return false;
  if (picture_id && !d->has_picture_id) return false;
  if (tl0_pic_idx && !d->has_tl0_pic_idx) return false;
  if (picture_id) write_picture_id(payload, at.picture_id_at, d->picture_id_15bit, *picture_id);
  if (tl0_pic_idx) payload[at.tl0_at] = *tl0_pic_idx;
  return true;
}

bool vp8_rewrite_descriptor(std::span<uint8_t> payload, int32_t picture_id, int16_t tl0_pic_idx) {
  std::optional<uint16_t> pid;
  std::optional<uint8_t> tl0;
  if (picture_id >= 0) pid = static_cast<uint16_t>(picture_id & 0x7FFF);
  if (tl0_pic_idx >= 0) tl0 = static_cast<uint8_t>(tl0_pic_idx);
  return vp8_rewrite_descriptor(payload, pid, tl0);
}

}  // namespace atrium::media
