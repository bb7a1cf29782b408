#include "media/rtp/rtp_packet.h"

#include <gtest/gtest.h>

#include <array>
#include <string_view>
#include <vector>

#include "media/rtp/rtp_extensions.h"
#include "media/rtp/seq.h"

namespace atrium::media {
namespace {

using Bytes = std::vector<uint8_t>;

// V=2 X=1, M=1 PT=96, seq 0x1234, ts 0xDEADBEEF, SSRC 0x11223344, one-byte extensions:
// id 2 (3 bytes abs-send-time), id 3 (2 bytes transport seq), one padding byte; payload 01 02 03.
const Bytes kWithExtensions = {0x90, 0xE0, 0x12, 0x34, 0xDE, 0xAD, 0xBE, 0xEF, 0x11,
                               0x22, 0x33, 0x44, 0xBE, 0xDE, 0x00, 0x02, 0x22, 0xAA,
                               0xBB, 0xCC, 0x31, 0x01, 0x02, 0x00, 0x01, 0x02, 0x03};

Bytes to_bytes(std::span<const uint8_t> s) {
  return Bytes(s.begin(), s.end());
}

TEST(RtpPacket, ParsesFixedHeaderAndOneByteExtensions) {
  auto p = RtpPacket::parse(kWithExtensions);
  ASSERT_TRUE(p);
  EXPECT_TRUE(p->marker());
  EXPECT_EQ(p->payload_type(), 96);
  EXPECT_EQ(p->sequence_number(), 0x1234);
  EXPECT_EQ(p->timestamp(), 0xDEADBEEFu);
  EXPECT_EQ(p->ssrc(), 0x11223344u);
  EXPECT_EQ(p->csrc_count(), 0u);
  EXPECT_TRUE(p->has_extension());
  EXPECT_EQ(p->extension_profile(), 0xBEDE);
  EXPECT_EQ(p->extension_form(), RtpExtensionForm::kOneByte);
  EXPECT_EQ(p->header_size(), 24u);
  EXPECT_EQ(to_bytes(p->payload()), (Bytes{1, 2, 3}));
  EXPECT_EQ(to_bytes(p->find_extension(2)), (Bytes{0xAA, 0xBB, 0xCC}));
  EXPECT_EQ(to_bytes(p->find_extension(3)), (Bytes{0x01, 0x02}));
  EXPECT_TRUE(p->find_extension(1).empty());
  EXPECT_TRUE(p->find_extension(0).empty());
  EXPECT_FALSE(p->has_extension_id(4));
  EXPECT_EQ(read_transport_seq(p->find_extension(3)), 0x0102);
  EXPECT_FALSE(read_transport_seq(p->find_extension(2)));  // wrong size
}

TEST(RtpPacket, TruncatedHeaderFailsButTruncatedPayloadOnlyShrinksIt) {
  for (size_t n = 0; n < 24; ++n) {
    EXPECT_FALSE(RtpPacket::parse(std::span(kWithExtensions).first(n))) << n;
  }
  auto p = RtpPacket::parse(std::span(kWithExtensions).first(25));
  ASSERT_TRUE(p);
  EXPECT_EQ(p->payload().size(), 1u);
}

TEST(RtpPacket, RejectsWrongVersion) {
  Bytes b = kWithExtensions;
  b[0] = 0x50;  // version 1
  EXPECT_FALSE(RtpPacket::parse(b));
  b[0] = 0xD0;  // version 3
  EXPECT_FALSE(RtpPacket::parse(b));
}

TEST(RtpPacket, CsrcListAndPadding) {
  // V=2 P=1 CC=2, PT 111, two CSRCs, payload 55 66, padding 00 00 03.
  const Bytes b = {0xA2, 0x6F, 0x00, 0x01, 0x00, 0x00, 0x00, 0x10, 0xCA, 0xFE, 0xBA, 0xBE, 0x00,
                   0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02, 0x55, 0x66, 0x00, 0x00, 0x03};
  auto p = RtpPacket::parse(b);
  ASSERT_TRUE(p);
  EXPECT_FALSE(p->marker());
  EXPECT_EQ(p->payload_type(), 111);
  EXPECT_EQ(p->csrc_count(), 2u);
  EXPECT_EQ(p->csrc(0), 1u);
  EXPECT_EQ(p->csrc(1), 2u);
  EXPECT_EQ(p->csrc(2), 0u);
  EXPECT_EQ(p->padding_size(), 3u);
  EXPECT_EQ(to_bytes(p->payload()), (Bytes{0x55, 0x66}));
  EXPECT_EQ(p->data().size(), b.size());
  EXPECT_FALSE(p->has_extension());
  EXPECT_TRUE(p->find_extension(1).empty());
}

TEST(RtpPacket, BadPaddingIsRejected) {
  Bytes b = {0xA0, 0x60, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0x55, 0x00, 0x00};
  EXPECT_FALSE(RtpPacket::parse(b)) << "padding count 0";
  b.back() = 4;  // more than the 3 bytes after the header
  EXPECT_FALSE(RtpPacket::parse(b));
  b.back() = 3;  // all of it: empty payload is fine
  auto p = RtpPacket::parse(b);
  ASSERT_TRUE(p);
  EXPECT_TRUE(p->payload().empty());
  const Bytes only_header = {0xA0, 0x60, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1};
  EXPECT_FALSE(RtpPacket::parse(only_header)) << "P set but no byte for the count";
}

TEST(RtpPacket, CsrcOrExtensionLengthOverrunIsRejected) {
  const Bytes cc = {0x8F, 0x60, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0};  // claims 15 CSRCs
  EXPECT_FALSE(RtpPacket::parse(cc));
  const Bytes ext = {0x90, 0x60, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0xBE, 0xDE, 0x00, 0x02, 0x10, 0xFF, 0, 0};
  EXPECT_FALSE(RtpPacket::parse(ext)) << "extension says 8 bytes, 4 present";
}

TEST(RtpPacket, TwoByteExtensions) {
  // profile 0x1000, 2 words: id 16 len 0, id 5 "abc", pad.
  const Bytes b = {0x90, 0x60, 0,    1,    0,    0,    0,    0,   0,   0,   0,    1,   0x10,
                   0x00, 0x00, 0x02, 0x10, 0x00, 0x05, 0x03, 'a', 'b', 'c', 0x00, 0x99};
  auto p = RtpPacket::parse(b);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->extension_form(), RtpExtensionForm::kTwoByte);
  EXPECT_TRUE(p->has_extension_id(16));
  EXPECT_TRUE(p->find_extension(16).empty());
  EXPECT_EQ(read_sdes_string(p->find_extension(5)), std::string_view("abc"));
  EXPECT_EQ(to_bytes(p->payload()), (Bytes{0x99}));
}

TEST(RtpPacket, MalformedExtensionElementStopsTheWalk) {
  // One-byte: id 1 len 1 ok, then id 2 claiming 16 bytes in a 4-byte block.
  const Bytes b = {0x90, 0x60, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0xBE, 0xDE, 0x00, 0x01, 0x10, 0x07, 0x2F, 0x00};
  auto p = RtpPacket::parse(b);
  ASSERT_TRUE(p);
  EXPECT_EQ(to_bytes(p->find_extension(1)), (Bytes{0x07}));
  EXPECT_TRUE(p->find_extension(2).empty());
  auto it = p->extensions();
  EXPECT_TRUE(it.next());
  EXPECT_FALSE(it.next());
  EXPECT_TRUE(it.malformed());
}

TEST(RtpPacket, OneByteId15EndsTheBlock) {
  const Bytes b = {0x90, 0x60, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0xBE, 0xDE, 0x00, 0x01, 0xF0, 0x00, 0x10, 0x07};
  auto p = RtpPacket::parse(b);
  ASSERT_TRUE(p);
  EXPECT_TRUE(p->find_extension(1).empty());
  auto it = p->extensions();
  EXPECT_FALSE(it.next());
  EXPECT_FALSE(it.malformed());
}

TEST(RtpPacket, UnknownProfileHasNoElements) {
  const Bytes b = {0x90, 0x60, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0x12, 0x34, 0x00, 0x01, 0x10, 0x07, 0x00, 0x00};
  auto p = RtpPacket::parse(b);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->extension_form(), RtpExtensionForm::kOther);
  EXPECT_TRUE(p->find_extension(1).empty());
}

TEST(RtpWriter, WritesExactBytesAndRoundTrips) {
  const std::array<uint8_t, 1> mid = {'0'};
  const std::array<uint8_t, 2> tseq = {0xAB, 0xCD};
  const std::array<RtpExtension, 2> ext = {RtpExtension{4, mid}, RtpExtension{3, tseq}};
  const std::array<uint32_t, 1> csrcs = {0x01020304};
  RtpHeaderFields f;
  f.marker = true;
  f.payload_type = 100;
  f.sequence_number = 0xFFFE;
  f.timestamp = 0x01020304;
  f.ssrc = 0xCAFEBABE;
  f.csrcs = csrcs;
  std::array<uint8_t, 64> out{};
  out.fill(0xEE);
  const size_t n = write_rtp_header(out, f, ext);
  const Bytes expect = {0x91, 0xE4, 0xFF, 0xFE, 0x01, 0x02, 0x03, 0x04, 0xCA, 0xFE, 0xBA, 0xBE, 0x01, 0x02,
                        0x03, 0x04, 0xBE, 0xDE, 0x00, 0x02, 0x40, '0',  0x31, 0xAB, 0xCD, 0x00, 0x00, 0x00};
  ASSERT_EQ(n, expect.size());
  EXPECT_EQ(Bytes(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(n)), expect);

  auto p = RtpPacket::parse(std::span(out).first(n + 2));
  ASSERT_TRUE(p);
  EXPECT_EQ(p->sequence_number(), 0xFFFE);
  EXPECT_EQ(p->csrc(0), 0x01020304u);
  EXPECT_EQ(read_sdes_string(p->find_extension(4)), std::string_view("0"));
  EXPECT_EQ(read_transport_seq(p->find_extension(3)), 0xABCD);
  EXPECT_EQ(p->payload().size(), 2u);
}

TEST(RtpWriter, UsesTwoByteFormWhenNeeded) {
  const std::string_view rid = "a-rid-longer-than-16-bytes";
  const std::array<RtpExtension, 1> ext = {
      RtpExtension{10, std::span(reinterpret_cast<const uint8_t*>(rid.data()), rid.size())}};
  std::array<uint8_t, 64> out{};
  const size_t n = write_rtp_header(out, RtpHeaderFields{false, 96, 1, 2, 3, {}}, ext);
  ASSERT_GT(n, 0u);
  EXPECT_EQ(out[12], 0x10);
  EXPECT_EQ(out[13], 0x00);
  auto p = RtpPacket::parse(std::span(out).first(n));
  ASSERT_TRUE(p);
  EXPECT_EQ(read_sdes_string(p->find_extension(10)), rid);
  EXPECT_EQ(n % 4, 0u);
}

TEST(RtpWriter, RejectsBadInputAndSmallBuffers) {
  std::array<uint8_t, 64> out{};
  EXPECT_EQ(write_rtp_header(out, RtpHeaderFields{false, 128, 0, 0, 0, {}}), 0u);
  const std::array<uint8_t, 1> v = {1};
  const std::array<RtpExtension, 1> bad_id = {RtpExtension{0, v}};
  EXPECT_EQ(write_rtp_header(out, RtpHeaderFields{}, bad_id), 0u);
  std::array<uint8_t, 11> tiny{};
  EXPECT_EQ(write_rtp_header(tiny, RtpHeaderFields{}), 0u);
  std::array<uint8_t, 12> exact{};
  EXPECT_EQ(write_rtp_header(exact, RtpHeaderFields{}), 12u);
  const std::array<RtpExtension, 1> one = {RtpExtension{1, v}};
  EXPECT_EQ(write_rtp_header(exact, RtpHeaderFields{}, one), 0u) << "needs 20 bytes";
}

TEST(RtpSetters, RewriteInPlace) {
  Bytes b = kWithExtensions;
  ASSERT_TRUE(rtp_set_sequence_number(b, 7));
  ASSERT_TRUE(rtp_set_timestamp(b, 0x01020304));
  ASSERT_TRUE(rtp_set_ssrc(b, 0x55667788));
  ASSERT_TRUE(rtp_set_payload_type(b, 101));
  ASSERT_TRUE(rtp_set_marker(b, false));
  EXPECT_FALSE(rtp_set_payload_type(b, 200));
  auto p = RtpPacket::parse(b);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->sequence_number(), 7);
  EXPECT_EQ(p->timestamp(), 0x01020304u);
  EXPECT_EQ(p->ssrc(), 0x55667788u);
  EXPECT_EQ(p->payload_type(), 101);
  EXPECT_FALSE(p->marker());
  EXPECT_EQ(b[0], 0x90) << "first byte untouched";
  ASSERT_TRUE(rtp_set_marker(b, true));
  EXPECT_EQ(b[1], 0x80 | 101);

  auto tseq = rtp_find_extension_mut(b, 3);
  ASSERT_EQ(tseq.size(), 2u);
  write_transport_seq(tseq, 0xBEEF);
  EXPECT_EQ(read_transport_seq(RtpPacket::parse(b)->find_extension(3)), 0xBEEF);
  EXPECT_TRUE(rtp_find_extension_mut(b, 9).empty());

  Bytes short_buf(11, 0x80);
  EXPECT_FALSE(rtp_set_sequence_number(short_buf, 1));
  Bytes not_rtp(12, 0x40);
  EXPECT_FALSE(rtp_set_ssrc(not_rtp, 1));
  EXPECT_EQ(not_rtp, Bytes(12, 0x40));
}

TEST(RtpSeq, SerialOrder) {
  EXPECT_TRUE(seq_newer(1, 0));
  EXPECT_FALSE(seq_newer(0, 1));
  EXPECT_FALSE(seq_newer(5, 5));
  EXPECT_TRUE(seq_newer(0, 65535));
  EXPECT_TRUE(seq_newer(10, 65530));
  EXPECT_FALSE(seq_newer(65530, 10));
  EXPECT_TRUE(seq_newer(0x7FFF, 0));
  EXPECT_TRUE(seq_newer(0x8000, 0)) << "tie broken by the larger value";
  EXPECT_FALSE(seq_newer(0, 0x8000));
  EXPECT_TRUE(ts_newer(5, 0xFFFFFFF0u));
  EXPECT_FALSE(ts_newer(0xFFFFFFF0u, 5));
}

TEST(RtpSeq, UnwrapperFollowsWrapsAndReordering) {
  SeqUnwrapper u;
  EXPECT_EQ(u.unwrap(65534), 65534);
  EXPECT_EQ(u.unwrap(65535), 65535);
  EXPECT_EQ(u.unwrap(0), 65536);
  EXPECT_EQ(u.unwrap(1), 65537);
  EXPECT_EQ(u.unwrap(65535), 65535) << "a late packet goes back";
  EXPECT_EQ(u.unwrap(2), 65538);
  EXPECT_EQ(u.peek(3), 65539);
  EXPECT_EQ(u.unwrap(2 + 0x7FFF), 65538 + 0x7FFF);
  for (int lap = 0; lap < 5; ++lap) {
    for (uint32_t s = 0; s < 65536; s += 1000)
      u.unwrap(static_cast<uint16_t>(s));
  }
  EXPECT_GT(u.unwrap(0), 5 * 65536);

  SeqUnwrapper back;
  EXPECT_EQ(back.unwrap(3), 3);
  EXPECT_EQ(back.unwrap(65535), -1) << "before the first value";

  TimestampUnwrapper t;
  EXPECT_EQ(t.unwrap(0xFFFFFF00u), 0xFFFFFF00ll);
  EXPECT_EQ(t.unwrap(0x100), 0x100000000ll + 0x100);
}

// RFC 6464 in an RTP packet as Chromium sends Opus: one-byte form (RFC 8285), the audio level as id 1 with
// one byte of value (L=0), first bit V (voice activity), then -level dBov in 7 bits; transport-cc as id 3.
TEST(RtpExtensions, AudioLevelFromRfc6464Packets) {
  // V=2 X=1, PT=111, seq 7, ts 960, SSRC 0x01020304; BEDE, 2 words: 10 AA (id 1, V=1, 42 dBov),
  // 31 00 05 (id 3, transport seq 5), 00 00 00 padding; then a 3-byte Opus payload.
  const Bytes voice = {0x90, 0x6F, 0x00, 0x07, 0x00, 0x00, 0x03, 0xC0, 0x01, 0x02, 0x03, 0x04, 0xBE, 0xDE,
                       0x00, 0x02, 0x10, 0xAA, 0x31, 0x00, 0x05, 0x00, 0x00, 0x00, 0xFC, 0xFF, 0xFE};
  auto p = RtpPacket::parse(voice);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->extension_form(), RtpExtensionForm::kOneByte);
  auto a = read_audio_level(p->find_extension(1));
  ASSERT_TRUE(a);
  EXPECT_TRUE(a->voice);
  EXPECT_EQ(a->level, 42);
  EXPECT_EQ(read_transport_seq(p->find_extension(3)), 5);
  EXPECT_EQ(to_bytes(p->payload()), (Bytes{0xFC, 0xFF, 0xFE}));

  // Silence: V=0, 127 dBov (the RFC's "muted" value); and the loudest, 0 dBov with V=1.
  const Bytes silent = {0x90, 0x6F, 0x00, 0x08, 0x00, 0x00, 0x07, 0x80, 0x01, 0x02, 0x03,
                        0x04, 0xBE, 0xDE, 0x00, 0x01, 0x10, 0x7F, 0x00, 0x00, 0xFC};
  const Bytes loudest = {0x90, 0x6F, 0x00, 0x09, 0x00, 0x00, 0x0B, 0x40, 0x01, 0x02, 0x03,
                         0x04, 0xBE, 0xDE, 0x00, 0x01, 0x10, 0x80, 0x00, 0x00, 0xFC};
  for (const auto* bytes : {&silent, &loudest}) {
    p = RtpPacket::parse(*bytes);
    ASSERT_TRUE(p);
    a = read_audio_level(p->find_extension(1));
    ASSERT_TRUE(a);
    EXPECT_EQ(a->voice, bytes == &loudest);
    EXPECT_EQ(a->level, bytes == &loudest ? 0 : 127);
  }
  // A packet without the extension has no level (MediaPacket::audio_level stays -1).
  const Bytes plain = {0x80, 0x6F, 0x00, 0x0A, 0x00, 0x00, 0x0F, 0x00, 0x01, 0x02, 0x03, 0x04, 0xFC};
  p = RtpPacket::parse(plain);
  ASSERT_TRUE(p);
  EXPECT_FALSE(read_audio_level(p->find_extension(1)));
}

TEST(RtpExtensions, AudioLevelAndSdesStrings) {
  const Bytes loud = {0x85};
  auto a = read_audio_level(loud);
  ASSERT_TRUE(a);
  EXPECT_TRUE(a->voice);
  EXPECT_EQ(a->level, 5);
  const Bytes quiet = {0x7F, 0x00, 0x00};  // padded to a word by some senders
  a = read_audio_level(quiet);
  ASSERT_TRUE(a);
  EXPECT_FALSE(a->voice);
  EXPECT_EQ(a->level, 127);
  EXPECT_FALSE(read_audio_level({}));
  std::array<uint8_t, 1> out{};
  EXPECT_EQ(write_audio_level(out, {true, 200}), 1u);
  EXPECT_EQ(out[0], 0xFF);

  const Bytes mid = {'a', 'u', 'd', 'i', 'o', 0, 0};
  EXPECT_EQ(read_sdes_string(mid), std::string_view("audio"));
  EXPECT_FALSE(read_sdes_string(Bytes{'a', ' ', 'b'}));
  EXPECT_FALSE(read_sdes_string(Bytes{0, 0}));
  EXPECT_FALSE(read_sdes_string(Bytes{0xC3, 0xA9}));
  std::array<uint8_t, 4> s{};
  EXPECT_EQ(write_sdes_string(s, "hi"), 2u);
  EXPECT_EQ(s[0], 'h');
  EXPECT_EQ(write_sdes_string(s, "hello"), 0u);
  EXPECT_EQ(write_sdes_string(s, ""), 0u);
}

}  // namespace
}  // namespace atrium::media
