// The one place where libnats threads (and the RequestThread) and the worker meet. libnats callbacks push
// what arrived, the RequestThread what its jobs found; the worker takes everything in one swap under the lock
// and works on it alone. `wake` runs (on the pushing thread) only when the inbox goes from empty to
// non-empty, so a burst of packets costs the runtime one posted task.
#pragma once

#include <atomic>
#include <functional>
#include <mutex>
#include <vector>

#include "cluster/nats/nats_handles.h"

namespace atrium::cluster::nats {

enum class InboxKind : uint8_t {
  kMedia,         // a media frame of a channel this node subscribes to
  kFeedback,      // feedback for a channel this node publishes
  kRoomEntry,     // a directory entry (a JetStream push consumer on a hosted room's keys)
  kHeartbeat,     // another bus instance is alive
  kMessage,       // an application message to a room this node hosts
  kLevels,        // another node's audio-level bins for a room this node hosts
  kDisconnected,  // connection events carry no message
  kReconnected,
  kClosed,
  kCompleted,  // a RequestThread job finished: its completion runs on the worker
};

struct InboxItem {
  InboxKind kind;
  MsgPtr msg;
  std::function<void()> done;  // kCompleted
};

class Inbox {
 public:
  explicit Inbox(std::function<void()> wake) : wake_(std::move(wake)) {}

  void push(InboxKind kind, natsMsg* msg);           // any thread; takes ownership of msg
  void push_completion(std::function<void()> done);  // any thread
  void take(std::vector<InboxItem>& into);  // worker; `into` must be empty, its capacity is swapped in
  // Later pushes are dropped, and once close() returns `wake` is never called again (the runtime it posts to
  // may go away with the bus).
  void close();

 private:
  void add(InboxItem&& item);

  std::function<void()> wake_;
  std::mutex mutex_;       // guards items_ and closed_
  std::mutex wake_mutex_;  // held while wake_ runs, so close() can wait for a wake in flight
  std::vector<InboxItem> items_;
  bool closed_ = false;
  std::atomic<bool> nonempty_{false};  // lets the worker skip the lock when nothing arrived
};

}  // namespace atrium::cluster::nats
