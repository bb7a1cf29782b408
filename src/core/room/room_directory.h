// One room as one node sees it: who is in it, what they publish, and which local endpoints should hear about
// what. The subscribe-mode rules live here once, for every bus: a member sees a peer's events when its peer
// mode is auto or it subscribed to that peer, and likewise a peer's tracks with its track mode. Nobody sees
// itself.
#pragma once

#include <map>
#include <set>
#include <string>
#include <unordered_map>

#include "core/cluster/cluster_bus.h"
#include "core/events/room_types.h"
#include "core/util/ring_queue.h"

namespace atrium::core {

class RoomDirectory {
 public:
  struct Peer {
    std::string meta;
    std::map<std::string, TrackInfo> tracks;  // ordered: snapshots come in a stable order
  };
  using Out = RingQueue<ClusterDelivery>;

  // Directory changes, from local endpoints or (with a cluster) from other nodes.
  bool add_peer(const std::string& peer, const std::string& meta, Out& out);
  void remove_peer(const std::string& peer, Out& out);  // its tracks end first, then the peer leaves
  void set_peer_meta(const std::string& peer, const std::string& meta, Out& out);
  bool add_track(const std::string& peer, const TrackInfo& info, Out& out);
  bool remove_track(const std::string& peer, const std::string& track, Out& out);
  bool set_track_meta(const std::string& peer, const std::string& track, const std::string& meta, Out& out);

  // Local endpoints that listen to this room. Adding one sends it a snapshot of what it may see.
  void add_member(EndpointId ep, const JoinParams& params, Out& out);
  void remove_member(EndpointId ep);
  void watch(EndpointId ep, const std::string& peer, Out& out);  // peer need not exist yet
  bool unwatch(EndpointId ep, const std::string& peer, Out& out);
  bool watching(EndpointId ep, const std::string& peer) const;
  // Application data from `from` to every other member (`to` empty) or to the members that are peer `to`.
  // False when `to` names nobody here.
  bool deliver_message(const std::string& from, const std::string& to, const std::string& data,
                       Out& out) const;

  // The room's active speakers to every member, each list filtered to the peers that member sees (and
  // itself: a client may show that it is the one speaking).
  // `only`: to that member alone (one that just joined), 0: to all.
  void deliver_speakers(const ActiveSpeakers& speakers, Out& out, EndpointId only = 0) const;

  bool has_peer(const std::string& peer) const { return peers_.count(peer) > 0; }
  bool has_track(const std::string& peer, const std::string& track) const;
  const Peer* peer(const std::string& peer) const;
  const std::map<std::string, Peer>& peers() const { return peers_; }
  size_t peer_count() const { return peers_.size(); }
  size_t member_count() const { return members_.size(); }
  bool empty() const { return peers_.empty() && members_.empty(); }

 private:
  struct Member {
    std::string peer;
    SubscribeMode peers = SubscribeMode::kAuto;
    SubscribeMode tracks = SubscribeMode::kAuto;
    std::set<std::string> watched;
  };
  static bool sees_peer(const Member& m, const std::string& peer);
  static bool sees_tracks(const Member& m, const std::string& peer);
  void announce_peer(EndpointId ep, const std::string& name, const Peer& p, bool peer_events,
                     bool track_events, Out& out) const;

  std::map<std::string, Peer> peers_;
  std::unordered_map<EndpointId, Member> members_;
};

}  // namespace atrium::core
