#include "core/endpoint/local_track.h"

namespace atrium::core {

void LocalTrack::wait_for_keyframe(media::Micros now) {
  state_ = LocalTrackState::kWaiting;
  rewriter_.switch_source();
  last_request_ = now;
  ++stats_.keyframe_requests;
}

void LocalTrack::attach(media::Micros now, std::string peer, std::string track) {
  if (state_ != LocalTrackState::kIdle) ++stats_.source_switches;
  peer_ = std::move(peer);
  track_ = std::move(track);
  const bool paused = state_ == LocalTrackState::kPaused;
  wait_for_keyframe(now);
  if (paused) state_ = LocalTrackState::kPaused;
}

void LocalTrack::detach() {
  state_ = LocalTrackState::kIdle;
  peer_.clear();
  track_.clear();
}

void LocalTrack::set_paused(media::Micros now, bool paused) {
  if (state_ == LocalTrackState::kIdle) return;
  if (paused) {
    state_ = LocalTrackState::kPaused;
  } else if (state_ == LocalTrackState::kPaused) {
    // What was skipped while paused is gone; resuming is a fresh start from a key frame, not a gap to repair.
    wait_for_keyframe(now);
  }
}

std::optional<media::MediaPacket> LocalTrack::on_media(media::Micros now, const media::MediaPacket& in) {
  switch (state_) {
    case LocalTrackState::kIdle:
    case LocalTrackState::kPaused:
      return std::nullopt;
    case LocalTrackState::kWaiting:
      if (!in.keyframe) {
        ++stats_.dropped_waiting;
        return std::nullopt;
      }
      state_ = LocalTrackState::kLive;
      break;
    case LocalTrackState::kLive:
      break;
  }
  media::MediaPacket out = in;
  if (!rewriter_.rewrite(now, media::clock_rate(in.codec), out.seq, out.timestamp)) return std::nullopt;
  ++stats_.packets;
  stats_.bytes += out.payload.size();
  return out;
}

bool LocalTrack::on_tick(media::Micros now) {
  if (state_ != LocalTrackState::kWaiting || now - last_request_ < kKeyFrameRetry) return false;
  last_request_ = now;
  ++stats_.keyframe_requests;
  return true;
}

}  // namespace atrium::core
