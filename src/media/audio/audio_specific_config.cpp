// AudioSpecificConfig fields, read MSB first (ISO/IEC 14496-3 1.6.2.1 and 1.6.3).
#include "media/audio/audio_specific_config.h"

#include <array>
#include <string>

namespace atrium::media::audio {
namespace {

constexpr std::array<uint32_t, 13> kSampleRates = {96000, 88200, 64000, 48000, 44100, 32000, 24000,
                                                   22050, 16000, 12000, 11025, 8000,  7350};

class BitReader {
 public:
  explicit BitReader(std::span<const uint8_t> bytes) : bytes_(bytes) {}
  // False when the bytes end first.
  bool read(unsigned bits, uint32_t& out) {
    out = 0;
    for (unsigned i = 0; i < bits; ++i) {
      if (pos_ >= bytes_.size() * 8) return false;
      const unsigned bit = (bytes_[pos_ / 8] >> (7 - pos_ % 8)) & 1u;
      out = (out << 1) | bit;
      ++pos_;
    }
    return true;
  }

 private:
  std::span<const uint8_t> bytes_;
  size_t pos_ = 0;
};

std::string unsupported(std::string_view what) {
  return "AAC: unsupported AudioSpecificConfig: " + std::string(what);
}

bool read_object_type(BitReader& r, uint8_t& out) {
  uint32_t v = 0;
  if (!r.read(5, v)) return false;
  if (v == 31) {  // escape: 32 + the next 6 bits
    uint32_t ext = 0;
    if (!r.read(6, ext)) return false;
    v = 32 + ext;
  }
  out = static_cast<uint8_t>(v);
  return true;
}

// Reads a sampling frequency index and, for 15, the 24-bit frequency. Empty string: fine.
std::string read_frequency(BitReader& r, uint8_t& index, uint32_t& rate) {
  uint32_t v = 0;
  if (!r.read(4, v)) return unsupported("it ends inside the sampling frequency");
  index = static_cast<uint8_t>(v);
  if (v == 15) {
    if (!r.read(24, rate)) return unsupported("it ends inside the explicit sampling frequency");
    if (rate < kMinAacSampleRate || rate > kMaxAacSampleRate)
      return unsupported("sampling frequency " + std::to_string(rate) + " Hz is outside " +
                         std::to_string(kMinAacSampleRate) + " to " + std::to_string(kMaxAacSampleRate) +
                         " Hz");
    return {};
  }
  if (v >= kSampleRates.size())
    return unsupported("sampling frequency index " + std::to_string(v) + " is reserved");
  rate = kSampleRates[v];
  return {};
}

bool decodable(uint8_t object_type) {
  switch (object_type) {
    case 1:   // AAC Main
    case 2:   // AAC-LC
    case 4:   // AAC-LTP
    case 5:   // SBR
    case 23:  // ER AAC-LD
    case 29:  // PS
    case 39:  // ER AAC-ELD
      return true;
    default:
      return false;
  }
}

std::string describe(uint8_t object_type) {
  const std::string_view name = aac_object_type_name(object_type);
  if (name == "object type") return "object type " + std::to_string(object_type);
  return std::string(name) + " (object type " + std::to_string(object_type) + ")";
}

}  // namespace

std::string_view aac_object_type_name(uint8_t object_type) {
  switch (object_type) {
    case 1:
      return "AAC Main";
    case 2:
      return "AAC-LC";
    case 3:
      return "AAC-SSR";
    case 4:
      return "AAC-LTP";
    case 5:
      return "HE-AAC (SBR)";
    case 23:
      return "AAC-LD";
    case 29:
      return "HE-AACv2 (PS)";
    case 39:
      return "AAC-ELD";
    case 42:
      return "USAC (xHE-AAC)";
    default:
      return "object type";
  }
}

AudioResult<AudioSpecificConfig> parse_audio_specific_config(std::span<const uint8_t> bytes) {
  using R = AudioResult<AudioSpecificConfig>;
  if (bytes.size() < 2) return R::failure(unsupported("it is shorter than 2 bytes"));
  BitReader r(bytes);
  AudioSpecificConfig c;
  if (!read_object_type(r, c.object_type)) return R::failure(unsupported("it ends inside the object type"));
  if (c.object_type == 0) return R::failure(unsupported("object type 0 is not an audio object type"));
  if (auto e = read_frequency(r, c.frequency_index, c.sample_rate); !e.empty()) return R::failure(e);
  uint32_t ch = 0;
  if (!r.read(4, ch)) return R::failure(unsupported("it ends inside the channel configuration"));
  c.channel_config = static_cast<uint8_t>(ch);
  c.core_object_type = c.object_type;
  if (c.object_type == 5 || c.object_type == 29) {
    uint8_t ext_index = 0;
    if (auto e = read_frequency(r, ext_index, c.extension_sample_rate); !e.empty()) return R::failure(e);
    if (!read_object_type(r, c.core_object_type))
      return R::failure(unsupported("it ends inside the core object type of SBR/PS"));
  }

  if (!decodable(c.object_type))
    return R::failure(unsupported(describe(c.object_type) + " is not supported"));
  if (!decodable(c.core_object_type) || c.core_object_type == 5 || c.core_object_type == 29)
    return R::failure(unsupported(describe(c.core_object_type) + " under SBR/PS is not supported"));

  switch (c.channel_config) {
    case 0:
      return R::failure(unsupported("channel configuration 0 (program config element) is not supported"));
    case 1:
    case 2:
    case 3:
    case 4:
    case 5:
    case 6:
      c.channels = c.channel_config;
      break;
    case 7:
    case 12:
    case 14:
      c.channels = 8;
      break;
    case 11:
      c.channels = 7;
      break;
    case 13:
      return R::failure(unsupported("channel configuration 13 (22.2, 24 channels) is not supported"));
    default:
      return R::failure(
          unsupported("channel configuration " + std::to_string(c.channel_config) + " is reserved"));
  }
  return c;
}

}  // namespace atrium::media::audio
