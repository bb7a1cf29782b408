// The last packets sent on one outgoing RTP stream, kept so a receiver's NACK can be answered (RFC 4585).
// Fixed slots indexed by sequence number: an old entry is simply overwritten, and after the first store
// neither storing nor finding allocates. The slots (~1.5 MB for a video stream) are allocated by that first
// store, not by the constructor: a session gets a cache per sending section when its offer is answered, and
// sessions that never connect (or sections that never carry media) must not cost that memory.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

#include "media/media_packet.h"

namespace atrium::webrtc {

class PacketCache {
 public:
  static constexpr size_t kMaxPacket = 1500;

  explicit PacketCache(size_t slots = 512) : capacity_(slots == 0 ? 1 : slots) {}

  // Keeps a copy of an unprotected RTP packet. Packets over kMaxPacket are not kept.
  void store(uint16_t seq, media::Micros now, std::span<const uint8_t> rtp) {
    if (rtp.size() > kMaxPacket) return;
    if (slots_.empty()) {
      slots_.resize(capacity_);
      data_.resize(capacity_ * kMaxPacket);
    }
    Slot& s = slots_[seq % slots_.size()];
    s.seq = seq;
    s.size = static_cast<uint16_t>(rtp.size());
    s.sent = now;
    s.valid = true;
    std::memcpy(&data_[(seq % slots_.size()) * kMaxPacket], rtp.data(), rtp.size());
  }

  // The packet with this sequence number if still held and not older than max_age.
  std::span<const uint8_t> find(uint16_t seq, media::Micros now, media::Micros max_age = 1'000'000) const {
    if (slots_.empty()) return {};
    const Slot& s = slots_[seq % slots_.size()];
    if (!s.valid || s.seq != seq || now - s.sent > max_age) return {};
    return {&data_[(seq % slots_.size()) * kMaxPacket], s.size};
  }

  // Bytes held now: 0 until the first store.
  size_t allocated_bytes() const { return data_.size() + slots_.size() * sizeof(Slot); }

 private:
  struct Slot {
    uint16_t seq = 0;
    uint16_t size = 0;
    bool valid = false;
    media::Micros sent = 0;
  };
  size_t capacity_;
  std::vector<Slot> slots_;
  std::vector<uint8_t> data_;
};

}  // namespace atrium::webrtc
