// The mixer's tick: jitter buffers -> levels -> K loudest -> fades -> mix-minus per stream -> limiter ->
// codec.
#include "media/mixer/audio_mixer.h"

#include <algorithm>
#include <cmath>
#include <string>

namespace atrium::media::mixer {

namespace {
constexpr float kSilentDb = -127.0f;
}

std::string_view to_string(MixCodec c) {
  switch (c) {
    case MixCodec::kOpus:
      return "opus";
    case MixCodec::kPcmu:
      return "PCMU";
    case MixCodec::kPcma:
      return "PCMA";
  }
  return "unknown";
}

struct AudioMixer::Input {
  MixInputId id = 0;
  uint64_t order = 0;  // when it was added: ties in the K ranking go to the earlier
  JitterBuffer jitter;
  std::array<float, kFrameSamples> pcm{};
  std::array<float, kFrameSamples> contrib{};  // pcm with this frame's gain ramp
  JitterBuffer::Frame kind = JitterBuffer::Frame::kSilence;
  uint8_t level = 127;
  float score = kSilentDb;  // held level, dB relative to full scale (<= 0)
  bool mixed = false;       // its gain was 1 at the end of the last frame
  bool selected = false;    // in the K set this frame
  bool leaving = false;     // removed: fades out in the next frame, then goes
  // RFC 3550 interarrival jitter, in 48 kHz samples.
  bool have_arrival = false;
  media::Micros last_arrival = 0;
  uint32_t last_ts = 0;
  double arrival_jitter = 0;
};

struct AudioMixer::Stream {
  explicit Stream(float ceiling) : limiter(ceiling) {}
  MixCodec codec = MixCodec::kOpus;
  std::optional<MixInputId> own;
  size_t listeners = 0;
  audio::OpusEncoder opus;
  Limiter limiter;
  Decimate48To8 decimator;
  std::array<float, kFrameSamples> mix{};
  std::array<float, kG711FrameBytes> narrow{};
  // One packet per frame of the current tick() call.
  std::array<std::array<uint8_t, audio::OpusEncoder::kMaxPacketBytes>, kMaxCatchUpFrames> packets{};
  std::array<size_t, kMaxCatchUpFrames> sizes{};
};

AudioMixer::AudioMixer(MixerConfig config) : config_(config) {
  contributing_.reserve(kMaxInputs);
  mixed_ids_.reserve(kMaxLoudest);
}

AudioMixer::~AudioMixer() = default;

AudioStatus AudioMixer::config_status() const {
  if (config_.max_loudest < 1 || config_.max_loudest > kMaxLoudest)
    return AudioStatus::failure("Mixer: max_loudest " + std::to_string(config_.max_loudest) +
                                " is outside 1 to " + std::to_string(kMaxLoudest));
  if (auto s = JitterBuffer::check(config_.jitter); !s) return s;
  if (config_.opus_bitrate < audio::OpusEncoder::kMinBitrate ||
      config_.opus_bitrate > audio::OpusEncoder::kMaxBitrate)
    return AudioStatus::failure("Mixer: Opus bitrate " + std::to_string(config_.opus_bitrate) +
                                " bit/s is outside " + std::to_string(audio::OpusEncoder::kMinBitrate) +
                                " to " + std::to_string(audio::OpusEncoder::kMaxBitrate));
  if (config_.opus_complexity < 0 || config_.opus_complexity > 10)
    return AudioStatus::failure("Mixer: Opus complexity " + std::to_string(config_.opus_complexity) +
                                " is outside 0 to 10");
  if (!(config_.ceiling > 0.0f && config_.ceiling <= 1.0f))
    return AudioStatus::failure("Mixer: the limiter ceiling must be above 0 and at most 1 (0 dBFS)");
  if (config_.silence_level > 127) return AudioStatus::failure("Mixer: silence_level is above 127 dBov");
  return AudioStatus::success();
}

AudioMixer::Input* AudioMixer::find_input(MixInputId id) const {
  for (const auto& in : inputs_)
    if (in->id == id && !in->leaving) return in.get();
  return nullptr;
}

bool AudioMixer::has_input(MixInputId id) const {
  return find_input(id) != nullptr;
}

size_t AudioMixer::input_count() const {
  return static_cast<size_t>(
      std::count_if(inputs_.begin(), inputs_.end(), [](const auto& in) { return !in->leaving; }));
}

AudioStatus AudioMixer::add_input(MixInputId id) {
  if (auto s = config_status(); !s) return s;
  if (find_input(id)) return AudioStatus::failure("Mixer: input " + std::to_string(id) + " is already there");
  if (inputs_.size() >= kMaxInputs)
    return AudioStatus::failure("Mixer: a room mixes at most " + std::to_string(kMaxInputs) + " inputs");
  auto in = std::make_unique<Input>();
  in->id = id;
  in->order = next_order_++;
  if (auto s = in->jitter.configure(config_.jitter); !s) return s;
  inputs_.push_back(std::move(in));
  return AudioStatus::success();
}

void AudioMixer::remove_input(MixInputId id) {
  for (auto it = inputs_.begin(); it != inputs_.end(); ++it) {
    Input& in = **it;
    if (in.id != id || in.leaving) continue;
    if (in.mixed) {
      in.leaving = true;  // fades out in the next frame
    } else {
      retired_ += in.jitter.counters();
      inputs_.erase(it);
    }
    return;
  }
}

void AudioMixer::push(MixInputId id, uint16_t seq, uint32_t rtp_ts, std::span<const uint8_t> opus,
                      media::Micros now) {
  Input* in = find_input(id);
  if (!in) {
    ++counters_.unknown_input;
    return;
  }
  if (in->have_arrival) {
    // D = (arrival difference - timestamp difference), in samples; J += (|D| - J) / 16.
    const double arrival = static_cast<double>(now - in->last_arrival) * 48000.0 / 1e6;
    const double sent = static_cast<double>(static_cast<int32_t>(rtp_ts - in->last_ts));
    in->arrival_jitter += (std::fabs(arrival - sent) - in->arrival_jitter) / 16.0;
    if (!std::isfinite(in->arrival_jitter) || in->arrival_jitter > 48000.0 * 60) in->arrival_jitter = 0;
  }
  in->have_arrival = true;
  in->last_arrival = now;
  in->last_ts = rtp_ts;
  in->jitter.push(seq, opus);
}

AudioStatus AudioMixer::add_listener(MixListenerId id, MixCodec codec, std::optional<MixInputId> own_input,
                                     MixListenerOptions options) {
  if (auto s = config_status(); !s) return s;
  if (has_listener(id))
    return AudioStatus::failure("Mixer: listener " + std::to_string(id) + " is already there");
  if (listeners_.size() >= kMaxListeners)
    return AudioStatus::failure("Mixer: a room mixes for at most " + std::to_string(kMaxListeners) +
                                " listeners");
  Stream* stream = nullptr;
  if (config_.share_encoders) {
    for (const auto& s : streams_)
      if (s->codec == codec && s->own == own_input) stream = s.get();
  }
  if (!stream) {
    auto s = std::make_unique<Stream>(config_.ceiling);
    s->codec = codec;
    s->own = own_input;
    if (codec == MixCodec::kOpus) {
      if (auto st = s->opus.configure(1, config_.opus_bitrate); !st) return st;
      if (auto st = s->opus.set_complexity(config_.opus_complexity); !st) return st;
    }
    streams_.push_back(std::move(s));
    stream = streams_.back().get();
  }
  ++stream->listeners;
  listeners_.push_back(Listener{id, stream, options.first_seq, options.first_rtp_ts});
  queue_.reserve(listeners_.size() * kMaxCatchUpFrames);
  return AudioStatus::success();
}

void AudioMixer::release_stream(Stream* s) {
  if (--s->listeners > 0) return;
  std::erase_if(streams_, [s](const auto& p) { return p.get() == s; });
}

void AudioMixer::remove_listener(MixListenerId id) {
  for (auto it = listeners_.begin(); it != listeners_.end(); ++it) {
    if (it->id != id) continue;
    // Frames already queued for it stay valid (the stream may go, so drop them).
    for (size_t i = read_; i < queue_.size(); ++i)
      if (queue_[i].listener == id) queue_[i].payload = {};
    release_stream(it->stream);
    listeners_.erase(it);
    return;
  }
}

bool AudioMixer::has_listener(MixListenerId id) const {
  return std::any_of(listeners_.begin(), listeners_.end(), [id](const Listener& l) { return l.id == id; });
}

std::optional<uint8_t> AudioMixer::level(MixInputId id) const {
  const Input* in = find_input(id);
  if (!in) return std::nullopt;
  return in->level;
}

std::optional<MixInputStats> AudioMixer::input_stats(MixInputId id) const {
  const Input* in = find_input(id);
  if (!in) return std::nullopt;
  MixInputStats s;
  s.level = in->level;
  s.mixed = in->mixed;
  s.playing = in->jitter.playing();
  s.buffered = in->jitter.buffered();
  s.jitter_ms = in->arrival_jitter / 48.0;
  return s;
}

MixerCounters AudioMixer::counters() const {
  MixerCounters c = counters_;
  c.jitter = retired_;
  for (const auto& in : inputs_)
    c.jitter += in->jitter.counters();
  return c;
}

size_t AudioMixer::tick(media::Micros now) {
  // Whatever the caller did not poll since the last tick is dropped: its payloads are about to be rewritten.
  for (size_t i = read_; i < queue_.size(); ++i)
    if (!queue_[i].payload.empty()) ++counters_.frames_unpolled;
  queue_.clear();
  read_ = 0;
  if (!started_) {
    started_ = true;
    next_due_ = now;
  }
  size_t produced = 0;
  while (now >= next_due_ && produced < kMaxCatchUpFrames) {
    mix_frame(produced);
    ++produced;
    next_due_ += kFrameDuration;
  }
  if (now >= next_due_) {
    const auto skipped = static_cast<uint64_t>((now - next_due_) / kFrameDuration + 1);
    next_due_ += static_cast<media::Micros>(skipped) * kFrameDuration;
    counters_.catch_up_skips += skipped;
    for (auto& l : listeners_) {
      const uint32_t per_frame = l.stream->codec == MixCodec::kOpus ? kFrameSamples : kG711FrameBytes;
      l.rtp_ts += static_cast<uint32_t>(skipped * per_frame);
    }
  }
  return produced;
}

std::optional<MixedFrame> AudioMixer::poll() {
  while (read_ < queue_.size()) {
    const MixedFrame& f = queue_[read_++];
    if (!f.payload.empty()) return f;  // empty: its listener was removed
  }
  return std::nullopt;
}

void AudioMixer::select_loudest() {
  const float silent = -static_cast<float>(config_.silence_level);
  for (auto& in : inputs_)
    in->selected = false;
  mixed_ids_.clear();
  for (size_t k = 0; k < config_.max_loudest; ++k) {
    Input* best = nullptr;
    float best_key = 0;
    for (auto& p : inputs_) {
      Input& in = *p;
      if (in.selected || in.leaving || in.kind == JitterBuffer::Frame::kSilence || in.score <= silent)
        continue;
      const float key = in.score + (in.mixed ? kHysteresisDb : 0.0f);
      const bool better = !best || key > best_key ||
                          (key == best_key && (in.mixed != best->mixed ? in.mixed : in.order < best->order));
      if (better) {
        best = &in;
        best_key = key;
      }
    }
    if (!best) break;
    best->selected = true;
    mixed_ids_.push_back(best->id);
  }
}

void AudioMixer::mix_frame(size_t slot) {
  // 1-2: a frame and a level from every input.
  for (auto& p : inputs_) {
    Input& in = *p;
    in.kind = in.jitter.pop(in.pcm);
    double energy = 0;
    for (float x : in.pcm)
      energy += static_cast<double>(x) * x;
    const double power = energy / kFrameSamples;
    const double db = power > 1e-13 ? 10.0 * std::log10(power) : static_cast<double>(kSilentDb);
    const float loud = static_cast<float>(std::clamp(db, static_cast<double>(kSilentDb), 0.0));
    in.level = static_cast<uint8_t>(std::lround(-loud));
    in.score = in.kind == JitterBuffer::Frame::kSilence ? kSilentDb
                                                        : std::max(loud, in.score - kScoreDecayDbPerFrame);
  }
  // 3: the K loudest.
  select_loudest();
  // 4: gains, with a ramp over the frame for inputs entering or leaving the set; the full sum.
  full_.fill(0.0f);
  contributing_.clear();
  for (auto& p : inputs_) {
    Input& in = *p;
    const float g0 = in.mixed ? 1.0f : 0.0f;
    const float g1 = in.selected ? 1.0f : 0.0f;
    if (g0 == 0.0f && g1 == 0.0f) continue;
    if (g0 == g1) {
      in.contrib = in.pcm;
    } else {
      ++counters_.input_changes;
      const float step = (g1 - g0) / static_cast<float>(kFrameSamples);
      for (size_t i = 0; i < kFrameSamples; ++i)
        in.contrib[i] = in.pcm[i] * (g0 + step * static_cast<float>(i + 1));
    }
    for (size_t i = 0; i < kFrameSamples; ++i)
      full_[i] += in.contrib[i];
    in.mixed = in.selected;
    contributing_.push_back(&in);
  }
  // 5: every stream.
  for (auto& s : streams_)
    encode_stream(*s, slot);
  // 6: every listener.
  for (auto& l : listeners_) {
    const Stream& s = *l.stream;
    const bool opus = s.codec == MixCodec::kOpus;
    if (s.sizes[slot] > 0) {
      queue_.push_back(MixedFrame{
          l.id, s.codec, std::span<const uint8_t>(s.packets[slot].data(), s.sizes[slot]), l.rtp_ts, l.seq});
      ++l.seq;
      ++counters_.frames_out;
    }
    l.rtp_ts += opus ? static_cast<uint32_t>(kFrameSamples) : static_cast<uint32_t>(kG711FrameBytes);
  }
  // Removed inputs have faded out: gone.
  for (auto it = inputs_.begin(); it != inputs_.end();) {
    if ((*it)->leaving) {
      retired_ += (*it)->jitter.counters();
      it = inputs_.erase(it);
    } else {
      ++it;
    }
  }
  ++counters_.frames_mixed;
}

void AudioMixer::encode_stream(Stream& s, size_t slot) {
  const bool minus = s.own && std::any_of(contributing_.begin(), contributing_.end(),
                                          [&](const Input* in) { return in->id == *s.own; });
  if (!minus) {
    s.mix = full_;
  } else {
    s.mix.fill(0.0f);
    for (const Input* in : contributing_) {
      if (in->id == *s.own) continue;
      for (size_t i = 0; i < kFrameSamples; ++i)
        s.mix[i] += in->contrib[i];
    }
  }
  s.limiter.process(s.mix);
  s.sizes[slot] = 0;
  switch (s.codec) {
    case MixCodec::kOpus: {
      auto n = s.opus.encode(s.mix, s.packets[slot]);
      if (n && *n > 0) {
        s.sizes[slot] = *n;
      } else {
        ++counters_.encode_errors;
      }
      break;
    }
    case MixCodec::kPcmu:
    case MixCodec::kPcma:
      s.decimator.process(s.mix, s.narrow);
      if (s.codec == MixCodec::kPcmu) {
        encode_ulaw(s.narrow, s.packets[slot]);
      } else {
        encode_alaw(s.narrow, s.packets[slot]);
      }
      s.sizes[slot] = kG711FrameBytes;
      break;
  }
}

}  // namespace atrium::media::mixer
