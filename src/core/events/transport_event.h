// Transport -> Endpoint: what any protocol plugin (WHIP, WHEP, the SDK, later RTMP or SIP) tells the core.
#pragma once

#include <string>
#include <variant>

#include "core/events/room_types.h"
#include "core/ids.h"

namespace atrium::core::tev {

struct Join {
  JoinParams params;
};
struct Leave {};
struct UpdatePeerMeta {
  std::string meta;
};
struct SubscribePeer {  // manual peer mode: start receiving this peer's events
  std::string peer;
};
struct UnsubscribePeer {
  std::string peer;
};
struct Publish {
  RemoteTrackId id;
  TrackInfo info;
};
struct Unpublish {
  RemoteTrackId id;
};
struct UpdateTrackMeta {
  RemoteTrackId id;
  std::string meta;
};
struct RemoteMedia {  // one packet received from the client on a published track
  RemoteTrackId id;
  media::MediaPacket packet;
};
struct Attach {  // make local track `id` carry (peer, track); re-attaching an attached id switches its source
  LocalTrackId id;
  std::string peer;
  std::string track;
};
struct Detach {
  LocalTrackId id;
};
struct SetLimits {
  LocalTrackId id;
  LocalTrackLimits limits;
};
struct SetPaused {
  LocalTrackId id;
  bool paused;
};
struct RequestKeyFrame {  // the receiving client lost its picture (PLI/FIR)
  LocalTrackId id;
};
struct BandwidthEstimate {  // what the transport's send-side estimator says this client can receive now
  uint64_t bps = 0;
};
struct SendMessage {  // application data to every other member of the room (`to` empty) or to one peer
  std::string to;
  std::string data;
};

using TransportEvent = std::variant<Join, Leave, UpdatePeerMeta, SubscribePeer, UnsubscribePeer, Publish,
                                    Unpublish, UpdateTrackMeta, RemoteMedia, Attach, Detach, SetLimits,
                                    SetPaused, RequestKeyFrame, BandwidthEstimate, SendMessage>;

}  // namespace atrium::core::tev

namespace atrium::core {
using tev::TransportEvent;
}
