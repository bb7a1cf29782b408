// What arrives from NATS, handled on the worker: media for local viewers, feedback for local publishers,
// other nodes' directory entries and heartbeats, and the connection's ups and downs. Also the periodic work
// of on_tick.
#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "cluster/nats/key_codec.h"
#include "cluster/nats/nats_cluster_bus.h"
#include "cluster/nats/wire_format.h"

namespace atrium::cluster::nats {

using namespace core;

namespace {

std::span<const uint8_t> data_of(natsMsg* msg) {
  const char* d = natsMsg_GetData(msg);
  const int n = natsMsg_GetDataLength(msg);
  if (!d || n <= 0) return {};
  return {reinterpret_cast<const uint8_t*>(d), static_cast<size_t>(n)};
}

bool is_delete(natsMsg* msg) {
  const char* op = nullptr;
  if (natsMsgHeader_Get(msg, "KV-Operation", &op) != NATS_OK || !op) return false;
  return std::strcmp(op, "DEL") == 0 || std::strcmp(op, "PURGE") == 0;
}

}  // namespace

std::optional<ClusterDelivery> NatsClusterBus::pop_delivery() {
  if (!cycle_open_) {
    // A new pump cycle: the runtime drained the outputs of the last one, so the media payloads they viewed
    // (inside the batch's messages) may go now.
    cycle_open_ = true;
    batch_.clear();
    batch_pos_ = 0;
    batch_taken_ = false;
  }
  while (true) {
    if (auto d = out_.pop()) return d;
    if (batch_pos_ < batch_.size()) {
      process(batch_[batch_pos_++]);
      continue;
    }
    // One take per cycle, so a steady stream of packets cannot keep one pump going forever; what arrives
    // later wakes the runtime again.
    if (batch_taken_ || abandoned_) break;
    batch_taken_ = true;
    inbox_->take(batch_);
    if (batch_.empty()) break;
  }
  cycle_open_ = false;
  return std::nullopt;
}

void NatsClusterBus::process(InboxItem& item) {
  switch (item.kind) {
    case InboxKind::kMedia:
      on_remote_media(item.msg.get());
      break;
    case InboxKind::kFeedback:
      on_feedback(item.msg.get());
      item.msg.reset();
      break;
    case InboxKind::kRoomEntry:
      on_room_entry(item.msg.get());
      item.msg.reset();
      break;
    case InboxKind::kHeartbeat:
      on_heartbeat(item.msg.get());
      item.msg.reset();
      break;
    case InboxKind::kMessage:
      on_message(item.msg.get());
      item.msg.reset();
      break;
    case InboxKind::kDisconnected:
      break;
    case InboxKind::kReconnected:
      ++reconnects_;
      resync_pending_ = true;
      resync();
      break;
    case InboxKind::kClosed:
      break;
  }
}

void NatsClusterBus::on_remote_media(natsMsg* msg) {
  auto frame = decode_media(data_of(msg));
  if (!frame) {
    ++relay_errors_;
    return;
  }
  auto cit = channels_.find(frame->channel);
  if (cit == channels_.end() || cit->second.publisher) return;  // no longer watched here
  frame->packet.arrival = clock_known_ ? now_ : 0;
  ++relayed_in_;
  for (const auto& sub : cit->second.subscribers)
    out_.push({sub.ep, cev::LocalTrackMedia{sub.id, frame->packet}});
}

void NatsClusterBus::on_feedback(natsMsg* msg) {
  auto fb = decode_feedback(data_of(msg));
  if (!fb || fb->owner == owner_) return;
  auto cit = channels_.find(fb->channel);
  if (cit == channels_.end() || !cit->second.publisher) return;
  Channel& ch = cit->second;
  switch (fb->type) {
    case FeedbackType::kInterest:
      ch.interest[fb->owner] = {fb->bitrate_bps, stamp()};
      announce_bitrate(ch);
      break;
    case FeedbackType::kGone:
      ch.interest.erase(fb->owner);
      announce_bitrate(ch);
      break;
    case FeedbackType::kKeyFrame:
      out_.push({ch.publisher, cev::RemoteTrackKeyFrameRequest{ch.remote, fb->spatial_layer}});
      break;
  }
}

void NatsClusterBus::on_heartbeat(natsMsg* msg) {
  if (is_delete(msg)) {  // a clean shutdown ("node.<owner>" deleted): its entries went with their own deletes
    std::string_view key = natsMsg_GetSubject(msg);
    if (key.substr(0, nodes_prefix_.size()) != nodes_prefix_) return;
    key.remove_prefix(nodes_prefix_.size());
    auto owner = key.substr(0, 5) == "node." ? decode_token(key.substr(5)) : std::nullopt;
    if (!owner) return;
    auto it = owners_.find(*owner);
    if (it != owners_.end()) it->second.left = true;
    return;
  }
  auto data = data_of(msg);
  std::string owner(reinterpret_cast<const char*>(data.data()), data.size());
  if (owner.empty() || owner == owner_) return;
  owners_[owner].last_seen = stamp();
}

void NatsClusterBus::on_message(natsMsg* msg) {
  auto data = data_of(msg);
  std::string_view rest(reinterpret_cast<const char*>(data.data()), data.size());
  std::string fields[4];
  for (auto& f : fields) {
    const auto colon = rest.find(':');
    if (colon == std::string_view::npos || colon > 10) return;  // malformed: dropped
    size_t len = 0;
    for (char ch : rest.substr(0, colon)) {
      if (ch < '0' || ch > '9') return;
      len = len * 10 + static_cast<size_t>(ch - '0');
    }
    if (colon + 1 + len >= rest.size() || rest[colon + 1 + len] != ',') return;
    f = std::string(rest.substr(colon + 1, len));
    rest.remove_prefix(colon + 2 + len);
  }
  if (fields[0] == owner_) return;  // ours: already delivered locally
  const std::string subject(natsMsg_GetSubject(msg));
  const auto dot = subject.rfind('.');
  auto room_name = decode_token(std::string_view(subject).substr(dot + 1));
  if (!room_name) return;
  auto it = rooms_.find(*room_name);
  if (it == rooms_.end()) return;
  it->second.dir.deliver_message(fields[1], fields[2], fields[3], out_);
}

void NatsClusterBus::note_owner(const std::string& owner) {
  // An owner first met through an entry gets one node_ttl to prove it is alive with a heartbeat.
  owners_.try_emplace(owner, OwnerSeen{stamp()});
}

void NatsClusterBus::on_room_entry(natsMsg* msg) {
  const std::string_view subject = natsMsg_GetSubject(msg);
  if (subject.substr(0, rooms_prefix_.size()) != rooms_prefix_) return;
  auto key = parse_dir_key(subject.substr(rooms_prefix_.size()));
  if (!key) return;
  auto rit = rooms_.find(key->room);
  if (rit == rooms_.end()) return;  // a late entry of a room no longer hosted here
  Room& room = rit->second;
  jsMsgMetaData* raw_meta = nullptr;
  uint64_t rev = 0;
  if (natsMsg_GetMetaData(&raw_meta, msg) == NATS_OK) rev = raw_meta->Sequence.Stream;
  MetaPtr meta(raw_meta);
  if (rev == 0) return;

  if (is_delete(msg)) {
    // Somebody removed an entry this node still holds (it took us for dead during a stall): put it back.
    for (const auto& [ep, m] : members_) {
      if (m.room != key->room || m.peer != key->peer) continue;
      if (!key->is_track()) return put_peer(m);
      for (const auto& [k, cid] : published_) {
        const Channel& ch = channels_.at(cid);
        if (ch.room == key->room && ch.peer == key->peer && ch.info.name == key->track) return put_track(ch);
      }
      return;
    }
    auto ended = key->is_track() ? room.mirror.remove_track(rev, key->peer, key->track, room.dir, out_)
                                 : room.mirror.remove_peer(rev, key->peer, room.dir, out_);
    end_remote_tracks(key->room, ended);
    return;
  }
  auto fields = decode_fields(data_of(msg));
  if (!fields || fields->empty()) return;
  const std::string& owner = (*fields)[0];
  if (owner == owner_) return;  // our own write coming back
  note_owner(owner);
  if (!key->is_track()) {
    if (fields->size() != 2) return;
    room.mirror.put_peer(rev, key->peer, owner, (*fields)[1], room.dir, out_);
    return;
  }
  if (fields->size() != 4) return;
  TrackInfo info{key->track, (*fields)[1] == "audio" ? media::MediaKind::kAudio : media::MediaKind::kVideo,
                 (*fields)[2]};
  const int layers = std::atoi((*fields)[3].c_str());
  info.layers = static_cast<uint8_t>(std::clamp(layers, 1, 4));
  room.mirror.put_track(rev, key->peer, owner, info, room.dir, out_);
}

void NatsClusterBus::end_remote_tracks(const std::string& room,
                                       const std::vector<RoomMirror::TrackRef>& ended) {
  for (const auto& [peer, track] : ended) {
    auto cit = channels_.find(channel_id(room, peer, track));
    if (cit == channels_.end() || cit->second.publisher) continue;
    for (const auto& sub : cit->second.subscribers) {
      out_.push({sub.ep, cev::LocalTrackSourceEnded{sub.id}});
      subscribed_.erase({sub.ep, sub.id});
    }
    unsubscribe(cit->second.sub);
    channels_.erase(cit);
  }
}

void NatsClusterBus::resync() {
  // After a reconnect: NATS may have restarted (and lost or kept its store), other nodes may have taken us
  // for dead. Core subscriptions are renewed by libnats; the rest is ours to renew.
  if (!connected()) return;
  std::string error;
  if (!ensure_buckets(error)) {  // JetStream not back yet: on_tick tries again in a while
    retry_at_ = now_ + kRetryInterval;
    return;
  }
  resync_pending_ = false;
  for (auto& [name, r] : rooms_) {
    unsubscribe(r.watch);  // its consumer may be gone with the old server; a new one replays the room
    r.mirror.forget_revisions();
    if (!start_watch(name, r)) retry_at_ = now_ + kRetryInterval;
  }
  for (const auto& [ep, m] : members_)
    put_peer(m);
  for (const auto& [key, cid] : published_)
    put_track(channels_.at(cid));
  heartbeat();
  last_heartbeat_ = now_;
  for (auto& [owner, seen] : owners_)  // nobody could beat while NATS was away
    seen.last_seen = stamp();
  for (auto& [cid, ch] : channels_) {
    if (ch.publisher) {
      for (auto& [owner, interest] : ch.interest)
        interest.last_seen = stamp();
      continue;
    }
    ch.last_interest = std::max<media::Micros>(now_, 1);
    send_feedback(ch, static_cast<uint8_t>(FeedbackType::kInterest), ch.sent_bps);
    send_feedback(ch, static_cast<uint8_t>(FeedbackType::kKeyFrame), 0);  // decoders restart on a key frame
  }
}

void NatsClusterBus::remove_dead_owner(const std::string& owner) {
  if (!owners_[owner].left) ++dead_nodes_;
  for (auto& [name, room] : rooms_) {
    for (const auto& [peer, track] : room.mirror.owned_by(owner)) {
      if (track.empty()) {
        kv_delete(peer_key(name, peer));
        end_remote_tracks(name, room.mirror.remove_peer(0, peer, room.dir, out_));
      } else {
        kv_delete(track_key(name, peer, track));
        end_remote_tracks(name, room.mirror.remove_track(0, peer, track, room.dir, out_));
      }
    }
  }
  owners_.erase(owner);
  for (auto& [cid, ch] : channels_) {
    if (ch.interest.erase(owner)) announce_bitrate(ch);
  }
}

void NatsClusterBus::on_tick(media::Micros now) {
  now_ = now;
  clock_known_ = true;
  for (auto& [owner, seen] : owners_)
    if (seen.last_seen == kUnstamped) seen.last_seen = now;
  for (auto& [cid, ch] : channels_)
    for (auto& [owner, interest] : ch.interest)
      if (interest.last_seen == kUnstamped) interest.last_seen = now;
  if (abandoned_ || !conn_) return;
  // Set-up that failed is retried once per kRetryInterval: each try may block the worker for a request.
  const bool retry = now >= retry_at_;
  if (resync_pending_ && retry) resync();
  if (!connected()) return;  // nothing below can reach anybody, and silence now proves nothing
  if (now - last_heartbeat_ >= options_.heartbeat_interval) {
    heartbeat();
    last_heartbeat_ = now;
  }
  if (retry && !resync_pending_) {
    for (auto& [name, r] : rooms_)
      if (!r.watch && !start_watch(name, r)) retry_at_ = now + kRetryInterval;
  }
  const media::Micros interest_ttl = 3 * options_.interest_interval;
  for (auto& [cid, ch] : channels_) {
    if (!ch.publisher) {
      if (now - ch.last_interest >= options_.interest_interval) {
        ch.last_interest = now;
        send_feedback(ch, static_cast<uint8_t>(FeedbackType::kInterest), ch.sent_bps);
      }
      continue;
    }
    const size_t before = ch.interest.size();
    std::erase_if(ch.interest, [&](const auto& kv) { return now - kv.second.last_seen > interest_ttl; });
    if (ch.interest.size() != before) announce_bitrate(ch);
  }
  std::vector<std::string> dead;
  for (const auto& [owner, seen] : owners_)
    if (now - seen.last_seen > options_.node_ttl) dead.push_back(owner);
  for (const auto& owner : dead)
    remove_dead_owner(owner);
}

}  // namespace atrium::cluster::nats
