// AudioMixer: a room's audio mixed for each listener, sans-IO. Opus sources in (one per published audio
// track), one mixed stream out per listener, Opus or G.711, with the listener's own voice left out
// (mix-minus).
//
// What the caller (the room's runtime) does:
//   - add_input(id) per audio source, remove_input(id) when it goes; push() every RTP packet it receives;
//   - add_listener(id, codec, own_input) per listener, remove_listener(id) when it goes;
//   - every ~20 ms (a timer, jitter is fine): tick(now), then poll() until it returns nothing, sending each
//     MixedFrame to its listener. A frame's payload is valid until the next tick() (or the mixer's end);
//     frames not polled by then are dropped (counters().frames_unpolled).
//
// The tick: the mixer keeps its own 20 ms timeline, started by the first tick(). Each tick() produces one
// frame for every 20 ms boundary `now` has passed, at most kMaxCatchUpFrames in one call (a late timer
// catches up); if `now` is further ahead than that (the worker stalled), the rest are skipped and counted
// (catch_up_skips): listeners' RTP timestamps still advance by the skipped time, their sequence numbers do
// not.
//
// One frame:
//   1. each input's jitter buffer (jitter_buffer.h) gives 20 ms of 48 kHz mono (decoded, PLC or silence);
//   2. its level, RMS in dBov (RFC 6464's unit: 0 loudest, 127 silence), is level(id);
//   3. the K (max_loudest) loudest active inputs are chosen: ranked by a level held at its peak and falling
//      kScoreDecayDbPerFrame per frame (so the gaps between words do not drop a talker), with kHysteresisDb
//      in favour of inputs already mixed (so two similar talkers do not swap every frame); exact ties go to
//      the input mixed last frame, then to the earlier added. Inactive (no slot): not playing (prefilling,
//      stalled) or quieter than silence_level;
//   4. an input that enters the K set fades in over the frame (gain ramp 0 -> 1), one that leaves it (or is
//      removed) fades out (1 -> 0), so nobody clicks in or out;
//   5. per output stream: the sum of the chosen inputs less the listener's own input, the limiter
//      (limiter.h, -1 dBFS ceiling), then the codec: Opus (one encoder per stream, mono, opus_bitrate) or
//      G.711 (48 -> 8 kHz decimation, g711.h, 160 bytes per 20 ms);
//   6. one MixedFrame per listener: its own sequence numbers (+1 per frame) and RTP timestamps (48 kHz for
//      Opus, 8 kHz for G.711; +960 / +160 per frame), continuous for the listener's life.
//
// Output streams: with share_encoders (default), listeners with the same codec and the same own input (most
// often: none, e.g. SIP or WHEP viewers) share one stream: one sum, one limiter, one encode. Every listener
// still gets its own sequence numbers and timestamps.
//
// Internally mono at 48 kHz: libopus decodes mono and stereo packets alike to mono, so an input's channel
// count does not matter. No allocation once warm: buffers are made by add_input / add_listener.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "media/audio/audio_result.h"
#include "media/audio/opus_encoder.h"
#include "media/media_packet.h"
#include "media/mixer/g711.h"
#include "media/mixer/jitter_buffer.h"
#include "media/mixer/limiter.h"

namespace atrium::media::mixer {

using audio::AudioStatus;
using MixInputId = uint32_t;
using MixListenerId = uint32_t;

enum class MixCodec : uint8_t {
  kOpus,  // 48 kHz RTP clock, one 20 ms packet per frame
  kPcmu,  // G.711 mu-law, 8 kHz, 160 bytes per frame (RTP payload type 0)
  kPcma,  // G.711 A-law, 8 kHz, 160 bytes per frame (payload type 8)
};
std::string_view to_string(MixCodec c);

struct MixerConfig {
  size_t max_loudest = 3;  // K: inputs mixed at once, 1..AudioMixer::kMaxLoudest
  JitterBufferConfig jitter;
  int opus_bitrate = audio::OpusEncoder::kDefaultMonoBitrate;  // per Opus output stream (32 kbit/s)
  int opus_complexity = 5;  // libopus 0..10; 5 costs about half of 10 and sounds the same for speech
  // An input whose held level (dBov) is at or above this is silent and takes no slot (90: about one 16-bit
  // LSB).
  uint8_t silence_level = 90;
  float ceiling = Limiter::kDefaultCeiling;  // the limiter's, linear (0.891 = -1 dBFS)
  bool share_encoders = true;
};

struct MixListenerOptions {
  uint16_t first_seq = 0;  // the caller may randomise these (RFC 3550 5.1)
  uint32_t first_rtp_ts = 0;
};

struct MixedFrame {
  MixListenerId listener = 0;
  MixCodec codec = MixCodec::kOpus;
  std::span<const uint8_t> payload;  // an Opus packet, or 160 bytes of G.711; valid until the next tick()
  uint32_t rtp_ts = 0;               // 48 kHz (Opus) or 8 kHz (G.711)
  uint16_t seq = 0;
};

// What one input looks like now.
struct MixInputStats {
  uint8_t level = 127;   // the last frame's RMS, dBov (0 = full scale, 127 = silence)
  bool mixed = false;    // among the K loudest in the last frame
  bool playing = false;  // its jitter buffer is playing (not idle, prefilling or stalled)
  size_t buffered = 0;   // packets in its jitter buffer
  double jitter_ms = 0;  // RFC 3550 6.4.1 interarrival jitter of its packets (from push()'s now and rtp_ts)
};

struct MixerCounters {
  uint64_t frames_mixed = 0;     // 20 ms frames produced (each goes to every listener)
  uint64_t frames_out = 0;       // MixedFrames queued (frames x listeners, less encode errors)
  uint64_t frames_unpolled = 0;  // queued but not polled before the next tick()
  uint64_t catch_up_skips = 0;   // frames skipped because tick() was called too late (> kMaxCatchUpFrames)
  uint64_t encode_errors = 0;    // per output stream and frame; its listeners get no frame for it
  uint64_t unknown_input = 0;    // push() for an input that is not there
  uint64_t input_changes = 0;    // inputs entering or leaving the K set (each a fade)
  JitterBufferCounters jitter;   // summed over every input, removed ones included (PLC = jitter.concealed)
};

class AudioMixer {
 public:
  static constexpr media::Micros kFrameDuration = 20000;                 // 20 ms
  static constexpr size_t kFrameSamples = JitterBuffer::kFrameSamples;   // 960 at 48 kHz
  static constexpr size_t kG711FrameBytes = Decimate48To8::kOutSamples;  // 160 at 8 kHz
  static constexpr size_t kMaxInputs = 256;
  static constexpr size_t kMaxListeners = 1024;
  static constexpr size_t kMaxLoudest = 8;
  static constexpr size_t kMaxCatchUpFrames = 5;        // frames one tick() may produce (100 ms)
  static constexpr float kScoreDecayDbPerFrame = 1.0f;  // a held level falls 50 dB/s once the talker stops
  static constexpr float kHysteresisDb = 3.0f;

  explicit AudioMixer(MixerConfig config = {});
  ~AudioMixer();
  AudioMixer(const AudioMixer&) = delete;
  AudioMixer& operator=(const AudioMixer&) = delete;

  // Checks the config (the constructor clamps nothing; a bad config makes add_input / add_listener fail with
  // this sentence).
  AudioStatus config_status() const;
  const MixerConfig& config() const { return config_; }

  // An Opus source. Fails for a duplicate id, beyond kMaxInputs, or a bad config. A removed input fades out
  // during the next frame and is gone after it; its id may be added again at once (that starts a new input).
  AudioStatus add_input(MixInputId id);
  void remove_input(MixInputId id);
  bool has_input(MixInputId id) const;

  // One RTP packet of an input: sequence number, RTP timestamp (48 kHz), the Opus payload (copied), and when
  // it arrived (for the jitter statistic only; playout follows the ticks).
  void push(MixInputId id, uint16_t seq, uint32_t rtp_ts, std::span<const uint8_t> opus, media::Micros now);

  // A listener; own_input (which may not exist yet, or ever) is left out of its mix. Fails for a duplicate
  // id, beyond kMaxListeners, a bad config or an encoder that cannot be made.
  AudioStatus add_listener(MixListenerId id, MixCodec codec,
                           std::optional<MixInputId> own_input = std::nullopt,
                           MixListenerOptions options = {});
  void remove_listener(MixListenerId id);
  bool has_listener(MixListenerId id) const;

  // Produces the frames due by `now` (0 to kMaxCatchUpFrames) and returns how many. Drops what was not
  // polled.
  size_t tick(media::Micros now);
  // The next queued frame, or nothing: frame by frame in time order, and within a frame listeners in the
  // order they were added.
  std::optional<MixedFrame> poll();

  // The input's last frame level in dBov (0..127), or nothing for an unknown input.
  std::optional<uint8_t> level(MixInputId id) const;
  std::optional<MixInputStats> input_stats(MixInputId id) const;
  // Inputs in the K set after the last frame, in ranking order; valid until the next tick().
  std::span<const MixInputId> mixed_inputs() const { return mixed_ids_; }

  MixerCounters counters() const;
  size_t input_count() const;
  size_t listener_count() const { return listeners_.size(); }
  size_t stream_count() const { return streams_.size(); }

 private:
  struct Input;
  struct Stream;
  struct Listener {
    MixListenerId id = 0;
    Stream* stream = nullptr;
    uint16_t seq = 0;
    uint32_t rtp_ts = 0;
  };

  Input* find_input(MixInputId id) const;
  void mix_frame(size_t slot);
  void select_loudest();
  void encode_stream(Stream& s, size_t slot);
  void release_stream(Stream* s);

  MixerConfig config_;
  std::vector<std::unique_ptr<Input>> inputs_;
  std::vector<std::unique_ptr<Stream>> streams_;
  std::vector<Listener> listeners_;
  std::vector<Input*> contributing_;  // this frame's inputs with a non-zero gain
  std::vector<MixInputId> mixed_ids_;
  std::vector<MixedFrame> queue_;
  size_t read_ = 0;
  std::array<float, kFrameSamples> full_{};  // the sum of every contributing input
  uint64_t next_order_ = 0;
  bool started_ = false;
  media::Micros next_due_ = 0;
  MixerCounters counters_;
  JitterBufferCounters retired_;  // of removed inputs
};

}  // namespace atrium::media::mixer
