#include "core/mix/room_mix.h"

#include "core/events/cluster_event.h"

namespace atrium::core {

RoomMix::RoomMix(media::mixer::MixerConfig config) : mixer_(config) {}

RoomMix::InputId RoomMix::next_id() {
  // Ids are never reused while in use: skip any a peer or an input still holds (after 2^32 ids only).
  for (;;) {
    const InputId id = next_input_++;
    if (id == 0 || mixer_.has_input(id)) continue;
    bool taken = false;
    for (const auto& [peer, s] : peers_)
      taken = taken || s.own == id;
    if (!taken) return id;
  }
}

RoomMix::PeerSlot& RoomMix::slot(const std::string& peer) {
  auto [it, inserted] = peers_.try_emplace(peer);
  if (inserted) it->second.own = next_id();
  return it->second;
}

void RoomMix::release_slot(const std::string& peer) {
  auto it = peers_.find(peer);
  if (it != peers_.end() && !it->second.own_used && it->second.listeners == 0) peers_.erase(it);
}

std::optional<RoomMix::InputId> RoomMix::add_input(ChannelId channel, const std::string& peer) {
  if (auto it = inputs_.find(channel); it != inputs_.end()) return it->second.id;
  PeerSlot& s = slot(peer);
  const bool own = !s.own_used;
  const InputId id = own ? s.own : next_id();
  if (!mixer_.add_input(id).ok()) {
    release_slot(peer);
    return std::nullopt;
  }
  if (own) s.own_used = true;
  inputs_[channel] = Input{id, peer};
  return id;
}

void RoomMix::remove_input(ChannelId channel) {
  auto it = inputs_.find(channel);
  if (it == inputs_.end()) return;
  const Input in = std::move(it->second);
  inputs_.erase(it);
  mixer_.remove_input(in.id);  // fades out during the next frame
  auto s = peers_.find(in.peer);
  if (s != peers_.end() && s->second.own == in.id) {
    s->second.own_used = false;
    release_slot(in.peer);
  }
}

void RoomMix::push(InputId input, const media::MediaPacket& pkt) {
  if (pkt.codec != media::Codec::kOpus) return;
  mixer_.push(input, pkt.seq, pkt.timestamp, pkt.payload, pkt.arrival);
}

std::optional<Error> RoomMix::add_listener(EndpointId ep, LocalTrackId id, const std::string& peer,
                                           media::Codec codec) {
  if (has_listener(ep, id)) return std::nullopt;
  media::mixer::MixCodec mix_codec = media::mixer::MixCodec::kOpus;
  if (codec == media::Codec::kPcmu) {
    mix_codec = media::mixer::MixCodec::kPcmu;
  } else if (codec == media::Codec::kPcma) {
    mix_codec = media::mixer::MixCodec::kPcma;
  } else if (codec != media::Codec::kOpus) {
    return Error{ErrorCode::kInvalidArgument,
                 "the room's mix comes as opus, PCMU or PCMA, not " + std::string(media::to_string(codec))};
  }
  PeerSlot& s = slot(peer);
  const media::mixer::MixListenerId lid = next_listener_++;
  auto status = mixer_.add_listener(lid, mix_codec, s.own);
  if (!status.ok()) {
    release_slot(peer);
    return Error{ErrorCode::kInvalidArgument,
                 "the room's mix cannot take another listener: " + status.error()};
  }
  ++s.listeners;
  listeners_[lid] = Listener{ep, id, peer};
  return std::nullopt;
}

void RoomMix::remove_listener(EndpointId ep, LocalTrackId id) {
  for (auto it = listeners_.begin(); it != listeners_.end(); ++it) {
    if (it->second.ep != ep || it->second.id != id) continue;
    mixer_.remove_listener(it->first);
    const std::string peer = std::move(it->second.peer);
    listeners_.erase(it);
    auto s = peers_.find(peer);
    if (s != peers_.end()) {
      --s->second.listeners;
      release_slot(peer);
    }
    return;
  }
}

void RoomMix::remove_endpoint(EndpointId ep) {
  std::vector<LocalTrackId> ids;
  for (const auto& [lid, l] : listeners_)
    if (l.ep == ep) ids.push_back(l.id);
  for (LocalTrackId id : ids)
    remove_listener(ep, id);
}

bool RoomMix::has_listener(EndpointId ep, LocalTrackId id) const {
  for (const auto& [lid, l] : listeners_)
    if (l.ep == ep && l.id == id) return true;
  return false;
}

void RoomMix::tick(media::Micros now, RingQueue<ClusterDelivery>& out) {
  if (mixer_.tick(now) == 0) return;
  while (auto f = mixer_.poll()) {
    auto it = listeners_.find(f->listener);
    if (it == listeners_.end()) continue;
    media::MediaPacket p;
    p.codec = f->codec == media::mixer::MixCodec::kPcmu   ? media::Codec::kPcmu
              : f->codec == media::mixer::MixCodec::kPcma ? media::Codec::kPcma
                                                          : media::Codec::kOpus;
    p.seq = f->seq;
    p.timestamp = f->rtp_ts;
    p.keyframe = true;
    p.arrival = now;
    p.payload = f->payload;
    out.push({it->second.ep, cev::LocalTrackMedia{it->second.id, p}});
  }
}

std::vector<ChannelId> RoomMix::channels() const {
  std::vector<ChannelId> out;
  out.reserve(inputs_.size());
  for (const auto& [cid, in] : inputs_)
    out.push_back(cid);
  return out;
}

}  // namespace atrium::core
