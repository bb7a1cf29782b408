// Per-packet cost of the core path: one publisher's packet through Endpoint -> LocalBus -> N subscribers'
// LocalTracks (key-frame gating, seq/ts rewrite) -> the hub's output queue, drained as a transport would.
#include <benchmark/benchmark.h>

#include <vector>

#include "core/cluster/local_bus.h"
#include "core/hub/endpoint_hub.h"

namespace {

using namespace atrium;

void BM_CoreFanout(benchmark::State& state) {
  const int subscribers = static_cast<int>(state.range(0));
  core::LocalBus bus;
  core::EndpointHub hub(bus);
  media::Micros now = 0;
  auto join = [&](const std::string& peer) {
    auto ep = hub.create_endpoint();
    hub.on_transport(
        now, ep,
        core::tev::Join{{"bench", peer, "{}", core::SubscribeMode::kAuto, core::SubscribeMode::kAuto}});
    return ep;
  };
  auto pub = join("pub");
  hub.on_transport(now, pub, core::tev::Publish{1, {"video", media::MediaKind::kVideo, ""}});
  for (int i = 0; i < subscribers; ++i) {
    auto s = join("sub" + std::to_string(i));
    hub.on_transport(now, s, core::tev::Attach{1, "pub", "video"});
  }
  while (hub.pop_output()) {
  }
  const std::vector<uint8_t> key = {0x10, 0x10, 0x00, 0x00, 0x9d, 0x01, 0x2a, 0x80, 0x02, 0xe0, 0x01};
  std::vector<uint8_t> delta(1100, 0);
  delta[0] = 0x10;
  delta[1] = 0x11;
  media::MediaPacket p;
  p.codec = media::Codec::kVP8;
  p.keyframe = true;
  p.payload = key;
  hub.on_transport(now, pub, core::tev::RemoteMedia{1, p});
  p.payload = delta;
  size_t delivered = 0;
  for (auto _ : state) {
    ++p.seq;
    p.timestamp += 3000;
    now += 1000;
    hub.on_transport(now, pub, core::tev::RemoteMedia{1, p});
    while (auto o = hub.pop_output()) {
      benchmark::DoNotOptimize(o);
      ++delivered;
    }
  }
  if (delivered < state.iterations() * static_cast<size_t>(subscribers))
    state.SkipWithError("packets were lost");
  // Seconds per (packet x subscriber); Google Benchmark prints it with an n/u suffix.
  state.counters["ns_per_packet_per_sub"] =
      benchmark::Counter(static_cast<double>(state.iterations() * subscribers),
                         benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_CoreFanout)->Arg(1)->Arg(10)->Arg(100)->Arg(400);

}  // namespace
