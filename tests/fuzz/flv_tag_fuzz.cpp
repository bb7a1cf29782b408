// FLV audio/video tag bodies, AVCDecoderConfigurationRecord and AVCC walking, and the H264 packetizer over
// whatever the tag carries: every payload within budget, the marker on the last packet only.
#include <cstddef>
#include <cstdint>
#include <span>

#include "media/codec/h264.h"
#include "transport/rtmp/flv_tags.h"
#include "transport/rtmp/h264_packetizer.h"

using namespace atrium;
using namespace atrium::rtmp;

namespace {

volatile uint64_t g_sink = 0;

void check(H264Packetizer& p, std::span<const uint8_t> avcc, uint8_t length_size) {
  const size_t n = p.packetize(avcc, length_size, 1234);
  const auto packets = p.packets();
  if (n != packets.size()) __builtin_trap();
  for (size_t i = 0; i < packets.size(); ++i) {
    if (packets[i].payload.empty() || packets[i].payload.size() > p.max_payload()) __builtin_trap();
    if (packets[i].marker != (i + 1 == packets.size())) __builtin_trap();
    if (packets[i].keyframe && i != 0) __builtin_trap();
    // Every packet is one the core can read.
    if (!media::inspect_h264(packets[i].payload)) __builtin_trap();
  }
  // With parameter sets, an IDR unit starts with them (the STAP-A): the core must see a key frame there.
  if (!packets.empty() && packets[0].keyframe && p.has_parameter_sets() &&
      !media::h264_is_keyframe(packets[0].payload))
    __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::span<const uint8_t> in(data, size);
  H264Packetizer small(64), normal;
  if (auto v = parse_video_tag(in)) {
    g_sink = g_sink + v->frame_type + v->codec_id + v->fourcc + static_cast<uint32_t>(v->composition_time);
    if (v->data.data() < data || v->data.data() + v->data.size() > data + size) __builtin_trap();
    if (auto c = parse_avc_decoder_config(v->data)) {
      if (c->nal_length_size != 1 && c->nal_length_size != 2 && c->nal_length_size != 4) __builtin_trap();
      small.set_parameter_sets(c->sps, c->pps);
      normal.set_parameter_sets(c->sps, c->pps);
    }
    for (uint8_t len : {uint8_t{1}, uint8_t{2}, uint8_t{4}}) {
      check(small, v->data, len);
      check(normal, v->data, len);
    }
  }
  if (auto a = parse_audio_tag(in)) g_sink = g_sink + a->sound_format + a->aac_packet_type + a->data.size();
  if (auto c = parse_avc_decoder_config(in)) {
    small.set_parameter_sets(c->sps, c->pps);
    check(small, in, c->nal_length_size);
  }
  AvccNalReader r(in, 2);
  while (auto nal = r.next())
    if (nal->empty()) __builtin_trap();
  return 0;
}
