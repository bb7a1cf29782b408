#include <gtest/gtest.h>

#include <array>
#include <vector>

#include "media/rtcp/rtcp_feedback.h"
#include "media/rtcp/rtcp_packet.h"
#include "media/rtcp/rtcp_reports.h"

namespace atrium::media {
namespace {

using Bytes = std::vector<uint8_t>;

Bytes first(std::span<const uint8_t> s, size_t n) {
  return Bytes(s.begin(), s.begin() + static_cast<std::ptrdiff_t>(n));
}

RtcpHeader only_packet(std::span<const uint8_t> b) {
  RtcpCompoundIterator it(b);
  auto h = it.next();
  EXPECT_TRUE(h);
  EXPECT_FALSE(it.next());
  EXPECT_EQ(it.error(), RtcpError::kNone);
  return h.value_or(RtcpHeader{});
}

// SR, no report blocks: SSRC 0x11223344, NTP 0x0102030405060708, RTP ts 0x0A0B0C0D, 16 packets, 1024 octets.
const Bytes kSr = {0x80, 0xC8, 0x00, 0x06, 0x11, 0x22, 0x33, 0x44, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06,
                   0x07, 0x08, 0x0A, 0x0B, 0x0C, 0x0D, 0x00, 0x00, 0x00, 0x10, 0x00, 0x00, 0x04, 0x00};

TEST(RtcpSr, ParsesHandBuiltPacket) {
  auto sr = SenderReportView::parse(only_packet(kSr));
  ASSERT_TRUE(sr);
  EXPECT_EQ(sr->sender_ssrc(), 0x11223344u);
  EXPECT_EQ(sr->sender_info().ntp_time, 0x0102030405060708ull);
  EXPECT_EQ(sr->sender_info().rtp_timestamp, 0x0A0B0C0Du);
  EXPECT_EQ(sr->sender_info().packet_count, 16u);
  EXPECT_EQ(sr->sender_info().octet_count, 1024u);
  EXPECT_EQ(sr->report_count(), 0u);
  EXPECT_FALSE(ReceiverReportView::parse(only_packet(kSr)));
  EXPECT_EQ(ntp_compact(0x0102030405060708ull), 0x03040506u);
}

TEST(RtcpSr, WriterRoundTripWithReportBlocks) {
  SenderInfo info{0xE1E2E3E4F1F2F3F4ull, 90000, 3, 4000};
  std::array<ReportBlock, 2> rbs = {ReportBlock{0xAAAAAAAA, 25, -1, 0x0001FFFF, 17, 0x12345678, 65536},
                                    ReportBlock{0xBBBBBBBB, 255, 0x7FFFFF, 5, 0, 0, 0}};
  std::array<uint8_t, 128> out{};
  const size_t n = write_sender_report(out, 0xCAFEBABE, info, rbs);
  ASSERT_EQ(n, 28u + 48u);
  EXPECT_EQ(out[0], 0x82);
  EXPECT_EQ(out[1], 200);
  EXPECT_EQ(out[3], n / 4 - 1);
  // first block: fraction 25, cumulative -1 as 24-bit two's complement
  EXPECT_EQ(first(std::span(out).subspan(28), 8), (Bytes{0xAA, 0xAA, 0xAA, 0xAA, 25, 0xFF, 0xFF, 0xFF}));
  auto sr = SenderReportView::parse(only_packet(std::span(out).first(n)));
  ASSERT_TRUE(sr);
  EXPECT_EQ(sr->sender_ssrc(), 0xCAFEBABEu);
  EXPECT_EQ(sr->sender_info(), info);
  ASSERT_EQ(sr->report_count(), 2u);
  EXPECT_EQ(sr->report(0), rbs[0]);
  EXPECT_EQ(sr->report(1), rbs[1]);
  EXPECT_EQ(write_sender_report(std::span(out).first(n - 1), 1, info, rbs), 0u);
}

TEST(RtcpSr, CumulativeLostIsClampedTo24Bits) {
  std::array<ReportBlock, 1> rb = {ReportBlock{1, 0, -10'000'000, 0, 0, 0, 0}};
  std::array<uint8_t, 64> out{};
  const size_t n = write_receiver_report(out, 9, rb);
  auto rr = ReceiverReportView::parse(only_packet(std::span(out).first(n)));
  ASSERT_TRUE(rr);
  EXPECT_EQ(rr->report(0).cumulative_lost, -0x800000);
}

TEST(RtcpRr, RoundTripAndCountMismatch) {
  std::array<ReportBlock, 1> rb = {ReportBlock{0x01020304, 1, 100, 70000, 12, 13, 14}};
  std::array<uint8_t, 64> out{};
  const size_t n = write_receiver_report(out, 0x99, rb);
  ASSERT_EQ(n, 32u);
  auto rr = ReceiverReportView::parse(only_packet(std::span(out).first(n)));
  ASSERT_TRUE(rr);
  EXPECT_EQ(rr->sender_ssrc(), 0x99u);
  ASSERT_EQ(rr->report_count(), 1u);
  EXPECT_EQ(rr->report(0), rb[0]);
  out[0] = 0x82;  // claims two blocks, holds one
  EXPECT_FALSE(ReceiverReportView::parse(only_packet(std::span(out).first(n))));
  EXPECT_EQ(write_receiver_report(out, 0x99), 8u);
  EXPECT_EQ(first(out, 8), (Bytes{0x80, 0xC9, 0x00, 0x01, 0x00, 0x00, 0x00, 0x99}));
}

TEST(RtcpCompound, IteratesSrSdesByeAndStopsAtBadLength) {
  std::array<uint8_t, 256> buf{};
  size_t n = write_sender_report(buf, 7, SenderInfo{1, 2, 3, 4});
  n += write_sdes_cname(std::span(buf).subspan(n), 7, "user@host");
  const std::array<uint32_t, 1> gone = {7};
  n += write_bye(std::span(buf).subspan(n), gone, "bye");
  const auto compound = std::span(buf).first(n);
  EXPECT_TRUE(rtcp_compound_is_valid(compound));

  RtcpCompoundIterator it(compound);
  std::vector<uint8_t> types;
  while (auto h = it.next())
    types.push_back(h->type);
  EXPECT_EQ(types, (std::vector<uint8_t>{200, 202, 203}));
  EXPECT_EQ(it.error(), RtcpError::kNone);

  // Second packet's length now claims far more than is left.
  std::array<uint8_t, 256> bad = buf;
  bad[28 + 3] = 0xFF;
  RtcpCompoundIterator it2{std::span(bad).first(n)};
  ASSERT_TRUE(it2.next());
  EXPECT_FALSE(it2.next());
  EXPECT_EQ(it2.error(), RtcpError::kLengthOverrun);
  EXPECT_FALSE(it2.next()) << "stays stopped";
  EXPECT_FALSE(rtcp_compound_is_valid(std::span(bad).first(n)));
}

TEST(RtcpCompound, HeaderErrors) {
  RtcpError e = RtcpError::kNone;
  const Bytes three = {0x80, 0xC8, 0x00};
  EXPECT_FALSE(parse_rtcp_header(three, &e));
  EXPECT_EQ(e, RtcpError::kTruncatedHeader);
  const Bytes v1 = {0x40, 0xC9, 0x00, 0x00};
  EXPECT_FALSE(parse_rtcp_header(v1, &e));
  EXPECT_EQ(e, RtcpError::kBadVersion);
  const Bytes pad0 = {0xA0, 0xC9, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00};
  EXPECT_FALSE(parse_rtcp_header(pad0, &e));
  EXPECT_EQ(e, RtcpError::kBadPadding);
  const Bytes pad5 = {0xA0, 0xC9, 0x00, 0x01, 0x00, 0x00, 0x00, 0x05};
  EXPECT_FALSE(parse_rtcp_header(pad5, &e));
  EXPECT_EQ(e, RtcpError::kBadPadding);
  const Bytes pad4 = {0xA0, 0xCB, 0x00, 0x01, 0x00, 0x00, 0x00, 0x04};
  auto h = parse_rtcp_header(pad4, &e);
  ASSERT_TRUE(h);
  EXPECT_TRUE(h->padding);
  EXPECT_TRUE(h->body.empty());
  EXPECT_EQ(h->packet.size(), 8u);

  // A valid RR followed by two stray bytes.
  const Bytes trailing = {0x80, 0xC9, 0x00, 0x01, 0, 0, 0, 1, 0x80, 0xC9};
  RtcpCompoundIterator it(trailing);
  EXPECT_TRUE(it.next());
  EXPECT_FALSE(it.next());
  EXPECT_EQ(it.error(), RtcpError::kTruncatedHeader);
  EXPECT_FALSE(rtcp_compound_is_valid({}));
}

TEST(RtcpSdes, CnameWriterBytes) {
  std::array<uint8_t, 32> out{};
  const size_t n = write_sdes_cname(out, 0x01020304, "ab");
  // 4 header + 4 SSRC + type, len, 'a', 'b' + NUL terminator, padded to 16
  ASSERT_EQ(n, 16u);
  EXPECT_EQ(first(out, n),
            (Bytes{0x81, 0xCA, 0x00, 0x03, 0x01, 0x02, 0x03, 0x04, 0x01, 0x02, 'a', 'b', 0, 0, 0, 0}));
  // "abcdef": 8 + 2 + 6 = 16, the NUL needs another word.
  EXPECT_EQ(write_sdes_cname(out, 1, "abcdef"), 20u);
}

TEST(RtcpBye, ParseWithAndWithoutReason) {
  std::array<uint8_t, 64> out{};
  const std::array<uint32_t, 2> ssrcs = {0x0A, 0x0B};
  const size_t n = write_bye(out, ssrcs, "done");
  ASSERT_EQ(n, 4u + 8u + 8u);
  auto bye = ByeView::parse(only_packet(std::span(out).first(n)));
  ASSERT_TRUE(bye);
  ASSERT_EQ(bye->ssrc_count(), 2u);
  EXPECT_EQ(bye->ssrc(0), 0x0Au);
  EXPECT_EQ(bye->ssrc(1), 0x0Bu);
  EXPECT_EQ(bye->reason(), "done");
  // reason length byte overruns: ssrcs still come through
  out[12] = 200;
  bye = ByeView::parse(only_packet(std::span(out).first(n)));
  ASSERT_TRUE(bye);
  EXPECT_TRUE(bye->reason().empty());
  const Bytes too_many = {0x83, 0xCB, 0x00, 0x01, 0, 0, 0, 1};
  EXPECT_FALSE(ByeView::parse(only_packet(too_many)));
}

// Generic NACK: PID 100, BLP 0x8001 -> 100, 101, 116.
const Bytes kNack = {0x81, 0xCD, 0x00, 0x03, 0x00, 0x00, 0x00, 0x01,
                     0x00, 0x00, 0x00, 0x02, 0x00, 0x64, 0x80, 0x01};

std::vector<uint16_t> lost_of(const NackView& v) {
  std::vector<uint16_t> out;
  v.for_each_lost([&](uint16_t s) { out.push_back(s); });
  return out;
}

TEST(RtcpNack, ParsesHandBuiltAndWriterMatches) {
  auto nack = NackView::parse(only_packet(kNack));
  ASSERT_TRUE(nack);
  EXPECT_EQ(nack->sender_ssrc(), 1u);
  EXPECT_EQ(nack->media_ssrc(), 2u);
  EXPECT_EQ(nack->item_count(), 1u);
  EXPECT_EQ(lost_of(*nack), (std::vector<uint16_t>{100, 101, 116}));

  const std::array<uint16_t, 3> lost = {100, 101, 116};
  std::array<uint8_t, 32> out{};
  const size_t n = write_nack(out, 1, 2, lost);
  EXPECT_EQ(first(out, n), kNack);
  EXPECT_EQ(write_nack(std::span(out).first(15), 1, 2, lost), 0u);
  EXPECT_EQ(write_nack(out, 1, 2, {}), 0u);
}

TEST(RtcpNack, WrapAroundAndManyItems) {
  const std::vector<uint16_t> lost = {65530, 65535, 0, 3, 9, 40, 41, 1000};
  EXPECT_EQ(nack_item_count(lost), 3u);  // 65530..9 fits one item (65530+16 = 10), then 40-41, then 1000
  std::array<uint8_t, 64> out{};
  const size_t n = write_nack(out, 5, 6, lost);
  ASSERT_EQ(n, 12u + 12u);
  auto nack = NackView::parse(only_packet(std::span(out).first(n)));
  ASSERT_TRUE(nack);
  EXPECT_EQ(lost_of(*nack), lost);
  EXPECT_EQ(nack->pid(0), 65530);
  EXPECT_EQ(nack->blp(0), (1u << 4) | (1u << 5) | (1u << 8) | (1u << 14));
}

TEST(RtcpNack, RejectsEmptyOrRaggedFci) {
  const Bytes empty = {0x81, 0xCD, 0x00, 0x02, 0, 0, 0, 1, 0, 0, 0, 2};
  EXPECT_FALSE(NackView::parse(only_packet(empty)));
  const Bytes pli_type = {0x81, 0xCE, 0x00, 0x03, 0, 0, 0, 1, 0, 0, 0, 2, 0, 1, 0, 0};
  EXPECT_FALSE(NackView::parse(only_packet(pli_type)));
}

TEST(RtcpPli, WriteAndParse) {
  std::array<uint8_t, 12> out{};
  ASSERT_EQ(write_pli(out, 0x01020304, 0x05060708), 12u);
  EXPECT_EQ(Bytes(out.begin(), out.end()),
            (Bytes{0x81, 0xCE, 0x00, 0x02, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08}));
  auto pli = PliView::parse(only_packet(out));
  ASSERT_TRUE(pli);
  EXPECT_EQ(pli->sender_ssrc, 0x01020304u);
  EXPECT_EQ(pli->media_ssrc, 0x05060708u);
  EXPECT_FALSE(FirView::parse(only_packet(out)));
  EXPECT_EQ(write_pli(std::span(out).first(11), 1, 2), 0u);
}

TEST(RtcpFir, WriteAndParse) {
  const std::array<FirEntry, 2> entries = {FirEntry{0xAABBCCDD, 7}, FirEntry{0x11, 255}};
  std::array<uint8_t, 64> out{};
  const size_t n = write_fir(out, 0x42, entries);
  ASSERT_EQ(n, 28u);
  EXPECT_EQ(first(out, 20),
            (Bytes{0x84, 0xCE, 0x00, 0x06, 0, 0, 0, 0x42, 0, 0, 0, 0, 0xAA, 0xBB, 0xCC, 0xDD, 7, 0, 0, 0}));
  auto fir = FirView::parse(only_packet(std::span(out).first(n)));
  ASSERT_TRUE(fir);
  EXPECT_EQ(fir->sender_ssrc(), 0x42u);
  ASSERT_EQ(fir->entry_count(), 2u);
  EXPECT_EQ(fir->entry(0), entries[0]);
  EXPECT_EQ(fir->entry(1), entries[1]);
}

TEST(RtcpRemb, HandBuiltBytesAndRoundTrip) {
  const std::array<uint32_t, 1> ssrcs = {0x01020304};
  std::array<uint8_t, 64> out{};
  const size_t n = write_remb(out, 0x0A, 1'000'000, ssrcs);
  // 1'000'000 = 250'000 << 2: exponent 2, mantissa 0x3D090
  const Bytes expect = {0x8F, 0xCE, 0x00, 0x05, 0,    0,    0,    0x0A, 0,    0,    0,    0,
                        'R',  'E',  'M',  'B',  0x01, 0x0B, 0xD0, 0x90, 0x01, 0x02, 0x03, 0x04};
  EXPECT_EQ(first(out, n), expect);
  auto remb = RembView::parse(only_packet(std::span(out).first(n)));
  ASSERT_TRUE(remb);
  EXPECT_EQ(remb->sender_ssrc(), 0x0Au);
  EXPECT_EQ(remb->bitrate_bps(), 1'000'000u);
  ASSERT_EQ(remb->ssrc_count(), 1u);
  EXPECT_EQ(remb->ssrc(0), 0x01020304u);

  for (uint64_t bps :
       {uint64_t{0}, uint64_t{262143}, uint64_t{262144}, uint64_t{123'456'789}, uint64_t{1} << 40}) {
    const size_t m = write_remb(out, 1, bps, {});
    auto r = RembView::parse(only_packet(std::span(out).first(m)));
    ASSERT_TRUE(r) << bps;
    EXPECT_LE(r->bitrate_bps(), bps);
    EXPECT_GE(r->bitrate_bps(), bps - bps / (1u << 17)) << "at most 1/2^17 lost to rounding";
  }
}

TEST(RtcpRemb, RejectsBadIdentifierCountAndOverflow) {
  Bytes b = {0x8F, 0xCE, 0x00, 0x05, 0,    0,    0,    0x0A, 0,    0,    0,    0,
             'R',  'E',  'M',  'B',  0x01, 0x0B, 0xD0, 0x90, 0x01, 0x02, 0x03, 0x04};
  ASSERT_TRUE(RembView::parse(only_packet(b)));
  b[16] = 2;  // two SSRCs claimed, one present
  EXPECT_FALSE(RembView::parse(only_packet(b)));
  b[16] = 1;
  b[15] = 'X';
  EXPECT_FALSE(RembView::parse(only_packet(b)));
  b[15] = 'B';
  b[17] = 0xFF;  // exponent 63 with a large mantissa
  EXPECT_FALSE(RembView::parse(only_packet(b)));
}

}  // namespace
}  // namespace atrium::media
