// Counts the API's open TCP connections, plain HTTP and upgraded WebSockets alike, in total and per client
// address, so neither a flood of keep-alive connections nor of idle WebSockets can take every file
// descriptor. A connection holds a Slot for its whole life; the Slot moves from the HTTP session into the
// WebSocket on upgrade and gives its place back when destroyed, on whatever thread that happens (WebSockets
// end on the workers too), hence the mutex.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include <boost/asio/ip/address.hpp>

namespace atrium::server {

class ConnectionLimiter : public std::enable_shared_from_this<ConnectionLimiter> {
 public:
  class Slot {
   public:
    Slot() = default;
    Slot(Slot&& other) noexcept = default;
    Slot& operator=(Slot&& other) noexcept;
    Slot(const Slot&) = delete;
    Slot& operator=(const Slot&) = delete;
    ~Slot() { release(); }
    explicit operator bool() const { return limiter_ != nullptr; }

   private:
    friend class ConnectionLimiter;
    Slot(std::shared_ptr<ConnectionLimiter> limiter, std::string address)
        : limiter_(std::move(limiter)), address_(std::move(address)) {}
    void release();
    std::shared_ptr<ConnectionLimiter> limiter_;
    std::string address_;
  };

  enum class Refusal { kNone, kTotal, kPerAddress };

  ConnectionLimiter(std::size_t max_total, std::size_t max_per_address)
      : max_total_(max_total), max_per_address_(max_per_address) {}

  // A slot, or an empty one and why not (`refused`).
  Slot admit(const boost::asio::ip::address& address, Refusal& refused);

  std::size_t open() const;
  std::size_t open_from(const boost::asio::ip::address& address) const;
  std::size_t max_total() const { return max_total_; }
  std::size_t max_per_address() const { return max_per_address_; }

 private:
  void give_back(const std::string& address);

  const std::size_t max_total_;
  const std::size_t max_per_address_;
  mutable std::mutex mutex_;
  std::size_t open_ = 0;
  std::unordered_map<std::string, std::size_t> per_address_;
};

}  // namespace atrium::server
