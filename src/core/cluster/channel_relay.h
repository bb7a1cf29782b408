// What ChannelRouter tells the rest of the cluster. The router serves one node's endpoints by itself; a relay
// is how other nodes learn what changed here and how this node asks them for media. LocalBus has none (one
// process is the whole cluster); NatsClusterBus is one, over NATS. Every call is made from inside a router
// call, so a relay must not call back into the router; what it learns later it hands in through the router's
// remote_* methods. Calls must not block: anything that waits for an answer is queued elsewhere.
#pragma once

#include <string>

#include "core/cluster/router_types.h"
#include "media/media_packet.h"

namespace atrium::core {

class ChannelRelay {
 public:
  virtual ~ChannelRelay() = default;

  // A room gets its first local member or pending join, or loses its last one.
  virtual void room_opened(const std::string& room) = 0;
  virtual void room_closed(const std::string& room) = 0;
  // A pending join was dropped before its verdict (the endpoint left or went away).
  virtual void join_cancelled(EndpointId ep, const JoinParams& params) = 0;
  virtual void peer_meta_changed(const RouterMember& m) = 0;
  virtual void peer_left(const RouterMember& m) = 0;

  // Tracks published here.
  virtual void track_published(const RouterChannel& ch) = 0;
  virtual void track_meta_changed(const RouterChannel& ch) = 0;
  virtual void track_unpublished(const RouterChannel& ch) = 0;
  // A packet of a track published here, after the local subscribers got it.
  virtual void media(const RouterChannel& ch, const media::MediaPacket& pkt) = 0;

  // Tracks published on another node, while this node has local subscribers.
  virtual void remote_channel_opened(const RouterChannel& ch) = 0;
  // `source_ended`: the track itself went away (nothing to tell its node), not only our last viewer.
  virtual void remote_channel_closed(const RouterChannel& ch, bool source_ended) = 0;
  virtual void remote_key_frame_wanted(const RouterChannel& ch, uint8_t spatial_layer) = 0;
  // The most the local subscribers want; called whenever the router re-evaluates it (the relay
  // de-duplicates).
  virtual void remote_bitrate_wanted(const RouterChannel& ch, uint32_t bps) = 0;

  // An application message from local peer `from` that local members could not take all of: room-wide, or to
  // a peer the directory knows on another node.
  virtual void message(const std::string& room, const std::string& from, const std::string& to,
                       const std::string& data) = 0;
};

}  // namespace atrium::core
