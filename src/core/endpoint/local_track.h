// A track the client receives. It follows one source at a time; on attach, source switch or resume it sends
// nothing until a key frame (asking for one, again every second while it waits), then rewrites seq/timestamps
// so the client sees one continuous stream whatever happened upstream.
#pragma once

#include <optional>
#include <string>

#include "core/events/room_types.h"
#include "core/ids.h"
#include "media/rewrite/stream_rewriter.h"

namespace atrium::core {

struct LocalTrackStats {
  uint64_t packets = 0;  // forwarded to the client
  uint64_t bytes = 0;
  uint64_t dropped_waiting = 0;  // arrived while waiting for a key frame
  uint64_t keyframe_requests = 0;
  uint64_t source_switches = 0;
};

class LocalTrack {
 public:
  static constexpr media::Micros kKeyFrameRetry = 1'000'000;

  explicit LocalTrack(LocalTrackId id) : id_(id) {}

  // Starts following (peer, track). The caller subscribes the channel and sends the first key-frame request.
  void attach(media::Micros now, std::string peer, std::string track);
  void detach();  // back to idle
  void set_paused(media::Micros now, bool paused);
  void set_limits(const LocalTrackLimits& limits) { limits_ = limits; }

  // The packet to send (rewritten), or nothing when it must not reach the client.
  std::optional<media::MediaPacket> on_media(media::Micros now, const media::MediaPacket& in);
  // True when a key-frame request should be sent upstream now.
  bool on_tick(media::Micros now);
  // The client asked for a key frame (it lost its picture).
  void on_keyframe_requested(media::Micros now) {
    last_request_ = now;
    ++stats_.keyframe_requests;
  }

  LocalTrackId id() const { return id_; }
  LocalTrackState state() const { return state_; }
  bool attached() const { return state_ != LocalTrackState::kIdle; }
  const std::string& source_peer() const { return peer_; }
  const std::string& source_track() const { return track_; }
  const LocalTrackLimits& limits() const { return limits_; }
  const LocalTrackStats& stats() const { return stats_; }

 private:
  void wait_for_keyframe(media::Micros now);

  LocalTrackId id_;
  LocalTrackState state_ = LocalTrackState::kIdle;
  std::string peer_;
  std::string track_;
  LocalTrackLimits limits_;
  media::StreamRewriter rewriter_;
  media::Micros last_request_ = 0;
  LocalTrackStats stats_;
};

}  // namespace atrium::core
