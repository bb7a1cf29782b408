// The audio level of a frame of PCM in the unit RFC 6464 carries (the ssrc-audio-level header extension):
// -dBov, 0 for the loudest (a full-scale signal) down to 127 for silence, from the frame's RMS. Tracks that
// do not arrive with the extension (RTMP after transcoding, SIP) get their level this way, so the core
// compares like with like.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <span>

namespace atrium::media::audio {

inline constexpr uint8_t kSilentLevel = 127;

// `pcm`: samples in [-1, 1], any channel layout (interleaved channels count as samples).
inline uint8_t dbov_level(std::span<const float> pcm) {
  if (pcm.empty()) return kSilentLevel;
  double sum = 0;
  for (float s : pcm)
    sum += static_cast<double>(s) * s;
  const double rms = std::sqrt(sum / static_cast<double>(pcm.size()));
  if (rms <= 1e-7) return kSilentLevel;  // below -127 dBov (or exactly zero)
  const double level = std::round(-20.0 * std::log10(rms));
  return static_cast<uint8_t>(std::clamp(level, 0.0, 127.0));
}

}  // namespace atrium::media::audio
