// ITU-T G.711 (11/88) companding, both laws, one byte per sample at 8 kHz: mu-law (PCMU, RTP payload type 0,
// North America and Japan) and A-law (PCMA, payload type 8, the rest of the world), RFC 3551 4.5.14.
//
// The encoders take 16-bit linear PCM (mu-law uses the top 14 bits, A-law the top 13, as the standard says)
// and write the transmitted octet: mu-law with all bits inverted, A-law with the even bits inverted (XOR
// 0x55), so the line carries no long runs of zeros. Decoding is a 256-entry table built once. The float
// helpers take samples nominally -1..1 (clamped, rounded to 16 bits) and give back -1..1, the mixer's format.
//
// Also here: Decimate48To8, the mixer's 48 kHz -> 8 kHz step for G.711 listeners (see the class comment).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

namespace atrium::media::mixer {

uint8_t linear_to_ulaw(int16_t pcm);
int16_t ulaw_to_linear(uint8_t code);
uint8_t linear_to_alaw(int16_t pcm);
int16_t alaw_to_linear(uint8_t code);

// Float <-> 16-bit: x * 32768, rounded, clamped to -32768..32767.
int16_t float_to_pcm16(float x);

// out.size() must be >= in.size(); writes in.size() codes / samples.
void encode_ulaw(std::span<const float> in, std::span<uint8_t> out);
void encode_alaw(std::span<const float> in, std::span<uint8_t> out);
void decode_ulaw(std::span<const uint8_t> in, std::span<float> out);
void decode_alaw(std::span<const uint8_t> in, std::span<float> out);

// 48 kHz -> 8 kHz for one stream, 20 ms at a time (960 samples in, 160 out): a linear-phase FIR low-pass
// (windowed sinc, Blackman window, kTaps taps, cut-off kCutoffHz) evaluated only at every 6th sample. The
// passband is flat to about 3.2 kHz (telephone speech is 300-3400 Hz); by 4.2 kHz it is down more than 70 dB,
// so what little folds back lands above 3.8 kHz. Chosen over libswresample (AudioResampler) because the ratio
// is a fixed integer, the cost is known (kTaps x 160 multiply-adds per frame, about 20 us), the output is
// exactly 160 samples per frame from the first one (no filter-delay shortfall to pad), and it allocates
// nothing. The filter delays the audio by (kTaps - 1) / 2 input samples (2.5 ms).
class Decimate48To8 {
 public:
  static constexpr size_t kFactor = 6;
  static constexpr size_t kInSamples = 960;
  static constexpr size_t kOutSamples = kInSamples / kFactor;
  static constexpr size_t kTaps = 241;
  static constexpr double kCutoffHz = 3700;

  Decimate48To8();
  // in: kInSamples, out: kOutSamples.
  void process(std::span<const float> in, std::span<float> out);
  void reset() { history_.fill(0); }

 private:
  // The last kTaps - 1 input samples, then the new frame.
  std::array<float, kTaps - 1 + kInSamples> history_{};
};

}  // namespace atrium::media::mixer
