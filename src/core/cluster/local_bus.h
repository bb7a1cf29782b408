// The embedded cluster: every endpoint in one process (one worker), no external service. Rooms live in
// RoomDirectory; media channels map a publisher's track to the local tracks attached to it.
#pragma once

#include <string>
#include <unordered_map>
#include <vector>

#include "core/cluster/cluster_bus.h"
#include "core/room/room_directory.h"
#include "core/util/ring_queue.h"

namespace atrium::core {

class LocalBus final : public ClusterBus {
 public:
  void send(media::Micros now, EndpointId from, ClusterControl&& control) override;
  std::optional<ClusterDelivery> pop_delivery() override { return out_.pop(); }
  void on_tick(media::Micros) override {}
  BusStats stats() const override;

  const RoomDirectory* room(const std::string& name) const;

 private:
  struct Member {
    std::string room;
    std::string peer;
  };
  struct Subscriber {
    EndpointId ep;
    LocalTrackId id;
    uint32_t desired_bps;  // UINT32_MAX: no limit
  };
  struct Channel {
    EndpointId publisher = 0;
    RemoteTrackId remote = 0;
    std::string track;
    std::vector<Subscriber> subscribers;
    uint32_t announced_bps = 0;  // what the publisher was last told
  };
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

  void on_join(EndpointId from, const JoinParams& params);
  void on_leave(EndpointId from);
  void on_track_started(EndpointId from, const Member& m, RemoteTrackId id, const TrackInfo& info);
  void on_track_ended(EndpointId from, const Member& m, RemoteTrackId id);
  void on_media(EndpointId from, RemoteTrackId id, const media::MediaPacket& pkt);
  void on_local_started(EndpointId from, const Member& m, const ccl::LocalTrackStarted& c);
  void on_local_ended(EndpointId from, LocalTrackId id);
  void announce_bitrate(Channel& ch);

  RingQueue<ClusterDelivery> out_{256};
  std::unordered_map<std::string, RoomDirectory> rooms_;
  std::unordered_map<EndpointId, Member> members_;
  std::unordered_map<ChannelId, Channel> channels_;
  std::unordered_map<EpTrack, ChannelId, EpTrackHash> published_;   // (publisher, remote track) -> channel
  std::unordered_map<EpTrack, ChannelId, EpTrackHash> subscribed_;  // (subscriber, local track) -> channel
};

}  // namespace atrium::core
