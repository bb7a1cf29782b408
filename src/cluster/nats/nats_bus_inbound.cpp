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
    if (auto d = router_.out().pop()) return d;
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
    case InboxKind::kLevels:
      on_levels(item.msg.get());
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
    case InboxKind::kCompleted:
      item.done();
      item.done = nullptr;
      break;
  }
}

void NatsClusterBus::on_remote_media(natsMsg* msg) {
  auto frame = decode_media(data_of(msg));
  if (!frame) {
    ++relay_errors_;
    return;
  }
  frame->packet.arrival = clock_known_ ? now_ : 0;
  if (router_.remote_media(frame->channel, frame->packet)) ++relayed_in_;
}

void NatsClusterBus::on_feedback(natsMsg* msg) {
  auto fb = decode_feedback(data_of(msg));
  if (!fb || fb->owner == owner_) return;
  auto cit = router_.channels().find(fb->channel);
  auto rit = relays_.find(fb->channel);
  if (cit == router_.channels().end() || !cit->second.publisher || rit == relays_.end()) return;
  RelayChannel& r = rit->second;
  switch (fb->type) {
    case FeedbackType::kInterest:
      r.interest[fb->owner] = {fb->bitrate_bps, stamp()};
      update_remote_want(fb->channel, r);
      break;
    case FeedbackType::kGone:
      r.interest.erase(fb->owner);
      update_remote_want(fb->channel, r);
      break;
    case FeedbackType::kKeyFrame:
      router_.remote_key_frame_request(fb->channel, fb->spatial_layer);
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
  if (const RoomDirectory* dir = router_.room(*room_name))
    dir->deliver_message(fields[1], fields[2], fields[3], router_.out());
}

void NatsClusterBus::on_levels(natsMsg* msg) {
  auto summary = decode_levels(data_of(msg));
  if (!summary) {
    ++relay_errors_;
    return;
  }
  if (summary->owner == owner_) return;  // ours: the detector has them already
  const std::string subject(natsMsg_GetSubject(msg));
  auto room_name = decode_token(std::string_view(subject).substr(subject.rfind('.') + 1));
  if (!room_name) return;
  auto rit = hosted_.find(*room_name);
  core::ActiveSpeakerDetector* speakers = router_.speakers(*room_name);
  if (rit == hosted_.end() || !speakers) return;
  for (const auto& p : summary->peers) {
    auto [it, added] = rit->second.remote_speakers.try_emplace(p.peer);
    if (added) it->second.slot = speakers->add_source(p.peer, true);
    it->second.last_heard = now_;
    for (const auto& bin : p.bins)
      speakers->push_bin(it->second.slot, now_, bin);
  }
}

void NatsClusterBus::relay_levels(media::Micros now) {
  if (now - last_levels_ < kLevelInterval) return;
  last_levels_ = now;
  LevelSummary summary;
  summary.owner = owner_;
  for (auto& [name, r] : hosted_) {
    core::ActiveSpeakerDetector* speakers = router_.speakers(name);
    if (!speakers) continue;
    std::erase_if(r.remote_speakers, [&](const auto& kv) {
      if (now - kv.second.last_heard < kRemoteSpeakerTtl) return false;
      speakers->remove_source(kv.second.slot);
      return true;
    });
    auto closed = speakers->take_closed();
    if (closed.empty()) continue;
    summary.peers.clear();
    for (auto& entry : closed) {  // in the order closed: bins of one peer stay in time order
      // Not a structured binding: clang 14 cannot capture one in the lambda.
      const auto& peer = entry.first;
      auto pit = std::find_if(summary.peers.begin(), summary.peers.end(),
                              [&](const PeerLevels& l) { return l.peer == peer; });
      if (pit == summary.peers.end()) pit = summary.peers.insert(summary.peers.end(), PeerLevels{peer, {}});
      pit->bins.push_back(entry.second);
    }
    encode_levels(summary, frame_);
    natsConnection_Publish(conn_, levels_subject(name).c_str(), frame_.data(),
                           static_cast<int>(frame_.size()));
  }
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
  auto rit = hosted_.find(key->room);
  RoomDirectory* dir = router_.room(key->room);
  if (rit == hosted_.end() || !dir) return;  // a late entry of a room no longer hosted here
  RoomMirror& mirror = rit->second.mirror;
  auto& out = router_.out();
  jsMsgMetaData* raw_meta = nullptr;
  uint64_t rev = 0;
  if (natsMsg_GetMetaData(&raw_meta, msg) == NATS_OK) rev = raw_meta->Sequence.Stream;
  MetaPtr meta(raw_meta);
  if (rev == 0) return;

  if (is_delete(msg)) {
    // Somebody removed an entry this node still holds (it took us for dead during a stall): put it back.
    for (const auto& [ep, m] : router_.members()) {
      if (m.room != key->room || m.peer != key->peer) continue;
      if (!key->is_track()) return put_peer(m);
      for (const auto& [cid, ch] : router_.channels()) {
        if (ch.publisher && ch.room == key->room && ch.peer == key->peer && ch.info.name == key->track)
          return put_track(ch);
      }
      return;
    }
    auto ended = key->is_track() ? mirror.remove_track(rev, key->peer, key->track, *dir, out)
                                 : mirror.remove_peer(rev, key->peer, *dir, out);
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
    mirror.put_peer(rev, key->peer, owner, (*fields)[1], *dir, out);
    return;
  }
  if (fields->size() != 4) return;
  TrackInfo info{key->track, (*fields)[1] == "audio" ? media::MediaKind::kAudio : media::MediaKind::kVideo,
                 (*fields)[2]};
  const int layers = std::atoi((*fields)[3].c_str());
  info.layers = static_cast<uint8_t>(std::clamp(layers, 1, 4));
  mirror.put_track(rev, key->peer, owner, info, *dir, out);
}

void NatsClusterBus::end_remote_tracks(const std::string& room,
                                       const std::vector<RoomMirror::TrackRef>& ended) {
  for (const auto& [peer, track] : ended)
    router_.remote_track_ended(room, peer, track);
  // A remote speaker whose peer publishes no audio any more leaves the room's detector now, not after the
  // summaries' time-out.
  auto rit = hosted_.find(room);
  core::ActiveSpeakerDetector* speakers = router_.speakers(room);
  const RoomDirectory* dir = router_.room(room);
  if (rit == hosted_.end() || !speakers || !dir) return;
  for (const auto& [peer, track] : ended) {
    auto sit = rit->second.remote_speakers.find(peer);
    if (sit == rit->second.remote_speakers.end()) continue;
    bool audio = false;
    if (const RoomDirectory::Peer* p = dir->peer(peer))
      for (const auto& [name, info] : p->tracks)
        audio = audio || info.kind == media::MediaKind::kAudio;
    if (audio) continue;
    speakers->remove_source(sit->second.slot);
    rit->second.remote_speakers.erase(sit);
  }
}

void NatsClusterBus::resync() {
  // After a reconnect: NATS may have restarted (and lost or kept its store), other nodes may have taken us
  // for dead. Core subscriptions are renewed by libnats; the rest is ours to renew, once the buckets are
  // bound again (a JetStream round trip or two: the RequestThread's).
  if (!connected() || binding_buckets_) return;
  binding_buckets_ = true;
  requests_.post([this] {
    std::string error;
    const bool ok = ensure_buckets(error);
    inbox_->push_completion([this, ok] { on_buckets_bound(ok); });
  });
}

void NatsClusterBus::on_buckets_bound(bool ok) {
  binding_buckets_ = false;
  if (!ok) {  // JetStream not back yet: on_tick tries again in a while
    retry_at_ = now_ + kRetryInterval;
    return;
  }
  resync_pending_ = false;
  for (auto& [name, r] : hosted_) {
    drop_watch(r.watch);  // its consumer may be gone with the old server; a new one replays the room
    r.watch_ticket = 0;   // a watch still being created belongs to the old connection: dropped on arrival
    r.mirror.forget_revisions();
    request_watch(name, r);
  }
  for (const auto& [ep, m] : router_.members())
    put_peer(m);
  for (const auto& [cid, ch] : router_.channels())
    if (ch.publisher) put_track(ch);
  heartbeat();
  last_heartbeat_ = now_;
  for (auto& [owner, seen] : owners_)  // nobody could beat while NATS was away
    seen.last_seen = stamp();
  for (auto& [cid, ch] : router_.channels()) {
    auto rit = relays_.find(cid);
    if (rit == relays_.end()) continue;
    RelayChannel& r = rit->second;
    if (ch.publisher) {
      for (auto& [owner, interest] : r.interest)
        interest.last_seen = stamp();
      continue;
    }
    r.last_interest = std::max<media::Micros>(now_, 1);
    send_feedback(cid, r, static_cast<uint8_t>(FeedbackType::kInterest), r.sent_bps);
    send_feedback(cid, r, static_cast<uint8_t>(FeedbackType::kKeyFrame),
                  0);  // decoders restart on a key frame
  }
}

void NatsClusterBus::remove_dead_owner(const std::string& owner) {
  if (!owners_[owner].left) ++dead_nodes_;
  for (auto& [name, room] : hosted_) {
    RoomDirectory* dir = router_.room(name);
    if (!dir) continue;
    for (const auto& [peer, track] : room.mirror.owned_by(owner)) {
      if (track.empty()) {
        kv_delete(peer_key(name, peer));
        end_remote_tracks(name, room.mirror.remove_peer(0, peer, *dir, router_.out()));
      } else {
        kv_delete(track_key(name, peer, track));
        end_remote_tracks(name, room.mirror.remove_track(0, peer, track, *dir, router_.out()));
      }
    }
  }
  owners_.erase(owner);
  for (auto& [cid, r] : relays_) {
    if (r.interest.erase(owner)) update_remote_want(cid, r);
  }
}

void NatsClusterBus::on_tick(media::Micros now) {
  now_ = now;
  clock_known_ = true;
  for (auto& [owner, seen] : owners_)
    if (seen.last_seen == kUnstamped) seen.last_seen = now;
  for (auto& [cid, r] : relays_)
    for (auto& [owner, interest] : r.interest)
      if (interest.last_seen == kUnstamped) interest.last_seen = now;
  expire_claims(now);
  router_.on_tick(now);  // active speakers: local levels (and what the relay heard) decide on every node
  if (abandoned_ || !conn_) return;
  // Set-up that failed is retried once per kRetryInterval (on the RequestThread, as every JetStream call).
  const bool retry = now >= retry_at_;
  if (resync_pending_ && retry) resync();
  if (!connected()) return;  // nothing below can reach anybody, and silence now proves nothing
  retry_give_backs(now);
  relay_levels(now);
  if (now - last_heartbeat_ >= options_.heartbeat_interval) {
    heartbeat();
    last_heartbeat_ = now;
  }
  if (retry && !resync_pending_) {
    for (auto& [name, r] : hosted_)
      request_watch(name, r);  // only where there is no watch and none in flight
  }
  const media::Micros interest_ttl = 3 * options_.interest_interval;
  for (auto& [cid, ch] : router_.channels()) {
    auto rit = relays_.find(cid);
    if (rit == relays_.end()) continue;
    RelayChannel& r = rit->second;
    if (!ch.publisher) {
      if (now - r.last_interest >= options_.interest_interval) {
        r.last_interest = now;
        send_feedback(cid, r, static_cast<uint8_t>(FeedbackType::kInterest), r.sent_bps);
      }
      continue;
    }
    const size_t before = r.interest.size();
    std::erase_if(r.interest, [&](const auto& kv) { return now - kv.second.last_seen > interest_ttl; });
    if (r.interest.size() != before) update_remote_want(cid, r);
  }
  std::vector<std::string> dead;
  for (const auto& [owner, seen] : owners_)
    if (now - seen.last_seen > options_.node_ttl) dead.push_back(owner);
  for (const auto& owner : dead)
    remove_dead_owner(owner);
}

}  // namespace atrium::cluster::nats
