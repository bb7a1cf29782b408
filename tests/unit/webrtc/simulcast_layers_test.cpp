#include "transport/webrtc/rtp/simulcast_layers.h"

#include <gtest/gtest.h>

namespace atrium::webrtc {
namespace {

using Layers = std::vector<uint8_t>;

TEST(SimulcastLayerOrder, KnownConventionsSortLowestFirstWhateverTheSdpOrder) {
  EXPECT_EQ(simulcast_layer_order({"q", "h", "f"}), (Layers{0, 1, 2}));
  EXPECT_EQ(simulcast_layer_order({"f", "h", "q"}), (Layers{2, 1, 0}));
  EXPECT_EQ(simulcast_layer_order({"h", "m", "l"}), (Layers{2, 1, 0}));  // "h" is high among l/m/h
  EXPECT_EQ(simulcast_layer_order({"h", "f"}), (Layers{0, 1}));          // ... and half among q/h/f
  EXPECT_EQ(simulcast_layer_order({"high", "low", "mid"}), (Layers{2, 0, 1}));
  EXPECT_EQ(simulcast_layer_order({"2", "0", "1"}), (Layers{2, 0, 1}));
}

TEST(SimulcastLayerOrder, UnknownNamesKeepTheSdpOrder) {
  EXPECT_EQ(simulcast_layer_order({"small", "big"}), (Layers{0, 1}));
  EXPECT_EQ(simulcast_layer_order({"l", "x", "h"}), (Layers{0, 1, 2}));
  EXPECT_EQ(simulcast_layer_order({}), Layers{});
}

}  // namespace
}  // namespace atrium::webrtc
