#include "server/worker_core.h"

namespace atrium::server {

WorkerCore::WorkerCore(Worker& worker) : timer_(worker.io_context()) {
  schedule();
}

WorkerCore::~WorkerCore() {
  timer_.cancel();
}

int64_t WorkerCore::now() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

void WorkerCore::schedule() {
  timer_.expires_after(kTick);
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    const int64_t t = now();
    hub_.on_tick(t);
    if (after_tick_) after_tick_(t);
    const auto s = hub_.stats();
    rooms_.store(s.bus.rooms, std::memory_order_relaxed);
    peers_.store(s.bus.peers, std::memory_order_relaxed);
    tracks_.store(s.bus.tracks, std::memory_order_relaxed);
    schedule();
  });
}

CoreStats WorkerCore::stats() const {
  return {rooms_.load(std::memory_order_relaxed), peers_.load(std::memory_order_relaxed),
          tracks_.load(std::memory_order_relaxed)};
}

}  // namespace atrium::server
