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
  held_ = gain_ = 1.0f;
}

ATRIUM_DSP_LOOP void Limiter::process(std::span<float> pcm) {
  constexpr size_t L = kLookahead;
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
    held_ = std::min(m, 1.0f - (1.0f - held_) * release_);
    // Box average over the last L held values.
    const size_t slot = n_ % L;
    box_sum_ += static_cast<double>(held_) - box_[slot];
    box_[slot] = held_;
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
