// CPU per 20 ms tick of AudioMixer: N Opus inputs (real packets, made at setup: tones at different levels,
// all active) mixed for 10 listeners (K = 3), with Opus or G.711 (mu-law) output. "own" listeners each speak
// on an input (10 output streams: 10 sums, limiters and encodes); "shared" listeners have no input of their
// own and share one stream. One iteration = one packet pushed per input + tick() + poll() of every frame. The
// core_pct counter is the share of one core (wall time) that mixing the room in real time takes (time per
// tick / 20 ms).
#include <benchmark/benchmark.h>

#include <chrono>
#include <cmath>
#include <numbers>
#include <vector>

#include "media/audio/opus_decoder.h"
#include "media/audio/opus_encoder.h"
#include "media/mixer/audio_mixer.h"

namespace {

using namespace atrium::media;
using namespace atrium::media::mixer;

constexpr size_t kPacketsPerInput = 50;  // 1 s, cycled

std::vector<std::vector<uint8_t>> tone_packets(double freq, double amp) {
  audio::OpusEncoder enc;
  if (!enc.configure(1)) return {};
  std::vector<std::vector<uint8_t>> out;
  std::vector<float> pcm(960);
  std::vector<uint8_t> buf(audio::OpusEncoder::kMaxPacketBytes);
  for (size_t p = 0; p < kPacketsPerInput; ++p) {
    for (size_t i = 0; i < 960; ++i)
      pcm[i] = static_cast<float>(
          amp * std::sin(2 * std::numbers::pi * freq * static_cast<double>(p * 960 + i) / 48000));
    auto n = enc.encode(pcm, buf);
    out.emplace_back(buf.begin(), buf.begin() + static_cast<long>(n ? *n : 0));
  }
  return out;
}

void BM_MixerTick(benchmark::State& state) {
  const auto inputs = static_cast<size_t>(state.range(0));
  const auto codec = static_cast<MixCodec>(state.range(1));
  const bool shared = state.range(2) != 0;
  MixerConfig config;
  config.opus_complexity = static_cast<int>(state.range(3));
  AudioMixer mixer(config);
  std::vector<std::vector<std::vector<uint8_t>>> packets;
  for (size_t i = 0; i < inputs; ++i) {
    (void)mixer.add_input(static_cast<MixInputId>(i));
    packets.push_back(
        tone_packets(200 + 37.0 * static_cast<double>(i), 0.05 + 0.3 * static_cast<double>(i % 7) / 7));
  }
  for (MixListenerId l = 0; l < 10; ++l) {
    if (shared) {
      (void)mixer.add_listener(100 + l, codec);
    } else {
      (void)mixer.add_listener(100 + l, codec, static_cast<MixInputId>(l % inputs));
    }
  }
  Micros now = 0;
  uint16_t seq = 0;
  uint32_t ts = 0;
  size_t frames = 0;
  auto one_tick = [&] {
    for (size_t i = 0; i < inputs; ++i)
      mixer.push(static_cast<MixInputId>(i), seq, ts, packets[i][seq % kPacketsPerInput], now);
    ++seq;
    ts += 960;
    mixer.tick(now);
    while (auto f = mixer.poll()) {
      benchmark::DoNotOptimize(f->payload.data());
      ++frames;
    }
    now += AudioMixer::kFrameDuration;
  };
  for (int i = 0; i < 10; ++i)
    one_tick();  // prefilled, every input playing
  const auto start = std::chrono::steady_clock::now();
  for (auto _ : state)
    one_tick();
  const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
  const auto c = mixer.counters();
  state.counters["frames_out"] = static_cast<double>(frames);
  state.counters["plc"] = static_cast<double>(c.jitter.concealed);
  state.counters["streams"] = static_cast<double>(mixer.stream_count());
  // elapsed / (iterations x 20 ms) x 100
  state.counters["core_pct"] = benchmark::Counter(static_cast<double>(state.iterations()) * 0.0002,
                                                  benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  state.SetLabel(std::string(to_string(codec)) + (shared ? " shared" : " own") + " c" +
                 std::to_string(config.opus_complexity));
}

void Args(benchmark::internal::Benchmark* b) {
  for (int64_t inputs : {10, 50})
    for (int64_t codec : {static_cast<int64_t>(MixCodec::kOpus), static_cast<int64_t>(MixCodec::kPcmu)})
      for (int64_t shared : {0, 1})
        b->Args({inputs, codec, shared, 5});
  b->Args(
      {50, static_cast<int64_t>(MixCodec::kOpus), 0, 10});  // libopus's default complexity, for comparison
  b->Args({50, static_cast<int64_t>(MixCodec::kOpus), 0, 0});
}
BENCHMARK(BM_MixerTick)->Apply(Args)->Unit(benchmark::kMicrosecond);

// The pieces of one frame, to see where a tick goes.
void BM_OpusDecodeFrame(benchmark::State& state) {
  const auto packets = tone_packets(440, 0.3);
  audio::OpusDecoder dec;
  (void)dec.configure(1);
  std::vector<float> out(audio::OpusDecoder::kMaxFrameSamples);
  size_t i = 0;
  for (auto _ : state)
    benchmark::DoNotOptimize(dec.decode(packets[i++ % packets.size()], out));
}
BENCHMARK(BM_OpusDecodeFrame)->Unit(benchmark::kMicrosecond);

void BM_OpusEncodeFrame(benchmark::State& state) {
  audio::OpusEncoder enc;
  (void)enc.configure(1);
  (void)enc.set_complexity(static_cast<int>(state.range(0)));
  std::vector<float> pcm(960);
  std::vector<uint8_t> out(audio::OpusEncoder::kMaxPacketBytes);
  size_t at = 0;
  for (auto _ : state) {
    for (size_t i = 0; i < 960; ++i)
      pcm[i] = static_cast<float>(0.3 *
                                  std::sin(2 * std::numbers::pi * 440 * static_cast<double>(at + i) / 48000));
    at += 960;
    benchmark::DoNotOptimize(enc.encode(pcm, out));
  }
}
BENCHMARK(BM_OpusEncodeFrame)->Arg(0)->Arg(5)->Arg(10)->Unit(benchmark::kMicrosecond);

void BM_LimiterFrame(benchmark::State& state) {
  Limiter lim;
  std::vector<float> pcm(960);
  for (size_t i = 0; i < 960; ++i)
    pcm[i] = static_cast<float>(static_cast<double>(state.range(0)) / 10 *
                                std::sin(2 * std::numbers::pi * 440 * static_cast<double>(i) / 48000));
  for (auto _ : state) {
    auto frame = pcm;
    lim.process(frame);
    benchmark::DoNotOptimize(frame.data());
  }
}
// Argument: the amplitude x 10 (5: under the ceiling, the fast path; 15: limiting all the time).
BENCHMARK(BM_LimiterFrame)->Arg(5)->Arg(15)->Unit(benchmark::kMicrosecond);

void BM_G711Frame(benchmark::State& state) {
  Decimate48To8 dec;
  std::vector<float> pcm(960), narrow(160);
  std::vector<uint8_t> out(160);
  for (size_t i = 0; i < 960; ++i)
    pcm[i] = static_cast<float>(0.5 * std::sin(2 * std::numbers::pi * 440 * static_cast<double>(i) / 48000));
  for (auto _ : state) {
    dec.process(pcm, narrow);
    encode_ulaw(narrow, out);
    benchmark::DoNotOptimize(out.data());
  }
}
BENCHMARK(BM_G711Frame)->Unit(benchmark::kMicrosecond);

}  // namespace
