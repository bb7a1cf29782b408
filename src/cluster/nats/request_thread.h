// The thread that waits for JetStream so the worker never does. A peer claim, creating or deleting a room
// watch and binding the buckets are request/reply round trips (each bounded by request_timeout_ms); the bus
// posts them here as jobs, which run one at a time in the order posted, and each job hands its result back
// through the bus's Inbox as a completion that runs on the worker.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

namespace atrium::cluster::nats {

class RequestThread {
 public:
  using Job = std::function<void()>;

  RequestThread();
  ~RequestThread();  // stop()
  RequestThread(const RequestThread&) = delete;
  RequestThread& operator=(const RequestThread&) = delete;

  void post(Job job);  // any thread; dropped once stopped
  // Waits for the job in flight (at most one request timeout per call it makes); queued jobs are dropped.
  void stop();

 private:
  void run();

  std::mutex mutex_;  // guards jobs_ and stopping_
  std::condition_variable wake_;
  std::deque<Job> jobs_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace atrium::cluster::nats
