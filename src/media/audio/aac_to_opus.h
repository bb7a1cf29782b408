// The RTMP audio path: AAC access units (FLV: the sequence header's AudioSpecificConfig, then raw frames with
// millisecond timestamps) in, 20 ms Opus packets with 48 kHz RTP timestamps out, for WebRTC viewers.
//
//   AacDecoder -> AudioResampler (48 kHz, mono/stereo) -> PcmFifo (20 ms frames) -> OpusEncoder -> queue
//
// Sans-IO: push() does all the work and queues packets; pop() hands them out. Errors come back as sentences
// and counters, nothing is logged. Buffers are sized by configure() (the resampler's grows to the largest
// frame once), so a warm pipeline allocates nothing of its own per frame.
//
// Timestamps: the first packet gets the first input's timestamp x 48; each next one +960. An input timestamp
// that differs from where the produced audio has got to by more than kResyncThresholdMs (a publisher that
// paused, restarted or skipped) moves the output timeline to it; counters().timestamp_resyncs says so.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "media/audio/aac_decoder.h"
#include "media/audio/audio_resampler.h"
#include "media/audio/audio_result.h"
#include "media/audio/audio_specific_config.h"
#include "media/audio/opus_encoder.h"
#include "media/audio/pcm_fifo.h"

namespace atrium::media::audio {

struct OpusPacket {
  std::span<const uint8_t> data;  // valid until the next push(), configure() or destruction
  uint32_t rtp_timestamp = 0;     // 48 kHz
  uint8_t level_dbov = 127;       // of the PCM encoded (audio_level_dbov): for MediaPacket::audio_level
};

struct AacToOpusCounters {
  uint64_t frames_in = 0;        // push() calls after configure()
  uint64_t decode_errors = 0;    // frames the AAC decoder refused (their audio is missing)
  uint64_t packets_out = 0;      // Opus packets produced
  uint64_t packets_dropped = 0;  // produced but pushed out of the full queue before pop()
  uint64_t encode_errors = 0;
  uint64_t timestamp_resyncs = 0;  // the output timeline jumped to the input's
  uint64_t samples_dropped = 0;    // PCM (per channel, 48 kHz) dropped by the full frame FIFO
  uint64_t format_changes = 0;     // the decoded rate or channel count changed mid-stream
};

class AacToOpus {
 public:
  static constexpr size_t kMaxQueuedPackets = 50;  // 1 s of Opus waiting for pop()
  static constexpr int64_t kResyncThresholdMs = 500;
  static constexpr int64_t kMaxTimestampMs = int64_t{1} << 40;  // |timestamp_ms| beyond this is refused
  static constexpr size_t kFifoCapacitySamples = 48000 / 5;     // 200 ms per channel at 48 kHz

  struct Options {
    int bitrate_bps = 0;  // 0: OpusEncoder's default (64 kbit/s stereo, 32 kbit/s mono)
  };

  AacToOpus() : AacToOpus(Options{}) {}
  explicit AacToOpus(Options options);

  // Starts (or restarts, e.g. a new sequence header) with this AudioSpecificConfig. Mono in is mono out;
  // stereo, PS and more channels are stereo out. Drops what was queued and restarts the timeline.
  AudioStatus configure(std::span<const uint8_t> asc);
  bool configured() const { return configured_; }
  int channels() const { return out_channels_; }  // of the Opus output, once configured
  const AudioSpecificConfig& config() const { return config_; }

  // Decodes one raw AAC frame stamped `timestamp_ms` (FLV's timestamp) and queues the Opus packets it
  // completes (zero, one or two). A frame that fails to decode is counted and reported; the next one is
  // decoded normally.
  AudioStatus push(std::span<const uint8_t> aac_frame, int64_t timestamp_ms);

  // The oldest queued packet, or nothing.
  std::optional<OpusPacket> pop();
  size_t queued() const { return queue_size_; }

  AudioStatus set_bitrate(int bitrate_bps) { return encoder_.set_bitrate(bitrate_bps); }
  const AacToOpusCounters& counters() const { return counters_; }

 private:
  struct Slot {
    std::array<uint8_t, OpusEncoder::kMaxPacketBytes> bytes{};
    size_t size = 0;
    uint32_t rtp_timestamp = 0;
    uint8_t level_dbov = 127;
  };
  void encode_ready_frames();

  Options options_;
  bool configured_ = false;
  AudioSpecificConfig config_;
  int out_channels_ = 0;
  AacDecoder decoder_;
  AudioResampler resampler_;
  PcmFifo fifo_;
  OpusEncoder encoder_;
  std::vector<float> frame_;  // one 20 ms frame for the encoder

  bool started_ = false;  // the timeline is set by the first decoded frame
  int64_t next_rtp_ = 0;  // 48 kHz timestamp of the next packet, unwrapped

  std::vector<Slot> queue_;  // kMaxQueuedPackets, a ring
  size_t queue_head_ = 0;
  size_t queue_size_ = 0;
  AacToOpusCounters counters_;
};

}  // namespace atrium::media::audio
