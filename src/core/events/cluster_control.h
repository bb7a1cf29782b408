// Endpoint -> Cluster: the generic set the seed names (user joined/left; remote track started, media, meta,
// ended; local track started, control, ended), plus the per-peer subscription that manual mode needs.
#pragma once

#include <string>
#include <variant>

#include "core/events/room_types.h"
#include "core/ids.h"

namespace atrium::core::ccl {

struct PeerJoin {
  JoinParams params;
};
struct PeerLeave {};
struct PeerMeta {
  std::string meta;
};
struct WatchPeer {
  std::string peer;
};
struct UnwatchPeer {
  std::string peer;
};
struct RemoteTrackStarted {
  RemoteTrackId id;
  TrackInfo info;
};
struct RemoteTrackMeta {
  RemoteTrackId id;
  std::string meta;
};
struct RemoteTrackMedia {
  RemoteTrackId id;
  media::MediaPacket packet;
};
struct RemoteTrackEnded {
  RemoteTrackId id;
};
struct LocalTrackStarted {  // subscribe local track `id` to the channel of (peer, track) in the endpoint's
                            // room
  LocalTrackId id;
  std::string peer;
  std::string track;
};
struct LocalMixStarted {  // local track `id` takes the room's mix-minus for this endpoint; ended by
                          // LocalTrackEnded like any local track
  LocalTrackId id;
  media::Codec codec = media::Codec::kOpus;  // kOpus, kPcmu or kPcma (tev::AttachMix)
};
struct LocalTrackKeyFrameRequest {
  LocalTrackId id;
  uint8_t spatial_layer = kAnySpatialLayer;  // the simulcast layer the subscriber needs a key frame of
};
struct LocalTrackDesiredBitrate {
  LocalTrackId id;
  uint32_t bitrate_bps;
};
struct LocalTrackEnded {
  LocalTrackId id;
};
struct PeerMessage {  // to every other member of the room (`to` empty) or to the member that is peer `to`
  std::string to;
  std::string data;
};

using ClusterControl =
    std::variant<PeerJoin, PeerLeave, PeerMeta, WatchPeer, UnwatchPeer, RemoteTrackStarted, RemoteTrackMeta,
                 RemoteTrackMedia, RemoteTrackEnded, LocalTrackStarted, LocalMixStarted,
                 LocalTrackKeyFrameRequest, LocalTrackDesiredBitrate, LocalTrackEnded, PeerMessage>;

}  // namespace atrium::core::ccl

namespace atrium::core {
using ccl::ClusterControl;
}
