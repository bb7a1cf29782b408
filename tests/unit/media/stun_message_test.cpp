// STUN parsing, integrity and fingerprint against the RFC 5769 test vectors, the writer's round trips, and
// rejection of malformed or tampered messages.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "media/stun/stun_message.h"
#include "media/stun/stun_writer.h"

namespace atrium::media {
namespace {

std::vector<uint8_t> hex(std::string_view s) {
  std::vector<uint8_t> out;
  int hi = -1;
  for (char c : s) {
    int v;
    if (c >= '0' && c <= '9') {
      v = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      v = c - 'a' + 10;
    } else if (c >= 'A' && c <= 'F') {
      v = c - 'A' + 10;
    } else {
      continue;
    }
    if (hi < 0) {
      hi = v;
    } else {
      out.push_back(static_cast<uint8_t>(hi * 16 + v));
      hi = -1;
    }
  }
  return out;
}

constexpr std::string_view kPassword = "VOkJxbRl1RmTxUk/WvJxBt";
const StunTransactionId kTid = {0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae};

// RFC 5769 section 2.1: binding request, SOFTWARE, PRIORITY, ICE-CONTROLLED, USERNAME "evtj:h6vY" (padded
// with spaces), MESSAGE-INTEGRITY, FINGERPRINT.
const std::vector<uint8_t> kRequest =
    hex("00 01 00 58 21 12 a4 42 b7 e7 a7 01 bc 34 d6 86"
        "fa 87 df ae 80 22 00 10 53 54 55 4e 20 74 65 73"
        "74 20 63 6c 69 65 6e 74 00 24 00 04 6e 00 01 ff"
        "80 29 00 08 93 2f f9 b1 51 26 3b 36 00 06 00 09"
        "65 76 74 6a 3a 68 36 76 59 20 20 20 00 08 00 14"
        "9a ea a7 0c bf d8 cb 56 78 1e f2 b5 b2 d3 f2 49"
        "c1 b5 71 a2 80 28 00 04 e5 7a 3b cf");

// Section 2.2: success response, XOR-MAPPED-ADDRESS 192.0.2.1:32853.
const std::vector<uint8_t> kResponseV4 =
    hex("01 01 00 3c 21 12 a4 42 b7 e7 a7 01 bc 34 d6 86"
        "fa 87 df ae 80 22 00 0b 74 65 73 74 20 76 65 63"
        "74 6f 72 20 00 20 00 08 00 01 a1 47 e1 12 a6 43"
        "00 08 00 14 2b 91 f5 99 fd 9e 90 c3 8c 74 89 f9"
        "2a f9 ba 53 f0 6b e7 d7 80 28 00 04 c0 7d 4c 96");

// Section 2.3: success response, XOR-MAPPED-ADDRESS [2001:db8:1234:5678:11:2233:4455:6677]:32853.
const std::vector<uint8_t> kResponseV6 =
    hex("01 01 00 48 21 12 a4 42 b7 e7 a7 01 bc 34 d6 86"
        "fa 87 df ae 80 22 00 0b 74 65 73 74 20 76 65 63"
        "74 6f 72 20 00 20 00 14 00 02 a1 47 01 13 a9 fa"
        "a5 d3 f1 79 bc 25 f4 b5 be d2 b9 d9 00 08 00 14"
        "a3 82 95 4e 4b e6 7b f1 17 84 c9 7c 82 92 c2 75"
        "bf e3 ed 41 80 28 00 04 c8 fb 0b 4c");

StunAddress v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d, uint16_t port) {
  StunAddress s;
  s.ip = {a, b, c, d};
  s.port = port;
  return s;
}

TEST(StunCrc32, KnownCheckValue) {
  const std::string s = "123456789";
  EXPECT_EQ(stun_crc32({reinterpret_cast<const uint8_t*>(s.data()), s.size()}), 0xCBF43926u);
  EXPECT_EQ(stun_crc32({}), 0u);
}

TEST(StunMessageType, ClassAndMethodBits) {
  EXPECT_EQ(kStunBindingRequest, 0x0001);
  EXPECT_EQ(kStunBindingIndication, 0x0011);
  EXPECT_EQ(kStunBindingSuccess, 0x0101);
  EXPECT_EQ(kStunBindingError, 0x0111);
  EXPECT_EQ(stun_message_type(0x0FFF, StunClass::kErrorResponse), 0x3FFF);
}

TEST(StunRfc5769, SampleRequest) {
  std::string_view why;
  auto m = StunMessage::parse(kRequest, &why);
  ASSERT_TRUE(m) << why;
  EXPECT_EQ(m->type(), kStunBindingRequest);
  EXPECT_EQ(m->method(), kStunMethodBinding);
  EXPECT_EQ(m->message_class(), StunClass::kRequest);
  EXPECT_EQ(m->transaction_id_array(), kTid);
  EXPECT_EQ(m->username(), "evtj:h6vY");
  EXPECT_EQ(m->software(), "STUN test client");
  EXPECT_EQ(m->priority(), 0x6e0001ffu);
  EXPECT_EQ(m->ice_controlled(), 0x932ff9b151263b36ull);
  EXPECT_FALSE(m->ice_controlling());
  EXPECT_FALSE(m->use_candidate());
  EXPECT_TRUE(m->verify_integrity(kPassword));
  EXPECT_TRUE(m->verify_fingerprint());
  EXPECT_FALSE(m->verify_integrity(std::string_view("VOkJxbRl1RmTxUk/WvJxBu")));
  EXPECT_FALSE(m->verify_integrity(std::string_view("")));

  std::vector<uint16_t> types;
  auto it = m->attributes();
  while (auto a = it.next())
    types.push_back(a->type);
  EXPECT_EQ(types, (std::vector<uint16_t>{stun_attr::kSoftware, stun_attr::kPriority,
                                          stun_attr::kIceControlled, stun_attr::kUsername,
                                          stun_attr::kMessageIntegrity, stun_attr::kFingerprint}));
}

TEST(StunRfc5769, SampleIpv4Response) {
  auto m = StunMessage::parse(kResponseV4);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->message_class(), StunClass::kSuccessResponse);
  EXPECT_EQ(m->software(), "test vector");
  auto a = m->xor_mapped_address();
  ASSERT_TRUE(a);
  EXPECT_EQ(*a, v4(192, 0, 2, 1, 32853));
  EXPECT_TRUE(m->verify_integrity(kPassword));
  EXPECT_TRUE(m->verify_fingerprint());
}

TEST(StunRfc5769, SampleIpv6Response) {
  auto m = StunMessage::parse(kResponseV6);
  ASSERT_TRUE(m);
  auto a = m->xor_mapped_address();
  ASSERT_TRUE(a);
  EXPECT_TRUE(a->v6);
  EXPECT_EQ(a->port, 32853);
  const std::array<uint8_t, 16> ip = {0x20, 0x01, 0x0d, 0xb8, 0x12, 0x34, 0x56, 0x78,
                                      0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77};
  EXPECT_EQ(a->ip, ip);
  EXPECT_TRUE(m->verify_integrity(kPassword));
  EXPECT_TRUE(m->verify_fingerprint());
}

TEST(StunWriter, ReproducesTheRfc5769Ipv4ResponseByteForByte) {
  uint8_t buf[128];
  StunWriter w(buf, kStunBindingSuccess, kTid);
  // The RFC pads "test vector" with a space rather than a zero; write the 12 bytes as-is to match.
  w.add_string(stun_attr::kSoftware, "test vector");
  EXPECT_TRUE(w.ok());
  // Replace the zero pad byte with the RFC's space before the MAC covers it.
  buf[20 + 4 + 11] = 0x20;
  w.add_xor_mapped_address(v4(192, 0, 2, 1, 32853));
  w.add_message_integrity(kPassword);
  w.add_fingerprint();
  ASSERT_EQ(w.finish(), kResponseV4.size());
  EXPECT_EQ(std::vector<uint8_t>(buf, buf + w.finish()), kResponseV4);
}

TEST(StunWriter, ReproducesTheRfc5769Ipv6Response) {
  uint8_t buf[128];
  StunWriter w(buf, kStunBindingSuccess, kTid);
  w.add_string(stun_attr::kSoftware, "test vector");
  buf[20 + 4 + 11] = 0x20;
  StunAddress a;
  a.v6 = true;
  a.ip = {0x20, 0x01, 0x0d, 0xb8, 0x12, 0x34, 0x56, 0x78, 0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77};
  a.port = 32853;
  w.add_xor_mapped_address(a);
  w.add_message_integrity(kPassword);
  w.add_fingerprint();
  EXPECT_EQ(std::vector<uint8_t>(buf, buf + w.finish()), kResponseV6);
}

TEST(StunWriter, BindingRequestRoundTrip) {
  uint8_t buf[256];
  StunBindingRequestParams p;
  p.username = "remoteUf:localUf";
  p.password = "a-remote-password-of-22+";
  p.priority = 0x7e7f00ff;
  p.controlling = true;
  p.tiebreaker = 0x0102030405060708ull;
  p.use_candidate = true;
  const size_t n = write_stun_binding_request(buf, kTid, p);
  // 20 header + USERNAME (4+16) + PRIORITY (8) + ICE-CONTROLLING (12) + USE-CANDIDATE (4) + MI (24) + FP (8)
  ASSERT_EQ(n, 96u);
  EXPECT_EQ(buf[0], 0x00);
  EXPECT_EQ(buf[1], 0x01);
  EXPECT_EQ(buf[2], 0x00);
  EXPECT_EQ(buf[3], 76);
  auto m = StunMessage::parse(std::span<const uint8_t>(buf, n));
  ASSERT_TRUE(m);
  EXPECT_EQ(m->username(), "remoteUf:localUf");
  EXPECT_EQ(m->priority(), 0x7e7f00ffu);
  EXPECT_EQ(m->ice_controlling(), 0x0102030405060708ull);
  EXPECT_FALSE(m->ice_controlled());
  EXPECT_TRUE(m->use_candidate());
  EXPECT_TRUE(m->verify_integrity(p.password));
  EXPECT_FALSE(m->verify_integrity(std::string_view("another-password-of-22+")));
  EXPECT_TRUE(m->verify_fingerprint());
}

TEST(StunWriter, BindingRequestControlledWithOddUsernamePadsWithZeros) {
  uint8_t buf[256];
  StunBindingRequestParams p;
  p.username = "abc:de";  // 6 bytes -> 2 bytes of zero padding
  p.password = "pw";
  p.controlling = false;
  p.tiebreaker = 42;
  const size_t n = write_stun_binding_request(buf, kTid, p);
  ASSERT_GT(n, 0u);
  EXPECT_EQ(buf[20 + 4 + 6], 0);
  EXPECT_EQ(buf[20 + 4 + 7], 0);
  auto m = StunMessage::parse(std::span<const uint8_t>(buf, n));
  ASSERT_TRUE(m);
  EXPECT_EQ(m->username(), "abc:de");
  EXPECT_EQ(m->ice_controlled(), 42u);
  EXPECT_FALSE(m->use_candidate());
  EXPECT_TRUE(m->verify_integrity(std::string_view("pw")));
  EXPECT_TRUE(m->verify_fingerprint());
}

TEST(StunWriter, SuccessResponseRoundTripIpv6) {
  uint8_t buf[128];
  StunAddress a;
  a.v6 = true;
  a.ip = {0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0};
  a.port = 50000;
  const size_t n = write_stun_binding_success(buf, kTid, a, "server-pwd-1234567890ab");
  ASSERT_EQ(n, 20u + 24 + 24 + 8);
  auto m = StunMessage::parse(std::span<const uint8_t>(buf, n));
  ASSERT_TRUE(m);
  EXPECT_EQ(m->type(), kStunBindingSuccess);
  EXPECT_EQ(m->transaction_id_array(), kTid);
  EXPECT_EQ(m->xor_mapped_address(), a);
  EXPECT_TRUE(m->verify_integrity(std::string_view("server-pwd-1234567890ab")));
  EXPECT_TRUE(m->verify_fingerprint());
}

TEST(StunWriter, ErrorResponses) {
  uint8_t buf[128];
  size_t n = write_stun_binding_error(buf, kTid, 487, "Role Conflict", std::string_view("pwd"));
  ASSERT_GT(n, 0u);
  auto m = StunMessage::parse(std::span<const uint8_t>(buf, n));
  ASSERT_TRUE(m);
  EXPECT_EQ(m->type(), kStunBindingError);
  EXPECT_EQ(m->message_class(), StunClass::kErrorResponse);
  auto e = m->error_code();
  ASSERT_TRUE(e);
  EXPECT_EQ(e->code, 487);
  EXPECT_EQ(e->reason, "Role Conflict");
  EXPECT_EQ(buf[20 + 4 + 2], 4);
  EXPECT_EQ(buf[20 + 4 + 3], 87);
  EXPECT_TRUE(m->verify_integrity(std::string_view("pwd")));
  EXPECT_TRUE(m->verify_fingerprint());

  n = write_stun_binding_error(buf, kTid, 401, "Unauthorized");
  m = StunMessage::parse(std::span<const uint8_t>(buf, n));
  ASSERT_TRUE(m);
  EXPECT_EQ(m->error_code()->code, 401);
  EXPECT_FALSE(m->has(stun_attr::kMessageIntegrity));
  EXPECT_FALSE(m->verify_integrity(std::string_view("pwd")));
  EXPECT_TRUE(m->verify_fingerprint());

  n = write_stun_binding_error(buf, kTid, 400, "Bad Request");
  m = StunMessage::parse(std::span<const uint8_t>(buf, n));
  ASSERT_TRUE(m);
  EXPECT_EQ(m->error_code()->code, 400);
  EXPECT_EQ(m->error_code()->reason, "Bad Request");

  EXPECT_EQ(write_stun_binding_error(buf, kTid, 299, "x"), 0u);
  EXPECT_EQ(write_stun_binding_error(buf, kTid, 700, "x"), 0u);
}

TEST(StunWriter, FailsCleanlyWhenTheBufferIsTooSmall) {
  StunBindingRequestParams p;
  p.username = "remoteUf:localUf";
  p.password = "pw";
  std::vector<uint8_t> buf(200);
  const size_t full = write_stun_binding_request(buf, kTid, p);
  ASSERT_GT(full, 0u);
  for (size_t cap = 0; cap < full; ++cap) {
    std::vector<uint8_t> small(cap);
    EXPECT_EQ(write_stun_binding_request(small, kTid, p), 0u) << cap;
  }
  StunWriter w(std::span<uint8_t>(buf.data(), 24), kStunBindingRequest, kTid);
  EXPECT_FALSE(w.add_priority(1));      // needs 8 more than the 4 left
  EXPECT_FALSE(w.add_use_candidate());  // sticky failure
  EXPECT_EQ(w.finish(), 0u);
  EXPECT_FALSE(w.add_username(std::string(764, 'u')));
}

TEST(StunParse, RejectsMalformedMessages) {
  std::string_view why;
  EXPECT_FALSE(StunMessage::parse({}, &why));
  EXPECT_EQ(why, "shorter than the 20-byte STUN header");

  // Truncated at every length: the length field no longer matches.
  for (size_t n = 0; n < kRequest.size(); ++n) {
    EXPECT_FALSE(StunMessage::parse(std::span<const uint8_t>(kRequest.data(), n))) << n;
  }

  auto bad = kRequest;
  bad[4] = 0x22;
  EXPECT_FALSE(StunMessage::parse(bad, &why));
  EXPECT_EQ(why, "no magic cookie");

  bad = kRequest;
  bad[0] = 0x40;
  EXPECT_FALSE(StunMessage::parse(bad, &why));
  EXPECT_EQ(why, "top two bits of the type are not zero");

  bad = kRequest;
  bad[3] = 0x59;  // length 89: not aligned
  EXPECT_FALSE(StunMessage::parse(bad, &why));
  EXPECT_EQ(why, "length is not a multiple of 4");

  bad = kRequest;
  bad[3] = 0x54;  // length 84: 4 bytes less than the datagram
  EXPECT_FALSE(StunMessage::parse(bad, &why));
  EXPECT_EQ(why, "length field does not match the datagram size");

  bad = kRequest;
  bad.push_back(0);  // datagram longer than the length says
  bad.push_back(0);
  bad.push_back(0);
  bad.push_back(0);
  EXPECT_FALSE(StunMessage::parse(bad, &why));

  // An attribute whose length runs past the end (SOFTWARE claims 0x70 bytes).
  bad = kRequest;
  bad[23] = 0x70;
  EXPECT_FALSE(StunMessage::parse(bad, &why));
  EXPECT_EQ(why, "attribute runs past the end of the message");

  // MESSAGE-INTEGRITY that claims 16 bytes.
  bad = kRequest;
  bad[0x4f] = 0x10;  // MI length low byte
  EXPECT_FALSE(StunMessage::parse(bad, &why));
  EXPECT_EQ(why, "MESSAGE-INTEGRITY is not 20 bytes");

  // An attribute after FINGERPRINT.
  bad = kRequest;
  for (uint8_t b : {0x00, 0x25, 0x00, 0x00})
    bad.push_back(b);
  bad[3] = static_cast<uint8_t>(bad[3] + 4);
  EXPECT_FALSE(StunMessage::parse(bad, &why));
  EXPECT_EQ(why, "attribute after FINGERPRINT");
}

TEST(StunParse, TamperingBreaksIntegrityAndFingerprint) {
  auto bad = kRequest;
  bad[0x2c] ^= 0x01;  // inside PRIORITY
  auto m = StunMessage::parse(bad);
  ASSERT_TRUE(m);
  EXPECT_FALSE(m->verify_integrity(kPassword));
  EXPECT_FALSE(m->verify_fingerprint());

  bad = kRequest;
  bad[bad.size() - 1] ^= 0x80;  // the CRC itself
  m = StunMessage::parse(bad);
  ASSERT_TRUE(m);
  EXPECT_TRUE(m->verify_integrity(kPassword));
  EXPECT_FALSE(m->verify_fingerprint());

  bad = kRequest;
  bad[0x50] ^= 0xFF;  // the HMAC
  m = StunMessage::parse(bad);
  ASSERT_TRUE(m);
  EXPECT_FALSE(m->verify_integrity(kPassword));
}

TEST(StunParse, AttributesAfterIntegrityAreIgnored) {
  // Request with MESSAGE-INTEGRITY, then a PRIORITY the HMAC does not cover.
  uint8_t buf[128];
  StunWriter w(buf, kStunBindingRequest, kTid);
  w.add_username("a:b");
  w.add_message_integrity(std::string_view("pw"));
  w.add_priority(7);
  ASSERT_TRUE(w.ok());
  auto m = StunMessage::parse(w.bytes());
  ASSERT_TRUE(m);
  EXPECT_TRUE(m->verify_integrity(std::string_view("pw")));
  EXPECT_FALSE(m->priority());
  EXPECT_FALSE(m->verify_fingerprint());  // absent
}

TEST(StunParse, MalformedTypedAttributesGiveNullopt) {
  uint8_t buf[128];
  StunWriter w(buf, kStunBindingRequest, kTid);
  const uint8_t three[3] = {1, 2, 3};
  w.add_attribute(stun_attr::kPriority, three);
  w.add_attribute(stun_attr::kIceControlling, three);
  const uint8_t bad_family[8] = {0, 3, 0, 0, 1, 2, 3, 4};
  w.add_attribute(stun_attr::kXorMappedAddress, bad_family);
  const uint8_t bad_error[6] = {0, 0, 7, 10, 'x', 'y'};
  w.add_attribute(stun_attr::kErrorCode, bad_error);
  ASSERT_TRUE(w.ok());
  auto m = StunMessage::parse(w.bytes());
  ASSERT_TRUE(m);
  EXPECT_FALSE(m->priority());
  EXPECT_FALSE(m->ice_controlling());
  EXPECT_FALSE(m->xor_mapped_address());
  EXPECT_FALSE(m->error_code());
  EXPECT_FALSE(m->verify_integrity(std::string_view("pw")));
  EXPECT_FALSE(m->verify_fingerprint());
}

TEST(StunParse, LooksLikeStun) {
  EXPECT_TRUE(StunMessage::looks_like_stun(kRequest));
  const std::vector<uint8_t> rtp = hex("80 60 00 01 00 00 00 00 21 12 a4 42 00 00 00 00 00 00 00 00");
  EXPECT_FALSE(StunMessage::looks_like_stun(rtp));
  EXPECT_FALSE(StunMessage::looks_like_stun(std::span<const uint8_t>(kRequest.data(), 19)));
}

}  // namespace
}  // namespace atrium::media
