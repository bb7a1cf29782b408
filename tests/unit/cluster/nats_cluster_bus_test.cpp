// NatsClusterBus end to end: two nodes, a real nats-server, the real core on both sides.
#include <nats/nats.h>

#include <array>
#include <cmath>
#include <cstdio>
#include <numbers>

#include "cluster/nats/key_codec.h"
#include "cluster_harness.h"
#include "media/audio/opus_decoder.h"
#include "media/audio/opus_encoder.h"

namespace atrium::cluster::nats::testing {
namespace {

// libnats keeps threads and caches for the process; closing them at the end keeps the leak checker's view
// clean.
class NatsLibrary : public ::testing::Environment {
 public:
  void TearDown() override { nats_CloseAndWait(2000); }
};
const auto* const kNatsLibrary = ::testing::AddGlobalTestEnvironment(new NatsLibrary);

using Cluster = ClusterHarness;

std::string describe(Node& n) {
  const auto s = n.bus->nats_stats();
  return n.bus->owner() + ": " + s.connection + ", reconnects " + std::to_string(s.reconnects) +
         ", relayed out " + std::to_string(s.relayed_out) + " in " + std::to_string(s.relayed_in) +
         ", errors " + std::to_string(s.relay_errors) + ", entries " + std::to_string(s.directory_entries);
}

bool peer_joined(Node& n, EndpointId ep, const std::string& peer) {
  for (const auto& e : n.events[ep])
    if (auto* j = std::get_if<eev::PeerJoined>(&e); j && j->peer == peer) return true;
  return false;
}

// A publisher "alice" on A with a video track, a viewer "bob" on B attached to it as local track 1, and media
// flowing (A sends key frames until bob gets one).
struct Flow {
  EndpointId alice = 0;
  EndpointId bob = 0;
};

Flow start_flow(Cluster& t, Node& a, Node& b) {
  Flow f;
  f.bob = t.join(b, "r", "bob");
  f.alice = t.join(a, "r", "alice");
  t.publish(a, f.alice, 7, "video");
  EXPECT_TRUE(t.wait_until([&] { return t.has<eev::TrackPublished>(b, f.bob); }));
  t.send(b, f.bob, tev::Attach{1, "alice", "video"});
  uint16_t seq = 100;
  EXPECT_TRUE(t.wait_until([&] {
    t.media(a, f.alice, 7, seq++, true);
    return t.has<eev::LocalMedia>(b, f.bob);
  }));
  return f;
}

TEST_F(Cluster, UnreachableNatsIsOneLineError) {
  auto o = test_options("nats://127.0.0.1:" + std::to_string(free_loopback_port()), "lonely");
  auto c = NatsClusterBus::connect(o, [] {});
  ASSERT_FALSE(c.bus);
  EXPECT_NE(c.error.find("cannot reach NATS at nats://127.0.0.1:"), std::string::npos) << c.error;
  EXPECT_EQ(c.error.find('\n'), std::string::npos);
}

TEST_F(Cluster, PeerJoinSeenOnOtherNodeInAutoModeAndInManualOnlyAfterSubscribing) {
  Node& a = add_node("a");
  Node& b = add_node("b");
  const EndpointId watcher = join(b, "r", "watcher");
  const EndpointId manual = join(b, "r", "manual", SubscribeMode::kManual, SubscribeMode::kManual);
  ASSERT_TRUE(has<eev::Joined>(b, watcher));
  const EndpointId alice = join(a, "r", "alice");
  ASSERT_TRUE(has<eev::Joined>(a, alice));

  ASSERT_TRUE(wait_until([&] { return peer_joined(b, watcher, "alice"); }));
  EXPECT_TRUE(
      wait_until([&] { return peer_joined(a, alice, "watcher") && peer_joined(a, alice, "manual"); }));
  for (const auto& j : take<eev::PeerJoined>(b, watcher)) {
    if (j.peer == "alice") {
      EXPECT_EQ(j.meta, "{\"name\":\"alice\"}");
    }
  }
  settle(100);
  EXPECT_FALSE(peer_joined(b, manual, "alice"));

  send(b, manual, tev::SubscribePeer{"alice"});
  EXPECT_TRUE(peer_joined(b, manual, "alice"));  // the directory already knew: answered at once

  // Meta and leave travel the same way.
  send(a, alice, tev::UpdatePeerMeta{"{\"mood\":\"happy\"}"});
  EXPECT_TRUE(wait_until([&] {
    return has<eev::PeerMetaChanged>(b, watcher,
                                     [](const auto& m) { return m.meta == "{\"mood\":\"happy\"}"; });
  }));
  send(a, alice, tev::Leave{});
  EXPECT_TRUE(wait_until([&] { return has<eev::PeerLeft>(b, watcher) && has<eev::PeerLeft>(b, manual); }));
  EXPECT_GT(b.wakes.load(), 0);  // deliveries came through the wake callback's inbox
}

TEST_F(Cluster, PeerIdIsUniqueAcrossNodes) {
  Node& a = add_node("a");
  Node& b = add_node("b");
  const EndpointId first = join(a, "r", "alice");
  ASSERT_TRUE(has<eev::Joined>(a, first));
  const EndpointId second = join(b, "r", "alice");
  EXPECT_FALSE(has<eev::Joined>(b, second));
  auto errors = take<eev::ErrorEvent>(b, second);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].error.code, ErrorCode::kPeerIdTaken);

  // Once alice's leave reached NATS (a publish from A, not a round trip), the id is free for B.
  send(a, first, tev::Leave{});
  EXPECT_TRUE(wait_until(
      [&] {
        const EndpointId again = join(b, "r", "alice");
        return has<eev::Joined>(b, again);
      },
      1000));
}

// A directory that answers each claim `delay_ms` late (the real one behind it), as a stalled NATS would.
class SlowClaims final : public PeerClaims {
 public:
  SlowClaims(std::unique_ptr<PeerClaims> real, int delay_ms) : real_(std::move(real)), delay_ms_(delay_ms) {}
  ClaimResult claim(const std::string& key, const std::string& value) override {
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms_));
    return real_->claim(key, value);
  }
  bool release(const std::string& key) override { return real_->release(key); }

 private:
  std::unique_ptr<PeerClaims> real_;
  int delay_ms_;
};

NatsClusterBus::ClaimsDecorator slow_claims(int delay_ms) {
  return [delay_ms](std::unique_ptr<PeerClaims> real) {
    return std::make_unique<SlowClaims>(std::move(real), delay_ms);
  };
}

TEST_F(Cluster, ASlowClaimHoldsUpNeitherTheHubNorTheMediaOfOthers) {
  Node& a = add_node(test_options(server.url(), "a"), slow_claims(500));
  const EndpointId alice = join(a, "r", "alice");
  const EndpointId bob = join(a, "r", "bob");
  ASSERT_TRUE(has<eev::Joined>(a, alice));
  ASSERT_TRUE(has<eev::Joined>(a, bob));
  publish(a, alice, 7, "video");
  send(a, bob, tev::Attach{1, "alice", "video"});

  const auto before = std::chrono::steady_clock::now();
  const EndpointId carol = a.hub->create_endpoint();
  send(a, carol, tev::Join{{"r", "carol", "{}", SubscribeMode::kAuto, SubscribeMode::kAuto}});
  EXPECT_LT(std::chrono::steady_clock::now() - before, std::chrono::milliseconds(50));  // the worker goes on
  EXPECT_TRUE(a.hub->endpoint(carol)->joining());
  // bob gets every packet alice sends while carol's claim is out.
  uint16_t seq = 100;
  take<eev::LocalMedia>(a, bob);
  for (int i = 0; i < 20; ++i) {
    media(a, alice, 7, seq++, i == 0);
    settle(5);
  }
  EXPECT_EQ(take<eev::LocalMedia>(a, bob).size(), 20u);
  EXPECT_FALSE(has<eev::Joined>(a, carol));
  EXPECT_TRUE(wait_until([&] { return has<eev::Joined>(a, carol); }));
}

TEST_F(Cluster, AJoinPastItsTimeoutIsRefusedAndItsClaimGivenBack) {
  auto o = test_options(server.url(), "a");
  o.join_timeout = 300'000;
  Node& a = add_node(o, slow_claims(800));  // the claim succeeds, but after the join's bound
  Node& b = add_node("b");
  const auto before = std::chrono::steady_clock::now();
  const EndpointId carol = a.hub->create_endpoint();
  send(a, carol, tev::Join{{"r", "carol", "{}", SubscribeMode::kAuto, SubscribeMode::kAuto}});
  ASSERT_TRUE(wait_until([&] { return has<eev::ErrorEvent>(a, carol); }));
  EXPECT_LT(std::chrono::steady_clock::now() - before, std::chrono::milliseconds(700));
  auto errors = take<eev::ErrorEvent>(a, carol);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].error.code, ErrorCode::kUnavailable);
  EXPECT_NE(errors[0].error.message.find("did not answer"), std::string::npos) << errors[0].error.message;
  EXPECT_FALSE(a.hub->endpoint(carol)->joining());

  // a's claim took the key late; a gave it back, so carol can join on b (a is alive: a held key would be
  // PEER_ID_TAKEN there).
  settle(800);
  EXPECT_TRUE(wait_until(
      [&] {
        const EndpointId again = join(b, "r", "carol");
        return has<eev::Joined>(b, again);
      },
      2000));
}

TEST_F(Cluster, AJoinWithdrawnBeforeItsVerdictLeavesNoClaim) {
  Node& a = add_node(test_options(server.url(), "a"), slow_claims(300));
  Node& b = add_node("b");
  const EndpointId carol = a.hub->create_endpoint();
  send(a, carol, tev::Join{{"r", "carol", "{}", SubscribeMode::kAuto, SubscribeMode::kAuto}});
  a.hub->remove_endpoint(wall_micros(), carol);  // the client went away while its claim was out
  EXPECT_EQ(a.bus->stats().rooms, 0u);
  settle(600);
  const EndpointId again = join(b, "r", "carol");
  EXPECT_TRUE(has<eev::Joined>(b, again));
}

TEST_F(Cluster, MediaPublishedOnOneNodeArrivesOnTheOtherIntact) {
  Node& a = add_node("a");
  Node& b = add_node("b");
  Flow f = start_flow(*this, a, b);
  auto got = take<eev::LocalMedia>(b, f.bob);
  ASSERT_FALSE(got.empty());
  const auto& p = got.front().packet;
  EXPECT_EQ(p.codec, media::Codec::kVP8);
  EXPECT_TRUE(p.keyframe);
  EXPECT_TRUE(p.marker);
  EXPECT_EQ(std::vector<uint8_t>(p.payload.begin(), p.payload.end()), kVp8Key);
  EXPECT_GT(a.bus->nats_stats().relayed_out, 0u);
  EXPECT_GT(b.bus->nats_stats().relayed_in, 0u);
  EXPECT_EQ(a.bus->nats_stats().connection, "connected");

  // Delta frames follow, with consecutive sequence numbers after the rewrite.
  settle(100);  // key frames still in flight from the start
  b.events[f.bob].clear();
  for (uint16_t s = 1000; s < 1010; ++s)
    media(a, f.alice, 7, s, false);
  ASSERT_TRUE(wait_until([&] { return b.events[f.bob].size() >= 10; }));
  auto deltas = take<eev::LocalMedia>(b, f.bob);
  ASSERT_EQ(deltas.size(), 10u);
  for (size_t i = 1; i < deltas.size(); ++i)
    EXPECT_EQ(static_cast<uint16_t>(deltas[i].packet.seq - deltas[i - 1].packet.seq), 1);
  EXPECT_EQ(std::vector<uint8_t>(deltas[3].packet.payload.begin(), deltas[3].packet.payload.end()),
            kVp8Delta);
}

TEST_F(Cluster, KeyFrameRequestNamesTheSimulcastLayerAcrossNodes) {
  Node& a = add_node("a");
  Node& b = add_node("b");
  const EndpointId bob = join(b, "r", "bob");
  const EndpointId alice = join(a, "r", "alice");
  publish(a, alice, 7, "video");
  ASSERT_TRUE(wait_until([&] { return has<eev::TrackPublished>(b, bob); }));
  send(b, bob, tev::Attach{1, "alice", "video"});
  uint16_t seq = 100;
  ASSERT_TRUE(wait_until([&] {  // only layer 1 arrives, so bob forwards layer 1
    media(a, alice, 7, seq, true, 1, 1000 + seq);
    ++seq;
    return has<eev::LocalMedia>(b, bob);
  }));
  const auto got = take<eev::LocalMedia>(b, bob);
  EXPECT_EQ(got.front().packet.spatial_layer, 1);
  EXPECT_GE(got.front().packet.picture_id, 0) << "the VP8 fields cross the node boundary";
  settle(600);  // past the publisher's 500 ms merge window
  take<eev::RequestKeyFrame>(a, alice);
  send(b, bob, tev::RequestKeyFrame{1});  // bob lost its picture: layer 1 is what it needs
  EXPECT_TRUE(wait_until([&] {
    return has<eev::RequestKeyFrame>(a, alice, [](const auto& r) { return r.spatial_layer == 1; });
  })) << describe(a);
}

TEST_F(Cluster, KeyFrameRequestAndBitrateReachTheRemotePublisher) {
  Node& a = add_node("a");
  Node& b = add_node("b");
  Flow f = start_flow(*this, a, b);
  // The attach itself asked for a key frame.
  EXPECT_TRUE(has<eev::RequestKeyFrame>(a, f.alice));
  take<eev::RequestKeyFrame>(a, f.alice);
  settle(600);  // past the publisher's 500 ms merge window
  send(b, f.bob, tev::RequestKeyFrame{1});
  EXPECT_TRUE(wait_until([&] { return has<eev::RequestKeyFrame>(a, f.alice); }));

  send(b, f.bob, tev::SetLimits{1, {300'000, 1}});
  EXPECT_TRUE(wait_until([&] {
    return has<eev::BitrateHint>(a, f.alice, [](const auto& h) { return h.bitrate_bps == 300'000; });
  }));
  // The last remote viewer leaves: the publisher hears that nobody watches, and A stops relaying.
  send(b, f.bob, tev::Detach{1});
  EXPECT_TRUE(wait_until(
      [&] { return has<eev::BitrateHint>(a, f.alice, [](const auto& h) { return h.bitrate_bps == 0; }); }));
  const auto out = a.bus->nats_stats().relayed_out;
  for (uint16_t s = 2000; s < 2010; ++s)
    media(a, f.alice, 7, s, true);
  EXPECT_EQ(a.bus->nats_stats().relayed_out, out);
}

TEST_F(Cluster, UnpublishOnOneNodeEndsTheTrackOnTheOther) {
  Node& a = add_node("a");
  Node& b = add_node("b");
  Flow f = start_flow(*this, a, b);
  send(a, f.alice, tev::Unpublish{7});
  EXPECT_TRUE(wait_until(
      [&] { return has<eev::LocalTrackSourceEnded>(b, f.bob) && has<eev::TrackUnpublished>(b, f.bob); }));
  EXPECT_EQ(b.bus->stats().channels, 0u);
}

TEST_F(Cluster, DeadNodeIsRemovedByTheSurvivorsWithinTheTtl) {
  Node& a = add_node("a");
  Node& b = add_node("b");
  Flow f = start_flow(*this, a, b);
  a.bus->abandon();  // as kill -9: no deletes, no heartbeats
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(wait_until(
      [&] {
        return has<eev::LocalTrackSourceEnded>(b, f.bob) && has<eev::TrackUnpublished>(b, f.bob) &&
               has<eev::PeerLeft>(b, f.bob);
      },
      3000));
  const auto took =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
  EXPECT_LT(took.count(), 1500);  // ttl 600 ms + a heartbeat + a tick
  EXPECT_EQ(b.bus->nats_stats().dead_nodes, 1u);
  EXPECT_EQ(b.bus->nats_stats().directory_entries, 1u);  // bob alone

  // The dead node's entries are gone from the bucket too, not only from B's view.
  settle(100);
  natsConnection* nc = nullptr;
  ASSERT_EQ(natsConnection_ConnectTo(&nc, server.url().c_str()), NATS_OK);
  jsCtx* js = nullptr;
  ASSERT_EQ(natsConnection_JetStream(&js, nc, nullptr), NATS_OK);
  kvStore* kv = nullptr;
  ASSERT_EQ(js_KeyValue(&kv, js, "atrium_rooms"), NATS_OK);
  kvEntry* e = nullptr;
  EXPECT_EQ(kvStore_Get(&e, kv, peer_key("r", "alice").c_str()), NATS_NOT_FOUND);
  EXPECT_EQ(kvStore_Get(&e, kv, track_key("r", "alice", "video").c_str()), NATS_NOT_FOUND);
  EXPECT_EQ(kvStore_Get(&e, kv, peer_key("r", "bob").c_str()), NATS_OK);
  kvEntry_Destroy(e);
  kvStore_Destroy(kv);
  jsCtx_Destroy(js);
  natsConnection_Destroy(nc);
}

TEST_F(Cluster, LateJoinerGetsTheRoomAndACleanShutdownLeavesAtOnce) {
  Node& a = add_node("a");
  Node& b = add_node("b");
  const EndpointId alice = join(a, "r", "alice");
  publish(a, alice, 7, "video");
  send(a, alice, tev::Publish{8, {"audio", media::MediaKind::kAudio, "{}"}});
  settle(50);
  const EndpointId bob = join(b, "r", "bob");  // the room exists only in the bucket as far as B knows
  ASSERT_TRUE(wait_until([&] {
    return has<eev::TrackPublished>(b, bob, [](const auto& t) { return t.info.name == "audio"; }) &&
           has<eev::TrackPublished>(b, bob, [](const auto& t) { return t.info.name == "video"; });
  }));
  EXPECT_TRUE(peer_joined(b, bob, "alice"));
  const auto* room = b.bus->room("r");
  ASSERT_TRUE(room);
  EXPECT_EQ(room->peer("alice")->tracks.at("audio").kind, media::MediaKind::kAudio);

  // A shuts down cleanly (no leave from its endpoints): its destructor deletes its entries, so B need not
  // wait for the heartbeat to expire.
  const auto t0 = std::chrono::steady_clock::now();
  a.hub.reset();
  a.bus.reset();
  ASSERT_TRUE(wait_until([&] { return has<eev::PeerLeft>(b, bob); }, 2000));
  const auto took =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
  EXPECT_LT(took.count(), 400);  // well under the 600 ms ttl
  EXPECT_EQ(take<eev::TrackUnpublished>(b, bob).size(), 2u);
  settle(800);  // past the ttl: a node that said goodbye is not counted as dead
  EXPECT_EQ(b.bus->nats_stats().dead_nodes, 0u);
  EXPECT_EQ(b.bus->nats_stats().directory_entries, 1u);
}

TEST_F(Cluster, LocalViewerOfLocalPublisherSendsNothingThroughNats) {
  Node& a = add_node("a");
  Node& b = add_node("b");
  const EndpointId other = join(b, "r", "other");  // another node in the room, watching nothing
  const EndpointId alice = join(a, "r", "alice");
  const EndpointId viewer = join(a, "r", "viewer");
  publish(a, alice, 7, "video");
  send(a, viewer, tev::Attach{1, "alice", "video"});
  ASSERT_TRUE(wait_until([&] { return has<eev::TrackPublished>(b, other); }));
  for (uint16_t s = 1; s <= 50; ++s)
    media(a, alice, 7, s, true);
  settle(100);
  EXPECT_EQ(take<eev::LocalMedia>(a, viewer).size(), 50u);
  EXPECT_EQ(a.bus->nats_stats().relayed_out, 0u);
  EXPECT_EQ(b.bus->nats_stats().relayed_in, 0u);
}

TEST_F(Cluster, MediaResumesAfterNatsRestarts) {
  Node& a = add_node("a");
  Node& b = add_node("b");
  Flow f = start_flow(*this, a, b);
  take<eev::LocalMedia>(b, f.bob);

  server.stop();
  ASSERT_TRUE(wait_until([&] { return a.bus->nats_stats().connection != "connected"; }, 2000));
  ASSERT_TRUE(server.start());
  uint16_t seq = 5000;
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(wait_until(
      [&] {
        media(a, f.alice, 7, seq++, true);
        return has<eev::LocalMedia>(b, f.bob);
      },
      8000));
  const auto took =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
  EXPECT_LT(took.count(), 5000);
  // libnats reports the reconnect on its callback thread, which may come after the first messages.
  EXPECT_TRUE(wait_until(
      [&] { return a.bus->nats_stats().reconnects >= 1 && b.bus->nats_stats().reconnects >= 1; }, 1000));
  // Nobody was taken for dead while NATS was away, and the directory still holds both peers.
  settle(800);
  EXPECT_FALSE(has<eev::PeerLeft>(b, f.bob));
  EXPECT_FALSE(has<eev::LocalTrackSourceEnded>(b, f.bob));
  EXPECT_EQ(b.bus->nats_stats().directory_entries, 3u);  // bob, alice, alice/video
}

TEST_F(Cluster, MediaAndDirectoryComeBackWhenNatsRestartsWithAnEmptyStore) {
  Node& a = add_node("a");
  Node& b = add_node("b");
  Flow f = start_flow(*this, a, b);
  // Some history, so the old store's revisions are higher than the new store's will be.
  for (int i = 0; i < 6; ++i)
    send(a, f.alice, tev::UpdatePeerMeta{"{\"v\":" + std::to_string(i) + "}"});
  ASSERT_TRUE(wait_until([&] {
    return has<eev::PeerMetaChanged>(b, f.bob, [](const auto& m) { return m.meta == "{\"v\":5}"; });
  }));
  server.stop();
  server.wipe_store();
  ASSERT_TRUE(server.start());
  // Buckets are made again, both nodes re-put their entries and B's interest restarts the relay.
  uint16_t seq = 7000;
  ASSERT_TRUE(wait_until([&] { return a.bus->nats_stats().reconnects >= 1; }, 3000));
  b.events[f.bob].clear();
  ASSERT_TRUE(wait_until(
      [&] {
        media(a, f.alice, 7, seq++, true);
        return has<eev::LocalMedia>(b, f.bob);
      },
      8000))
      << describe(a) << "\n"
      << describe(b);
  settle(800);  // past the ttl: nobody was taken for dead
  EXPECT_FALSE(has<eev::PeerLeft>(b, f.bob));
  EXPECT_FALSE(has<eev::LocalTrackSourceEnded>(b, f.bob));
  // Changes in the new store reach B although their revisions restarted from 1.
  send(a, f.alice, tev::UpdatePeerMeta{"{\"after\":true}"});
  EXPECT_TRUE(wait_until([&] {
    return has<eev::PeerMetaChanged>(b, f.bob, [](const auto& m) { return m.meta == "{\"after\":true}"; });
  }));
  // A third node joining now learns the room from the new store.
  Node& c = add_node("c");
  const EndpointId carol = join(c, "r", "carol");
  EXPECT_TRUE(wait_until([&] {
    return peer_joined(c, carol, "alice") && peer_joined(c, carol, "bob") &&
           has<eev::TrackPublished>(c, carol);
  }));
}

TEST_F(Cluster, ANodeTakenForDeadPutsItsEntriesBack) {
  Node& a = add_node("a");
  Node& b = add_node("b");
  const EndpointId bob = join(b, "r", "bob");
  const EndpointId alice = join(a, "r", "alice");
  ASSERT_TRUE(wait_until([&] { return peer_joined(b, bob, "alice"); }));
  // What a survivor does to a node it took for dead (a long stall): delete its entry behind its back.
  natsConnection* nc = nullptr;
  ASSERT_EQ(natsConnection_ConnectTo(&nc, server.url().c_str()), NATS_OK);
  jsCtx* js = nullptr;
  ASSERT_EQ(natsConnection_JetStream(&js, nc, nullptr), NATS_OK);
  kvStore* kv = nullptr;
  ASSERT_EQ(js_KeyValue(&kv, js, "atrium_rooms"), NATS_OK);
  ASSERT_EQ(kvStore_Delete(kv, peer_key("r", "alice").c_str()), NATS_OK);
  // B sees alice leave; A, still holding alice, puts her back; B sees her again.
  EXPECT_TRUE(wait_until([&] { return has<eev::PeerLeft>(b, bob); }));
  EXPECT_TRUE(wait_until([&] {
    kvEntry* e = nullptr;
    const bool back = kvStore_Get(&e, kv, peer_key("r", "alice").c_str()) == NATS_OK;
    kvEntry_Destroy(e);
    return back && take<eev::PeerJoined>(b, bob).size() >= 1 && b.bus->room("r")->has_peer("alice");
  }));
  EXPECT_TRUE(has<eev::Joined>(a, alice));
  kvStore_Destroy(kv);
  jsCtx_Destroy(js);
  natsConnection_Destroy(nc);
}

TEST_F(Cluster, ManualTrackModeHearsRemoteTracksOnlyOfSubscribedPeers) {
  Node& a = add_node("a");
  Node& b = add_node("b");
  const EndpointId viewer = join(b, "r", "viewer", SubscribeMode::kAuto, SubscribeMode::kManual);
  const EndpointId alice = join(a, "r", "alice");
  publish(a, alice, 7, "video");
  ASSERT_TRUE(wait_until(
      [&] { return peer_joined(b, viewer, "alice") && b.bus->room("r")->has_track("alice", "video"); }));
  EXPECT_FALSE(has<eev::TrackPublished>(b, viewer));
  send(b, viewer, tev::SubscribePeer{"alice"});
  EXPECT_TRUE(has<eev::TrackPublished>(b, viewer));
  size_t joins = 0;
  for (const auto& j : take<eev::PeerJoined>(b, viewer))
    joins += j.peer == "alice" ? 1 : 0;
  EXPECT_EQ(joins, 1u);  // subscribing announces only what was not visible yet
}

}  // namespace
}  // namespace atrium::cluster::nats::testing

namespace atrium::cluster::nats::testing {
namespace {

TEST_F(Cluster, MessagesReachMembersOnEveryNodeOnceAndDirectOnesOnlyTheirPeer) {
  Node& a = add_node("a");
  Node& b = add_node("b");
  const EndpointId alice = join(a, "r", "alice");
  const EndpointId carol = join(a, "r", "carol");
  const EndpointId bob = join(b, "r", "bob");
  ASSERT_TRUE(wait_until([&] { return peer_joined(b, bob, "alice") && peer_joined(a, alice, "bob"); }));

  send(a, alice, tev::SendMessage{"", "\"hi all\""});
  ASSERT_TRUE(wait_until([&] { return has<eev::Message>(b, bob); }));
  settle(100);
  auto at_bob = take<eev::Message>(b, bob);
  ASSERT_EQ(at_bob.size(), 1u);
  EXPECT_EQ(at_bob[0].from, "alice");
  EXPECT_EQ(at_bob[0].data, "\"hi all\"");
  EXPECT_EQ(take<eev::Message>(a, carol).size(), 1u) << "a local member gets it once, not again via NATS";
  EXPECT_TRUE(take<eev::Message>(a, alice).empty());

  send(b, bob, tev::SendMessage{"carol", "1"});
  ASSERT_TRUE(wait_until([&] { return has<eev::Message>(a, carol); }));
  settle(100);
  EXPECT_TRUE(take<eev::Message>(a, carol)[0].direct);
  EXPECT_TRUE(take<eev::Message>(a, alice).empty());

  send(b, bob, tev::SendMessage{"nobody", "1"});
  auto errors = take<eev::ErrorEvent>(b, bob);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].error.code, core::ErrorCode::kPeerNotFound);
}

// Active speakers across nodes: alice talks on node a, bob is quiet on node b; nobody watches anybody's
// audio, so only the level summaries cross NATS. bob is told alice speaks; alice hears the same list.
TEST_F(Cluster, ASpeakerOnOneNodeIsNamedOnTheOther) {
  Node& a = add_node("a");
  Node& b = add_node("b");
  const EndpointId alice = join(a, "r", "alice");
  const EndpointId bob = join(b, "r", "bob");
  ASSERT_TRUE(wait_until([&] { return peer_joined(b, bob, "alice") && peer_joined(a, alice, "bob"); }));
  send(a, alice, tev::Publish{1, {"audio", media::MediaKind::kAudio, "{}"}});
  send(b, bob, tev::Publish{1, {"audio", media::MediaKind::kAudio, "{}"}});
  const std::vector<uint8_t> opus = {0xfc, 0xff, 0xfe};
  uint16_t seq = 0;
  auto packet = [&](Node& n, EndpointId ep, int8_t level) {
    media::MediaPacket p;
    p.codec = media::Codec::kOpus;
    p.seq = seq;
    p.timestamp = seq * 960u;
    p.keyframe = true;
    p.audio_level = level;
    p.arrival = wall_micros();
    p.payload = opus;
    send(n, ep, tev::RemoteMedia{1, p});
  };
  auto named = [&](Node& n, EndpointId ep) {
    return has<eev::ActiveSpeakers>(n, ep, [](const eev::ActiveSpeakers& e) {
      return !e.speakers.empty() && e.speakers[0].peer == "alice";
    });
  };
  const auto start = std::chrono::steady_clock::now();
  auto next = start;
  bool done = false;
  while (!done && std::chrono::steady_clock::now() - start < std::chrono::seconds(4)) {
    if (std::chrono::steady_clock::now() >= next) {  // 20 ms packets, as a real publisher sends them
      ++seq;
      packet(a, alice, 8);
      packet(b, bob, 127);
      next += std::chrono::milliseconds(20);
    }
    pump();
    done = named(b, bob) && named(a, alice);
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  const auto took =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
  ASSERT_TRUE(done) << "after " << took.count() << " ms";
  EXPECT_LT(took.count(), 2000) << "named ~0.5 s after alice started, plus the relay's 0.1-0.3 s";
  EXPECT_EQ(a.bus->nats_stats().relayed_out, 0u) << "no audio packet crossed NATS";
  auto at_bob = take<eev::ActiveSpeakers>(b, bob);
  ASSERT_FALSE(at_bob.empty());
  EXPECT_EQ(at_bob.back().speakers[0].peer, "alice");
  EXPECT_LE(at_bob.back().speakers[0].level_dbov, 12);

  // alice's audio ends: bob's list empties when the directory says so, not after the summaries' time-out.
  send(a, alice, tev::Unpublish{1});
  ASSERT_TRUE(wait_until(
      [&] {
        return has<eev::ActiveSpeakers>(b, bob,
                                        [](const eev::ActiveSpeakers& e) { return e.speakers.empty(); });
      },
      2000));
}

// The room's mix across nodes: each node mixes the other's audio, relayed to it because its mix listens.
TEST_F(Cluster, TheMixOnEachNodeHearsThePublisherOnTheOther) {
  Node& a = add_node("a");
  Node& b = add_node("b");
  const EndpointId alice = join(a, "r", "alice");
  const EndpointId bob = join(b, "r", "bob");
  ASSERT_TRUE(wait_until([&] { return peer_joined(b, bob, "alice") && peer_joined(a, alice, "bob"); }));
  send(a, alice, tev::Publish{1, {"audio", media::MediaKind::kAudio, "{}"}});
  send(b, bob, tev::Publish{1, {"audio", media::MediaKind::kAudio, "{}"}});
  ASSERT_TRUE(
      wait_until([&] { return has<eev::TrackPublished>(b, bob) && has<eev::TrackPublished>(a, alice); }));
  send(a, alice, tev::AttachMix{5});
  send(b, bob, tev::AttachMix{5});

  struct Tone {
    media::audio::OpusEncoder enc;
    double freq;
    size_t n = 0;
    std::array<uint8_t, media::audio::OpusEncoder::kMaxPacketBytes> buf{};
  };
  Tone t440{{}, 440}, t1000{{}, 1000};
  ASSERT_TRUE(t440.enc.configure(1).ok());
  ASSERT_TRUE(t1000.enc.configure(1).ok());
  uint16_t seq = 0;
  auto packet = [&](Node& n, EndpointId ep, Tone& t) {
    std::array<float, 960> pcm{};
    for (size_t i = 0; i < pcm.size(); ++i)
      pcm[i] = static_cast<float>(
          0.3 * std::sin(2 * std::numbers::pi * t.freq * static_cast<double>(t.n + i) / 48000.0));
    t.n += pcm.size();
    auto size = t.enc.encode(pcm, t.buf);
    ASSERT_TRUE(size.ok());
    media::MediaPacket p;
    p.codec = media::Codec::kOpus;
    p.seq = seq;
    p.timestamp = seq * 960u;
    p.keyframe = true;
    p.arrival = wall_micros();
    p.payload = std::span<const uint8_t>(t.buf.data(), *size);
    send(n, ep, tev::RemoteMedia{1, p});
  };
  const auto start = std::chrono::steady_clock::now();
  auto next = start;
  while (std::chrono::steady_clock::now() - start < std::chrono::milliseconds(2500)) {
    if (std::chrono::steady_clock::now() >= next) {  // 20 ms packets, as a real publisher sends them
      ++seq;
      packet(a, alice, t440);
      packet(b, bob, t1000);
      next += std::chrono::milliseconds(20);
    }
    pump();
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  // What each heard, decoded; the last second.
  auto heard = [&](Node& n, EndpointId ep) {
    media::audio::OpusDecoder dec;
    EXPECT_TRUE(dec.configure(1).ok());
    std::vector<float> pcm;
    for (auto& m : take<eev::LocalMedia>(n, ep)) {
      if (m.id != 5) continue;
      std::array<float, media::audio::OpusDecoder::kMaxFrameSamples> out{};
      auto k = dec.decode(m.packet.payload, out);
      if (k.ok()) pcm.insert(pcm.end(), out.begin(), out.begin() + static_cast<std::ptrdiff_t>(*k));
    }
    if (pcm.size() > 48000) pcm.erase(pcm.begin(), pcm.end() - 48000);
    return pcm;
  };
  auto power = [](const std::vector<float>& x, double freq) {  // Goertzel, dB
    const double coeff = 2 * std::cos(2 * std::numbers::pi * freq / 48000.0);
    double s1 = 0, s2 = 0;
    for (float v : x) {
      const double s0 = v + coeff * s1 - s2;
      s2 = s1;
      s1 = s0;
    }
    return 10 * std::log10(s1 * s1 + s2 * s2 - coeff * s1 * s2 + 1e-30);
  };
  const auto at_alice = heard(a, alice), at_bob = heard(b, bob);
  ASSERT_GE(at_bob.size(), 24000u);
  ASSERT_GE(at_alice.size(), 24000u);
  std::printf(
      "bob (node b) hears 440 Hz %.1f dB above 1000 Hz; alice (node a) hears 1000 Hz %.1f dB above 440\n",
      power(at_bob, 440) - power(at_bob, 1000), power(at_alice, 1000) - power(at_alice, 440));
  EXPECT_GT(power(at_bob, 440) - power(at_bob, 1000), 30);      // alice's tone, relayed; not his own
  EXPECT_GT(power(at_alice, 1000) - power(at_alice, 440), 30);  // bob's tone, relayed; not her own
  EXPECT_GT(a.bus->nats_stats().relayed_out, 0u);               // the mix made node a send alice's audio

  // bob stops listening: node b's mix goes, and with it its interest in alice's audio.
  send(b, bob, tev::Detach{5});
  EXPECT_EQ(b.bus->stats().channels, 1u);  // bob's own track only
}

}  // namespace
}  // namespace atrium::cluster::nats::testing
