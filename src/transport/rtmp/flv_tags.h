// FLV tag bodies as RTMP audio (8) and video (9) messages carry them (FLV spec v10, annex E.4.2-E.4.3), and
// the AVC pieces inside (ISO 14496-15: AVCDecoderConfigurationRecord, length-prefixed NAL units).
//
// Video: codec id 7 (AVC) is understood; AVCPacketType 0 = decoder configuration, 1 = NAL units with the
// 24-bit signed composition time offset, 2 = end of sequence. Enhanced RTMP (the IsExHeader bit, a FourCC)
// is recognised and reported as such, not decoded. Audio: sound format 10 (AAC), AACPacketType 0 =
// AudioSpecificConfig, 1 = raw frame. Everything else parses to its codec id/sound format so the caller can
// say what it was. Views only: the spans point into the tag body.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

namespace atrium::rtmp {

inline constexpr uint8_t kFlvCodecAvc = 7;
inline constexpr uint8_t kFlvSoundAac = 10;
inline constexpr uint8_t kFlvFrameKey = 1;
inline constexpr uint8_t kFlvFrameInter = 2;
inline constexpr uint8_t kFlvFrameCommand = 5;  // video info/command frame: no picture

enum class AvcPacketType : uint8_t { kSequenceHeader = 0, kNalus = 1, kEndOfSequence = 2 };

struct VideoTag {
  uint8_t frame_type = 0;         // 1 key, 2 inter, 3 disposable inter, 4 generated key, 5 info/command
  uint8_t codec_id = 0;           // legacy header: 7 = AVC; 0 when enhanced
  bool enhanced = false;          // enhanced RTMP: IsExHeader set, `fourcc` names the codec
  uint32_t fourcc = 0;            // enhanced only, e.g. 'hvc1', 'av01', 'vp09', 'avc1'
  uint8_t packet_type = 0;        // AVC: AvcPacketType; enhanced: the PacketType nibble
  int32_t composition_time = 0;   // AVC NAL units: ms, signed 24-bit
  std::span<const uint8_t> data;  // after the headers
};

struct AudioTag {
  uint8_t sound_format = 0;  // 10 = AAC, 2 = MP3, ...
  uint8_t sound_rate = 0;    // 0-3: 5.5/11/22/44 kHz (AAC: always 3; the config says the real rate)
  bool sixteen_bit = false;
  bool stereo = false;
  uint8_t aac_packet_type = 0;  // AAC: 0 AudioSpecificConfig, 1 raw frame
  std::span<const uint8_t> data;
};

// nullopt: too short for its headers (error() below says which).
std::optional<VideoTag> parse_video_tag(std::span<const uint8_t> body);
std::optional<AudioTag> parse_audio_tag(std::span<const uint8_t> body);

// "H264", "VP6", "Sorenson H.263", ..., for messages; "codec 9" style for unknown ids.
std::string_view video_codec_name(uint8_t codec_id);
std::string_view audio_format_name(uint8_t sound_format);

// AVCDecoderConfigurationRecord (ISO 14496-15 5.2.4.1). The parameter sets are copied (they outlive the tag).
struct AvcDecoderConfig {
  uint8_t profile = 0;
  uint8_t profile_compatibility = 0;
  uint8_t level = 0;
  uint8_t nal_length_size = 4;  // 1, 2 or 4
  std::vector<std::vector<uint8_t>> sps;
  std::vector<std::vector<uint8_t>> pps;
};
std::optional<AvcDecoderConfig> parse_avc_decoder_config(std::span<const uint8_t> data);

// Walks length-prefixed (AVCC) NAL units. A length running past the end stops the walk with truncated().
class AvccNalReader {
 public:
  AvccNalReader(std::span<const uint8_t> data, uint8_t nal_length_size)
      : data_(data), length_size_(nal_length_size) {}
  // The next NAL unit (header byte first); nullopt at the end or when truncated. Empty units are skipped.
  std::optional<std::span<const uint8_t>> next();
  bool truncated() const { return truncated_; }

 private:
  std::span<const uint8_t> data_;
  size_t pos_ = 0;
  uint8_t length_size_;
  bool truncated_ = false;
};

}  // namespace atrium::rtmp
