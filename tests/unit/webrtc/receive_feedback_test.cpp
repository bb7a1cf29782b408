// Receiver-side RTCP facts: what our RR says about a stream (RFC 3550 A.3, A.8) and the transport-cc feedback
// we build for a publisher's bandwidth estimator.
#include <gtest/gtest.h>

#include <array>
#include <vector>

#include "media/rtcp/rtcp_packet.h"
#include "media/rtcp/twcc.h"
#include "transport/webrtc/rtp/receive_statistics.h"
#include "transport/webrtc/rtp/twcc_recorder.h"

namespace atrium::webrtc {
namespace {

TEST(ReceiveStatistics, CountsLossAcrossTheWrapAndReportsTheInterval) {
  ReceiveStatistics s(90000);
  // 65530 .. 65535, 0 .. 9 with 3 and 5 missing: 16 expected, 14 received.
  uint16_t seq = 65530;
  for (int i = 0; i < 16; ++i, ++seq) {
    if (seq == 3 || seq == 5) continue;
    s.on_packet(seq, 3000u * static_cast<uint32_t>(i), 33'333 * i);
  }
  auto rb = s.report(0x1234, 1'000'000);
  EXPECT_EQ(rb.ssrc, 0x1234u);
  EXPECT_EQ(rb.extended_highest_seq, 65536u + 9u);
  EXPECT_EQ(rb.cumulative_lost, 2);
  EXPECT_EQ(rb.fraction_lost, (2 << 8) / 16);
  // The next interval has no loss.
  for (int i = 16; i < 26; ++i, ++seq)
    s.on_packet(seq, 3000u * static_cast<uint32_t>(i), 33'333 * i);
  rb = s.report(0x1234, 2'000'000);
  EXPECT_EQ(rb.fraction_lost, 0);
  EXPECT_EQ(rb.cumulative_lost, 2);
}

TEST(ReceiveStatistics, LateAndDuplicatePacketsDoNotMoveTheHighestSequence) {
  ReceiveStatistics s(48000);
  s.on_packet(100, 0, 0);
  s.on_packet(102, 1920, 40'000);
  s.on_packet(101, 960, 41'000);   // late
  s.on_packet(102, 1920, 42'000);  // duplicate
  auto rb = s.report(1, 50'000);
  EXPECT_EQ(rb.extended_highest_seq, 102u);
  EXPECT_EQ(rb.cumulative_lost, -1);  // RFC 3550: duplicates can make it negative
}

TEST(ReceiveStatistics, JitterGrowsWithIrregularArrivalAndStaysZeroWhenRegular) {
  ReceiveStatistics regular(90000), irregular(90000);
  for (int i = 0; i < 100; ++i) {
    regular.on_packet(static_cast<uint16_t>(i), 3000u * static_cast<uint32_t>(i), 33'333 * i + 0);
    irregular.on_packet(static_cast<uint16_t>(i), 3000u * static_cast<uint32_t>(i),
                        33'333 * i + (i % 2 ? 10'000 : 0));
  }
  EXPECT_LE(regular.report(1, 4'000'000).jitter, 2u);
  // 10 ms steps are 900 ticks; the estimate converges to about that.
  const auto j = irregular.report(1, 4'000'000).jitter;
  EXPECT_GT(j, 700u);
  EXPECT_LT(j, 1000u);
}

TEST(ReceiveStatistics, LsrAndDlsrComeFromTheLastSenderReport) {
  ReceiveStatistics s;
  s.on_packet(1, 0, 0);
  const uint64_t ntp = (uint64_t{0x11223344} << 32) | 0x55667788;
  s.on_sender_report(ntp, 1'000'000);
  auto rb = s.report(1, 1'500'000);
  EXPECT_EQ(rb.last_sr, 0x33445566u);
  EXPECT_EQ(rb.delay_since_last_sr, 65536u / 2);
}

std::vector<media::TwccPacketStatus> parse_feedback(std::span<const uint8_t> packet) {
  auto h = media::parse_rtcp_header(packet);
  EXPECT_TRUE(h);
  auto view = media::TwccFeedbackView::parse(*h);
  EXPECT_TRUE(view);
  std::vector<media::TwccPacketStatus> out;
  auto it = view->packets();
  while (auto p = it.next())
    out.push_back(*p);
  return out;
}

TEST(TwccRecorder, ReportsArrivalsInOrderWithGapsAsLost) {
  TwccRecorder r;
  r.on_packet(11, 1'000'000);
  r.on_packet(10, 1'000'500);  // reordered in the network
  r.on_packet(13, 1'002'000);
  std::array<uint8_t, 1500> buf{};
  const size_t n = r.write_feedback(buf, 1, 2);
  ASSERT_GT(n, 0u);
  EXPECT_FALSE(r.has_pending());
  auto st = parse_feedback(std::span(buf.data(), n));
  ASSERT_EQ(st.size(), 4u);
  EXPECT_EQ(st[0].seq, 10);
  EXPECT_TRUE(st[0].received);
  EXPECT_TRUE(st[1].received);
  EXPECT_FALSE(st[2].received);
  EXPECT_TRUE(st[3].received);
  EXPECT_EQ(st[3].arrival_us - st[1].arrival_us, 2000);
}

TEST(TwccRecorder, CarriesAcrossTheSequenceWrapAndDropsWhatAnEarlierFeedbackCovered) {
  TwccRecorder r;
  std::array<uint8_t, 1500> buf{};
  r.on_packet(65534, 0);
  r.on_packet(65535, 1000);
  ASSERT_GT(r.write_feedback(buf, 1, 2), 0u);
  r.on_packet(65533, 1500);  // older than the feedback already sent: the sender counted it lost
  r.on_packet(0, 2000);
  r.on_packet(1, 3000);
  const size_t n = r.write_feedback(buf, 1, 2);
  ASSERT_GT(n, 0u);
  auto st = parse_feedback(std::span(buf.data(), n));
  ASSERT_EQ(st.size(), 2u);
  EXPECT_EQ(st[0].seq, 0);
  EXPECT_EQ(st[1].seq, 1);
}

TEST(TwccRecorder, SplitsLargeBatchesIntoSeveralFeedbackPackets) {
  TwccRecorder r;
  for (int i = 0; i < 600; ++i)
    r.on_packet(static_cast<uint16_t>(i), 1000 * i);
  std::array<uint8_t, 1500> buf{};
  size_t covered = 0;
  int packets = 0;
  while (r.has_pending()) {
    const size_t n = r.write_feedback(buf, 1, 2);
    ASSERT_GT(n, 0u);
    ASSERT_LE(n, 1200u);
    covered += parse_feedback(std::span(buf.data(), n)).size();
    ++packets;
  }
  EXPECT_EQ(covered, 600u);
  EXPECT_EQ(packets, 3);
}

}  // namespace
}  // namespace atrium::webrtc
