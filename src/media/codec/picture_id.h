// The PictureID field VP8 (RFC 7741) and VP9 (RFC 9628) share: 7 bits, or 15 with the M bit set.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

namespace atrium::media {

struct PictureId {
  uint16_t id = 0;
  bool fifteen_bit = false;
  size_t size = 1;  // bytes the field takes
};

// Reads the PictureID at `at`; nullopt when the payload ends inside it.
inline std::optional<PictureId> read_picture_id(std::span<const uint8_t> payload, size_t at) {
  if (at >= payload.size()) return std::nullopt;
  if ((payload[at] & 0x80) == 0) return PictureId{static_cast<uint16_t>(payload[at] & 0x7F), false, 1};
  if (at + 1 >= payload.size()) return std::nullopt;
  return PictureId{static_cast<uint16_t>(((payload[at] & 0x7F) << 8) | payload[at + 1]), true, 2};
}

// Writes `id` over an existing PictureID at `at`, keeping its width. The caller checked the bounds when
// parsing.
inline void write_picture_id(std::span<uint8_t> payload, size_t at, bool fifteen_bit, uint16_t id) {
  if (fifteen_bit) {
    payload[at] = static_cast<uint8_t>(0x80 | ((id >> 8) & 0x7F));
    payload[at + 1] = static_cast<uint8_t>(id);
  } else {
    payload[at] = static_cast<uint8_t>(id & 0x7F);
  }
}

}  // namespace atrium::media
