// Controls from local endpoints. The local half is LocalBus's (same directory rules, same local fan-out);
// each change other nodes must see is also written to NATS.
#include "cluster/nats/nats_cluster_bus.h"

#include <algorithm>
#include <limits>

#include "cluster/nats/key_codec.h"
#include "cluster/nats/wire_format.h"
#include "core/util/overloaded.h"

namespace atrium::cluster::nats {

using namespace core;

void NatsClusterBus::send(media::Micros now, EndpointId from, ClusterControl&& control) {
  now_ = now;
  clock_known_ = true;
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
  Member& m = mit->second;
  Room& room = rooms_[m.room];
  std::visit(Overloaded{
                 [&](ccl::PeerLeave&) { on_leave(from); },
                 [&](ccl::PeerMeta& c) {
                   m.meta = c.meta;
                   room.dir.set_peer_meta(m.peer, c.meta, out_);
                   put_peer(m);
                 },
                 [&](ccl::WatchPeer& c) { room.dir.watch(from, c.peer, out_); },
                 [&](ccl::UnwatchPeer& c) { room.dir.unwatch(from, c.peer, out_); },
                 [&](ccl::RemoteTrackStarted& c) { on_track_started(from, m, c.id, c.info); },
                 [&](ccl::RemoteTrackMeta& c) {
                   auto p = published_.find({from, c.id});
                   if (p == published_.end()) return;
                   Channel& ch = channels_[p->second];
                   ch.info.meta = c.meta;
                   room.dir.set_track_meta(m.peer, ch.info.name, c.meta, out_);
                   put_track(ch);
                 },
                 [&](ccl::RemoteTrackEnded& c) { on_track_ended(from, m, c.id); },
                 [&](ccl::LocalTrackStarted& c) { on_local_started(from, m, c); },
                 [&](ccl::LocalTrackKeyFrameRequest& c) { on_keyframe_request(from, c.id, c.spatial_layer); },
                 [&](ccl::LocalTrackDesiredBitrate& c) {
                   auto s = subscribed_.find({from, c.id});
                   if (s == subscribed_.end()) return;
                   Channel& ch = channels_[s->second];
                   for (auto& sub : ch.subscribers)
                     if (sub.ep == from && sub.id == c.id) sub.desired_bps = c.bitrate_bps;
                   announce_bitrate(ch);
                 },
                 [&](ccl::LocalTrackEnded& c) { on_local_ended(from, c.id); },
                 [&](ccl::PeerMessage& c) { on_peer_message(from, m, room, c); },
                 [&](ccl::PeerJoin&) {},
                 [&](ccl::RemoteTrackMedia&) {},
             },
             control);
}

void NatsClusterBus::on_join(EndpointId from, const JoinParams& params) {
  auto reject = [&](ErrorCode code, std::string message) {
    out_.push({from, cev::JoinRejected{{code, std::move(message)}}});
  };
  if (members_.count(from)) return reject(ErrorCode::kAlreadyJoined, "this session already joined a room");
  if (!connected() || !rooms_kv_ || !nodes_kv_)
    return reject(ErrorCode::kInvalidArgument, "the cluster is unreachable (NATS disconnected); try again");
  Room& room = host(params.room);
  const std::string taken = "peer id '" + params.peer + "' is already in room '" + params.room + "'";
  Claim claim =
      room.dir.has_peer(params.peer) ? Claim::kTaken : claim_peer(params.room, params.peer, params.meta);
  if (claim == Claim::kClaimed && !room.dir.add_peer(params.peer, params.meta, out_)) claim = Claim::kTaken;
  if (claim != Claim::kClaimed) {
    unhost_if_idle(params.room);
    if (claim == Claim::kTaken) return reject(ErrorCode::kPeerIdTaken, taken);
    return reject(ErrorCode::kInvalidArgument, "the cluster directory did not answer; try again");
  }
  members_[from] = Member{params.room, params.peer, params.meta};
  ++room.members;
  out_.push({from, cev::JoinAccepted{}});
  room.dir.add_member(from, params, out_);
}

NatsClusterBus::Claim NatsClusterBus::claim_peer(const std::string& room, const std::string& peer,
                                                 const std::string& meta) {
  // Peer ids are unique per room across the cluster: the KV create succeeds for exactly one node.
  const std::string key = peer_key(room, peer);
  const std::string value = encode_fields({owner_, meta});
  const int len = static_cast<int>(value.size());
  if (kvStore_Create(nullptr, rooms_kv_, key.c_str(), value.data(), len) == NATS_OK) return Claim::kClaimed;
  kvEntry* raw = nullptr;
  const natsStatus s = kvStore_Get(&raw, rooms_kv_, key.c_str());
  KvEntryPtr entry(raw);
  if (s == NATS_NOT_FOUND)  // deleted in between: one more try
    return kvStore_Create(nullptr, rooms_kv_, key.c_str(), value.data(), len) == NATS_OK
               ? Claim::kClaimed
               : Claim::kUnavailable;
  if (s != NATS_OK) return Claim::kUnavailable;
  // The id is held. If its owner is dead (crashed where no survivor hosted the room), the entry is stale and
  // this join replaces it, guarded by its revision so two nodes cannot both win.
  auto fields = decode_fields(
      std::span(static_cast<const uint8_t*>(kvEntry_Value(raw)), static_cast<size_t>(kvEntry_ValueLen(raw))));
  if (fields && !fields->empty() && owner_alive((*fields)[0])) return Claim::kTaken;
  return kvStore_Update(nullptr, rooms_kv_, key.c_str(), value.data(), len, kvEntry_Revision(raw)) == NATS_OK
             ? Claim::kClaimed
             : Claim::kTaken;
}

bool NatsClusterBus::owner_alive(const std::string& owner) {
  if (owner == owner_) return false;  // ours but not held by any local endpoint: left over
  kvEntry* raw = nullptr;
  const natsStatus s = kvStore_Get(&raw, nodes_kv_, node_key(owner).c_str());
  KvEntryPtr entry(raw);
  return s != NATS_NOT_FOUND;  // the heartbeat bucket forgets an owner node_ttl after its last beat
}

void NatsClusterBus::on_leave(EndpointId from) {
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

  Room& room = rooms_[m.room];
  room.dir.remove_member(from);
  room.dir.remove_peer(m.peer, out_);
  kv_delete(peer_key(m.room, m.peer));
  members_.erase(from);
  --room.members;
  unhost_if_idle(m.room);
}

void NatsClusterBus::on_track_started(EndpointId from, const Member& m, RemoteTrackId id,
                                      const TrackInfo& info) {
  Room& room = rooms_[m.room];
  if (published_.count({from, id}) || !room.dir.add_track(m.peer, info, out_))
    return;  // the endpoint checked
  const ChannelId cid = channel_id(m.room, m.peer, info.name);
  Channel& ch = channels_[cid];
  ch.id = cid;
  ch.room = m.room;
  ch.peer = m.peer;
  ch.info = info;
  ch.publisher = from;
  ch.remote = id;
  ch.media_subject = media_subject(options_.subject_prefix, cid);
  ch.feedback_subject = feedback_subject(options_.subject_prefix, cid);
  ch.sub = subscribe(ch.feedback_subject, InboxKind::kFeedback);
  published_[{from, id}] = cid;
  put_track(ch);
}

void NatsClusterBus::on_track_ended(EndpointId from, const Member& m, RemoteTrackId id) {
  auto p = published_.find({from, id});
  if (p == published_.end()) return;
  const ChannelId cid = p->second;
  published_.erase(p);
  auto cit = channels_.find(cid);
  Channel& ch = cit->second;
  for (const auto& sub : ch.subscribers) {
    out_.push({sub.ep, cev::LocalTrackSourceEnded{sub.id}});
    subscribed_.erase({sub.ep, sub.id});
  }
  rooms_[m.room].dir.remove_track(m.peer, ch.info.name, out_);
  kv_delete(track_key(m.room, m.peer, ch.info.name));  // other nodes end their subscribers on the delete
  unsubscribe(ch.sub);
  channels_.erase(cit);
}

void NatsClusterBus::on_media(EndpointId from, RemoteTrackId id, const media::MediaPacket& pkt) {
  auto p = published_.find({from, id});
  if (p == published_.end()) return;
  const Channel& ch = channels_.find(p->second)->second;
  for (const auto& sub : ch.subscribers)
    out_.push({sub.ep, cev::LocalTrackMedia{sub.id, pkt}});
  if (!ch.relay || !conn_ || abandoned_) return;
  encode_media(ch.id, pkt, frame_);
  if (natsConnection_Publish(conn_, ch.media_subject.c_str(), frame_.data(),
                             static_cast<int>(frame_.size())) == NATS_OK)
    ++relayed_out_;
  else
    ++relay_errors_;
}

void NatsClusterBus::on_local_started(EndpointId from, const Member& m, const ccl::LocalTrackStarted& c) {
  if (subscribed_.count({from, c.id})) on_local_ended(from, c.id);  // a source switch: leave the old channel
  const Room& room = rooms_[m.room];
  const ChannelId cid = channel_id(m.room, c.peer, c.track);
  auto cit = channels_.find(cid);
  const TrackInfo* info = nullptr;
  if (const RoomDirectory::Peer* peer = room.dir.peer(c.peer)) {
    auto t = peer->tracks.find(c.track);
    if (t != peer->tracks.end()) info = &t->second;
  }
  if (!info) {
    out_.push({from, cev::LocalTrackAttachFailed{
                         c.id,
                         {ErrorCode::kTrackNotFound, "peer '" + c.peer + "' publishes no track '" + c.track +
                                                         "' in room '" + m.room + "'"}}});
    return;
  }
  if (cit == channels_.end()) {
    // Local tracks always have a channel, so this one is published on another node: receive its media here.
    Channel& ch = channels_[cid];
    ch.id = cid;
    ch.room = m.room;
    ch.peer = c.peer;
    ch.info = *info;
    ch.media_subject = media_subject(options_.subject_prefix, cid);
    ch.feedback_subject = feedback_subject(options_.subject_prefix, cid);
    ch.sub = subscribe(ch.media_subject, InboxKind::kMedia);
    cit = channels_.find(cid);
  }
  cit->second.subscribers.push_back({from, c.id, std::numeric_limits<uint32_t>::max()});
  subscribed_[{from, c.id}] = cid;
  announce_bitrate(cit->second);
}

void NatsClusterBus::on_local_ended(EndpointId from, LocalTrackId id) {
  auto s = subscribed_.find({from, id});
  if (s == subscribed_.end()) return;
  auto cit = channels_.find(s->second);
  subscribed_.erase(s);
  if (cit == channels_.end()) return;
  Channel& ch = cit->second;
  auto& subs = ch.subscribers;
  subs.erase(std::remove_if(subs.begin(), subs.end(),
                            [&](const Subscriber& x) { return x.ep == from && x.id == id; }),
             subs.end());
  if (!ch.publisher && subs.empty()) {  // the last local viewer of a remote track: stop receiving it
    send_feedback(ch, static_cast<uint8_t>(FeedbackType::kGone), 0);
    unsubscribe(ch.sub);
    channels_.erase(cit);
    return;
  }
  announce_bitrate(ch);
}

void NatsClusterBus::on_keyframe_request(EndpointId from, LocalTrackId id, uint8_t spatial_layer) {
  auto s = subscribed_.find({from, id});
  if (s == subscribed_.end()) return;
  const Channel& ch = channels_[s->second];
  if (ch.publisher)
    out_.push({ch.publisher, cev::RemoteTrackKeyFrameRequest{ch.remote, spatial_layer}});
  else
    send_feedback(ch, static_cast<uint8_t>(FeedbackType::kKeyFrame), 0, spatial_layer);
}

void NatsClusterBus::announce_bitrate(Channel& ch) {
  uint32_t want = 0;
  for (const auto& sub : ch.subscribers)
    want = std::max(want, sub.desired_bps);
  if (!ch.publisher) {  // tell the publisher's node; it takes the maximum over nodes
    if (want == ch.sent_bps && ch.last_interest != 0) return;
    ch.sent_bps = want;
    ch.last_interest = std::max<media::Micros>(now_, 1);
    send_feedback(ch, static_cast<uint8_t>(FeedbackType::kInterest), want);
    return;
  }
  uint32_t remote_want = 0;
  for (const auto& [owner, interest] : ch.interest)
    remote_want = std::max(remote_want, interest.bps);
  ch.relay = remote_want > 0;
  want = std::max(want, remote_want);
  if (want == ch.announced_bps) return;
  ch.announced_bps = want;
  out_.push({ch.publisher, cev::RemoteTrackDesiredBitrate{ch.remote, want}});
}

NatsClusterBus::Room& NatsClusterBus::host(const std::string& room) {
  auto [it, inserted] = rooms_.try_emplace(room);
  if (inserted) {
    start_watch(room, it->second);  // if NATS is slow, on_tick tries again
    it->second.messages = subscribe(message_subject(room), InboxKind::kMessage);
  }
  return it->second;
}

std::string NatsClusterBus::message_subject(const std::string& room) const {
  return options_.subject_prefix + ".msg." + encode_token(room);
}

// Messages are plain NATS publishes on the room's subject: every node hosting the room delivers to its own
// members (the sender's node already delivered to its local ones). Format: "<len>:<bytes>," for owner, from,
// to, data, as directory values are written.
void NatsClusterBus::on_peer_message(EndpointId from, const Member& m, Room& room, ccl::PeerMessage& c) {
  const bool local = room.dir.deliver_message(m.peer, c.to, c.data, out_);
  if (!c.to.empty() && !local && !room.dir.has_peer(c.to)) {
    out_.push(
        {from, cev::MessageRejected{{ErrorCode::kPeerNotFound, "peer '" + c.to + "' is not in the room"}}});
    return;
  }
  if (!c.to.empty() && local) return;  // delivered here; nobody else is that peer
  auto field = [](std::string& out, const std::string& s) {
    out += std::to_string(s.size()) + ":" + s + ",";
  };
  std::string payload;
  field(payload, owner_);
  field(payload, m.peer);
  field(payload, c.to);
  field(payload, c.data);
  if (conn_)
    natsConnection_Publish(conn_, message_subject(m.room).c_str(), payload.data(),
                           static_cast<int>(payload.size()));
}

void NatsClusterBus::unhost_if_idle(const std::string& room) {
  auto it = rooms_.find(room);
  if (it == rooms_.end() || it->second.members > 0) return;
  unsubscribe(it->second.watch);
  unsubscribe(it->second.messages);
  rooms_.erase(it);
}

BusStats NatsClusterBus::stats() const {
  BusStats s;
  s.rooms = rooms_.size();
  s.peers = members_.size();
  s.tracks = published_.size();
  s.channels = channels_.size();
  s.subscriptions = subscribed_.size();
  return s;
}

NatsBusStats NatsClusterBus::nats_stats() const {
  NatsBusStats s;
  if (!conn_) {
    s.connection = "closed";
  } else {
    switch (natsConnection_Status(conn_)) {
      case NATS_CONN_STATUS_CONNECTED:
        s.connection = "connected";
        break;
      case NATS_CONN_STATUS_CONNECTING:
        s.connection = "connecting";
        break;
      case NATS_CONN_STATUS_RECONNECTING:
        s.connection = "reconnecting";
        break;
      case NATS_CONN_STATUS_CLOSED:
        s.connection = "closed";
        break;
      default:
        s.connection = "disconnected";
        break;
    }
  }
  s.relayed_in = relayed_in_;
  s.relayed_out = relayed_out_;
  s.relay_errors = relay_errors_;
  s.directory_entries = members_.size() + published_.size();
  for (const auto& [name, r] : rooms_)
    s.directory_entries += r.mirror.entries();
  s.reconnects = reconnects_;
  s.dead_nodes = dead_nodes_;
  return s;
}

const RoomDirectory* NatsClusterBus::room(const std::string& name) const {
  auto it = rooms_.find(name);
  return it == rooms_.end() ? nullptr : &it->second.dir;
}

}  // namespace atrium::cluster::nats
