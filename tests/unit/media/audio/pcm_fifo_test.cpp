// PcmFifo: arbitrary pushes come out as whole 20 ms frames in order; overflow drops the oldest and counts.
#include "media/audio/pcm_fifo.h"

#include <gtest/gtest.h>

#include <vector>

namespace atrium::media::audio {
namespace {

std::vector<float> ramp(size_t from, size_t samples, int channels) {
  std::vector<float> v;
  for (size_t i = 0; i < samples; ++i)
    for (int c = 0; c < channels; ++c)
      v.push_back(static_cast<float>(from + i) + 0.5f * static_cast<float>(c));
  return v;
}

TEST(PcmFifo, CutsArbitraryPushesIntoFramesInOrder) {
  PcmFifo f;
  f.configure(2, 4800);
  std::vector<float> frame(960 * 2);
  size_t pushed = 0, popped = 0;
  for (int i = 0; i < 40; ++i) {
    const size_t n = 1114 + static_cast<size_t>(i % 2);  // 1024 samples at 44.1 kHz as 48 kHz
    f.push(ramp(pushed, n, 2));
    pushed += n;
    while (f.pop_frame(frame)) {
      for (size_t s = 0; s < 960; ++s) {
        ASSERT_EQ(frame[s * 2], static_cast<float>(popped + s));
        ASSERT_EQ(frame[s * 2 + 1], static_cast<float>(popped + s) + 0.5f);
      }
      popped += 960;
    }
    ASSERT_EQ(f.buffered(), pushed - popped);
  }
  EXPECT_EQ(f.dropped(), 0u);
}

TEST(PcmFifo, OverflowDropsTheOldest) {
  PcmFifo f;
  f.configure(1, 2000);
  f.push(ramp(0, 1500, 1));
  f.push(ramp(1500, 1500, 1));
  EXPECT_EQ(f.buffered(), 2000u);
  EXPECT_EQ(f.dropped(), 1000u);
  std::vector<float> frame(960);
  ASSERT_TRUE(f.pop_frame(frame));
  EXPECT_EQ(frame[0], 1000.0f);
  f.push(ramp(0, 5000, 1));  // more than the capacity at once: only the newest 2000 stay
  EXPECT_EQ(f.buffered(), 2000u);
  ASSERT_TRUE(f.pop_frame(frame));
  EXPECT_EQ(frame[0], 3000.0f);
}

}  // namespace
}  // namespace atrium::media::audio
