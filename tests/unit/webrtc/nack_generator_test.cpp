#include "transport/webrtc/rtp/nack_generator.h"

#include <gtest/gtest.h>

#include <array>
#include <vector>

namespace atrium::webrtc {
namespace {

std::vector<uint16_t> poll(NackGenerator& g, media::Micros now) {
  std::array<uint16_t, 64> buf{};
  const size_t n = g.poll(now, buf);
  return {buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(n)};
}

TEST(NackGenerator, AsksForAGapAfterTheReorderWaitThenOncePerRoundTrip) {
  NackGenerator g;
  g.set_rtt(40'000);
  g.on_packet(100, 0);
  g.on_packet(103, 1'000);              // 101 and 102 missing
  EXPECT_TRUE(poll(g, 2'000).empty());  // may just be reordered
  EXPECT_EQ(poll(g, 7'000), (std::vector<uint16_t>{101, 102}));
  EXPECT_TRUE(poll(g, 30'000).empty());  // asked 23 ms ago; the round trip is 40 ms
  g.on_packet(101, 40'000);              // the repair arrived
  EXPECT_EQ(poll(g, 70'000), (std::vector<uint16_t>{102}));
  EXPECT_EQ(g.recovered(), 1u);
}

TEST(NackGenerator, GivesUpAfterMaxRetriesOrMaxAge) {
  NackGenerator g(NackGeneratorConfig{.max_retries = 2});
  g.on_packet(1, 0);
  g.on_packet(3, 0);
  EXPECT_EQ(poll(g, 10'000).size(), 1u);
  EXPECT_EQ(poll(g, 200'000).size(), 1u);
  EXPECT_TRUE(poll(g, 400'000).empty());
  EXPECT_EQ(g.missing(), 0u);
  EXPECT_EQ(g.given_up(), 1u);

  g.on_packet(10, 500'000);
  EXPECT_TRUE(poll(g, 1'600'000).empty());  // 4..9 are over a second old
  EXPECT_EQ(g.given_up(), 7u);
}

TEST(NackGenerator, TellsDuplicatesFromRepairs) {
  NackGenerator g;
  EXPECT_FALSE(g.is_duplicate(50));  // nothing seen yet
  g.on_packet(100, 0);
  g.on_packet(103, 0);
  EXPECT_TRUE(g.is_duplicate(100));   // already here: a browser's RTX probe
  EXPECT_FALSE(g.is_duplicate(101));  // missing: a repair
  EXPECT_FALSE(g.is_duplicate(104));  // new
  g.on_packet(101, 1'000);
  EXPECT_TRUE(g.is_duplicate(101));  // repaired once; a second copy is a duplicate
}

TEST(NackGenerator, WrapsAroundAndRefusesHugeGaps) {
  NackGenerator g;
  g.on_packet(65534, 0);
  g.on_packet(1, 0);  // 65535 and 0 missing across the wrap
  EXPECT_EQ(poll(g, 10'000), (std::vector<uint16_t>{65535, 0}));
  EXPECT_FALSE(g.on_packet(1000, 20'000));  // a gap of 998 is not repaired packet by packet
  EXPECT_EQ(g.missing(), 0u);
  EXPECT_TRUE(g.on_packet(1001, 30'000));
}

}  // namespace
}  // namespace atrium::webrtc
