// A count of things held per client address and in total, each with a cap: the API's open connections
// (HttpServer) and the sessions that have not connected yet (WebRtcService) are both bounded this way, so
// that neither one address nor all of them together can take everything. Thread-safe: places are taken on the
// HTTP thread and often given back on a worker.
//
// A Slot is a place held: it gives itself back when destroyed, so whatever owns the thing it counts (a
// connection, a session, an offer on its way to a worker) releases it on every path without saying so.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace atrium::server {

class AddressQuota : public std::enable_shared_from_this<AddressQuota> {
 public:
  enum class Reserved : uint8_t { kYes, kAddressFull, kServerFull };

  class Slot {
   public:
    Slot() = default;
    Slot(Slot&&) noexcept = default;
    Slot& operator=(Slot&& other) noexcept;
    Slot(const Slot&) = delete;
    Slot& operator=(const Slot&) = delete;
    ~Slot() { release(); }
    explicit operator bool() const { return quota_ != nullptr; }

   private:
    friend class AddressQuota;
    Slot(std::shared_ptr<AddressQuota> quota, std::string address)
        : quota_(std::move(quota)), address_(std::move(address)) {}
    void release();
    std::shared_ptr<AddressQuota> quota_;
    std::string address_;
  };

  AddressQuota(int64_t max_total, int64_t max_per_address)
      : max_total_(max_total), max_per_address_(max_per_address) {}

  // A place for `address`, unless it or the total is at its cap.
  Reserved try_reserve(std::string_view address);
  // Gives back a place try_reserve() took for `address`; one nobody took is ignored.
  void release(std::string_view address);
  // try_reserve() as a Slot (empty when refused, `why` says which cap). The quota must be owned by a
  // shared_ptr: a Slot keeps it alive.
  Slot take(std::string_view address, Reserved& why);

  int64_t total() const;
  int64_t of(std::string_view address) const;
  int64_t max_total() const { return max_total_; }
  int64_t max_per_address() const { return max_per_address_; }

 private:
  const int64_t max_total_;
  const int64_t max_per_address_;
  mutable std::mutex mutex_;
  int64_t total_ = 0;
  std::unordered_map<std::string, int64_t>
      by_address_;  // only addresses holding a place: bounded by max_total
};

}  // namespace atrium::server
