#include "core/cluster/local_bus.h"

#include <algorithm>
#include <limits>

#include "core/util/overloaded.h"

namespace atrium::core {

void LocalBus::send(media::Micros, EndpointId from, ClusterControl&& control) {
  if (auto* media = std::get_if<ccl::RemoteTrackMedia>(&control)) {  // the hot path first
    on_media(from, media->id, media->packet);
    return;
  }
  if (auto* join = std::get_if<ccl::PeerJoin>(&control)) {
    on_join(from, join->params);
    return;
  }
  auto mit = members_.find(from);
  if (mit == members_.end())
    return;  // controls from an endpoint that is not in a room have nothing to act on
  const Member& m = mit->second;
  RoomDirectory& room = rooms_[m.room];
  std::visit(Overloaded{
                 [&](ccl::PeerLeave&) { on_leave(from); },
                 [&](ccl::PeerMeta& c) { room.set_peer_meta(m.peer, c.meta, out_); },
                 [&](ccl::WatchPeer& c) { room.watch(from, c.peer, out_); },
                 [&](ccl::UnwatchPeer& c) { room.unwatch(from, c.peer, out_); },
                 [&](ccl::RemoteTrackStarted& c) { on_track_started(from, m, c.id, c.info); },
                 [&](ccl::RemoteTrackMeta& c) {
                   auto p = published_.find({from, c.id});
                   if (p != published_.end())
                     room.set_track_meta(m.peer, channels_[p->second].track, c.meta, out_);
                 },
                 [&](ccl::RemoteTrackEnded& c) { on_track_ended(from, m, c.id); },
                 [&](ccl::LocalTrackStarted& c) { on_local_started(from, m, c); },
                 [&](ccl::LocalTrackKeyFrameRequest& c) {
                   auto s = subscribed_.find({from, c.id});
                   if (s == subscribed_.end()) return;
                   const Channel& ch = channels_[s->second];
                   if (ch.publisher)
                     out_.push({ch.publisher, cev::RemoteTrackKeyFrameRequest{ch.remote, c.spatial_layer}});
                 },
                 [&](ccl::LocalTrackDesiredBitrate& c) {
                   auto s = subscribed_.find({from, c.id});
                   if (s == subscribed_.end()) return;
                   Channel& ch = channels_[s->second];
                   for (auto& sub : ch.subscribers)
                     if (sub.ep == from && sub.id == c.id) sub.desired_bps = c.bitrate_bps;
                   announce_bitrate(ch);
                 },
                 [&](ccl::LocalTrackEnded& c) { on_local_ended(from, c.id); },
                 [&](ccl::PeerMessage& c) {
                   if (!room.deliver_message(m.peer, c.to, c.data, out_))
                     out_.push({from, cev::MessageRejected{{ErrorCode::kPeerNotFound,
                                                            "peer '" + c.to + "' is not in the room"}}});
                 },
                 [&](ccl::PeerJoin&) {},
                 [&](ccl::RemoteTrackMedia&) {},
             },
             control);
}

void LocalBus::on_join(EndpointId from, const JoinParams& params) {
  if (members_.count(from)) {
    out_.push({from, cev::JoinRejected{{ErrorCode::kAlreadyJoined, "this session already joined a room"}}});
    return;
  }
  RoomDirectory& room = rooms_[params.room];
  if (!room.add_peer(params.peer, params.meta, out_)) {
    out_.push({from, cev::JoinRejected{
                         {ErrorCode::kPeerIdTaken,
                          "peer id '" + params.peer + "' is already in room '" + params.room + "'"}}});
    if (room.empty()) rooms_.erase(params.room);
    return;
  }
  members_[from] = Member{params.room, params.peer};
  out_.push({from, cev::JoinAccepted{}});
  room.add_member(from, params, out_);
}

void LocalBus::on_leave(EndpointId from) {
  auto mit = members_.find(from);
  if (mit == members_.end()) return;
  const Member m = mit->second;
  // Whatever the endpoint did not clean up itself is cleaned here, so a vanished client leaves nothing
  // behind.
  std::vector<uint32_t> ids;
  for (const auto& [key, ch] : subscribed_)
    if (key.ep == from) ids.push_back(key.id);
  for (auto id : ids)
    on_local_ended(from, id);
  ids.clear();
  for (const auto& [key, ch] : published_)
    if (key.ep == from) ids.push_back(key.id);
  for (auto id : ids)
    on_track_ended(from, m, id);

  auto rit = rooms_.find(m.room);
  rit->second.remove_member(from);
  rit->second.remove_peer(m.peer, out_);
  if (rit->second.empty()) rooms_.erase(rit);
  members_.erase(from);
}

void LocalBus::on_track_started(EndpointId from, const Member& m, RemoteTrackId id, const TrackInfo& info) {
  RoomDirectory& room = rooms_[m.room];
  if (published_.count({from, id}) || !room.add_track(m.peer, info, out_))
    return;  // the endpoint checked names
  const ChannelId cid = channel_id(m.room, m.peer, info.name);
  Channel& ch = channels_[cid];
  ch.publisher = from;
  ch.remote = id;
  ch.track = info.name;
  published_[{from, id}] = cid;
}

void LocalBus::on_track_ended(EndpointId from, const Member& m, RemoteTrackId id) {
  auto p = published_.find({from, id});
  if (p == published_.end()) return;
  const ChannelId cid = p->second;
  published_.erase(p);
  auto cit = channels_.find(cid);
  for (const auto& sub : cit->second.subscribers) {
    out_.push({sub.ep, cev::LocalTrackSourceEnded{sub.id}});
    subscribed_.erase({sub.ep, sub.id});
  }
  rooms_[m.room].remove_track(m.peer, cit->second.track, out_);
  channels_.erase(cit);
}

void LocalBus::on_media(EndpointId from, RemoteTrackId id, const media::MediaPacket& pkt) {
  auto p = published_.find({from, id});
  if (p == published_.end()) return;
  const Channel& ch = channels_.find(p->second)->second;
  for (const auto& sub : ch.subscribers)
    out_.push({sub.ep, cev::LocalTrackMedia{sub.id, pkt}});
}

void LocalBus::on_local_started(EndpointId from, const Member& m, const ccl::LocalTrackStarted& c) {
  if (subscribed_.count({from, c.id}))
    on_local_ended(from, c.id);  // a source switch: leave the old channel first
  const RoomDirectory& room = rooms_[m.room];
  const ChannelId cid = channel_id(m.room, c.peer, c.track);
  auto cit = channels_.find(cid);
  if (!room.has_track(c.peer, c.track) || cit == channels_.end()) {
    out_.push({from, cev::LocalTrackAttachFailed{
                         c.id,
                         {ErrorCode::kTrackNotFound, "peer '" + c.peer + "' publishes no track '" + c.track +
                                                         "' in room '" + m.room + "'"}}});
    return;
  }
  cit->second.subscribers.push_back({from, c.id, std::numeric_limits<uint32_t>::max()});
  subscribed_[{from, c.id}] = cid;
  announce_bitrate(cit->second);
}

void LocalBus::on_local_ended(EndpointId from, LocalTrackId id) {
  auto s = subscribed_.find({from, id});
  if (s == subscribed_.end()) return;
  auto cit = channels_.find(s->second);
  subscribed_.erase(s);
  if (cit == channels_.end()) return;
  auto& subs = cit->second.subscribers;
  subs.erase(std::remove_if(subs.begin(), subs.end(),
                            [&](const Subscriber& x) { return x.ep == from && x.id == id; }),
             subs.end());
  announce_bitrate(cit->second);
}

void LocalBus::announce_bitrate(Channel& ch) {
  uint32_t want = 0;
  for (const auto& sub : ch.subscribers)
    want = std::max(want, sub.desired_bps);
  if (want == ch.announced_bps || !ch.publisher) return;
  ch.announced_bps = want;
  out_.push({ch.publisher, cev::RemoteTrackDesiredBitrate{ch.remote, want}});
}

BusStats LocalBus::stats() const {
  BusStats s;
  s.rooms = rooms_.size();
  s.peers = members_.size();
  s.tracks = published_.size();
  s.channels = channels_.size();
  s.subscriptions = subscribed_.size();
  return s;
}

const RoomDirectory* LocalBus::room(const std::string& name) const {
  auto it = rooms_.find(name);
  return it == rooms_.end() ? nullptr : &it->second;
}

}  // namespace atrium::core
