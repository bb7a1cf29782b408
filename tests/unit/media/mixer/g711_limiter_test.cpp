// G.711 against the standard's quantisation bounds and known code points, the 48 -> 8 kHz decimator's
// passband and stopband, and the limiter's ceiling.
#include <gtest/gtest.h>

#include <cstdio>
#include <numbers>
#include <vector>

#include "media/mixer/g711.h"
#include "media/mixer/limiter.h"
#include "media/mixer/mixer_test_support.h"

namespace atrium::media::mixer {
namespace {

using test::db;
using test::goertzel_power;
using test::rms;

TEST(G711, KnownCodePoints) {
  EXPECT_EQ(linear_to_ulaw(0), 0xFF);
  EXPECT_EQ(linear_to_ulaw(-1), 0x7F);
  EXPECT_EQ(linear_to_ulaw(32767), 0x80);
  EXPECT_EQ(linear_to_ulaw(-32768), 0x00);
  EXPECT_EQ(ulaw_to_linear(0x80), 32124);
  EXPECT_EQ(ulaw_to_linear(0xFF), 0);
  EXPECT_EQ(linear_to_alaw(0), 0xD5);
  EXPECT_EQ(linear_to_alaw(-8), 0x55);
  EXPECT_EQ(linear_to_alaw(32767), 0xAA);
  EXPECT_EQ(linear_to_alaw(-32768), 0x2A);
  EXPECT_EQ(alaw_to_linear(0xAA), 32256);
  EXPECT_EQ(alaw_to_linear(0xD5), 8);
  // Every code decodes to a value that encodes back to itself (mu-law's 0x7F and 0xFF are both zero).
  for (int c = 0; c < 256; ++c) {
    const auto u = static_cast<uint8_t>(c);
    if (u != 0x7F) {
      EXPECT_EQ(linear_to_ulaw(ulaw_to_linear(u)), u) << c;
    }
    EXPECT_EQ(linear_to_alaw(alaw_to_linear(u)), u) << c;
  }
}

TEST(G711, RoundTripErrorWithinHalfAStep) {
  int worst_u = 0, worst_a = 0;
  for (int x = -32000; x <= 32000; ++x) {
    const auto s = static_cast<int16_t>(x);
    const int eu = std::abs(ulaw_to_linear(linear_to_ulaw(s)) - x);
    const int ea = std::abs(alaw_to_linear(linear_to_alaw(s)) - x);
    // mu-law: half a step, the step being 1/16 of (|x| + 132) at most. A-law: 1/32 of |x| plus its 16-unit
    // bottom step (and the 3 bits it never sees).
    ASSERT_LE(eu, (std::abs(x) + 132) / 32 + 1) << x;
    ASSERT_LE(ea, std::abs(x) / 32 + 16) << x;
    worst_u = std::max(worst_u, eu);
    worst_a = std::max(worst_a, ea);
  }
  // A -10 dBFS tone keeps about 38 dB SNR (G.711's nominal).
  const auto tone = audio::test::sine(8000, 1, 1000, 0.316, 8000);
  std::vector<uint8_t> codes(tone.size());
  std::vector<float> back(tone.size());
  double snr[2];
  for (int law = 0; law < 2; ++law) {
    if (law == 0) {
      encode_ulaw(tone, codes);
      decode_ulaw(codes, back);
    } else {
      encode_alaw(tone, codes);
      decode_alaw(codes, back);
    }
    double sig = 0, err = 0;
    for (size_t i = 0; i < tone.size(); ++i) {
      sig += double{tone[i]} * tone[i];
      err += (double{back[i]} - tone[i]) * (double{back[i]} - tone[i]);
    }
    snr[law] = db(sig / err);
    EXPECT_GT(snr[law], 35);
  }
  std::printf("G.711: worst error mu %d, A %d (16-bit units); -10 dBFS SNR mu %.1f dB, A %.1f dB\n", worst_u,
              worst_a, snr[0], snr[1]);
}

TEST(G711, DecimatorPassesSpeechAndStopsAliases) {
  auto through = [](double freq) {
    Decimate48To8 d;
    const auto in = audio::test::sine(48000, 1, freq, 0.5, 48000);
    std::vector<float> out;
    std::vector<float> frame(160);
    for (size_t at = 0; at + 960 <= in.size(); at += 960) {
      d.process(std::span<const float>(in).subspan(at, 960), frame);
      out.insert(out.end(), frame.begin(), frame.end());
    }
    return rms(std::span<const float>(out).subspan(800)) / (0.5 / std::sqrt(2));
  };
  const double g300 = through(300), g1k = through(1000), g3k = through(3000), g5k = through(5000),
               g7k = through(7000);
  std::printf("decimator gain: 300 Hz %.2f dB, 1 kHz %.2f, 3 kHz %.2f, 5 kHz %.1f, 7 kHz %.1f\n",
              20 * std::log10(g300), 20 * std::log10(g1k), 20 * std::log10(g3k), 20 * std::log10(g5k),
              20 * std::log10(g7k));
  EXPECT_NEAR(g300, 1, 0.01);
  EXPECT_NEAR(g1k, 1, 0.01);
  EXPECT_NEAR(g3k, 1, 0.06);
  EXPECT_LT(20 * std::log10(g5k), -60);  // would fold to 3 kHz
  EXPECT_LT(20 * std::log10(g7k), -60);  // would fold to 1 kHz
}

TEST(Limiter, SumOfFullScaleTonesStaysUnderTheCeilingWithoutFlatTops) {
  Limiter lim;
  auto a = audio::test::sine(48000, 1, 300, 1.0, 48000);
  const auto b = audio::test::sine(48000, 1, 500, 1.0, 48000);
  const auto c = audio::test::sine(48000, 1, 700, 1.0, 48000);
  for (size_t i = 0; i < a.size(); ++i)
    a[i] += b[i] + c[i];
  for (size_t at = 0; at < a.size(); at += 960)
    lim.process(std::span<float>(a).subspan(at, 960));
  float peak = 0;
  size_t flat = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    peak = std::max(peak, std::fabs(a[i]));
    if (i >= 2 && std::fabs(a[i]) > 0.8f && a[i] == a[i - 1] && a[i] == a[i - 2]) ++flat;
  }
  std::printf("limiter: peak %.6f (ceiling %.6f), rms %.3f, flat runs %zu\n", peak, lim.ceiling(), rms(a),
              flat);
  EXPECT_LE(peak, lim.ceiling() * 1.000001f);
  EXPECT_GT(peak, lim.ceiling() * 0.99f);
  EXPECT_EQ(flat, 0u);
  EXPECT_GT(rms(a), 0.3);
  // Quiet audio passes untouched.
  Limiter quiet;
  auto q = audio::test::sine(48000, 1, 440, 0.5, 960);
  const auto orig = q;
  quiet.process(q);
  EXPECT_EQ(quiet.gain(), 1.0f);
  // ... only delayed by kLookahead - 1 samples.
  for (size_t i = Limiter::kLookahead - 1; i < q.size(); ++i)
    ASSERT_EQ(q[i], orig[i - (Limiter::kLookahead - 1)]);
}

TEST(Limiter, QuietLoudQuietIsContinuous) {
  // 5 frames under the ceiling (the fast path), 5 over it, then 40 under: no jump where the paths switch, the
  // ceiling holds, and once the gain is back at 1 the output is the input, delayed.
  std::vector<float> in;
  for (int f = 0; f < 50; ++f) {
    const double amp = f >= 5 && f < 10 ? 1.5 : 0.5;
    const auto s = audio::test::sine(48000, 1, 440, amp, 960, static_cast<size_t>(f) * 960);
    in.insert(in.end(), s.begin(), s.end());
  }
  auto out = in;
  Limiter lim;
  for (size_t at = 0; at < out.size(); at += 960)
    lim.process(std::span<float>(out).subspan(at, 960));
  float peak = 0;
  for (float v : out)
    peak = std::max(peak, std::fabs(v));
  const double clean = 1.5 * 2 * std::numbers::pi * 440 / 48000;
  std::printf("limiter quiet/loud/quiet: peak %.4f, max step %.4f (a 1.5 sine's %.4f)\n", peak,
              test::max_step(out), clean);
  EXPECT_LE(peak, lim.ceiling() * 1.000001f);
  EXPECT_LE(test::max_step(out), clean);
  EXPECT_EQ(lim.gain(), 1.0f);
  for (size_t i = 45 * 960; i < out.size(); ++i)
    ASSERT_EQ(out[i], in[i - (Limiter::kLookahead - 1)]) << i;
}

}  // namespace
}  // namespace atrium::media::mixer
