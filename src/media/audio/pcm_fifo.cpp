// The ring behind PcmFifo, in units of one sample per channel so a frame is never split.
#include "media/audio/pcm_fifo.h"

#include <algorithm>

namespace atrium::media::audio {

void PcmFifo::configure(int channels, size_t capacity_samples, size_t frame_samples) {
  channels_ = static_cast<size_t>(std::max(1, channels));
  frame_samples_ = std::max<size_t>(1, frame_samples);
  capacity_ = std::max(capacity_samples, frame_samples_);
  ring_.assign(capacity_ * channels_, 0.0f);
  head_ = size_ = 0;
  dropped_ = 0;
}

void PcmFifo::push(std::span<const float> interleaved) {
  if (capacity_ == 0) return;
  size_t n = interleaved.size() / channels_;
  const float* src = interleaved.data();
  if (n > capacity_) {  // only the newest capacity_ samples can stay
    dropped_ += n - capacity_;
    src += (n - capacity_) * channels_;
    n = capacity_;
  }
  if (size_ + n > capacity_) {
    const size_t drop = size_ + n - capacity_;
    head_ = (head_ + drop) % capacity_;
    size_ -= drop;
    dropped_ += drop;
  }
  size_t tail = (head_ + size_) % capacity_;
  size_t left = n;
  while (left > 0) {
    const size_t chunk = std::min(left, capacity_ - tail);
    std::copy_n(src, chunk * channels_, ring_.data() + tail * channels_);
    src += chunk * channels_;
    left -= chunk;
    tail = (tail + chunk) % capacity_;
  }
  size_ += n;
}

bool PcmFifo::pop_frame(std::span<float> out) {
  if (size_ < frame_samples_ || out.size() < frame_samples_ * channels_) return false;
  float* dst = out.data();
  size_t left = frame_samples_;
  while (left > 0) {
    const size_t chunk = std::min(left, capacity_ - head_);
    std::copy_n(ring_.data() + head_ * channels_, chunk * channels_, dst);
    dst += chunk * channels_;
    left -= chunk;
    head_ = (head_ + chunk) % capacity_;
  }
  size_ -= frame_samples_;
  return true;
}

}  // namespace atrium::media::audio
