// Every control a client can get wrong gets a stable code, and nothing outlives the peers that made it.
#include "core_harness.h"

namespace atrium::core::testing {
namespace {

using Codes = std::vector<std::string>;

TEST(EndpointErrors, ActionsBeforeJoin) {
  CoreHarness h;
  auto e = h.add();
  h.publish(e, 1, "video");
  h.send(e, tev::Unpublish{1});
  h.send(e, tev::Attach{1, "p", "video"});
  h.send(e, tev::Leave{});
  h.send(e, tev::SubscribePeer{"p"});
  h.send(e, tev::UnsubscribePeer{"p"});
  h.send(e, tev::UpdatePeerMeta{"{}"});
  h.send(e, tev::UpdateTrackMeta{1, "{}"});
  EXPECT_EQ(h.errors(e), Codes(8, "NOT_JOINED"));
  EXPECT_EQ(h.bus.stats().rooms, 0u);
}

TEST(EndpointErrors, JoinMistakes) {
  CoreHarness h;
  auto a = h.join("r", "alice");
  h.send(a, tev::Join{{"r2", "alice2", "{}", SubscribeMode::kAuto, SubscribeMode::kAuto}});
  EXPECT_EQ(h.errors(a), Codes{"ALREADY_JOINED"});

  auto b = h.join("r", "alice");
  EXPECT_EQ(h.errors(b), Codes{"PEER_ID_TAKEN"});
  EXPECT_TRUE(h.take<eev::Joined>(b).empty());
  EXPECT_FALSE(h.hub.endpoint(b)->joined());
  EXPECT_TRUE(h.take<eev::PeerJoined>(a).empty()) << "a rejected join is invisible to the room";
  // The rejected session can try again with another id.
  h.send(b, tev::Join{{"r", "alice-2", "{}", SubscribeMode::kAuto, SubscribeMode::kAuto}});
  EXPECT_TRUE(h.errors(b).empty());
  EXPECT_EQ(h.take<eev::Joined>(b).size(), 1u);

  auto c = h.add();
  h.send(c, tev::Join{{"", "x", "{}", SubscribeMode::kAuto, SubscribeMode::kAuto}});
  h.send(c, tev::Join{{"r", "", "{}", SubscribeMode::kAuto, SubscribeMode::kAuto}});
  h.send(c, tev::Join{{"r", std::string(129, 'x'), "{}", SubscribeMode::kAuto, SubscribeMode::kAuto}});
  h.send(c, tev::Join{{"r", "x", std::string(Endpoint::kMaxMetaLength + 1, ' '), SubscribeMode::kAuto,
                       SubscribeMode::kAuto}});
  EXPECT_EQ(h.errors(c), Codes(4, "INVALID_ARGUMENT"));
}

TEST(EndpointErrors, TrackMistakes) {
  CoreHarness h;
  auto a = h.join("r", "alice");
  h.publish(a, 1, "video");
  h.publish(a, 2, "video");  // same name
  h.publish(a, 1, "other");  // same id
  h.publish(a, 3, "");
  h.send(a, tev::Unpublish{9});
  h.send(a, tev::UpdateTrackMeta{9, "{}"});
  h.send(a, tev::Attach{1, "nobody", "video"});
  h.send(a, tev::Attach{2, "alice", "missing"});
  h.send(a, tev::Detach{42});
  h.send(a, tev::SetLimits{42, {}});
  h.send(a, tev::SetPaused{42, true});
  EXPECT_EQ(h.errors(a), (Codes{"TRACK_EXISTS", "TRACK_EXISTS", "INVALID_ARGUMENT", "TRACK_NOT_FOUND",
                                "TRACK_NOT_FOUND", "TRACK_NOT_FOUND", "TRACK_NOT_FOUND",
                                "LOCAL_TRACK_NOT_FOUND", "LOCAL_TRACK_NOT_FOUND", "LOCAL_TRACK_NOT_FOUND"}));
  EXPECT_EQ(h.bus.stats().subscriptions, 0u) << "failed attaches subscribe nothing";
  EXPECT_EQ(h.bus.stats().tracks, 1u);
}

TEST(EndpointErrors, SubscriptionMistakes) {
  CoreHarness h;
  auto a = h.join("r", "auto");
  h.send(a, tev::SubscribePeer{"x"});
  EXPECT_EQ(h.errors(a), Codes{"NOT_MANUAL_MODE"});
  auto m = h.join("r", "manual", SubscribeMode::kManual, SubscribeMode::kManual);
  h.send(m, tev::UnsubscribePeer{"x"});
  h.send(m, tev::SubscribePeer{""});
  EXPECT_EQ(h.errors(m), (Codes{"PEER_NOT_SUBSCRIBED", "INVALID_ARGUMENT"}));
}

TEST(EndpointErrors, MediaForUnknownTracksIsDroppedQuietly) {
  CoreHarness h;
  auto a = h.join("r", "alice");
  h.media(a, 77, 1, 0, true);
  h.send(a, tev::RequestKeyFrame{5});
  EXPECT_TRUE(h.errors(a).empty());
}

// A busy room: publishers, subscribers in both modes, switches. Then everyone goes, some politely, some by
// vanishing.
TEST(Cleanup, LeavingAndVanishingLeaveNothingBehind) {
  CoreHarness h;
  std::vector<EndpointId> eps;
  for (int i = 0; i < 6; ++i) {
    auto mode = i % 2 ? SubscribeMode::kManual : SubscribeMode::kAuto;
    eps.push_back(h.join(i < 3 ? "room-a" : "room-b", "p" + std::to_string(i), mode, mode));
    h.publish(eps.back(), 1, "video");
    h.publish(eps.back(), 2, "audio", media::MediaKind::kAudio);
  }
  for (int i = 0; i < 6; ++i) {
    const int src = i < 3 ? (i + 1) % 3 : 3 + (i + 1) % 3;
    h.send(eps[i], tev::Attach{1, "p" + std::to_string(src), "video"});
    h.send(eps[i], tev::Attach{2, "p" + std::to_string(src), "audio"});
    if (i % 2) h.send(eps[i], tev::SubscribePeer{"p" + std::to_string(src)});
  }
  for (int i = 0; i < 6; ++i)
    h.media(eps[i], 1, 1, 0, true);
  EXPECT_EQ(h.bus.stats().rooms, 2u);
  EXPECT_EQ(h.bus.stats().peers, 6u);
  EXPECT_EQ(h.bus.stats().tracks, 12u);
  EXPECT_EQ(h.bus.stats().subscriptions, 12u);
  EXPECT_EQ(h.hub.stats().local_tracks, 12u);

  h.send(eps[0], tev::Leave{});
  h.hub.remove_endpoint(h.now, eps[0]);
  h.hub.remove_endpoint(h.now, eps[1]);  // the transport vanished without a leave
  h.collect();
  auto left = h.take<eev::PeerLeft>(eps[2]);
  ASSERT_EQ(left.size(), 2u) << "the room hears both go, polite or not";
  EXPECT_EQ(h.take<eev::LocalTrackSourceEnded>(eps[2]).size(), 2u) << "eps[2] watched p0";

  for (size_t i = 2; i < eps.size(); ++i)
    h.send(eps[i], tev::Leave{});
  auto s = h.hub.stats();
  EXPECT_EQ(s.bus.rooms, 0u);
  EXPECT_EQ(s.bus.peers, 0u);
  EXPECT_EQ(s.bus.tracks, 0u);
  EXPECT_EQ(s.bus.channels, 0u);
  EXPECT_EQ(s.bus.subscriptions, 0u);
  EXPECT_EQ(s.remote_tracks, 0u);
  EXPECT_EQ(s.local_tracks, 0u);
  EXPECT_EQ(s.endpoints, 4u) << "endpoints that left politely still exist until their transport closes";
  for (size_t i = 2; i < eps.size(); ++i)
    h.hub.remove_endpoint(h.now, eps[i]);
  EXPECT_EQ(h.hub.stats().endpoints, 0u);
  EXPECT_EQ(h.bus.room("room-a"), nullptr);
}

TEST(ChannelId, StableAndUnambiguous) {
  static_assert(channel_id("r", "p", "t") == channel_id("r", "p", "t"));
  EXPECT_NE(channel_id("ab", "c", "d"), channel_id("a", "bc", "d"));
  EXPECT_NE(channel_id("r", "p", "video"), channel_id("r", "p", "audio"));
  EXPECT_EQ(channel_id("room", "peer", "video"),
            channel_id(std::string("room"), "peer", std::string_view("video")));
  // Pinned: nodes of different builds must agree on NATS subjects derived from it (FNV-1a 64, one more prime
  // step after each name).
  static_assert(channel_id("room", "alice", "camera") == 0xc43626441c27ad23ULL);
}

}  // namespace
}  // namespace atrium::core::testing
