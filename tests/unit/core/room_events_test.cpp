// Who hears about whom: join/leave/meta and track events in auto and manual mode, as a client sees them.
#include "core_harness.h"

namespace atrium::core::testing {
namespace {

std::vector<std::string> peer_names(const std::vector<eev::PeerJoined>& v) {
  std::vector<std::string> out;
  for (auto& e : v)
    out.push_back(e.peer);
  return out;
}

TEST(RoomEvents, AutoModeSeesEveryoneElseAndASnapshotOnJoin) {
  CoreHarness h;
  auto a = h.join("r", "alice");
  EXPECT_EQ(h.take<eev::Joined>(a).size(), 1u);
  EXPECT_TRUE(h.take<eev::PeerJoined>(a).empty()) << "nobody sees itself";
  h.publish(a, 1, "video");

  auto b = h.join("r", "bob");
  EXPECT_EQ(peer_names(h.take<eev::PeerJoined>(a)), std::vector<std::string>{"bob"});
  EXPECT_EQ(peer_names(h.take<eev::PeerJoined>(b)), std::vector<std::string>{"alice"});
  auto snap = h.take<eev::TrackPublished>(b);
  ASSERT_EQ(snap.size(), 1u);
  EXPECT_EQ(snap[0].peer, "alice");
  EXPECT_EQ(snap[0].info.name, "video");

  h.publish(b, 7, "screen");
  auto pub = h.take<eev::TrackPublished>(a);
  ASSERT_EQ(pub.size(), 1u);
  EXPECT_EQ(pub[0].peer, "bob");
  EXPECT_EQ(pub[0].info.name, "screen");
  EXPECT_TRUE(h.take<eev::TrackPublished>(b).empty());

  h.send(b, tev::UpdatePeerMeta{R"({"name":"Bob"})"});
  auto meta = h.take<eev::PeerMetaChanged>(a);
  ASSERT_EQ(meta.size(), 1u);
  EXPECT_EQ(meta[0].meta, R"({"name":"Bob"})");
  h.send(b, tev::UpdateTrackMeta{7, R"({"muted":true})"});
  auto tmeta = h.take<eev::TrackMetaChanged>(a);
  ASSERT_EQ(tmeta.size(), 1u);
  EXPECT_EQ(tmeta[0].track, "screen");

  h.send(b, tev::Leave{});
  EXPECT_EQ(h.take<eev::Left>(b).size(), 1u);
  auto gone = h.take<eev::TrackUnpublished>(a);
  ASSERT_EQ(gone.size(), 1u);
  EXPECT_EQ(gone[0].track, "screen");
  auto left = h.take<eev::PeerLeft>(a);
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(left[0].peer, "bob");
}

TEST(RoomEvents, RoomsAreIsolated) {
  CoreHarness h;
  auto a = h.join("r1", "alice");
  auto b = h.join("r2", "bob");
  h.publish(b, 1, "video");
  EXPECT_TRUE(h.take<eev::PeerJoined>(a).empty());
  EXPECT_TRUE(h.take<eev::TrackPublished>(a).empty());
  EXPECT_TRUE(h.take<eev::PeerJoined>(b).empty());
}

TEST(RoomEvents, ManualModeHearsOnlySubscribedPeers) {
  CoreHarness h;
  auto m = h.join("r", "watcher", SubscribeMode::kManual, SubscribeMode::kManual);
  auto p = h.join("r", "pub");
  auto q = h.join("r", "other");
  h.publish(p, 1, "video");
  h.publish(q, 1, "video");
  h.send(p, tev::UpdatePeerMeta{"{}"});
  EXPECT_TRUE(h.take<eev::PeerJoined>(m).empty());
  EXPECT_TRUE(h.take<eev::TrackPublished>(m).empty());
  EXPECT_TRUE(h.take<eev::PeerMetaChanged>(m).empty());
  // The others still see the manual peer join: modes filter what a peer hears, not who hears of it.
  EXPECT_EQ(peer_names(h.take<eev::PeerJoined>(p)), (std::vector<std::string>{"watcher", "other"}));

  h.send(m, tev::SubscribePeer{"pub"});
  EXPECT_EQ(peer_names(h.take<eev::PeerJoined>(m)), std::vector<std::string>{"pub"});
  auto tracks = h.take<eev::TrackPublished>(m);
  ASSERT_EQ(tracks.size(), 1u);
  EXPECT_EQ(tracks[0].peer, "pub");

  h.publish(p, 2, "audio", media::MediaKind::kAudio);
  h.publish(q, 2, "audio", media::MediaKind::kAudio);
  tracks = h.take<eev::TrackPublished>(m);
  ASSERT_EQ(tracks.size(), 1u) << "only the subscribed peer's new track";
  EXPECT_EQ(tracks[0].info.name, "audio");
  EXPECT_EQ(tracks[0].peer, "pub");

  h.send(m, tev::UnsubscribePeer{"pub"});
  EXPECT_EQ(h.take<eev::TrackUnpublished>(m).size(), 2u);
  EXPECT_EQ(h.take<eev::PeerLeft>(m).size(), 1u);
  h.send(p, tev::Leave{});
  EXPECT_TRUE(h.take<eev::PeerLeft>(m).empty()) << "no longer subscribed, so no leave either";
}

TEST(RoomEvents, SubscribingToAPeerBeforeItJoinsAnnouncesItWhenItComes) {
  CoreHarness h;
  auto m = h.join("r", "watcher", SubscribeMode::kManual, SubscribeMode::kManual);
  h.send(m, tev::SubscribePeer{"late"});
  EXPECT_TRUE(h.take<eev::PeerJoined>(m).empty());
  auto l = h.join("r", "late");
  h.publish(l, 1, "video");
  EXPECT_EQ(peer_names(h.take<eev::PeerJoined>(m)), std::vector<std::string>{"late"});
  EXPECT_EQ(h.take<eev::TrackPublished>(m).size(), 1u);
}

TEST(RoomEvents, AutoPeersManualTracks) {
  CoreHarness h;
  auto m = h.join("r", "watcher", SubscribeMode::kAuto, SubscribeMode::kManual);
  auto p = h.join("r", "pub");
  h.publish(p, 1, "video");
  EXPECT_EQ(h.take<eev::PeerJoined>(m).size(), 1u);
  EXPECT_TRUE(h.take<eev::TrackPublished>(m).empty());
  h.send(m, tev::SubscribePeer{"pub"});
  EXPECT_TRUE(h.take<eev::PeerJoined>(m).empty()) << "already visible: not announced twice";
  EXPECT_EQ(h.take<eev::TrackPublished>(m).size(), 1u);
  h.send(m, tev::UnsubscribePeer{"pub"});
  EXPECT_EQ(h.take<eev::TrackUnpublished>(m).size(), 1u);
  EXPECT_TRUE(h.take<eev::PeerLeft>(m).empty()) << "peers are still auto";
}

}  // namespace
}  // namespace atrium::core::testing
