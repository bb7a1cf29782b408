// The room SDK's transport (docs/protocol.md): JSON requests and events over one signalling channel, media
// over one WebRTC peer connection whose transceivers the client allocates up front. Publishing binds one of
// the client's sending sections to a track name; attaching binds one of its receiving sections to (peer,
// track). Nothing is renegotiated while a connection lives; a client that reloads resumes its session with a
// new offer within the grace period and keeps its peer id (others see no leave).
//
// Sans-IO like the rest of the transport: the runtime hands in signalling text and datagrams with `now`,
// pumps pop_event() into the core, calls finish_request() once the core is quiet, and sends pop_message() to
// the client.
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "core/util/ring_queue.h"
#include "transport/webrtc/session/webrtc_session.h"

namespace atrium::sdk {

inline constexpr int kProtocolVersion = 1;

struct SdkPermissions {
  bool publish = true;
  bool subscribe = true;
};

// Makes the media session for an offer: the answer SDP, or an error sentence and the reason's code.
struct MediaOffer {
  std::unique_ptr<webrtc::WebRtcSession> session;
  std::string answer;
  std::string error;  // when session is null
};
using MediaFactory = std::function<MediaOffer(const std::string& offer_sdp)>;

struct SdkSessionConfig {
  std::string id;             // the session id the client resumes with
  std::string resume_secret;  // and the secret that proves it is the same client
  SdkPermissions permissions;
  media::Micros grace = 30'000'000;  // how long a disconnected client keeps its place
  size_t max_queued_messages = 4096;
  // The join response's ice_servers for the joined peer (TURN credentials minted then); null: [].
  std::function<nlohmann::json(const std::string& peer)> ice_servers;
};

class SdkSession final : public webrtc::UdpSession {
 public:
  SdkSession(SdkSessionConfig config, MediaFactory factory);
  ~SdkSession() override;

  // One signalling message. The first must be a join (the runtime resolves tokens and resumes before).
  void on_message(media::Micros now, std::string_view text);
  // The core processed what on_message() produced: answer the request (ok, or the error the core reported).
  void finish_request();
  // A resumed client (same id and secret) on a new signalling channel; `request` is its join.
  void on_resume(media::Micros now, const nlohmann::json& request);
  // The signalling channel closed: the grace period starts (a clean `leave` ends the session instead).
  void on_disconnected(media::Micros now);
  std::optional<std::string> pop_message();

  const std::string& id() const { return config_.id; }
  const std::string& resume_secret() const { return config_.resume_secret; }
  const std::string& room() const { return room_; }
  const std::string& peer() const { return peer_; }
  bool connected() const { return !disconnected_; }
  bool joined() const { return joined_; }

  // UdpSession
  void on_datagram(media::Micros now, const webrtc::SocketAddress& from, std::span<uint8_t> data) override;
  void on_endpoint_event(media::Micros now, const core::EndpointEvent& event) override;
  void on_tick(media::Micros now) override;
  void close(media::Micros now, std::string reason) override;
  std::optional<core::TransportEvent> pop_event() override;
  webrtc::DatagramQueue& datagrams() override;
  const std::vector<webrtc::SocketAddress>& validated_addresses() const override { return addresses_; }
  const std::string& ice_ufrag() const override;
  bool closed() const override { return closed_; }
  bool media_connected() const override { return media_ && media_->media_connected(); }
  // Of the current peer connection (a new offer on resume starts over).
  std::optional<media::Micros> connected_at() const override {
    return media_ ? media_->connected_at() : std::nullopt;
  }
  std::optional<media::Micros> first_video_sent() const override {
    return media_ ? media_->first_video_sent() : std::nullopt;
  }
  const std::string& close_reason() const override { return close_reason_; }
  std::optional<webrtc::SocketAddress> nominated_address() const override {
    return media_ ? media_->nominated_address() : std::nullopt;
  }
  std::optional<uint32_t> nominated_priority() const override {
    return media_ ? media_->nominated_priority() : std::nullopt;
  }
  webrtc::WebRtcSessionStats counters() const override;

 private:
  struct OwnTrack {
    core::RemoteTrackId id;
    std::string mid;
    media::MediaKind kind;
  };
  struct Attachment {
    std::string peer;
    std::string track;
    std::string mid;
  };
  struct Known {
    media::MediaKind kind;
    std::string meta;
  };

  void handle(media::Micros now, const nlohmann::json& request);
  void join(media::Micros now, const nlohmann::json& id, const nlohmann::json& request);
  bool replace_media(const std::string& offer, const nlohmann::json& id);
  void respond_ok(const nlohmann::json& id, nlohmann::json result);
  void respond_error(const nlohmann::json& id, std::string_view code, std::string_view message);
  void event(nlohmann::json e);
  void send(std::string text);
  void learn_addresses();
  void push(core::TransportEvent e) { events_.push(std::move(e)); }
  void receiver_state(const Attachment& a, std::string_view state);

  SdkSessionConfig config_;
  MediaFactory factory_;
  std::unique_ptr<webrtc::WebRtcSession> media_;
  std::vector<std::unique_ptr<webrtc::WebRtcSession>> retired_;  // replaced media, freed on the next tick
  webrtc::DatagramQueue no_datagrams_{1};
  std::vector<webrtc::SocketAddress> addresses_;
  size_t addresses_seen_ = 0;  // of media_->validated_addresses()
  core::RingQueue<core::TransportEvent> events_{64};
  std::deque<std::string> out_;

  std::string room_;
  std::string peer_;
  bool joining_ = false;
  bool joined_ = false;
  bool closed_ = false;
  std::string close_reason_;
  bool disconnected_ = false;
  media::Micros disconnected_at_ = 0;
  std::unique_ptr<nlohmann::json> join_id_;     // the join request waiting for the room's answer
  std::string answer_;                          // its SDP answer
  std::vector<std::string> held_;               // events that arrived before the join was answered
  std::unique_ptr<nlohmann::json> pending_id_;  // the request finish_request() answers
  std::unique_ptr<nlohmann::json> pending_result_;
  std::optional<core::Error> pending_error_;

  core::RemoteTrackId next_remote_ = 1;
  std::map<std::string, OwnTrack> own_;                                // by track name
  std::map<core::LocalTrackId, Attachment> attached_;                  // by local track
  std::map<std::string, std::string> known_peers_;                     // peer -> meta
  std::map<std::pair<std::string, std::string>, Known> known_tracks_;  // (peer, track) -> kind, meta
};

}  // namespace atrium::sdk
