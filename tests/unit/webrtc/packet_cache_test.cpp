// The NACK cache holds nothing until its stream sends (a session answered with many sending sections must
// not cost memory per section before, or without, ever connecting), stores packets at their real size, and
// grows with the stream's rate while keeping what it holds.
#include "transport/webrtc/rtp/packet_cache.h"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <vector>

namespace atrium::webrtc {
namespace {

std::vector<uint8_t> packet(uint16_t seq, size_t size) {
  std::vector<uint8_t> p(size, static_cast<uint8_t>(seq));
  p[0] = 0x80;
  return p;
}

TEST(PacketCache, AllocatesOnTheFirstStoreOnly) {
  PacketCache cache(1024, 64 * 1024, 1024 * 1024);
  EXPECT_EQ(cache.allocated_bytes(), 0u);
  EXPECT_TRUE(cache.find(7, 0).empty());  // finding in an empty cache allocates nothing either
  EXPECT_EQ(cache.allocated_bytes(), 0u);

  const std::array<uint8_t, 3> p{0x80, 0x60, 0x07};
  cache.store(7, 1'000, p);
  EXPECT_GE(cache.allocated_bytes(), 64u * 1024);
  EXPECT_LT(cache.allocated_bytes(), 64u * 1024 + 1024 * 64) << "the ring, plus a small index";
  const auto found = cache.find(7, 2'000);
  ASSERT_EQ(found.size(), p.size());
  EXPECT_EQ(found[2], 0x07);
  EXPECT_TRUE(cache.find(8, 2'000).empty());
}

TEST(PacketCache, KeepsTheNewestBytesAndForgetsWhatTheyOverwrote) {
  // 10 packets of 1000 B fit in 10 kB; the 11th overwrites the first (never a torn packet).
  PacketCache cache(64, 10'000, 10'000);
  for (uint16_t seq = 0; seq < 11; ++seq)
    cache.store(seq, 0, packet(seq, 1000));
  EXPECT_TRUE(cache.find(0, 0).empty());
  for (uint16_t seq = 1; seq < 11; ++seq) {
    const auto found = cache.find(seq, 0);
    ASSERT_EQ(found.size(), 1000u) << seq;
    EXPECT_EQ(found[1], static_cast<uint8_t>(seq));
    EXPECT_EQ(found[999], static_cast<uint8_t>(seq));
  }
}

TEST(PacketCache, APacketNeverWrapsAroundTheRing) {
  PacketCache cache(64, 10'000, 10'000);
  for (uint16_t seq = 0; seq < 9; ++seq)
    cache.store(seq, 0, packet(seq, 1000));
  // 1400 B do not fit in the last 1000: the packet starts over at the beginning, over packets 0 and 1.
  cache.store(9, 0, packet(9, 1400));
  const auto found = cache.find(9, 0);
  ASSERT_EQ(found.size(), 1400u);
  EXPECT_EQ(found[1399], 9);
  EXPECT_TRUE(cache.find(0, 0).empty());
  EXPECT_TRUE(cache.find(1, 0).empty());
  EXPECT_EQ(cache.find(2, 0).size(), 1000u);
  EXPECT_EQ(cache.find(8, 0)[999], 8);
}

TEST(PacketCache, ForgetsByAgeAndBySlot) {
  PacketCache cache(4, 64 * 1024, 64 * 1024);
  cache.store(1, 0, packet(1, 100));
  EXPECT_FALSE(cache.find(1, 500'000, 1'000'000).empty());
  EXPECT_TRUE(cache.find(1, 1'500'000, 1'000'000).empty()) << "older than the window";
  cache.store(5, 0, packet(5, 100));  // same slot (modulo 4)
  EXPECT_TRUE(cache.find(1, 0).empty());
  EXPECT_EQ(cache.find(5, 0).size(), 100u);
}

TEST(PacketCache, GrowsWithTheRateAndKeepsWhatItHeld) {
  PacketCache cache(1024, 8'000, 100'000);
  cache.reserve(20'000);  // before the first store: raises what that store allocates
  EXPECT_EQ(cache.capacity_bytes(), 20'000u);
  for (uint16_t seq = 0; seq < 30; ++seq)
    cache.store(seq, seq, packet(seq, 1000));
  EXPECT_TRUE(cache.find(5, 100).empty());
  EXPECT_FALSE(cache.find(15, 100).empty());
  cache.reserve(60'000);
  EXPECT_EQ(cache.capacity_bytes(), 60'000u);
  for (uint16_t seq = 11; seq < 30; ++seq) {  // what the small ring held is still there
    const auto found = cache.find(seq, 100);
    ASSERT_EQ(found.size(), 1000u) << seq;
    EXPECT_EQ(found[500], static_cast<uint8_t>(seq));
  }
  for (uint16_t seq = 30; seq < 80; ++seq)
    cache.store(seq, seq, packet(seq, 1000));
  EXPECT_FALSE(cache.find(21, 100).empty()) << "60 packets fit now";
  EXPECT_EQ(cache.find(79, 100).size(), 1000u);
  cache.reserve(1'000'000);
  EXPECT_EQ(cache.capacity_bytes(), 100'000u) << "never beyond max_bytes";
  cache.reserve(10'000);
  EXPECT_EQ(cache.capacity_bytes(), 100'000u) << "never shrinks";
}

}  // namespace
}  // namespace atrium::webrtc
