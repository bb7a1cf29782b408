#include "server/address_quota.h"

namespace atrium::server {

AddressQuota::Slot& AddressQuota::Slot::operator=(Slot&& other) noexcept {
  if (this != &other) {
    release();
    quota_ = std::move(other.quota_);
    address_ = std::move(other.address_);
  }
  return *this;
}

void AddressQuota::Slot::release() {
  if (auto quota = std::move(quota_)) quota->release(address_);
  quota_ = nullptr;
}

AddressQuota::Reserved AddressQuota::try_reserve(std::string_view address) {
  std::lock_guard lock(mutex_);
  if (total_ >= max_total_) return Reserved::kServerFull;
  auto it = by_address_.find(std::string(address));
  if (it != by_address_.end() && it->second >= max_per_address_) return Reserved::kAddressFull;
  if (it == by_address_.end()) it = by_address_.emplace(std::string(address), 0).first;
  ++it->second;
  ++total_;
  return Reserved::kYes;
}

void AddressQuota::release(std::string_view address) {
  std::lock_guard lock(mutex_);
  auto it = by_address_.find(std::string(address));
  if (it == by_address_.end()) return;  // never reserved: nothing to give back
  --total_;
  if (--it->second <= 0) by_address_.erase(it);
}

AddressQuota::Slot AddressQuota::take(std::string_view address, Reserved& why) {
  why = try_reserve(address);
  if (why != Reserved::kYes) return {};
  return Slot(shared_from_this(), std::string(address));
}

int64_t AddressQuota::total() const {
  std::lock_guard lock(mutex_);
  return total_;
}

int64_t AddressQuota::of(std::string_view address) const {
  std::lock_guard lock(mutex_);
  auto it = by_address_.find(std::string(address));
  return it == by_address_.end() ? 0 : it->second;
}

}  // namespace atrium::server
