// The NACK cache holds nothing until its stream sends: a session answered with many sending sections must
// not cost ~1.5 MB per section before (or without) ever connecting (issue 13, part 5).
#include "transport/webrtc/rtp/packet_cache.h"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>

namespace atrium::webrtc {
namespace {

TEST(PacketCache, AllocatesOnTheFirstStoreOnly) {
  PacketCache cache(1024);
  EXPECT_EQ(cache.allocated_bytes(), 0u);
  EXPECT_TRUE(cache.find(7, 0).empty());  // finding in an empty cache allocates nothing either
  EXPECT_EQ(cache.allocated_bytes(), 0u);

  const std::array<uint8_t, 3> packet{0x80, 0x60, 0x07};
  cache.store(7, 1'000, packet);
  EXPECT_GE(cache.allocated_bytes(), 1024 * PacketCache::kMaxPacket);
  const auto found = cache.find(7, 2'000);
  ASSERT_EQ(found.size(), packet.size());
  EXPECT_EQ(found[2], 0x07);
  EXPECT_TRUE(cache.find(8, 2'000).empty());
}

}  // namespace
}  // namespace atrium::webrtc
