// What the KV bucket says about one room's peers and tracks on other nodes, kept in step with the room's
// RoomDirectory so that remote changes reach local endpoints through the same subscribe-mode rules as local
// ones. This node's own entries never pass through here: its local peers go straight into the directory.
//
// The bucket may deliver a track before its peer (a snapshot is in stream order, and a peer's meta update
// moves it behind its tracks), so tracks of a peer not yet seen wait here and enter the directory with their
// peer. Revisions make every apply idempotent: an entry delivered again or late (a re-created watch) changes
// nothing.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/room/room_directory.h"

namespace atrium::cluster::nats {

class RoomMirror {
 public:
  using Out = core::RoomDirectory::Out;
  using TrackRef = std::pair<std::string, std::string>;  // (peer, track)

  // Each returns the tracks that left the directory, so the bus can end its local subscribers.
  void put_peer(uint64_t rev, const std::string& peer, const std::string& owner, const std::string& meta,
                core::RoomDirectory& dir, Out& out);
  void put_track(uint64_t rev, const std::string& peer, const std::string& owner, const core::TrackInfo& info,
                 core::RoomDirectory& dir, Out& out);
  std::vector<TrackRef> remove_peer(uint64_t rev, const std::string& peer, core::RoomDirectory& dir,
                                    Out& out);
  std::vector<TrackRef> remove_track(uint64_t rev, const std::string& peer, const std::string& track,
                                     core::RoomDirectory& dir, Out& out);

  // After a reconnect the watch replays the room; if NATS lost its store, revisions start again from 1, so
  // the old ones must not hide the replay.
  void forget_revisions() { revisions_.clear(); }

  // Keys owned by `owner` (tracks first, then peers: the order a clean leave deletes them in).
  std::vector<TrackRef> owned_by(const std::string& owner) const;  // track empty = the peer entry
  size_t entries() const;                                          // peers and tracks held for other nodes

 private:
  struct Track {
    std::string owner;
    core::TrackInfo info;
  };
  struct Peer {
    bool present = false;       // its peer entry was seen (not only tracks waiting for it)
    bool in_directory = false;  // the directory accepted it (a local peer of the same id wins)
    std::string owner;
    std::string meta;
    std::map<std::string, Track> tracks;
  };
  bool newer(const std::string& key, uint64_t rev);

  std::map<std::string, Peer> peers_;
  std::unordered_map<std::string, uint64_t> revisions_;  // by "peer" or "peer\0track"
};

}  // namespace atrium::cluster::nats
