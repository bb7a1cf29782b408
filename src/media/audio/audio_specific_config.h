// The MPEG-4 AudioSpecificConfig (ISO/IEC 14496-3, 1.6.2.1): the few bytes an FLV AAC sequence header (and an
// MP4 esds, an SDP "config=") carries to say which AAC this is. We read what the pipeline needs to set itself
// up (object type, sampling rate, channels) and refuse what the decoder or pipeline cannot take, with a
// sentence that names the field. Pure: no libav; the decoder itself gets the raw bytes as extradata.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "media/audio/audio_result.h"

namespace atrium::media::audio {

struct AudioSpecificConfig {
  uint8_t object_type = 0;      // 2 = AAC-LC, 5 = SBR (HE-AAC), 29 = PS (HE-AACv2), ... (escape 31 resolved)
  uint8_t frequency_index = 0;  // 0..12, or 15 when the frequency is written out
  uint32_t sample_rate = 0;     // Hz, of the core AAC stream
  uint8_t channel_config = 0;   // 1..7, 11, 12, 14
  uint8_t channels = 0;         // what channel_config means (7 -> 8, 11 -> 7, 12 and 14 -> 8)
  // Explicit SBR/PS signalling (object type 5 or 29): the rate after SBR and the core's object type.
  uint32_t extension_sample_rate = 0;  // 0 when not signalled
  uint8_t core_object_type = 0;        // the object type under SBR/PS, else object_type

  // What the decoder puts out: SBR doubles the rate, PS makes mono stereo (when signalled explicitly).
  uint32_t output_sample_rate() const { return extension_sample_rate ? extension_sample_rate : sample_rate; }
  uint8_t output_channels() const { return object_type == 29 && channels == 1 ? 2 : channels; }
};

// Lowest and highest sampling frequency accepted when written out explicitly (index 15).
inline constexpr uint32_t kMinAacSampleRate = 7350;
inline constexpr uint32_t kMaxAacSampleRate = 96000;

// Parses and checks the config. Errors read "AAC: unsupported AudioSpecificConfig: <what>".
AudioResult<AudioSpecificConfig> parse_audio_specific_config(std::span<const uint8_t> bytes);

// "AAC-LC", "HE-AAC (SBR)", ... or "object type N".
std::string_view aac_object_type_name(uint8_t object_type);

}  // namespace atrium::media::audio
