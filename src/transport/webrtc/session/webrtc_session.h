// One WebRTC peer connection as the core sees it: a transport plugin instance that turns ICE-lite checks,
// DTLS, SRTP, RTP and RTCP into the core's endpoint vocabulary and back. Sans-IO: the runtime hands it
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
#include "transport/webrtc/rtp/nack_generator.h"
#include "transport/webrtc/rtp/packet_cache.h"
#include "transport/webrtc/rtp/receive_statistics.h"
#include "transport/webrtc/rtp/twcc_recorder.h"
#include "transport/webrtc/sdp/negotiator.h"
#include "transport/webrtc/session/datagram_queue.h"
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

struct WebRtcSessionStats {
  uint64_t datagrams_in = 0;
  uint64_t bytes_in = 0;
  uint64_t rtp_in = 0;
  uint64_t rtcp_in = 0;
  uint64_t rtp_out = 0;
  uint64_t rtcp_out = 0;
  uint64_t bytes_out = 0;
  uint64_t stun_requests = 0;
  uint64_t stun_bad_integrity = 0;  // answered 401
  uint64_t stun_malformed = 0;
  uint64_t dropped_unvalidated = 0;  // DTLS/SRTP from an address that never passed an ICE check
  uint64_t dropped_unknown = 0;      // not STUN/DTLS/RTP/RTCP, or RTP with an SSRC/PT we cannot place
  uint64_t dropped_malformed = 0;    // RTP/RTCP that does not parse after decryption
  uint64_t dropped_before_join = 0;  // media before the room accepted us
  uint64_t srtp_failures = 0;        // failed unprotect (authentication, replay, garbage)
  uint64_t nacks_in = 0;             // NACKed packets asked for by the client
  uint64_t nack_resent = 0;          // ... and sent again
  uint64_t nack_duplicated = 0;      // ... twice, because the link loses more than 2 %
  uint64_t plis_in = 0;              // PLI/FIR from the client
  uint64_t plis_out = 0;             // PLI we sent to the client
  uint64_t nacks_out = 0;            // packets we asked a publishing client to send again
  uint64_t rtx_duplicates = 0;  // repair-stream packets for media we already had (browser probes): dropped
  uint64_t twcc_feedback_out = 0;
  uint64_t twcc_feedback_in = 0;  // transport-cc feedback from a subscribing client
  uint64_t padding_out = 0;
  uint64_t remb_out = 0;     // bitrate limits sent to a publishing client       // probe packets (RTX copies)
                             // sent to raise the bandwidth estimate
  uint64_t out_dropped = 0;  // no free slot in the datagram queue
  uint64_t codec_mismatch = 0;  // media in a codec the client did not accept
};

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
  // One RTP stream the client sends in a section: the only one, or one simulcast layer.
  struct InboundStream {
    uint32_t ssrc = 0;      // primary, once known
    uint32_t rtx_ssrc = 0;  // once known
    uint8_t layer = 0;      // spatial layer (simulcast), 0 otherwise
    ReceiveStatistics stats;
    uint8_t fir_seq = 0;
    NackGenerator nack;
  };
  // A section we receive (publish): one remote track, carried by one stream or by one per simulcast layer.
  struct Inbound {
    const NegotiatedMedia* media = nullptr;
    core::RemoteTrackId track = 0;
    std::string name;
    // Simulcast: one per rid, in the SDP's rid order, with the layer each rid has; otherwise exactly one.
    std::vector<InboundStream> streams;
    uint32_t bitrate_hint = 0;  // what the subscribers want (eev::BitrateHint), 0 = nobody yet
  };
  // A section we send (subscribe): one local track.
  struct Outbound {
    const NegotiatedMedia* media = nullptr;
    core::LocalTrackId track = 0;
    uint32_t ssrc = 0;
    uint32_t rtx_ssrc = 0;
    uint16_t rtx_seq = 0;
    PacketCache cache;
    bool sent_any = false;
    uint16_t last_seq = 0;
    uint16_t pad_back = 0;  // padding resends last_seq - pad_back, walking back then starting over
    uint32_t last_timestamp = 0;
    media::Micros last_sent = 0;
    uint32_t packets = 0;
    uint32_t octets = 0;
    uint32_t clock_rate = 90000;
    // From the client's receiver reports on this stream (RFC 3550 6.4.1): the round trip from LSR/DLSR and
    // the interarrival jitter, both smoothed.
    std::optional<media::Micros> rtt;
    media::Micros jitter = 0;
    explicit Outbound(size_t cache_slots) : cache(cache_slots) {}
    // How long a sent packet stays worth resending (see kMinRepairWindow).
    media::Micros repair_window() const {
      return std::clamp(3 * rtt.value_or(0) + 4 * jitter, kMinRepairWindow, kMaxRepairWindow);
    }
  };
  // A receiver asks again about a round trip after each request while its jitter buffer still waits for the
  // packet, so a repair is worth sending for a few round trips plus the jitter it tolerates: 3 RTT + 4
  // jitter, never under 1 s (what a short path needs anyway) nor over 3 s (a picture that late is gone). The
  // cache's slots bound it too (1024 per video stream: ~1 s of 8 Mbit/s, ~3 s of 2.5 Mbit/s).
  static constexpr media::Micros kMinRepairWindow = 1'000'000;
  static constexpr media::Micros kMaxRepairWindow = 3'000'000;
  void on_report_block(media::Micros now, const media::ReportBlock& rb);

  void on_stun(media::Micros now, const SocketAddress& from, std::span<uint8_t> data);
  void on_dtls(media::Micros now, const SocketAddress& from, std::span<uint8_t> data);
  void on_rtp(media::Micros now, std::span<uint8_t> data);
  void on_rtcp(media::Micros now, std::span<uint8_t> data);
  void on_nack(media::Micros now, Outbound& out, uint16_t seq);
  // Sends cached packet `seq` again (on the repair stream when negotiated); returns the bytes sent. Padding
  // (probing) is only ever sent on a repair stream.
  size_t resend(media::Micros now, Outbound& out, uint16_t seq, bool padding);
  void send_padding(media::Micros now, size_t bytes);
  // The header extensions of every RTP packet we send on `o`: its MID and, while we estimate the client's
  // bandwidth, a transport-wide sequence number (unstamped until send_rtp).
  size_t outbound_extensions(const Outbound& o, std::array<media::RtpExtension, 2>& ext) const;
  // Stamps the transport-wide number, protects and queues the RTP packet in slot[0, total); the bytes queued,
  // 0 when SRTP refused it.
  size_t send_rtp(media::Micros now, const Outbound& o, std::span<uint8_t> slot, size_t total,
                  const SocketAddress& to, bool padding);
  // Publisher side: what the subscribers can take becomes a REMB limit for the browser (the WHIP case has
  // no other way to tell it; a simulcast browser drops the layers that no longer fit).
  void on_bitrate_hint(media::Micros now, const core::eev::BitrateHint& h);
  uint64_t publisher_cap() const;
  void send_remb(media::Micros now);
  void send_media(media::Micros now, const core::eev::LocalMedia& m);
  void request_keyframe(core::RemoteTrackId id, uint8_t layer);
  void send_reports(media::Micros now);
  void send_twcc(media::Micros now);
  void send_nacks(media::Micros now);
  void maybe_publish();
  void flush_dtls();
  // Protects and queues one RTCP packet written into `slot[0, len)`.
  void queue_rtcp(std::span<uint8_t> slot, size_t len);
  // The stream a packet belongs to, learning a new SSRC from its MID/RID extensions or payload type.
  std::pair<Inbound*, InboundStream*> inbound_for(const media::RtpPacket& p);
  Outbound* outbound_by_ssrc(uint32_t ssrc);

  WebRtcSessionConfig config_;
  IceLiteAgent ice_;
  DtlsTransport dtls_;
  std::unique_ptr<SrtpSession> srtp_;
  SessionState state_ = SessionState::kNew;
  std::string close_reason_;
  media::Micros created_;
  bool joined_ = false;
  bool join_failed_ = false;
  core::ErrorCode join_error_ = core::ErrorCode::kInvalidArgument;
  bool published_ = false;
  std::vector<Inbound> inbound_;
  std::vector<std::unique_ptr<Outbound>> outbound_;
  std::optional<WhepSourceSelector> selector_;
  std::vector<core::TransportEvent> selector_out_;
  static constexpr uint64_t kNoCap = std::numeric_limits<uint64_t>::max();
  static constexpr uint64_t kLiftedCap = 100'000'000;
  static constexpr uint64_t kMinVideoCap = 100'000;    // never squeeze a video track below its lowest layer
  static constexpr uint64_t kAudioAllowance = 64'000;  // per audio track, on top of the video hints
  static constexpr media::Micros kRembRefresh = 1'000'000;
  uint64_t remb_sent_ = kNoCap;  // the cap the browser was last told, kNoCap = none in force
  media::Micros next_remb_ = 0;
  TwccRecorder twcc_;
  // Subscribe / peer sessions whose client gives transport-cc feedback on what we send.
  std::optional<EgressBandwidthController> bwe_;
  uint8_t twcc_ext_id_ = 0;
  media::Micros next_report_ = 0;
  media::Micros next_twcc_ = 0;
  core::RingQueue<core::TransportEvent> events_{64};
  DatagramQueue out_;
  WebRtcSessionStats stats_;
};

}  // namespace atrium::webrtc
