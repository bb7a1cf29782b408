#include "transport/sdk/sdk_session.h"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "core/names.h"
#include "core/util/overloaded.h"
#include "transport/sdk/json_fields.h"
#include "transport/sdk/sdk_responses.h"

namespace atrium::sdk {

using nlohmann::json;

namespace {

json meta_json(const std::string& meta) {
  if (meta.empty()) return nullptr;
  auto j = json::parse(meta, nullptr, false);
  return j.is_discarded() ? json(meta) : j;
}

std::string meta_text(const json& request) {
  auto it = request.find("meta");
  return it == request.end() || it->is_null() ? std::string() : it->dump();
}

std::string kind_name(media::MediaKind k) {
  return std::string(media::to_string(k));
}

std::optional<media::MediaKind> kind_from(std::string_view name) {
  if (name == "audio") return media::MediaKind::kAudio;
  if (name == "video") return media::MediaKind::kVideo;
  return std::nullopt;
}

// "peers" / "tracks" of a join: "auto" (also when absent or null) or "manual"; nullopt otherwise.
std::optional<core::SubscribeMode> mode_from(JsonFields& fields, const char* key) {
  const auto mode = fields.string(key);
  if (!fields.ok()) return std::nullopt;
  if (!mode || *mode == "auto") return core::SubscribeMode::kAuto;
  if (*mode == "manual") return core::SubscribeMode::kManual;
  return std::nullopt;
}

const std::string kEmpty;

}  // namespace

SdkSession::SdkSession(SdkSessionConfig config, MediaFactory factory)
    : config_(std::move(config)), factory_(std::move(factory)) {}

SdkSession::~SdkSession() = default;

void SdkSession::send(std::string text) {
  if (out_.size() >= config_.max_queued_messages) out_.pop_front();  // the runtime closes such a client
  out_.push_back(std::move(text));
}

void SdkSession::respond_ok(const json& id, json result) {
  send(ok_response(id, std::move(result)));
}

void SdkSession::respond_error(const json& id, std::string_view code, std::string_view message) {
  send(error_response(id, code, message));
}

void SdkSession::event(json e) {
  std::string text = e.dump();
  if (join_id_) {
    held_.push_back(std::move(text));  // the client learns of the room after it learns it joined
    return;
  }
  send(std::move(text));
}

std::optional<std::string> SdkSession::pop_message() {
  if (out_.empty()) return std::nullopt;
  std::string s = std::move(out_.front());
  out_.pop_front();
  return s;
}

void SdkSession::on_message(media::Micros now, std::string_view text) {
  if (closed_) return;
  auto request = json::parse(text, nullptr, false);
  if (request.is_discarded() || !request.is_object())
    return respond_error(nullptr, "BAD_REQUEST", "a request is a JSON object");
  handle(now, request);
}

void SdkSession::handle(media::Micros now, const json& r) {
  JsonFields fields(r);
  const json id = fields.id();
  const auto type = fields.string("type");
  if (!fields.ok()) return respond_error(id, "BAD_REQUEST", fields.error());
  if (!type || type->empty()) return respond_error(id, "BAD_REQUEST", "a request needs a string \"type\"");
  if (*type == "ping") return respond_ok(id, json::object());
  if (*type == "join") return join(now, id, r);
  if (!joined_) return respond_error(id, "NOT_JOINED", "join a room first");
  auto invalid = [&] { respond_error(id, "INVALID_ARGUMENT", fields.error()); };

  // Requests the core answers: checked here as far as this session knows, then the core's verdict (an error
  // it reports while processing) decides the response in finish_request().
  json result = json::object();
  if (*type == "leave") {
    push(core::tev::Leave{});
    respond_ok(id, result);
    close(now, "the client left");
    return;
  } else if (*type == "publish") {
    if (!config_.permissions.publish)
      return respond_error(id, "PERMISSION_DENIED", "this token may not publish");
    const std::string name = fields.required_string("name");
    const std::string kind_text = fields.required_string("kind");
    const std::string mid = fields.required_string("mid");
    if (!fields.ok()) return invalid();
    const auto kind = kind_from(kind_text);
    if (!core::is_url_safe_name(name))
      return respond_error(id, "INVALID_ARGUMENT", "a track name is 1-128 of A-Z a-z 0-9 - _ . ~");
    if (!kind) return respond_error(id, "INVALID_ARGUMENT", "kind is \"audio\" or \"video\"");
    if (own_.count(name))
      return respond_error(id, "TRACK_EXISTS", "you already publish a track named '" + name + "'");
    const webrtc::WebRtcSession::Section* section = nullptr;
    auto sections = media_->sections();
    for (const auto& s : sections)
      if (s.mid == mid) section = &s;
    if (!section || !section->client_sends)
      return respond_error(id, "INVALID_ARGUMENT", "mid '" + mid + "' is not a section you send on");
    if (section->kind != *kind)
      return respond_error(id, "INVALID_ARGUMENT", "mid '" + mid + "' carries " + kind_name(section->kind));
    for (const auto& [n, t] : own_)
      if (t.mid == mid)
        return respond_error(id, "INVALID_ARGUMENT", "mid '" + mid + "' already carries '" + n + "'");
    const core::RemoteTrackId track = next_remote_++;
    media_->bind_inbound(mid, track);
    own_[name] = OwnTrack{track, mid, *kind};
    push(core::tev::Publish{track, core::TrackInfo{name, *kind, meta_text(r), section->layers}});
    result = {{"name", name}, {"mid", mid}};
  } else if (*type == "unpublish") {
    const std::string name = fields.required_string("name");
    if (!fields.ok()) return invalid();
    auto it = own_.find(name);
    if (it == own_.end())
      return respond_error(id, "TRACK_NOT_FOUND", "you publish no track named '" + name + "'");
    media_->unbind_inbound(it->second.id);
    push(core::tev::Unpublish{it->second.id});
    own_.erase(it);
  } else if (*type == "update_meta") {
    push(core::tev::UpdatePeerMeta{meta_text(r)});
  } else if (*type == "update_track_meta") {
    const std::string name = fields.required_string("name");
    if (!fields.ok()) return invalid();
    auto it = own_.find(name);
    if (it == own_.end())
      return respond_error(id, "TRACK_NOT_FOUND", "you publish no track named '" + name + "'");
    push(core::tev::UpdateTrackMeta{it->second.id, meta_text(r)});
  } else if (*type == "subscribe_peer" || *type == "unsubscribe_peer") {
    std::string peer = fields.required_string("peer");
    if (!fields.ok()) return invalid();
    if (*type == "subscribe_peer")
      push(core::tev::SubscribePeer{std::move(peer)});
    else
      push(core::tev::UnsubscribePeer{std::move(peer)});
  } else if (*type == "attach") {
    if (!config_.permissions.subscribe)
      return respond_error(id, "PERMISSION_DENIED", "this token may not subscribe");
    const std::string peer = fields.required_string("peer");
    const std::string track = fields.required_string("track");
    if (!fields.ok()) return invalid();
    auto known = known_tracks_.find({peer, track});
    if (known == known_tracks_.end())
      return respond_error(id, "TRACK_NOT_FOUND",
                           "no track '" + track + "' of peer '" + peer + "' is visible to you");
    for (const auto& [local, a] : attached_)
      if (a.peer == peer && a.track == track) return respond_ok(id, {{"mid", a.mid}});  // already there
    const webrtc::WebRtcSession::Section* free = nullptr;
    auto sections = media_->sections();
    for (const auto& s : sections) {
      if (!s.client_receives || s.kind != known->second.kind || !s.local || attached_.count(s.local))
        continue;
      free = &s;
      break;
    }
    if (!free)
      return respond_error(id, "NO_RECEIVER",
                           "every " + kind_name(known->second.kind) +
                               " receiver of your connection is in use; detach one or connect with more");
    attached_[free->local] = Attachment{peer, track, free->mid};
    push(core::tev::Attach{free->local, peer, track});
    result = {{"mid", free->mid}};
  } else if (*type == "subscribe_mix") {
    // The room's mix-minus (everyone's audio but this peer's own) on one of the client's audio receivers.
    // The attachment is named like a track no peer can publish: peer "*", track "mix".
    if (!config_.permissions.subscribe)
      return respond_error(id, "PERMISSION_DENIED", "this token may not subscribe");
    for (const auto& [local, a] : attached_)
      if (a.peer == core::tev::kMixSourcePeer) return respond_ok(id, {{"mid", a.mid}});  // already there
    const webrtc::WebRtcSession::Section* free = nullptr;
    auto sections = media_->sections();
    for (const auto& s : sections) {
      if (!s.client_receives || s.kind != media::MediaKind::kAudio || !s.local || attached_.count(s.local))
        continue;
      free = &s;
      break;
    }
    if (!free)
      return respond_error(
          id, "NO_RECEIVER",
          "every audio receiver of your connection is in use; detach one or connect with more");
    attached_[free->local] = Attachment{core::tev::kMixSourcePeer, core::tev::kMixSourceTrack, free->mid};
    push(core::tev::AttachMix{free->local});
    result = {{"mid", free->mid}};
  } else if (*type == "unsubscribe_mix") {
    auto it = std::find_if(attached_.begin(), attached_.end(),
                           [&](const auto& kv) { return kv.second.peer == core::tev::kMixSourcePeer; });
    if (it == attached_.end())
      return respond_error(id, "LOCAL_TRACK_NOT_FOUND", "you are not subscribed to the mix");
    push(core::tev::Detach{it->first});
    attached_.erase(it);
  } else if (*type == "detach") {
    const std::string mid = fields.required_string("mid");
    if (!fields.ok()) return invalid();
    auto it = std::find_if(attached_.begin(), attached_.end(),
                           [&](const auto& kv) { return kv.second.mid == mid; });
    if (it == attached_.end())
      return respond_error(id, "LOCAL_TRACK_NOT_FOUND", "nothing is attached on mid '" + mid + "'");
    push(core::tev::Detach{it->first});
    attached_.erase(it);
  } else if (*type == "set_limits") {
    const std::string mid = fields.required_string("mid");
    const auto max_bitrate = fields.unsigned_integer("max_bitrate", UINT32_MAX);
    const auto priority = fields.unsigned_integer("priority", 255);
    const auto lower_frame_rate = fields.boolean("lower_frame_rate");
    const auto paused = fields.boolean("paused");
    if (!fields.ok()) return invalid();
    auto it = std::find_if(attached_.begin(), attached_.end(),
                           [&](const auto& kv) { return kv.second.mid == mid; });
    if (it == attached_.end())
      return respond_error(id, "LOCAL_TRACK_NOT_FOUND", "nothing is attached on mid '" + mid + "'");
    core::LocalTrackLimits limits;
    if (max_bitrate) limits.max_bitrate_bps = static_cast<uint32_t>(*max_bitrate);
    if (priority) limits.priority = static_cast<uint8_t>(*priority);
    if (lower_frame_rate) limits.lower_frame_rate = *lower_frame_rate;
    push(core::tev::SetLimits{it->first, limits});
    if (paused) push(core::tev::SetPaused{it->first, *paused});
  } else if (*type == "message") {
    const auto* data = fields.any("data");
    const auto to = fields.string("to");
    if (!fields.ok()) return invalid();
    if (!data) return respond_error(id, "INVALID_ARGUMENT", "a message needs \"data\"");
    push(core::tev::SendMessage{to.value_or(std::string()), data->dump()});
  } else {
    return respond_error(id, "UNKNOWN_REQUEST", "unknown request type '" + *type + "'");
  }
  pending_id_ = std::make_unique<json>(id);
  pending_result_ = std::make_unique<json>(std::move(result));
  pending_error_.reset();
}

void SdkSession::finish_request() {
  if (!pending_id_) return;
  if (pending_error_)
    respond_error(*pending_id_, core::to_string(pending_error_->code), pending_error_->message);
  else
    respond_ok(*pending_id_, std::move(*pending_result_));
  pending_id_.reset();
  pending_result_.reset();
  pending_error_.reset();
}

bool SdkSession::replace_media(const std::string& offer, const json& id) {
  if (offer.empty()) {
    respond_error(id, "INVALID_ARGUMENT", "join needs \"offer\": the SDP offer of your peer connection");
    return false;
  }
  auto made = factory_(offer);
  if (!made.session) {
    respond_error(id, "SDP_REJECTED", made.error);
    return false;
  }
  if (media_) {
    media_->close(0, "replaced by a new connection");
    retired_.push_back(std::move(media_));
  }
  media_ = std::move(made.session);
  addresses_seen_ = 0;
  answer_ = std::move(made.answer);
  return true;
}

void SdkSession::join(media::Micros, const json& id, const json& r) {
  if (joined_ || joining_)
    return respond_error(id, "ALREADY_JOINED", "this session already joined room '" + room_ + "'");
  JsonFields fields(r);
  core::JoinParams params;
  params.room = fields.required_string("room");
  params.peer = fields.required_string("peer");
  params.meta = meta_text(r);
  auto peers = mode_from(fields, "peers");
  auto tracks = mode_from(fields, "tracks");
  const auto offer = fields.string("offer");
  fields.string("token");  // checked by the runtime; only its type here
  if (!fields.ok()) return respond_error(id, "INVALID_ARGUMENT", fields.error());
  if (!core::is_url_safe_name(params.room) || !core::is_url_safe_name(params.peer))
    return respond_error(id, "INVALID_ARGUMENT", "room and peer names are 1-128 of A-Z a-z 0-9 - _ . ~");
  if (!peers || !tracks)
    return respond_error(id, "INVALID_ARGUMENT", "\"peers\" and \"tracks\" are \"auto\" or \"manual\"");
  params.peers = *peers;
  params.tracks = *tracks;
  if (!replace_media(offer.value_or(std::string()), id)) return;
  room_ = params.room;
  peer_ = params.peer;
  joining_ = true;
  join_id_ = std::make_unique<json>(id);
  push(core::tev::Join{std::move(params)});
}

void SdkSession::on_resume(media::Micros now, const json& r) {
  JsonFields fields(r);
  const json id = fields.id();
  const auto offer = fields.string("offer");
  disconnected_ = false;
  if (!fields.ok()) return respond_error(id, "INVALID_ARGUMENT", fields.error());
  if (offer) {
    // A new peer connection: what the old one published and received is gone with it.
    if (!replace_media(*offer, id)) return;
    for (const auto& [name, t] : own_)
      push(core::tev::Unpublish{t.id});
    own_.clear();
    for (const auto& [local, a] : attached_)
      push(core::tev::Detach{local});
    attached_.clear();
  }
  respond_ok(id, {{"session", config_.id},
                  {"resume_secret", config_.resume_secret},
                  {"room", room_},
                  {"peer", peer_},
                  {"answer", offer ? json(answer_) : json(nullptr)},
                  {"resumed", true},
                  {"protocol", kProtocolVersion}});
  // The client may have lost its view of the room: replay it.
  for (const auto& [peer, meta] : known_peers_)
    event({{"type", "event"}, {"event", "peer_joined"}, {"peer", peer}, {"meta", meta_json(meta)}});
  for (const auto& [key, k] : known_tracks_)
    event({{"type", "event"},
           {"event", "track_published"},
           {"peer", key.first},
           {"track", key.second},
           {"kind", kind_name(k.kind)},
           {"meta", meta_json(k.meta)}});
  (void)now;
}

void SdkSession::on_disconnected(media::Micros now) {
  if (closed_) return;
  disconnected_ = true;
  disconnected_at_ = now;
  out_.clear();
}

void SdkSession::receiver_state(const Attachment& a, std::string_view state) {
  event({{"type", "event"},
         {"event", "receiver_state"},
         {"mid", a.mid},
         {"peer", a.peer},
         {"track", a.track},
         {"state", state}});
}

void SdkSession::on_endpoint_event(media::Micros now, const core::EndpointEvent& e) {
  if (closed_) return;
  if (media_) media_->on_endpoint_event(now, e);
  std::visit(
      core::Overloaded{
          [&](const core::eev::Joined& j) {
            joining_ = false;
            joined_ = true;
            if (!join_id_) return;
            auto id = std::move(*join_id_);
            join_id_.reset();
            respond_ok(id, {{"session", config_.id},
                            {"resume_secret", config_.resume_secret},
                            {"room", j.room},
                            {"peer", j.peer},
                            {"answer", answer_},
                            {"ice_servers",
                             config_.ice_servers ? config_.ice_servers(j.peer) : nlohmann::json::array()},
                            {"protocol", kProtocolVersion}});
            for (auto& h : held_)
              send(std::move(h));
            held_.clear();
          },
          [&](const core::eev::ErrorEvent& err) {
            if (join_id_) {
              auto id = std::move(*join_id_);
              join_id_.reset();
              held_.clear();
              respond_error(id, core::to_string(err.error.code), err.error.message);
              close(now, "join refused: " + err.error.message);
              return;
            }
            if (pending_id_) {
              if (!pending_error_) pending_error_ = err.error;
              return;
            }
            event({{"type", "event"},
                   {"event", "error"},
                   {"code", core::to_string(err.error.code)},
                   {"message", err.error.message}});
          },
          [&](const core::eev::PeerJoined& p) {
            known_peers_[p.peer] = p.meta;
            event(
                {{"type", "event"}, {"event", "peer_joined"}, {"peer", p.peer}, {"meta", meta_json(p.meta)}});
          },
          [&](const core::eev::PeerLeft& p) {
            known_peers_.erase(p.peer);
            event({{"type", "event"}, {"event", "peer_left"}, {"peer", p.peer}});
          },
          [&](const core::eev::PeerMetaChanged& p) {
            known_peers_[p.peer] = p.meta;
            event({{"type", "event"}, {"event", "peer_meta"}, {"peer", p.peer}, {"meta", meta_json(p.meta)}});
          },
          [&](const core::eev::TrackPublished& t) {
            known_tracks_[{t.peer, t.info.name}] = Known{t.info.kind, t.info.meta};
            event({{"type", "event"},
                   {"event", "track_published"},
                   {"peer", t.peer},
                   {"track", t.info.name},
                   {"kind", kind_name(t.info.kind)},
                   {"meta", meta_json(t.info.meta)}});
          },
          [&](const core::eev::TrackUnpublished& t) {
            known_tracks_.erase({t.peer, t.track});
            event({{"type", "event"}, {"event", "track_unpublished"}, {"peer", t.peer}, {"track", t.track}});
          },
          [&](const core::eev::TrackMetaChanged& t) {
            auto it = known_tracks_.find({t.peer, t.track});
            if (it != known_tracks_.end()) it->second.meta = t.meta;
            event({{"type", "event"},
                   {"event", "track_meta"},
                   {"peer", t.peer},
                   {"track", t.track},
                   {"meta", meta_json(t.meta)}});
          },
          [&](const core::eev::LocalTrackStateChanged& s) {
            auto it = attached_.find(s.id);
            if (it != attached_.end()) receiver_state(it->second, core::to_string(s.state));
          },
          [&](const core::eev::LocalTrackLayerChanged& l) {
            auto it = attached_.find(l.id);
            if (it == attached_.end()) return;
            // What the bitrate allocator picked for this receiver (-1/-1: paused, the link is too thin).
            event({{"type", "event"},
                   {"event", "receiver_layer"},
                   {"mid", it->second.mid},
                   {"peer", it->second.peer},
                   {"track", it->second.track},
                   {"spatial", l.spatial},
                   {"temporal", l.temporal}});
          },
          [&](const core::eev::LocalTrackSourceEnded& s) {
            auto it = attached_.find(s.id);
            if (it == attached_.end()) return;
            receiver_state(it->second, "source_gone");
            attached_.erase(it);
          },
          [&](const core::eev::BitrateHint& h) {
            for (const auto& [name, t] : own_)
              if (t.id == h.id)
                event({{"type", "event"},
                       {"event", "bitrate_hint"},
                       {"track", name},
                       {"bitrate", h.bitrate_bps}});
          },
          [&](const core::eev::ActiveSpeakers& a) {
            json list = json::array();
            for (const auto& sp : a.speakers)  // level: dBov as a negative number, 0 = loudest
              list.push_back({{"peer", sp.peer}, {"level", -int{sp.level_dbov}}});
            event({{"type", "event"}, {"event", "active_speakers"}, {"speakers", std::move(list)}});
          },
          [&](const core::eev::Message& m) {
            auto data = json::parse(m.data, nullptr, false);
            event({{"type", "event"},
                   {"event", "message"},
                   {"from", m.from},
                   {"direct", m.direct},
                   {"data", data.is_discarded() ? json(m.data) : data}});
          },
          [&](const auto&) {},
      },
      e);
}

void SdkSession::on_datagram(media::Micros now, const webrtc::SocketAddress& from, std::span<uint8_t> data) {
  if (!media_ || closed_) return;
  media_->on_datagram(now, from, data);
  learn_addresses();
}

void SdkSession::learn_addresses() {
  const auto& v = media_->validated_addresses();
  for (; addresses_seen_ < v.size(); ++addresses_seen_) {
    if (std::find(addresses_.begin(), addresses_.end(), v[addresses_seen_]) == addresses_.end())
      addresses_.push_back(v[addresses_seen_]);
  }
}

void SdkSession::on_tick(media::Micros now) {
  if (closed_) return;
  retired_.clear();
  if (media_) media_->on_tick(now);
  if (disconnected_ && now - disconnected_at_ >= config_.grace) {
    close(now, "the client did not come back within the grace period");
    return;
  }
}

void SdkSession::close(media::Micros now, std::string reason) {
  if (closed_) return;
  if (media_) media_->close(now, reason);
  closed_ = true;
  close_reason_ = std::move(reason);
}

std::optional<core::TransportEvent> SdkSession::pop_event() {
  if (auto e = events_.pop()) return e;
  // Media before signalling: the core sees a publish before the first packet of its track.
  return media_ ? media_->pop_event() : std::nullopt;
}

webrtc::DatagramQueue& SdkSession::datagrams() {
  return media_ ? media_->datagrams() : no_datagrams_;
}

const std::string& SdkSession::ice_ufrag() const {
  return media_ ? media_->ice_ufrag() : kEmpty;
}

webrtc::WebRtcSessionStats SdkSession::counters() const {
  return media_ ? media_->counters() : webrtc::WebRtcSessionStats{};
}

}  // namespace atrium::sdk
