// A track the client publishes: marks key frames, counts what arrives, and turns the subscribers' many
// key-frame requests into few for the publisher (a PLI storm costs the publisher a burst of bitrate each
// time).
#pragma once

#include <cstdint>

#include "core/events/room_types.h"
#include "core/ids.h"

namespace atrium::core {

struct RemoteTrackStats {
  uint64_t packets = 0;
  uint64_t bytes = 0;
  uint64_t keyframes = 0;
  uint64_t keyframe_requests_in = 0;         // from subscribers
  uint64_t keyframe_requests_forwarded = 0;  // to the publisher
};

class RemoteTrack {
 public:
  // Requests closer together than this are merged into one.
  static constexpr media::Micros kKeyFrameRequestInterval = 500'000;

  RemoteTrack(RemoteTrackId id, TrackInfo info) : id_(id), info_(std::move(info)) {}

  // Fills in packet.keyframe from the payload and counts it.
  void on_media(media::MediaPacket& packet);
  // True when the request should go to the publisher now; otherwise it is remembered for on_tick.
  bool on_keyframe_request(media::Micros now);
  // True when a merged request is due and no key frame has arrived since it was asked for.
  bool on_tick(media::Micros now);

  RemoteTrackId id() const { return id_; }
  const TrackInfo& info() const { return info_; }
  TrackInfo& info() { return info_; }
  const RemoteTrackStats& stats() const { return stats_; }

 private:
  RemoteTrackId id_;
  TrackInfo info_;
  RemoteTrackStats stats_;
  bool forwarded_once_ = false;
  media::Micros last_forwarded_ = 0;
  bool pending_ = false;
};

}  // namespace atrium::core
