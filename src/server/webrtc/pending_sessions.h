// Sessions that were created but have not connected yet (ICE and DTLS not done), counted per client address
// and in total. Such a session costs memory and a slot at once while costing its client one HTTP request, and
// it lives until the connect timeout reaps it (~31 s); without a cap of their own a single client could fill
// the host with them. The HTTP thread reserves a slot before it hands an offer (or an SDK join) to a worker;
// the worker releases it when the session connects or is removed. Thread-safe.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace atrium::server {

class PendingSessions {
 public:
  PendingSessions(int64_t max_total, int64_t max_per_address)
      : max_total_(max_total), max_per_address_(max_per_address) {}

  enum class Reserved : uint8_t { kYes, kAddressFull, kServerFull };
  // Takes a slot for a session of a client at `address`, unless that address or the server is at its cap.
  Reserved try_reserve(std::string_view address);
  // Gives back a slot try_reserve() took for `address`.
  void release(std::string_view address);

  int64_t total() const;
  int64_t of(std::string_view address) const;
  int64_t max_total() const { return max_total_; }
  int64_t max_per_address() const { return max_per_address_; }

 private:
  const int64_t max_total_;
  const int64_t max_per_address_;
  mutable std::mutex mutex_;
  int64_t total_ = 0;
  std::unordered_map<std::string, int64_t> by_address_;  // only addresses with a slot: bounded by max_total
};

}  // namespace atrium::server
