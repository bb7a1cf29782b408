// What audio levels and the active-speaker detector cost per audio packet.
//  - BM_ActiveSpeakerDetector/P: a room of P talking peers as the runtime drives it: every 20 ms one packet
//    per peer (on_level), a tick every 10 ms (bins close every 100 ms and the decision runs); the counter is
//    the whole cost (levels + ticks + decisions) divided by the packets.
//  - BM_AudioPacketThroughHub/L: one publisher's audio packet through Endpoint -> LocalBus (no subscribers),
//    L = 1 with a level (the detector's adds), 0 without: the difference is the per-packet overhead on the
//    real path.
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "core/audio/active_speaker_detector.h"
#include "core/cluster/local_bus.h"
#include "core/hub/endpoint_hub.h"

namespace {

using namespace atrium;

void BM_ActiveSpeakerDetector(benchmark::State& state) {
  const int peers = static_cast<int>(state.range(0));
  core::ActiveSpeakerDetector d;
  std::vector<core::ActiveSpeakerDetector::Slot> slots;
  for (int i = 0; i < peers; ++i)
    slots.push_back(d.add_source("peer" + std::to_string(i)));
  media::Micros now = 0;
  uint32_t round = 0;
  size_t offered = 0;
  for (auto _ : state) {
    ++round;
    for (int i = 0; i < peers; ++i) {  // who talks changes every 3 s; the others are quiet
      const bool talking = (round / 150) % static_cast<uint32_t>(peers) == static_cast<uint32_t>(i);
      d.on_level(slots[static_cast<size_t>(i)], talking ? 12 : 110);
    }
    now += 10'000;
    offered += d.on_tick(now) ? 1 : 0;
    now += 10'000;
    offered += d.on_tick(now) ? 1 : 0;
  }
  benchmark::DoNotOptimize(offered);
  state.counters["ns_per_packet"] =
      benchmark::Counter(static_cast<double>(state.iterations() * static_cast<size_t>(peers)),
                         benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_ActiveSpeakerDetector)->Arg(3)->Arg(10)->Arg(50);

void BM_AudioPacketThroughHub(benchmark::State& state) {
  const bool level = state.range(0) != 0;
  core::LocalBus bus;
  core::EndpointHub hub(bus);
  media::Micros now = 0;
  auto pub = hub.create_endpoint();
  hub.on_transport(
      now, pub,
      core::tev::Join{{"bench", "pub", "{}", core::SubscribeMode::kAuto, core::SubscribeMode::kAuto}});
  hub.on_transport(now, pub, core::tev::Publish{1, {"audio", media::MediaKind::kAudio, ""}});
  while (hub.pop_output()) {
  }
  const std::vector<uint8_t> opus(80, 0xfc);
  media::MediaPacket p;
  p.codec = media::Codec::kOpus;
  p.keyframe = true;
  p.payload = opus;
  p.audio_level = level ? 20 : -1;
  for (auto _ : state) {
    ++p.seq;
    p.timestamp += 960;
    hub.on_transport(now, pub, core::tev::RemoteMedia{1, p});
    while (auto o = hub.pop_output())
      benchmark::DoNotOptimize(o);
  }
  state.counters["ns_per_packet"] = benchmark::Counter(
      static_cast<double>(state.iterations()), benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_AudioPacketThroughHub)->Arg(0)->Arg(1);

}  // namespace
