// A media worker: one thread running its own io_context. A peer lives on one worker for its life, so its
// transport, its core::EndpointHub and its UDP sockets all run on that thread without locks.
#pragma once

#include <cstddef>
#include <memory>
#include <thread>
#include <typeindex>
#include <utility>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

namespace atrium::server {

class Worker {
 public:
  explicit Worker(std::size_t index) : index_(index) {}
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;
  ~Worker();

  std::size_t index() const { return index_; }
  boost::asio::io_context& io_context() { return io_context_; }

  // Runs `fn` on this worker's thread; safe from any thread. Move-only callables are fine.
  template <typename Fn>
  void post(Fn&& fn) {
    boost::asio::post(io_context_, std::forward<Fn>(fn));
  }

  bool in_worker_thread() { return io_context_.get_executor().running_in_this_thread(); }

  // Per-worker objects (the core's EndpointHub, UDP sockets, ...), one per type. Create them on the worker's
  // own thread (in the pool's start hook or a posted function); they are destroyed there too, newest first,
  // after the loop stops and before the io_context goes, so sockets close on the thread that owns them.
  template <typename T, typename... Args>
  T& emplace(Args&&... args) {
    auto object = std::make_shared<T>(std::forward<Args>(args)...);
    T& ref = *object;
    objects_.emplace_back(std::type_index(typeid(T)), std::move(object));
    return ref;
  }
  // The object emplace<T> made, or nullptr. Only on the worker's thread.
  template <typename T>
  T* find() {
    for (auto& [type, object] : objects_) {
      if (type == std::type_index(typeid(T))) return static_cast<T*>(object.get());
    }
    return nullptr;
  }

 private:
  friend class WorkerPool;
  void run_loop();
  void destroy_objects();

  std::size_t index_;
  boost::asio::io_context io_context_{1};  // concurrency hint 1: only this thread runs it
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_{io_context_.get_executor()};
  std::vector<std::pair<std::type_index, std::shared_ptr<void>>> objects_;
  std::thread thread_;
};

}  // namespace atrium::server
