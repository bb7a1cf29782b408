#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <vector>

#include "media/rtcp/rtcp_packet.h"
#include "media/rtcp/twcc.h"

namespace atrium::media {
namespace {

using Bytes = std::vector<uint8_t>;

// base 10, 4 statuses, reference 1 (64 ms), fb count 7; one two-bit status vector [1, 0, 2, 1] (0xD240);
// deltas +1 ms (small), -1 ms (large, int16 -4), +2 ms (small); 2 bytes of padding with P set.
const Bytes kFeedback = {0xAF, 0xCD, 0x00, 0x06, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02, 0x00, 0x0A,
                         0x00, 0x04, 0x00, 0x00, 0x01, 0x07, 0xD2, 0x40, 0x04, 0xFF, 0xFC, 0x08, 0x00, 0x02};

std::optional<TwccFeedbackView> parse(std::span<const uint8_t> b) {
  auto h = parse_rtcp_header(b);
  if (!h) return std::nullopt;
  return TwccFeedbackView::parse(*h);
}

std::vector<TwccPacketStatus> all(const TwccFeedbackView& v) {
  std::vector<TwccPacketStatus> out;
  auto it = v.packets();
  while (auto s = it.next())
    out.push_back(*s);
  return out;
}

TEST(RtcpTwcc, ParsesHandBuiltFeedback) {
  auto v = parse(kFeedback);
  ASSERT_TRUE(v);
  EXPECT_EQ(v->sender_ssrc(), 1u);
  EXPECT_EQ(v->media_ssrc(), 2u);
  EXPECT_EQ(v->base_seq(), 10);
  EXPECT_EQ(v->status_count(), 4);
  EXPECT_EQ(v->reference_time(), 1);
  EXPECT_EQ(v->reference_time_us(), 64'000);
  EXPECT_EQ(v->fb_count(), 7);
  EXPECT_EQ(v->received_count(), 3u);
  auto s = all(*v);
  ASSERT_EQ(s.size(), 4u);
  EXPECT_EQ(s[0].seq, 10);
  EXPECT_TRUE(s[0].received);
  EXPECT_EQ(s[0].delta_us, 1000);
  EXPECT_EQ(s[0].arrival_us, 65'000);
  EXPECT_EQ(s[1].seq, 11);
  EXPECT_FALSE(s[1].received);
  EXPECT_EQ(s[2].seq, 12);
  EXPECT_TRUE(s[2].received);
  EXPECT_EQ(s[2].delta_us, -1000);
  EXPECT_EQ(s[2].arrival_us, 64'000);
  EXPECT_EQ(s[3].seq, 13);
  EXPECT_EQ(s[3].delta_us, 2000);
  EXPECT_EQ(s[3].arrival_us, 66'000);
}

TEST(RtcpTwcc, WriterReproducesHandBuiltBytes) {
  const std::array<TwccReceived, 3> rx = {TwccReceived{10, 65'000}, TwccReceived{12, 64'000},
                                          TwccReceived{13, 66'000}};
  std::array<uint8_t, 64> out{};
  const size_t n = write_twcc_feedback(out, 1, 2, 7, rx);
  ASSERT_EQ(n, kFeedback.size());
  EXPECT_EQ(Bytes(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(n)), kFeedback);
  EXPECT_EQ(write_twcc_feedback(std::span(out).first(n - 1), 1, 2, 7, rx), 0u);
}

TEST(RtcpTwcc, RunLengthAndOneBitVectorChunks) {
  // 20 received 1 ms apart, 100 lost, 2 received: expect a run of 20 "small", a run of 100 "not received",
  // then a one-bit vector for the last two.
  std::vector<TwccReceived> rx;
  for (uint16_t i = 0; i < 20; ++i)
    rx.push_back({static_cast<uint16_t>(500 + i), 1'000'000 + 1000 * i});
  rx.push_back({620, 1'060'000});  // 41 ms after 519: still a small delta
  rx.push_back({621, 1'060'250});
  std::array<uint8_t, 128> out{};
  const size_t n = write_twcc_feedback(out, 3, 4, 0, rx);
  ASSERT_GT(n, 0u);
  EXPECT_EQ(n % 4, 0u);
  // chunks start at byte 20
  EXPECT_EQ(out[20], 0x20);  // run, symbol 1, length 20
  EXPECT_EQ(out[21], 20);
  EXPECT_EQ(out[22], 0x00);  // run, symbol 0, length 100
  EXPECT_EQ(out[23], 100);
  EXPECT_EQ(out[24], 0x80 | 0x30);  // one-bit vector: first two symbols 1
  EXPECT_EQ(out[25], 0x00);

  auto v = parse(std::span(out).first(n));
  ASSERT_TRUE(v);
  EXPECT_EQ(v->base_seq(), 500);
  EXPECT_EQ(v->status_count(), 122);
  EXPECT_EQ(v->received_count(), 22u);
  auto s = all(*v);
  ASSERT_EQ(s.size(), 122u);
  size_t k = 0;
  for (const auto& st : s) {
    if (!st.received) continue;
    EXPECT_EQ(st.seq, rx[k].seq);
    EXPECT_EQ(st.arrival_us, rx[k].arrival_us);
    ++k;
  }
  EXPECT_EQ(k, rx.size());
  EXPECT_EQ(v->reference_time(), 1'000'000 / 64'000);
}

TEST(RtcpTwcc, LargeRoundTripAcrossSequenceWrapWithLossAndReordering) {
  std::vector<TwccReceived> rx;
  uint32_t rng = 12345;
  auto next = [&] {
    rng = rng * 1664525u + 1013904223u;
    return rng >> 8;
  };
  Micros t = 5'000'123;
  for (uint32_t i = 0; i < 3000; ++i) {
    const auto seq = static_cast<uint16_t>(64'000 + i);
    if (next() % 10 == 0) continue;  // lost
    const uint32_t r = next() % 100;
    if (r < 80) {
      t += next() % 20'000;  // up to 20 ms: small or large delta
    } else if (r < 95) {
      t -= next() % 5'000;  // arrives before the previous one (reordered in the network)
    } else {
      t += 70'000 + next() % 1'000'000;  // a big jump: needs a 16-bit delta
    }
    rx.push_back({seq, t});
  }
  std::vector<uint8_t> out(20'000);
  const size_t n = write_twcc_feedback(out, 1, 2, 200, rx);
  ASSERT_GT(n, 0u);
  auto v = parse(std::span(out).first(n));
  ASSERT_TRUE(v);
  EXPECT_EQ(v->base_seq(), rx.front().seq);
  EXPECT_EQ(v->status_count(), static_cast<uint16_t>(rx.back().seq - rx.front().seq + 1));
  EXPECT_EQ(v->received_count(), rx.size());
  EXPECT_EQ(v->fb_count(), 200);
  size_t k = 0;
  uint16_t expect_seq = v->base_seq();
  for (const auto& st : all(*v)) {
    EXPECT_EQ(st.seq, expect_seq++);
    if (!st.received) {
      if (k < rx.size()) {
        EXPECT_NE(st.seq, rx[k].seq);
      }
      continue;
    }
    ASSERT_LT(k, rx.size());
    EXPECT_EQ(st.seq, rx[k].seq);
    // arrivals come back rounded down to 250 us
    const Micros want = rx[k].arrival_us / 250 * 250;
    EXPECT_EQ(st.arrival_us, want) << "seq " << st.seq;
    ++k;
  }
  EXPECT_EQ(k, rx.size());
}

TEST(RtcpTwcc, WriterRejectsUnsortedUnencodableAndEmpty) {
  std::array<uint8_t, 64> out{};
  EXPECT_EQ(write_twcc_feedback(out, 1, 2, 0, {}), 0u);
  const std::array<TwccReceived, 2> unsorted = {TwccReceived{5, 0}, TwccReceived{4, 1000}};
  EXPECT_EQ(write_twcc_feedback(out, 1, 2, 0, unsorted), 0u);
  const std::array<TwccReceived, 2> dup = {TwccReceived{5, 0}, TwccReceived{5, 1000}};
  EXPECT_EQ(write_twcc_feedback(out, 1, 2, 0, dup), 0u);
  const std::array<TwccReceived, 2> gap = {TwccReceived{5, 0}, TwccReceived{6, 9'000'000}};  // > 8.19 s
  EXPECT_EQ(write_twcc_feedback(out, 1, 2, 0, gap), 0u);
  const std::array<TwccReceived, 1> one = {TwccReceived{65535, 128'000}};
  const size_t n = write_twcc_feedback(out, 1, 2, 0, one);
  ASSERT_GT(n, 0u);
  auto v = parse(std::span(out).first(n));
  ASSERT_TRUE(v);
  auto s = all(*v);
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].seq, 65535);
  EXPECT_EQ(s[0].arrival_us, 128'000);
  EXPECT_EQ(s[0].delta_us, 0);
}

TEST(RtcpTwcc, NegativeReferenceTimeIsSignExtended) {
  Bytes b = kFeedback;
  b[16] = 0xFF;  // reference time 0xFFFFFF = -1
  b[17] = 0xFF;
  b[18] = 0xFF;
  auto v = parse(b);
  ASSERT_TRUE(v);
  EXPECT_EQ(v->reference_time(), -1);
  EXPECT_EQ(all(*v)[0].arrival_us, -64'000 + 1000);
}

TEST(RtcpTwcc, RejectsMalformedFeedback) {
  // Missing the last delta byte (the packet is re-sized to stay a valid RTCP packet: no padding, length 5).
  Bytes short_deltas = {0x8F, 0xCD, 0x00, 0x05, 0,    0,    0,    1,    0,    0,    0,    2,
                        0x00, 0x0A, 0x00, 0x04, 0x00, 0x00, 0x01, 0x07, 0xD2, 0x40, 0x04, 0xFF};
  EXPECT_FALSE(parse(short_deltas));
  // Reserved symbol 3 in a two-bit vector.
  Bytes reserved = kFeedback;
  reserved[20] = 0xF2;  // 11 11 ... first symbol 3
  EXPECT_FALSE(parse(reserved));
  // Reserved symbol in a run-length chunk.
  Bytes run3 = kFeedback;
  run3[20] = 0x60;
  run3[21] = 0x04;
  EXPECT_FALSE(parse(run3));
  // Status count larger than the chunks can cover.
  Bytes count = kFeedback;
  count[15] = 0xFF;
  EXPECT_FALSE(parse(count));
  // Too short for the fixed fields.
  const Bytes tiny = {0x8F, 0xCD, 0x00, 0x03, 0, 0, 0, 1, 0, 0, 0, 2, 0, 1, 0, 1};
  EXPECT_FALSE(parse(tiny));
  // Not fmt 15.
  Bytes nack = kFeedback;
  nack[0] = 0xA1;
  EXPECT_FALSE(parse(nack));
}

TEST(RtcpTwcc, StatusCountZeroAndSymbolsBeyondCountAreIgnored) {
  // status count 0: no chunks needed.
  const Bytes zero = {0x8F, 0xCD, 0x00, 0x04, 0, 0, 0, 1, 0, 0, 0, 2, 0, 1, 0, 0, 0, 0, 0, 0};
  auto v = parse(zero);
  ASSERT_TRUE(v);
  EXPECT_TRUE(all(*v).empty());
  // A one-bit vector with 14 symbols of which the count covers only 2: the rest (all received) need no
  // deltas.
  const Bytes vec = {0x8F, 0xCD, 0x00, 0x05, 0, 0, 0, 1, 0,    0,    0,    2,
                     0,    1,    0,    2,    0, 0, 0, 0, 0xBF, 0xFF, 0x01, 0x02};
  v = parse(vec);
  ASSERT_TRUE(v);
  auto s = all(*v);
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0].delta_us, 250);
  EXPECT_EQ(s[1].delta_us, 500);
  EXPECT_EQ(s[1].arrival_us, 750);
}

}  // namespace
}  // namespace atrium::media
