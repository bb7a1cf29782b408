// The peak-envelope limiter (header).
#include "media/mixer/limiter.h"

#include <algorithm>
#include <cmath>

namespace atrium::media::mixer {

Limiter::Limiter(float ceiling, float release_ms)
    : ceiling_(std::clamp(ceiling, 0.01f, 1.0f)),
      release_(std::exp(-1.0f / (std::max(release_ms, 1.0f) * 0.001f * kSampleRate))),
      hold_samples_(static_cast<size_t>(kHoldMs * 0.001f * kSampleRate)) {}

void Limiter::reset() {
  envelope_ = 0;
  hold_left_ = 0;
}

float Limiter::gain() const {
  return envelope_ > ceiling_ ? ceiling_ / envelope_ : 1.0f;
}

void Limiter::process(std::span<float> pcm) {
  for (float& x : pcm) {
    if (!std::isfinite(x)) x = 0;
    const float a = std::fabs(x);
    if (a >= envelope_) {
      envelope_ = a;
      hold_left_ = hold_samples_;
    } else if (hold_left_ > 0) {
      --hold_left_;
    } else {
      envelope_ *= release_;
    }
    if (envelope_ > ceiling_) x *= ceiling_ / envelope_;
  }
}

}  // namespace atrium::media::mixer
