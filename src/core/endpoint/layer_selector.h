// Which simulcast layer a local track forwards: the target (the bitrate allocator's decision, or without one
// the highest spatial layer arriving with every temporal layer), the layer in effect, and the temporal
// ceiling decided once per frame. Spatial switches happen at a key frame (the track's KeyFrameGate says
// which); a temporal ceiling goes down at the next frame and up at a key frame or a VP8 layer-sync frame of
// the next layer, since only those can be decoded without the frames that were left out.
#pragma once

#include <cstdint>
#include <optional>
#include <utility>

#include "core/bitrate/bitrate_allocator.h"
#include "core/endpoint/source_layers.h"
#include "media/media_packet.h"

namespace atrium::core {

class LayerSelector {
 public:
  struct TargetUpdate {
    bool changed = false;      // false: nothing to do
    bool resumed = false;      // it was paused by the allocator
    bool temporal_up = false;  // the temporal ceiling may rise (or this is the first decision)
  };
  // The allocator's decision (nullopt = paused). The first one replaces the default rule for good.
  TargetUpdate set_target(std::optional<Layer> target);

  bool paused() const { return paused_; }
  int target_spatial(media::Micros now, const SourceLayers& layers) const {
    if (driven_) return std::min<int>(target_.spatial, kMaxSpatialLayers - 1);
    return layers.highest_arriving(now);
  }
  uint8_t target_temporal() const { return driven_ ? target_.temporal : kAllTemporalLayers; }
  bool driven() const { return driven_; }

  // The spatial layer forwarded; -1 while none is (waiting for a key frame).
  int spatial() const { return spatial_; }
  uint8_t temporal() const { return temporal_; }
  void start(uint8_t spatial);  // at a key frame of `spatial`
  void stop() {
    spatial_ = -1;
    frame_known_ = false;
  }

  // For one packet of the forwarded layer (temporal layer `tid`): false when its frame is above the temporal
  // ceiling. The decision is taken at the frame's first packet so the receiver never gets part of a frame.
  bool temporal_pass(const media::MediaPacket& in, uint8_t tid);
  // A higher temporal ceiling is wanted and the source has frames above the current one.
  bool temporal_upgrade_pending(const SourceLayers& layers) const {
    return spatial_ >= 0 && target_temporal() > temporal_ && temporal_ < layers.max_temporal(spatial_);
  }
  media::Micros temporal_wait_since() const { return temporal_wait_since_; }
  void set_temporal_wait_since(media::Micros now) { temporal_wait_since_ = now; }

  // The forwarded layer changed since last asked: {spatial, temporal}, {-1, -1} = paused by the allocator.
  std::optional<std::pair<int16_t, int16_t>> take_change();
  void discard_change() { dirty_ = false; }  // audio: no layers to speak of

 private:
  bool driven_ = false;
  bool paused_ = false;
  Layer target_{0, kAllTemporalLayers};

  int spatial_ = -1;
  uint8_t temporal_ = kAllTemporalLayers;  // ceiling in effect
  media::Micros temporal_wait_since_ = 0;
  bool frame_known_ = false;  // a frame is one timestamp of the forwarded layer
  uint32_t frame_ts_ = 0;
  bool frame_forward_ = true;

  bool dirty_ = false;
  std::pair<int16_t, int16_t> reported_{-1, -1};
};

}  // namespace atrium::core
