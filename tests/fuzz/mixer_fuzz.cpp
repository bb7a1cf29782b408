// Drives AudioMixer with arbitrary operations: inputs and listeners coming and going, packets with any
// sequence number, timestamp and payload (real Opus packets or garbage), ticks at any time. Checks what a
// listener could rely on: G.711 frames are 160 bytes, Opus frames fit kMaxPacketBytes, each listener's
// sequence numbers go up by one per frame, levels stay within 0..127.
//
// Input: byte 0 configures (K = 1 + b % 8, jitter target depth 1 + (b >> 3) % 4, sharing on when b & 0x80).
// Then operations, each an opcode byte (low 3 bits: the operation; high 5 bits: an argument, whose low 3 bits
// are the input or listener id, so at most 8 of each and runs stay fast) and the operation's bytes:
//   0 add_input(id)
//   1 remove_input(id)
//   2 add_listener(id): [codec % 3][own input, if < 8]
//   3 remove_listener(id)
//   4 push garbage: [seq 2][ts step 1, signed, x 120][len 1][len bytes]
//   5 push a real Opus packet: [seq 2][packet index 1]
//   6 tick(now + 20 ms)
//   7 tick(now + argument x 7 ms)
// Seeds (tests/fuzz/seeds/mixer_fuzz): a steady room (3 inputs, 4 listeners, every codec), one with
// reordered, duplicated and late packets, one with inputs and listeners coming and going, a late tick and
// garbage.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <map>
#include <numbers>
#include <span>
#include <vector>

#include "media/audio/opus_encoder.h"
#include "media/mixer/audio_mixer.h"

using namespace atrium::media;
using namespace atrium::media::mixer;

namespace {

// 16 consecutive 20 ms packets of a 440 Hz tone, made once.
const std::vector<std::vector<uint8_t>>& real_packets() {
  static const std::vector<std::vector<uint8_t>> packets = [] {
    std::vector<std::vector<uint8_t>> out;
    audio::OpusEncoder enc;
    if (!enc.configure(1)) __builtin_trap();
    std::vector<float> pcm(960);
    std::vector<uint8_t> buf(audio::OpusEncoder::kMaxPacketBytes);
    for (size_t p = 0; p < 16; ++p) {
      for (size_t i = 0; i < 960; ++i)
        pcm[i] = static_cast<float>(
            0.4 * std::sin(2 * std::numbers::pi * 440 * static_cast<double>(p * 960 + i) / 48000));
      auto n = enc.encode(pcm, buf);
      if (!n) __builtin_trap();
      out.emplace_back(buf.begin(), buf.begin() + static_cast<long>(*n));
    }
    return out;
  }();
  return packets;
}

struct Reader {
  std::span<const uint8_t> in;
  size_t at = 0;
  bool more() const { return at < in.size(); }
  uint8_t byte() { return at < in.size() ? in[at++] : 0; }
  uint16_t u16() { return static_cast<uint16_t>((byte() << 8) | byte()); }
  std::span<const uint8_t> bytes(size_t n) {
    n = std::min(n, in.size() - at);
    auto s = in.subspan(at, n);
    at += n;
    return s;
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Reader r{std::span<const uint8_t>(data, size)};
  if (!r.more()) return 0;
  const uint8_t cfg = r.byte();
  MixerConfig config;
  config.max_loudest = 1 + cfg % 8;
  config.jitter.target_depth = 1 + (cfg >> 3) % 4;
  config.jitter.max_depth = config.jitter.target_depth + 2;
  config.share_encoders = (cfg & 0x80) != 0;
  config.opus_complexity = 0;  // the fuzzer's time goes to our code, not libopus's analysis
  AudioMixer mixer(config);

  Micros now = 0;
  uint32_t ts = 0;
  std::map<MixListenerId, uint16_t> next_seq;  // the seq each listener's next frame must have
  auto drain = [&] {
    while (auto f = mixer.poll()) {
      if (f->payload.empty()) __builtin_trap();
      if (f->codec != MixCodec::kOpus && f->payload.size() != AudioMixer::kG711FrameBytes) __builtin_trap();
      if (f->payload.size() > audio::OpusEncoder::kMaxPacketBytes) __builtin_trap();
      auto it = next_seq.find(f->listener);
      if (it == next_seq.end()) __builtin_trap();
      if (f->seq != it->second) __builtin_trap();
      it->second = static_cast<uint16_t>(f->seq + 1);
    }
    for (MixInputId i = 0; i < 8; ++i)
      if (auto l = mixer.level(i); l && *l > 127) __builtin_trap();
    if (mixer.mixed_inputs().size() > config.max_loudest) __builtin_trap();
  };
  for (int ops = 0; r.more() && ops < 1500; ++ops) {
    const uint8_t op = r.byte();
    const uint32_t arg = op >> 3;
    const uint32_t id = arg & 7;
    switch (op & 7) {
      case 0:
        (void)mixer.add_input(id);
        break;
      case 1:
        mixer.remove_input(id);
        break;
      case 2: {
        const auto codec = static_cast<MixCodec>(r.byte() % 3);
        const uint8_t own = r.byte();
        std::optional<MixInputId> own_input;
        if (own < 8) own_input = own;
        if (mixer.add_listener(id, codec, own_input)) next_seq[id] = 0;
        break;
      }
      case 3:
        mixer.remove_listener(id);
        next_seq.erase(id);
        break;
      case 4: {
        const uint16_t seq = r.u16();
        ts += static_cast<uint32_t>(static_cast<int8_t>(r.byte())) * 120u;
        const size_t len = r.byte();
        mixer.push(id, seq, ts, r.bytes(len), now);
        break;
      }
      case 5: {
        const uint16_t seq = r.u16();
        const auto& p = real_packets()[r.byte() % real_packets().size()];
        mixer.push(id, seq, static_cast<uint32_t>(seq) * 960u, p, now);
        break;
      }
      case 6:
        now += AudioMixer::kFrameDuration;
        mixer.tick(now);
        drain();
        break;
      case 7:
        now += static_cast<Micros>(arg) * 7000;
        mixer.tick(now);
        drain();
        break;
    }
  }
  now += AudioMixer::kFrameDuration;
  mixer.tick(now);
  drain();
  const auto c = mixer.counters();
  // Each live input plays one frame per mixed frame (ids are 0..7, and as many may be fading out).
  if (c.jitter.decoded + c.jitter.concealed > c.frames_mixed * 16) __builtin_trap();
  return 0;
}
