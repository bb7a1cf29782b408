#include "core/endpoint/endpoint.h"

#include <algorithm>
#include <limits>

#include "core/util/overloaded.h"

namespace atrium::core {

namespace {

bool valid_name(const std::string& s) {
  return !s.empty() && s.size() <= Endpoint::kMaxNameLength;
}

constexpr uint32_t kUnlimited = std::numeric_limits<uint32_t>::max();

std::string kind_key(const std::string& peer, const std::string& track) {
  std::string k = peer;
  k += '\0';
  k += track;
  return k;
}

// The most a track could take: its best layer within its limit.
uint64_t top_allowed(const LayerBitrates& lb, const LocalTrackLimits& limits) {
  const uint32_t limit = limits.max_bitrate_bps ? limits.max_bitrate_bps : kUnlimited;
  uint64_t top = 0;
  for (const auto& row : lb.bps)
    for (uint32_t b : row)
      if (b <= limit && b > top) top = b;
  return top;
}

// What probing should aim at for a track whose source has layers that are not arriving (the publisher paused
// them because no subscriber could take them): each missing spatial layer counted as three times the one
// below (a quarter of the pixels costs about a third of the bits), within the track's limit. Without this
// a subscriber would never probe above the layers flowing, and the publisher would never be asked for more.
uint64_t with_unseen_layers(uint64_t top, const LayerBitrates& lb, const LocalTrack& t) {
  if (top == 0 || t.kind() != media::MediaKind::kVideo) return top;
  int seen = 0;
  for (int s = 0; s < kMaxSpatialLayers; ++s)
    if (lb.bps[static_cast<size_t>(s)][0] > 0) seen = s + 1;
  const uint32_t limit = t.limits().max_bitrate_bps ? t.limits().max_bitrate_bps : kUnlimited;
  uint64_t wanted = top;
  for (int s = seen; s < t.source_layers(); ++s)
    wanted *= 3;
  return std::min<uint64_t>(wanted, limit);
}

bool moved(uint64_t before, uint64_t now, double fraction) {
  if (before == now) return false;
  if (before == 0 || now == 0 || before == kUnlimited || now == kUnlimited) return true;
  const double diff = before > now ? static_cast<double>(before - now) : static_cast<double>(now - before);
  return diff > fraction * static_cast<double>(before);
}

}  // namespace

uint32_t Endpoint::desired_bitrate(const LocalTrack& t) const {
  if (t.client_paused()) return 0;
  uint32_t want = t.limits().max_bitrate_bps ? t.limits().max_bitrate_bps : kUnlimited;
  if (estimate_known_) {
    // What this client can receive at all; video shares it with the audio it also receives. Never 0 here:
    // 0 tells the publisher that nobody watches.
    uint64_t cap = estimate_bps_;
    if (t.kind() == media::MediaKind::kVideo) cap = cap > audio_bps_ ? cap - audio_bps_ : 0;
    cap = std::max<uint64_t>(cap, 1);
    if (cap < want) want = static_cast<uint32_t>(cap);
  }
  return want;
}

void Endpoint::send_desired(LocalTrack& t, bool force) {
  if (!t.attached()) return;
  const uint32_t want = desired_bitrate(t);
  auto [it, inserted] = desired_sent_.try_emplace(t.id(), want);
  if (!inserted && !force && !moved(it->second, want, kBitrateChange)) return;
  it->second = want;
  control(ccl::LocalTrackDesiredBitrate{t.id(), want});
}

void Endpoint::flush_local(LocalTrack& t) {
  if (auto layer = t.take_keyframe_request()) control(ccl::LocalTrackKeyFrameRequest{t.id(), *layer});
  if (auto change = t.take_layer_change())
    emit(eev::LocalTrackLayerChanged{t.id(), change->first, change->second});
}

TrackLimits Endpoint::allocator_limits(const LocalTrack& t) const {
  TrackLimits l;
  if (t.limits().max_bitrate_bps) l.max_bitrate_bps = t.limits().max_bitrate_bps;
  return l;
}

void Endpoint::allocator_add(media::Micros now, LocalTrack& t) {
  if (!t.attached() || t.client_paused()) return allocator_.remove_track(t.id());
  allocator_.add_track(t.id(), t.kind(), t.limits().priority, t.layer_bitrates(now), allocator_limits(t));
}

void Endpoint::forget_local(LocalTrackId id) {
  allocator_.remove_track(id);
  desired_sent_.erase(id);
}

void Endpoint::apply_allocation(media::Micros now) {
  if (!estimate_known_) return;
  while (allocator_.poll()) {
  }
  // An estimate below everything must not make the client's picture go black by policy alone (an estimate
  // can be wrong low, a frozen picture is worse than a late one): audio is never paused, and when no video
  // track got a layer the highest-priority ones keep their lowest. Pausing is for video the estimate cannot
  // carry while other video plays, and never during the warm-up (kEstimateWarmup).
  bool any_video = false;
  uint8_t top_priority = 0;
  for (auto& [id, t] : local_) {
    if (!t.attached() || t.client_paused() || t.kind() != media::MediaKind::kVideo) continue;
    top_priority = std::max(top_priority, t.limits().priority);
    if (!t.has_bitrates() || allocator_.current(id)) any_video = true;
  }
  const std::optional<Layer> lowest = Layer{0, kAllTemporalLayers};
  const bool warming_up = now - first_estimate_at_ < kEstimateWarmup;
  for (auto& [id, t] : local_) {
    if (!t.attached() || t.client_paused()) continue;
    const auto before = t.state();
    // A track whose source has not been measured yet starts at its lowest layer rather than waiting a second.
    std::optional<Layer> target = t.has_bitrates() ? allocator_.current(id) : lowest;
    if (!target && (t.kind() == media::MediaKind::kAudio || warming_up ||
                    (!any_video && t.limits().priority == top_priority)))
      target = lowest;
    // Going down because the current layer alone needs over twice the whole estimate: the link is
    // overflowing, so the current layer stops at once (see LocalTrack::set_target). A milder excess keeps
    // the seamless switch (the estimate may be a dip).
    bool cut_over = false;
    if (target && t.kind() == media::MediaKind::kVideo && t.forwarded_spatial() > target->spatial) {
      const LayerBitrates lb = t.layer_bitrates(now);
      const auto& per_temporal = lb.bps[static_cast<size_t>(t.forwarded_spatial())];
      cut_over = *std::max_element(per_temporal.begin(), per_temporal.end()) > 2 * estimate_bps_;
    }
    t.set_target(now, target, cut_over);
    flush_local(t);
    set_state(t, before);
  }
}

void Endpoint::bitrate_tick(media::Micros now) {
  if (bitrate_ticked_ && now - last_bitrate_tick_ < kBitrateInterval) return;
  bitrate_ticked_ = true;
  last_bitrate_tick_ = now;
  uint64_t wanted = 0;
  uint64_t audio = 0;
  for (auto& [id, t] : local_) {
    if (!t.attached() || t.client_paused()) continue;
    const LayerBitrates lb = t.layer_bitrates(now);
    allocator_.add_track(id, t.kind(), t.limits().priority, lb, allocator_limits(t));
    const uint64_t top = top_allowed(lb, t.limits());
    wanted += with_unseen_layers(top, lb, t);
    if (t.kind() == media::MediaKind::kAudio) audio += top;
  }
  audio_bps_ = audio;
  if (estimate_known_) {
    allocator_.update(now);
    apply_allocation(now);
  }
  if (moved(wanted_reported_, wanted, kBitrateChange)) {
    wanted_reported_ = wanted;
    emit(eev::BandwidthWanted{wanted});
  }
  for (auto& [id, t] : local_)
    send_desired(t, false);
}

const RemoteTrack* Endpoint::remote_track(RemoteTrackId id) const {
  auto it = remote_.find(id);
  return it == remote_.end() ? nullptr : &it->second;
}

const LocalTrack* Endpoint::local_track(LocalTrackId id) const {
  auto it = local_.find(id);
  return it == local_.end() ? nullptr : &it->second;
}

void Endpoint::error(ErrorCode code, std::string message) {
  emit(eev::ErrorEvent{{code, std::move(message)}});
}

bool Endpoint::require_room(const char* action) {
  if (in_room()) return true;
  error(ErrorCode::kNotJoined, std::string("cannot ") + action + " before joining a room");
  return false;
}

LocalTrack* Endpoint::find_local(LocalTrackId id, const char* action) {
  auto it = local_.find(id);
  if (it != local_.end()) return &it->second;
  error(ErrorCode::kLocalTrackNotFound,
        std::string("cannot ") + action + ": no local track " + std::to_string(id));
  return nullptr;
}

void Endpoint::set_state(LocalTrack& t, LocalTrackState before) {
  if (t.state() != before) emit(eev::LocalTrackStateChanged{t.id(), t.state()});
}

void Endpoint::on_transport(media::Micros now, TransportEvent&& event) {
  if (auto* media = std::get_if<tev::RemoteMedia>(&event)) {  // the hot path first
    on_remote_media(*media);
    return;
  }
  std::visit(Overloaded{
                 [&](tev::Join& c) { join(now, std::move(c.params)); },
                 [&](tev::Leave&) {
                   if (require_room("leave")) leave();
                 },
                 [&](tev::UpdatePeerMeta& c) {
                   if (!require_room("update peer meta")) return;
                   if (c.meta.size() > kMaxMetaLength)
                     return error(ErrorCode::kInvalidArgument, "peer meta is too long");
                   params_.meta = c.meta;
                   control(ccl::PeerMeta{std::move(c.meta)});
                 },
                 [&](tev::SubscribePeer& c) {
                   if (!require_room("subscribe to a peer")) return;
                   if (params_.peers == SubscribeMode::kAuto && params_.tracks == SubscribeMode::kAuto)
                     return error(ErrorCode::kNotManual,
                                  "subscribing to a peer needs manual mode for peers or tracks");
                   if (!valid_name(c.peer))
                     return error(ErrorCode::kInvalidArgument, "peer id must be 1-128 characters");
                   if (!watched_.insert(c.peer).second) return;  // already subscribed: nothing changes
                   control(ccl::WatchPeer{std::move(c.peer)});
                 },
                 [&](tev::UnsubscribePeer& c) {
                   if (!require_room("unsubscribe from a peer")) return;
                   if (watched_.erase(c.peer) == 0)
                     return error(ErrorCode::kPeerNotWatched, "not subscribed to peer '" + c.peer + "'");
                   control(ccl::UnwatchPeer{std::move(c.peer)});
                 },
                 [&](tev::Publish& c) { publish(std::move(c)); },
                 [&](tev::Unpublish& c) { unpublish(c.id); },
                 [&](tev::UpdateTrackMeta& c) {
                   if (!require_room("update track meta")) return;
                   auto it = remote_.find(c.id);
                   if (it == remote_.end())
                     return error(ErrorCode::kTrackNotFound, "no published track " + std::to_string(c.id));
                   if (c.meta.size() > kMaxMetaLength)
                     return error(ErrorCode::kInvalidArgument, "track meta is too long");
                   it->second.info().meta = c.meta;
                   control(ccl::RemoteTrackMeta{c.id, std::move(c.meta)});
                 },
                 [&](tev::RemoteMedia&) {},
                 [&](tev::Attach& c) { attach(now, std::move(c)); },
                 [&](tev::Detach& c) { detach(c.id); },
                 [&](tev::SetLimits& c) {
                   LocalTrack* t = find_local(c.id, "set limits");
                   if (!t) return;
                   t->set_limits(c.limits);
                   allocator_add(now, *t);
                   control(ccl::LocalTrackDesiredBitrate{c.id, desired_bitrate(*t)});
                   desired_sent_[c.id] = desired_bitrate(*t);
                   if (estimate_known_) {
                     allocator_.update(now);
                     apply_allocation(now);
                   }
                 },
                 [&](tev::SetPaused& c) {
                   LocalTrack* t = find_local(c.id, c.paused ? "pause" : "resume");
                   if (!t) return;
                   const auto before = t->state();
                   const bool was_paused = t->client_paused();
                   t->set_paused(now, c.paused);
                   if (t->client_paused() == was_paused) return;
                   // A paused track takes no share of the estimate; a resumed one joins as new (no dwell).
                   allocator_add(now, *t);
                   flush_local(*t);
                   send_desired(*t, true);
                   set_state(*t, before);
                   if (estimate_known_) {
                     allocator_.update(now);
                     apply_allocation(now);
                   }
                 },
                 [&](tev::BandwidthEstimate& c) {
                   const bool first = !estimate_known_;
                   if (first) first_estimate_at_ = now;
                   estimate_known_ = true;
                   estimate_bps_ = c.bps;
                   allocator_.set_estimate(now, c.bps);
                   if (first) {
                     // Measure now rather than at the next tick, so the first decision has bitrates.
                     bitrate_ticked_ = false;
                     bitrate_tick(now);
                   } else {
                     apply_allocation(now);
                   }
                 },
                 [&](tev::SendMessage& c) {
                   if (!require_room("send a message")) return;
                   if (c.data.size() > kMaxMessageLength)
                     return error(ErrorCode::kInvalidArgument, "a message is at most 16 KiB");
                   if (!c.to.empty() && !valid_name(c.to))
                     return error(ErrorCode::kInvalidArgument, "peer id must be 1-128 characters");
                   control(ccl::PeerMessage{std::move(c.to), std::move(c.data)});
                 },
                 [&](tev::RequestKeyFrame& c) {
                   auto it = local_.find(c.id);
                   if (it == local_.end() || !it->second.attached())
                     return;  // RTCP for a track we no longer feed
                   it->second.on_keyframe_requested(now);
                   flush_local(it->second);
                 },
             },
             event);
}

void Endpoint::join(media::Micros, JoinParams&& params) {
  if (in_room()) return error(ErrorCode::kAlreadyJoined, "already in room '" + params_.room + "'");
  if (!valid_name(params.room))
    return error(ErrorCode::kInvalidArgument, "room name must be 1-128 characters");
  if (!valid_name(params.peer)) return error(ErrorCode::kInvalidArgument, "peer id must be 1-128 characters");
  if (params.meta.size() > kMaxMetaLength) return error(ErrorCode::kInvalidArgument, "peer meta is too long");
  state_ = State::kJoining;
  params_ = params;
  control(ccl::PeerJoin{std::move(params)});
}

void Endpoint::leave() {
  for (auto& [id, t] : local_) {
    if (t.attached()) control(ccl::LocalTrackEnded{id});
    if (t.state() != LocalTrackState::kIdle) emit(eev::LocalTrackStateChanged{id, LocalTrackState::kIdle});
  }
  for (auto& [id, t] : remote_)
    control(ccl::RemoteTrackEnded{id});
  control(ccl::PeerLeave{});
  local_.clear();
  remote_.clear();
  watched_.clear();
  allocator_ = BitrateAllocator{};
  desired_sent_.clear();
  state_ = State::kIdle;
  emit(eev::Left{});
}

void Endpoint::publish(tev::Publish&& c) {
  if (!require_room("publish")) return;
  if (!valid_name(c.info.name))
    return error(ErrorCode::kInvalidArgument, "track name must be 1-128 characters");
  if (c.info.meta.size() > kMaxMetaLength)
    return error(ErrorCode::kInvalidArgument, "track meta is too long");
  if (remote_.count(c.id))
    return error(ErrorCode::kTrackExists, "track id " + std::to_string(c.id) + " is in use");
  for (const auto& [id, t] : remote_)
    if (t.info().name == c.info.name)
      return error(ErrorCode::kTrackExists, "a track named '" + c.info.name + "' is already published");
  if (remote_.size() >= kMaxTracks) return error(ErrorCode::kInvalidArgument, "too many published tracks");
  remote_.emplace(c.id, RemoteTrack(c.id, c.info));
  control(ccl::RemoteTrackStarted{c.id, std::move(c.info)});
}

void Endpoint::unpublish(RemoteTrackId id) {
  if (!require_room("unpublish")) return;
  if (remote_.erase(id) == 0)
    return error(ErrorCode::kTrackNotFound, "no published track " + std::to_string(id));
  control(ccl::RemoteTrackEnded{id});
}

void Endpoint::on_remote_media(tev::RemoteMedia& m) {
  auto it = remote_.find(m.id);
  if (it == remote_.end()) return;  // media for a track that is not (or no longer) published
  it->second.on_media(m.packet);
  control(ccl::RemoteTrackMedia{m.id, m.packet});
}

void Endpoint::attach(media::Micros now, tev::Attach&& c) {
  if (!require_room("subscribe to a track")) return;
  if (!valid_name(c.peer) || !valid_name(c.track))
    return error(ErrorCode::kInvalidArgument, "peer id and track name must be 1-128 characters");
  auto [it, inserted] = local_.try_emplace(c.id, c.id);
  if (inserted && local_.size() > kMaxTracks) {
    local_.erase(it);
    return error(ErrorCode::kInvalidArgument, "too many local tracks");
  }
  LocalTrack& t = it->second;
  const auto before = t.state();
  auto kind = kinds_.find(kind_key(c.peer, c.track));
  t.set_kind(kind != kinds_.end() ? kind->second.kind : media::MediaKind::kVideo);
  t.set_source_layers(kind != kinds_.end() ? kind->second.layers : 1);
  // Under an estimate a new source starts at its lowest layer until it is measured.
  if (estimate_known_) t.set_target(now, Layer{0, kAllTemporalLayers});
  t.attach(now, c.peer, c.track);
  allocator_add(now, t);
  control(ccl::LocalTrackStarted{c.id, std::move(c.peer), std::move(c.track)});
  send_desired(t, true);
  flush_local(t);
  set_state(t, before);
}

void Endpoint::detach(LocalTrackId id) {
  LocalTrack* t = find_local(id, "unsubscribe");
  if (!t) return;
  if (t->attached()) control(ccl::LocalTrackEnded{id});
  const auto before = t->state();
  t->detach();
  set_state(*t, before);
  local_.erase(id);
  forget_local(id);
}

void Endpoint::release_local(LocalTrackId id, bool source_ended) {
  auto it = local_.find(id);
  if (it == local_.end()) return;
  const auto before = it->second.state();
  it->second.detach();
  forget_local(id);
  if (source_ended) emit(eev::LocalTrackSourceEnded{id});
  set_state(it->second, before);
}

void Endpoint::on_local_media(media::Micros now, const cev::LocalTrackMedia& m) {
  auto it = local_.find(m.id);
  if (it == local_.end()) return;
  LocalTrack& t = it->second;
  const auto before = t.state();
  auto out = t.on_media(now, m.packet);
  flush_local(t);
  set_state(t, before);
  if (out) emit(eev::LocalMedia{m.id, *out});
}

void Endpoint::on_cluster(media::Micros now, ClusterEvent&& event) {
  if (auto* media = std::get_if<cev::LocalTrackMedia>(&event)) {  // the hot path first
    on_local_media(now, *media);
    return;
  }
  std::visit(Overloaded{
                 [&](cev::PeerJoined& e) {
                   emit(eev::PeerJoined{std::move(e.peer), std::move(e.meta)});
                 },
                 [&](cev::PeerLeft& e) { emit(eev::PeerLeft{std::move(e.peer)}); },
                 [&](cev::PeerMeta& e) {
                   emit(eev::PeerMetaChanged{std::move(e.peer), std::move(e.meta)});
                 },
                 [&](cev::TrackPublished& e) {
                   kinds_[kind_key(e.peer, e.info.name)] = {e.info.kind, e.info.layers};
                   emit(eev::TrackPublished{std::move(e.peer), std::move(e.info)});
                 },
                 [&](cev::TrackUnpublished& e) {
                   kinds_.erase(kind_key(e.peer, e.track));
                   emit(eev::TrackUnpublished{std::move(e.peer), std::move(e.track)});
                 },
                 [&](cev::TrackMeta& e) {
                   emit(eev::TrackMetaChanged{std::move(e.peer), std::move(e.track), std::move(e.meta)});
                 },
                 [&](cev::JoinAccepted&) {
                   if (state_ != State::kJoining) return;
                   state_ = State::kJoined;
                   emit(eev::Joined{params_.room, params_.peer});
                 },
                 [&](cev::JoinRejected& e) {
                   if (state_ != State::kJoining) return;
                   state_ = State::kIdle;
                   remote_.clear();
                   local_.clear();
                   watched_.clear();
                   allocator_ = BitrateAllocator{};
                   desired_sent_.clear();
                   emit(eev::ErrorEvent{std::move(e.error)});
                 },
                 [&](cev::LocalTrackMedia&) {},
                 [&](cev::LocalTrackAttachFailed& e) {
                   release_local(e.id, false);
                   emit(eev::ErrorEvent{std::move(e.error)});
                 },
                 [&](cev::LocalTrackSourceEnded& e) { release_local(e.id, true); },
                 [&](cev::RemoteTrackKeyFrameRequest& e) {
                   auto it = remote_.find(e.id);
                   if (it != remote_.end() && it->second.on_keyframe_request(now, e.spatial_layer))
                     emit(eev::RequestKeyFrame{e.id, e.spatial_layer});
                 },
                 [&](cev::RemoteTrackDesiredBitrate& e) {
                   if (remote_.count(e.id)) emit(eev::BitrateHint{e.id, e.bitrate_bps});
                 },
                 [&](cev::MessageReceived& e) {
                   emit(eev::Message{std::move(e.from), std::move(e.data), e.direct});
                 },
                 [&](cev::MessageRejected& e) { emit(eev::ErrorEvent{std::move(e.error)}); },
             },
             event);
}

void Endpoint::on_tick(media::Micros now) {
  for (auto& [rid, t] : remote_) {
    const RemoteTrackId id = rid;  // clang before 16 cannot capture a structured binding
    t.on_tick(now, [&](uint8_t layer) { emit(eev::RequestKeyFrame{id, layer}); });
  }
  for (auto& [id, t] : local_) {
    const auto before = t.state();
    t.on_tick(now);
    flush_local(t);
    set_state(t, before);
  }
  if (state_ == State::kJoined) bitrate_tick(now);
}

}  // namespace atrium::core
