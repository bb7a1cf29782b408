// The cluster hop: one media packet from a publisher on node A to a viewer on node B through a real
// nats-server on loopback (Endpoint -> NatsClusterBus -> NATS -> libnats thread -> inbox -> B's hub ->
// LocalTrack), against the same packet through LocalBus on one node. Latency is wall time per packet (p50/p99
// as counters); the relay benchmark sends bursts and counts what B delivers per second. The nats-server
// shares the machine's cores.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <vector>

#include "cluster/nats/nats_cluster_bus.h"
#include "cluster/nats_server_process.h"
#include "core/cluster/local_bus.h"
#include "core/hub/endpoint_hub.h"

namespace {

using namespace atrium;
using Clock = std::chrono::steady_clock;

media::Micros wall() {
  return std::chrono::duration_cast<std::chrono::microseconds>(Clock::now().time_since_epoch()).count();
}

const std::vector<uint8_t> kKey = {0x10, 0x10, 0x00, 0x00, 0x9d, 0x01, 0x2a, 0x80, 0x02, 0xe0, 0x01};

std::vector<uint8_t> delta_payload() {
  std::vector<uint8_t> d(1100, 0);  // a typical video packet
  d[0] = 0x10;
  d[1] = 0x11;
  return d;
}

core::EndpointId join(core::EndpointHub& hub, const std::string& peer) {
  auto ep = hub.create_endpoint();
  hub.on_transport(
      wall(), ep,
      core::tev::Join{{"bench", peer, "{}", core::SubscribeMode::kAuto, core::SubscribeMode::kAuto}});
  return ep;
}

size_t drain_media(core::EndpointHub& hub) {
  size_t n = 0;
  while (auto o = hub.pop_output())
    if (std::holds_alternative<core::eev::LocalMedia>(o->event)) ++n;
  return n;
}

void report(benchmark::State& state, std::vector<double>& us) {
  if (us.empty()) return;
  std::sort(us.begin(), us.end());
  state.counters["p50_us"] = us[us.size() / 2];
  state.counters["p99_us"] = us[std::min(us.size() - 1, us.size() * 99 / 100)];
}

void BM_HopLocalBus(benchmark::State& state) {
  core::LocalBus bus;
  core::EndpointHub hub(bus);
  auto pub = join(hub, "pub");
  auto sub = join(hub, "sub");
  hub.on_transport(wall(), pub, core::tev::Publish{1, {"video", media::MediaKind::kVideo, ""}});
  hub.on_transport(wall(), sub, core::tev::Attach{1, "pub", "video"});
  media::MediaPacket p;
  p.codec = media::Codec::kVP8;
  p.keyframe = true;
  p.payload = kKey;
  hub.on_transport(wall(), pub, core::tev::RemoteMedia{1, p});
  drain_media(hub);
  const auto delta = delta_payload();
  p.keyframe = false;
  p.payload = delta;
  std::vector<double> us;
  for (auto _ : state) {
    const auto t0 = Clock::now();
    ++p.seq;
    p.timestamp += 3000;
    hub.on_transport(wall(), pub, core::tev::RemoteMedia{1, p});
    if (drain_media(hub) != 1) state.SkipWithError("packet lost");
    us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
  }
  report(state, us);
}
BENCHMARK(BM_HopLocalBus);

// Node A publishes, node B views; both driven on this thread, B woken through its wake callback.
struct TwoNodes {
  TwoNodes(benchmark::State& state, bool send_asap) {
    if (!server.start()) {
      state.SkipWithError("nats-server did not start");
      return;
    }
    for (auto* n : {&a, &b}) {
      cluster::nats::NatsBusOptions o;
      o.servers = server.url();
      o.node_id = n == &a ? "bench-a" : "bench-b";
      o.send_asap = send_asap;
      auto c = cluster::nats::NatsClusterBus::connect(o, [this] {
        std::lock_guard lock(mutex);
        woken = true;
        cv.notify_one();
      });
      if (!c.bus) {
        state.SkipWithError(c.error.c_str());
        return;
      }
      n->bus = std::move(c.bus);
      n->hub = std::make_unique<core::EndpointHub>(*n->bus);
    }
    sub = join(*b.hub, "sub");
    pub = join(*a.hub, "pub");
    a.hub->on_transport(wall(), pub, core::tev::Publish{1, {"video", media::MediaKind::kVideo, ""}});
    ok = wait([&] { return b.bus->room("bench") && b.bus->room("bench")->has_track("pub", "video"); });
    b.hub->on_transport(wall(), sub, core::tev::Attach{1, "pub", "video"});
    packet.codec = media::Codec::kVP8;
    packet.keyframe = true;
    packet.payload = kKey;
    ok = ok && wait([&] {
           send();
           return b.received > 0;
         });
    if (!ok) state.SkipWithError("no media reached node B");
    wait([] { return false; }, 200);  // let in-flight key frames land
    b.received = 0;
    packet.keyframe = false;
    packet.payload = delta;
  }
  ~TwoNodes() {
    for (auto* n : {&a, &b}) {
      n->hub.reset();
      n->bus.reset();
    }
  }
  void send() {
    ++packet.seq;
    packet.timestamp += 3000;
    a.hub->on_transport(wall(), pub, core::tev::RemoteMedia{1, packet});
    a.received += drain_media(*a.hub);
  }
  // Delivers what NATS brought and ticks every 10 ms; counts the media B's viewer got in `received`.
  void poll() {
    const auto now = wall();
    for (auto* n : {&a, &b}) {
      n->hub->on_bus(now);
      if (now - n->last_tick >= 10'000) {
        n->received += drain_media(*n->hub);  // outputs go before the next input
        n->hub->on_tick(now);
        n->last_tick = now;
      }
      n->received += drain_media(*n->hub);
    }
  }
  // Sleeps until a bus wakes us (as a worker sleeps in epoll until the runtime posts on_bus), at most 1 ms.
  template <typename F>
  bool wait(F done, int ms = 3000) {
    const auto end = Clock::now() + std::chrono::milliseconds(ms);
    while (Clock::now() < end) {
      poll();
      if (done()) return true;
      std::unique_lock lock(mutex);
      cv.wait_for(lock, std::chrono::milliseconds(1), [&] { return woken; });
      woken = false;
    }
    return false;
  }

  struct Node {
    std::unique_ptr<cluster::nats::NatsClusterBus> bus;
    std::unique_ptr<core::EndpointHub> hub;
    media::Micros last_tick = 0;
    size_t received = 0;
  };
  cluster::nats::testing::NatsServerProcess server;
  Node a;
  Node b;
  core::EndpointId pub = 0;
  core::EndpointId sub = 0;
  media::MediaPacket packet;
  std::vector<uint8_t> delta = delta_payload();
  std::mutex mutex;
  std::condition_variable cv;
  bool woken = false;
  bool ok = false;
};

// Arg: send_asap (1: publish writes at once; 0: libnats's flusher batches).
void BM_HopNats(benchmark::State& state) {
  TwoNodes nodes(state, state.range(0) != 0);
  if (!nodes.ok) return;
  std::vector<double> us;
  for (auto _ : state) {
    const auto t0 = Clock::now();
    nodes.b.received = 0;
    nodes.send();
    if (!nodes.wait([&] { return nodes.b.received > 0; }, 1000)) {
      state.SkipWithError("packet lost");
      break;
    }
    us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
  }
  report(state, us);
  state.counters["relayed_out"] = static_cast<double>(nodes.a.bus->nats_stats().relayed_out);
}
BENCHMARK(BM_HopNats)->Arg(1)->Arg(0)->Iterations(5000);

// Bursts of `burst` packets from A; the time until B delivered all of them. Items = packets relayed.
// Args: burst, send_asap.
void BM_RelayNats(benchmark::State& state) {
  TwoNodes nodes(state, state.range(1) != 0);
  if (!nodes.ok) return;
  const int burst = static_cast<int>(state.range(0));
  size_t total = 0;
  for (auto _ : state) {
    nodes.b.received = 0;
    for (int i = 0; i < burst; ++i)
      nodes.send();
    if (!nodes.wait([&] { return nodes.b.received >= static_cast<size_t>(burst); }, 3000)) {
      state.SkipWithError("packets lost");
      break;
    }
    total += nodes.b.received;
  }
  state.SetItemsProcessed(static_cast<int64_t>(total));
}
BENCHMARK(BM_RelayNats)->Args({1000, 1})->Args({1000, 0});

}  // namespace
