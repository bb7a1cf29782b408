#include "media/demux.h"

#include <gtest/gtest.h>

#include <vector>

namespace atrium::media {
namespace {

PacketClass classify(std::vector<uint8_t> b) {
  return classify_packet(b);
}

TEST(Demux, FirstByteRangesOfRfc7983) {
  EXPECT_EQ(classify({0x00, 0x01}), PacketClass::kStun);  // binding request
  EXPECT_EQ(classify({0x01, 0x01}), PacketClass::kStun);  // binding success
  EXPECT_EQ(classify({0x03}), PacketClass::kStun);
  EXPECT_EQ(classify({0x04}), PacketClass::kUnknown);
  EXPECT_EQ(classify({0x10}), PacketClass::kUnknown);  // ZRTP
  EXPECT_EQ(classify({0x13}), PacketClass::kUnknown);
  EXPECT_EQ(classify({0x14, 0xFE}), PacketClass::kDtls);        // change cipher spec
  EXPECT_EQ(classify({0x16, 0xFE, 0xFD}), PacketClass::kDtls);  // handshake
  EXPECT_EQ(classify({0x3F}), PacketClass::kDtls);
  EXPECT_EQ(classify({0x40, 0x00}), PacketClass::kUnknown);  // TURN channel
  EXPECT_EQ(classify({0x7F, 0x00}), PacketClass::kUnknown);
  EXPECT_EQ(classify({0xC0, 0x00}), PacketClass::kUnknown);  // QUIC long header range
  EXPECT_EQ(classify({}), PacketClass::kUnknown);
}

TEST(Demux, RtpVersusRtcpByPayloadType) {
  EXPECT_EQ(classify({0x80, 0x60}), PacketClass::kRtp);  // PT 96
  EXPECT_EQ(classify({0x80, 0xE0}), PacketClass::kRtp);  // marker + PT 96
  EXPECT_EQ(classify({0x80, 0x3F}), PacketClass::kRtp);  // PT 63
  EXPECT_EQ(classify({0x80, 0xBF}), PacketClass::kRtp);  // marker + PT 63
  EXPECT_EQ(classify({0x80, 0x60 + 0x80}), PacketClass::kRtp);
  EXPECT_EQ(classify({0x80, 0xC0}), PacketClass::kRtcp);  // 192 (FIR, old)
  EXPECT_EQ(classify({0x80, 0xC8}), PacketClass::kRtcp);  // SR
  EXPECT_EQ(classify({0x81, 0xCD}), PacketClass::kRtcp);  // RTPFB
  EXPECT_EQ(classify({0x80, 0xDF}), PacketClass::kRtcp);  // 223
  EXPECT_EQ(classify({0x80, 0x5F}), PacketClass::kRtcp);  // PT 95 without the marker bit reads as RTCP too
  EXPECT_EQ(classify({0x80}), PacketClass::kUnknown);     // too short to tell
  EXPECT_EQ(classify({0xBF, 0x00}), PacketClass::kRtp);   // top of the range
}

TEST(Demux, IsRtcpPacketTypeBoundaries) {
  EXPECT_FALSE(is_rtcp_packet_type(63));
  EXPECT_TRUE(is_rtcp_packet_type(64));
  EXPECT_TRUE(is_rtcp_packet_type(95));
  EXPECT_FALSE(is_rtcp_packet_type(96));
  EXPECT_FALSE(is_rtcp_packet_type(191));
  EXPECT_TRUE(is_rtcp_packet_type(192));
  EXPECT_TRUE(is_rtcp_packet_type(223));
  EXPECT_FALSE(is_rtcp_packet_type(224));
}

}  // namespace
}  // namespace atrium::media
