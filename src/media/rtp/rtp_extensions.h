// Values of the RTP header extensions WebRTC negotiates. Readers take the value span from
// RtpPacket::find_extension() and reject wrong sizes; writers fill a caller buffer and return the bytes
// written (0 when it does not fit).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "media/media_packet.h"

namespace atrium::media {

inline constexpr std::string_view kTransportWideCcUri =
    "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01";
inline constexpr std::string_view kAudioLevelUri = "urn:ietf:params:rtp-hdrext:ssrc-audio-level";
inline constexpr std::string_view kMidUri = "urn:ietf:params:rtp-hdrext:sdes:mid";
inline constexpr std::string_view kRidUri = "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id";
inline constexpr std::string_view kRepairedRidUri = "urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id";

// Transport-wide sequence number: 16 bits.
std::optional<uint16_t> read_transport_seq(std::span<const uint8_t> value);  // exactly 2 bytes
size_t write_transport_seq(std::span<uint8_t> out, uint16_t seq);            // 2

// Client-to-mixer audio level (RFC 6464): V bit and the level in -dBov, 0 (loudest) .. 127 (silence).
struct AudioLevel {
  bool voice = false;
  uint8_t level = 127;
};
std::optional<AudioLevel> read_audio_level(
    std::span<const uint8_t> value);                             // 1 byte (a padded 1..4 also accepted)
size_t write_audio_level(std::span<uint8_t> out, AudioLevel a);  // 1; level is clamped to 127

// MID (RFC 8843) and RID / repaired RID (RFC 8852): short strings of printable ASCII. Trailing NUL bytes some
// senders add are dropped; an empty result or any other byte outside 0x21..0x7E is rejected.
std::optional<std::string_view> read_sdes_string(std::span<const uint8_t> value);
size_t write_sdes_string(std::span<uint8_t> out, std::string_view s);  // 0 if empty or over 255 bytes

}  // namespace atrium::media
