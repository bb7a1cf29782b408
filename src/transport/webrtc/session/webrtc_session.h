// One WebRTC peer connection as the core sees it: a transport plugin instance that turns ICE-lite checks,
// DTLS, SRTP, RTP and RTCP into the core's endpoint vocabulary and back. The session itself demultiplexes,
// runs ICE, DTLS and SRTP, and wires the streams: an RtpReceiver per section the client sends on, an
// RtpSender per section it receives on, all writing through one SrtpOutput. Sans-IO: the runtime hands it
// datagrams and endpoint events with `now`, then drains pop_event() into the EndpointHub and datagrams() to
// its UDP socket. The negotiation (SDP) happens before: a session is built from the accepted answer.
//
// What each kind of session does with the room:
//  - publish (WHIP): joins as `peer`, and once DTLS is up publishes one remote track per received section
//    ("audio", "video"; further sections of a kind get "video2", ...);
//  - subscribe (WHEP): joins with peer events off and track events on, and lets WhepSourceSelector attach its
//    local tracks (one per sent section) to the watched peer's tracks.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/events/endpoint_event.h"
#include "core/events/transport_event.h"
#include "core/util/ring_queue.h"
#include "media/rtcp/rtcp_reports.h"
#include "media/rtp/rtp_packet.h"
#include "transport/webrtc/bwe/egress_bandwidth_controller.h"
#include "transport/webrtc/dtls/dtls_transport.h"
#include "transport/webrtc/ice/ice_lite_agent.h"
#include "transport/webrtc/rtp/twcc_recorder.h"
#include "transport/webrtc/sdp/negotiator.h"
#include "transport/webrtc/session/datagram_queue.h"
#include "transport/webrtc/session/publisher_remb.h"
#include "transport/webrtc/session/rtp_receiver.h"
#include "transport/webrtc/session/rtp_sender.h"
#include "transport/webrtc/session/session_counters.h"
#include "transport/webrtc/session/srtp_output.h"
#include "transport/webrtc/session/udp_session.h"
#include "transport/webrtc/session/whep_source_selector.h"
#include "transport/webrtc/srtp/srtp_session.h"

namespace atrium::webrtc {

struct WebRtcSessionConfig {
  SessionKind kind = SessionKind::kPublish;
  core::JoinParams join;
  std::string source;  // subscribe: the peer to watch (`?source=`); empty follows whoever publishes
  IceCredentials ice;
  DtlsFingerprint remote_fingerprint;
  std::vector<NegotiatedMedia> media;  // Answer::media
  uint32_t rtcp_ssrc = 1;              // sender SSRC of our RTCP when we send no media of our own
  // A session that has not completed ICE and DTLS by then is closed.
  media::Micros connect_timeout = 30'000'000;
  media::Micros report_interval = 1'000'000;      // SR / RR
  media::Micros twcc_feedback_interval = 50'000;  // transport-cc feedback to a publisher
  // WHIP/WHEP sessions join the room themselves; an SDK session's signalling does it (and binds tracks).
  bool join_room = true;
};

enum class SessionState : uint8_t {
  kNew,         // waiting for the first authenticated ICE check
  kConnecting,  // ICE proved the path; DTLS handshake running
  kConnected,   // SRTP keys in place; media flows
  kClosed,
};
std::string_view to_string(SessionState s);

class WebRtcSession final : public UdpSession {
 public:
  WebRtcSession(std::shared_ptr<DtlsContext> dtls, WebRtcSessionConfig config, media::Micros now);
  WebRtcSession(const WebRtcSession&) = delete;
  WebRtcSession& operator=(const WebRtcSession&) = delete;

  // A datagram the demultiplexer gave this session. Mutable because SRTP decrypts in place; media views in
  // the events this produces point into it, so drain pop_event() before reusing the buffer.
  void on_datagram(media::Micros now, const SocketAddress& from, std::span<uint8_t> data) override;
  void on_endpoint_event(media::Micros now, const core::EndpointEvent& event) override;
  void on_tick(media::Micros now) override;
  // DELETE or shutdown: says goodbye (RTCP BYE, DTLS close_notify) and moves to kClosed.
  void close(media::Micros now, std::string reason) override;
  // ICE restart: from now on checks must use these credentials.
  void restart_ice(IceCredentials credentials) { ice_.restart(std::move(credentials)); }

  std::optional<core::TransportEvent> pop_event() override { return events_.pop(); }
  DatagramQueue& datagrams() override { return out_; }
  const std::vector<SocketAddress>& validated_addresses() const override {
    return ice_.validated_addresses();
  }
  const std::string& ice_ufrag() const override { return ice_.local().ufrag; }
  bool closed() const override { return state_ == SessionState::kClosed; }
  bool media_connected() const override { return state_ == SessionState::kConnected; }
  std::optional<media::Micros> connected_at() const override { return connected_at_; }
  std::optional<SocketAddress> nominated_address() const override { return ice_.nominated_address(); }
  std::optional<uint32_t> nominated_priority() const override { return ice_.nominated_priority(); }
  std::optional<media::Micros> first_video_sent() const override { return first_video_sent_; }
  const std::string& close_reason() const override { return close_reason_; }
  WebRtcSessionStats counters() const override { return stats_; }

  // SDK sessions (SessionKind::kPeer) bind what the client sends and receives by MID.
  struct Section {
    std::string mid;
    media::MediaKind kind;
    bool client_sends;               // we receive: publishable
    bool client_receives;            // we send: a local track
    core::LocalTrackId local = 0;    // when client_receives
    core::RemoteTrackId remote = 0;  // the track it is bound to, 0 when unbound
    uint8_t layers = 1;              // simulcast streams the client sends here (its rids), else 1
  };
  std::vector<Section> sections() const;
  // Media arriving on section `mid` goes to the core as remote track `id` (0 unbinds). False: no such
  // section that the client sends on.
  bool bind_inbound(std::string_view mid, core::RemoteTrackId id);
  // Drops the binding to remote track `id`.
  void unbind_inbound(core::RemoteTrackId id);

  SessionState state() const { return state_; }
  bool joined() const { return joined_; }
  bool join_failed() const { return join_failed_; }
  // Why the join failed (join_failed()): PEER_ID_TAKEN, CLUSTER_UNAVAILABLE, ...
  core::ErrorCode join_error() const { return join_error_; }
  const WebRtcSessionConfig& config() const { return config_; }
  const IceLiteAgent& ice() const { return ice_; }
  const WebRtcSessionStats& stats() const { return stats_; }
  std::optional<std::string> watching() const {
    return selector_ ? selector_->source_of(media::MediaKind::kVideo) : std::nullopt;
  }

 private:
  void on_stun(media::Micros now, const SocketAddress& from, std::span<uint8_t> data);
  void on_dtls(media::Micros now, const SocketAddress& from, std::span<uint8_t> data);
  void on_rtp(media::Micros now, std::span<uint8_t> data);
  void on_rtcp(media::Micros now, std::span<uint8_t> data);
  void on_report_block(media::Micros now, const media::ReportBlock& rb);
  void send_media(media::Micros now, const core::eev::LocalMedia& m);
  void on_bitrate_hint(media::Micros now, const core::eev::BitrateHint& h);
  void request_keyframe(core::RemoteTrackId id, uint8_t layer);
  void send_reports(media::Micros now);
  void send_twcc(media::Micros now);
  void maybe_publish();
  void flush_dtls();
  // The receiver a packet belongs to: by SSRC, else by its MID header extension, else by payload type.
  RtpReceiver* receiver_for(const media::RtpPacket& p);
  RtpSender* sender_by_ssrc(uint32_t ssrc);

  WebRtcSessionConfig config_;
  WebRtcSessionStats stats_;
  DatagramQueue out_;
  IceLiteAgent ice_;
  DtlsTransport dtls_;
  std::unique_ptr<SrtpSession> srtp_;
  SrtpOutput output_;  // RTP and RTCP leave through it once srtp_ exists
  SessionState state_ = SessionState::kNew;
  std::string close_reason_;
  media::Micros created_;
  std::optional<media::Micros> connected_at_;
  std::optional<media::Micros> first_video_sent_;
  bool joined_ = false;
  bool join_failed_ = false;
  core::ErrorCode join_error_ = core::ErrorCode::kInvalidArgument;
  bool published_ = false;
  std::vector<RtpReceiver> receivers_;  // sections the client sends on
  std::vector<RtpSender> senders_;      // sections the client receives on; local track i + 1 is senders_[i]
  std::optional<WhepSourceSelector> selector_;
  std::vector<core::TransportEvent> selector_out_;
  PublisherRemb remb_;
  TwccRecorder twcc_;  // what a publisher sends, for its transport-cc feedback
  uint8_t twcc_ext_id_ = 0;
  // Subscribe / peer sessions whose client gives transport-cc feedback on what we send.
  std::optional<EgressBandwidthController> bwe_;
  media::Micros next_report_ = 0;
  media::Micros next_twcc_ = 0;
  core::RingQueue<core::TransportEvent> events_{64};
};

}  // namespace atrium::webrtc
