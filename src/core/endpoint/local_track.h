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
//
// The jobs are in their own classes; this one wires them per packet and keeps the track's state:
//   SourceLayers       what the source sends per layer (arrival, bitrates for the allocator)
//   LayerSelector      the target layer, the layer in effect, the per-frame temporal decision
//   KeyFrameGate       which key frame the track waits for, and the requests upstream
//   StreamRewriter     continuous seq/timestamps;  PictureIdRewriter  continuous VP8 picture ids
#pragma once

#include <optional>
#include <string>
#include <utility>

#include "core/bitrate/bitrate_allocator.h"
#include "core/endpoint/keyframe_gate.h"
#include "core/endpoint/layer_selector.h"
#include "core/endpoint/source_layers.h"
#include "core/events/room_types.h"
#include "core/ids.h"
#include "media/rewrite/picture_id_rewriter.h"
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

class LocalTrack {
 public:
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
  std::optional<uint8_t> take_keyframe_request() { return gate_.take_request(); }
  // The forwarded layer changed since last asked: {spatial, temporal}, {-1, -1} = paused by the allocator.
  // Video only.
  std::optional<std::pair<int16_t, int16_t>> take_layer_change();

  // What arrives from the source, for the allocator (cumulative over temporal layers).
  LayerBitrates layer_bitrates(media::Micros now) { return layers_.bitrates(now, limits_.lower_frame_rate); }
  bool has_bitrates() const { return layers_.measured(); }

  LocalTrackId id() const { return id_; }
  LocalTrackState state() const { return state_; }
  bool attached() const { return state_ != LocalTrackState::kIdle; }
  bool client_paused() const { return client_paused_; }
  media::MediaKind kind() const { return kind_; }
  const std::string& source_peer() const { return peer_; }
  const std::string& source_track() const { return track_; }
  const LocalTrackLimits& limits() const { return limits_; }
  LocalTrackStats stats() const {
    LocalTrackStats s = stats_;
    s.keyframe_requests = gate_.requests();
    return s;
  }
  int forwarded_spatial() const { return selector_.spatial(); }
  int forwarded_temporal() const { return selector_.temporal(); }

 private:
  void wait_for_keyframe(media::Micros now);
  void update_want(media::Micros now);
  void update_state();
  void start_layer(uint8_t layer);
  bool sending() const { return !client_paused_ && !selector_.paused(); }

  LocalTrackId id_;
  LocalTrackState state_ = LocalTrackState::kIdle;
  std::string peer_;
  std::string track_;
  LocalTrackLimits limits_;
  media::MediaKind kind_ = media::MediaKind::kVideo;
  bool client_paused_ = false;
  uint8_t source_layers_ = 1;

  SourceLayers layers_;
  LayerSelector selector_;
  KeyFrameGate gate_;
  media::StreamRewriter rewriter_;
  media::PictureIdRewriter picture_ids_;
  LocalTrackStats stats_;  // keyframe_requests is the gate's count
};

}  // namespace atrium::core
