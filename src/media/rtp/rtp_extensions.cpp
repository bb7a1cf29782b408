#include "media/rtp/rtp_extensions.h"

#include <cstring>

#include "media/rtp/bytes.h"

namespace atrium::media {

std::optional<uint16_t> read_transport_seq(std::span<const uint8_t> value) {
  if (value.size() != 2) return std::nullopt;
  return bytes::read16(value, 0);
}

size_t write_transport_seq(std::span<uint8_t> out, uint16_t seq) {
  if (out.size() < 2) return 0;
  bytes::write16(out, 0, seq);
  return 2;
}

std::optional<AudioLevel> read_audio_level(std::span<const uint8_t> value) {
  if (value.empty() || value.size() > 4) return std::nullopt;
  return AudioLevel{(value[0] & 0x80) != 0, static_cast<uint8_t>(value[0] & 0x7F)};
}

size_t write_audio_level(std::span<uint8_t> out, AudioLevel a) {
  if (out.empty()) return 0;
  const uint8_t level = a.level > 127 ? 127 : a.level;
  out[0] = static_cast<uint8_t>((a.voice ? 0x80 : 0) | level);
  return 1;
}

std::optional<std::string_view> read_sdes_string(std::span<const uint8_t> value) {
  size_t n = value.size();
  while (n > 0 && value[n - 1] == 0)
    --n;
  if (n == 0) return std::nullopt;
  for (size_t i = 0; i < n; ++i) {
    if (value[i] < 0x21 || value[i] > 0x7E) return std::nullopt;
  }
  return std::string_view(reinterpret_cast<const char*>(value.data()), n);
}

size_t write_sdes_string(std::span<uint8_t> out, std::string_view s) {
  if (s.empty() || s.size() > 255 || out.size() < s.size()) return 0;
  std::memcpy(out.data(), s.data(), s.size());
  return s.size();
}

}  // namespace atrium::media
