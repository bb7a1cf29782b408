// Endpoint -> Transport: what the core asks a protocol plugin to tell or send its client.
#pragma once

#include <string>
#include <variant>

#include "core/errors.h"
#include "core/events/room_types.h"
#include "core/ids.h"

namespace atrium::core::eev {

struct Joined {
  std::string room;
  std::string peer;
};
struct Left {};
struct PeerJoined {
  std::string peer;
  std::string meta;
};
struct PeerLeft {
  std::string peer;
};
struct PeerMetaChanged {
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
struct TrackMetaChanged {
  std::string peer;
  std::string track;
  std::string meta;
};
struct LocalMedia {  // send this packet to the client on local track `id`; seq/timestamp already rewritten
  LocalTrackId id;
  media::MediaPacket packet;
};
struct LocalTrackStateChanged {
  LocalTrackId id;
  LocalTrackState state;
};
struct LocalTrackSourceEnded {  // the attached source was unpublished or its peer left; the local track is
                                // now idle
  LocalTrackId id;
};
struct RequestKeyFrame {  // ask the publishing client for a key frame on this remote track (PLI/FIR)
  RemoteTrackId id;
  uint8_t spatial_layer = kAnySpatialLayer;  // simulcast: PLI that layer's SSRC; kAnySpatialLayer: every SSRC
};
struct BitrateHint {  // what the subscribers of this remote track want, at most (0 = nobody watches)
  RemoteTrackId id;
  uint32_t bitrate_bps;
};
struct LocalTrackLayerChanged {  // the layer forwarded on local track `id` changed (after its key frame)
  LocalTrackId id;
  int16_t spatial = -1;   // -1/-1: paused by the bitrate allocator
  int16_t temporal = -1;  // the highest temporal layer forwarded; 255: all of them
};
struct BandwidthWanted {  // the most this client could use (every local track at its top allowed layer)
  uint64_t bps = 0;
};
struct Message {  // application data another peer sent (to the room, or to us when `direct`)
  std::string from;
  std::string data;
  bool direct = false;
};
struct ActiveSpeakers {  // who speaks in the room, dominant first (at most 4 a second, only on change)
  core::ActiveSpeakers speakers;
};
struct ErrorEvent {
  Error error;
};

using EndpointEvent =
    std::variant<Joined, Left, PeerJoined, PeerLeft, PeerMetaChanged, TrackPublished, TrackUnpublished,
                 TrackMetaChanged, LocalMedia, LocalTrackStateChanged, LocalTrackSourceEnded, RequestKeyFrame,
                 BitrateHint, LocalTrackLayerChanged, BandwidthWanted, Message, ActiveSpeakers, ErrorEvent>;

}  // namespace atrium::core::eev

namespace atrium::core {
using eev::EndpointEvent;
}
