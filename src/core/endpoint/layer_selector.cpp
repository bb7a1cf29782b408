#include "core/endpoint/layer_selector.h"

namespace atrium::core {

LayerSelector::TargetUpdate LayerSelector::set_target(std::optional<Layer> target) {
  const bool first = !driven_;
  driven_ = true;
  if (!target) {
    if (paused_ && !first) return {};
    paused_ = true;
    dirty_ = true;
    return {.changed = true};
  }
  const bool resumed = paused_;
  if (!first && !resumed && *target == target_) return {};
  const bool temporal_up = target->temporal > target_.temporal || first;
  target_ = *target;
  paused_ = false;
  return {.changed = true, .resumed = resumed, .temporal_up = temporal_up};
}

void LayerSelector::start(uint8_t spatial) {
  spatial_ = spatial;
  temporal_ = target_temporal();
  frame_known_ = false;
  dirty_ = true;
}

bool LayerSelector::temporal_pass(const media::MediaPacket& in, uint8_t tid) {
  if (!frame_known_ || in.timestamp != frame_ts_) {
    frame_known_ = true;
    frame_ts_ = in.timestamp;
    const uint8_t tt = target_temporal();
    if (tt < temporal_) {
      temporal_ = tt;
      dirty_ = true;
    } else if (tt > temporal_) {
      // Up only where the decoder can follow: a key frame, or a frame of the next layer that references TL0
      // frames only (which it has).
      if (in.keyframe) {
        temporal_ = tt;
        dirty_ = true;
      } else if (in.layer_sync && tid == temporal_ + 1) {
        temporal_ = tid;
        dirty_ = true;
      }
    }
    frame_forward_ = tid <= temporal_;
  }
  return frame_forward_;
}

std::optional<std::pair<int16_t, int16_t>> LayerSelector::take_change() {
  if (!dirty_) return std::nullopt;
  dirty_ = false;
  std::pair<int16_t, int16_t> now_fwd = reported_;
  if (paused_)
    now_fwd = {-1, -1};
  else if (spatial_ >= 0)
    now_fwd = {static_cast<int16_t>(spatial_), static_cast<int16_t>(temporal_)};
  if (now_fwd == reported_) return std::nullopt;
  reported_ = now_fwd;
  return now_fwd;
}

}  // namespace atrium::core
