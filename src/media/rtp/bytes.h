// Big-endian reads and writes on byte spans. Callers check sizes first; these only index.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace atrium::media::bytes {

constexpr uint16_t read16(std::span<const uint8_t> b, size_t at) {
  return static_cast<uint16_t>((b[at] << 8) | b[at + 1]);
}
constexpr uint32_t read24(std::span<const uint8_t> b, size_t at) {
  return (uint32_t{b[at]} << 16) | (uint32_t{b[at + 1]} << 8) | uint32_t{b[at + 2]};
}
constexpr uint32_t read32(std::span<const uint8_t> b, size_t at) {
  return (uint32_t{b[at]} << 24) | (uint32_t{b[at + 1]} << 16) | (uint32_t{b[at + 2]} << 8) |
         uint32_t{b[at + 3]};
}
constexpr uint64_t read64(std::span<const uint8_t> b, size_t at) {
  return (uint64_t{read32(b, at)} << 32) | read32(b, at + 4);
}

constexpr void write16(std::span<uint8_t> b, size_t at, uint16_t v) {
  b[at] = static_cast<uint8_t>(v >> 8);
  b[at + 1] = static_cast<uint8_t>(v);
}
constexpr void write24(std::span<uint8_t> b, size_t at, uint32_t v) {
  b[at] = static_cast<uint8_t>(v >> 16);
  b[at + 1] = static_cast<uint8_t>(v >> 8);
  b[at + 2] = static_cast<uint8_t>(v);
}
constexpr void write32(std::span<uint8_t> b, size_t at, uint32_t v) {
  b[at] = static_cast<uint8_t>(v >> 24);
  b[at + 1] = static_cast<uint8_t>(v >> 16);
  b[at + 2] = static_cast<uint8_t>(v >> 8);
  b[at + 3] = static_cast<uint8_t>(v);
}
constexpr void write64(std::span<uint8_t> b, size_t at, uint64_t v) {
  write32(b, at, static_cast<uint32_t>(v >> 32));
  write32(b, at + 4, static_cast<uint32_t>(v));
}

}  // namespace atrium::media::bytes
