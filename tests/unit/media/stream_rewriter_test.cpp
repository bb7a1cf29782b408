#include "media/rewrite/stream_rewriter.h"

#include <gtest/gtest.h>

namespace atrium::media {
namespace {

TEST(StreamRewriter, FirstSourcePassesThroughUnchanged) {
  StreamRewriter r;
  uint16_t seq = 65535;
  uint32_t ts = 4294967000u;
  ASSERT_TRUE(r.rewrite(0, 90000, seq, ts));
  EXPECT_EQ(seq, 65535);
  EXPECT_EQ(ts, 4294967000u);
  seq = 0;
  ts = 4294967000u + 3000;  // wraps
  ASSERT_TRUE(r.rewrite(33'000, 90000, seq, ts));
  EXPECT_EQ(seq, 0);
}

TEST(StreamRewriter, ReorderingWithinASourceIsKept) {
  StreamRewriter r;
  uint16_t s1 = 10, s3 = 12, s2 = 11;
  uint32_t t = 0;
  ASSERT_TRUE(r.rewrite(0, 90000, s1, t));
  ASSERT_TRUE(r.rewrite(0, 90000, s3, t));
  ASSERT_TRUE(r.rewrite(0, 90000, s2, t)) << "a late packet of the same source still goes (NACK repair)";
  EXPECT_EQ(s2, 11);
}

TEST(StreamRewriter, SwitchContinuesAfterTheHighestSentPacket) {
  StreamRewriter r;
  for (uint16_t i = 0; i < 5; ++i) {
    uint16_t seq = 1000 + i;
    uint32_t ts = 50000 + 3000u * i;
    ASSERT_TRUE(r.rewrite(i * 33'000, 90000, seq, ts));
  }
  r.switch_source();
  uint16_t seq = 7;
  uint32_t ts = 123;
  ASSERT_TRUE(r.rewrite(4 * 33'000 + 50'000, 90000, seq, ts));  // 50 ms after the last packet
  EXPECT_EQ(seq, 1005);
  EXPECT_EQ(ts, 50000u + 3000u * 4 + 4500u);
  uint16_t old = 6;
  uint32_t old_ts = 0;
  EXPECT_FALSE(r.rewrite(0, 90000, old, old_ts)) << "before the switch point";
  uint16_t next = 8;
  uint32_t next_ts = 123 + 3000;
  ASSERT_TRUE(r.rewrite(0, 90000, next, next_ts));
  EXPECT_EQ(next, 1006);
  EXPECT_EQ(next_ts, 50000u + 3000u * 4 + 4500u + 3000u);
}

TEST(StreamRewriter, ImmediateSwitchStillAdvancesTheClock) {
  StreamRewriter r;
  uint16_t seq = 1;
  uint32_t ts = 1000;
  ASSERT_TRUE(r.rewrite(0, 48000, seq, ts));
  r.switch_source();
  seq = 500;
  ts = 1000;
  ASSERT_TRUE(r.rewrite(0, 48000, seq, ts));
  EXPECT_EQ(seq, 2);
  EXPECT_EQ(ts, 1001u) << "two frames never share a timestamp";
}

TEST(StreamRewriter, ALongRunningSourceIsNeverCutOff) {
  // Regression: the switch-point guard compared every packet with the first one, so after 32768 packets
  // (about two minutes of 720p video) everything looked "older" and was dropped.
  StreamRewriter r;
  for (uint32_t i = 0; i < 200000; ++i) {
    uint16_t seq = static_cast<uint16_t>(i);
    uint32_t ts = i * 3000;
    ASSERT_TRUE(r.rewrite(i * 1000, 90000, seq, ts)) << "packet " << i;
    ASSERT_EQ(seq, static_cast<uint16_t>(i));
  }
  r.switch_source();
  for (uint32_t i = 0; i < 200000; ++i) {
    uint16_t seq = static_cast<uint16_t>(5000 + i);
    uint32_t ts = i * 3000;
    ASSERT_TRUE(r.rewrite(200000000 + i * 1000, 90000, seq, ts)) << "after the switch, packet " << i;
  }
}

TEST(StreamRewriter, DroppedPacketsLeaveNoGapAndReorderedOnesKeepTheirPlace) {
  StreamRewriter r;
  uint32_t ts = 0;
  auto out = [&](uint16_t in) {
    uint16_t s = in;
    EXPECT_TRUE(r.rewrite(0, 90000, s, ts)) << in;
    return s;
  };
  EXPECT_EQ(out(100), 100);
  EXPECT_EQ(out(101), 101);
  r.drop(102);  // a frame of a temporal layer the receiver does not get
  r.drop(103);
  EXPECT_EQ(out(105), 103) << "105 arrived before 104 (reordered)";
  EXPECT_EQ(out(104), 102);
  r.drop(106);
  EXPECT_EQ(out(107), 104);
  uint16_t again = 103;
  EXPECT_FALSE(r.rewrite(0, 90000, again, ts)) << "a retransmission of a dropped packet stays dropped";

  // Drops reset at a source switch; the new source continues after the highest packet sent.
  r.switch_source();
  EXPECT_EQ(out(9000), 105);
  r.drop(9001);
  EXPECT_EQ(out(9002), 106);
}

TEST(StreamRewriter, ManyDropsFoldIntoAConstantShiftAcrossTheWrap) {
  StreamRewriter r;
  uint32_t ts = 0;
  uint16_t expect = 0;
  uint16_t in = 65000;
  for (int i = 0; i < 2000; ++i, ++in) {
    if (i % 3 != 0) {  // two of three packets dropped, as with three temporal layers and only TL0 wanted
      r.drop(in);
      continue;
    }
    uint16_t s = in;
    ASSERT_TRUE(r.rewrite(0, 90000, s, ts));
    if (i == 0) expect = s;
    EXPECT_EQ(s, expect) << i;
    ++expect;
  }
  uint16_t ancient = static_cast<uint16_t>(65000 + 3);
  EXPECT_FALSE(r.rewrite(0, 90000, ancient, ts)) << "older than what the rewriter still remembers";
}

}  // namespace
}  // namespace atrium::media
