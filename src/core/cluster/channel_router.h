// One node's share of the cluster, as every bus serves it: rooms (RoomDirectory: who is in them, who hears
// what), the local members, and media channels (a publisher's track -> the local tracks attached to it) with
// local fan-out, key-frame requests and the bitrate a publisher is told. LocalBus is this router alone;
// NatsClusterBus is this router plus a ChannelRelay to other nodes. Sans-IO: deliveries are queued in out().
//
// Joins come in two steps because only the bus can say whether a peer id is free in the whole cluster: the
// router checks what this node knows and holds the join (the endpoint is `joining`), then the bus admits or
// refuses it, at once (LocalBus) or when its directory answered (NatsClusterBus).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/audio/active_speaker_detector.h"
#include "core/cluster/channel_relay.h"
#include "core/cluster/cluster_bus.h"
#include "core/cluster/router_types.h"
#include "core/errors.h"
#include "core/mix/room_mix.h"
#include "core/room/room_directory.h"
#include "core/util/ring_queue.h"

namespace atrium::core {

class ChannelRouter {
 public:
  using Out = RingQueue<ClusterDelivery>;

  explicit ChannelRouter(ChannelRelay* relay = nullptr) : relay_(relay) {}

  Out& out() { return out_; }

  // Why this node refuses the join already (joined or joining; the peer id is in the room's directory or
  // claimed by another pending join), or nothing.
  std::optional<Error> check_join(EndpointId from, const JoinParams& params) const;
  void hold_join(EndpointId from, const JoinParams& params);  // opens the room for it
  bool join_pending(EndpointId from) const { return pending_.count(from) > 0; }
  const JoinParams* pending_join(EndpointId from) const;
  // The verdict on a held join. Admitting still refuses if the directory got that peer id meanwhile (from
  // another node); true when the endpoint is a member now.
  bool admit(EndpointId from);
  void refuse(EndpointId from, Error error);

  // Every control but PeerJoin (the bus's business) and RemoteTrackMedia (on_media, the hot path).
  void route(EndpointId from, ClusterControl&& control);
  void on_media(EndpointId from, RemoteTrackId id, const media::MediaPacket& pkt);
  // Closes the rooms' audio-level bins and sends changed active-speaker lists to the rooms' local members;
  // ticks the rooms' mixes (their frames go out as deliveries, see on_tick).
  void on_tick(media::Micros now);

  // What the relay learned from other nodes.
  RoomDirectory* room(const std::string& name);
  const RoomDirectory* room(const std::string& name) const;
  // Media of a channel published elsewhere, to its local subscribers; false if nobody here takes it.
  bool remote_media(ChannelId id, const media::MediaPacket& pkt);
  void remote_key_frame_request(ChannelId id, uint8_t spatial_layer);  // to a local publisher
  void remote_bitrate(ChannelId id, uint32_t bps);                     // the most other nodes want
  // A track published elsewhere is gone: its local subscribers' sources end.
  void remote_track_ended(const std::string& room, const std::string& peer, const std::string& track);
  // The active-speaker detector of a room open here (levels of peers on other nodes go in through it).
  ActiveSpeakerDetector* speakers(const std::string& room);
  // The mix of a room open here, while it has a listener.
  const RoomMix* mix(const std::string& room) const;

  const std::unordered_map<EndpointId, RouterMember>& members() const { return members_; }
  const std::unordered_map<ChannelId, RouterChannel>& channels() const { return channels_; }
  BusStats stats() const;

 private:
  struct Room {
    RoomDirectory dir;
    ActiveSpeakerDetector speakers;  // fed by the room's audio published here (and the relay's summaries)
    size_t members = 0;              // local members and pending joins: the room is open while there are any
    // The room's audio mixed for the local members that asked for it (LocalMixStarted): made with the first
    // listener, dropped with the last. Its inputs are every audio track in the directory.
    std::unique_ptr<RoomMix> mix;
    media::Micros mix_synced = 0;  // when the inputs were last checked against the directory
  };
  static constexpr media::Micros kMixSyncInterval = 100'000;
  struct EpTrack {
    EndpointId ep;
    uint32_t id;
    bool operator==(const EpTrack&) const = default;
  };
  struct EpTrackHash {
    size_t operator()(const EpTrack& k) const {
      return std::hash<uint64_t>()(k.ep * 0x9e3779b97f4a7c15ULL ^ k.id);
    }
  };

  Room& open_room(const std::string& name);
  void release_room(const std::string& name);  // one member or pending join fewer; closes it when idle
  void on_leave(EndpointId from);
  void on_track_started(EndpointId from, const RouterMember& m, RemoteTrackId id, const TrackInfo& info);
  void on_track_ended(EndpointId from, const RouterMember& m, RemoteTrackId id);
  void on_local_started(EndpointId from, const RouterMember& m, const ccl::LocalTrackStarted& c);
  void on_local_ended(EndpointId from, LocalTrackId id);
  void on_mix_started(EndpointId from, const RouterMember& m, Room& room, LocalTrackId id, media::Codec codec);
  // The mix's inputs follow the room's audio tracks: every one in the directory (a track on another node
  // gets a channel the relay feeds), none that left it.
  void sync_mix(const std::string& name, Room& room);
  void mix_channel(RouterChannel& ch, RoomMix& mix);
  void unmix_channel(RouterChannel& ch);
  void drop_mix(Room& room);  // the last listener went
  void on_message(EndpointId from, const RouterMember& m, Room& room, const ccl::PeerMessage& c);
  void end_subscribers(RouterChannel& ch);
  void announce_bitrate(RouterChannel& ch);

  ChannelRelay* relay_;
  Out out_{256};
  std::unordered_map<std::string, Room> rooms_;
  std::unordered_map<EndpointId, RouterMember> members_;
  std::unordered_map<EndpointId, JoinParams> pending_;
  std::unordered_map<ChannelId, RouterChannel> channels_;
  std::unordered_map<EpTrack, ChannelId, EpTrackHash> published_;   // (publisher, remote track) -> channel
  std::unordered_map<EpTrack, ChannelId, EpTrackHash> subscribed_;  // (subscriber, local track) -> channel
};

}  // namespace atrium::core
