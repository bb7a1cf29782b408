#include "transport/webrtc/ice/candidate_priority.h"

#include <gtest/gtest.h>

#include "transport/webrtc/ice/ice_lite_agent.h"

namespace atrium::webrtc {
namespace {

TEST(CandidatePriority, TypePreferenceInTheTopEightBits) {
  // RFC 8445 section 5.1.2.1: (2^24) * type + (2^8) * local + (256 - component).
  EXPECT_EQ(candidate_type_of_priority(candidate_priority(126, 65535)), CandidateType::kHost);
  EXPECT_EQ(candidate_type_of_priority(candidate_priority(110, 65535)), CandidateType::kPeerReflexive);
  EXPECT_EQ(candidate_type_of_priority(candidate_priority(100, 1)), CandidateType::kServerReflexive);
  EXPECT_EQ(candidate_type_of_priority(candidate_priority(0, 65535)), CandidateType::kRelay);
  // libwebrtc: relayed over UDP is 2, TCP 1, TLS 0; host TCP 90, peer-reflexive TCP 80.
  EXPECT_EQ(candidate_type_of_priority(candidate_priority(2, 32767)), CandidateType::kRelay);
  EXPECT_EQ(candidate_type_of_priority(candidate_priority(90, 1)), CandidateType::kHost);
  EXPECT_EQ(candidate_type_of_priority(candidate_priority(80, 1)), CandidateType::kPeerReflexive);
  EXPECT_EQ(candidate_type_of_priority(candidate_priority(50, 1)), CandidateType::kUnknown);
  // Real values: a Chromium relay candidate (UDP relay, 2 << 24 | ...) and its checks' prflx priority.
  EXPECT_EQ(candidate_type_of_priority(41885439u), CandidateType::kRelay);  // 0x027F1EFF
  EXPECT_EQ(candidate_type_of_priority(1853759231u), CandidateType::kPeerReflexive);
  EXPECT_STREQ(candidate_type_name(CandidateType::kRelay), "relay");
  EXPECT_STREQ(candidate_type_name(CandidateType::kServerReflexive), "srflx");
}

TEST(CandidatePriority, AgentKeepsTheNominatingChecksPriority) {
  IceLiteAgent agent(IceCredentials::random());
  const auto a = SocketAddress::v4(10, 0, 0, 1, 5000);
  const auto b = SocketAddress::v4(10, 0, 0, 2, 5000);
  agent.on_valid_check(1, a, false, 7u);
  EXPECT_FALSE(agent.nominated_priority());
  agent.on_valid_check(2, b, true, candidate_priority(0, 100));
  ASSERT_TRUE(agent.nominated_priority());
  EXPECT_EQ(candidate_type_of_priority(*agent.nominated_priority()), CandidateType::kRelay);
  EXPECT_EQ(agent.nominated_address(), b);
}

}  // namespace
}  // namespace atrium::webrtc
