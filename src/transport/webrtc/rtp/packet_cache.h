// The last packets sent on one outgoing RTP stream, kept so a receiver's NACK can be answered (RFC 4585).
//
// Packets are stored back to back in a ring of bytes, each at its real size, and found through an index of
// slots by sequence number; an old packet is simply overwritten, by bytes or by slot. So the memory follows
// the stream's bitrate, not a worst case: the owner grows the ring with reserve() as it measures what the
// stream sends (RtpSender keeps about one repair window of it). Nothing is allocated until the first store
// (a session gets a cache per sending section when its offer is answered, and sections that never carry
// media must cost nothing); after that, storing and finding allocate nothing, and only a reserve() that
// grows reallocates.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

#include "media/media_packet.h"

namespace atrium::webrtc {

class PacketCache {
 public:
  static constexpr size_t kMaxPacket = 1500;

  // `slots`: how many packets can be found at most (sequence numbers modulo it). `initial_bytes`: the ring
  // the first store allocates; `max_bytes`: what reserve() never goes beyond.
  PacketCache(size_t slots, size_t initial_bytes, size_t max_bytes)
      : slot_count_(std::max<size_t>(slots, 1)),
        initial_bytes_(std::clamp(initial_bytes, kMaxPacket, std::max(max_bytes, kMaxPacket))),
        max_bytes_(std::max(max_bytes, kMaxPacket)) {}

  // Keeps a copy of an unprotected RTP packet. Packets over kMaxPacket are not kept.
  void store(uint16_t seq, media::Micros now, std::span<const uint8_t> rtp) {
    if (rtp.empty() || rtp.size() > kMaxPacket) return;
    if (slots_.empty()) {
      slots_.resize(slot_count_);
      ring_.resize(initial_bytes_);
    }
    put(slots_[seq % slot_count_], seq, now, rtp);
  }

  // The packet with this sequence number if still held and not older than max_age.
  std::span<const uint8_t> find(uint16_t seq, media::Micros now, media::Micros max_age = 1'000'000) const {
    if (slots_.empty()) return {};
    const Slot& s = slots_[seq % slot_count_];
    if (!intact(s) || s.seq != seq || now - s.sent > max_age) return {};
    return {&ring_[s.pos % ring_.size()], s.size};
  }

  // Room for `bytes` of packets (at most max_bytes): grows the ring and keeps what it holds; never shrinks.
  // Before the first store it only raises what that store allocates.
  void reserve(size_t bytes) {
    bytes = std::min(bytes, max_bytes_);
    if (ring_.empty()) {
      initial_bytes_ = std::max(initial_bytes_, bytes);
      return;
    }
    if (bytes <= ring_.size()) return;
    // Re-store the packets still held, oldest first, into the larger ring.
    std::vector<Slot> held;
    held.reserve(slot_count_);
    for (const Slot& s : slots_)
      if (intact(s)) held.push_back(s);
    std::sort(held.begin(), held.end(), [](const Slot& a, const Slot& b) { return a.pos < b.pos; });
    std::vector<uint8_t> old = std::move(ring_);
    ring_.assign(bytes, 0);
    head_ = 0;
    for (Slot& s : slots_)
      s.valid = false;
    for (const Slot& s : held)
      put(slots_[s.seq % slot_count_], s.seq, s.sent, {&old[s.pos % old.size()], s.size});
  }

  size_t capacity_bytes() const { return ring_.empty() ? initial_bytes_ : ring_.size(); }
  // Bytes held now: 0 until the first store.
  size_t allocated_bytes() const { return ring_.size() + slots_.size() * sizeof(Slot); }

 private:
  struct Slot {
    uint64_t pos = 0;  // where the packet starts, counted in bytes ever stored (its place: pos % ring size)
    media::Micros sent = 0;
    uint16_t seq = 0;
    uint16_t size = 0;
    bool valid = false;
  };

  void put(Slot& s, uint16_t seq, media::Micros now, std::span<const uint8_t> rtp) {
    const size_t cap = ring_.size();
    // A packet never wraps around the end of the ring: it starts over at the beginning instead.
    if (head_ % cap + rtp.size() > cap) head_ += cap - head_ % cap;
    std::memcpy(&ring_[head_ % cap], rtp.data(), rtp.size());
    s = Slot{head_, now, seq, static_cast<uint16_t>(rtp.size()), true};
    head_ += rtp.size();
  }
  // Not overwritten since: the bytes stored after it have not come round to it.
  bool intact(const Slot& s) const { return s.valid && head_ <= s.pos + ring_.size(); }

  size_t slot_count_;
  size_t initial_bytes_;
  size_t max_bytes_;
  std::vector<Slot> slots_;
  std::vector<uint8_t> ring_;
  uint64_t head_ = 0;  // bytes ever stored, skipped ends included: where the next packet goes
};

}  // namespace atrium::webrtc
