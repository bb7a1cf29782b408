#include "server/http/connection_limiter.h"

namespace atrium::server {

ConnectionLimiter::Slot& ConnectionLimiter::Slot::operator=(Slot&& other) noexcept {
  if (this != &other) {
    release();
    limiter_ = std::move(other.limiter_);
    address_ = std::move(other.address_);
  }
  return *this;
}

void ConnectionLimiter::Slot::release() {
  if (auto limiter = std::move(limiter_)) limiter->give_back(address_);
  limiter_ = nullptr;
}

ConnectionLimiter::Slot ConnectionLimiter::admit(const boost::asio::ip::address& address, Refusal& refused) {
  // An IPv4 client on a dual-stack socket counts as its IPv4 address.
  std::string key =
      address.is_v6() && address.to_v6().is_v4_mapped()
          ? boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, address.to_v6()).to_string()
          : address.to_string();
  std::lock_guard lock(mutex_);
  if (open_ >= max_total_) {
    refused = Refusal::kTotal;
    return {};
  }
  auto& from = per_address_[key];
  if (from >= max_per_address_) {
    refused = Refusal::kPerAddress;
    return {};
  }
  ++from;
  ++open_;
  refused = Refusal::kNone;
  return Slot(shared_from_this(), std::move(key));
}

void ConnectionLimiter::give_back(const std::string& address) {
  std::lock_guard lock(mutex_);
  --open_;
  auto it = per_address_.find(address);
  if (it != per_address_.end() && --it->second == 0) per_address_.erase(it);
}

std::size_t ConnectionLimiter::open() const {
  std::lock_guard lock(mutex_);
  return open_;
}

std::size_t ConnectionLimiter::open_from(const boost::asio::ip::address& address) const {
  std::lock_guard lock(mutex_);
  auto it = per_address_.find(address.to_string());
  return it == per_address_.end() ? 0 : it->second;
}

}  // namespace atrium::server
