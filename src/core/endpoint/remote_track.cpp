#include "core/endpoint/remote_track.h"

#include "media/codec/keyframe.h"

namespace atrium::core {

void RemoteTrack::on_media(media::MediaPacket& packet) {
  packet.keyframe = media::is_keyframe(packet.codec, packet.payload);
  ++stats_.packets;
  stats_.bytes += packet.payload.size();
  if (packet.keyframe && info_.kind == media::MediaKind::kVideo) {
    ++stats_.keyframes;
    pending_ = false;  // whoever asked gets this one
  }
}

bool RemoteTrack::on_keyframe_request(media::Micros now) {
  ++stats_.keyframe_requests_in;
  if (info_.kind == media::MediaKind::kAudio) return false;
  if (!forwarded_once_ || now - last_forwarded_ >= kKeyFrameRequestInterval) {
    forwarded_once_ = true;
    last_forwarded_ = now;
    pending_ = false;
    ++stats_.keyframe_requests_forwarded;
    return true;
  }
  pending_ = true;
  return false;
}

bool RemoteTrack::on_tick(media::Micros now) {
  if (!pending_ || now - last_forwarded_ < kKeyFrameRequestInterval) return false;
  pending_ = false;
  last_forwarded_ = now;
  ++stats_.keyframe_requests_forwarded;
  return true;
}

}  // namespace atrium::core
