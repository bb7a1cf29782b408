// The room's mix through the real core (Endpoint -> LocalBus/ChannelRouter -> RoomMix -> Endpoint) with a
// fake clock: publishers send real Opus made here, a listener decodes what its local track receives.
#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <cstdio>
#include <numbers>
#include <vector>

#include "core/cluster/channel_router.h"
#include "core_harness.h"
#include "media/audio/audio_test_support.h"
#include "media/audio/opus_decoder.h"
#include "media/audio/opus_encoder.h"

namespace atrium::core {
namespace {

using testing::CoreHarness;

constexpr double kRate = 48000;
constexpr size_t kFrame = 960;

// Power at `freq` (Goertzel, Hann window): the audio module's test helper.
double goertzel(const std::vector<float>& x, double freq) {
  return media::audio::test::goertzel_power(x, kRate, freq);
}

double db(double p) {
  return 10 * std::log10(p + 1e-30);
}

double rms(const std::vector<float>& x) {
  double sum = 0;
  for (float v : x)
    sum += double{v} * v;
  return x.empty() ? 0 : std::sqrt(sum / static_cast<double>(x.size()));
}

// One publisher's client: a tone (0 Hz: silence) encoded 20 ms at a time.
struct Source {
  EndpointId ep = 0;
  double freq = 0;
  double amplitude = 0.3;
  media::audio::OpusEncoder enc;
  std::array<uint8_t, media::audio::OpusEncoder::kMaxPacketBytes> buf{};
  uint16_t seq = 100;
  uint32_t ts = 5000;
  size_t n = 0;  // samples made so far

  Source(EndpointId e, double f) : ep(e), freq(f) { EXPECT_TRUE(enc.configure(1).ok()); }

  void send(CoreHarness& h) {
    std::array<float, kFrame> pcm{};
    for (size_t i = 0; i < kFrame; ++i)
      pcm[i] = freq > 0 ? static_cast<float>(amplitude * std::sin(2 * std::numbers::pi * freq *
                                                                  static_cast<double>(n + i) / kRate))
                        : 0.0f;
    n += kFrame;
    auto size = enc.encode(pcm, buf);
    ASSERT_TRUE(size.ok()) << size.error();
    media::MediaPacket p;
    p.codec = media::Codec::kOpus;
    p.seq = seq++;
    p.timestamp = ts;
    ts += kFrame;
    p.keyframe = true;
    p.arrival = h.now;
    p.payload = std::span<const uint8_t>(buf.data(), *size);
    h.send(ep, tev::RemoteMedia{1, p});
  }
};

// What one listener's transport received on its mix track: decoded at once (a payload is valid until the
// next tick), with the timeline checked.
struct Listener {
  EndpointId ep = 0;
  LocalTrackId id = 0;
  media::audio::OpusDecoder dec;
  std::vector<float> pcm;
  size_t packets = 0;
  int seq_gaps = 0;
  int ts_gaps = 0;
  std::optional<uint16_t> last_seq;
  uint32_t last_ts = 0;

  Listener(EndpointId e, LocalTrackId i) : ep(e), id(i) { EXPECT_TRUE(dec.configure(1).ok()); }

  void collect(CoreHarness& h) {
    for (auto& m : h.take<eev::LocalMedia>(ep)) {
      ASSERT_EQ(m.id, id);
      ASSERT_EQ(m.packet.codec, media::Codec::kOpus);
      if (last_seq) {
        seq_gaps += m.packet.seq != static_cast<uint16_t>(*last_seq + 1);
        ts_gaps += m.packet.timestamp != last_ts + kFrame;
      }
      last_seq = m.packet.seq;
      last_ts = m.packet.timestamp;
      ++packets;
      std::array<float, media::audio::OpusDecoder::kMaxFrameSamples> out{};
      auto n = dec.decode(m.packet.payload, out);
      ASSERT_TRUE(n.ok()) << n.error();
      pcm.insert(pcm.end(), out.begin(), out.begin() + static_cast<std::ptrdiff_t>(*n));
    }
  }

  // The last `seconds` of what was heard.
  std::vector<float> tail(double seconds) const {
    const size_t n = std::min(pcm.size(), static_cast<size_t>(seconds * kRate));
    return std::vector<float>(pcm.end() - static_cast<std::ptrdiff_t>(n), pcm.end());
  }
};

// 20 ms: every source sends a packet, the hub ticks twice (10 ms, as the runtime's), listeners collect.
void run(CoreHarness& h, std::vector<Source*> sources, std::vector<Listener*> listeners, int frames) {
  for (int f = 0; f < frames; ++f) {
    for (auto* s : sources)
      s->send(h);
    for (int t = 0; t < 2; ++t) {
      h.advance(10'000);
      for (auto* l : listeners)
        l->collect(h);
    }
  }
}

struct Room {
  CoreHarness h;
  EndpointId a, b, c, d;
  Room() {
    a = h.join("r", "a");
    b = h.join("r", "b");
    c = h.join("r", "c");
    d = h.join("r", "d");
  }
  const RoomMix* mix() const { return h.bus.router().mix("r"); }
};

TEST(RoomMix, ListenerHearsEveryTone) {
  Room r;
  r.h.publish(r.a, 1, "audio", media::MediaKind::kAudio);
  r.h.publish(r.b, 1, "audio", media::MediaKind::kAudio);
  Source s440(r.a, 440), s1000(r.b, 1000), silent(r.c, 0);
  Listener l(r.d, 7);
  r.h.send(r.d, tev::AttachMix{7});
  EXPECT_TRUE(r.h.errors(r.d).empty());
  ASSERT_NE(r.mix(), nullptr);
  EXPECT_EQ(r.mix()->input_count(), 2u);
  r.h.publish(r.c, 1, "audio", media::MediaKind::kAudio);  // a track published after the mix started
  EXPECT_EQ(r.mix()->input_count(), 3u);
  run(r.h, {&s440, &s1000, &silent}, {&l}, 100);  // 2 s

  EXPECT_GE(l.packets, 95u);
  EXPECT_EQ(l.seq_gaps, 0);
  EXPECT_EQ(l.ts_gaps, 0);
  auto states = r.h.take<eev::LocalTrackStateChanged>(r.d);
  ASSERT_FALSE(states.empty());
  EXPECT_EQ(states.back().state, LocalTrackState::kLive);
  const auto x = l.tail(1.0);
  const double p440 = db(goertzel(x, 440)), p1000 = db(goertzel(x, 1000)), floor = db(goertzel(x, 700));
  std::printf("listener d: 440 Hz %.1f dB, 1000 Hz %.1f dB over the 700 Hz floor; RMS %.3f\n", p440 - floor,
              p1000 - floor, rms(x));
  EXPECT_GT(p440 - floor, 30);
  EXPECT_GT(p1000 - floor, 30);
  EXPECT_LT(std::fabs(p440 - p1000), 3);
  EXPECT_NEAR(rms(x), 0.3, 0.05);  // two 0.3 tones: sqrt(2 x 0.3^2 / 2)
}

TEST(RoomMix, PublisherDoesNotHearItself) {
  Room r;
  r.h.publish(r.a, 1, "audio", media::MediaKind::kAudio);
  r.h.publish(r.b, 1, "audio", media::MediaKind::kAudio);
  Source s440(r.a, 440), s1000(r.b, 1000);
  Listener la(r.a, 3), ld(r.d, 7);
  r.h.send(r.a, tev::AttachMix{3});
  r.h.send(r.d, tev::AttachMix{7});
  run(r.h, {&s440, &s1000}, {&la, &ld}, 100);
  const auto x = la.tail(1.0);
  const double p440 = db(goertzel(x, 440)), p1000 = db(goertzel(x, 1000));
  std::printf("publisher a (440 Hz) hears 1000 Hz %.1f dB above its own 440 Hz\n", p1000 - p440);
  EXPECT_GT(p1000 - p440, 30);
  const auto y = ld.tail(1.0);
  EXPECT_LT(std::fabs(db(goertzel(y, 440)) - db(goertzel(y, 1000))), 3);  // d still hears both
  EXPECT_EQ(r.mix()->mixer().stream_count(), 2u);                         // a's own mix, and everyone's
}

TEST(RoomMix, ListenersAndPublishersLeavingCleanUp) {
  Room r;
  r.h.publish(r.a, 1, "audio", media::MediaKind::kAudio);
  r.h.publish(r.b, 1, "audio", media::MediaKind::kAudio);
  r.h.publish(r.c, 1, "video");  // not an input
  Source s440(r.a, 440), s1000(r.b, 1000);
  Listener lc(r.c, 4), ld(r.d, 7);
  r.h.send(r.c, tev::AttachMix{4});
  r.h.send(r.d, tev::AttachMix{7});
  ASSERT_NE(r.mix(), nullptr);
  EXPECT_EQ(r.mix()->input_count(), 2u);
  EXPECT_EQ(r.mix()->listener_count(), 2u);
  run(r.h, {&s440, &s1000}, {&lc, &ld}, 25);
  EXPECT_GT(ld.packets, 0u);

  // The 1000 Hz publisher leaves: its input goes, the others go on hearing 440 Hz.
  r.h.send(r.b, tev::Leave{});
  EXPECT_EQ(r.mix()->input_count(), 1u);
  run(r.h, {&s440}, {&lc, &ld}, 50);
  auto x = ld.tail(0.5);
  EXPECT_GT(db(goertzel(x, 440)) - db(goertzel(x, 1000)), 30);

  // A listener detaches: nothing more for it.
  r.h.send(r.d, tev::Detach{7});
  const size_t before = ld.packets;
  run(r.h, {&s440}, {&lc, &ld}, 10);
  EXPECT_EQ(ld.packets, before);
  EXPECT_EQ(r.mix()->listener_count(), 1u);

  // The last listener leaves the room: the mix is dropped.
  r.h.send(r.c, tev::Leave{});
  EXPECT_EQ(r.mix(), nullptr);
  run(r.h, {&s440}, {}, 5);
  EXPECT_TRUE(r.h.take<eev::LocalMedia>(r.c).empty());
  EXPECT_TRUE(r.h.take<eev::LocalMedia>(r.d).empty());

  // The same track id can carry the mix again, and switch from the mix to a track and back.
  r.h.send(r.d, tev::AttachMix{7});
  ASSERT_NE(r.mix(), nullptr);
  r.h.send(r.d, tev::Attach{7, "a", "audio"});
  EXPECT_EQ(r.mix(), nullptr);  // d was its only listener
  EXPECT_TRUE(r.h.errors(r.d).empty());
  r.h.send(r.d, tev::AttachMix{7});
  EXPECT_EQ(r.mix()->listener_count(), 1u);
  EXPECT_EQ(r.h.hub.stats().bus.subscriptions, 0u);
  r.h.send(r.a, tev::Unpublish{1});
  EXPECT_EQ(r.mix()->input_count(), 0u);
}

// What a NATS bus's relay would be told, for the router alone: the mix opens channels of tracks on other
// nodes and closes them when it goes.
struct FakeRelay final : ChannelRelay {
  std::vector<ChannelId> opened, closed;
  std::vector<uint32_t> wanted;
  void room_opened(const std::string&) override {}
  void room_closed(const std::string&) override {}
  void join_cancelled(EndpointId, const JoinParams&) override {}
  void peer_meta_changed(const RouterMember&) override {}
  void peer_left(const RouterMember&) override {}
  void track_published(const RouterChannel&) override {}
  void track_meta_changed(const RouterChannel&) override {}
  void track_unpublished(const RouterChannel&) override {}
  void media(const RouterChannel&, const media::MediaPacket&) override {}
  void remote_channel_opened(const RouterChannel& ch) override { opened.push_back(ch.id); }
  void remote_channel_closed(const RouterChannel& ch, bool) override { closed.push_back(ch.id); }
  void remote_key_frame_wanted(const RouterChannel&, uint8_t) override {}
  void remote_bitrate_wanted(const RouterChannel&, uint32_t bps) override { wanted.push_back(bps); }
  void message(const std::string&, const std::string&, const std::string&, const std::string&) override {}
};

TEST(RoomMix, TracksOnOtherNodesComeThroughTheRelay) {
  FakeRelay relay;
  ChannelRouter router(&relay);
  const EndpointId ep = 1;
  router.hold_join(ep, {"r", "here", "{}", SubscribeMode::kAuto, SubscribeMode::kAuto});
  ASSERT_TRUE(router.admit(ep));
  // A peer on another node, as the relay would put it in the directory.
  ASSERT_TRUE(router.room("r")->add_peer("far", "{}", router.out()));
  ASSERT_TRUE(router.room("r")->add_track("far", {"audio", media::MediaKind::kAudio, "{}"}, router.out()));
  const ChannelId cid = channel_id("r", "far", "audio");
  while (router.out().pop()) {
  }

  router.route(ep, ccl::LocalMixStarted{9});
  ASSERT_NE(router.mix("r"), nullptr);
  EXPECT_EQ(relay.opened, std::vector<ChannelId>{cid});
  ASSERT_FALSE(relay.wanted.empty());
  EXPECT_EQ(relay.wanted.back(), UINT32_MAX);  // the mix takes what comes
  EXPECT_EQ(router.stats().subscriptions, 0u);

  media::audio::OpusEncoder enc;
  ASSERT_TRUE(enc.configure(1).ok());
  media::audio::OpusDecoder dec;
  ASSERT_TRUE(dec.configure(1).ok());
  std::array<uint8_t, media::audio::OpusEncoder::kMaxPacketBytes> buf{};
  std::vector<float> heard;
  media::Micros now = 1'000'000;
  for (int f = 0; f < 75; ++f) {
    std::array<float, kFrame> pcm{};
    for (size_t i = 0; i < kFrame; ++i)
      pcm[i] = static_cast<float>(
          0.3 * std::sin(2 * std::numbers::pi * 440 * static_cast<double>(f * kFrame + i) / kRate));
    auto size = enc.encode(pcm, buf);
    ASSERT_TRUE(size.ok());
    media::MediaPacket p;
    p.codec = media::Codec::kOpus;
    p.seq = static_cast<uint16_t>(f);
    p.timestamp = static_cast<uint32_t>(f * kFrame);
    p.keyframe = true;
    p.arrival = now;
    p.payload = std::span<const uint8_t>(buf.data(), *size);
    EXPECT_TRUE(router.remote_media(cid, p));  // the mix watches it
    for (int t = 0; t < 2; ++t) {
      now += 10'000;
      router.on_tick(now);
      while (auto d = router.out().pop()) {
        auto* m = std::get_if<cev::LocalTrackMedia>(&d->event);
        if (!m) continue;
        ASSERT_EQ(d->to, ep);
        ASSERT_EQ(m->id, 9u);
        std::array<float, media::audio::OpusDecoder::kMaxFrameSamples> out{};
        auto n = dec.decode(m->packet.payload, out);
        ASSERT_TRUE(n.ok());
        heard.insert(heard.end(), out.begin(), out.begin() + static_cast<std::ptrdiff_t>(*n));
      }
    }
  }
  ASSERT_GE(heard.size(), 48000u);
  const std::vector<float> x(heard.end() - 24000, heard.end());
  EXPECT_GT(db(goertzel(x, 440)) - db(goertzel(x, 700)), 30);

  // The track ends on its node: the input goes; published again, the tick's check picks it up.
  router.remote_track_ended("r", "far", "audio");
  router.room("r")->remove_track("far", "audio", router.out());
  EXPECT_EQ(router.mix("r")->input_count(), 0u);
  ASSERT_TRUE(router.room("r")->add_track("far", {"audio", media::MediaKind::kAudio, "{}"}, router.out()));
  router.on_tick(now + 200'000);
  EXPECT_EQ(router.mix("r")->input_count(), 1u);
  EXPECT_EQ(relay.opened.size(), 2u);

  // The last listener goes: the channel opened for the mix closes.
  relay.closed.clear();
  router.route(ep, ccl::LocalTrackEnded{9});
  EXPECT_EQ(router.mix("r"), nullptr);
  EXPECT_EQ(relay.closed, std::vector<ChannelId>{cid});
  EXPECT_EQ(router.channels().count(cid), 0u);
}

TEST(RoomMix, RefusedOutsideARoom) {
  CoreHarness h;
  EndpointId e = h.add();
  h.send(e, tev::AttachMix{1});
  EXPECT_EQ(h.errors(e), std::vector<std::string>{"NOT_JOINED"});
}

}  // namespace
}  // namespace atrium::core
