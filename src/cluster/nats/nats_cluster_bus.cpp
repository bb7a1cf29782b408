// Controls from local endpoints: the router serves them as LocalBus does; as the router's relay, the bus
// writes what other nodes must see to NATS. Joins wait for the cluster's verdict on the peer id.
#include "cluster/nats/nats_cluster_bus.h"

#include <algorithm>

#include "cluster/nats/key_codec.h"
#include "cluster/nats/wire_format.h"

namespace atrium::cluster::nats {

using namespace core;

void NatsClusterBus::send(media::Micros now, EndpointId from, ClusterControl&& control) {
  now_ = now;
  clock_known_ = true;
  if (auto* media = std::get_if<ccl::RemoteTrackMedia>(&control)) {  // the hot path first
    router_.on_media(from, media->id, media->packet);
    return;
  }
  if (auto* join = std::get_if<ccl::PeerJoin>(&control)) return on_join(from, join->params);
  router_.route(from, std::move(control));
}

void NatsClusterBus::on_join(EndpointId from, const JoinParams& params) {
  auto reject = [&](Error error) { router_.out().push({from, cev::JoinRejected{std::move(error)}}); };
  if (auto refused = router_.check_join(from, params)) return reject(std::move(*refused));
  if (!connected())
    return reject({ErrorCode::kUnavailable, "the cluster is unreachable (NATS disconnected); try again"});
  // The room opens now (its watch is requested alongside the claim), the endpoint stays `joining`, and the
  // worker goes on: the claim is the RequestThread's to wait for.
  router_.hold_join(from, params);
  const uint64_t ticket = next_ticket_++;
  auto withdrawn = std::make_shared<std::atomic<bool>>(false);
  claims_in_flight_[from] = {ticket, now_ + options_.join_timeout, withdrawn};
  std::string key = peer_key(params.room, params.peer);
  // This claim decides the key now (an entry of ours left over is replaced): an earlier give-back of it that
  // is still queued runs first, and none is tried after.
  doubtful_.erase(key);
  std::string value = encode_fields({owner_, params.meta});
  requests_.post([this, from, ticket, withdrawn, key = std::move(key), value = std::move(value),
                  room = params.room, peer = params.peer] {
    if (withdrawn->load(std::memory_order_acquire)) return;  // nobody waits for it any more
    const ClaimResult result = claims_->claim(key, value);
    inbox_->push_completion(
        [this, from, ticket, result, room, peer] { on_claimed(from, ticket, result, room, peer); });
  });
}

void NatsClusterBus::on_claimed(EndpointId from, uint64_t ticket, ClaimResult result, const std::string& room,
                                const std::string& peer) {
  auto it = claims_in_flight_.find(from);
  // Withdrawn or timed out: abandon_claim's job, queued behind this claim, gave the key back.
  if (it == claims_in_flight_.end() || it->second.ticket != ticket) return;
  claims_in_flight_.erase(it);
  switch (result) {
    case ClaimResult::kClaimed:
      // Still refused if the directory got that peer id meanwhile: then the key we took goes back.
      if (!router_.admit(from)) give_back(peer_key(room, peer));
      break;
    case ClaimResult::kTaken:
      router_.refuse(from,
                     {ErrorCode::kPeerIdTaken, "peer id '" + peer + "' is already in room '" + room + "'"});
      break;
    case ClaimResult::kUnavailable:
      // A request that timed out may still be carried out when NATS catches up: the key may be ours.
      give_back(peer_key(room, peer));
      router_.refuse(from, {ErrorCode::kUnavailable,
                            "the cluster directory (NATS JetStream) did not answer; "
                            "try again"});
      break;
  }
}

void NatsClusterBus::join_cancelled(EndpointId ep, const JoinParams& params) {
  abandon_claim(ep, params);
}

void NatsClusterBus::abandon_claim(EndpointId from, const JoinParams& params) {
  auto it = claims_in_flight_.find(from);
  if (it == claims_in_flight_.end()) return;
  it->second.withdrawn->store(true, std::memory_order_release);
  claims_in_flight_.erase(it);
  give_back(peer_key(params.room, params.peer));
}

void NatsClusterBus::give_back(const std::string& key) {
  Doubtful& d = doubtful_[key];
  d.generation = next_ticket_++;
  d.in_flight = false;
  try_give_back(key, d);
}

void NatsClusterBus::try_give_back(const std::string& key, Doubtful& d) {
  if (d.in_flight || !connected()) return;  // on_tick tries again
  d.in_flight = true;
  // Queued behind the claim, so it sees the claim's outcome, and before any later claim of this bus (a retry
  // of the same peer id included: on_join forgets the key, so no give-back of it is posted after that claim).
  requests_.post([this, key, generation = d.generation] {
    const bool settled = claims_->release(key);
    inbox_->push_completion([this, key, generation, settled] {
      auto it = doubtful_.find(key);
      if (it == doubtful_.end() || it->second.generation != generation) return;
      if (settled) {
        doubtful_.erase(it);
        return;
      }
      it->second.in_flight = false;  // NATS did not answer: again in a while
      it->second.next_try = now_ + kRetryInterval;
    });
  });
}

void NatsClusterBus::retry_give_backs(media::Micros now) {
  for (auto& [key, d] : doubtful_)
    if (!d.in_flight && now >= d.next_try) try_give_back(key, d);
}

void NatsClusterBus::expire_claims(media::Micros now) {
  std::vector<EndpointId> late;
  for (const auto& [ep, c] : claims_in_flight_)
    if (now >= c.deadline) late.push_back(ep);
  for (EndpointId ep : late) {
    const JoinParams* params = router_.pending_join(ep);
    if (!params) {
      claims_in_flight_.erase(ep);
      continue;
    }
    const JoinParams copy = *params;
    abandon_claim(ep, copy);
    router_.refuse(
        ep, {ErrorCode::kUnavailable, "the cluster directory (NATS JetStream) did not answer within " +
                                          std::to_string(options_.join_timeout / 1000) + " ms; try again"});
  }
}

void NatsClusterBus::room_opened(const std::string& room) {
  HostedRoom& r = hosted_[room];
  request_watch(room, r);  // if NATS is slow, on_tick tries again
  r.messages = subscribe(message_subject(room), InboxKind::kMessage);
  r.levels = subscribe(levels_subject(room), InboxKind::kLevels);
  if (auto* speakers = router_.speakers(room)) speakers->record_closed(true);  // relay_levels sends them
}

void NatsClusterBus::room_closed(const std::string& room) {
  auto it = hosted_.find(room);
  if (it == hosted_.end()) return;
  drop_watch(it->second.watch);  // a watch still being created is dropped when it completes
  unsubscribe(it->second.messages);
  unsubscribe(it->second.levels);
  hosted_.erase(it);
}

void NatsClusterBus::peer_meta_changed(const RouterMember& m) {
  put_peer(m);
}

void NatsClusterBus::peer_left(const RouterMember& m) {
  kv_delete(peer_key(m.room, m.peer));
}

void NatsClusterBus::track_published(const RouterChannel& ch) {
  RelayChannel& r = relays_[ch.id];
  r.media_subject = media_subject(options_.subject_prefix, ch.id);
  r.feedback_subject = feedback_subject(options_.subject_prefix, ch.id);
  r.sub = subscribe(r.feedback_subject, InboxKind::kFeedback);
  put_track(ch);
}

void NatsClusterBus::track_meta_changed(const RouterChannel& ch) {
  put_track(ch);
}

void NatsClusterBus::track_unpublished(const RouterChannel& ch) {
  kv_delete(track_key(ch.room, ch.peer, ch.info.name));  // other nodes end their subscribers on the delete
  auto it = relays_.find(ch.id);
  if (it == relays_.end()) return;
  unsubscribe(it->second.sub);
  relays_.erase(it);
}

void NatsClusterBus::media(const RouterChannel& ch, const media::MediaPacket& pkt) {
  auto it = relays_.find(ch.id);
  if (it == relays_.end() || !it->second.relay || !conn_ || abandoned_) return;
  encode_media(ch.id, pkt, frame_);
  if (natsConnection_Publish(conn_, it->second.media_subject.c_str(), frame_.data(),
                             static_cast<int>(frame_.size())) == NATS_OK)
    ++relayed_out_;
  else
    ++relay_errors_;
}

void NatsClusterBus::remote_channel_opened(const RouterChannel& ch) {
  // The first local viewer of a track published on another node: receive its media here.
  RelayChannel& r = relays_[ch.id];
  r.media_subject = media_subject(options_.subject_prefix, ch.id);
  r.feedback_subject = feedback_subject(options_.subject_prefix, ch.id);
  r.sub = subscribe(r.media_subject, InboxKind::kMedia);
}

void NatsClusterBus::remote_channel_closed(const RouterChannel& ch, bool source_ended) {
  auto it = relays_.find(ch.id);
  if (it == relays_.end()) return;
  if (!source_ended) send_feedback(ch.id, it->second, static_cast<uint8_t>(FeedbackType::kGone), 0);
  unsubscribe(it->second.sub);
  relays_.erase(it);
}

void NatsClusterBus::remote_key_frame_wanted(const RouterChannel& ch, uint8_t spatial_layer) {
  auto it = relays_.find(ch.id);
  if (it != relays_.end())
    send_feedback(ch.id, it->second, static_cast<uint8_t>(FeedbackType::kKeyFrame), 0, spatial_layer);
}

void NatsClusterBus::remote_bitrate_wanted(const RouterChannel& ch, uint32_t bps) {
  auto it = relays_.find(ch.id);
  if (it == relays_.end()) return;
  RelayChannel& r = it->second;
  if (bps == r.sent_bps && r.last_interest != 0) return;
  r.sent_bps = bps;
  r.last_interest = std::max<media::Micros>(now_, 1);
  send_feedback(ch.id, r, static_cast<uint8_t>(FeedbackType::kInterest), bps);
}

void NatsClusterBus::update_remote_want(ChannelId id, RelayChannel& r) {
  uint32_t want = 0;
  for (const auto& [owner, interest] : r.interest)
    want = std::max(want, interest.bps);
  r.relay = want > 0;
  router_.remote_bitrate(id, want);
}

std::string NatsClusterBus::message_subject(const std::string& room) const {
  return options_.subject_prefix + ".msg." + encode_token(room);
}

std::string NatsClusterBus::levels_subject(const std::string& room) const {
  return options_.subject_prefix + ".lvl." + encode_token(room);
}

// Messages are plain NATS publishes on the room's subject: every node hosting the room delivers to its own
// members (the sender's node already delivered to its local ones). Format: "<len>:<bytes>," for owner, from,
// to, data, as directory values are written.
void NatsClusterBus::message(const std::string& room, const std::string& from, const std::string& to,
                             const std::string& data) {
  auto field = [](std::string& out, const std::string& s) {
    out += std::to_string(s.size()) + ":" + s + ",";
  };
  std::string payload;
  field(payload, owner_);
  field(payload, from);
  field(payload, to);
  field(payload, data);
  if (conn_ && !abandoned_)
    natsConnection_Publish(conn_, message_subject(room).c_str(), payload.data(),
                           static_cast<int>(payload.size()));
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
  const BusStats b = router_.stats();
  s.directory_entries = b.peers + b.tracks;
  for (const auto& [name, r] : hosted_)
    s.directory_entries += r.mirror.entries();
  s.reconnects = reconnects_;
  s.dead_nodes = dead_nodes_;
  return s;
}

}  // namespace atrium::cluster::nats
