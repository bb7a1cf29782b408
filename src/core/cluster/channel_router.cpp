#include "core/cluster/channel_router.h"

#include <algorithm>
#include <limits>

#include "core/util/overloaded.h"

namespace atrium::core {

std::optional<Error> ChannelRouter::check_join(EndpointId from, const JoinParams& params) const {
  if (members_.count(from) || pending_.count(from))
    return Error{ErrorCode::kAlreadyJoined, "this session already joined a room"};
  bool taken = false;
  if (const RoomDirectory* dir = room(params.room)) taken = dir->has_peer(params.peer);
  for (const auto& [ep, p] : pending_)
    taken = taken || (p.room == params.room && p.peer == params.peer);
  if (taken)
    return Error{ErrorCode::kPeerIdTaken,
                 "peer id '" + params.peer + "' is already in room '" + params.room + "'"};
  return std::nullopt;
}

void ChannelRouter::hold_join(EndpointId from, const JoinParams& params) {
  open_room(params.room);
  pending_[from] = params;
}

const JoinParams* ChannelRouter::pending_join(EndpointId from) const {
  auto it = pending_.find(from);
  return it == pending_.end() ? nullptr : &it->second;
}

bool ChannelRouter::admit(EndpointId from) {
  auto it = pending_.find(from);
  if (it == pending_.end()) return false;
  const JoinParams params = std::move(it->second);
  pending_.erase(it);
  Room& room = rooms_.at(params.room);
  if (!room.dir.add_peer(params.peer, params.meta, out_)) {
    out_.push({from, cev::JoinRejected{
                         {ErrorCode::kPeerIdTaken,
                          "peer id '" + params.peer + "' is already in room '" + params.room + "'"}}});
    release_room(params.room);
    return false;
  }
  members_[from] = RouterMember{params.room, params.peer, params.meta};
  out_.push({from, cev::JoinAccepted{}});
  room.dir.add_member(from, params, out_);
  if (!room.speakers.speakers().empty()) room.dir.deliver_speakers(room.speakers.speakers(), out_, from);
  return true;
}

void ChannelRouter::refuse(EndpointId from, Error error) {
  auto it = pending_.find(from);
  if (it == pending_.end()) return;
  const std::string room = it->second.room;
  pending_.erase(it);
  out_.push({from, cev::JoinRejected{std::move(error)}});
  release_room(room);
}

ChannelRouter::Room& ChannelRouter::open_room(const std::string& name) {
  auto [it, inserted] = rooms_.try_emplace(name);
  ++it->second.members;
  if (inserted && relay_) relay_->room_opened(name);
  return it->second;
}

void ChannelRouter::release_room(const std::string& name) {
  auto it = rooms_.find(name);
  if (it == rooms_.end() || --it->second.members > 0) return;
  rooms_.erase(it);
  if (relay_) relay_->room_closed(name);
}

void ChannelRouter::route(EndpointId from, ClusterControl&& control) {
  auto mit = members_.find(from);
  if (mit == members_.end()) {
    auto pit = pending_.find(from);
    if (pit != pending_.end() && std::holds_alternative<ccl::PeerLeave>(control)) {
      // Left (or went away) while the bus was still asking the directory: the verdict finds nobody.
      const JoinParams params = std::move(pit->second);
      pending_.erase(pit);
      if (relay_) relay_->join_cancelled(from, params);
      release_room(params.room);
    }
    return;  // controls from an endpoint that is not in a room have nothing to act on
  }
  RouterMember& m = mit->second;
  Room& room = rooms_.at(m.room);
  std::visit(Overloaded{
                 [&](ccl::PeerLeave&) { on_leave(from); },
                 [&](ccl::PeerMeta& c) {
                   m.meta = c.meta;
                   room.dir.set_peer_meta(m.peer, c.meta, out_);
                   if (relay_) relay_->peer_meta_changed(m);
                 },
                 [&](ccl::WatchPeer& c) {
                   room.dir.watch(from, c.peer, out_);
                   room.dir.deliver_speakers(room.speakers.speakers(), out_, from);  // its view may grow
                 },
                 [&](ccl::UnwatchPeer& c) {
                   room.dir.unwatch(from, c.peer, out_);
                   room.dir.deliver_speakers(room.speakers.speakers(), out_, from);  // or shrink
                 },
                 [&](ccl::RemoteTrackStarted& c) { on_track_started(from, m, c.id, c.info); },
                 [&](ccl::RemoteTrackMeta& c) {
                   auto p = published_.find({from, c.id});
                   if (p == published_.end()) return;
                   RouterChannel& ch = channels_.at(p->second);
                   ch.info.meta = c.meta;
                   room.dir.set_track_meta(m.peer, ch.info.name, c.meta, out_);
                   if (relay_) relay_->track_meta_changed(ch);
                 },
                 [&](ccl::RemoteTrackEnded& c) { on_track_ended(from, m, c.id); },
                 [&](ccl::LocalTrackStarted& c) { on_local_started(from, m, c); },
                 [&](ccl::LocalMixStarted& c) { on_mix_started(from, m, room, c.id, c.codec); },
                 [&](ccl::LocalTrackKeyFrameRequest& c) {
                   auto s = subscribed_.find({from, c.id});
                   if (s == subscribed_.end()) return;
                   const RouterChannel& ch = channels_.at(s->second);
                   if (ch.publisher)
                     out_.push({ch.publisher, cev::RemoteTrackKeyFrameRequest{ch.remote, c.spatial_layer}});
                   else if (relay_)
                     relay_->remote_key_frame_wanted(ch, c.spatial_layer);
                 },
                 [&](ccl::LocalTrackDesiredBitrate& c) {
                   auto s = subscribed_.find({from, c.id});
                   if (s == subscribed_.end()) return;
                   RouterChannel& ch = channels_.at(s->second);
                   for (auto& sub : ch.subscribers)
                     if (sub.ep == from && sub.id == c.id) sub.desired_bps = c.bitrate_bps;
                   announce_bitrate(ch);
                 },
                 [&](ccl::LocalTrackEnded& c) { on_local_ended(from, c.id); },
                 [&](ccl::PeerMessage& c) { on_message(from, m, room, c); },
                 [&](ccl::PeerJoin&) {},
                 [&](ccl::RemoteTrackMedia& c) { on_media(from, c.id, c.packet); },
             },
             control);
}

void ChannelRouter::on_leave(EndpointId from) {
  auto mit = members_.find(from);
  if (mit == members_.end()) return;
  const RouterMember m = mit->second;
  // Whatever the endpoint did not clean up itself is cleaned here, so a vanished client leaves nothing
  // behind.
  std::vector<uint32_t> ids;
  for (const auto& [key, ch] : subscribed_)
    if (key.ep == from) ids.push_back(key.id);
  for (auto id : ids)
    on_local_ended(from, id);
  if (Room& r = rooms_.at(m.room); r.mix) {
    r.mix->remove_endpoint(from);
    if (r.mix->listener_count() == 0) drop_mix(r);
  }
  ids.clear();
  for (const auto& [key, ch] : published_)
    if (key.ep == from) ids.push_back(key.id);
  for (auto id : ids)
    on_track_ended(from, m, id);

  Room& room = rooms_.at(m.room);
  room.dir.remove_member(from);
  room.dir.remove_peer(m.peer, out_);
  members_.erase(from);
  if (relay_) relay_->peer_left(m);
  release_room(m.room);
}

void ChannelRouter::on_track_started(EndpointId from, const RouterMember& m, RemoteTrackId id,
                                     const TrackInfo& info) {
  if (published_.count({from, id}) || !rooms_.at(m.room).dir.add_track(m.peer, info, out_))
    return;  // the endpoint checked names
  const ChannelId cid = channel_id(m.room, m.peer, info.name);
  RouterChannel& ch = channels_[cid];
  ch.id = cid;
  ch.room = m.room;
  ch.peer = m.peer;
  ch.info = info;
  ch.publisher = from;
  ch.remote = id;
  if (info.kind == media::MediaKind::kAudio) {
    ch.speakers = &rooms_.at(m.room).speakers;
    ch.speaker_slot = ch.speakers->add_source(m.peer);
  }
  published_[{from, id}] = cid;
  if (relay_) relay_->track_published(ch);
  if (Room& room = rooms_.at(m.room); room.mix && info.kind == media::MediaKind::kAudio)
    mix_channel(ch, *room.mix);
}

void ChannelRouter::on_track_ended(EndpointId from, const RouterMember& m, RemoteTrackId id) {
  auto p = published_.find({from, id});
  if (p == published_.end()) return;
  auto cit = channels_.find(p->second);
  published_.erase(p);
  RouterChannel& ch = cit->second;
  end_subscribers(ch);
  unmix_channel(ch);
  if (ch.speakers) ch.speakers->remove_source(ch.speaker_slot);
  rooms_.at(m.room).dir.remove_track(m.peer, ch.info.name, out_);
  if (relay_) relay_->track_unpublished(ch);  // other nodes end their subscribers when they hear of it
  channels_.erase(cit);
}

void ChannelRouter::on_media(EndpointId from, RemoteTrackId id, const media::MediaPacket& pkt) {
  auto p = published_.find({from, id});
  if (p == published_.end()) return;
  const RouterChannel& ch = channels_.find(p->second)->second;
  // Any audio packet may carry a level: from RFC 6464 (WebRTC) or computed from PCM by its transport.
  if (ch.speakers && pkt.audio_level >= 0)
    ch.speakers->on_level(ch.speaker_slot, static_cast<uint8_t>(pkt.audio_level));
  if (ch.mix) ch.mix->push(ch.mix_input, pkt);
  for (const auto& sub : ch.subscribers)
    out_.push({sub.ep, cev::LocalTrackMedia{sub.id, pkt}});
  if (relay_) relay_->media(ch, pkt);
}

void ChannelRouter::on_tick(media::Micros now) {
  for (auto& [name, room] : rooms_) {
    if (room.mix) {
      if (now - room.mix_synced >= kMixSyncInterval) {
        room.mix_synced = now;
        sync_mix(name, room);
      }
      // The mixer keeps its own 20 ms timeline: a 10 ms tick (the hub's) produces a frame every other call.
      // Its frames are views into the mixer, valid until its next tick. That is long enough: this tick is
      // called only from the hub's on_tick (through the bus's), which pumps these deliveries into the
      // endpoints right after (Endpoint -> eev::LocalMedia, the same view, in the hub's output queue), and
      // the runtime drains the hub's outputs to the transports before the next tick (WorkerCore: hub tick,
      // then after_tick -> SessionRuntime::tick -> pump, which writes each packet out through SRTP, a copy).
      room.mix->tick(now, out_);
    }
    if (room.speakers.empty() && room.speakers.speakers().empty()) continue;
    if (room.speakers.on_tick(now)) room.dir.deliver_speakers(room.speakers.speakers(), out_);
  }
}

ActiveSpeakerDetector* ChannelRouter::speakers(const std::string& name) {
  auto it = rooms_.find(name);
  return it == rooms_.end() ? nullptr : &it->second.speakers;
}

const RoomMix* ChannelRouter::mix(const std::string& name) const {
  auto it = rooms_.find(name);
  return it == rooms_.end() ? nullptr : it->second.mix.get();
}

void ChannelRouter::on_mix_started(EndpointId from, const RouterMember& m, Room& room, LocalTrackId id,
                                   media::Codec codec) {
  if (room.mix && room.mix->has_listener(from, id)) return;  // already the mix
  on_local_ended(from, id);                                  // a source switch: leave the old channel first
  const bool made = !room.mix;
  if (made) room.mix = std::make_unique<RoomMix>();
  if (auto error = room.mix->add_listener(from, id, m.peer, codec)) {
    out_.push({from, cev::LocalTrackAttachFailed{id, std::move(*error)}});
    if (room.mix->listener_count() == 0) drop_mix(room);
    return;
  }
  if (made) sync_mix(m.room, room);
}

void ChannelRouter::sync_mix(const std::string& name, Room& room) {
  RoomMix& mix = *room.mix;
  for (const auto& [peer, p] : room.dir.peers()) {
    for (const auto& [track, info] : p.tracks) {
      if (info.kind != media::MediaKind::kAudio) continue;
      const ChannelId cid = channel_id(name, peer, track);
      auto cit = channels_.find(cid);
      const bool opened = cit == channels_.end();
      if (opened) {
        // Published on another node (every track published here has a channel): open it as a first
        // subscriber would, so the relay brings its media.
        if (!relay_) continue;
        RouterChannel& ch = channels_[cid];
        ch.id = cid;
        ch.room = name;
        ch.peer = peer;
        ch.info = info;
        relay_->remote_channel_opened(ch);
        cit = channels_.find(cid);
      }
      mix_channel(cit->second, mix);
      if (opened && !cit->second.mix) {  // the mixer is full: nobody here wants it after all
        relay_->remote_channel_closed(cit->second, false);
        channels_.erase(cit);
      }
    }
  }
  for (ChannelId cid : mix.channels()) {  // hooks remove them; this is the safety net
    auto cit = channels_.find(cid);
    if (cit == channels_.end() || cit->second.mix != &mix) mix.remove_input(cid);
  }
}

void ChannelRouter::mix_channel(RouterChannel& ch, RoomMix& mix) {
  if (ch.mix == &mix) return;
  auto input = mix.add_input(ch.id, ch.peer);
  if (!input) return;  // the mixer is full: this track is not heard in the mix
  ch.mix = &mix;
  ch.mix_input = *input;
  announce_bitrate(ch);
}

void ChannelRouter::unmix_channel(RouterChannel& ch) {
  if (!ch.mix) return;
  ch.mix->remove_input(ch.id);
  ch.mix = nullptr;
}

void ChannelRouter::drop_mix(Room& room) {
  for (ChannelId cid : room.mix->channels()) {
    auto cit = channels_.find(cid);
    if (cit == channels_.end()) continue;
    RouterChannel& ch = cit->second;
    ch.mix = nullptr;
    if (!ch.publisher && ch.subscribers.empty()) {  // opened for the mix only: stop receiving it
      if (relay_) relay_->remote_channel_closed(ch, false);
      channels_.erase(cit);
      continue;
    }
    announce_bitrate(ch);
  }
  room.mix.reset();
}

void ChannelRouter::on_local_started(EndpointId from, const RouterMember& m,
                                     const ccl::LocalTrackStarted& c) {
  on_local_ended(from, c.id);  // a source switch: leave the old channel (or the mix) first
  const RoomDirectory& dir = rooms_.at(m.room).dir;
  const ChannelId cid = channel_id(m.room, c.peer, c.track);
  auto cit = channels_.find(cid);
  const TrackInfo* info = nullptr;
  if (const RoomDirectory::Peer* peer = dir.peer(c.peer)) {
    auto t = peer->tracks.find(c.track);
    if (t != peer->tracks.end()) info = &t->second;
  }
  // Every local track has a channel, so a track without one is published on another node: only a relay
  // can bring its media.
  if (!info || (cit == channels_.end() && !relay_)) {
    out_.push({from, cev::LocalTrackAttachFailed{
                         c.id,
                         {ErrorCode::kTrackNotFound, "peer '" + c.peer + "' publishes no track '" + c.track +
                                                         "' in room '" + m.room + "'"}}});
    return;
  }
  if (cit == channels_.end()) {
    RouterChannel& ch = channels_[cid];
    ch.id = cid;
    ch.room = m.room;
    ch.peer = c.peer;
    ch.info = *info;
    relay_->remote_channel_opened(ch);
    cit = channels_.find(cid);
  }
  cit->second.subscribers.push_back({from, c.id, std::numeric_limits<uint32_t>::max()});
  subscribed_[{from, c.id}] = cid;
  announce_bitrate(cit->second);
}

void ChannelRouter::on_local_ended(EndpointId from, LocalTrackId id) {
  if (auto mit = members_.find(from); mit != members_.end()) {
    Room& room = rooms_.at(mit->second.room);
    if (room.mix && room.mix->has_listener(from, id)) {
      room.mix->remove_listener(from, id);
      if (room.mix->listener_count() == 0) drop_mix(room);
      return;
    }
  }
  auto s = subscribed_.find({from, id});
  if (s == subscribed_.end()) return;
  auto cit = channels_.find(s->second);
  subscribed_.erase(s);
  if (cit == channels_.end()) return;
  RouterChannel& ch = cit->second;
  auto& subs = ch.subscribers;
  subs.erase(std::remove_if(subs.begin(), subs.end(),
                            [&](const RouterSubscriber& x) { return x.ep == from && x.id == id; }),
             subs.end());
  if (!ch.publisher && subs.empty() &&
      !ch.mix) {  // the last local viewer of a remote track: stop receiving it
    if (relay_) relay_->remote_channel_closed(ch, false);
    channels_.erase(cit);
    return;
  }
  announce_bitrate(ch);
}

void ChannelRouter::on_message(EndpointId from, const RouterMember& m, Room& room,
                               const ccl::PeerMessage& c) {
  const bool local = room.dir.deliver_message(m.peer, c.to, c.data, out_);
  if (!c.to.empty() && local) return;  // delivered here; nobody else is that peer
  // A peer the directory knows but no local member is: on another node, reachable only through the relay.
  if (!c.to.empty() && (!relay_ || !room.dir.has_peer(c.to))) {
    out_.push(
        {from, cev::MessageRejected{{ErrorCode::kPeerNotFound, "peer '" + c.to + "' is not in the room"}}});
    return;
  }
  if (relay_) relay_->message(m.room, m.peer, c.to, c.data);
}

void ChannelRouter::end_subscribers(RouterChannel& ch) {
  for (const auto& sub : ch.subscribers) {
    out_.push({sub.ep, cev::LocalTrackSourceEnded{sub.id}});
    subscribed_.erase({sub.ep, sub.id});
  }
  ch.subscribers.clear();
}

void ChannelRouter::announce_bitrate(RouterChannel& ch) {
  uint32_t want = ch.mix ? std::numeric_limits<uint32_t>::max() : 0;  // the mix takes what comes
  for (const auto& sub : ch.subscribers)
    want = std::max(want, sub.desired_bps);
  if (!ch.publisher) {  // the publisher's node takes the maximum over nodes
    if (relay_) relay_->remote_bitrate_wanted(ch, want);
    return;
  }
  want = std::max(want, ch.remote_bps);
  if (want == ch.announced_bps) return;
  ch.announced_bps = want;
  out_.push({ch.publisher, cev::RemoteTrackDesiredBitrate{ch.remote, want}});
}

RoomDirectory* ChannelRouter::room(const std::string& name) {
  auto it = rooms_.find(name);
  return it == rooms_.end() ? nullptr : &it->second.dir;
}

const RoomDirectory* ChannelRouter::room(const std::string& name) const {
  auto it = rooms_.find(name);
  return it == rooms_.end() ? nullptr : &it->second.dir;
}

bool ChannelRouter::remote_media(ChannelId id, const media::MediaPacket& pkt) {
  auto cit = channels_.find(id);
  if (cit == channels_.end() || cit->second.publisher) return false;  // no longer watched here
  const RouterChannel& ch = cit->second;
  if (ch.mix) ch.mix->push(ch.mix_input, pkt);
  for (const auto& sub : ch.subscribers)
    out_.push({sub.ep, cev::LocalTrackMedia{sub.id, pkt}});
  return true;
}

void ChannelRouter::remote_key_frame_request(ChannelId id, uint8_t spatial_layer) {
  auto cit = channels_.find(id);
  if (cit == channels_.end() || !cit->second.publisher) return;
  out_.push({cit->second.publisher, cev::RemoteTrackKeyFrameRequest{cit->second.remote, spatial_layer}});
}

void ChannelRouter::remote_bitrate(ChannelId id, uint32_t bps) {
  auto cit = channels_.find(id);
  if (cit == channels_.end() || !cit->second.publisher) return;
  cit->second.remote_bps = bps;
  announce_bitrate(cit->second);
}

void ChannelRouter::remote_track_ended(const std::string& room, const std::string& peer,
                                       const std::string& track) {
  auto cit = channels_.find(channel_id(room, peer, track));
  if (cit == channels_.end() || cit->second.publisher) return;
  end_subscribers(cit->second);
  unmix_channel(cit->second);
  if (relay_) relay_->remote_channel_closed(cit->second, true);
  channels_.erase(cit);
}

BusStats ChannelRouter::stats() const {
  BusStats s;
  s.rooms = rooms_.size();
  s.peers = members_.size();
  s.tracks = published_.size();
  s.channels = channels_.size();
  s.subscriptions = subscribed_.size();
  return s;
}

}  // namespace atrium::core
