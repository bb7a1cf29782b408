// The PictureID field VP8 (RFC 7741) and VP9 (RFC 9628) share: 7 bits, or 15 with the M bit set.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace atrium::media {

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
