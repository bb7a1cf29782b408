#include "core/room/room_directory.h"

namespace atrium::core {

bool RoomDirectory::sees_peer(const Member& m, const std::string& peer) {
  return m.peer != peer && (m.peers == SubscribeMode::kAuto || m.watched.count(peer) > 0);
}

bool RoomDirectory::sees_tracks(const Member& m, const std::string& peer) {
  return m.peer != peer && (m.tracks == SubscribeMode::kAuto || m.watched.count(peer) > 0);
}

bool RoomDirectory::add_peer(const std::string& peer, const std::string& meta, Out& out) {
  auto [it, inserted] = peers_.try_emplace(peer, Peer{meta, {}});
  if (!inserted) return false;
  for (const auto& [ep, m] : members_)
    if (sees_peer(m, peer)) out.push({ep, cev::PeerJoined{peer, meta}});
  return true;
}

void RoomDirectory::remove_peer(const std::string& peer, Out& out) {
  auto it = peers_.find(peer);
  if (it == peers_.end()) return;
  for (const auto& [ep, m] : members_) {
    if (sees_tracks(m, peer))
      for (const auto& [name, info] : it->second.tracks)
        out.push({ep, cev::TrackUnpublished{peer, name}});
    if (sees_peer(m, peer)) out.push({ep, cev::PeerLeft{peer}});
  }
  peers_.erase(it);
}

void RoomDirectory::set_peer_meta(const std::string& peer, const std::string& meta, Out& out) {
  auto it = peers_.find(peer);
  if (it == peers_.end()) return;
  it->second.meta = meta;
  for (const auto& [ep, m] : members_)
    if (sees_peer(m, peer)) out.push({ep, cev::PeerMeta{peer, meta}});
}

bool RoomDirectory::add_track(const std::string& peer, const TrackInfo& info, Out& out) {
  auto it = peers_.find(peer);
  if (it == peers_.end()) return false;
  if (!it->second.tracks.try_emplace(info.name, info).second) return false;
  for (const auto& [ep, m] : members_)
    if (sees_tracks(m, peer)) out.push({ep, cev::TrackPublished{peer, info}});
  return true;
}

bool RoomDirectory::remove_track(const std::string& peer, const std::string& track, Out& out) {
  auto it = peers_.find(peer);
  if (it == peers_.end() || it->second.tracks.erase(track) == 0) return false;
  for (const auto& [ep, m] : members_)
    if (sees_tracks(m, peer)) out.push({ep, cev::TrackUnpublished{peer, track}});
  return true;
}

bool RoomDirectory::set_track_meta(const std::string& peer, const std::string& track, const std::string& meta,
                                   Out& out) {
  auto it = peers_.find(peer);
  if (it == peers_.end()) return false;
  auto t = it->second.tracks.find(track);
  if (t == it->second.tracks.end()) return false;
  t->second.meta = meta;
  for (const auto& [ep, m] : members_)
    if (sees_tracks(m, peer)) out.push({ep, cev::TrackMeta{peer, track, meta}});
  return true;
}

void RoomDirectory::announce_peer(EndpointId ep, const std::string& name, const Peer& p, bool peer_events,
                                  bool track_events, Out& out) const {
  if (peer_events) out.push({ep, cev::PeerJoined{name, p.meta}});
  if (track_events)
    for (const auto& [track, info] : p.tracks)
      out.push({ep, cev::TrackPublished{name, info}});
}

void RoomDirectory::add_member(EndpointId ep, const JoinParams& params, Out& out) {
  Member& m = members_[ep];
  m = Member{params.peer, params.peers, params.tracks, {}};
  for (const auto& [name, p] : peers_)
    announce_peer(ep, name, p, sees_peer(m, name), sees_tracks(m, name), out);
}

void RoomDirectory::deliver_speakers(const ActiveSpeakers& speakers, Out& out, EndpointId only) const {
  for (const auto& [ep, m] : members_) {
    if (only && ep != only) continue;
    ActiveSpeakers seen;
    for (const auto& s : speakers)
      if (s.peer == m.peer || sees_peer(m, s.peer)) seen.push_back(s);
    out.push({ep, cev::ActiveSpeakersChanged{std::move(seen)}});
  }
}

bool RoomDirectory::deliver_message(const std::string& from, const std::string& to, const std::string& data,
                                    Out& out) const {
  bool found = false;
  for (const auto& [ep, m] : members_) {
    if (m.peer == from || (!to.empty() && m.peer != to)) continue;
    out.push({ep, cev::MessageReceived{from, data, !to.empty()}});
    found = true;
  }
  return found || to.empty();
}

void RoomDirectory::remove_member(EndpointId ep) {
  members_.erase(ep);
}

void RoomDirectory::watch(EndpointId ep, const std::string& peer, Out& out) {
  auto it = members_.find(ep);
  if (it == members_.end()) return;
  Member& m = it->second;
  const bool saw_peer = sees_peer(m, peer);
  const bool saw_tracks = sees_tracks(m, peer);
  m.watched.insert(peer);
  auto p = peers_.find(peer);
  if (p == peers_.end()) return;
  // Only what becomes newly visible is announced, so a client never hears of the same peer twice.
  announce_peer(ep, peer, p->second, !saw_peer && sees_peer(m, peer), !saw_tracks && sees_tracks(m, peer),
                out);
}

bool RoomDirectory::unwatch(EndpointId ep, const std::string& peer, Out& out) {
  auto it = members_.find(ep);
  if (it == members_.end() || it->second.watched.count(peer) == 0) return false;
  Member& m = it->second;
  const bool saw_peer = sees_peer(m, peer);
  const bool saw_tracks = sees_tracks(m, peer);
  m.watched.erase(peer);
  auto p = peers_.find(peer);
  if (p == peers_.end()) return true;
  if (saw_tracks && !sees_tracks(m, peer))
    for (const auto& [track, info] : p->second.tracks)
      out.push({ep, cev::TrackUnpublished{peer, track}});
  if (saw_peer && !sees_peer(m, peer)) out.push({ep, cev::PeerLeft{peer}});
  return true;
}

bool RoomDirectory::watching(EndpointId ep, const std::string& peer) const {
  auto it = members_.find(ep);
  return it != members_.end() && it->second.watched.count(peer) > 0;
}

bool RoomDirectory::has_track(const std::string& peer, const std::string& track) const {
  auto it = peers_.find(peer);
  return it != peers_.end() && it->second.tracks.count(track) > 0;
}

const RoomDirectory::Peer* RoomDirectory::peer(const std::string& peer) const {
  auto it = peers_.find(peer);
  return it == peers_.end() ? nullptr : &it->second;
}

}  // namespace atrium::core
