// A track the client receives. It follows one source at a time; on attach, source switch or resume it sends
// nothing until a key frame (asking for one, again every second while it waits), then rewrites seq/timestamps
// (and VP8 picture ids) so the client sees one continuous stream whatever happened upstream.
//
// Layers: a simulcast source delivers every layer on the one channel, each with its own seq/timestamp space
// (MediaPacket::spatial_layer). The track forwards one spatial layer and the temporal layers up to a ceiling.
// Without a target from the bitrate allocator it forwards the highest spatial layer that is arriving, all
// temporal layers. A spatial switch waits for a key frame of the new layer while the old one keeps flowing;
// going up in temporal layer waits for a VP8 layer-sync frame or a key frame (asked for after a second),
// going down is immediate at the next frame. Frames left out are reported to the rewriter, so the receiver
// sees no sequence gap. VP9/AV1 spatial layers are SVC (one seq space, dependent layers): all are forwarded.
#pragma once

#include <array>
#include <optional>
#include <string>

#include "core/bitrate/bitrate_allocator.h"
#include "core/events/room_types.h"
#include "core/ids.h"
#include "media/rewrite/stream_rewriter.h"

namespace atrium::core {

struct LocalTrackStats {
  uint64_t packets = 0;  // forwarded to the client
  uint64_t bytes = 0;
  uint64_t dropped_waiting = 0;   // arrived while waiting for a key frame
  uint64_t dropped_temporal = 0;  // frames of temporal layers above the ceiling
  uint64_t keyframe_requests = 0;
  uint64_t source_switches = 0;
  uint64_t layer_switches = 0;  // spatial switches within one source
};

// What arrives from the source per (spatial, temporal) layer over the last second: a ring of short buckets,
// so adding a packet is an index and an add.
class LayerMeter {
 public:
  static constexpr int kBuckets = 5;
  static constexpr media::Micros kBucket = 200'000;

  void add(media::Micros now, uint8_t spatial, uint8_t temporal, size_t bytes) {
    if (epoch_ < 0 || now >= bucket_end_) advance(now);
    bytes_[static_cast<size_t>(epoch_ % kBuckets)][spatial][temporal] += static_cast<uint32_t>(bytes);
  }
  // Bits per second of one layer over the completed buckets (the current one is still filling).
  uint32_t bps(media::Micros now, uint8_t spatial, uint8_t temporal);
  void reset() { *this = LayerMeter{}; }

 private:
  void advance(media::Micros now);

  using Grid = std::array<std::array<uint32_t, kMaxTemporalLayers>, kMaxSpatialLayers>;
  std::array<Grid, kBuckets> bytes_{};
  int64_t epoch_ = -1;
  media::Micros bucket_end_ = 0;  // the current bucket's end: most packets need no division
};

class LocalTrack {
 public:
  static constexpr media::Micros kKeyFrameRetry = 1'000'000;
  // A spatial layer with no packet for this long is not "arriving" any more (the publisher stopped it).
  static constexpr media::Micros kLayerGone = 2'000'000;
  // A layer that stopped arriving keeps its last measured bitrate this long: an estimate is better than 0.
  static constexpr media::Micros kRememberBitrate = 5'000'000;
  static constexpr int kAnyLayer = kAnySpatialLayer;

  explicit LocalTrack(LocalTrackId id) : id_(id) {}

  // Starts following (peer, track). The caller subscribes the channel; the first key-frame request is queued
  // (take_keyframe_request).
  void attach(media::Micros now, std::string peer, std::string track);
  void detach();  // back to idle
  void set_paused(media::Micros now, bool paused);
  void set_limits(const LocalTrackLimits& limits) { limits_ = limits; }
  void set_kind(media::MediaKind kind) { kind_ = kind; }
  // Simulcast layers the source announced (TrackInfo::layers).
  void set_source_layers(uint8_t layers) { source_layers_ = layers; }
  int source_layers() const { return source_layers_; }

  // The allocator's decision: the layer to forward (temporal kAllTemporalLayers: all), or nullopt = paused.
  // Once called, the default rule (highest arriving layer) no longer applies. A lower spatial layer normally
  // waits for its key frame while the current one keeps flowing; with `cut_over` (the current layer no longer
  // fits the link at all) the current one stops now: it would only overflow the link, delaying the key frame
  // the receiver waits for.
  void set_target(media::Micros now, std::optional<Layer> target, bool cut_over = false);

  // The packet to send (rewritten), or nothing when it must not reach the client.
  std::optional<media::MediaPacket> on_media(media::Micros now, const media::MediaPacket& in);
  // Retries key-frame requests while waiting.
  void on_tick(media::Micros now);
  // The client asked for a key frame (it lost its picture).
  void on_keyframe_requested(media::Micros now);

  // A key-frame request to send upstream now: the spatial layer (kAnySpatialLayer when unknown).
  std::optional<uint8_t> take_keyframe_request() {
    if (!request_due_) return std::nullopt;
    request_due_ = false;
    return request_layer_;
  }
  // The forwarded layer changed since last asked: {spatial, temporal}, {-1, -1} = paused by the allocator.
  // Video only.
  std::optional<std::pair<int16_t, int16_t>> take_layer_change();

  // What arrives from the source, for the allocator (cumulative over temporal layers).
  LayerBitrates layer_bitrates(media::Micros now);
  bool has_bitrates() const { return measured_; }

  LocalTrackId id() const { return id_; }
  LocalTrackState state() const { return state_; }
  bool attached() const { return state_ != LocalTrackState::kIdle; }
  bool client_paused() const { return client_paused_; }
  media::MediaKind kind() const { return kind_; }
  const std::string& source_peer() const { return peer_; }
  const std::string& source_track() const { return track_; }
  const LocalTrackLimits& limits() const { return limits_; }
  const LocalTrackStats& stats() const { return stats_; }
  int forwarded_spatial() const { return cur_s_; }
  int forwarded_temporal() const { return cur_t_; }

 private:
  void wait_for_keyframe(media::Micros now);
  void request(media::Micros now, int layer);
  void update_want(media::Micros now);
  void update_state();
  int target_spatial(media::Micros now) const;
  uint8_t target_temporal() const { return alloc_driven_ ? alloc_layer_.temporal : kAllTemporalLayers; }
  void start_layer(uint8_t layer);
  // A higher temporal ceiling is wanted and the source has frames above the current one.
  bool temporal_upgrade_pending() const {
    return cur_s_ >= 0 && target_temporal() > cur_t_ && cur_t_ < max_tid_[static_cast<size_t>(cur_s_)];
  }

  LocalTrackId id_;
  LocalTrackState state_ = LocalTrackState::kIdle;
  std::string peer_;
  std::string track_;
  LocalTrackLimits limits_;
  media::MediaKind kind_ = media::MediaKind::kVideo;
  media::StreamRewriter rewriter_;
  LocalTrackStats stats_;

  bool client_paused_ = false;
  bool alloc_driven_ = false;
  bool alloc_paused_ = false;
  Layer alloc_layer_{0, kAllTemporalLayers};

  int cur_s_ = -1;                      // spatial layer forwarded; -1 = waiting for a key frame
  uint8_t cur_t_ = kAllTemporalLayers;  // temporal ceiling in effect
  int waiting_for_ = -1;                // layer whose key frame is awaited (kAnyLayer: any), -1 = none
  media::Micros last_request_ = 0;
  bool any_requested_ = false;  // an "any layer" request was sent at any_request_at_
  media::Micros any_request_at_ = 0;
  uint8_t any_answered_ = 0;  // layers whose key frame arrived since
  media::Micros temporal_wait_since_ = 0;
  bool request_due_ = false;
  uint8_t request_layer_ = kAnySpatialLayer;

  // Per-frame temporal decision (a frame is one timestamp of the forwarded layer).
  bool frame_known_ = false;
  uint32_t frame_ts_ = 0;
  bool frame_forward_ = true;

  // VP8 picture id / TL0PICIDX continuity: offsets rebased at every switch.
  bool pic_rebase_ = true;
  uint16_t pid_offset_ = 0;
  uint8_t tl0_offset_ = 0;
  bool have_out_ = false;
  uint16_t last_out_seq_ = 0;
  int32_t last_pid_ = -1;
  int16_t last_tl0_ = -1;

  // Layer-change reporting.
  bool layer_dirty_ = false;
  std::pair<int16_t, int16_t> reported_{-1, -1};

  // Measurement.
  LayerMeter meter_;
  std::array<media::Micros, kMaxSpatialLayers> last_seen_{};
  std::array<bool, kMaxSpatialLayers> seen_{};
  std::array<uint8_t, kMaxSpatialLayers>
      max_tid_{};  // highest temporal layer the source sent per spatial layer
  bool measured_ = false;
  uint8_t source_layers_ = 1;
  LayerBitrates remembered_;
  std::array<std::array<media::Micros, kMaxTemporalLayers>, kMaxSpatialLayers> remembered_at_{};
};

}  // namespace atrium::core
