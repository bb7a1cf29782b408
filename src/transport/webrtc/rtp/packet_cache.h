// The last packets sent on one outgoing RTP stream, kept so a receiver's NACK can be answered (RFC 4585).
// Fixed slots indexed by sequence number: storing and finding never allocate, and an old entry is simply
// overwritten.
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

  explicit PacketCache(size_t slots = 512) : slots_(slots), data_(slots * kMaxPacket) {}

  // Keeps a copy of an unprotected RTP packet. Packets over kMaxPacket are not kept.
  void store(uint16_t seq, media::Micros now, std::span<const uint8_t> rtp) {
    if (rtp.size() > kMaxPacket) return;
    Slot& s = slots_[seq % slots_.size()];
    s.seq = seq;
    s.size = static_cast<uint16_t>(rtp.size());
    s.sent = now;
    s.valid = true;
    std::memcpy(&data_[(seq % slots_.size()) * kMaxPacket], rtp.data(), rtp.size());
  }

  // The packet with this sequence number if still held and not older than max_age.
  std::span<const uint8_t> find(uint16_t seq, media::Micros now, media::Micros max_age = 1'000'000) const {
    const Slot& s = slots_[seq % slots_.size()];
    if (!s.valid || s.seq != seq || now - s.sent > max_age) return {};
    return {&data_[(seq % slots_.size()) * kMaxPacket], s.size};
  }

 private:
  struct Slot {
    uint16_t seq = 0;
    uint16_t size = 0;
    bool valid = false;
    media::Micros sent = 0;
  };
  std::vector<Slot> slots_;
  std::vector<uint8_t> data_;
};

}  // namespace atrium::webrtc
