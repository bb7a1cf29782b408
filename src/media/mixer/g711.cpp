// G.711 from the standard's segment rules (ITU-T G.711 tables 1a and 2a), and the 48 -> 8 kHz decimator.
#include "media/mixer/g711.h"

#include "media/mixer/dsp_loop.h"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace atrium::media::mixer {
namespace {

// mu-law works on 14-bit magnitudes offset by 33 (in 16-bit units: 132 = 0x84); the largest encodable
// magnitude leaves the offset room below 32767.
constexpr int kUlawBias = 0x84;
constexpr int kUlawClip = 32635;

// Index of the highest set bit (v > 0).
int top_bit(int v) {
  int n = 0;
  while (v >>= 1)
    ++n;
  return n;
}

std::array<int16_t, 256> make_table(int16_t (*decode)(uint8_t)) {
  std::array<int16_t, 256> t{};
  for (int i = 0; i < 256; ++i)
    t[static_cast<size_t>(i)] = decode(static_cast<uint8_t>(i));
  return t;
}

const std::array<int16_t, 256>& ulaw_table() {
  static const std::array<int16_t, 256> t = make_table(ulaw_to_linear);
  return t;
}
const std::array<int16_t, 256>& alaw_table() {
  static const std::array<int16_t, 256> t = make_table(alaw_to_linear);
  return t;
}

struct Taps {
  std::array<float, Decimate48To8::kTaps> h{};
  Taps() {
    constexpr double kPi = std::numbers::pi;
    const double fc = Decimate48To8::kCutoffHz / 48000.0;  // cycles per sample
    const double mid = (Decimate48To8::kTaps - 1) / 2.0;
    double sum = 0;
    std::array<double, Decimate48To8::kTaps> d{};
    for (size_t i = 0; i < Decimate48To8::kTaps; ++i) {
      const double n = static_cast<double>(i) - mid;
      const double sinc = n == 0 ? 2 * fc : std::sin(2 * kPi * fc * n) / (kPi * n);
      const double w = 0.42 - 0.5 * std::cos(2 * kPi * static_cast<double>(i) / (Decimate48To8::kTaps - 1)) +
                       0.08 * std::cos(4 * kPi * static_cast<double>(i) / (Decimate48To8::kTaps - 1));
      d[i] = sinc * w;
      sum += d[i];
    }
    for (size_t i = 0; i < Decimate48To8::kTaps; ++i)
      h[i] = static_cast<float>(d[i] / sum);  // unity gain at DC
  }
};

const Taps& taps() {
  static const Taps t;
  return t;
}

}  // namespace

uint8_t linear_to_ulaw(int16_t pcm) {
  int v = pcm;
  const int sign = v < 0 ? 0x80 : 0x00;
  if (v < 0) v = -v;
  v = std::min(v, kUlawClip) + kUlawBias;  // 0x84..0x7FFF: the top bit is bit 7..14
  const int exponent = top_bit(v) - 7;
  const int mantissa = (v >> (exponent + 3)) & 0x0F;
  return static_cast<uint8_t>(~(sign | (exponent << 4) | mantissa));
}

int16_t ulaw_to_linear(uint8_t code) {
  const int c = static_cast<uint8_t>(~code);
  const int exponent = (c >> 4) & 0x07;
  const int mantissa = c & 0x0F;
  const int v = (((mantissa << 3) + kUlawBias) << exponent) - kUlawBias;
  return static_cast<int16_t>((c & 0x80) ? -v : v);
}

uint8_t linear_to_alaw(int16_t pcm) {
  // A-law codes the 13-bit magnitude; negative values are coded as -x - 1 (one's complement in 13 bits),
  // which keeps -32768 in range. Segment 0 and 1 share the step size (that is A-law's linear bottom).
  int v = pcm >> 3;
  int sign = 0x80;
  if (v < 0) {
    sign = 0x00;
    v = -v - 1;
  }
  int code;
  if (v < 32) {
    code = v >> 1;  // segment 0: 16 steps of 2
  } else {
    const int segment = top_bit(v) - 4;  // 1..7
    code = (segment << 4) | ((v >> segment) & 0x0F);
  }
  return static_cast<uint8_t>((sign | code) ^ 0x55);
}

int16_t alaw_to_linear(uint8_t code) {
  const int c = code ^ 0x55;
  const int segment = (c >> 4) & 0x07;
  const int mantissa = c & 0x0F;
  // The decision value's midpoint, in 13-bit units, then scaled to 16 bits.
  int v = segment == 0 ? (mantissa << 1) + 1 : ((mantissa << 1) + 33) << (segment - 1);
  v <<= 3;
  return static_cast<int16_t>((c & 0x80) ? v : -v);
}

int16_t float_to_pcm16(float x) {
  const float s = std::nearbyint(x * 32768.0f);
  if (!(s > -32768.0f)) return -32768;  // also NaN
  if (s > 32767.0f) return 32767;
  return static_cast<int16_t>(s);
}

void encode_ulaw(std::span<const float> in, std::span<uint8_t> out) {
  for (size_t i = 0; i < in.size(); ++i)
    out[i] = linear_to_ulaw(float_to_pcm16(in[i]));
}
void encode_alaw(std::span<const float> in, std::span<uint8_t> out) {
  for (size_t i = 0; i < in.size(); ++i)
    out[i] = linear_to_alaw(float_to_pcm16(in[i]));
}
void decode_ulaw(std::span<const uint8_t> in, std::span<float> out) {
  const auto& t = ulaw_table();
  for (size_t i = 0; i < in.size(); ++i)
    out[i] = static_cast<float>(t[in[i]]) / 32768.0f;
}
void decode_alaw(std::span<const uint8_t> in, std::span<float> out) {
  const auto& t = alaw_table();
  for (size_t i = 0; i < in.size(); ++i)
    out[i] = static_cast<float>(t[in[i]]) / 32768.0f;
}

Decimate48To8::Decimate48To8() {
  (void)taps();  // build the shared filter now, not on the first frame
}

ATRIUM_DSP_LOOP void Decimate48To8::process(std::span<const float> in, std::span<float> out) {
  constexpr size_t kHist = kTaps - 1;
  std::copy(in.begin(), in.begin() + kInSamples, history_.begin() + kHist);
  const auto& h = taps().h;
  constexpr size_t kMid = (kTaps - 1) / 2;  // the filter is symmetric: h[k] == h[kTaps - 1 - k]
  for (size_t o = 0; o < kOutSamples; ++o) {
    // Output o is the filter ending at input sample o * kFactor + 5 of this frame (the newest of its six):
    // x[kTaps - 1] is that sample, x[0] the oldest under the filter.
    const float* x = history_.data() + o * kFactor + kFactor - 1;
    // Pairs of samples sharing a tap, in four independent sums (so the adds pipeline and vectorise).
    std::array<float, 4> acc{};
    size_t k = 0;
    for (; k + 4 <= kMid; k += 4)
      for (size_t j = 0; j < 4; ++j)
        acc[j] += h[k + j] * (x[k + j] + x[kTaps - 1 - k - j]);
    float sum = (acc[0] + acc[1]) + (acc[2] + acc[3]);
    for (; k < kMid; ++k)
      sum += h[k] * (x[k] + x[kTaps - 1 - k]);
    out[o] = sum + h[kMid] * x[kMid];
  }
  std::copy(history_.end() - kHist, history_.end(), history_.begin());
}

}  // namespace atrium::media::mixer
