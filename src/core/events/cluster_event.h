// Cluster -> Endpoint: room changes (already filtered by the endpoint's subscribe modes), media for its local
// tracks, and feedback for its remote tracks.
#pragma once

#include <string>
#include <variant>

#include "core/errors.h"
#include "core/events/room_types.h"
#include "core/ids.h"

namespace atrium::core::cev {

struct PeerJoined {
  std::string peer;
  std::string meta;
};
struct PeerLeft {
  std::string peer;
};
struct PeerMeta {
  std::string peer;
  std::string meta;
};
struct TrackPublished {
  std::string peer;
  TrackInfo info;
};
struct TrackUnpublished {
  std::string peer;
  std::string track;
};
struct TrackMeta {
  std::string peer;
  std::string track;
  std::string meta;
};
struct JoinAccepted {};
struct JoinRejected {  // the directory refused the join (peer id taken)
  Error error;
};
struct LocalTrackMedia {
  LocalTrackId id;
  media::MediaPacket packet;
};
struct LocalTrackAttachFailed {
  LocalTrackId id;
  Error error;
};
struct LocalTrackSourceEnded {
  LocalTrackId id;
};
struct RemoteTrackKeyFrameRequest {
  RemoteTrackId id;
  uint8_t spatial_layer = kAnySpatialLayer;
};
struct MessageReceived {
  std::string from;
  std::string data;
  bool direct = false;
};
struct MessageRejected {  // a message this endpoint sent could not be delivered
  Error error;
};
struct RemoteTrackDesiredBitrate {  // max over every subscriber in the cluster; 0 when nobody watches
  RemoteTrackId id;
  uint32_t bitrate_bps;
};
struct ActiveSpeakersChanged {  // the room's speakers, dominant first; already filtered to what the member
                                // sees
  ActiveSpeakers speakers;
};

using ClusterEvent =
    std::variant<PeerJoined, PeerLeft, PeerMeta, TrackPublished, TrackUnpublished, TrackMeta, JoinAccepted,
                 JoinRejected, LocalTrackMedia, LocalTrackAttachFailed, LocalTrackSourceEnded,
                 RemoteTrackKeyFrameRequest, RemoteTrackDesiredBitrate, MessageReceived, MessageRejected,
                 ActiveSpeakersChanged>;

}  // namespace atrium::core::cev

namespace atrium::core {
using cev::ClusterEvent;
}
