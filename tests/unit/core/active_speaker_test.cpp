// The active-speaker detector on a fake clock (packets every 20 ms, ticks every 10 ms as the runtime's), and
// the whole path through the real bus: endpoints publishing audio with levels, ActiveSpeakers to the others.
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "core/audio/active_speaker_detector.h"
#include "core_harness.h"

namespace atrium::core {
namespace {

constexpr uint8_t kLoud = 10;    // -10 dBov: speech
constexpr uint8_t kQuiet = 127;  // silence
constexpr uint8_t kNoise = 70;   // a quiet room's noise floor: not speech

using Slot = ActiveSpeakerDetector::Slot;

struct Sim {
  ActiveSpeakerDetector d;
  media::Micros now = 5'000'000;
  std::vector<ActiveSpeakers> offered;
  std::vector<media::Micros> offered_at;

  // `ms` milliseconds of packets: every 20 ms each slot gets its level; a tick every 10 ms.
  void run(int ms, const std::map<Slot, uint8_t>& levels) {
    for (int t = 0; t < ms; t += 10) {
      if (t % 20 == 0)
        for (const auto& [slot, level] : levels)
          d.on_level(slot, level);
      now += 10'000;
      if (d.on_tick(now)) {
        offered.push_back(d.speakers());
        offered_at.push_back(now);
      }
    }
  }
  // Runs in 10 ms steps until the dominant speaker is `peer`; the milliseconds it took, or -1 after `max_ms`.
  int until_dominant(const std::string& peer, int max_ms, const std::map<Slot, uint8_t>& levels) {
    for (int t = 0; t < max_ms; t += 20) {
      run(20, levels);
      if (dominant() == peer) return t + 20;
    }
    return -1;
  }
  std::string dominant() const { return d.speakers().empty() ? "" : d.speakers()[0].peer; }
};

TEST(ActiveSpeaker, SustainedSpeechNamesTheSpeakerAndTakesOver) {
  Sim s;
  const Slot a = s.d.add_source("a"), b = s.d.add_source("b"), c = s.d.add_source("c");
  s.run(1000, {{a, kQuiet}, {b, kNoise}, {c, kQuiet}});
  EXPECT_EQ(s.dominant(), "") << "nobody spoke yet";
  EXPECT_TRUE(s.offered.empty());

  const int named = s.until_dominant("a", 2000, {{a, kLoud}, {b, kNoise}, {c, kQuiet}});
  EXPECT_GT(named, 0);
  EXPECT_LE(named, 700) << "named after half a second of speech";
  s.run(3000, {{a, kLoud}, {b, kNoise}, {c, kQuiet}});
  ASSERT_EQ(s.d.speakers().size(), 1u) << "the others are not speaking";
  EXPECT_EQ(s.d.speakers()[0].level_dbov, kLoud);

  // a stops, b talks: b takes over after about a second, not before 600 ms.
  s.run(600, {{a, kQuiet}, {b, kLoud}, {c, kQuiet}});
  EXPECT_EQ(s.dominant(), "a") << "600 ms of b is not enough against a's long interval";
  const int switched = s.until_dominant("b", 2000, {{a, kQuiet}, {b, kLoud}, {c, kQuiet}});
  EXPECT_GT(switched, 0);
  EXPECT_LE(600 + switched, 1200) << "sustained speech takes over within ~1 s";
  std::printf("named after %d ms of speech; switched after %d ms\n", named, 600 + switched);
}

TEST(ActiveSpeaker, ACoughDoesNotTakeTheFloor) {
  Sim s;
  const Slot a = s.d.add_source("a"), b = s.d.add_source("b");
  s.run(200, {{a, kQuiet}, {b, kLoud}});  // a cough in a silent room
  s.run(2000, {{a, kQuiet}, {b, kQuiet}});
  EXPECT_EQ(s.dominant(), "") << "a 200 ms burst names nobody";

  s.run(3000, {{a, kLoud}, {b, kQuiet}});
  ASSERT_EQ(s.dominant(), "a");
  // b coughs while a talks on...
  s.run(200, {{a, kLoud}, {b, kLoud}});
  s.run(2000, {{a, kLoud}, {b, kQuiet}});
  EXPECT_EQ(s.dominant(), "a");
  // ... and while a pauses for breath.
  s.run(300, {{a, kQuiet}, {b, kQuiet}});
  s.run(200, {{a, kQuiet}, {b, kLoud}});
  s.run(300, {{a, kQuiet}, {b, kQuiet}});
  EXPECT_EQ(s.dominant(), "a");
  for (const auto& list : s.offered)
    ASSERT_FALSE(list.empty() || list[0].peer == "b") << "b was never offered as the speaker";
}

TEST(ActiveSpeaker, ALongTalkerKeepsTheFloorThroughAnInterjection) {
  Sim s;
  const Slot a = s.d.add_source("a"), b = s.d.add_source("b");
  s.run(5000, {{a, kLoud}, {b, kQuiet}});
  ASSERT_EQ(s.dominant(), "a");
  s.run(600, {{a, kQuiet}, {b, kLoud}});  // "yes, right" during a's pause
  EXPECT_EQ(s.dominant(), "a");
  ASSERT_GE(s.d.speakers().size(), 2u) << "b is listed, second";
  EXPECT_EQ(s.d.speakers()[1].peer, "b");
  s.run(3000, {{a, kLoud}, {b, kQuiet}});
  EXPECT_EQ(s.dominant(), "a");
  // Both talking at once: the one who had the floor keeps it.
  s.run(3000, {{a, kLoud}, {b, kLoud}});
  EXPECT_EQ(s.dominant(), "a");
}

TEST(ActiveSpeaker, SilenceKeepsTheLastSpeakerUntilItStopsPublishing) {
  Sim s;
  const Slot a = s.d.add_source("a"), b = s.d.add_source("b");
  s.run(2000, {{a, kLoud}, {b, kQuiet}});
  ASSERT_EQ(s.dominant(), "a");
  s.run(10'000, {});  // DTX: no packets at all
  EXPECT_EQ(s.dominant(), "a");
  EXPECT_EQ(s.d.speakers()[0].level_dbov, 127) << "its level says it is quiet now";
  s.d.remove_source(a);
  s.run(300, {});
  EXPECT_TRUE(s.d.speakers().empty());
  EXPECT_TRUE(s.offered.back().empty()) << "the empty list was offered";
  (void)b;
}

TEST(ActiveSpeaker, OffersAtMostFourTimesASecondAndOnlyOnChange) {
  Sim s;
  const Slot a = s.d.add_source("a"), b = s.d.add_source("b"), c = s.d.add_source("c");
  // Three people in a lively conversation: 1.2 s turns, with overlaps, for 20 s.
  for (int turn = 0; turn < 16; ++turn) {
    std::map<Slot, uint8_t> levels{{a, kQuiet}, {b, kQuiet}, {c, kQuiet}};
    levels[static_cast<Slot>(turn % 3)] = kLoud;
    if (turn % 2) levels[static_cast<Slot>((turn + 1) % 3)] = 30;
    s.run(1200, levels);
  }
  ASSERT_GT(s.offered.size(), 5u);
  for (size_t i = 1; i < s.offered_at.size(); ++i)
    EXPECT_GE(s.offered_at[i] - s.offered_at[i - 1], ActiveSpeakerDetector::kMinInterval);
  for (size_t i = 1; i < s.offered.size(); ++i)
    EXPECT_NE(s.offered[i], s.offered[i - 1]) << "offer " << i << " repeats the one before";
  // Steady speech with a steady level: nothing new to say.
  s.run(3000, {{a, kLoud}, {b, kQuiet}, {c, kQuiet}});
  const size_t n = s.offered.size();
  s.run(5000, {{a, kLoud}, {b, kQuiet}, {c, kQuiet}});
  EXPECT_EQ(s.offered.size(), n);
}

TEST(ActiveSpeaker, RemoteBinsCountLikeLocalOnesAndGoStale) {
  Sim s;
  const Slot local = s.d.add_source("here");
  const Slot remote = s.d.add_source("there", true);
  s.d.on_level(remote, kLoud);  // ignored: a remote slot's bins come from its node
  // The remote node sends two 100 ms bins every 200 ms.
  for (int i = 0; i < 15; ++i) {
    s.d.push_bin(remote, s.now, {255, kLoud});
    s.d.push_bin(remote, s.now, {255, kLoud});
    s.run(200, {{local, kQuiet}});
  }
  EXPECT_EQ(s.dominant(), "there");
  EXPECT_EQ(s.d.speakers()[0].level_dbov, kLoud);
  // The relay goes quiet: after kRemoteStale its peer counts as silent, and a local talker takes over.
  const int switched = s.until_dominant("here", 4000, {{local, kLoud}});
  EXPECT_GT(switched, 0);
  EXPECT_LE(switched, 2500);
}

// Through the real bus: three endpoints publish audio with levels; everyone hears who speaks.
TEST(ActiveSpeaker, ThroughTheBusEveryMemberHearsTheLoudPeer) {
  testing::CoreHarness h;
  const EndpointId a = h.join("r", "a"), b = h.join("r", "b"), c = h.join("r", "c");
  const EndpointId v = h.join("r", "viewer");  // publishes nothing, hears everything
  const std::map<EndpointId, RemoteTrackId> track{{a, 1}, {b, 1}, {c, 1}};
  for (const auto& [ep, id] : track)
    h.publish(ep, id, "audio", media::MediaKind::kAudio);
  h.clear();
  uint16_t seq = 0;
  std::vector<media::Micros> when;  // when the viewer was told, while `watch`
  bool watch = false;
  // `ms` of audio: every 20 ms each publisher sends a packet at its level; the runtime ticks every 10 ms.
  auto talk = [&](int ms, std::map<EndpointId, int8_t> levels) {
    for (int t = 0; t < ms; t += 20) {
      ++seq;
      for (const auto& [ep, level] : levels)
        h.media(ep, track.at(ep), seq, seq * 960u, true, media::Codec::kOpus, level);
      for (int i = 0; i < 2; ++i) {
        h.advance(10'000);
        if (watch && !h.take<eev::ActiveSpeakers>(v).empty()) when.push_back(h.now);
      }
    }
  };
  talk(1000, {{a, 127}, {b, 127}, {c, 127}});
  for (EndpointId ep : {a, b, c, v})
    EXPECT_TRUE(h.take<eev::ActiveSpeakers>(ep).empty()) << "silence names nobody";

  talk(1000, {{a, 127}, {b, 6}, {c, 127}});
  for (EndpointId ep : {a, b, c, v}) {
    auto got = h.take<eev::ActiveSpeakers>(ep);
    ASSERT_EQ(got.size(), 1u) << "endpoint " << ep;
    ASSERT_EQ(got[0].speakers.size(), 1u);
    EXPECT_EQ(got[0].speakers[0].peer, "b");
    EXPECT_EQ(got[0].speakers[0].level_dbov, 6);
  }

  // A new member hears the current list right after its join.
  const EndpointId late = h.join("r", "late");
  auto first = h.take<eev::ActiveSpeakers>(late);
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0].speakers[0].peer, "b");

  // b stops and a talks: the list changes a few times (b fades out, a in), never more than 4 a second.
  watch = true;
  talk(3000, {{a, 8}, {b, 127}, {c, 127}});
  watch = false;
  ASSERT_FALSE(when.empty());
  for (size_t i = 1; i < when.size(); ++i)
    EXPECT_GE(when[i] - when[i - 1], 250'000);
  // The last list the viewer got names a first (b fell out: silent for over a second).
  const Endpoint* viewer = h.hub.endpoint(v);
  ASSERT_NE(viewer, nullptr);
  h.clear();
  talk(500, {{a, 30}, {b, 127}, {c, 127}});  // a quieter: a level change worth telling
  auto last = h.take<eev::ActiveSpeakers>(v);
  ASSERT_EQ(last.size(), 1u);
  ASSERT_EQ(last[0].speakers.size(), 1u);
  EXPECT_EQ(last[0].speakers[0].peer, "a");
  // Told once the level moved by kLevelStep (10 dB) from the last one told: on the way from 8 to 30.
  EXPECT_GE(last[0].speakers[0].level_dbov, 18);
  EXPECT_LE(last[0].speakers[0].level_dbov, 30);

  // Steady: nothing new. A publisher that is not the speaker unpublishing changes nothing either.
  talk(2000, {{a, 30}, {b, 127}, {c, 127}});
  EXPECT_TRUE(h.take<eev::ActiveSpeakers>(v).empty()) << "only on change";
  h.send(c, tev::Unpublish{1});
  talk(1000, {{a, 30}, {b, 127}});
  EXPECT_TRUE(h.take<eev::ActiveSpeakers>(v).empty());
  // The speaker unpublishing empties the list.
  h.send(a, tev::Unpublish{1});
  talk(500, {{b, 127}});
  auto gone = h.take<eev::ActiveSpeakers>(v);
  ASSERT_EQ(gone.size(), 1u);
  EXPECT_TRUE(gone[0].speakers.empty());
}

}  // namespace
}  // namespace atrium::core

namespace atrium::core {
namespace {

// A member in manual peer mode hears of speakers it subscribed to (and itself), as with every other event.
TEST(ActiveSpeaker, ListsFollowSubscribeModes) {
  testing::CoreHarness h;
  const EndpointId a = h.join("r", "a");
  const EndpointId m = h.join("r", "m", SubscribeMode::kManual, SubscribeMode::kManual);
  h.publish(a, 1, "audio", media::MediaKind::kAudio);
  h.publish(m, 1, "audio", media::MediaKind::kAudio);
  h.clear();
  uint16_t seq = 0;
  auto talk = [&](int ms, int8_t level_a, int8_t level_m) {
    for (int t = 0; t < ms; t += 20) {
      ++seq;
      h.media(a, 1, seq, seq * 960u, true, media::Codec::kOpus, level_a);
      h.media(m, 1, seq, seq * 960u, true, media::Codec::kOpus, level_m);
      h.advance(10'000);
      h.advance(10'000);
    }
  };
  talk(1500, 10, 127);
  EXPECT_TRUE(h.take<eev::ActiveSpeakers>(m).empty()) << "m did not subscribe to a";
  auto got = h.take<eev::ActiveSpeakers>(a);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].speakers[0].peer, "a") << "a hears that it is the speaker";

  // Subscribing shows the current list at once; unsubscribing takes the peer out of it.
  h.send(m, tev::SubscribePeer{"a"});
  got = h.take<eev::ActiveSpeakers>(m);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].speakers[0].peer, "a");
  h.send(m, tev::UnsubscribePeer{"a"});
  got = h.take<eev::ActiveSpeakers>(m);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_TRUE(got[0].speakers.empty());
}

}  // namespace
}  // namespace atrium::core
