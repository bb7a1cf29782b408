#include "cluster/nats/room_mirror.h"

namespace atrium::cluster::nats {

namespace {

std::string rev_key(const std::string& peer, const std::string& track) {
  std::string k = peer;
  if (!track.empty()) {
    k.push_back('\0');
    k += track;
  }
  return k;
}

}  // namespace

bool RoomMirror::newer(const std::string& key, uint64_t rev) {
  if (rev == 0) return true;  // a local decision (a dead node's cleanup), not a bucket revision
  uint64_t& last = revisions_[key];
  if (rev <= last) return false;
  last = rev;
  return true;
}

void RoomMirror::put_peer(uint64_t rev, const std::string& peer, const std::string& owner,
                          const std::string& meta, core::RoomDirectory& dir, Out& out) {
  if (!newer(rev_key(peer, {}), rev)) return;
  Peer& p = peers_[peer];
  p.owner = owner;
  if (p.present) {
    if (p.meta != meta) {
      p.meta = meta;
      if (p.in_directory) dir.set_peer_meta(peer, meta, out);
    }
    return;
  }
  p.present = true;
  p.meta = meta;
  p.in_directory = dir.add_peer(peer, meta, out);
  if (!p.in_directory) return;
  for (const auto& [name, t] : p.tracks)
    dir.add_track(peer, t.info, out);
}

void RoomMirror::put_track(uint64_t rev, const std::string& peer, const std::string& owner,
                           const core::TrackInfo& info, core::RoomDirectory& dir, Out& out) {
  if (!newer(rev_key(peer, info.name), rev)) return;
  Peer& p = peers_[peer];
  auto [it, inserted] = p.tracks.try_emplace(info.name, Track{owner, info});
  if (!inserted) {
    it->second.owner = owner;
    if (it->second.info.meta == info.meta) return;
    it->second.info.meta = info.meta;
    if (p.in_directory) dir.set_track_meta(peer, info.name, info.meta, out);
    return;
  }
  if (p.in_directory) dir.add_track(peer, info, out);
}

std::vector<RoomMirror::TrackRef> RoomMirror::remove_peer(uint64_t rev, const std::string& peer,
                                                          core::RoomDirectory& dir, Out& out) {
  std::vector<TrackRef> ended;
  if (!newer(rev_key(peer, {}), rev)) return ended;
  auto it = peers_.find(peer);
  if (it == peers_.end()) return ended;
  if (it->second.in_directory) {
    for (const auto& [name, t] : it->second.tracks)
      ended.emplace_back(peer, name);
    dir.remove_peer(peer, out);  // announces its tracks' end, then the peer's
  }
  peers_.erase(it);
  return ended;
}

std::vector<RoomMirror::TrackRef> RoomMirror::remove_track(uint64_t rev, const std::string& peer,
                                                           const std::string& track, core::RoomDirectory& dir,
                                                           Out& out) {
  std::vector<TrackRef> ended;
  if (!newer(rev_key(peer, track), rev)) return ended;
  auto it = peers_.find(peer);
  if (it == peers_.end() || it->second.tracks.erase(track) == 0) return ended;
  if (it->second.in_directory && dir.remove_track(peer, track, out)) ended.emplace_back(peer, track);
  if (!it->second.present && it->second.tracks.empty()) peers_.erase(it);
  return ended;
}

std::vector<RoomMirror::TrackRef> RoomMirror::owned_by(const std::string& owner) const {
  std::vector<TrackRef> tracks;
  std::vector<TrackRef> peers;
  for (const auto& [name, p] : peers_) {
    for (const auto& [track, t] : p.tracks)
      if (t.owner == owner) tracks.emplace_back(name, track);
    if (p.present && p.owner == owner) peers.emplace_back(name, std::string());
  }
  tracks.insert(tracks.end(), peers.begin(), peers.end());
  return tracks;
}

size_t RoomMirror::entries() const {
  size_t n = 0;
  for (const auto& [name, p] : peers_)
    n += (p.present ? 1 : 0) + p.tracks.size();
  return n;
}

}  // namespace atrium::cluster::nats
