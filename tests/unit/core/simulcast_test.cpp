// Simulcast and temporal layer selection in LocalTrack, driven by the endpoint's BitrateAllocator, through
// the real hub and LocalBus with a fake clock: switches wait for the target layer's key frame (and ask for
// it, naming the layer), the receiver sees one gap-free stream with continuous VP8 picture ids, and the
// estimate drives downgrades at once and upgrades after the dwell time.
#include <algorithm>

#include "core/endpoint/source_layers.h"
#include "core_harness.h"

namespace atrium::core::testing {
namespace {

constexpr media::Micros kFrame = 33'333;  // 30 fps

// A VP8 payload of `size` bytes: the harness's key or delta frame, padded.
std::vector<uint8_t> vp8(bool key, size_t size) {
  std::vector<uint8_t> b = key ? kVp8Key : kVp8Delta;
  b.resize(std::max(size, b.size()));
  return b;
}

// What a simulcast publisher's transport delivers: every layer on the one remote track, each layer with its
// own seq, timestamp, picture id and TL0PICIDX space; VP8 temporal pattern 0,2,1,2 (frames with two packets).
struct SimulcastSource {
  static constexpr int kLayers = 3;
  static constexpr std::array<uint8_t, 4> kPattern = {0, 2, 1, 2};

  std::array<size_t, kLayers> bytes_per_packet = {200, 600, 1500};
  std::array<uint16_t, kLayers> seq = {100, 20000, 60000};
  std::array<uint32_t, kLayers> ts = {1000, 500000, 4000000000u};
  std::array<int32_t, kLayers> pid = {10, 32760, 500};  // layer 1 wraps its 15-bit id
  std::array<int16_t, kLayers> tl0 = {0, 250, 90};      // layer 1 wraps its 8-bit index
  std::array<bool, kLayers> send_key = {true, true, true};
  std::array<bool, kLayers> enabled = {true, true, true};
  bool temporal = true;  // false: no TID information (all frames temporal layer 0)
  int frame = 0;
  std::vector<std::vector<uint8_t>> keep;  // payloads stay valid until the test ends

  // One frame on every enabled layer; returns nothing, the packets go into the hub.
  void step(CoreHarness& h, EndpointId pub, RemoteTrackId track, bool sync = false) {
    const uint8_t tid = temporal ? kPattern[static_cast<size_t>(frame % 4)] : 0;
    for (int s = 0; s < kLayers; ++s) {
      const auto i = static_cast<size_t>(s);
      if (!enabled[i]) continue;
      const bool key = send_key[i];
      send_key[i] = false;
      const uint8_t t = key ? 0 : tid;
      if (t == 0) tl0[i] = static_cast<int16_t>((tl0[i] + 1) & 0xFF);
      for (int part = 0; part < 2; ++part) {
        keep.push_back(vp8(key && part == 0, bytes_per_packet[i]));
        if (part == 1) keep.back()[0] = 0x00;  // not the start of the frame
        media::MediaPacket p;
        p.codec = media::Codec::kVP8;
        p.seq = seq[i]++;
        p.timestamp = ts[i];
        p.marker = part == 1;
        p.spatial_layer = static_cast<uint8_t>(s);
        p.temporal_layer = t;
        p.layer_sync = sync && t > 0;
        p.picture_id = pid[i];
        p.tl0_pic_idx = tl0[i];
        p.arrival = h.now;
        p.payload = keep.back();
        h.send(pub, tev::RemoteMedia{track, p});
      }
      ts[i] += 3000;
      pid[i] = (pid[i] + 1) & 0x7FFF;
    }
    ++frame;
  }

  // `n` frames, with the clock (and the hub's ticks) moving on by one frame each.
  void run(CoreHarness& h, EndpointId pub, RemoteTrackId track, int n) {
    for (int i = 0; i < n; ++i) {
      step(h, pub, track);
      h.advance(kFrame);
    }
  }
};

struct Received {
  std::vector<eev::LocalMedia> media;
};

// The receiver's checks: every packet continues the one before (no gap, no repeat), picture ids never go back
// or repeat across frames, TL0PICIDX moves by at most one per TL0 frame.
void expect_continuous(const std::vector<eev::LocalMedia>& got, const char* what) {
  for (size_t i = 1; i < got.size(); ++i) {
    const auto& a = got[i - 1].packet;
    const auto& b = got[i].packet;
    EXPECT_EQ(static_cast<uint16_t>(a.seq + 1), b.seq) << what << " at " << i;
    if (a.timestamp == b.timestamp) {
      EXPECT_EQ(a.picture_id, b.picture_id) << what << " at " << i;
    } else {
      const int step = (b.picture_id - a.picture_id) & 0x7FFF;
      EXPECT_GE(step, 1) << what << " at " << i;
      EXPECT_LT(step, 8) << what << " at " << i;
      const int tl0_step = (b.tl0_pic_idx - a.tl0_pic_idx) & 0xFF;
      EXPECT_LE(tl0_step, 1) << what << " at " << i;
      EXPECT_EQ(tl0_step == 1, b.temporal_layer == 0) << what << " at " << i;
    }
  }
}

struct Fixture {
  CoreHarness h;
  EndpointId pub = h.join("r", "pub");
  EndpointId sub = h.join("r", "sub");
  SimulcastSource src;

  Fixture() {
    h.publish(pub, 1, "video");
    h.send(sub, tev::Attach{7, "pub", "video"});
  }
  std::vector<uint8_t> requested_layers() {
    std::vector<uint8_t> out;
    for (const auto& r : h.take<eev::RequestKeyFrame>(pub))
      out.push_back(r.spatial_layer);
    return out;
  }
  const LocalTrack& track() { return *h.hub.endpoint(sub)->local_track(7); }
  // The first `frames` frames, the viewer moved up to the top layer: it starts on the lowest, the layers are
  // steady after a second, and it switches at the top layer's next key frame (which it has asked for).
  void warm_up(int frames = 40) {
    const int steady = static_cast<int>(SourceLayers::kSteadyAfter / kFrame) + 1;
    src.run(h, pub, 1, steady);
    src.send_key = {true, true, true};
    src.run(h, pub, 1, frames - steady);
  }
};

TEST(Simulcast, ANewViewerStartsLowAndWithoutAnEstimateGetsTheHighestSteadyLayer) {
  Fixture f;
  EXPECT_EQ(f.requested_layers(), (std::vector<uint8_t>{kAnySpatialLayer}))
      << "the attach does not know the layers yet: any";
  f.src.run(f.h, f.pub, 1, 10);
  EXPECT_EQ(f.track().forwarded_spatial(), 0) << "the layers are not steady yet: the lowest is the safe start";
  auto first = f.h.take<eev::LocalMedia>(f.sub);
  ASSERT_EQ(first.size(), 20u) << "from the first frame";
  EXPECT_TRUE(first[0].packet.keyframe);
  EXPECT_TRUE(f.requested_layers().empty());

  f.src.run(f.h, f.pub, 1, 21);  // past a second: every layer steady
  EXPECT_EQ(f.requested_layers(), (std::vector<uint8_t>{2}));
  f.src.send_key[2] = true;
  f.src.run(f.h, f.pub, 1, 10);
  EXPECT_EQ(f.track().forwarded_spatial(), 2);
  auto got = f.h.take<eev::LocalMedia>(f.sub);
  ASSERT_FALSE(got.empty());
  first.insert(first.end(), got.begin(), got.end());
  expect_continuous(first, "default rule");
  EXPECT_EQ(got.back().packet.spatial_layer, 2);
  EXPECT_TRUE(
      std::all_of(got.end() - 10, got.end(), [](const auto& m) { return m.packet.spatial_layer == 2; }));
  auto changes = f.h.take<eev::LocalTrackLayerChanged>(f.sub);
  ASSERT_FALSE(changes.empty());
  EXPECT_EQ(changes.back().spatial, 2);
  EXPECT_EQ(changes.back().temporal, 255) << "every temporal layer";

  // The publisher stops its top layer: within half a second the track asks for layer 1 and moves there.
  f.src.enabled[2] = false;
  f.src.run(f.h, f.pub, 1, 10);
  EXPECT_TRUE(f.requested_layers().empty()) << "a third of a second: a pause between frames";
  f.src.run(f.h, f.pub, 1, 6);
  EXPECT_EQ(f.requested_layers(), (std::vector<uint8_t>{1}));
  EXPECT_EQ(f.track().forwarded_spatial(), 2) << "no key frame on layer 1 yet";
  f.src.send_key[1] = true;
  f.src.run(f.h, f.pub, 1, 2);
  EXPECT_EQ(f.track().forwarded_spatial(), 1);
  expect_continuous(f.h.take<eev::LocalMedia>(f.sub), "after the top layer stopped");

  // It comes back: the viewer returns to it once it has flowed for a second, not at its first packet.
  f.src.enabled[2] = true;
  f.src.send_key[2] = true;
  f.src.run(f.h, f.pub, 1, 20);
  EXPECT_EQ(f.track().forwarded_spatial(), 1);
  EXPECT_TRUE(f.requested_layers().empty());
  f.src.run(f.h, f.pub, 1, 15);
  EXPECT_EQ(f.requested_layers(), (std::vector<uint8_t>{2}));
}

// An estimate under half the current layer's bitrate means the link is overflowing: the current layer stops
// at once rather than keep pouring into the link while the receiver waits for the lower layer's key frame
// (in the browser test, a 1.5 Mbit/s layer kept flowing into a 400 kbit/s link and delayed that key frame).
TEST(Simulcast, AnEstimateFarBelowTheCurrentLayerCutsItOffAtOnce) {
  Fixture f;
  f.src.temporal = false;
  f.warm_up();  // ~96, ~288 and ~720 kbps
  ASSERT_EQ(f.track().forwarded_spatial(), 2);
  f.h.clear();

  f.h.send(f.sub, tev::BandwidthEstimate{300'000});  // layer 0 fits; layer 2 needs 2.4 times this
  EXPECT_EQ(f.requested_layers(), (std::vector<uint8_t>{0}));
  f.src.run(f.h, f.pub, 1, 5);
  EXPECT_TRUE(f.h.take<eev::LocalMedia>(f.sub).empty()) << "layer 2 stopped at once";

  f.src.send_key[0] = true;
  f.src.run(f.h, f.pub, 1, 5);
  EXPECT_EQ(f.track().forwarded_spatial(), 0);
  auto after = f.h.take<eev::LocalMedia>(f.sub);
  ASSERT_EQ(after.size(), 10u);
  EXPECT_TRUE(after[0].packet.keyframe);
}

TEST(Simulcast, EstimateDowngradesAtOnceAndUpgradesAfterTheDwell) {
  Fixture f;
  f.src.temporal = false;
  f.warm_up();  // layers measured: 2 x 200 B, 2 x 600 B, 2 x 1500 B per frame at 30 fps
  ASSERT_EQ(f.track().forwarded_spatial(), 2);
  f.h.clear();
  const uint64_t switches = f.track().stats().layer_switches;

  // ~96 kbps, ~288 kbps and ~720 kbps: 400 kbps holds layer 1 with its margin, not layer 2.
  f.h.send(f.sub, tev::BandwidthEstimate{400'000});
  EXPECT_EQ(f.requested_layers(), (std::vector<uint8_t>{1})) << "a key frame of the new layer, by name";
  f.src.run(f.h, f.pub, 1, 5);
  EXPECT_EQ(f.track().forwarded_spatial(), 2) << "the old layer keeps flowing until the key frame: no freeze";
  auto before = f.h.take<eev::LocalMedia>(f.sub);
  EXPECT_EQ(before.size(), 10u);
  EXPECT_TRUE(f.h.take<eev::LocalTrackLayerChanged>(f.sub).empty());

  f.src.send_key[1] = true;
  f.src.run(f.h, f.pub, 1, 5);
  EXPECT_EQ(f.track().forwarded_spatial(), 1);
  auto changes = f.h.take<eev::LocalTrackLayerChanged>(f.sub);
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].spatial, 1);
  auto after = f.h.take<eev::LocalMedia>(f.sub);
  ASSERT_EQ(after.size(), 10u);
  EXPECT_TRUE(after[0].packet.keyframe);
  before.insert(before.end(), after.begin(), after.end());
  expect_continuous(before, "across the downgrade");
  EXPECT_EQ(f.track().stats().layer_switches, switches + 1);

  // Plenty of bandwidth: layer 2 only after the allocator's dwell time (3 s since the last change).
  f.h.send(f.sub, tev::BandwidthEstimate{5'000'000});
  f.src.run(f.h, f.pub, 1, 30);
  EXPECT_TRUE(f.requested_layers().empty()) << "too soon after the downgrade";
  f.src.run(f.h, f.pub, 1, 70);
  EXPECT_EQ(f.requested_layers(), (std::vector<uint8_t>{2}));
  f.src.send_key[2] = true;
  f.src.run(f.h, f.pub, 1, 2);
  EXPECT_EQ(f.track().forwarded_spatial(), 2);
  changes = f.h.take<eev::LocalTrackLayerChanged>(f.sub);
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].spatial, 2);
  expect_continuous(f.h.take<eev::LocalMedia>(f.sub), "across the upgrade");
}

TEST(Simulcast, TooLittleBandwidthKeepsTheOnlyVideoOnItsLowestLayer) {
  Fixture f;
  f.src.temporal = false;
  f.warm_up();
  auto sent = f.h.take<eev::LocalMedia>(f.sub);
  ASSERT_EQ(f.track().forwarded_spatial(), 2);
  f.h.clear();
  // Not even layer 0 (96 kbps) fits, but a picture by policy alone must not go black: the only video track
  // goes to its lowest layer instead of being paused.
  f.h.send(f.sub, tev::BandwidthEstimate{50'000});
  EXPECT_EQ(f.requested_layers().back(), 0);
  f.src.send_key[0] = true;
  f.src.run(f.h, f.pub, 1, 10);
  auto low = f.h.take<eev::LocalMedia>(f.sub);
  ASSERT_FALSE(low.empty());
  EXPECT_EQ(f.track().forwarded_spatial(), 0);
  auto changes = f.h.take<eev::LocalTrackLayerChanged>(f.sub);
  ASSERT_FALSE(changes.empty());
  EXPECT_EQ(changes.back().spatial, 0);
  sent.insert(sent.end(), low.begin(), low.end());
  expect_continuous(sent, "down to the lowest layer");
}

// The first estimate is the transport's guess. Two cameras whose lowest layers do not both fit in it keep
// playing (the third page of a call used to freeze one for 3-4 s); once the estimate has had its warm-up and
// still cannot carry both, one of them pauses.
TEST(Simulcast, NoVideoIsPausedWhileTheEstimateWarmsUp) {
  Fixture f;
  f.src.temporal = false;
  f.h.publish(f.pub, 2, "screen");
  f.h.send(f.sub, tev::Attach{8, "pub", "screen"});
  SimulcastSource screen;
  screen.temporal = false;
  const auto run_both = [&](int frames) {
    for (int i = 0; i < frames; ++i) {
      f.src.step(f.h, f.pub, 1);
      screen.step(f.h, f.pub, 2);
      f.h.advance(kFrame);
    }
  };
  run_both(40);  // each: ~96, ~288 and ~720 kbps
  const Endpoint& ep = *f.h.hub.endpoint(f.sub);

  f.h.send(f.sub, tev::BandwidthEstimate{150'000});  // one lowest layer (96 kbps) fits, two do not
  f.src.send_key[0] = screen.send_key[0] = true;
  run_both(30);  // 1 s
  for (LocalTrackId id : {7, 8}) {
    EXPECT_EQ(ep.local_track(id)->state(), LocalTrackState::kLive) << id;
    EXPECT_EQ(ep.local_track(id)->forwarded_spatial(), 0) << id;
  }

  run_both(150);  // past the 5 s warm-up, the estimate unchanged
  const int paused = (ep.local_track(7)->state() == LocalTrackState::kPaused) +
                     (ep.local_track(8)->state() == LocalTrackState::kPaused);
  EXPECT_EQ(paused, 1) << "a measured estimate that carries one camera pauses the other";
}

TEST(Simulcast, TemporalLayersAreDroppedWithoutSequenceGaps) {
  Fixture f;
  f.h.send(f.sub, tev::SetLimits{7, LocalTrackLimits{.lower_frame_rate = true}});
  f.src.enabled = {true, false, false};
  f.src.bytes_per_packet = {250, 0, 0};
  f.src.run(f.h, f.pub, 1, 40);  // TL0 and TL1 30 kbps each (cumulative 30k, 60k), TL2 60 kbps (120k)
  auto sent = f.h.take<eev::LocalMedia>(f.sub);
  ASSERT_EQ(sent.size(), 80u);
  f.h.clear();

  f.h.send(f.sub, tev::BandwidthEstimate{50'000});  // TL0 only
  f.src.run(f.h, f.pub, 1, 40);
  auto tl0 = f.h.take<eev::LocalMedia>(f.sub);
  EXPECT_EQ(tl0.size(), 20u) << "a quarter of the frames, whole";
  EXPECT_TRUE(
      std::all_of(tl0.begin(), tl0.end(), [](const auto& m) { return m.packet.temporal_layer == 0; }));
  auto changes = f.h.take<eev::LocalTrackLayerChanged>(f.sub);
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].spatial, 0);
  EXPECT_EQ(changes[0].temporal, 0);
  sent.insert(sent.end(), tl0.begin(), tl0.end());
  expect_continuous(sent, "dropping TL1 and TL2");

  // Up to TL2 after the dwell: TL1 starts at its layer-sync frame, TL2 at its own.
  EXPECT_TRUE(f.requested_layers().empty());
  f.h.send(f.sub, tev::BandwidthEstimate{1'000'000});
  f.src.run(f.h, f.pub, 1, 60);  // the dwell (3 s since the downgrade) passes, less than a second ago
  EXPECT_EQ(f.h.hub.endpoint(f.sub)->allocator().current(7), (Layer{0, 2}));
  EXPECT_TRUE(f.requested_layers().empty()) << "no key frame needed while sync frames may come";
  f.src.frame = 2;  // next: TL1
  f.src.step(f.h, f.pub, 1, true);
  f.src.step(f.h, f.pub, 1, false);  // TL2 without sync: not yet
  f.src.step(f.h, f.pub, 1, false);  // TL0
  f.src.step(f.h, f.pub, 1, true);   // TL2 sync
  f.src.step(f.h, f.pub, 1, false);
  changes = f.h.take<eev::LocalTrackLayerChanged>(f.sub);
  ASSERT_EQ(changes.size(), 2u);
  EXPECT_EQ(changes[0].temporal, 1);
  EXPECT_EQ(changes[1].temporal, 2);
  f.src.run(f.h, f.pub, 1, 100);
  EXPECT_TRUE(f.requested_layers().empty()) << "at the top temporal layer there is nothing more to ask for";
  auto up = f.h.take<eev::LocalMedia>(f.sub);
  std::vector<uint8_t> tids;
  for (size_t i = 0; i < up.size(); i += 2)
    tids.push_back(up[i].packet.temporal_layer);
  EXPECT_EQ(tids.back(), 1);
  sent.insert(sent.end(), up.begin(), up.end());
  expect_continuous(sent, "going up in temporal layers");
  EXPECT_GT(f.track().stats().dropped_temporal, 0u);
}

TEST(Simulcast, TemporalUpgradeWithoutSyncFramesAsksForAKeyFrame) {
  Fixture f;
  f.h.send(f.sub, tev::SetLimits{7, LocalTrackLimits{.lower_frame_rate = true}});
  f.src.enabled = {true, false, false};
  f.src.bytes_per_packet = {250, 0, 0};
  f.src.run(f.h, f.pub, 1, 40);
  f.h.send(f.sub, tev::BandwidthEstimate{50'000});
  f.src.run(f.h, f.pub, 1, 10);
  f.h.clear();
  f.h.send(f.sub, tev::BandwidthEstimate{1'000'000});
  std::vector<uint8_t> asked;
  for (int i = 0; i < 200 && asked.empty(); ++i) {  // the dwell, then a second without a sync frame
    f.src.run(f.h, f.pub, 1, 1);
    asked = f.requested_layers();
  }
  EXPECT_EQ(asked, (std::vector<uint8_t>{0}));
  EXPECT_EQ(f.track().forwarded_temporal(), 0);
  f.src.send_key[0] = true;
  f.src.run(f.h, f.pub, 1, 1);
  EXPECT_EQ(f.track().forwarded_temporal(), 2);
  f.src.run(f.h, f.pub, 1, 100);
  EXPECT_TRUE(f.requested_layers().empty());
}

TEST(Simulcast, DesiredBitrateIsCappedByTheEstimate) {
  Fixture f;
  f.src.temporal = false;
  f.src.run(f.h, f.pub, 1, 40);
  auto hints = f.h.take<eev::BitrateHint>(f.pub);
  ASSERT_FALSE(hints.empty());
  EXPECT_EQ(hints.back().bitrate_bps, UINT32_MAX) << "no estimate, no limit: unlimited";

  f.h.send(f.sub, tev::BandwidthEstimate{400'000});
  f.src.run(f.h, f.pub, 1, 31);
  hints = f.h.take<eev::BitrateHint>(f.pub);
  ASSERT_EQ(hints.size(), 1u);
  EXPECT_EQ(hints[0].bitrate_bps, 400'000u);

  f.h.send(f.sub, tev::BandwidthEstimate{380'000});  // within 10 %: not worth telling
  f.src.run(f.h, f.pub, 1, 31);
  EXPECT_TRUE(f.h.take<eev::BitrateHint>(f.pub).empty());
  f.h.send(f.sub, tev::BandwidthEstimate{250'000});
  f.src.run(f.h, f.pub, 1, 31);
  hints = f.h.take<eev::BitrateHint>(f.pub);
  ASSERT_EQ(hints.size(), 1u);
  EXPECT_EQ(hints[0].bitrate_bps, 250'000u);

  f.h.send(f.sub, tev::SetLimits{7, {100'000, 1}});  // a lower limit wins, at once
  hints = f.h.take<eev::BitrateHint>(f.pub);
  ASSERT_EQ(hints.size(), 1u);
  EXPECT_EQ(hints[0].bitrate_bps, 100'000u);
}

TEST(Simulcast, VideoCapLeavesRoomForAudio) {
  Fixture f;
  f.h.publish(f.pub, 2, "audio", media::MediaKind::kAudio);
  f.h.send(f.sub, tev::Attach{8, "pub", "audio"});
  f.src.temporal = false;
  const std::vector<uint8_t> opus(120, 0xfc);  // 2 x 120 B per 33 ms frame: ~58 kbps
  for (int i = 0; i < 40; ++i) {
    f.src.step(f.h, f.pub, 1);
    for (int k = 0; k < 2; ++k) {
      media::MediaPacket p;
      p.codec = media::Codec::kOpus;
      p.seq = static_cast<uint16_t>(i * 2 + k);
      p.timestamp = static_cast<uint32_t>(i * 1600 + k * 800);
      p.payload = opus;
      f.h.send(f.pub, tev::RemoteMedia{2, p});
    }
    f.h.advance(kFrame);
  }
  f.h.take<eev::BitrateHint>(f.pub);
  f.h.send(f.sub, tev::BandwidthEstimate{1'000'000});
  f.h.advance(1'000'000);
  uint32_t video = 0;
  uint32_t audio = 0;
  for (const auto& hint : f.h.take<eev::BitrateHint>(f.pub))
    (hint.id == 1 ? video : audio) = hint.bitrate_bps;
  EXPECT_EQ(audio, 1'000'000u);
  EXPECT_GT(video, 900'000u);
  EXPECT_LT(video, 960'000u) << "estimate minus what the audio takes";
}

TEST(Simulcast, BandwidthWantedFollowsTheTopLayers) {
  Fixture f;
  f.src.temporal = false;
  f.src.run(f.h, f.pub, 1, 40);
  auto wanted = f.h.take<eev::BandwidthWanted>(f.sub);
  ASSERT_FALSE(wanted.empty());
  EXPECT_NEAR(static_cast<double>(wanted.back().bps), 720'000.0, 40'000.0) << "layer 2: 2 x 1500 B x 30 fps";
  f.src.run(f.h, f.pub, 1, 60);
  EXPECT_TRUE(f.h.take<eev::BandwidthWanted>(f.sub).empty()) << "steady: said once";

  f.h.send(f.sub, tev::SetLimits{7, {400'000, 1}});  // the best layer within the limit is layer 1
  f.src.run(f.h, f.pub, 1, 31);
  wanted = f.h.take<eev::BandwidthWanted>(f.sub);
  ASSERT_EQ(wanted.size(), 1u);
  EXPECT_NEAR(static_cast<double>(wanted[0].bps), 288'000.0, 20'000.0);
}

TEST(Simulcast, PriorityFromTheLimitsDecidesWhoGetsTheTopLayer) {
  Fixture f;
  f.src.temporal = false;
  f.h.send(f.sub, tev::Attach{8, "pub", "video"});
  f.h.send(f.sub, tev::SetLimits{8, {0, 200}});  // the speaker view
  f.src.run(f.h, f.pub, 1, 40);
  f.h.send(f.sub, tev::BandwidthEstimate{900'000});
  f.src.send_key = {true, true, true};
  f.src.run(f.h, f.pub, 1, 5);
  const Endpoint& ep = *f.h.hub.endpoint(f.sub);
  EXPECT_EQ(ep.local_track(8)->forwarded_spatial(), 2);
  EXPECT_EQ(ep.local_track(7)->forwarded_spatial(), 0) << "what is left after 720 kbps";

  // Pausing the speaker view frees its share: the other track may go up after its dwell.
  f.h.send(f.sub, tev::SetPaused{8, true});
  f.src.run(f.h, f.pub, 1, 100);
  f.src.send_key = {true, true, true};
  f.src.run(f.h, f.pub, 1, 2);
  EXPECT_EQ(ep.local_track(7)->forwarded_spatial(), 2);
  EXPECT_EQ(ep.local_track(8)->state(), LocalTrackState::kPaused);
}

TEST(Simulcast, KeyFrameRequestsAreMergedPerLayer) {
  Fixture f;
  f.src.temporal = false;
  auto other = f.h.join("r", "other");
  f.h.send(other, tev::Attach{1, "pub", "video"});
  f.warm_up(60);  // the key frame request of the move to layer 2 is a second old
  f.h.clear();
  f.h.send(f.sub, tev::RequestKeyFrame{7});  // lost its picture on layer 2
  f.h.send(other, tev::RequestKeyFrame{1});  // the other viewer too
  EXPECT_EQ(f.requested_layers(), (std::vector<uint8_t>{2})) << "merged";

  f.h.send(f.sub, tev::BandwidthEstimate{150'000});  // layer 0 only: a different layer is not merged
  EXPECT_EQ(f.requested_layers(), (std::vector<uint8_t>{0}));
  f.src.run(f.h, f.pub, 1, 16);  // half a second, with no key frame
  EXPECT_EQ(f.requested_layers(), (std::vector<uint8_t>{2})) << "the merged request for layer 2, when due";
  const auto& stats = f.h.hub.endpoint(f.pub)->remote_track(1)->stats();
  EXPECT_GE(stats.keyframe_requests_forwarded, 3u);
}

}  // namespace
}  // namespace atrium::core::testing
