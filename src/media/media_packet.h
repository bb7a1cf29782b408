// The protocol-free unit of media that crosses the core: one RTP-sized packet's metadata plus a view of its
// payload. Transports parse their wire format into this; the core never sees RTP headers, so RTMP or SIP fit
// the same shape.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

namespace atrium::media {

enum class MediaKind : uint8_t { kAudio, kVideo };

// kPcmu/kPcma: G.711 (RFC 3551), what telephones speak (SIP); WebRTC never negotiates them, and the room's
// tracks are Opus (a SIP caller's voice is transcoded), so they only travel on the mix to a G.711 listener.
enum class Codec : uint8_t { kUnknown, kOpus, kVP8, kVP9, kH264, kAV1, kPcmu, kPcma };

constexpr std::string_view to_string(MediaKind k) {
  return k == MediaKind::kAudio ? "audio" : "video";
}
std::string_view to_string(Codec c);
Codec codec_from_name(std::string_view name);  // "VP8", "opus", "H264" … case-insensitive; kUnknown if none
constexpr MediaKind kind_of(Codec c) {
  return c == Codec::kOpus || c == Codec::kPcmu || c == Codec::kPcma ? MediaKind::kAudio : MediaKind::kVideo;
}
constexpr uint32_t clock_rate(Codec c) {
  if (c == Codec::kPcmu || c == Codec::kPcma) return 8000;
  return c == Codec::kOpus ? 48000 : 90000;
}

// Time in microseconds from an arbitrary origin; passed in by the runtime, never read from a clock in the
// core.
using Micros = int64_t;

struct MediaPacket {
  Codec codec = Codec::kUnknown;
  uint16_t seq = 0;        // continuous per source, as the publisher sent it (after RTX repair)
  uint32_t timestamp = 0;  // in clock_rate(codec) units
  bool marker = false;     // last packet of a frame (video) / talk-spurt start (audio)
  bool keyframe = false;   // this packet starts a frame that decodes on its own; always true for audio
  // Simulcast: the layer's index (0 = lowest resolution; each layer has its own seq/timestamp space). SVC:
  // the payload's spatial id.
  uint8_t spatial_layer = 0;
  uint8_t temporal_layer = 0;
  // dBov 0..127 (0 = loudest), -1 when absent. WebRTC fills it from RFC 6464 (ssrc-audio-level); any other
  // transport may fill it on any audio packet (e.g. computed from PCM after transcoding, as for RTMP or SIP):
  // the core's active-speaker detector takes it from whoever sets it.
  int8_t audio_level = -1;
  // VP8 (media::picture_info): the frame depends on TL0 frames only, so a receiver that had only lower
  // temporal layers can start decoding this layer here.
  bool layer_sync = false;
  int16_t tl0_pic_idx = -1;  // VP8 TL0PICIDX, -1 when absent
  int32_t picture_id = -1;   // VP8 PictureID as sent (7 or 15 bits wide), -1 when absent
  Micros arrival = 0;
  // Valid until the call that carried this packet into the core returns and its outputs are drained.
  std::span<const uint8_t> payload;
};

}  // namespace atrium::media
