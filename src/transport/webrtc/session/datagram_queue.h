// Datagrams a session wants sent, in fixed slots: the forwarding path writes an RTP header, the payload and
// the SRTP trailer straight into a slot and the runtime sends it from there. When the runtime falls behind
// the queue does not grow; the newest datagram is dropped and counted.
//
// The slots' memory comes in blocks of kBlockSlots, each allocated the first time the queue reaches into it
// and kept from then on (a slot never moves). A session that only ever has a few datagrams queued (an idle
// client: STUN answers, reports) holds one block, ~12 KB; a busy viewer grows to all of them, at most once
// each in its life.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "transport/webrtc/net/socket_address.h"

namespace atrium::webrtc {

class DatagramQueue {
 public:
  static constexpr size_t kSlotSize = 1536;  // an Ethernet MTU plus room for the SRTP trailer

  static constexpr size_t kBlockSlots = 8;

  explicit DatagramQueue(size_t slots = 64)
      : slots_(std::max<size_t>(slots, 1)), blocks_((slots_.size() + kBlockSlots - 1) / kBlockSlots) {}

  // Writable space for the next datagram, or an empty span when the queue is full (counted as a drop).
  std::span<uint8_t> prepare() {
    if (size_ == slots_.size()) {
      ++dropped_;
      return {};
    }
    const size_t k = index(size_);
    auto& block = blocks_[k / kBlockSlots];
    if (!block) block = std::make_unique_for_overwrite<uint8_t[]>(kBlockSlots * kSlotSize);
    return {data(k), kSlotSize};
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
    return View{{data(head_), s.len}, s.to};
  }
  // The i-th queued datagram (0 = front), i < size(). Slots never move: a view stays valid until that
  // datagram is popped, however many are queued behind it meanwhile (the runtime batches sends on that).
  View at(size_t i) const {
    const size_t k = index(i);
    return View{{data(k), slots_[k].len}, slots_[k].to};
  }
  void pop() {
    if (size_ == 0) return;
    // Drained: start over at slot 0, so a queue that never holds many only ever touches its first block.
    head_ = --size_ == 0 ? 0 : (head_ + 1) % slots_.size();
  }

  bool empty() const { return size_ == 0; }
  size_t size() const { return size_; }
  uint64_t dropped() const { return dropped_; }
  // Bytes of slot memory allocated so far.
  size_t allocated_bytes() const {
    return kBlockSlots * kSlotSize *
           static_cast<size_t>(
               std::count_if(blocks_.begin(), blocks_.end(), [](const auto& b) { return b != nullptr; }));
  }

 private:
  struct Slot {
    SocketAddress to;
    uint16_t len = 0;
  };
  size_t index(size_t i) const { return (head_ + i) % slots_.size(); }
  // Slot k's bytes; its block exists once prepare() reached it.
  uint8_t* data(size_t k) const { return &blocks_[k / kBlockSlots][(k % kBlockSlots) * kSlotSize]; }

  std::vector<Slot> slots_;
  std::vector<std::unique_ptr<uint8_t[]>> blocks_;
  size_t head_ = 0;
  size_t size_ = 0;
  uint64_t dropped_ = 0;
};

}  // namespace atrium::webrtc
