// RoomMirror: other nodes' entries reach local members through RoomDirectory, in any delivery order, once.
#include <gtest/gtest.h>

#include "cluster/nats/room_mirror.h"

namespace atrium::cluster::nats {
namespace {

using namespace core;

struct MirrorTest : ::testing::Test {
  MirrorTest() { dir.add_member(1, {"r", "me", "{}", SubscribeMode::kAuto, SubscribeMode::kAuto}, out); }

  std::vector<ClusterEvent> drain() {
    std::vector<ClusterEvent> evs;
    while (auto d = out.pop())
      evs.push_back(std::move(d->event));
    return evs;
  }

  RoomDirectory dir;
  RoomMirror mirror;
  RoomDirectory::Out out{16};
};

TEST_F(MirrorTest, TrackBeforeItsPeerWaitsForThePeer) {
  mirror.put_track(5, "bob", "n1", {"video", media::MediaKind::kVideo, "{}"}, dir, out);
  EXPECT_TRUE(drain().empty());
  EXPECT_FALSE(dir.has_track("bob", "video"));
  mirror.put_peer(6, "bob", "n1", "{}", dir, out);
  auto evs = drain();
  ASSERT_EQ(evs.size(), 2u);
  EXPECT_TRUE(std::holds_alternative<cev::PeerJoined>(evs[0]));
  EXPECT_TRUE(std::holds_alternative<cev::TrackPublished>(evs[1]));
  EXPECT_EQ(mirror.entries(), 2u);
}

TEST_F(MirrorTest, OldOrRepeatedRevisionsChangeNothing) {
  mirror.put_peer(10, "bob", "n1", "{\"v\":2}", dir, out);
  drain();
  mirror.put_peer(10, "bob", "n1", "{\"v\":2}", dir, out);
  mirror.put_peer(7, "bob", "n1", "{\"v\":1}", dir, out);
  EXPECT_TRUE(drain().empty());
  EXPECT_EQ(dir.peer("bob")->meta, "{\"v\":2}");
  mirror.put_peer(11, "bob", "n1", "{\"v\":3}", dir, out);
  auto evs = drain();
  ASSERT_EQ(evs.size(), 1u);
  EXPECT_TRUE(std::holds_alternative<cev::PeerMeta>(evs[0]));
  EXPECT_TRUE(mirror.remove_peer(9, "bob", dir, out).empty());  // an old delete
  EXPECT_TRUE(dir.has_peer("bob"));
}

TEST_F(MirrorTest, PeerRemovalEndsItsTracksAndReportsThem) {
  mirror.put_peer(1, "bob", "n1", "{}", dir, out);
  mirror.put_track(2, "bob", "n1", {"video", media::MediaKind::kVideo, "{}"}, dir, out);
  mirror.put_track(3, "bob", "n1", {"audio", media::MediaKind::kAudio, "{}"}, dir, out);
  drain();
  auto ended = mirror.remove_peer(4, "bob", dir, out);
  EXPECT_EQ(ended.size(), 2u);
  auto evs = drain();
  ASSERT_EQ(evs.size(), 3u);
  EXPECT_TRUE(std::holds_alternative<cev::PeerLeft>(evs[2]));
  EXPECT_EQ(mirror.entries(), 0u);
}

TEST_F(MirrorTest, OwnedByListsTracksFirstAndALocalPeerOfTheSameIdWins) {
  dir.add_peer("dup", "{}", out);  // a local peer
  mirror.put_peer(1, "dup", "n2", "{}", dir, out);
  mirror.put_peer(2, "bob", "n1", "{}", dir, out);
  mirror.put_track(3, "bob", "n1", {"video", media::MediaKind::kVideo, "{}"}, dir, out);
  drain();
  auto owned = mirror.owned_by("n1");
  ASSERT_EQ(owned.size(), 2u);
  EXPECT_EQ(owned[0].second, "video");
  EXPECT_EQ(owned[1].second, "");
  // The remote "dup" never entered the directory, so removing it leaves the local one alone.
  mirror.remove_peer(0, "dup", dir, out);
  EXPECT_TRUE(dir.has_peer("dup"));
  EXPECT_TRUE(drain().empty());
}

}  // namespace
}  // namespace atrium::cluster::nats
