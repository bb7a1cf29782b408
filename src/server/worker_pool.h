// N media workers, one per core by default (see worker.h).
#pragma once

#include <atomic>
#include <cstddef>
#include <functional>
#include <memory>
#include <vector>

#include "server/worker.h"

namespace atrium::server {

class WorkerPool {
 public:
  explicit WorkerPool(std::size_t count);
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;
  ~WorkerPool();

  // Starts the threads. `on_thread_start` runs first on each worker's own thread: the place to emplace its
  // per-worker objects. Returns once every hook has run, so work posted afterwards finds those objects.
  void start(std::function<void(Worker&)> on_thread_start = {});
  // Stops every loop (pending work is dropped), destroys per-worker objects, joins. Idempotent.
  void stop();

  std::size_t size() const { return workers_.size(); }
  Worker& at(std::size_t index) { return *workers_.at(index); }
  // Round robin, for placing a new peer.
  Worker& next();

 private:
  std::vector<std::unique_ptr<Worker>> workers_;
  std::atomic<std::size_t> next_{0};
  bool started_ = false;
};

}  // namespace atrium::server
