// Sessions that have not connected yet are capped per client address and in total (issue 13, part 5).
#include "server/webrtc/pending_sessions.h"

#include <gtest/gtest.h>

namespace atrium::server {
namespace {

using Reserved = PendingSessions::Reserved;

TEST(PendingSessions, CapsEachAddressThenTheServer) {
  PendingSessions pending(/*max_total=*/5, /*max_per_address=*/3);
  for (int i = 0; i < 3; ++i)
    EXPECT_EQ(pending.try_reserve("10.0.0.1"), Reserved::kYes);
  EXPECT_EQ(pending.try_reserve("10.0.0.1"), Reserved::kAddressFull);
  EXPECT_EQ(pending.of("10.0.0.1"), 3);
  // Another address still gets in, up to the total.
  EXPECT_EQ(pending.try_reserve("10.0.0.2"), Reserved::kYes);
  EXPECT_EQ(pending.try_reserve("10.0.0.3"), Reserved::kYes);
  EXPECT_EQ(pending.try_reserve("10.0.0.4"), Reserved::kServerFull);
  EXPECT_EQ(pending.total(), 5);
}

TEST(PendingSessions, ReleasingGivesTheSlotBackAndForgetsIdleAddresses) {
  PendingSessions pending(10, 2);
  ASSERT_EQ(pending.try_reserve("10.0.0.1"), Reserved::kYes);
  ASSERT_EQ(pending.try_reserve("10.0.0.1"), Reserved::kYes);
  ASSERT_EQ(pending.try_reserve("10.0.0.1"), Reserved::kAddressFull);
  pending.release("10.0.0.1");
  EXPECT_EQ(pending.try_reserve("10.0.0.1"), Reserved::kYes);
  pending.release("10.0.0.1");
  pending.release("10.0.0.1");
  EXPECT_EQ(pending.total(), 0);
  EXPECT_EQ(pending.of("10.0.0.1"), 0);
  // A release nobody reserved (a bug elsewhere) must not make room below zero.
  pending.release("10.0.0.9");
  EXPECT_EQ(pending.total(), 0);
}

}  // namespace
}  // namespace atrium::server
