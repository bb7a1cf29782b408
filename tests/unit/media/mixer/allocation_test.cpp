// "No allocation per frame once warm": operator new is counted while a warm mixer pushes, ticks and polls.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>
#include <vector>

#include "media/mixer/mixer_test_support.h"

namespace {
std::atomic<bool> g_counting{false};
std::atomic<size_t> g_allocations{0};
}  // namespace

void* operator new(size_t n) {
  if (g_counting.load(std::memory_order_relaxed)) g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept {
  std::free(p);
}
void operator delete(void* p, size_t) noexcept {
  std::free(p);
}

namespace atrium::media::mixer {
namespace {

TEST(AudioMixer, WarmMixerDoesNotAllocate) {
  AudioMixer mixer;
  std::vector<std::vector<std::vector<uint8_t>>> packets;
  for (MixInputId i = 0; i < 5; ++i) {
    ASSERT_TRUE(mixer.add_input(i));
    test::OpusSine sine(300 + 100 * i, 0.1 + 0.05 * i);
    packets.emplace_back();
    for (int p = 0; p < 100; ++p)
      packets.back().push_back(sine.next());
  }
  ASSERT_TRUE(mixer.add_listener(1, MixCodec::kOpus));
  ASSERT_TRUE(mixer.add_listener(2, MixCodec::kOpus, 0));
  ASSERT_TRUE(mixer.add_listener(3, MixCodec::kPcmu, 1));
  ASSERT_TRUE(mixer.add_listener(4, MixCodec::kPcma));
  media::Micros now = 0;
  size_t frames = 0;
  for (uint16_t seq = 0; seq < 100; ++seq) {
    if (seq == 20) g_counting = true;
    for (MixInputId i = 0; i < 5; ++i) {
      if (seq % 17 == 3 && i == 2) continue;  // a loss now and then: PLC
      mixer.push(i, seq, seq * 960u, packets[i][seq], now);
    }
    if (seq == 60) mixer.push(0, 50, 50 * 960u, packets[0][50], now);  // late
    mixer.tick(now);
    while (mixer.poll())
      ++frames;
    now += AudioMixer::kFrameDuration;
  }
  g_counting = false;
  EXPECT_EQ(g_allocations.load(), 0u);
  EXPECT_EQ(frames, 400u);
  EXPECT_GT(mixer.counters().jitter.concealed, 0u);
  EXPECT_GT(mixer.counters().jitter.late, 0u);
}

}  // namespace
}  // namespace atrium::media::mixer
