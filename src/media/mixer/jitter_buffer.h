// One mixer input's jitter buffer: Opus RTP packets in, in any order, one 20 ms frame of 48 kHz mono PCM out
// per mixer tick. Sans-IO: push() stores, pop() is called once per tick by the mixer.
//
// Playout is in sequence-number order. The buffer holds up to kCapacity packets (320 ms) ahead of the next
// one to play, in fixed slots sized at configure() (nothing is allocated per packet).
//
//   idle ──first packet──> prefill ──target_depth frames buffered (or target_depth ticks passed)──> playing
//     ^                                                                                               |
//     └───────────── max_conceal_frames ticks in a row with nothing to play (stalled) ────────────────┘
//
// Depth: playing starts once target_depth (default 3, 60 ms) frames are buffered, so a packet can arrive up
// to about that much later than its neighbours, or out of order within that window, and still be played. When
// more than max_depth (default 5, 100 ms) frames are buffered (the sender's clock runs faster than ours, or a
// burst arrived), the oldest are skipped until target_depth remain (counters().overflow_skipped).
//
// Missing packets: when the packet due is not there, libopus conceals the frame (PLC). If later packets are
// buffered, the missing one is declared lost and playout moves on; if nothing later has arrived either, the
// sequence number is held (the packet may only be late: the buffer grows by one frame instead of losing it).
// After max_conceal_frames (default 5, 100 ms) concealed frames in a row the input is stalled: pop() returns
// silence and the next packet starts a new prefill.
//
// Dropped with a counter: packets behind the playout point (late), a second copy (duplicate), empty or larger
// than kMaxPayloadBytes (invalid). A packet more than kCapacity ahead of the playout point, or more than
// kResyncDistance behind it (the sender restarted its sequence numbers), restarts the buffer (resyncs).
//
// Only 20 ms packets are supported (WebRTC's default ptime): a packet decoding to another length is counted
// (wrong_duration) and cut or padded with silence to 20 ms.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "media/audio/audio_result.h"
#include "media/audio/opus_decoder.h"
#include "media/audio/opus_encoder.h"

namespace atrium::media::mixer {

struct JitterBufferConfig {
  size_t target_depth = 3;        // frames buffered before playing starts (60 ms)
  size_t max_depth = 5;           // more buffered than this: skip the oldest back to target_depth (100 ms)
  size_t max_conceal_frames = 5;  // concealed frames in a row before the input counts as stalled (100 ms)
};

struct JitterBufferCounters {
  uint64_t packets_in = 0;        // push() calls
  uint64_t decoded = 0;           // frames played from a packet
  uint64_t concealed = 0;         // frames filled by PLC (missing packet or a packet that failed to decode)
  uint64_t late = 0;              // arrived after its frame was played or concealed
  uint64_t duplicates = 0;        // a packet with the sequence number of one already buffered
  uint64_t invalid = 0;           // empty, or over kMaxPayloadBytes
  uint64_t overflow_skipped = 0;  // frames skipped because more than max_depth were buffered
  uint64_t decode_errors = 0;     // libopus refused the packet (concealed instead)
  uint64_t wrong_duration = 0;    // a packet that was not 20 ms
  uint64_t stalls = 0;            // playing -> idle after max_conceal_frames
  uint64_t resyncs = 0;           // restarted by a sequence-number jump

  JitterBufferCounters& operator+=(const JitterBufferCounters& o);
};

class JitterBuffer {
 public:
  static constexpr size_t kFrameSamples = audio::OpusDecoder::kFrameSamples;       // 960: 20 ms at 48 kHz
  static constexpr size_t kCapacity = 16;                                          // slots: 320 ms
  static constexpr size_t kMaxPayloadBytes = audio::OpusEncoder::kMaxPacketBytes;  // 1276
  static constexpr int64_t kResyncDistance =
      64;  // frames behind the playout point (1.28 s): a restarted sender
  static constexpr size_t kMaxTargetDepth = 8;  // target_depth 1..8 and max_depth target_depth..kCapacity - 1
  static constexpr size_t kMaxConcealFrames = 50;

  enum class Frame : uint8_t {
    kSilence,    // idle, prefilling or stalled: nothing to play (zeros)
    kDecoded,    // a packet
    kConcealed,  // PLC for a missing or broken packet
  };

  JitterBuffer() = default;
  JitterBuffer(const JitterBuffer&) = delete;
  JitterBuffer& operator=(const JitterBuffer&) = delete;

  // Whether the config is within the limits above (the sentence says which is not).
  static audio::AudioStatus check(const JitterBufferConfig& config);
  // Checks the config, creates the (mono) decoder and the slots; starts idle.
  audio::AudioStatus configure(const JitterBufferConfig& config);

  // One RTP packet's sequence number and Opus payload (copied; the span need not outlive the call).
  void push(uint16_t seq, std::span<const uint8_t> payload);

  // The next 20 ms frame into out (kFrameSamples floats). Call once per tick.
  Frame pop(std::span<float> out);

  bool playing() const { return phase_ == Phase::kPlaying; }
  // Packets buffered at or after the playout point.
  size_t buffered() const { return buffered_; }
  const JitterBufferCounters& counters() const { return counters_; }
  const JitterBufferConfig& config() const { return config_; }

 private:
  enum class Phase : uint8_t { kIdle, kPrefill, kPlaying };
  struct Slot {
    bool full = false;
    int64_t seq = 0;  // extended (unwrapped)
    uint16_t size = 0;
    std::array<uint8_t, kMaxPayloadBytes> bytes{};
  };

  void restart(int64_t seq);
  void store(int64_t seq, std::span<const uint8_t> payload);
  Slot& slot(int64_t seq) { return slots_[static_cast<size_t>(seq) % kCapacity]; }
  void clear_slots();
  Frame play(std::span<float> out);
  Frame conceal(std::span<float> out);

  JitterBufferConfig config_;
  audio::OpusDecoder decoder_;
  std::vector<Slot> slots_;
  std::vector<float> scratch_;  // decoder output: a packet may hold up to 120 ms
  Phase phase_ = Phase::kIdle;
  int64_t next_ = 0;     // extended sequence number due next
  int64_t highest_ = 0;  // highest extended sequence number stored since the last restart
  size_t buffered_ = 0;
  size_t prefill_ticks_ = 0;
  size_t missing_run_ = 0;
  JitterBufferCounters counters_;
};

}  // namespace atrium::media::mixer
