#include "transport/webrtc/srtp/srtp_session.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <vector>

namespace atrium::webrtc {
namespace {

SrtpMasterKey make_key(SrtpProfile p, uint8_t seed) {
  SrtpMasterKey k;
  for (size_t i = 0; i < srtp_master_key_len(p); ++i)
    k.key.push_back(static_cast<uint8_t>(seed + i * 7));
  for (size_t i = 0; i < srtp_master_salt_len(p); ++i)
    k.salt.push_back(static_cast<uint8_t>(seed ^ (i * 13 + 1)));
  return k;
}

// Two ends of one association: a's local key is b's remote key and the other way round.
struct Ends {
  std::unique_ptr<SrtpSession> a;
  std::unique_ptr<SrtpSession> b;
};

Ends make_ends(SrtpProfile p) {
  SrtpMasterKey ka = make_key(p, 0x11);
  SrtpMasterKey kb = make_key(p, 0x5A);
  std::string error;
  Ends e;
  e.a = SrtpSession::create(SrtpKeys{p, ka, kb}, &error);
  EXPECT_TRUE(e.a) << error;
  e.b = SrtpSession::create(SrtpKeys{p, kb, ka}, &error);
  EXPECT_TRUE(e.b) << error;
  return e;
}

// An RTP packet of `size` bytes (header 12 bytes) in a buffer with room for the trailer.
std::vector<uint8_t> rtp_packet(uint16_t seq, uint32_t ssrc, size_t size) {
  std::vector<uint8_t> p(size + SrtpSession::kMaxTrailer, 0);
  p[0] = 0x80;
  p[1] = 96;
  p[2] = static_cast<uint8_t>(seq >> 8);
  p[3] = static_cast<uint8_t>(seq);
  p[4] = 0x00;
  p[5] = 0x01;
  p[6] = 0x02;
  p[7] = 0x03;  // timestamp
  p[8] = static_cast<uint8_t>(ssrc >> 24);
  p[9] = static_cast<uint8_t>(ssrc >> 16);
  p[10] = static_cast<uint8_t>(ssrc >> 8);
  p[11] = static_cast<uint8_t>(ssrc);
  for (size_t i = 12; i < size; ++i)
    p[i] = static_cast<uint8_t>(i * 31 + seq);
  return p;
}

// A receiver report (PT 201) with one report block: 32 bytes.
std::vector<uint8_t> rtcp_rr(uint32_t ssrc) {
  std::vector<uint8_t> p(32 + SrtpSession::kMaxTrailer, 0);
  p[0] = 0x81;
  p[1] = 201;
  p[2] = 0;
  p[3] = 7;
  p[4] = static_cast<uint8_t>(ssrc >> 24);
  p[5] = static_cast<uint8_t>(ssrc >> 16);
  p[6] = static_cast<uint8_t>(ssrc >> 8);
  p[7] = static_cast<uint8_t>(ssrc);
  for (size_t i = 8; i < 32; ++i)
    p[i] = static_cast<uint8_t>(i * 3);
  return p;
}

class SrtpProfiles : public ::testing::TestWithParam<SrtpProfile> {};

TEST_P(SrtpProfiles, RtpRoundTripBothDirections) {
  const SrtpProfile p = GetParam();
  Ends e = make_ends(p);
  ASSERT_TRUE(e.a && e.b);
  for (uint16_t seq = 1000; seq < 1010; ++seq) {
    auto pkt = rtp_packet(seq, 0xCAFEBABE, 200);
    const std::vector<uint8_t> plain(pkt.begin(), pkt.begin() + 200);
    auto n = e.a->protect_rtp(pkt, 200);
    ASSERT_TRUE(n);
    EXPECT_EQ(*n, 200 + srtp_rtp_trailer_len(p));
    // The header stays in the clear, the payload does not.
    EXPECT_TRUE(std::equal(plain.begin(), plain.begin() + 12, pkt.begin()));
    EXPECT_FALSE(std::equal(plain.begin() + 12, plain.end(), pkt.begin() + 12));
    auto m = e.b->unprotect_rtp(pkt, *n);
    ASSERT_TRUE(m);
    EXPECT_EQ(*m, 200u);
    EXPECT_TRUE(std::equal(plain.begin(), plain.end(), pkt.begin()));
  }
  // And back the other way, on another SSRC (any SSRC is accepted).
  auto pkt = rtp_packet(7, 0x01020304, 100);
  const std::vector<uint8_t> plain(pkt.begin(), pkt.begin() + 100);
  auto n = e.b->protect_rtp(pkt, 100);
  ASSERT_TRUE(n);
  auto m = e.a->unprotect_rtp(pkt, *n);
  ASSERT_TRUE(m);
  EXPECT_TRUE(std::equal(plain.begin(), plain.end(), pkt.begin()));
  EXPECT_EQ(e.a->stats().rtp_protected, 10u);
  EXPECT_EQ(e.b->stats().rtp_unprotected, 10u);
  EXPECT_EQ(e.a->stats().rtp_unprotected, 1u);
}

TEST_P(SrtpProfiles, RtcpRoundTrip) {
  const SrtpProfile p = GetParam();
  Ends e = make_ends(p);
  ASSERT_TRUE(e.a && e.b);
  for (int i = 0; i < 3; ++i) {
    auto pkt = rtcp_rr(0xAABBCCDD);
    const std::vector<uint8_t> plain(pkt.begin(), pkt.begin() + 32);
    auto n = e.a->protect_rtcp(pkt, 32);
    ASSERT_TRUE(n);
    EXPECT_EQ(*n, 32 + srtp_rtcp_trailer_len(p));
    EXPECT_FALSE(std::equal(plain.begin() + 8, plain.end(), pkt.begin() + 8));  // encrypted after SSRC
    auto m = e.b->unprotect_rtcp(pkt, *n);
    ASSERT_TRUE(m);
    EXPECT_EQ(*m, 32u);
    EXPECT_TRUE(std::equal(plain.begin(), plain.end(), pkt.begin()));
  }
  EXPECT_EQ(e.b->stats().rtcp_unprotected, 3u);
}

TEST_P(SrtpProfiles, TamperedByteFailsAuthentication) {
  const SrtpProfile p = GetParam();
  Ends e = make_ends(p);
  ASSERT_TRUE(e.a && e.b);
  for (size_t where : {size_t{2}, size_t{12}, size_t{150}, size_t{0}}) {
    auto pkt = rtp_packet(static_cast<uint16_t>(500 + where), 0x42, 160);
    auto n = e.a->protect_rtp(pkt, 160);
    ASSERT_TRUE(n);
    const size_t index = where == 0 ? *n - 1 : where;  // 0: the last byte of the tag
    pkt[index] ^= 0x01;
    EXPECT_FALSE(e.b->unprotect_rtp(pkt, *n)) << "flipped byte " << index;
  }
  EXPECT_EQ(e.b->stats().auth_fail, 4u);
  EXPECT_EQ(e.b->stats().rtp_unprotected, 0u);

  auto rtcp = rtcp_rr(0x42);
  auto n = e.a->protect_rtcp(rtcp, 32);
  ASSERT_TRUE(n);
  rtcp[20] ^= 0x80;
  EXPECT_FALSE(e.b->unprotect_rtcp(rtcp, *n));
  EXPECT_EQ(e.b->stats().auth_fail, 5u);
}

TEST_P(SrtpProfiles, ReplayIsRejectedAndCounted) {
  const SrtpProfile p = GetParam();
  Ends e = make_ends(p);
  ASSERT_TRUE(e.a && e.b);
  auto pkt = rtp_packet(77, 0x99, 120);
  auto n = e.a->protect_rtp(pkt, 120);
  ASSERT_TRUE(n);
  const std::vector<uint8_t> wire(pkt.begin(), pkt.begin() + static_cast<long>(*n));
  ASSERT_TRUE(e.b->unprotect_rtp(pkt, *n));
  std::vector<uint8_t> again = wire;
  again.resize(wire.size() + SrtpSession::kMaxTrailer);
  EXPECT_FALSE(e.b->unprotect_rtp(again, wire.size()));
  EXPECT_EQ(e.b->stats().replay_fail, 1u);
  EXPECT_EQ(e.b->stats().auth_fail, 0u);

  auto rtcp = rtcp_rr(0x99);
  auto r = e.a->protect_rtcp(rtcp, 32);
  ASSERT_TRUE(r);
  std::vector<uint8_t> rtcp_again = rtcp;
  ASSERT_TRUE(e.b->unprotect_rtcp(rtcp, *r));
  EXPECT_FALSE(e.b->unprotect_rtcp(rtcp_again, *r));
  EXPECT_EQ(e.b->stats().replay_fail, 2u);
}

TEST_P(SrtpProfiles, FullSizePacketFitsWithMaxTrailer) {
  const SrtpProfile p = GetParam();
  Ends e = make_ends(p);
  ASSERT_TRUE(e.a && e.b);
  auto pkt = rtp_packet(1, 0x1234, 1200);
  ASSERT_EQ(pkt.size(), 1200 + SrtpSession::kMaxTrailer);
  const std::vector<uint8_t> plain(pkt.begin(), pkt.begin() + 1200);
  auto n = e.a->protect_rtp(pkt, 1200);
  ASSERT_TRUE(n);
  EXPECT_LE(*n, 1200 + SrtpSession::kMaxTrailer);
  auto m = e.b->unprotect_rtp(pkt, *n);
  ASSERT_TRUE(m);
  EXPECT_EQ(*m, 1200u);
  EXPECT_TRUE(std::equal(plain.begin(), plain.end(), pkt.begin()));
}

TEST_P(SrtpProfiles, NoRoomForTrailerIsRefusedWithoutWriting) {
  const SrtpProfile p = GetParam();
  Ends e = make_ends(p);
  ASSERT_TRUE(e.a && e.b);
  auto pkt = rtp_packet(1, 0x1234, 300);
  const std::vector<uint8_t> before = pkt;
  std::span<uint8_t> tight(pkt.data(), 300 + srtp_rtp_trailer_len(p) - 1);
  EXPECT_FALSE(e.a->protect_rtp(tight, 300));
  EXPECT_EQ(pkt, before);
  EXPECT_FALSE(e.a->protect_rtp(pkt, pkt.size() + 1));  // len beyond the buffer
  EXPECT_EQ(e.a->stats().protect_fail, 2u);
  // Exactly enough room works.
  std::span<uint8_t> exact(pkt.data(), 300 + srtp_rtp_trailer_len(p));
  EXPECT_TRUE(e.a->protect_rtp(exact, 300));
}

TEST_P(SrtpProfiles, LateRetransmissionWithinWindowIsAccepted) {
  // libsrtp's default replay window is 128 packets; a NACK answer can arrive later than that.
  const SrtpProfile p = GetParam();
  Ends e = make_ends(p);
  ASSERT_TRUE(e.a && e.b);
  std::vector<uint8_t> held;
  size_t held_len = 0;
  for (uint16_t seq = 0; seq < 600; ++seq) {
    auto pkt = rtp_packet(seq, 0x77, 100);
    auto n = e.a->protect_rtp(pkt, 100);
    ASSERT_TRUE(n);
    if (seq == 10) {
      held = pkt;
      held_len = *n;
      continue;
    }
    ASSERT_TRUE(e.b->unprotect_rtp(pkt, *n)) << seq;
  }
  EXPECT_TRUE(e.b->unprotect_rtp(held, held_len));
  EXPECT_EQ(e.b->stats().replay_fail, 0u);
}

TEST_P(SrtpProfiles, SamePacketCanBeProtectedTwice) {
  // A NACK answer without RTX resends a packet already protected once (allow_repeat_tx).
  const SrtpProfile p = GetParam();
  Ends e = make_ends(p);
  ASSERT_TRUE(e.a && e.b);
  auto first = rtp_packet(9, 0x55, 80);
  auto second = first;
  auto n1 = e.a->protect_rtp(first, 80);
  auto n2 = e.a->protect_rtp(second, 80);
  ASSERT_TRUE(n1);
  ASSERT_TRUE(n2);
  EXPECT_EQ(first, second);
  ASSERT_TRUE(e.b->unprotect_rtp(first, *n1));
  EXPECT_EQ(e.a->stats().protect_fail, 0u);
}

TEST_P(SrtpProfiles, RolloverLateAndInterleavedSsrcsStayInStep) {
  // Outbound GCM is our own code (SrtpGcmSender), inbound libsrtp2: they must agree on the rollover counter
  // of every SSRC across wraps, with packets held back and sent late (a resend) along the way.
  const SrtpProfile p = GetParam();
  Ends e = make_ends(p);
  ASSERT_TRUE(e.a && e.b);
  const uint32_t ssrcs[] = {0x1001, 0x2002, 0x3003};
  uint16_t seqs[] = {65530, 100, 32768};
  struct Held {
    std::vector<uint8_t> pkt;
    size_t len;
    int release_at;
  };
  std::vector<Held> held;
  for (int i = 0; i < 140000; ++i) {
    const size_t k = static_cast<size_t>(i) % 3 == 0 || i > 6000 ? 0 : static_cast<size_t>(i) % 3;
    auto pkt = rtp_packet(seqs[k]++, ssrcs[k], 60 + static_cast<size_t>(i % 50));
    auto n = e.a->protect_rtp(pkt, 60 + static_cast<size_t>(i % 50));
    ASSERT_TRUE(n) << i;
    if (i % 97 == 0 && i < 6000) {
      held.push_back({pkt, *n, i + 20});
    } else {
      ASSERT_TRUE(e.b->unprotect_rtp(pkt, *n)) << "packet " << i << " ssrc " << ssrcs[k];
    }
    for (auto it = held.begin(); it != held.end();) {
      if (it->release_at == i) {
        ASSERT_TRUE(e.b->unprotect_rtp(it->pkt, it->len)) << "late packet released at " << i;
        it = held.erase(it);
      } else {
        ++it;
      }
    }
  }
  EXPECT_EQ(e.b->stats().auth_fail, 0u);
  EXPECT_EQ(e.b->stats().replay_fail, 0u);
}

TEST_P(SrtpProfiles, HeaderWithCsrcsAndExtensionIsAuthenticatedNotEncrypted) {
  const SrtpProfile p = GetParam();
  Ends e = make_ends(p);
  ASSERT_TRUE(e.a && e.b);
  // V=2, X=1, CC=2; two CSRCs; a one-byte-header extension block of 2 words; then 40 bytes of payload.
  std::vector<uint8_t> pkt = rtp_packet(7, 0xABCDEF01, 12 + 8 + 12 + 40);
  pkt[0] = 0x92;
  const uint8_t tail[] = {0, 0, 0, 1, 0, 0, 0, 2, 0xBE, 0xDE, 0, 2, 0x10, 0xAA, 0x21, 0xBB, 0xCC, 0, 0, 0};
  std::memcpy(pkt.data() + 12, tail, sizeof tail);
  const std::vector<uint8_t> plain(pkt.begin(), pkt.begin() + 72);
  auto n = e.a->protect_rtp(pkt, 72);
  ASSERT_TRUE(n);
  EXPECT_TRUE(std::equal(plain.begin(), plain.begin() + 32, pkt.begin()));  // header in the clear
  EXPECT_FALSE(std::equal(plain.begin() + 32, plain.end(), pkt.begin() + 32));
  auto m = e.b->unprotect_rtp(pkt, *n);
  ASSERT_TRUE(m);
  ASSERT_EQ(*m, 72u);
  EXPECT_TRUE(std::equal(plain.begin(), plain.end(), pkt.begin()));
}

TEST_P(SrtpProfiles, WrongKeyFailsAuthentication) {
  const SrtpProfile p = GetParam();
  Ends e = make_ends(p);
  ASSERT_TRUE(e.a && e.b);
  auto other = SrtpSession::create(SrtpKeys{p, make_key(p, 1), make_key(p, 2)});
  ASSERT_TRUE(other);
  auto pkt = rtp_packet(3, 0x66, 90);
  auto n = e.a->protect_rtp(pkt, 90);
  ASSERT_TRUE(n);
  EXPECT_FALSE(other->unprotect_rtp(pkt, *n));
  EXPECT_EQ(other->stats().auth_fail, 1u);
}

TEST_P(SrtpProfiles, GarbageInboundIsCountedNotCrashed) {
  const SrtpProfile p = GetParam();
  Ends e = make_ends(p);
  ASSERT_TRUE(e.a && e.b);
  std::vector<uint8_t> buf(64, 0);
  EXPECT_FALSE(e.b->unprotect_rtp(buf, 0));
  EXPECT_FALSE(e.b->unprotect_rtp(buf, 5));
  EXPECT_FALSE(e.b->unprotect_rtp(buf, 40));  // version 0
  buf[0] = 0x9F;                              // version 2, extension bit, 15 CSRCs: header longer than packet
  EXPECT_FALSE(e.b->unprotect_rtp(buf, 40));
  buf[0] = 0x80;
  EXPECT_FALSE(e.b->unprotect_rtp(buf, 1000));  // longer than the buffer
  EXPECT_FALSE(e.b->unprotect_rtcp(buf, 4));
  EXPECT_EQ(e.b->stats().other_fail, 6u);
  buf[0] = 0x80;  // plausible header, random-ish body: authentication decides
  for (size_t i = 12; i < buf.size(); ++i)
    buf[i] = static_cast<uint8_t>(i * 17);
  EXPECT_FALSE(e.b->unprotect_rtp(buf, 64));
  EXPECT_EQ(e.b->stats().auth_fail, 1u);
}

INSTANTIATE_TEST_SUITE_P(Profiles, SrtpProfiles,
                         ::testing::Values(SrtpProfile::kAeadAes128Gcm, SrtpProfile::kAes128CmSha1_80),
                         [](const auto& param_info) {
                           return param_info.param == SrtpProfile::kAeadAes128Gcm
                                      ? std::string("AeadAes128Gcm")
                                      : std::string("Aes128CmSha1_80");
                         });

TEST(SrtpSession, RejectsKeysOfTheWrongLength) {
  std::string error;
  SrtpKeys keys{SrtpProfile::kAeadAes128Gcm, make_key(SrtpProfile::kAes128CmSha1_80, 1),
                make_key(SrtpProfile::kAeadAes128Gcm, 2)};  // local salt is 14 bytes, GCM wants 12
  EXPECT_FALSE(SrtpSession::create(keys, &error));
  EXPECT_NE(error.find("length"), std::string::npos) << error;
}

TEST(SrtpSession, TrailerConstantsCoverBothProfiles) {
  for (SrtpProfile p : {SrtpProfile::kAeadAes128Gcm, SrtpProfile::kAes128CmSha1_80}) {
    EXPECT_LE(srtp_rtp_trailer_len(p), SrtpSession::kMaxTrailer);
    EXPECT_LE(srtp_rtcp_trailer_len(p), SrtpSession::kMaxTrailer);
  }
}

}  // namespace
}  // namespace atrium::webrtc
