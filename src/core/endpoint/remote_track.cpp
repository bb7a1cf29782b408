#include "core/endpoint/remote_track.h"

#include "media/codec/keyframe.h"

namespace atrium::core {

void RemoteTrack::on_media(media::MediaPacket& packet) {
  packet.keyframe = media::is_keyframe(packet.codec, packet.payload);
  ++stats_.packets;
  stats_.bytes += packet.payload.size();
  const uint8_t bit = packet.spatial_layer < kLayers ? static_cast<uint8_t>(1u << packet.spatial_layer) : 0;
  seen_layers_ |= bit;
  if (packet.keyframe && info_.kind == media::MediaKind::kVideo) {
    ++stats_.keyframes;
    slots_[slot_of(packet.spatial_layer)].pending = false;  // whoever asked for this layer gets this one
    // "Any" is answered once every layer that sends has sent a key frame.
    answered_any_ |= bit;
    if ((answered_any_ & seen_layers_) == seen_layers_) slots_[kLayers].pending = false;
  }
}

bool RemoteTrack::on_keyframe_request(media::Micros now, uint8_t spatial_layer) {
  ++stats_.keyframe_requests_in;
  if (info_.kind == media::MediaKind::kAudio) return false;
  Slot& s = slots_[slot_of(spatial_layer)];
  if (spatial_layer >= kLayers) answered_any_ = 0;
  if (!s.forwarded_once || now - s.last_forwarded >= kKeyFrameRequestInterval) {
    s.forwarded_once = true;
    s.last_forwarded = now;
    s.pending = false;
    ++stats_.keyframe_requests_forwarded;
    return true;
  }
  s.pending = true;
  return false;
}

}  // namespace atrium::core
