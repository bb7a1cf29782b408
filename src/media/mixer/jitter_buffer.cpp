// The per-input jitter buffer: seq-ordered slots, prefill, PLC, stall, overflow and resync rules (header).
#include "media/mixer/jitter_buffer.h"

#include <algorithm>
#include <string>

namespace atrium::media::mixer {

JitterBufferCounters& JitterBufferCounters::operator+=(const JitterBufferCounters& o) {
  packets_in += o.packets_in;
  decoded += o.decoded;
  concealed += o.concealed;
  late += o.late;
  duplicates += o.duplicates;
  invalid += o.invalid;
  overflow_skipped += o.overflow_skipped;
  decode_errors += o.decode_errors;
  wrong_duration += o.wrong_duration;
  stalls += o.stalls;
  resyncs += o.resyncs;
  return *this;
}

audio::AudioStatus JitterBuffer::check(const JitterBufferConfig& config) {
  if (config.target_depth < 1 || config.target_depth > kMaxTargetDepth)
    return audio::AudioStatus::failure("Mixer: jitter buffer target depth " +
                                       std::to_string(config.target_depth) + " is outside 1 to " +
                                       std::to_string(kMaxTargetDepth) + " frames");
  if (config.max_depth < config.target_depth || config.max_depth >= kCapacity)
    return audio::AudioStatus::failure("Mixer: jitter buffer max depth " + std::to_string(config.max_depth) +
                                       " is outside the target depth to " + std::to_string(kCapacity - 1) +
                                       " frames");
  if (config.max_conceal_frames < 1 || config.max_conceal_frames > kMaxConcealFrames)
    return audio::AudioStatus::failure("Mixer: jitter buffer concealment of " +
                                       std::to_string(config.max_conceal_frames) +
                                       " frames is outside 1 to " + std::to_string(kMaxConcealFrames));
  return audio::AudioStatus::success();
}

audio::AudioStatus JitterBuffer::configure(const JitterBufferConfig& config) {
  if (auto s = check(config); !s) return s;
  if (auto s = decoder_.configure(1); !s) return s;
  config_ = config;
  slots_.assign(kCapacity, Slot{});
  scratch_.assign(audio::OpusDecoder::kMaxFrameSamples, 0.0f);
  phase_ = Phase::kIdle;
  buffered_ = 0;
  return audio::AudioStatus::success();
}

void JitterBuffer::clear_slots() {
  for (auto& s : slots_)
    s.full = false;
  buffered_ = 0;
}

void JitterBuffer::restart(int64_t seq) {
  clear_slots();
  phase_ = Phase::kPrefill;
  next_ = seq;
  highest_ = seq;
  prefill_ticks_ = 0;
  missing_run_ = 0;
}

void JitterBuffer::store(int64_t seq, std::span<const uint8_t> payload) {
  Slot& s = slot(seq);
  s.full = true;
  s.seq = seq;
  s.size = static_cast<uint16_t>(payload.size());
  std::copy(payload.begin(), payload.end(), s.bytes.begin());
  ++buffered_;
  highest_ = std::max(highest_, seq);
}

void JitterBuffer::push(uint16_t seq, std::span<const uint8_t> payload) {
  ++counters_.packets_in;
  if (slots_.empty() || payload.empty() || payload.size() > kMaxPayloadBytes) {
    ++counters_.invalid;
    return;
  }
  if (phase_ == Phase::kIdle) {
    restart(int64_t{seq} + (int64_t{1} << 32));  // far from 0, so the extended numbers never go negative
    store(next_, payload);
    return;
  }
  // The extended number closest to the playout point.
  const int64_t ext = next_ + static_cast<int16_t>(static_cast<uint16_t>(seq - static_cast<uint16_t>(next_)));
  if (ext < next_) {
    if (next_ - ext <= kResyncDistance) {
      ++counters_.late;
      return;
    }
    ++counters_.resyncs;
    restart(ext);
  } else if (ext - next_ >= static_cast<int64_t>(kCapacity)) {
    ++counters_.resyncs;
    restart(ext);
  }
  const Slot& s = slot(ext);
  if (s.full && s.seq == ext) {
    ++counters_.duplicates;
    return;
  }
  store(ext, payload);
}

JitterBuffer::Frame JitterBuffer::conceal(std::span<float> out) {
  auto n = decoder_.conceal(scratch_, kFrameSamples);
  if (n) {
    std::copy_n(scratch_.begin(), kFrameSamples, out.begin());
  } else {
    std::fill_n(out.begin(), kFrameSamples, 0.0f);
  }
  ++counters_.concealed;
  return Frame::kConcealed;
}

JitterBuffer::Frame JitterBuffer::play(std::span<float> out) {
  // Too much buffered: skip the oldest frames back to the target depth.
  if (highest_ - next_ + 1 > static_cast<int64_t>(config_.max_depth)) {
    while (highest_ - next_ + 1 > static_cast<int64_t>(config_.target_depth)) {
      Slot& s = slot(next_);
      if (s.full && s.seq == next_) {
        s.full = false;
        --buffered_;
      }
      ++next_;
      ++counters_.overflow_skipped;
    }
  }
  Slot& s = slot(next_);
  if (s.full && s.seq == next_) {
    s.full = false;
    --buffered_;
    ++next_;
    missing_run_ = 0;
    auto n = decoder_.decode(std::span<const uint8_t>(s.bytes.data(), s.size), scratch_);
    if (!n) {
      ++counters_.decode_errors;
      return conceal(out);
    }
    if (*n != kFrameSamples) ++counters_.wrong_duration;
    const size_t take = std::min(*n, kFrameSamples);
    std::copy_n(scratch_.begin(), take, out.begin());
    std::fill(out.begin() + static_cast<ptrdiff_t>(take), out.begin() + kFrameSamples, 0.0f);
    ++counters_.decoded;
    return Frame::kDecoded;
  }
  // Missing.
  if (++missing_run_ > config_.max_conceal_frames) {
    ++counters_.stalls;
    phase_ = Phase::kIdle;
    clear_slots();
    std::fill_n(out.begin(), kFrameSamples, 0.0f);
    return Frame::kSilence;
  }
  if (highest_ > next_) ++next_;  // later packets are here: this one is lost. Else hold: it may be late.
  return conceal(out);
}

JitterBuffer::Frame JitterBuffer::pop(std::span<float> out) {
  if (phase_ == Phase::kPrefill) {
    ++prefill_ticks_;
    if (highest_ - next_ + 1 >= static_cast<int64_t>(config_.target_depth) ||
        prefill_ticks_ >= config_.target_depth)
      phase_ = Phase::kPlaying;
  }
  if (phase_ != Phase::kPlaying) {
    std::fill_n(out.begin(), kFrameSamples, 0.0f);
    return Frame::kSilence;
  }
  return play(out);
}

}  // namespace atrium::media::mixer
