#include "core/endpoint/endpoint.h"

#include "core/names.h"
#include "core/util/overloaded.h"

namespace atrium::core {

namespace {

bool valid_name(const std::string& s) {
  return is_url_safe_name(s);
}

std::string kind_key(const std::string& peer, const std::string& track) {
  std::string k = peer;
  k += '\0';
  k += track;
  return k;
}

}  // namespace

void Endpoint::flush_local(LocalTrack& t) {
  if (auto layer = t.take_keyframe_request()) control(ccl::LocalTrackKeyFrameRequest{t.id(), *layer});
  if (auto change = t.take_layer_change())
    emit(eev::LocalTrackLayerChanged{t.id(), change->first, change->second});
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
  BitrateSink sink(*this);
  std::visit(
      Overloaded{
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
              return error(ErrorCode::kInvalidArgument, "peer id must be 1-128 of A-Z a-z 0-9 - _ . ~");
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
          [&](tev::AttachMix& c) { attach_mix(now, c.id, c.codec); },
          [&](tev::Detach& c) { detach(c.id); },
          [&](tev::SetLimits& c) {
            LocalTrack* t = find_local(c.id, "set limits");
            if (!t) return;
            t->set_limits(c.limits);
            bitrate_.on_limits(now, *t, local_, sink);
          },
          [&](tev::SetPaused& c) {
            LocalTrack* t = find_local(c.id, c.paused ? "pause" : "resume");
            if (!t) return;
            const auto before = t->state();
            const bool was_paused = t->client_paused();
            t->set_paused(now, c.paused);
            if (t->client_paused() == was_paused) return;
            // A paused track takes no share of the estimate; a resumed one joins as new (no dwell).
            bitrate_.track_changed(now, *t);
            flush_local(*t);
            bitrate_.send_desired(*t, true, sink);
            set_state(*t, before);
            bitrate_.reallocate(now, local_, sink);
          },
          [&](tev::BandwidthEstimate& c) { bitrate_.on_estimate(now, c.bps, local_, sink); },
          [&](tev::SendMessage& c) {
            if (!require_room("send a message")) return;
            if (c.data.size() > kMaxMessageLength)
              return error(ErrorCode::kInvalidArgument, "a message is at most 16 KiB");
            if (!c.to.empty() && !valid_name(c.to))
              return error(ErrorCode::kInvalidArgument, "peer id must be 1-128 of A-Z a-z 0-9 - _ . ~");
            control(ccl::PeerMessage{std::move(c.to), std::move(c.data)});
          },
          [&](tev::RequestKeyFrame& c) {
            auto it = local_.find(c.id);
            if (it == local_.end() || !it->second.attached()) return;  // RTCP for a track we no longer feed
            it->second.on_keyframe_requested(now);
            flush_local(it->second);
          },
      },
      event);
}

void Endpoint::join(media::Micros, JoinParams&& params) {
  if (in_room()) return error(ErrorCode::kAlreadyJoined, "already in room '" + params_.room + "'");
  if (!valid_name(params.room))
    return error(ErrorCode::kInvalidArgument, "room name must be 1-128 of A-Z a-z 0-9 - _ . ~");
  if (!valid_name(params.peer))
    return error(ErrorCode::kInvalidArgument, "peer id must be 1-128 of A-Z a-z 0-9 - _ . ~");
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
  clear_room();
  emit(eev::Left{});
}

void Endpoint::clear_room() {
  local_.clear();
  remote_.clear();
  watched_.clear();
  speakers_.clear();
  bitrate_.reset();
  state_ = State::kIdle;
}

void Endpoint::publish(tev::Publish&& c) {
  if (!require_room("publish")) return;
  if (!valid_name(c.info.name))
    return error(ErrorCode::kInvalidArgument, "track name must be 1-128 of A-Z a-z 0-9 - _ . ~");
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
  BitrateSink sink(*this);
  if (!require_room("subscribe to a track")) return;
  if (!valid_name(c.peer) || !valid_name(c.track))
    return error(ErrorCode::kInvalidArgument, "peer id and track name must be 1-128 of A-Z a-z 0-9 - _ . ~");
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
  bitrate_.before_attach(now, t);
  t.attach(now, c.peer, c.track);
  bitrate_.track_changed(now, t);
  control(ccl::LocalTrackStarted{c.id, std::move(c.peer), std::move(c.track)});
  bitrate_.send_desired(t, true, sink);
  flush_local(t);
  set_state(t, before);
}

void Endpoint::attach_mix(media::Micros now, LocalTrackId id, media::Codec codec) {
  BitrateSink sink(*this);
  if (!require_room("subscribe to the mix")) return;
  auto [it, inserted] = local_.try_emplace(id, id);
  if (inserted && local_.size() > kMaxTracks) {
    local_.erase(it);
    return error(ErrorCode::kInvalidArgument, "too many local tracks");
  }
  LocalTrack& t = it->second;
  const auto before = t.state();
  t.set_kind(media::MediaKind::kAudio);
  t.set_source_layers(1);
  bitrate_.before_attach(now, t);
  // The mix's packets are all key frames (audio) and arrive as cev::LocalTrackMedia like any source's; the
  // router ignores the key-frame requests and desired bitrates of a track it does not route to a channel.
  t.attach(now, tev::kMixSourcePeer, tev::kMixSourceTrack);
  bitrate_.track_changed(now, t);
  control(ccl::LocalMixStarted{id, codec});
  bitrate_.send_desired(t, true, sink);
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
  bitrate_.forget(id);
}

void Endpoint::release_local(LocalTrackId id, bool source_ended) {
  auto it = local_.find(id);
  if (it == local_.end()) return;
  const auto before = it->second.state();
  it->second.detach();
  bitrate_.forget(id);
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
                   clear_room();
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
                 [&](cev::ActiveSpeakersChanged& e) {
                   // The room's list changed; this member's filtered view of it may not have.
                   if (state_ != State::kJoined || e.speakers == speakers_) return;
                   speakers_ = e.speakers;
                   emit(eev::ActiveSpeakers{std::move(e.speakers)});
                 },
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
  BitrateSink sink(*this);
  if (state_ == State::kJoined) bitrate_.tick(now, local_, sink);
}

}  // namespace atrium::core
