// The look-ahead limiter (header): running minimum, release, box average, delay line.
#include "media/mixer/limiter.h"

#include "media/mixer/dsp_loop.h"

#include <algorithm>
#include <cmath>

namespace atrium::media::mixer {

Limiter::Limiter(float ceiling, float release_ms)
    : ceiling_(std::clamp(ceiling, 0.01f, 1.0f)),
      release_(std::exp(-1.0f / (std::max(release_ms, 1.0f) * 0.001f * kSampleRate))) {
  reset();
}

void Limiter::reset() {
  n_ = 0;
  delay_.fill(0.0f);
  box_.fill(1.0f);
  box_sum_ = kLookahead;
  min_head_ = min_size_ = 0;
  reduction_ = 0;
  gain_ = 1.0f;
}

ATRIUM_DSP_LOOP void Limiter::process(std::span<float> pcm) {
  constexpr size_t L = kLookahead;
  // Fast path, the usual case: nothing over the ceiling now or within the window, gain 1: only the delay.
  if (reduction_ == 0.0f && box_sum_ == static_cast<double>(L) &&
      std::all_of(pcm.begin(), pcm.end(), [this](float x) { return std::fabs(x) <= ceiling_; })) {
    for (float& x : pcm) {
      const size_t slot = n_ % L;
      delay_[slot] = x;
      x = delay_[(slot + 1) % L];
      ++n_;
    }
    // Every r in the window is 1 (no reduction means the minimum was 1): the queue is just the newest.
    min_head_ = 0;
    min_size_ = 1;
    min_at_[0] = n_ - 1;
    min_r_[0] = 1.0f;
    gain_ = 1.0f;
    return;
  }
  for (float& x : pcm) {
    const float in = std::isfinite(x) ? x : 0.0f;
    const float a = std::fabs(in);
    const float r = a > ceiling_ ? ceiling_ / a : 1.0f;
    // Running minimum over samples n-L+1..n.
    while (min_size_ > 0 && min_r_[(min_head_ + min_size_ - 1) % L] >= r)
      --min_size_;
    min_at_[(min_head_ + min_size_) % L] = n_;
    min_r_[(min_head_ + min_size_) % L] = r;
    ++min_size_;
    if (min_at_[min_head_] + L <= n_) {
      min_head_ = (min_head_ + 1) % L;
      --min_size_;
    }
    const float m = min_r_[min_head_];
    // The reduction (1 - gain) is what decays: kept near 0 it has float precision to spare, where a gain
    // near 1 would stop moving once a release step is under half a float step.
    reduction_ = std::max(1.0f - m, reduction_ * release_);
    if (reduction_ < kUnityEpsilon)
      reduction_ = 0;  // released all the way (-0.001 dB): back to the fast path
    const float held = 1.0f - reduction_;
    // Box average over the last L held values.
    const size_t slot = n_ % L;
    box_sum_ += static_cast<double>(held) - box_[slot];
    box_[slot] = held;
    gain_ = static_cast<float>(std::min(box_sum_ / L, 1.0));
    // The delayed sample (n - L + 1) is the one every minimum in the box included.
    delay_[slot] = in;
    const float out = delay_[(slot + 1) % L] * gain_;
    x = std::clamp(out, -ceiling_, ceiling_);  // only ever moves rounding error
    ++n_;
  }
  // Re-add the box from scratch once a frame so rounding cannot drift.
  double sum = 0;
  for (float g : box_)
    sum += g;
  box_sum_ = sum;
}

}  // namespace atrium::media::mixer
