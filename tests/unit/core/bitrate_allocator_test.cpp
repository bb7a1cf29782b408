// BitrateAllocator with a fake clock: audio first, video by priority and in shared rounds, limits, immediate
// downgrades, upgrades only after the dwell time and with a margin, no flapping, changes only.
#include "core/bitrate/bitrate_allocator.h"

#include <gtest/gtest.h>

#include <vector>

namespace atrium::core {
namespace {

using media::MediaKind;
using media::Micros;

constexpr Micros kSecond = 1'000'000;
const LayerBitrates kSimulcast = LayerBitrates::spatial({150'000, 500'000, 1'500'000});
const LayerBitrates kOpus = LayerBitrates::spatial({32'000});

std::vector<LayerChange> drain(BitrateAllocator& a) {
  std::vector<LayerChange> out;
  while (auto c = a.poll())
    out.push_back(*c);
  return out;
}

Layer spatial(uint8_t s) {
  return Layer{s, kAllTemporalLayers};
}

TEST(BitrateAllocator, AudioSurvivesATinyBudgetWhileVideoPauses) {
  BitrateAllocator a;
  a.add_track(1, MediaKind::kVideo, 255, kSimulcast);
  a.add_track(2, MediaKind::kAudio, 0, kOpus);
  a.set_estimate(0, 60'000);
  auto changes = drain(a);
  ASSERT_EQ(changes.size(), 1u);  // the video stays paused, as it started: no change for it
  EXPECT_EQ(changes[0].track, 2u);
  EXPECT_EQ(changes[0].layer, spatial(0));
  EXPECT_EQ(a.current(1), std::nullopt);
  EXPECT_EQ(a.allocated_bps(), 32'000u);

  // Enough for audio and a bit, not for the lowest video layer plus audio: still audio only.
  a.set_estimate(kSecond, 160'000);
  EXPECT_TRUE(drain(a).empty());
  EXPECT_EQ(a.current(2), spatial(0));
  EXPECT_EQ(a.current(1), std::nullopt);
}

// The rungs follow the publisher's layer order, not the measured bitrates: a top layer that measures low (it
// has just started) is not the cheap first rung, and costs at least what the layers below it cost.
TEST(BitrateAllocator, TheLadderKeepsThePublishersLayerOrder) {
  BitrateAllocator a;
  a.add_track(7, MediaKind::kVideo, 100, LayerBitrates::spatial({150'000, 500'000, 20'000}));
  a.set_estimate(0, 100'000);
  EXPECT_TRUE(drain(a).empty()) << "the 20 kbps top layer is not offered below the lowest";
  EXPECT_EQ(a.current(7), std::nullopt);
  a.set_estimate(kSecond, 300'000);
  auto up = drain(a);
  ASSERT_EQ(up.size(), 1u);
  EXPECT_EQ(up[0].layer, spatial(0));
}

TEST(BitrateAllocator, PausedWhenEvenTheLowestLayerDoesNotFit) {
  BitrateAllocator a;
  a.add_track(7, MediaKind::kVideo, 100, kSimulcast);
  a.set_estimate(0, 100'000);
  EXPECT_TRUE(drain(a).empty());
  EXPECT_EQ(a.current(7), std::nullopt);

  a.set_estimate(kSecond, 200'000);
  auto up = drain(a);
  ASSERT_EQ(up.size(), 1u);
  EXPECT_EQ(up[0].layer, spatial(0));

  a.set_estimate(2 * kSecond, 140'000);
  auto down = drain(a);
  ASSERT_EQ(down.size(), 1u);
  EXPECT_EQ(down[0].track, 7u);
  EXPECT_EQ(down[0].layer, std::nullopt);
  EXPECT_EQ(a.allocated_bps(), 0u);
}

TEST(BitrateAllocator, HigherPriorityGetsTheHighLayerWhenOnlyOneFits) {
  BitrateAllocator a;
  a.add_track(1, MediaKind::kVideo, 10, kSimulcast);
  a.add_track(2, MediaKind::kVideo, 200, kSimulcast);
  a.set_estimate(0, 1'800'000);
  EXPECT_EQ(a.current(2), spatial(2));
  EXPECT_EQ(a.current(1), spatial(0));  // what is left after 1.5M
  EXPECT_EQ(a.allocated_bps(), 1'650'000u);

  // Swap the priorities: track 1 may go up only after its dwell time; until then track 2 keeps what it has.
  a.set_priority(1, 250);
  a.update(kSecond);
  EXPECT_EQ(a.current(1), spatial(0));
  EXPECT_EQ(a.current(2), spatial(2));
  a.update(4 * kSecond);
  EXPECT_EQ(a.current(1), spatial(2));
  EXPECT_EQ(a.current(2), spatial(0));
}

TEST(BitrateAllocator, EqualPrioritiesShareInRounds) {
  BitrateAllocator a;
  a.add_track(1, MediaKind::kVideo, 100, kSimulcast);
  a.add_track(2, MediaKind::kVideo, 100, kSimulcast);
  // 1.8M would carry one top layer; with equal priority both get the middle one instead.
  a.set_estimate(0, 1'800'000);
  EXPECT_EQ(a.current(1), spatial(1));
  EXPECT_EQ(a.current(2), spatial(1));

  // Only enough for the lowest layer of each, not for anyone's second.
  BitrateAllocator b;
  b.add_track(1, MediaKind::kVideo, 100, kSimulcast);
  b.add_track(2, MediaKind::kVideo, 100, kSimulcast);
  b.add_track(3, MediaKind::kVideo, 100, kSimulcast);
  b.set_estimate(0, 600'000);
  EXPECT_EQ(b.current(1), spatial(0));
  EXPECT_EQ(b.current(2), spatial(0));
  EXPECT_EQ(b.current(3), spatial(0));
}

TEST(BitrateAllocator, MaxSpatialAndMaxBitrateLimitsAreRespected) {
  BitrateAllocator a;
  a.add_track(1, MediaKind::kVideo, 100, kSimulcast, TrackLimits{.max_spatial = 1});
  a.add_track(2, MediaKind::kVideo, 100, kSimulcast, TrackLimits{.max_bitrate_bps = 600'000});
  a.add_track(3, MediaKind::kVideo, 100, kSimulcast, TrackLimits{.max_bitrate_bps = 100'000});
  a.set_estimate(0, 50'000'000);
  EXPECT_EQ(a.current(1), spatial(1));
  EXPECT_EQ(a.current(2), spatial(1));
  EXPECT_EQ(a.current(3), std::nullopt);  // even its lowest layer is over its cap

  // Tightening a limit takes effect at once, like a downgrade.
  a.set_limits(1, TrackLimits{.max_spatial = 0});
  a.update(kSecond / 10);
  EXPECT_EQ(a.current(1), spatial(0));
  // Loosening it is an upgrade: after the dwell.
  a.set_limits(1, TrackLimits{});
  a.update(kSecond);
  EXPECT_EQ(a.current(1), spatial(0));
  a.update(kSecond / 10 + 3 * kSecond);
  EXPECT_EQ(a.current(1), spatial(2));
}

TEST(BitrateAllocator, TemporalLayersAndTheMaxTemporalLimit) {
  LayerBitrates layers;
  layers.bps[0] = {60'000, 100'000, 150'000, 0};
  layers.bps[1] = {200'000, 330'000, 500'000, 0};
  layers.bps[2] = {600'000, 1'000'000, 1'500'000, 0};
  BitrateAllocator a;
  a.add_track(1, MediaKind::kVideo, 100, layers, TrackLimits{.max_temporal = 1});
  a.set_estimate(0, 50'000'000);
  EXPECT_EQ(a.current(1), (Layer{2, 1}));

  // A thin budget takes the temporal sub-layer that fits: 380k carries (1,1) = 330k but not (2,0) = 600k.
  BitrateAllocator b;
  b.add_track(1, MediaKind::kVideo, 100, layers);
  b.set_estimate(0, 380'000);
  EXPECT_EQ(b.current(1), (Layer{1, 1}));

  // No temporal information: the limit is what the track is told to forward.
  BitrateAllocator c;
  c.add_track(1, MediaKind::kVideo, 100, kSimulcast, TrackLimits{.max_temporal = 0});
  c.set_estimate(0, 50'000'000);
  EXPECT_EQ(c.current(1), (Layer{2, 0}));
}

TEST(BitrateAllocator, BudgetDropDowngradesImmediately) {
  BitrateAllocator a;
  a.add_track(1, MediaKind::kVideo, 100, kSimulcast);
  a.add_track(2, MediaKind::kAudio, 100, kOpus);
  a.set_estimate(0, 5'000'000);
  EXPECT_EQ(a.current(1), spatial(2));
  drain(a);

  // 100 ms later, well inside any dwell time.
  a.set_estimate(kSecond / 10, 700'000);
  auto changes = drain(a);
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].track, 1u);
  EXPECT_EQ(changes[0].layer, spatial(1));

  a.set_estimate(kSecond / 5, 100'000);
  changes = drain(a);
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].layer, std::nullopt);
  EXPECT_EQ(a.current(2), spatial(0));  // audio stays
}

TEST(BitrateAllocator, BudgetRiseUpgradesOnlyAfterTheDwellTimeAndTheMargin) {
  BitrateAllocator a;  // defaults: 12 % margin, 3 s dwell
  a.add_track(1, MediaKind::kVideo, 100, kSimulcast);
  const Micros t0 = 10 * kSecond;
  a.set_estimate(t0, 600'000);
  EXPECT_EQ(a.current(1), spatial(1));
  drain(a);

  // Plenty of room, but the track changed less than 3 s ago.
  a.set_estimate(t0 + kSecond, 5'000'000);
  a.update(t0 + 2 * kSecond);
  a.update(t0 + 3 * kSecond - 1);
  EXPECT_TRUE(drain(a).empty());
  a.update(t0 + 3 * kSecond);
  auto up = drain(a);
  ASSERT_EQ(up.size(), 1u);
  EXPECT_EQ(up[0].layer, spatial(2));

  // Margin: after a drop to the middle layer, 1.5M + 12 % = 1.68M is needed for the top one again.
  a.set_estimate(t0 + 4 * kSecond, 1'000'000);
  EXPECT_EQ(a.current(1), spatial(1));
  drain(a);
  a.set_estimate(t0 + 10 * kSecond, 1'550'000);  // covers the layer, not the margin
  a.set_estimate(t0 + 11 * kSecond, 1'670'000);
  EXPECT_TRUE(drain(a).empty());
  a.set_estimate(t0 + 12 * kSecond, 1'690'000);
  up = drain(a);
  ASSERT_EQ(up.size(), 1u);
  EXPECT_EQ(up[0].layer, spatial(2));
}

TEST(BitrateAllocator, OscillatingEstimateAroundAThresholdDoesNotFlap) {
  BitrateAllocator a;
  a.add_track(1, MediaKind::kVideo, 100, kSimulcast);
  a.set_estimate(0, 2'000'000);
  EXPECT_EQ(a.current(1), spatial(2));
  drain(a);

  // +-5 % around the top layer's 1.5M, every 100 ms for a minute: one downgrade, then never back up (the
  // margin).
  int changes = 0;
  for (int i = 1; i <= 600; ++i) {
    a.set_estimate(i * kSecond / 10, i % 2 ? 1'425'000 : 1'575'000);
    changes += static_cast<int>(drain(a).size());
  }
  EXPECT_EQ(changes, 1);
  EXPECT_EQ(a.current(1), spatial(1));

  // A wide swing (1.4M <-> 1.8M every 500 ms) crosses both thresholds; the dwell time bounds the upgrades to
  // one per 3 s, so at most 2 changes per 3 s instead of one per estimate.
  changes = 0;
  Micros last_change = 0;
  int upgrades_too_soon = 0;
  const Micros start = 100 * kSecond;
  for (int i = 0; i < 120; ++i) {
    const Micros now = start + i * kSecond / 2;
    a.set_estimate(now, i % 2 ? 1'400'000 : 1'800'000);
    for (const auto& c : drain(a)) {
      ++changes;
      if (c.layer == spatial(2) && last_change != 0 && now - last_change < 3 * kSecond) ++upgrades_too_soon;
      last_change = now;
    }
  }
  EXPECT_EQ(upgrades_too_soon, 0);
  EXPECT_LE(changes, 2 * (60 / 3) + 1);
  EXPECT_GT(changes, 0);
}

TEST(BitrateAllocator, ChangesOnlyAndRemovedTracksFreeTheirBudget) {
  BitrateAllocator a;
  a.add_track(1, MediaKind::kVideo, 200, kSimulcast);
  a.add_track(2, MediaKind::kVideo, 100, kSimulcast);
  a.set_estimate(0, 1'800'000);
  EXPECT_EQ(drain(a).size(), 2u);
  for (int i = 1; i < 20; ++i)
    a.set_estimate(i * kSecond, 1'800'000);
  EXPECT_TRUE(drain(a).empty());

  a.remove_track(1);
  a.update(25 * kSecond);
  auto changes = drain(a);
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].track, 2u);
  EXPECT_EQ(changes[0].layer, spatial(2));
  EXPECT_EQ(a.current(1), std::nullopt);
}

}  // namespace
}  // namespace atrium::core
