#include "transport/rtmp/flv_tags.h"

#include "media/rtp/bytes.h"

namespace atrium::rtmp {

namespace bytes = media::bytes;

std::optional<VideoTag> parse_video_tag(std::span<const uint8_t> body) {
  if (body.empty()) return std::nullopt;
  VideoTag t;
  if (body[0] & 0x80) {
    // Enhanced RTMP: [IsExHeader:1][FrameType:3][PacketType:4] FourCC:4 ...
    if (body.size() < 5) return std::nullopt;
    t.enhanced = true;
    t.frame_type = (body[0] >> 4) & 0x07;
    t.packet_type = body[0] & 0x0F;
    t.fourcc = bytes::read32(body, 1);
    t.data = body.subspan(5);
    return t;
  }
  t.frame_type = body[0] >> 4;
  t.codec_id = body[0] & 0x0F;
  if (t.codec_id != kFlvCodecAvc || t.frame_type == kFlvFrameCommand) {
    t.data = body.subspan(1);
    return t;
  }
  if (body.size() < 5) return std::nullopt;
  t.packet_type = body[1];
  const uint32_t cts = bytes::read24(body, 2);
  t.composition_time = static_cast<int32_t>(cts & 0x800000 ? cts | 0xFF000000u : cts);
  t.data = body.subspan(5);
  return t;
}

std::optional<AudioTag> parse_audio_tag(std::span<const uint8_t> body) {
  if (body.empty()) return std::nullopt;
  AudioTag t;
  t.sound_format = body[0] >> 4;
  t.sound_rate = (body[0] >> 2) & 0x03;
  t.sixteen_bit = (body[0] & 0x02) != 0;
  t.stereo = (body[0] & 0x01) != 0;
  if (t.sound_format != kFlvSoundAac) {
    t.data = body.subspan(1);
    return t;
  }
  if (body.size() < 2) return std::nullopt;
  t.aac_packet_type = body[1];
  t.data = body.subspan(2);
  return t;
}

std::string_view video_codec_name(uint8_t codec_id) {
  switch (codec_id) {
    case 1:
      return "JPEG";
    case 2:
      return "Sorenson H.263";
    case 3:
      return "Screen video";
    case 4:
      return "On2 VP6";
    case 5:
      return "On2 VP6 with alpha";
    case 6:
      return "Screen video v2";
    case 7:
      return "H264";
    case 12:
      return "HEVC (non-standard codec id 12)";
    default:
      return "an unknown video codec";
  }
}

std::string_view audio_format_name(uint8_t sound_format) {
  switch (sound_format) {
    case 0:
      return "linear PCM";
    case 1:
      return "ADPCM";
    case 2:
      return "MP3";
    case 3:
      return "linear PCM";
    case 4:
    case 5:
    case 6:
      return "Nellymoser";
    case 7:
      return "G.711 A-law";
    case 8:
      return "G.711 mu-law";
    case 9:
      return "enhanced RTMP audio (FourCC)";
    case 10:
      return "AAC";
    case 11:
      return "Speex";
    case 14:
      return "MP3 8 kHz";
    case 15:
      return "device-specific sound";
    default:
      return "an unknown audio format";
  }
}

std::optional<AvcDecoderConfig> parse_avc_decoder_config(std::span<const uint8_t> d) {
  // configurationVersion(1) profile(1) compat(1) level(1) 111111 lengthSizeMinusOne(2) 111 numSPS(5)
  if (d.size() < 6 || d[0] != 1) return std::nullopt;
  AvcDecoderConfig c;
  c.profile = d[1];
  c.profile_compatibility = d[2];
  c.level = d[3];
  c.nal_length_size = static_cast<uint8_t>((d[4] & 0x03) + 1);
  if (c.nal_length_size == 3) return std::nullopt;  // not allowed by ISO 14496-15
  const size_t num_sps = d[5] & 0x1F;
  size_t pos = 6;
  auto read_sets = [&](size_t count, std::vector<std::vector<uint8_t>>& out) {
    for (size_t i = 0; i < count; ++i) {
      if (d.size() - pos < 2) return false;
      const size_t len = bytes::read16(d, pos);
      pos += 2;
      if (len == 0 || d.size() - pos < len) return false;
      out.emplace_back(d.begin() + static_cast<ptrdiff_t>(pos),
                       d.begin() + static_cast<ptrdiff_t>(pos + len));
      pos += len;
    }
    return true;
  };
  if (!read_sets(num_sps, c.sps)) return std::nullopt;
  if (d.size() - pos < 1) return std::nullopt;
  const size_t num_pps = d[pos++];
  if (!read_sets(num_pps, c.pps)) return std::nullopt;
  // High-profile extensions (chroma format, bit depth, SPS ext) may follow; nothing here needs them.
  return c;
}

std::optional<std::span<const uint8_t>> AvccNalReader::next() {
  while (!truncated_ && pos_ < data_.size()) {
    if (data_.size() - pos_ < length_size_) {
      truncated_ = true;
      return std::nullopt;
    }
    size_t len = 0;
    for (uint8_t i = 0; i < length_size_; ++i)
      len = (len << 8) | data_[pos_ + i];
    pos_ += length_size_;
    if (len > data_.size() - pos_) {
      truncated_ = true;
      return std::nullopt;
    }
    const auto nal = data_.subspan(pos_, len);
    pos_ += len;
    if (!nal.empty()) return nal;
  }
  return std::nullopt;
}

}  // namespace atrium::rtmp
