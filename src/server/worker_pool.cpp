#include "server/worker_pool.h"

#include <exception>
#include <latch>
#include <string>

#include <pthread.h>
#include <spdlog/spdlog.h>

namespace atrium::server {

Worker::~Worker() {
  // A worker that never started still owns objects made on another thread; drop them before the io_context.
  destroy_objects();
}

void Worker::run_loop() {
  // An exception escaping a handler must not take the process down with it: log it and keep serving.
  for (;;) {
    try {
      io_context_.run();
      break;
    } catch (const std::exception& e) {
      spdlog::error("worker {}: unhandled exception: {}", index_, e.what());
    } catch (...) {
      spdlog::error("worker {}: unhandled non-standard exception", index_);
    }
  }
  destroy_objects();
}

void Worker::destroy_objects() {
  while (!objects_.empty())
    objects_.pop_back();
}

WorkerPool::WorkerPool(std::size_t count) {
  workers_.reserve(count);
  for (std::size_t i = 0; i < count; ++i)
    workers_.push_back(std::make_unique<Worker>(i));
}

WorkerPool::~WorkerPool() {
  stop();
}

void WorkerPool::start(std::function<void(Worker&)> on_thread_start) {
  if (started_) return;
  started_ = true;
  std::latch ready(static_cast<std::ptrdiff_t>(workers_.size()));
  for (auto& worker : workers_) {
    worker->thread_ = std::thread([&ready, &on_thread_start, w = worker.get()] {
      const std::string name = "atrium-w" + std::to_string(w->index());
      pthread_setname_np(pthread_self(), name.c_str());  // shows in top -H and gdb
      try {
        if (on_thread_start) on_thread_start(*w);
      } catch (const std::exception& e) {
        spdlog::error("worker {}: start hook failed: {}", w->index(), e.what());
      }
      ready.count_down();
      w->run_loop();
    });
  }
  ready.wait();
}

void WorkerPool::stop() {
  for (auto& worker : workers_) {
    worker->work_.reset();
    worker->io_context_.stop();
  }
  for (auto& worker : workers_) {
    if (worker->thread_.joinable()) worker->thread_.join();
  }
}

Worker& WorkerPool::next() {
  return *workers_[next_.fetch_add(1, std::memory_order_relaxed) % workers_.size()];
}

}  // namespace atrium::server
