#include "server/worker_core.h"

#include <stdexcept>

namespace atrium::server {

WorkerCore::WorkerCore(Worker& worker) : timer_(worker.io_context()) {
  bus_ = std::make_unique<core::LocalBus>();
  hub_ = std::make_unique<core::EndpointHub>(*bus_);
  schedule();
}

WorkerCore::WorkerCore(Worker& worker, const cluster::nats::NatsBusOptions& options)
    : timer_(worker.io_context()) {
  WorkerCore* self = this;
  auto alive = alive_;
  // Many messages may arrive before the worker gets to them: one posted drain at a time is enough.
  auto connected = cluster::nats::NatsClusterBus::connect(options, [self, alive, &worker] {
    if (!alive->load() || self->wake_pending_.exchange(true)) return;
    worker.post([self, alive] {
      if (alive->load()) self->on_bus_wake();
    });
  });
  if (!connected.bus) throw std::runtime_error(connected.error);
  nats_ = connected.bus.get();
  bus_ = std::move(connected.bus);
  hub_ = std::make_unique<core::EndpointHub>(*bus_);
  cluster_.enabled = true;
  schedule();
}

WorkerCore::~WorkerCore() {
  alive_->store(false);
  timer_.cancel();
  hub_.reset();
  bus_.reset();  // a NATS bus removes this node's entries and closes its connection here
}

int64_t WorkerCore::now() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

void WorkerCore::on_bus_wake() {
  wake_pending_.store(false);
  const int64_t t = now();
  hub_->on_bus(t);
  if (after_bus_) after_bus_(t);
}

void WorkerCore::schedule() {
  timer_.expires_after(kTick);
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    const int64_t t = now();
    hub_->on_tick(t);
    if (after_tick_) after_tick_(t);
    const auto s = hub_->stats();
    rooms_.store(s.bus.rooms, std::memory_order_relaxed);
    peers_.store(s.bus.peers, std::memory_order_relaxed);
    tracks_.store(s.bus.tracks, std::memory_order_relaxed);
    if (nats_) {
      const auto n = nats_->nats_stats();
      std::lock_guard lock(cluster_mutex_);
      cluster_.connected = n.connection == "connected";
      cluster_.relayed_in = n.relayed_in;
      cluster_.relayed_out = n.relayed_out;
      cluster_.relay_errors = n.relay_errors;
      cluster_.directory_entries = n.directory_entries;
      cluster_.reconnects = n.reconnects;
      cluster_.dead_nodes = n.dead_nodes;
    }
    schedule();
  });
}

CoreStats WorkerCore::stats() const {
  return {rooms_.load(std::memory_order_relaxed), peers_.load(std::memory_order_relaxed),
          tracks_.load(std::memory_order_relaxed)};
}

ClusterStats WorkerCore::cluster_stats() const {
  std::lock_guard lock(cluster_mutex_);
  return cluster_;
}

}  // namespace atrium::server
