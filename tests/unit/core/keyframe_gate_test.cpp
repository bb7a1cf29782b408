#include "core/endpoint/keyframe_gate.h"

#include <gtest/gtest.h>

namespace atrium::core {
namespace {

TEST(KeyFrameGate, WaitingAsksAtOnceAndTheRequestIsTakenOnce) {
  KeyFrameGate g;
  g.wait_for(0, 1);
  EXPECT_TRUE(g.waiting());
  EXPECT_EQ(g.take_request(), std::optional<uint8_t>(1));
  EXPECT_EQ(g.take_request(), std::nullopt);
  EXPECT_FALSE(g.retry_due(999'999));
  EXPECT_TRUE(g.retry_due(1'000'000));
}

TEST(KeyFrameGate, AFreshAnyLayerRequestCoversTheLayerWantedLater) {
  KeyFrameGate g;
  g.wait_for(0, KeyFrameGate::kAnyLayer);
  EXPECT_EQ(g.take_request(), std::optional<uint8_t>(kAnySpatialLayer));
  g.want(100'000, 2);  // the layers became known: layer 2's key frame is still coming from the "any" request
  EXPECT_EQ(g.waiting_for(), 2);
  EXPECT_EQ(g.take_request(), std::nullopt);
  EXPECT_EQ(g.requests(), 1u);
}

TEST(KeyFrameGate, AnAnsweredOrStaleAnyRequestCoversNothing) {
  KeyFrameGate g;
  g.wait_for(0, KeyFrameGate::kAnyLayer);
  g.take_request();
  g.saw_keyframe(0);
  g.want(10'000, 0);  // layer 0's key frame came and went: ask for another
  EXPECT_EQ(g.take_request(), std::optional<uint8_t>(0));
  g.want(1'200'000, 1);  // the "any" request is over a second old
  EXPECT_EQ(g.take_request(), std::optional<uint8_t>(1));
}

TEST(KeyFrameGate, CancelDropsARequestNotYetTaken) {
  KeyFrameGate g;
  g.wait_for(0, 0);
  g.cancel();
  EXPECT_FALSE(g.waiting());
  EXPECT_EQ(g.take_request(), std::nullopt);
}

}  // namespace
}  // namespace atrium::core
