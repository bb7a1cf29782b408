#include "cluster/nats/inbox.h"

namespace atrium::cluster::nats {

void Inbox::push(InboxKind kind, natsMsg* msg) {
  add({kind, MsgPtr(msg), {}});
}

void Inbox::push_completion(std::function<void()> done) {
  add({InboxKind::kCompleted, nullptr, std::move(done)});
}

void Inbox::add(InboxItem&& item) {
  bool was_empty = false;
  {
    std::lock_guard lock(mutex_);
    if (closed_) return;
    was_empty = items_.empty();
    items_.push_back(std::move(item));
    nonempty_.store(true, std::memory_order_release);
  }
  // Outside the item lock: the runtime's wake posts to an io_context, which takes its own locks, and packets
  // arriving meanwhile must not wait for it.
  if (was_empty && wake_) {
    std::lock_guard lock(wake_mutex_);
    bool closed = false;
    {
      std::lock_guard items_lock(mutex_);
      closed = closed_;
    }
    if (!closed) wake_();
  }
}

void Inbox::take(std::vector<InboxItem>& into) {
  if (!nonempty_.load(std::memory_order_acquire)) return;
  std::lock_guard lock(mutex_);
  items_.swap(into);
  nonempty_.store(false, std::memory_order_relaxed);
}

void Inbox::close() {
  std::vector<InboxItem> dropped;
  {
    std::lock_guard lock(mutex_);
    closed_ = true;
    items_.swap(dropped);
    nonempty_.store(false, std::memory_order_relaxed);
  }
  std::lock_guard wait_for_wake(wake_mutex_);
}

}  // namespace atrium::cluster::nats
