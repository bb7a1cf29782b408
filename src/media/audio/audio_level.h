// The RFC 6464 audio level of PCM: for transports that have PCM but no audio-level extension to read (RTMP
// after AAC -> Opus, later SIP), so their packets carry MediaPacket::audio_level like WebRTC ones.
#pragma once

#include <cmath>
#include <cstdint>
#include <span>

namespace atrium::media::audio {

// -dBov of the frame's RMS (float samples, full scale 1.0; interleaved channels are simply all samples), as
// RFC 6464 defines it: 0 = a full-scale square wave, 127 = silence or anything quieter than -127 dBov.
inline uint8_t audio_level_dbov(std::span<const float> samples) {
  if (samples.empty()) return 127;
  double sum = 0;
  for (float s : samples)
    sum += static_cast<double>(s) * static_cast<double>(s);
  const double rms = std::sqrt(sum / static_cast<double>(samples.size()));
  if (rms <= 1e-7) return 127;  // below -140 dBov
  const double dbov = -20.0 * std::log10(rms);
  if (dbov <= 0) return 0;
  if (dbov >= 127) return 127;
  return static_cast<uint8_t>(std::lround(dbov));
}

}  // namespace atrium::media::audio
