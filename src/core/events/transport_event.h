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
// What a local track carrying the mix reports as its source (LocalTrack::source_peer/source_track): a
// peer id no client can have (valid names are 1-128 of A-Z a-z 0-9 - _ . ~), and not empty (a LocalTrack
// without a source peer is idle).
inline constexpr const char* kMixSourcePeer = "*";
inline constexpr const char* kMixSourceTrack = "mix";
struct AttachMix {  // make local track `id` (audio) carry the room's mix-minus: the K loudest of everyone's
                    // audio but this peer's own (docs/mixer.md, "In the room")
  LocalTrackId id;
  // What the mix is encoded to: Opus (48 kHz clock), or G.711 kPcmu / kPcma (8 kHz, 160 bytes per 20 ms) for
  // a telephone, so it is not transcoded twice. Listeners with the same codec share one encode.
  media::Codec codec = media::Codec::kOpus;
};
struct Detach {  // a track or a mix
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
                                    Unpublish, UpdateTrackMeta, RemoteMedia, Attach, AttachMix, Detach,
                                    SetLimits, SetPaused, RequestKeyFrame, BandwidthEstimate, SendMessage>;

}  // namespace atrium::core::tev

namespace atrium::core {
using tev::TransportEvent;
}
