// Datagrams a session wants sent, in fixed slots allocated once: the forwarding path writes an RTP header,
// the payload and the SRTP trailer straight into a slot and the runtime sends it from there. When the runtime
// falls behind the queue does not grow; the newest datagram is dropped and counted.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "transport/webrtc/net/socket_address.h"

namespace atrium::webrtc {

class DatagramQueue {
 public:
  static constexpr size_t kSlotSize = 1536;  // an Ethernet MTU plus room for the SRTP trailer

  explicit DatagramQueue(size_t slots = 64) : slots_(slots), storage_(slots * kSlotSize) {}

  // Writable space for the next datagram, or an empty span when the queue is full (counted as a drop).
  std::span<uint8_t> prepare() {
    if (size_ == slots_.size()) {
      ++dropped_;
      return {};
    }
    return {&storage_[index(size_) * kSlotSize], kSlotSize};
  }
  // Queues the first `len` bytes of the span prepare() gave.
  void commit(size_t len, const SocketAddress& to) {
    slots_[index(size_)] = Slot{to, static_cast<uint16_t>(len)};
    ++size_;
  }

  struct View {
    std::span<const uint8_t> data;
    SocketAddress to;
  };
  std::optional<View> front() const {
    if (size_ == 0) return std::nullopt;
    const Slot& s = slots_[head_];
    return View{{&storage_[head_ * kSlotSize], s.len}, s.to};
  }
  void pop() {
    if (size_ == 0) return;
    head_ = (head_ + 1) % slots_.size();
    --size_;
  }

  bool empty() const { return size_ == 0; }
  size_t size() const { return size_; }
  uint64_t dropped() const { return dropped_; }

 private:
  struct Slot {
    SocketAddress to;
    uint16_t len = 0;
  };
  size_t index(size_t i) const { return (head_ + i) % slots_.size(); }

  std::vector<Slot> slots_;
  std::vector<uint8_t> storage_;
  size_t head_ = 0;
  size_t size_ = 0;
  uint64_t dropped_ = 0;
};

}  // namespace atrium::webrtc
