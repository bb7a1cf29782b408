#include "core/endpoint/keyframe_gate.h"

namespace atrium::core {

void KeyFrameGate::want(media::Micros now, int layer) {
  if (layer == waiting_for_) return;
  const bool covered = any_requested_ && now - any_request_at_ < kRetry && layer >= 0 &&
                       layer < kMaxSpatialLayers && (any_answered_ & (1u << layer)) == 0;
  waiting_for_ = layer;
  if (layer >= 0 && !covered) request(now, layer);
}

void KeyFrameGate::request(media::Micros now, int layer) {
  request_due_ = true;
  request_layer_ = layer >= 0 && layer < kMaxSpatialLayers ? static_cast<uint8_t>(layer) : kAnySpatialLayer;
  last_request_ = now;
  if (request_layer_ == kAnySpatialLayer) {
    any_requested_ = true;
    any_request_at_ = now;
    any_answered_ = 0;
  }
  ++requests_;
}

}  // namespace atrium::core
