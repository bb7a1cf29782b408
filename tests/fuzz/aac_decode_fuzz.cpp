// Feeds arbitrary AAC to the RTMP audio path (AacToOpus: libavcodec's AAC decoder, libswresample, libopus)
// and arbitrary bytes to the AudioSpecificConfig parser.
//
// Input: byte 0 picks the sequence header: < 0x80 one of kConfigs (index mod their count), else the next
// (byte 0 & 0x7F) bytes are the AudioSpecificConfig itself. Then frames, each
// [length: 2 bytes big-endian, mod 4096][timestamp step: 1 byte, signed, x 8 ms][frame bytes].
// The seeds (tests/fuzz/seeds/aac_decode_fuzz) are real AAC-LC frames from `ffmpeg -c:a aac -f adts` with the
// ADTS headers taken off, in this layout.
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "media/audio/aac_to_opus.h"
#include "media/audio/audio_specific_config.h"

using namespace atrium::media::audio;

namespace {

const std::array<std::vector<uint8_t>, 6> kConfigs = {{
    {0x12, 0x10},        // AAC-LC 44.1 kHz stereo
    {0x11, 0x88},        // AAC-LC 48 kHz mono
    {0x11, 0xB0},        // AAC-LC 48 kHz 5.1
    {0x2B, 0x11, 0x88},  // HE-AAC (explicit SBR) 24 -> 48 kHz stereo
    {0xEB, 0x09, 0x88},  // HE-AACv2 (PS) 24 -> 48 kHz, mono core
    {0x13, 0x88},        // AAC-LC 22.05 kHz mono
}};

volatile uint64_t g_sink = 0;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::span<const uint8_t> in(data, size);
  if (in.empty()) return 0;
  if (auto c = parse_audio_specific_config(in.subspan(1))) {
    if (c->channels == 0 || c->channels > 8 || c->sample_rate < kMinAacSampleRate ||
        c->sample_rate > kMaxAacSampleRate)
      __builtin_trap();
  }

  size_t at = 1;
  std::span<const uint8_t> asc;
  if (in[0] < 0x80) {
    asc = kConfigs[in[0] % kConfigs.size()];
  } else {
    const size_t n = std::min<size_t>(in[0] & 0x7F, in.size() - at);
    asc = in.subspan(at, n);
    at += n;
  }

  static AacToOpus pipeline;  // reused across inputs, as the runtime reuses it across sequence headers
  if (!pipeline.configure(asc)) return 0;
  int64_t ts = 1000;
  while (at + 3 <= in.size()) {
    const size_t len = ((size_t{in[at]} << 8) | in[at + 1]) % 4096;
    ts += int64_t{static_cast<int8_t>(in[at + 2])} * 8;
    at += 3;
    const auto frame = in.subspan(at, std::min(len, in.size() - at));
    at += frame.size();
    (void)pipeline.push(frame, ts);
    if (pipeline.queued() > AacToOpus::kMaxQueuedPackets) __builtin_trap();
    while (auto p = pipeline.pop()) {
      if (p->data.empty() || p->data.size() > OpusEncoder::kMaxPacketBytes) __builtin_trap();
      g_sink = g_sink + p->rtp_timestamp + p->data[0];
    }
  }
  const auto& c = pipeline.counters();
  if (c.decode_errors > c.frames_in) __builtin_trap();
  g_sink = g_sink + c.packets_out;
  return 0;
}
