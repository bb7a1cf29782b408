// The media core of one worker: its cluster bus (the embedded LocalBus, or a NatsClusterBus with --cluster)
// and its EndpointHub, ticked by a timer on the worker's thread. Counts for /metrics are copied into atomics
// at every tick, so the HTTP thread reads them without touching the core.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include <boost/asio/steady_timer.hpp>

#include "cluster/nats/nats_cluster_bus.h"
#include "core/cluster/local_bus.h"
#include "core/hub/endpoint_hub.h"
#include "server/core_stats.h"
#include "server/worker.h"

namespace atrium::server {

// What /metrics shows of a worker's NATS bus (copied at every tick).
struct ClusterStats {
  bool enabled = false;
  bool connected = false;
  uint64_t relayed_in = 0;
  uint64_t relayed_out = 0;
  uint64_t relay_errors = 0;
  size_t directory_entries = 0;
  uint64_t reconnects = 0;
  uint64_t dead_nodes = 0;
};

// A transport runtime other than WebRTC's (RTMP, SIP) that owns some of the hub's endpoints: the hub's
// outputs addressed to them are handed to it. It may feed the hub from inside the call (the caller goes on
// draining the hub's queue after it returns, so what that sets off is delivered too, in order).
class EndpointOwner {
 public:
  virtual ~EndpointOwner() = default;
  virtual void on_endpoint_event(int64_t now, core::EndpointId id, const core::EndpointEvent& event) = 0;
};

class WorkerCore {
 public:
  static constexpr std::chrono::milliseconds kTick{10};

  // The embedded bus.
  explicit WorkerCore(Worker& worker);
  // A NATS bus. Throws std::runtime_error with one line when NATS cannot be reached.
  WorkerCore(Worker& worker, const cluster::nats::NatsBusOptions& options);
  ~WorkerCore();

  core::EndpointHub& hub() { return *hub_; }
  // Microseconds on the steady clock: the only place the core's `now` comes from.
  static int64_t now();
  // Thread-safe snapshot as of the last tick.
  CoreStats stats() const;
  ClusterStats cluster_stats() const;
  // Runs right after every hub tick, on the worker's thread: the transport ticks its sessions and drains what
  // the tick produced.
  void set_after_tick(std::function<void(int64_t now)> fn) { after_tick_ = std::move(fn); }
  // Runs after the bus delivered what arrived from other nodes: the transport drains the hub's outputs (media
  // payloads are views into the bus's messages until the next delivery).
  void set_after_bus(std::function<void(int64_t now)> fn) { after_bus_ = std::move(fn); }

  // The hub's outputs go to WebRTC sessions (SessionRuntime drains the hub, so it sets the pump) or to the
  // owner registered for the endpoint. A runtime that fed the hub calls pump() to get them delivered.
  void set_pump(std::function<void(int64_t now)> fn) { pump_ = std::move(fn); }
  void pump(int64_t now) {
    if (pump_) pump_(now);
  }
  void own(core::EndpointId id, EndpointOwner& owner) { owners_[id] = &owner; }
  void disown(core::EndpointId id) { owners_.erase(id); }
  // Hands `out` to its owner; false when the endpoint has none.
  bool deliver(int64_t now, const core::HubOutput& out) {
    auto it = owners_.find(out.to);
    if (it == owners_.end()) return false;
    it->second->on_endpoint_event(now, out.to, out.event);
    return true;
  }

 private:
  void schedule();
  void on_bus_wake();

  std::unique_ptr<core::ClusterBus> bus_;
  cluster::nats::NatsClusterBus* nats_ = nullptr;
  std::unique_ptr<core::EndpointHub> hub_;
  boost::asio::steady_timer timer_;
  std::function<void(int64_t)> after_tick_;
  std::function<void(int64_t)> after_bus_;
  std::function<void(int64_t)> pump_;
  std::unordered_map<core::EndpointId, EndpointOwner*> owners_;
  std::atomic<size_t> rooms_{0}, peers_{0}, tracks_{0};
  // The wake callback runs on a libnats thread and may outlive nothing: it only posts, and checks this flag.
  std::shared_ptr<std::atomic<bool>> alive_ = std::make_shared<std::atomic<bool>>(true);
  std::atomic<bool> wake_pending_{false};
  mutable std::mutex cluster_mutex_;
  ClusterStats cluster_;
};

}  // namespace atrium::server
