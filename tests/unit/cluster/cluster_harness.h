// Two or more Atrium nodes in one test process, each a NatsClusterBus with its own EndpointHub, driven on the
// test thread the way a worker drives them (on_bus when woken, on_tick on a timer) against a real
// nats-server. Reads like tests/unit/core/core_harness.h, with node-qualified endpoints.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <thread>
#include <vector>

#include "cluster/nats/nats_cluster_bus.h"
#include "core/hub/endpoint_hub.h"
#include "nats_server_process.h"

namespace atrium::cluster::nats::testing {

using namespace core;

inline const std::vector<uint8_t> kVp8Key = {0x10, 0x10, 0x00, 0x00, 0x9d, 0x01,
                                             0x2a, 0x80, 0x02, 0xe0, 0x01};
inline const std::vector<uint8_t> kVp8Delta = {0x10, 0x11, 0x00, 0x00, 0x00, 0x00,
                                               0x00, 0x00, 0x00, 0x00, 0x00};

inline media::Micros wall_micros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Short timings, so a dead node is noticed within a second.
inline NatsBusOptions test_options(const std::string& url, const std::string& node) {
  NatsBusOptions o;
  o.servers = url;
  o.node_id = node;
  o.heartbeat_interval = 100'000;
  o.node_ttl = 600'000;
  o.interest_interval = 100'000;
  o.reconnect_wait_ms = 100;
  o.request_timeout_ms = 1000;
  o.connect_timeout_ms = 1000;
  return o;
}

struct Node {
  explicit Node(const NatsBusOptions& options, NatsClusterBus::ClaimsDecorator decorate = {}) {
    auto c = NatsClusterBus::connect(
        options, [this] { wakes.fetch_add(1); }, std::move(decorate));
    error = c.error;
    if (!c.bus) return;
    bus = std::move(c.bus);
    hub = std::make_unique<EndpointHub>(*bus);
  }
  ~Node() {
    hub.reset();  // the hub refers to the bus
    bus.reset();
  }

  // A transport sends what the hub outputs before its next input, because media payloads are views valid only
  // until then; the test keeps them longer, so it keeps copies.
  void collect() {
    while (auto o = hub->pop_output()) {
      if (auto* m = std::get_if<eev::LocalMedia>(&o->event)) {
        payloads.emplace_back(m->packet.payload.begin(), m->packet.payload.end());
        m->packet.payload = payloads.back();
      }
      events[o->to].push_back(std::move(o->event));
    }
  }

  std::atomic<int> wakes{0};
  std::string error;
  std::unique_ptr<NatsClusterBus> bus;
  std::unique_ptr<EndpointHub> hub;
  std::map<EndpointId, std::vector<EndpointEvent>> events;
  std::deque<std::vector<uint8_t>> payloads;  // stable addresses for the copies
  media::Micros last_tick = 0;
};

class ClusterHarness : public ::testing::Test {
 public:
  void SetUp() override { ASSERT_TRUE(server.start()) << "nats-server did not start (is it installed?)"; }

  Node& add_node(const std::string& name) { return add_node(test_options(server.url(), name)); }
  Node& add_node(const NatsBusOptions& options, NatsClusterBus::ClaimsDecorator decorate = {}) {
    nodes.push_back(std::make_unique<Node>(options, std::move(decorate)));
    Node& n = *nodes.back();
    EXPECT_TRUE(n.bus) << n.error;
    return n;
  }

  // One round of what a worker does: deliver what NATS brought, tick every 10 ms, hand outputs to "clients".
  void pump() {
    const media::Micros now = wall_micros();
    for (auto& n : nodes) {
      if (!n->bus) continue;
      n->hub->on_bus(now);
      n->collect();  // before the next input, as the runtime must: media payloads are views until then
      if (now - n->last_tick >= 10'000) {
        n->hub->on_tick(now);
        n->last_tick = now;
      }
      n->collect();
    }
  }

  // Pumps until `done` holds or `timeout_ms` passes; true if it held.
  bool wait_until(const std::function<bool()>& done, int timeout_ms = 3000) {
    const auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (std::chrono::steady_clock::now() < end) {
      pump();
      if (done()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return false;
  }

  void settle(int ms) {
    wait_until([] { return false; }, ms);
  }

  void send(Node& n, EndpointId ep, TransportEvent&& ev) {
    n.hub->on_transport(wall_micros(), ep, std::move(ev));
    n.collect();
  }

  EndpointId join(Node& n, const std::string& room, const std::string& peer,
                  SubscribeMode peers = SubscribeMode::kAuto, SubscribeMode tracks = SubscribeMode::kAuto) {
    EndpointId ep = n.hub->create_endpoint();
    send(n, ep, tev::Join{{room, peer, "{\"name\":\"" + peer + "\"}", peers, tracks}});
    // The bus answers once the cluster's directory did (the claim runs off the worker): wait for the verdict.
    wait_until([&] { return has<eev::Joined>(n, ep) || has<eev::ErrorEvent>(n, ep); });
    return ep;
  }

  void publish(Node& n, EndpointId ep, RemoteTrackId id, const std::string& name) {
    send(n, ep, tev::Publish{id, {name, media::MediaKind::kVideo, "{\"src\":\"camera\"}"}});
  }

  void media(Node& n, EndpointId ep, RemoteTrackId id, uint16_t seq, bool key, uint8_t spatial_layer = 0,
             int32_t picture_id = -1) {
    media::MediaPacket p;
    p.spatial_layer = spatial_layer;
    p.picture_id = picture_id;
    p.codec = media::Codec::kVP8;
    p.seq = seq;
    p.timestamp = seq * 3000u;
    p.marker = true;
    p.keyframe = key;
    p.arrival = wall_micros();
    p.payload = std::span<const uint8_t>(key ? kVp8Key : kVp8Delta);
    send(n, ep, tev::RemoteMedia{id, p});
  }

  template <typename T>
  std::vector<T> take(Node& n, EndpointId ep) {
    std::vector<T> out;
    auto& evs = n.events[ep];
    for (auto it = evs.begin(); it != evs.end();) {
      if (auto* e = std::get_if<T>(&*it)) {
        out.push_back(std::move(*e));
        it = evs.erase(it);
      } else {
        ++it;
      }
    }
    return out;
  }

  template <typename T>
  bool has(Node& n, EndpointId ep, const std::function<bool(const T&)>& match = nullptr) {
    for (const auto& e : n.events[ep])
      if (auto* x = std::get_if<T>(&e); x && (!match || match(*x))) return true;
    return false;
  }

  NatsServerProcess server;
  std::vector<std::unique_ptr<Node>> nodes;
};

}  // namespace atrium::cluster::nats::testing
