// The media core of one worker: its LocalBus and EndpointHub, ticked by a timer on the worker's thread.
// Counts for /metrics are copied into atomics at every tick, so the HTTP thread reads them without touching
// the core.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>

#include <boost/asio/steady_timer.hpp>

#include "core/cluster/local_bus.h"
#include "core/hub/endpoint_hub.h"
#include "server/core_stats.h"
#include "server/worker.h"

namespace atrium::server {

class WorkerCore {
 public:
  static constexpr std::chrono::milliseconds kTick{10};

  explicit WorkerCore(Worker& worker);
  ~WorkerCore();

  core::EndpointHub& hub() { return hub_; }
  // Microseconds on the steady clock: the only place the core's `now` comes from.
  static int64_t now();
  // Thread-safe snapshot as of the last tick.
  CoreStats stats() const;
  // Runs right after every hub tick, on the worker's thread: the transport ticks its sessions and drains what
  // the tick produced.
  void set_after_tick(std::function<void(int64_t now)> fn) { after_tick_ = std::move(fn); }

 private:
  void schedule();

  core::LocalBus bus_;
  core::EndpointHub hub_{bus_};
  boost::asio::steady_timer timer_;
  std::function<void(int64_t)> after_tick_;
  std::atomic<size_t> rooms_{0}, peers_{0}, tracks_{0};
};

}  // namespace atrium::server
