// The AAC -> Opus pipeline's glue: timeline, resync and the bounded output queue.
#include "media/audio/aac_to_opus.h"

#include <cstdlib>
#include <string>

#include "media/audio/audio_level.h"

namespace atrium::media::audio {

namespace {
constexpr int64_t kTicksPerMs = OpusEncoder::kSampleRate / 1000;
}

AacToOpus::AacToOpus(Options options) : options_(options) {}

AudioStatus AacToOpus::configure(std::span<const uint8_t> asc) {
  configured_ = false;
  started_ = false;
  queue_head_ = queue_size_ = 0;
  auto config = parse_audio_specific_config(asc);
  if (!config) return AudioStatus::failure(config.error());
  if (auto s = decoder_.configure(asc); !s) return s;
  config_ = *config;
  out_channels_ = config_.output_channels() >= 2 ? 2 : 1;
  if (auto s = encoder_.configure(out_channels_, options_.bitrate_bps); !s) return s;
  // The resampler is set up from the first decoded frame: SBR and PS may only show there (implicit
  // signalling), and the decoder's rate and channels are the truth.
  resampler_.reset();
  fifo_.configure(out_channels_, kFifoCapacitySamples, OpusEncoder::kFrameSamples);
  frame_.assign(OpusEncoder::kFrameSamples * static_cast<size_t>(out_channels_), 0.0f);
  if (queue_.size() != kMaxQueuedPackets) queue_.resize(kMaxQueuedPackets);
  configured_ = true;
  return AudioStatus::success();
}

AudioStatus AacToOpus::push(std::span<const uint8_t> aac_frame, int64_t timestamp_ms) {
  if (!configured_)
    return AudioStatus::failure("AAC: a frame arrived before a valid sequence header (AudioSpecificConfig)");
  ++counters_.frames_in;
  if (timestamp_ms > kMaxTimestampMs || timestamp_ms < -kMaxTimestampMs) {
    ++counters_.decode_errors;
    return AudioStatus::failure("AAC: frame timestamp " + std::to_string(timestamp_ms) +
                                " ms is out of range");
  }
  if (auto s = decoder_.decode(aac_frame); !s) {
    ++counters_.decode_errors;
    return s;
  }
  if (decoder_.frames() == 0) return AudioStatus::success();

  if (!resampler_.configured() || resampler_.in_rate() != decoder_.sample_rate() ||
      resampler_.in_channels() != decoder_.channels()) {
    if (resampler_.configured()) ++counters_.format_changes;
    if (auto s = resampler_.configure(decoder_.sample_rate(), decoder_.channels(), out_channels_); !s)
      return s;
  }
  auto pcm = resampler_.convert(decoder_.pcm());
  if (!pcm) return AudioStatus::failure(pcm.error());

  // Where this frame's first sample lands on the output timeline vs. where its timestamp says it belongs.
  const int64_t stamped = timestamp_ms * kTicksPerMs;
  const auto buffered = static_cast<int64_t>(fifo_.buffered());
  if (!started_) {
    next_rtp_ = stamped - buffered;
    started_ = true;
  } else if (std::llabs(stamped - (next_rtp_ + buffered)) > kResyncThresholdMs * kTicksPerMs) {
    next_rtp_ = stamped - buffered;
    ++counters_.timestamp_resyncs;
  }

  const uint64_t dropped_before = fifo_.dropped();
  fifo_.push(*pcm);
  const uint64_t dropped = fifo_.dropped() - dropped_before;
  if (dropped > 0) {  // the dropped samples' time passed without packets
    counters_.samples_dropped += dropped;
    next_rtp_ += static_cast<int64_t>(dropped);
  }
  encode_ready_frames();
  return AudioStatus::success();
}

void AacToOpus::encode_ready_frames() {
  while (fifo_.pop_frame(frame_)) {
    const int64_t ts = next_rtp_;
    next_rtp_ += static_cast<int64_t>(OpusEncoder::kFrameSamples);
    if (queue_size_ == kMaxQueuedPackets) {  // nobody popped for a second: the oldest goes
      queue_head_ = (queue_head_ + 1) % kMaxQueuedPackets;
      --queue_size_;
      ++counters_.packets_dropped;
    }
    Slot& slot = queue_[(queue_head_ + queue_size_) % kMaxQueuedPackets];
    auto n = encoder_.encode(frame_, slot.bytes);
    if (!n) {
      ++counters_.encode_errors;
      continue;
    }
    slot.size = *n;
    slot.rtp_timestamp = static_cast<uint32_t>(ts);
    slot.level_dbov = audio_level_dbov(frame_);
    ++queue_size_;
    ++counters_.packets_out;
  }
}

std::optional<OpusPacket> AacToOpus::pop() {
  if (queue_size_ == 0) return std::nullopt;
  const Slot& slot = queue_[queue_head_];
  queue_head_ = (queue_head_ + 1) % kMaxQueuedPackets;
  --queue_size_;
  return OpusPacket{std::span<const uint8_t>(slot.bytes).first(slot.size), slot.rtp_timestamp,
                    slot.level_dbov};
}

}  // namespace atrium::media::audio
