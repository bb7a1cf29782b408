#include "server/webrtc/pending_sessions.h"

namespace atrium::server {

PendingSessions::Reserved PendingSessions::try_reserve(std::string_view address) {
  std::lock_guard lock(mutex_);
  if (total_ >= max_total_) return Reserved::kServerFull;
  auto it = by_address_.find(std::string(address));
  if (it != by_address_.end() && it->second >= max_per_address_) return Reserved::kAddressFull;
  if (it == by_address_.end()) it = by_address_.emplace(std::string(address), 0).first;
  ++it->second;
  ++total_;
  return Reserved::kYes;
}

void PendingSessions::release(std::string_view address) {
  std::lock_guard lock(mutex_);
  auto it = by_address_.find(std::string(address));
  if (it == by_address_.end()) return;  // never reserved: nothing to give back
  --total_;
  if (--it->second <= 0) by_address_.erase(it);
}

int64_t PendingSessions::total() const {
  std::lock_guard lock(mutex_);
  return total_;
}

int64_t PendingSessions::of(std::string_view address) const {
  std::lock_guard lock(mutex_);
  auto it = by_address_.find(std::string(address));
  return it == by_address_.end() ? 0 : it->second;
}

}  // namespace atrium::server
