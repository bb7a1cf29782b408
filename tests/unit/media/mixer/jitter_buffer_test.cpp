// JitterBuffer on its own: prefill depth, reordering, duplicates, late packets, PLC then stall, overflow,
// resync.
#include <gtest/gtest.h>

#include <vector>

#include "media/mixer/jitter_buffer.h"
#include "media/mixer/mixer_test_support.h"

namespace atrium::media::mixer {
namespace {

using Frame = JitterBuffer::Frame;

struct Fixture {
  Fixture() {
    EXPECT_TRUE(jb.configure({}));
    for (int i = 0; i < 200; ++i)
      packets.push_back(sine.next());
  }
  void push(uint16_t seq) { jb.push(seq, packets[seq % packets.size()]); }
  Frame pop() { return jb.pop(out); }
  test::OpusSine sine{440, 0.3};
  std::vector<std::vector<uint8_t>> packets;
  JitterBuffer jb;
  std::vector<float> out = std::vector<float>(960);
};

TEST(JitterBuffer, PrefillsToTheTargetDepthThenPlays) {
  Fixture f;
  EXPECT_EQ(f.pop(), Frame::kSilence);  // idle
  f.push(0);
  EXPECT_EQ(f.pop(), Frame::kSilence);
  f.push(1);
  EXPECT_EQ(f.pop(), Frame::kSilence);
  f.push(2);
  EXPECT_TRUE(f.jb.buffered() == 3);
  EXPECT_EQ(f.pop(), Frame::kDecoded);  // 3 buffered: playing, 2 left
  EXPECT_TRUE(f.jb.playing());
  for (uint16_t s = 3; s < 50; ++s) {
    f.push(s);
    EXPECT_EQ(f.pop(), Frame::kDecoded);
  }
  EXPECT_EQ(f.jb.buffered(), 2u);
  EXPECT_EQ(f.jb.counters().decoded, 48u);
}

TEST(JitterBuffer, RepairsReorderingDropsDuplicatesAndLatePackets) {
  Fixture f;
  for (uint16_t s = 0; s < 3; ++s)
    f.push(s);
  f.pop();  // plays 0
  // 4 before 3, 3 twice.
  f.push(4);
  f.push(3);
  f.push(3);
  EXPECT_EQ(f.jb.counters().duplicates, 1u);
  for (int i = 0; i < 4; ++i)
    EXPECT_EQ(f.pop(), Frame::kDecoded);  // 1, 2, 3, 4
  f.push(2);                              // already played
  EXPECT_EQ(f.jb.counters().late, 1u);
  EXPECT_EQ(f.jb.counters().concealed, 0u);
  f.push(f.jb.counters().packets_in > 0 ? 0 : 1);  // far behind but within kResyncDistance: late
  EXPECT_EQ(f.jb.counters().late, 2u);
  f.jb.push(5, {});
  EXPECT_EQ(f.jb.counters().invalid, 1u);
}

TEST(JitterBuffer, ConcealsALossThenStallsAndRestarts) {
  Fixture f;
  for (uint16_t s = 0; s < 3; ++s)
    f.push(s);
  EXPECT_EQ(f.pop(), Frame::kDecoded);    // 0
  f.push(4);                              // 3 is lost
  EXPECT_EQ(f.pop(), Frame::kDecoded);    // 1
  EXPECT_EQ(f.pop(), Frame::kDecoded);    // 2
  EXPECT_EQ(f.pop(), Frame::kConcealed);  // 3: 4 is there, so 3 is lost
  EXPECT_EQ(f.pop(), Frame::kDecoded);    // 4
  // Nothing more arrives: held (it may be late), concealed max_conceal_frames times, then stalled.
  for (size_t i = 0; i < f.jb.config().max_conceal_frames; ++i)
    EXPECT_EQ(f.pop(), Frame::kConcealed);
  EXPECT_EQ(f.pop(), Frame::kSilence);
  EXPECT_FALSE(f.jb.playing());
  EXPECT_EQ(f.jb.counters().stalls, 1u);
  EXPECT_EQ(f.jb.counters().concealed, 1u + f.jb.config().max_conceal_frames);
  // A held packet that arrives late is still played.
  Fixture g;
  for (uint16_t s = 0; s < 3; ++s)
    g.push(s);
  for (int i = 0; i < 3; ++i)
    EXPECT_EQ(g.pop(), Frame::kDecoded);
  EXPECT_EQ(g.pop(), Frame::kConcealed);  // 3 not here yet, nothing after it
  g.push(3);
  EXPECT_EQ(g.pop(), Frame::kDecoded);
  EXPECT_EQ(g.jb.counters().late, 0u);
}

TEST(JitterBuffer, OverflowSkipsBackToTheTargetAndJumpsResync) {
  Fixture f;
  for (uint16_t s = 0; s < 3; ++s)
    f.push(s);
  f.pop();
  for (uint16_t s = 3; s < 10; ++s)
    f.push(s);  // 9 buffered (1..9): over max_depth 5
  EXPECT_EQ(f.pop(), Frame::kDecoded);
  EXPECT_EQ(f.jb.counters().overflow_skipped, 6u);  // 1..6 skipped, 7 played, 8 and 9 left
  EXPECT_EQ(f.jb.buffered(), 2u);
  f.push(9 + JitterBuffer::kCapacity + 3);  // a jump far ahead: the sender restarted
  EXPECT_EQ(f.jb.counters().resyncs, 1u);
  EXPECT_FALSE(f.jb.playing());
  EXPECT_EQ(f.jb.buffered(), 1u);
  // Wrap-around of the 16-bit sequence number is continuous.
  Fixture w;
  for (uint16_t s = 65533; s != 3; ++s) {
    w.push(s);
    w.pop();
  }
  EXPECT_EQ(w.jb.counters().resyncs + w.jb.counters().late + w.jb.counters().concealed, 0u);
  EXPECT_EQ(w.jb.counters().decoded, 4u);  // 3 in prefill, then 65533..65536 (0)
}

TEST(JitterBuffer, RefusesBadDepths) {
  JitterBuffer jb;
  auto st = jb.configure({.target_depth = 6, .max_depth = 5, .max_conceal_frames = 5});
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error(), "Mixer: jitter buffer max depth 5 is outside the target depth to 15 frames");
  EXPECT_FALSE(jb.configure({.target_depth = 0, .max_depth = 5, .max_conceal_frames = 5}));
  EXPECT_FALSE(jb.configure({.target_depth = 3, .max_depth = 5, .max_conceal_frames = 0}));
}

}  // namespace
}  // namespace atrium::media::mixer
