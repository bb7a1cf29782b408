// AudioMixer end to end: real Opus sources in, every listener's stream decoded, and what it would hear
// checked (tones present or absent, level, clicks, clipping), with a fake 20 ms clock.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>

#include "media/mixer/mixer_test_support.h"

namespace atrium::media::mixer {
namespace {

using test::db;
using test::goertzel_power;
using test::Harness;
using test::max_step;
using test::rms;

constexpr double kRate = 48000;

// The largest sample-to-sample step over [from, to) of x.
double max_step_in(std::span<const float> x, size_t from, size_t to) {
  to = std::min(to, x.size());
  return from + 1 < to ? max_step(x.subspan(from, to - from)) : 0;
}

TEST(AudioMixer, TwoInputsAreBothHeard) {
  Harness h;
  h.add_source(1, 440, 0.3);
  h.add_source(2, 1000, 0.3);
  h.add_listener(10, MixCodec::kOpus);
  h.run(100);
  const auto out = h.tail(10, 1.0);
  const double p440 = goertzel_power(out, kRate, 440), p1000 = goertzel_power(out, kRate, 1000);
  const double floor = goertzel_power(out, kRate, 700);
  std::printf("two inputs: 440 Hz %.1f dB, 1000 Hz %.1f dB over 700 Hz; rms %.3f\n", db(p440 / floor),
              db(p1000 / floor), rms(out));
  EXPECT_GT(db(p440 / floor), 40);
  EXPECT_GT(db(p1000 / floor), 40);
  EXPECT_NEAR(db(p440 / p1000), 0, 1.5);
  EXPECT_NEAR(rms(out), 0.3, 0.03);  // two uncorrelated 0.3 sines: sqrt(2 x 0.045)
  EXPECT_EQ(h.mixer.counters().jitter.concealed, 0u);
  EXPECT_EQ(h.mixer.counters().frames_mixed, 100u);
  EXPECT_EQ(h.outputs[10].sizes.size(), 100u);
}

TEST(AudioMixer, MixMinusLeavesTheListenersOwnVoiceOut) {
  Harness h;
  h.add_source(1, 440, 0.3);
  h.add_source(2, 1000, 0.3);
  h.add_listener(11, MixCodec::kOpus, 1);  // speaks on input 1
  h.add_listener(12, MixCodec::kOpus, 2);
  h.add_listener(13, MixCodec::kOpus);
  h.run(100);
  EXPECT_EQ(h.mixer.stream_count(), 3u);
  const auto a = h.tail(11, 1.0), b = h.tail(12, 1.0);
  const double a_own = db(goertzel_power(a, kRate, 1000) / goertzel_power(a, kRate, 440));
  const double b_own = db(goertzel_power(b, kRate, 440) / goertzel_power(b, kRate, 1000));
  std::printf("mix-minus: own voice %.1f dB and %.1f dB below the other\n", a_own, b_own);
  EXPECT_GE(a_own, 30);
  EXPECT_GE(b_own, 30);
  EXPECT_NEAR(rms(a), 0.3 / std::sqrt(2), 0.03);
}

TEST(AudioMixer, LoudInputsAreLimitedNotClipped) {
  Harness h;
  h.add_source(1, 300, 0.95);
  h.add_source(2, 500, 0.95);
  h.add_source(3, 700, 0.95);
  h.add_listener(10, MixCodec::kOpus);
  h.add_listener(11, MixCodec::kPcmu);
  h.run(100);
  for (MixListenerId id : {10u, 11u}) {
    const auto out = h.tail(id, 1.5);
    float peak = 0;
    for (float v : out)
      peak = std::max(peak, std::fabs(v));
    // A hard-clipped run: 3 or more consecutive samples at the same value at the top.
    size_t runs = 0;
    for (size_t i = 2; i < out.size(); ++i)
      if (std::fabs(out[i]) > 0.8f * peak && out[i] == out[i - 1] && out[i] == out[i - 2]) ++runs;
    std::printf("limited (%s): peak %.4f (ceiling %.4f), rms %.3f, flat runs %zu\n",
                std::string(to_string(h.outputs[id].codec)).c_str(), peak, Limiter::kDefaultCeiling, rms(out),
                runs);
    // Opus's decoded waveform wanders a little around the limited one; G.711's top step is 1/32.
    EXPECT_LT(peak, id == 10 ? 0.97f : Limiter::kDefaultCeiling + 0.02f);
    EXPECT_GT(rms(out), 0.4);  // turned down, not silenced
    if (id == 11) {
      EXPECT_EQ(runs, 0u);
    }
    EXPECT_GT(goertzel_power(out, id == 10 ? kRate : 8000, 500), 0);
  }
}

TEST(AudioMixer, LostPacketIsConcealedWithoutAClick) {
  Harness h;
  h.add_source(1, 440, 0.5);
  h.add_listener(10, MixCodec::kOpus);
  size_t step = 0;
  h.run(100, [&](Harness::Source& s, std::vector<uint8_t> p) {
    if (step++ != 60) h.push(s, p, s.seq, s.ts);  // packet 60 is lost
  });
  const auto& c = h.mixer.counters();
  EXPECT_EQ(c.jitter.concealed, 1u);
  const auto& pcm = h.outputs[10].pcm;
  // The lost frame is played ~3 frames after it was due (the jitter buffer's depth); look at frames 55..70.
  const double clean = max_step_in(pcm, 20 * 960, 50 * 960);
  const double gap = max_step_in(pcm, 55 * 960, 70 * 960);
  std::printf("PLC: max step around the gap %.4f, clean %.4f (ideal %.4f)\n", gap, clean,
              0.5 * 2 * std::numbers::pi * 440 / kRate);
  EXPECT_LT(gap, clean * 1.5);
  EXPECT_EQ(h.outputs[10].sizes.size(), 100u);
}

TEST(AudioMixer, OnlyTheKLoudestAreMixed) {
  Harness h;  // K = 3
  const double freqs[] = {300, 500, 700, 900, 1100};
  const double amps[] = {0.05, 0.08, 0.12, 0.16, 0.2};
  for (int i = 0; i < 5; ++i)
    h.add_source(static_cast<MixInputId>(i + 1), freqs[i], amps[i]);
  h.add_listener(10, MixCodec::kOpus);
  h.run(100);
  std::vector<MixInputId> mixed(h.mixer.mixed_inputs().begin(), h.mixer.mixed_inputs().end());
  std::sort(mixed.begin(), mixed.end());
  EXPECT_EQ(mixed, (std::vector<MixInputId>{3, 4, 5}));
  const auto out = h.tail(10, 1.0);
  const double weakest_in = goertzel_power(out, kRate, 700);
  for (int i = 0; i < 5; ++i) {
    const double rel = db(goertzel_power(out, kRate, freqs[i]) / weakest_in);
    std::printf("K-loudest: %4.0f Hz (amp %.2f, level %u dBov) at %+.1f dB\n", freqs[i], amps[i],
                *h.mixer.level(static_cast<MixInputId>(i + 1)), rel);
    if (i < 2) {
      EXPECT_LT(rel, -30);
    } else {
      EXPECT_GT(rel, -1);
    }
  }
  // RMS of a sine of amplitude a: a / sqrt(2); 0.2 -> -20 log10(0.1414) = 17 dBov.
  EXPECT_NEAR(*h.mixer.level(5), 17, 1);
  EXPECT_NEAR(*h.mixer.level(1), 29, 1);
}

TEST(AudioMixer, JoiningAndLeavingInputsDoNotClick) {
  MixerConfig config;
  config.max_loudest = 2;
  Harness h(config);
  h.add_source(1, 440, 0.3);
  // Phases chosen so that at the frame edges (after Opus's 312-sample delay) 2 and 3 are at a peak: cutting
  // or starting them there without a fade would step by their amplitude.
  auto& s2 = h.add_source(2, 1000, 0.25, std::numbers::pi / 2);
  h.add_source(3, 700, 0.1, 1.6 * std::numbers::pi);  // playing, but the third loudest: not mixed
  h.add_listener(10, MixCodec::kOpus);
  h.run(50);
  EXPECT_FALSE(h.mixer.input_stats(3)->mixed);
  // 2 leaves mid-waveform: it fades out while 3, mid-waveform too, fades in, in the same frame.
  h.mixer.remove_input(2);
  s2.sending = false;
  h.run(50);
  EXPECT_FALSE(h.mixer.has_input(2));
  EXPECT_TRUE(h.mixer.input_stats(3)->mixed);
  // A new, louder input 4 joins: 3 fades out again.
  h.add_source(4, 1300, 0.35);
  h.run(50);
  EXPECT_TRUE(h.mixer.input_stats(4)->mixed);
  EXPECT_FALSE(h.mixer.input_stats(3)->mixed);
  EXPECT_EQ(h.mixer.counters().input_changes, 6u);  // 1, 2 in; 2 out, 3 in; 4 in, 3 out
  const auto& pcm = h.outputs[10].pcm;
  const double steady12 = max_step_in(pcm, 20 * 960, 48 * 960);
  const double steady13 = max_step_in(pcm, 55 * 960, 98 * 960);
  const double steady14 = max_step_in(pcm, 110 * 960, 150 * 960);
  const double swap = max_step_in(pcm, 48 * 960, 55 * 960);
  const double join = max_step_in(pcm, 98 * 960, 110 * 960);
  std::printf(
      "fades: max step at the swap %.4f (steady before %.4f, after %.4f), at the join %.4f (before %.4f, "
      "after %.4f); an unfaded cut of input 2 could step up to 0.25\n",
      swap, steady12, steady13, join, steady13, steady14);
  EXPECT_LE(swap, std::max(steady12, steady13) * 1.2);
  EXPECT_LE(join, std::max(steady13, steady14) * 1.2);
  const auto after = h.tail(10, 0.5);
  EXPECT_LT(db(goertzel_power(after, kRate, 1000) / goertzel_power(after, kRate, 440)), -30);
  EXPECT_LT(db(goertzel_power(after, kRate, 700) / goertzel_power(after, kRate, 440)), -30);
}

TEST(AudioMixer, ReorderingWithinTheWindowIsRepaired) {
  Harness h;
  h.add_source(1, 440, 0.4);
  h.add_listener(10, MixCodec::kOpus);
  // Every 10th packet arrives after the next one (swapped pairs), and every 7th a second time.
  std::vector<uint8_t> held;
  uint16_t held_seq = 0;
  uint32_t held_ts = 0;
  size_t step = 0;
  h.run(100, [&](Harness::Source& s, std::vector<uint8_t> p) {
    const size_t i = step++;
    if (i % 10 == 5) {
      held = std::move(p);
      held_seq = s.seq;
      held_ts = s.ts;
      return;
    }
    h.push(s, p, s.seq, s.ts);
    if (i % 7 == 3) h.push(s, p, s.seq, s.ts);
    if (i % 10 == 6) h.push(s, held, held_seq, held_ts);
  });
  const auto& c = h.mixer.counters().jitter;
  std::printf("reordering: concealed %llu, late %llu, duplicates %llu\n",
              static_cast<unsigned long long>(c.concealed), static_cast<unsigned long long>(c.late),
              static_cast<unsigned long long>(c.duplicates));
  EXPECT_EQ(c.concealed, 0u);
  EXPECT_EQ(c.late, 0u);
  EXPECT_EQ(c.duplicates, 13u);  // i % 7 == 3 for i < 100 is 14 packets, less i = 45, which was held
  const auto& pcm = h.outputs[10].pcm;
  const double clean = max_step_in(pcm, 10 * 960, 100 * 960);
  EXPECT_LT(clean, 0.4 * 2 * std::numbers::pi * 440 / kRate * 1.5);
}

TEST(AudioMixer, G711ListenerGets160BytesOfTheTone) {
  for (MixCodec codec : {MixCodec::kPcmu, MixCodec::kPcma}) {
    Harness h;
    h.add_source(1, 1000, 0.4);
    auto& o = h.add_listener(10, codec);
    h.run(50);
    ASSERT_EQ(o.sizes.size(), 50u);
    for (size_t i = 0; i < o.sizes.size(); ++i) {
      EXPECT_EQ(o.sizes[i], 160u);
      if (i) {
        EXPECT_EQ(static_cast<uint32_t>(o.ts[i] - o.ts[i - 1]), 160u);
        EXPECT_EQ(static_cast<uint16_t>(o.seq[i] - o.seq[i - 1]), 1u);
      }
    }
    const auto out = h.tail(10, 0.5);
    double best = 0, best_p = -1;
    for (double f = 100; f < 3900; f += 10) {
      const double p = goertzel_power(out, 8000, f);
      if (p > best_p) best_p = p, best = f;
    }
    const double off = db(goertzel_power(out, 8000, 1000) / goertzel_power(out, 8000, 2500));
    std::printf("G.711 %s: peak %.0f Hz, rms %.3f (sent %.3f), 1 kHz %.1f dB over 2.5 kHz\n",
                std::string(to_string(codec)).c_str(), best, rms(out), 0.4 / std::sqrt(2), off);
    EXPECT_NEAR(best, 1000, 10);
    EXPECT_NEAR(rms(out), 0.4 / std::sqrt(2), 0.02);
    EXPECT_GT(off, 30);
  }
}

TEST(AudioMixer, OpusListenerTimelineAndSharedStreams) {
  Harness h;
  h.add_source(1, 440, 0.3);
  h.add_listener(10, MixCodec::kOpus);
  h.add_listener(11, MixCodec::kOpus);     // shares 10's stream (same codec, no own input)
  h.add_listener(12, MixCodec::kOpus, 1);  // its own
  EXPECT_EQ(h.mixer.stream_count(), 2u);
  h.run(20);
  const auto& o = h.outputs[10];
  ASSERT_EQ(o.ts.size(), 20u);
  for (size_t i = 1; i < o.ts.size(); ++i) {
    EXPECT_EQ(o.ts[i] - o.ts[i - 1], 960u);
    EXPECT_EQ(static_cast<uint16_t>(o.seq[i] - o.seq[i - 1]), 1u);
  }
  EXPECT_EQ(h.outputs[10].pcm, h.outputs[11].pcm);
  h.mixer.remove_listener(11);
  h.mixer.remove_listener(12);
  EXPECT_EQ(h.mixer.stream_count(), 1u);

  MixerConfig separate;
  separate.share_encoders = false;
  AudioMixer m(separate);
  ASSERT_TRUE(m.add_listener(1, MixCodec::kOpus));
  ASSERT_TRUE(m.add_listener(2, MixCodec::kOpus));
  EXPECT_EQ(m.stream_count(), 2u);
}

TEST(AudioMixer, LateTickCatchesUpABoundedNumberOfFrames) {
  Harness h;
  h.add_source(1, 440, 0.3);
  auto& o = h.add_listener(10, MixCodec::kOpus);
  h.run(10);
  // The worker stalls for a second: the next tick makes kMaxCatchUpFrames and skips the rest.
  h.now += 1'000'000;
  h.step();
  EXPECT_EQ(h.mixer.counters().catch_up_skips, 51u - AudioMixer::kMaxCatchUpFrames);
  ASSERT_EQ(o.ts.size(), 10u + AudioMixer::kMaxCatchUpFrames);
  h.step();
  // The timestamps account for the skipped time (51 frames passed, plus the next one), the seqs do not.
  EXPECT_EQ(o.ts.back() - o.ts[9], 52u * 960);
  EXPECT_EQ(static_cast<uint16_t>(o.seq.back() - o.seq[9]), AudioMixer::kMaxCatchUpFrames + 1);
  // An early tick makes nothing.
  EXPECT_EQ(h.mixer.tick(h.now - 30000), 0u);
}

TEST(AudioMixer, StalledInputLeavesAndComesBack) {
  Harness h;
  auto& s = h.add_source(1, 440, 0.3);
  h.add_listener(10, MixCodec::kOpus);
  h.run(20);
  EXPECT_TRUE(h.mixer.input_stats(1)->mixed);
  s.sending = false;
  h.run(10);
  const auto c = h.mixer.counters().jitter;
  EXPECT_EQ(c.stalls, 1u);
  EXPECT_EQ(c.concealed, JitterBufferConfig{}.max_conceal_frames);
  EXPECT_FALSE(h.mixer.input_stats(1)->mixed);
  EXPECT_EQ(*h.mixer.level(1), 127);
  s.sending = true;
  s.seq += 500;  // after a pause, from further on
  h.run(20);
  EXPECT_TRUE(h.mixer.input_stats(1)->mixed);
  EXPECT_EQ(h.mixer.counters().jitter.resyncs, 0u);
  EXPECT_GT(db(goertzel_power(h.tail(10, 0.2), kRate, 440) / goertzel_power(h.tail(10, 0.2), kRate, 1000)),
            30);
}

TEST(AudioMixer, InterarrivalJitterIsMeasured) {
  AudioMixer m;
  ASSERT_TRUE(m.add_input(1));
  test::OpusSine sine(440, 0.3);
  // Packets sent every 20 ms arrive alternately 5 ms late and on time: |D| = 5 ms each time (RFC 3550 6.4.1).
  for (uint16_t k = 0; k < 100; ++k) {
    const media::Micros now = k * 20000 + (k % 2 ? 5000 : 0);
    m.push(1, k, 7777u + k * 960u, sine.next(), now);
    m.tick(now);
    while (m.poll()) {
    }
  }
  const auto stats = m.input_stats(1);
  ASSERT_TRUE(stats);
  EXPECT_NEAR(stats->jitter_ms, 5.0, 0.1);
  EXPECT_TRUE(stats->playing);
  EXPECT_FALSE(m.input_stats(2));
}

TEST(AudioMixer, StereoSourceIsMixedAsMono) {
  // A browser may send stereo Opus: libopus decodes it to the mixer's mono.
  audio::OpusEncoder enc;
  ASSERT_TRUE(enc.configure(2));
  AudioMixer m;
  ASSERT_TRUE(m.add_input(1));
  ASSERT_TRUE(m.add_listener(10, MixCodec::kPcmu));
  std::vector<float> out;
  std::vector<uint8_t> packet(audio::OpusEncoder::kMaxPacketBytes);
  for (uint16_t k = 0; k < 50; ++k) {
    const auto pcm = audio::test::sine(48000, 2, 1000, 0.4, 960, k * 960u);
    auto n = enc.encode(pcm, packet);
    ASSERT_TRUE(n);
    m.push(1, k, k * 960u, std::span<const uint8_t>(packet.data(), *n), k * 20000);
    m.tick(k * 20000);
    while (auto f = m.poll()) {
      std::vector<float> narrow(f->payload.size());
      decode_ulaw(f->payload, narrow);
      out.insert(out.end(), narrow.begin(), narrow.end());
    }
  }
  const auto tail = std::span<const float>(out).last(4000);
  EXPECT_NEAR(rms(tail), 0.4 / std::sqrt(2), 0.02);
  EXPECT_GT(db(goertzel_power(tail, 8000, 1000) / goertzel_power(tail, 8000, 2500)), 30);
}

TEST(AudioMixer, ListenersAndInputsComeAndGoBetweenTicks) {
  Harness h;
  h.add_source(1, 440, 0.3);
  h.add_source(2, 1000, 0.3);
  h.add_listener(10, MixCodec::kOpus, 1);
  h.add_listener(11, MixCodec::kPcma, 2);
  h.run(20);
  // Removing a listener with frames still queued: its frames are not handed out, the others' are.
  h.mixer.tick(h.now);
  h.mixer.remove_listener(11);
  size_t got = 0;
  while (auto f = h.mixer.poll()) {
    EXPECT_EQ(f->listener, 10u);
    ++got;
  }
  EXPECT_EQ(got, 1u);
  h.outputs.erase(11);
  h.now += AudioMixer::kFrameDuration;
  // The listener's own input goes and comes back under the same id: still left out of its mix.
  h.mixer.remove_input(1);
  ASSERT_TRUE(h.mixer.add_input(1));
  EXPECT_EQ(h.mixer.input_count(), 2u);
  h.run(30);
  const auto a = h.tail(10, 0.4);
  EXPECT_GT(db(goertzel_power(a, kRate, 1000) / goertzel_power(a, kRate, 440)), 30);
  EXPECT_TRUE(h.mixer.input_stats(1)->playing);
  // A removed and re-added listener starts a new timeline from its options.
  h.mixer.remove_listener(10);
  ASSERT_TRUE(
      h.mixer.add_listener(10, MixCodec::kPcmu, std::nullopt, {.first_seq = 65535, .first_rtp_ts = 42}));
  h.mixer.tick(h.now);
  auto f = h.mixer.poll();
  ASSERT_TRUE(f);
  EXPECT_EQ(f->seq, 65535);
  EXPECT_EQ(f->rtp_ts, 42u);
  EXPECT_EQ(f->payload.size(), 160u);
  EXPECT_EQ(h.mixer.stream_count(), 1u);
}

TEST(AudioMixer, RefusesWhatItCannotDo) {
  MixerConfig bad;
  bad.max_loudest = 0;
  AudioMixer m(bad);
  auto st = m.add_input(1);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error(), "Mixer: max_loudest 0 is outside 1 to 8");
  AudioMixer ok;
  ASSERT_TRUE(ok.add_input(1));
  EXPECT_FALSE(ok.add_input(1));
  ASSERT_TRUE(ok.add_listener(1, MixCodec::kPcma));
  EXPECT_FALSE(ok.add_listener(1, MixCodec::kOpus));
  ok.push(99, 1, 0, std::vector<uint8_t>{1, 2, 3}, 0);
  EXPECT_EQ(ok.counters().unknown_input, 1u);
  // Garbage payloads are concealed, not fatal.
  for (uint16_t i = 0; i < 10; ++i) {
    ok.push(1, i, i * 960u, std::vector<uint8_t>{0xFF, 0xFF, 0xFF, 0xFF, 0xFF}, i * 20000);
    ok.tick(i * 20000);
    while (ok.poll()) {
    }
  }
  EXPECT_GT(ok.counters().jitter.decode_errors + ok.counters().jitter.decoded, 0u);
}

}  // namespace
}  // namespace atrium::media::mixer
