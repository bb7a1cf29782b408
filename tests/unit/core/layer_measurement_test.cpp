// What LocalTrack tells the allocator about its source, and how RemoteTrack merges per-layer key-frame
// requests, without the hub around them.
#include <gtest/gtest.h>

#include <vector>

#include "core/endpoint/local_track.h"
#include "core/endpoint/remote_track.h"

namespace atrium::core {
namespace {

const std::vector<uint8_t> kDelta(1000, 0x11);  // not a key frame for VP8 (P bit set, no start)

media::MediaPacket packet(uint8_t spatial, uint8_t temporal, uint16_t seq) {
  media::MediaPacket p;
  p.codec = media::Codec::kVP8;
  p.seq = seq;
  p.timestamp = seq * 3000u;
  p.spatial_layer = spatial;
  p.temporal_layer = temporal;
  p.payload = kDelta;
  return p;
}

TEST(LayerMeasurement, CumulativePerTemporalLayerAndGoneAsSoonAsALayerStops) {
  LocalTrack t(1);
  t.set_limits(LocalTrackLimits{.lower_frame_rate = true});  // per temporal layer
  media::Micros now = 10'000'000;
  t.attach(now, "p", "video");
  uint16_t seq = 0;
  // 1 s: layer 0 with TL0 and TL1 at 10 packets/s each, layer 1 TL0 at 20 packets/s (1000 B each).
  for (int i = 0; i < 100; ++i, now += 10'000) {
    if (i % 10 == 0) t.on_media(now, packet(0, 0, seq++));
    if (i % 10 == 5) t.on_media(now, packet(0, 1, seq++));
    if (i % 5 == 0) t.on_media(now, packet(1, 0, seq++));
  }
  LayerBitrates lb = t.layer_bitrates(now);
  EXPECT_TRUE(t.has_bitrates());
  EXPECT_NEAR(lb.bps[0][0], 80'000, 10'000);
  EXPECT_NEAR(lb.bps[0][1], 160'000, 20'000) << "cumulative: TL0 + TL1";
  EXPECT_EQ(lb.bps[0][2], 0u) << "absent";
  EXPECT_NEAR(lb.bps[1][0], 160'000, 20'000);

  // Layer 1 stops (the publisher paused it): still there within a few frames' silence, gone after 0.5 s.
  for (int i = 0; i < 30; ++i, now += 10'000) {
    if (i % 10 == 0) t.on_media(now, packet(0, 0, seq++));
    if (i % 10 == 5) t.on_media(now, packet(0, 1, seq++));
  }
  EXPECT_GT(t.layer_bitrates(now).bps[1][0], 0u) << "0.3 s without a packet: a pause between frames";
  for (int i = 0; i < 30; ++i, now += 10'000) {
    if (i % 10 == 0) t.on_media(now, packet(0, 0, seq++));
    if (i % 10 == 5) t.on_media(now, packet(0, 1, seq++));
  }
  lb = t.layer_bitrates(now);
  EXPECT_EQ(lb.bps[1][0], 0u) << "stopped: not offered to the allocator any more";
  EXPECT_NEAR(lb.bps[0][1], 160'000, 20'000);
  EXPECT_NEAR(lb.bps[0][0], 80'000, 10'000);
}

// A layer that has just started (or come back) is measured over a fraction of the meter's window, so it
// looks cheap; it is offered only once it has flowed for a second.
TEST(LayerMeasurement, ALayerIsOfferedOnlyOnceSteady) {
  LocalTrack t(1);
  media::Micros now = 0;
  t.attach(now, "p", "video");
  uint16_t seq = 0;
  for (int i = 0; i < 100; ++i, now += 10'000)
    if (i % 5 == 0) t.on_media(now, packet(0, 0, seq++));
  for (int i = 0; i < 50; ++i, now += 10'000) {  // layer 1 starts: half a second
    if (i % 5 == 0) t.on_media(now, packet(0, 0, seq++));
    if (i % 2 == 0) t.on_media(now, packet(1, 0, seq++));
  }
  EXPECT_EQ(t.layer_bitrates(now).bps[1][0], 0u) << "half a second old";
  for (int i = 0; i < 60; ++i, now += 10'000) {
    if (i % 5 == 0) t.on_media(now, packet(0, 0, seq++));
    if (i % 2 == 0) t.on_media(now, packet(1, 0, seq++));
  }
  EXPECT_NEAR(t.layer_bitrates(now).bps[1][0], 400'000, 40'000) << "steady: measured over the full window";
}

TEST(LayerMeasurement, SvcLayersCountAsOne) {
  LocalTrack t(1);
  media::Micros now = 0;
  t.attach(now, "p", "video");
  for (uint16_t i = 0; i < 100; ++i, now += 10'000) {
    auto p = packet(static_cast<uint8_t>(i % 3), 0, i);
    p.codec = media::Codec::kVP9;
    t.on_media(now, p);
  }
  const LayerBitrates lb = t.layer_bitrates(now);
  EXPECT_NEAR(lb.bps[0][0], 800'000, 100'000) << "VP9 spatial layers depend on each other: one stream";
  EXPECT_EQ(lb.bps[1][0], 0u);
}

TEST(RemoteTrackRequests, MergedPerLayerAndAnsweredByThatLayersKeyFrame) {
  RemoteTrack r(1, TrackInfo{"video", media::MediaKind::kVideo, {}});
  std::vector<uint8_t> due;
  auto tick = [&](media::Micros now) {
    due.clear();
    r.on_tick(now, [&](uint8_t layer) { due.push_back(layer); });
    return due;
  };
  EXPECT_TRUE(r.on_keyframe_request(0, 2));
  EXPECT_TRUE(r.on_keyframe_request(0, 0)) << "another layer is not merged";
  EXPECT_FALSE(r.on_keyframe_request(100'000, 2));
  EXPECT_FALSE(r.on_keyframe_request(100'000, 0));
  // A key frame on layer 0 answers layer 0's merged request, not layer 2's.
  media::MediaPacket key;
  key.codec = media::Codec::kVP8;
  const std::vector<uint8_t> vp8_key = {0x10, 0x10, 0x00, 0x00, 0x9d, 0x01, 0x2a};
  key.payload = vp8_key;
  key.spatial_layer = 0;
  r.on_media(key);
  EXPECT_EQ(tick(600'000), (std::vector<uint8_t>{2}));
  EXPECT_TRUE(tick(1'200'000).empty());
}

}  // namespace
}  // namespace atrium::core
