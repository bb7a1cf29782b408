// Media from a publisher to its subscribers: every packet delivered, key-frame gating, continuous seq/ts
// across a source switch, unpublish, pause/resume, key-frame request debouncing and bitrate hints.
#include "core_harness.h"

namespace atrium::core::testing {
namespace {

std::vector<uint16_t> seqs(const std::vector<eev::LocalMedia>& v) {
  std::vector<uint16_t> out;
  for (auto& m : v)
    out.push_back(m.packet.seq);
  return out;
}

TEST(MediaForwarding, EveryPacketReachesEveryAttachedSubscriber) {
  CoreHarness h;
  auto p = h.join("r", "pub");
  h.publish(p, 1, "video");
  std::vector<EndpointId> subs;
  for (int i = 0; i < 5; ++i) {
    auto s = h.join("r", "sub" + std::to_string(i));
    h.send(s, tev::Attach{10, "pub", "video"});
    subs.push_back(s);
  }
  for (int i = 0; i < 100; ++i)
    h.media(p, 1, static_cast<uint16_t>(65500 + i), 1000u + 3000u * i, i == 0);
  for (auto s : subs) {
    auto got = h.take<eev::LocalMedia>(s);
    ASSERT_EQ(got.size(), 100u);
    for (size_t i = 0; i < got.size(); ++i) {
      EXPECT_EQ(got[i].id, 10u);
      EXPECT_EQ(got[i].packet.seq, static_cast<uint16_t>(65500 + i))
          << "first source passes through, wrapping";
      EXPECT_EQ(got[i].packet.timestamp, 1000u + 3000u * i);
      EXPECT_EQ(got[i].packet.payload.size(), i == 0 ? kVp8Key.size() : kVp8Delta.size());
    }
    EXPECT_TRUE(got[0].packet.keyframe);
    EXPECT_FALSE(got[1].packet.keyframe);
  }
  EXPECT_TRUE(h.take<eev::LocalMedia>(p).empty());
  EXPECT_EQ(h.hub.endpoint(p)->remote_track(1)->stats().packets, 100u);
}

TEST(MediaForwarding, SubscriberWaitsForAKeyFrameAndAsksForOne) {
  CoreHarness h;
  auto p = h.join("r", "pub");
  h.publish(p, 1, "video");
  h.media(p, 1, 1, 0, true);
  auto s = h.join("r", "sub");
  h.send(s, tev::Attach{3, "pub", "video"});
  EXPECT_EQ(h.take<eev::RequestKeyFrame>(p).size(), 1u) << "attaching asks the publisher for a key frame";
  auto states = h.take<eev::LocalTrackStateChanged>(s);
  ASSERT_EQ(states.size(), 1u);
  EXPECT_EQ(states[0].state, LocalTrackState::kWaiting);

  for (uint16_t i = 2; i < 6; ++i)
    h.media(p, 1, i, i * 3000, false);
  EXPECT_TRUE(h.take<eev::LocalMedia>(s).empty()) << "deltas before the key frame would not decode";
  EXPECT_EQ(h.hub.endpoint(s)->local_track(3)->stats().dropped_waiting, 4u);

  h.advance(1'100'000);  // still waiting after a second: ask again
  EXPECT_EQ(h.take<eev::RequestKeyFrame>(p).size(), 1u);

  h.media(p, 1, 6, 18000, true);
  h.media(p, 1, 7, 21000, false);
  EXPECT_EQ(seqs(h.take<eev::LocalMedia>(s)), (std::vector<uint16_t>{6, 7}));
  states = h.take<eev::LocalTrackStateChanged>(s);
  ASSERT_EQ(states.size(), 1u);
  EXPECT_EQ(states[0].state, LocalTrackState::kLive);
  h.advance(2'000'000);
  EXPECT_TRUE(h.take<eev::RequestKeyFrame>(p).empty()) << "live tracks do not keep asking";
}

TEST(MediaForwarding, AudioNeedsNoKeyFrame) {
  CoreHarness h;
  auto p = h.join("r", "pub");
  h.publish(p, 2, "audio", media::MediaKind::kAudio);
  auto s = h.join("r", "sub");
  h.send(s, tev::Attach{1, "pub", "audio"});
  for (uint16_t i = 0; i < 10; ++i)
    h.media(p, 2, i, i * 960, false, media::Codec::kOpus);
  EXPECT_EQ(h.take<eev::LocalMedia>(s).size(), 10u);
  EXPECT_TRUE(h.take<eev::RequestKeyFrame>(p).empty()) << "nobody asks an audio publisher for key frames";
}

TEST(MediaForwarding, SourceSwitchKeepsSequenceAndTimestampContinuous) {
  CoreHarness h;
  auto p1 = h.join("r", "one");
  auto p2 = h.join("r", "two");
  h.publish(p1, 1, "video");
  h.publish(p2, 1, "video");
  auto s = h.join("r", "viewer");
  h.send(s, tev::Attach{5, "one", "video"});
  for (int i = 0; i < 10; ++i) {
    h.media(p1, 1, static_cast<uint16_t>(100 + i), 5000u + 3000u * i, i == 0);
    h.media(p2, 1, static_cast<uint16_t>(40000 + i), 900000u + 3000u * i, i == 0);
    h.now += 30'000;
  }
  auto first = h.take<eev::LocalMedia>(s);
  ASSERT_EQ(first.size(), 10u);
  const uint16_t last_seq = first.back().packet.seq;
  const uint32_t last_ts = first.back().packet.timestamp;
  h.take<eev::RequestKeyFrame>(p2);

  h.send(s, tev::Attach{5, "two", "video"});  // switch
  EXPECT_EQ(h.take<eev::RequestKeyFrame>(p2).size(), 1u);
  h.media(p1, 1, 110, 35000, false);     // the old source no longer reaches the viewer
  h.media(p2, 1, 40010, 930000, false);  // a delta of the new source: dropped, not decodable
  h.now += 100'000;                      // 100 ms later the key frame arrives
  h.media(p2, 1, 40011, 933000, true);
  h.media(p2, 1, 40012, 936000, false);
  h.media(p2, 1, 40009, 927000, false);  // a late packet from before the switch point: dropped
  auto after = h.take<eev::LocalMedia>(s);
  ASSERT_EQ(after.size(), 2u);
  EXPECT_EQ(after[0].packet.seq, static_cast<uint16_t>(last_seq + 1));
  EXPECT_EQ(after[1].packet.seq, static_cast<uint16_t>(last_seq + 2));
  // 100 ms of wall time plus the 30 ms after the last packet sent = 130 ms = 11700 ticks at 90 kHz.
  EXPECT_EQ(after[0].packet.timestamp - last_ts, 11700u);
  EXPECT_EQ(after[1].packet.timestamp - after[0].packet.timestamp, 3000u);
  EXPECT_EQ(h.hub.endpoint(s)->local_track(5)->stats().source_switches, 1u);
}

TEST(MediaForwarding, UnpublishEndsTheSubscribersTrack) {
  CoreHarness h;
  auto p = h.join("r", "pub");
  h.publish(p, 1, "video");
  auto s = h.join("r", "sub");
  h.send(s, tev::Attach{1, "pub", "video"});
  h.media(p, 1, 1, 0, true);
  h.clear();
  h.send(p, tev::Unpublish{1});
  EXPECT_EQ(h.take<eev::LocalTrackSourceEnded>(s).size(), 1u);
  auto st = h.take<eev::LocalTrackStateChanged>(s);
  ASSERT_EQ(st.size(), 1u);
  EXPECT_EQ(st[0].state, LocalTrackState::kIdle);
  EXPECT_EQ(h.take<eev::TrackUnpublished>(s).size(), 1u);
  EXPECT_EQ(h.bus.stats().channels, 0u);
  EXPECT_EQ(h.bus.stats().subscriptions, 0u);
  h.media(p, 1, 2, 3000, true);
  EXPECT_TRUE(h.take<eev::LocalMedia>(s).empty());
  // The idle local track can follow a new source with the same id.
  h.publish(p, 2, "video2");
  h.send(s, tev::Attach{1, "pub", "video2"});
  h.media(p, 2, 9, 0, true);
  EXPECT_EQ(h.take<eev::LocalMedia>(s).size(), 1u);
}

TEST(MediaForwarding, PauseStopsMediaAndResumeRestartsFromAKeyFrame) {
  CoreHarness h;
  auto p = h.join("r", "pub");
  h.publish(p, 1, "video");
  auto s = h.join("r", "sub");
  h.send(s, tev::Attach{1, "pub", "video"});
  h.media(p, 1, 1, 0, true);
  h.media(p, 1, 2, 3000, false);
  h.clear();
  h.send(s, tev::SetPaused{1, true});
  auto hint = h.take<eev::BitrateHint>(p);
  ASSERT_EQ(hint.size(), 1u);
  EXPECT_EQ(hint[0].bitrate_bps, 0u) << "nobody watches a paused track";
  h.media(p, 1, 3, 6000, true);
  EXPECT_TRUE(h.take<eev::LocalMedia>(s).empty());
  h.advance(1'000'000);  // out of the key-frame request merge window of the attach
  h.send(s, tev::SetPaused{1, false});
  EXPECT_EQ(h.take<eev::RequestKeyFrame>(p).size(), 1u);
  h.media(p, 1, 4, 9000, false);
  h.media(p, 1, 5, 12000, true);
  auto got = h.take<eev::LocalMedia>(s);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].packet.seq, 3u) << "no gap for the receiver to NACK";
}

TEST(MediaForwarding, KeyFrameRequestsFromManySubscribersAreMerged) {
  CoreHarness h;
  auto p = h.join("r", "pub");
  h.publish(p, 1, "video");
  std::vector<EndpointId> subs;
  for (int i = 0; i < 3; ++i) {
    subs.push_back(h.join("r", "s" + std::to_string(i)));
    h.send(subs.back(), tev::Attach{1, "pub", "video"});
  }
  EXPECT_EQ(h.take<eev::RequestKeyFrame>(p).size(), 1u) << "three attaches within 500 ms: one request";
  h.media(p, 1, 1, 0, true);
  h.advance(600'000);
  EXPECT_TRUE(h.take<eev::RequestKeyFrame>(p).empty()) << "the key frame answered the merged requests";

  for (auto s : subs)
    h.send(s, tev::RequestKeyFrame{1});  // all three lose their picture at once
  EXPECT_EQ(h.take<eev::RequestKeyFrame>(p).size(), 1u);
  h.send(subs[0], tev::RequestKeyFrame{1});
  EXPECT_TRUE(h.take<eev::RequestKeyFrame>(p).empty());
  h.advance(500'000);
  EXPECT_EQ(h.take<eev::RequestKeyFrame>(p).size(), 1u) << "a request merged while waiting is sent when due";
  h.advance(500'000);
  EXPECT_TRUE(h.take<eev::RequestKeyFrame>(p).empty());
  auto stats = h.hub.endpoint(p)->remote_track(1)->stats();
  EXPECT_EQ(stats.keyframe_requests_forwarded, 3u);
}

TEST(MediaForwarding, PublisherHearsTheLargestWantedBitrate) {
  CoreHarness h;
  auto p = h.join("r", "pub");
  h.publish(p, 1, "video");
  auto a = h.join("r", "a");
  auto b = h.join("r", "b");
  h.send(a, tev::Attach{1, "pub", "video"});
  h.send(a, tev::SetLimits{1, {300'000, 1}});
  h.send(b, tev::Attach{1, "pub", "video"});
  h.send(b, tev::SetLimits{1, {1'500'000, 1}});
  auto hints = h.take<eev::BitrateHint>(p);
  ASSERT_FALSE(hints.empty());
  EXPECT_EQ(hints.back().bitrate_bps, 1'500'000u);
  h.send(b, tev::Detach{1});
  hints = h.take<eev::BitrateHint>(p);
  ASSERT_EQ(hints.size(), 1u);
  EXPECT_EQ(hints[0].bitrate_bps, 300'000u);
  h.send(a, tev::Detach{1});
  hints = h.take<eev::BitrateHint>(p);
  ASSERT_EQ(hints.size(), 1u);
  EXPECT_EQ(hints[0].bitrate_bps, 0u);
}

}  // namespace
}  // namespace atrium::core::testing
