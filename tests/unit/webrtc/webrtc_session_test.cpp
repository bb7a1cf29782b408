// WebRtcSession with no network: the test is the browser. It negotiates a real offer, sends ICE checks
// written with the STUN writer, runs a client-role DtlsTransport against the session's DTLS server, and
// protects and unprotects media with an SrtpSession made from the keys the client side derived. Time is
// `now_`, moved by hand (the handshake is pumped synchronously, so no DTLS retransmission timer is involved).
#include "transport/webrtc/session/webrtc_session.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <random>
#include <string>
#include <variant>
#include <vector>

#include "media/demux.h"
#include "media/rtcp/rtcp_feedback.h"
#include "media/rtcp/rtcp_packet.h"
#include "media/rtp/rtp_extensions.h"
#include "media/rtp/rtp_packet.h"
#include "media/stun/stun_message.h"
#include "media/stun/stun_writer.h"
#include "transport/webrtc/dtls/dtls_transport.h"
#include "transport/webrtc/sdp/negotiator.h"
#include "transport/webrtc/srtp/srtp_session.h"

namespace atrium::webrtc {
namespace {

using media::Micros;
namespace tev = core::tev;
namespace eev = core::eev;

constexpr std::string_view kClientUfrag = "cLnt";
constexpr std::string_view kClientPwd = "clientPassword0123456789";
constexpr std::string_view kServerUfrag = "srvU";
constexpr std::string_view kServerPwd = "serverPassword0123456789";
constexpr uint32_t kRtcpSsrc = 0x0A0B0C0D;
constexpr uint32_t kAudioSsrc = 1001;
constexpr uint32_t kVideoSsrc = 2001;
constexpr uint32_t kVideoRtxSsrc = 2002;
constexpr uint32_t kClientRtcpSsrc = 0x5555;

std::string transport_lines(std::string_view fingerprint) {
  return "c=IN IP4 0.0.0.0\r\n"
         "a=rtcp:9 IN IP4 0.0.0.0\r\n"
         "a=ice-ufrag:" +
         std::string(kClientUfrag) + "\r\na=ice-pwd:" + std::string(kClientPwd) +
         "\r\n"
         "a=ice-options:trickle\r\n"
         "a=fingerprint:sha-256 " +
         std::string(fingerprint) +
         "\r\n"
         "a=setup:actpass\r\n";
}

// What Chromium sends for WHIP, trimmed to one codec per kind: opus; VP8 with RTX; mid, audio-level and
// transport-cc extensions; the SSRCs announced.
std::string whip_offer(std::string_view fingerprint) {
  return "v=0\r\n"
         "o=- 3728401745212583212 2 IN IP4 127.0.0.1\r\n"
         "s=-\r\n"
         "t=0 0\r\n"
         "a=group:BUNDLE 0 1\r\n"
         "a=msid-semantic: WMS stream\r\n"
         "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n" +
         transport_lines(fingerprint) +
         "a=mid:0\r\n"
         "a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level\r\n"
         "a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid\r\n"
         "a=sendonly\r\n"
         "a=msid:stream audio-track\r\n"
         "a=rtcp-mux\r\n"
         "a=rtpmap:111 opus/48000/2\r\n"
         "a=fmtp:111 minptime=10;useinbandfec=1\r\n"
         "a=ssrc:1001 cname:client\r\n"
         "m=video 9 UDP/TLS/RTP/SAVPF 96 97\r\n" +
         transport_lines(fingerprint) +
         "a=mid:1\r\n"
         "a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01\r\n"
         "a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid\r\n"
         "a=sendonly\r\n"
         "a=msid:stream video-track\r\n"
         "a=rtcp-mux\r\n"
         "a=rtcp-rsize\r\n"
         "a=rtpmap:96 VP8/90000\r\n"
         "a=rtcp-fb:96 transport-cc\r\n"
         "a=rtcp-fb:96 ccm fir\r\n"
         "a=rtcp-fb:96 nack\r\n"
         "a=rtcp-fb:96 nack pli\r\n"
         "a=rtpmap:97 rtx/90000\r\n"
         "a=fmtp:97 apt=96\r\n"
         "a=ssrc-group:FID 2001 2002\r\n"
         "a=ssrc:2001 cname:client\r\n"
         "a=ssrc:2002 cname:client\r\n";
}

// A WHEP viewer: receives opus and VP8 (with RTX), NACK and PLI on video.
std::string whep_offer(std::string_view fingerprint) {
  return "v=0\r\n"
         "o=- 5498186869896684180 2 IN IP4 127.0.0.1\r\n"
         "s=-\r\n"
         "t=0 0\r\n"
         "a=group:BUNDLE 0 1\r\n"
         "a=msid-semantic: WMS\r\n"
         "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n" +
         transport_lines(fingerprint) +
         "a=mid:0\r\n"
         "a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level\r\n"
         "a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid\r\n"
         "a=recvonly\r\n"
         "a=rtcp-mux\r\n"
         "a=rtpmap:111 opus/48000/2\r\n"
         "a=fmtp:111 minptime=10;useinbandfec=1\r\n"
         "m=video 9 UDP/TLS/RTP/SAVPF 96 97\r\n" +
         transport_lines(fingerprint) +
         "a=mid:1\r\n"
         "a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid\r\n"
         "a=recvonly\r\n"
         "a=rtcp-mux\r\n"
         "a=rtcp-rsize\r\n"
         "a=rtpmap:96 VP8/90000\r\n"
         "a=rtcp-fb:96 nack\r\n"
         "a=rtcp-fb:96 nack pli\r\n"
         "a=rtpmap:97 rtx/90000\r\n"
         "a=fmtp:97 apt=96\r\n";
}

// The WHEP viewer above, also offering transport-wide congestion control feedback on video.
std::string whep_twcc_offer(std::string_view fingerprint) {
  std::string o = whep_offer(fingerprint);
  const std::string video = "a=mid:1\r\n";
  o.insert(o.find(video) + video.size(),
           "a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01\r\n");
  const std::string fb = "a=rtcp-fb:96 nack\r\n";
  o.insert(o.find(fb), "a=rtcp-fb:96 transport-cc\r\n");
  return o;
}

// Chromium publishing VP8 simulcast over WHIP: no SSRCs announced, rids (listed highest first, as some
// clients do) and the rid / repaired-rid extensions.
std::string whip_simulcast_offer(std::string_view fingerprint) {
  return "v=0\r\n"
         "o=- 3728401745212583213 2 IN IP4 127.0.0.1\r\n"
         "s=-\r\n"
         "t=0 0\r\n"
         "a=group:BUNDLE 0 1\r\n"
         "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n" +
         transport_lines(fingerprint) +
         "a=mid:0\r\n"
         "a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid\r\n"
         "a=sendonly\r\n"
         "a=rtcp-mux\r\n"
         "a=rtpmap:111 opus/48000/2\r\n"
         "a=ssrc:1001 cname:client\r\n"
         "m=video 9 UDP/TLS/RTP/SAVPF 96 97\r\n" +
         transport_lines(fingerprint) +
         "a=mid:1\r\n"
         "a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01\r\n"
         "a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid\r\n"
         "a=extmap:10 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id\r\n"
         "a=extmap:11 urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id\r\n"
         "a=sendonly\r\n"
         "a=rtcp-mux\r\n"
         "a=rtpmap:96 VP8/90000\r\n"
         "a=rtcp-fb:96 nack\r\n"
         "a=rtcp-fb:96 nack pli\r\n"
         "a=rtpmap:97 rtx/90000\r\n"
         "a=fmtp:97 apt=96\r\n"
         "a=rid:h send\r\n"
         "a=rid:m send\r\n"
         "a=rid:l send\r\n"
         "a=simulcast:send h;m;l\r\n";
}

// An SDK client: publishes VP8 (with RTX) in section 0 and receives VP8 in section 1.
std::string peer_offer(std::string_view fingerprint) {
  const std::string whip = whip_offer(fingerprint);
  const std::string whep = whep_offer(fingerprint);
  const auto video = [](const std::string& o) { return o.substr(o.find("m=video")); };
  std::string sent = video(whip);
  sent.replace(sent.find("a=mid:1"), 7, "a=mid:0");
  return "v=0\r\n"
         "o=- 5498186869896684181 2 IN IP4 127.0.0.1\r\n"
         "s=-\r\n"
         "t=0 0\r\n"
         "a=group:BUNDLE 0 1\r\n" +
         sent + video(whep);
}

// The first packet of a VP8 key frame: payload descriptor with S=1, PID 0, then a key-frame header (P bit
// clear) with the start code and a 640x480 size.
const std::vector<uint8_t> kVp8KeyFrame = {0x10, 0x50, 0x02, 0x00, 0x9d, 0x01, 0x2a, 0x80, 0x02, 0xe0,
                                           0x01, 0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88};
// An inter frame (P bit set).
const std::vector<uint8_t> kVp8DeltaFrame = {0x10, 0x51, 0x02, 0x00, 0xaa, 0xbb, 0xcc, 0xdd};
const std::vector<uint8_t> kOpusFrame = {0xfc, 0xff, 0xfe, 0x01, 0x02, 0x03, 0x04, 0x05};

struct Sent {
  std::vector<uint8_t> data;
  SocketAddress to;
};

uint64_t drops(const WebRtcSessionStats& s) {
  return s.stun_malformed + s.stun_bad_integrity + s.dropped_unvalidated + s.dropped_unknown +
         s.dropped_malformed + s.srtp_failures;
}

template <typename T>
std::vector<T> only(const std::vector<core::TransportEvent>& events) {
  std::vector<T> out;
  for (const auto& e : events)
    if (const T* t = std::get_if<T>(&e)) out.push_back(*t);
  return out;
}

class WebRtcSessionTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    client_cert_ = DtlsCertificate::generate();
    server_cert_ = DtlsCertificate::generate();
    client_ctx_ = DtlsContext::create(client_cert_);
    server_ctx_ = DtlsContext::create(server_cert_);
  }
  static void TearDownTestSuite() {
    client_ctx_.reset();
    server_ctx_.reset();
    client_cert_.reset();
    server_cert_.reset();
  }

  // Negotiates the offer for `kind` and makes the session; its first event must be the Join.
  void open(SessionKind kind, std::string offer = {}) {
    if (offer.empty())
      offer = kind == SessionKind::kPublish ? whip_offer(client_cert_->fingerprint_sha256())
                                            : whep_offer(client_cert_->fingerprint_sha256());
    AnswerParams params;
    params.kind = kind;
    params.ice_ufrag = std::string(kServerUfrag);
    params.ice_pwd = std::string(kServerPwd);
    params.fingerprint_sha256 = server_cert_->fingerprint_sha256();
    params.candidates = {{"192.0.2.10", 40000, true, 0}};
    if (kind != SessionKind::kPublish) {
      params.send_streams = {{0x11110001, 0x11110002, "atrium", "stream", "track0"},
                             {0x22220001, 0x22220002, "atrium", "stream", "track1"}};
    }
    auto answer = negotiate_answer(offer, ServerMediaCaps::defaults(), params);
    ASSERT_TRUE(answer) << answer.error().http_status << " " << answer.error().reason;
    ASSERT_EQ(answer->media.size(), 2u);

    WebRtcSessionConfig config;
    config.kind = kind;
    config.join.room = "room";
    config.join.peer = "peer";
    config.ice = {std::string(kServerUfrag), std::string(kServerPwd)};
    config.remote_fingerprint = {answer->remote_fingerprint.algorithm, answer->remote_fingerprint.hex};
    config.media = answer->media;
    config.rtcp_ssrc = kRtcpSsrc;
    session_ = std::make_unique<WebRtcSession>(server_ctx_, std::move(config), now_);
    ASSERT_EQ(session_->state(), SessionState::kNew);

    const auto events = take_events();
    ASSERT_EQ(events.size(), 1u);
    const auto* join = std::get_if<tev::Join>(&events[0]);
    ASSERT_NE(join, nullptr);
    EXPECT_EQ(join->params.room, "room");
    EXPECT_EQ(join->params.peer, "peer");
  }

  std::vector<Sent> take_sent() {
    std::vector<Sent> out;
    auto& q = session_->datagrams();
    while (auto d = q.front()) {
      out.push_back({{d->data.begin(), d->data.end()}, d->to});
      q.pop();
    }
    return out;
  }
  std::vector<core::TransportEvent> take_events() {
    std::vector<core::TransportEvent> out;
    while (auto e = session_->pop_event())
      out.push_back(std::move(*e));
    return out;
  }

  void deliver(const SocketAddress& from, std::vector<uint8_t> data) {
    // The session decrypts in place and its events point into the buffer: keep it until the test ends.
    received_.push_back(std::move(data));
    session_->on_datagram(now_, from, received_.back());
  }

  std::vector<uint8_t> binding_request(std::string_view username, std::string_view pwd, bool use_candidate,
                                       uint8_t tid_seed = 1) {
    media::StunTransactionId tid{};
    for (size_t i = 0; i < tid.size(); ++i)
      tid[i] = static_cast<uint8_t>(tid_seed + i);
    std::vector<uint8_t> buf(512);
    const size_t n = media::write_stun_binding_request(buf, tid,
                                                       {.username = username,
                                                        .password = pwd,
                                                        .priority = 0x6e7f1eff,
                                                        .controlling = true,
                                                        .tiebreaker = 0x1234567890abcdefULL,
                                                        .use_candidate = use_candidate});
    EXPECT_GT(n, 0u);
    buf.resize(n);
    return buf;
  }
  static std::string username() { return std::string(kServerUfrag) + ":" + std::string(kClientUfrag); }

  // An authenticated check from `from`; returns what the session sent.
  std::vector<Sent> check(const SocketAddress& from, bool use_candidate = true) {
    deliver(from, binding_request(username(), kServerPwd, use_candidate));
    return take_sent();
  }

  // ICE check, then the DTLS handshake with a client-role DtlsTransport, then the client's SRTP.
  void connect() {
    auto answers = check(client_);
    ASSERT_EQ(answers.size(), 1u);
    ASSERT_EQ(session_->state(), SessionState::kConnecting);
    DtlsConfig c;
    c.role = DtlsRole::kClient;
    c.remote_fingerprint = {"sha-256", server_cert_->fingerprint_sha256()};
    client_dtls_ = std::make_unique<DtlsTransport>(client_ctx_, c);
    client_dtls_->start(now_);
    for (int round = 0; round < 50; ++round) {
      bool moved = false;
      while (auto d = client_dtls_->pop_outgoing()) {
        moved = true;
        deliver(client_, std::move(*d));
      }
      for (auto& s : take_sent()) {
        ASSERT_EQ(media::classify_packet(s.data), media::PacketClass::kDtls);
        EXPECT_EQ(s.to, client_);
        moved = true;
        client_dtls_->on_datagram(now_, s.data);
      }
      if (!moved) break;
    }
    ASSERT_EQ(client_dtls_->state(), DtlsState::kConnected) << client_dtls_->failure_reason();
    ASSERT_EQ(session_->state(), SessionState::kConnected) << session_->close_reason();
    std::string error;
    client_srtp_ = SrtpSession::create(*client_dtls_->srtp_keys(), &error);
    ASSERT_NE(client_srtp_, nullptr) << error;
  }

  // Publish session: Joined, then the Publish events by track name.
  void join_publish() {
    session_->on_endpoint_event(now_, eev::Joined{"room", "peer"});
    for (const auto& p : only<tev::Publish>(take_events())) {
      if (p.info.name == "audio") audio_track_ = p.id;
      if (p.info.name == "video") video_track_ = p.id;
    }
    ASSERT_NE(audio_track_, 0u);
    ASSERT_NE(video_track_, 0u);
  }

  std::vector<uint8_t> srtp(uint8_t pt, uint16_t seq, uint32_t ts, uint32_t ssrc, bool marker,
                            std::span<const uint8_t> payload, std::span<const media::RtpExtension> ext = {}) {
    std::vector<uint8_t> buf(1500);
    const size_t hdr = media::write_rtp_header(buf,
                                               {.marker = marker,
                                                .payload_type = pt,
                                                .sequence_number = seq,
                                                .timestamp = ts,
                                                .ssrc = ssrc,
                                                .csrcs = {}},
                                               ext);
    EXPECT_GT(hdr, 0u);
    std::memcpy(buf.data() + hdr, payload.data(), payload.size());
    auto n = client_srtp_->protect_rtp(buf, hdr + payload.size());
    EXPECT_TRUE(n);
    buf.resize(n.value_or(0));
    return buf;
  }
  std::vector<uint8_t> srtcp(std::vector<uint8_t> plain) {
    const size_t len = plain.size();
    plain.resize(len + SrtpSession::kMaxTrailer);
    auto n = client_srtp_->protect_rtcp(plain, len);
    EXPECT_TRUE(n);
    plain.resize(n.value_or(0));
    return plain;
  }
  std::vector<uint8_t> pli(uint32_t media_ssrc) {
    std::vector<uint8_t> b(64);
    b.resize(media::write_pli(b, kClientRtcpSsrc, media_ssrc));
    return srtcp(std::move(b));
  }
  std::vector<uint8_t> nack(uint32_t media_ssrc, std::vector<uint16_t> lost) {
    std::vector<uint8_t> b(256);
    b.resize(media::write_nack(b, kClientRtcpSsrc, media_ssrc, lost));
    return srtcp(std::move(b));
  }
  // The plain RTP of a datagram the session sent.
  std::vector<uint8_t> unprotect_rtp(Sent s) {
    EXPECT_EQ(media::classify_packet(s.data), media::PacketClass::kRtp);
    auto n = client_srtp_->unprotect_rtp(s.data, s.data.size());
    EXPECT_TRUE(n);
    s.data.resize(n.value_or(0));
    return s.data;
  }
  std::vector<uint8_t> unprotect_rtcp(Sent s) {
    EXPECT_EQ(media::classify_packet(s.data), media::PacketClass::kRtcp);
    auto n = client_srtp_->unprotect_rtcp(s.data, s.data.size());
    EXPECT_TRUE(n);
    s.data.resize(n.value_or(0));
    return s.data;
  }

  // Takes what the session sent (all of it SRTCP) and calls fn with each RTCP packet in it.
  template <typename Fn>
  void each_sent_rtcp(Fn&& fn) {
    for (auto& s : take_sent()) {
      const auto plain = unprotect_rtcp(s);
      media::RtcpCompoundIterator it(plain);
      while (auto h = it.next())
        fn(*h);
    }
  }

  // The compact NTP time of our next sender report on `ssrc`, as the client would read it (ticks `now_`).
  std::optional<uint32_t> next_sender_report(uint32_t ssrc, media::Micros after) {
    now_ += after;
    session_->on_tick(now_);
    std::optional<uint32_t> lsr;
    each_sent_rtcp([&](const media::RtcpHeader& h) {
      if (auto sr = media::SenderReportView::parse(h); sr && sr->sender_ssrc() == ssrc)
        lsr = media::ntp_compact(sr->sender_info().ntp_time);
    });
    return lsr;
  }
  // The client's receiver report on `ssrc` about that SR, held `dlsr` (1/65536 s) before sending it.
  void deliver_receiver_report(uint32_t ssrc, uint32_t lsr, uint32_t dlsr, uint32_t jitter = 0) {
    media::ReportBlock rb;
    rb.ssrc = ssrc;
    rb.last_sr = lsr;
    rb.delay_since_last_sr = dlsr;
    rb.jitter = jitter;
    std::vector<uint8_t> rr(128);
    rr.resize(media::write_receiver_report(rr, kClientRtcpSsrc, std::span(&rb, 1)));
    deliver(client_, srtcp(std::move(rr)));
  }

  const NegotiatedMedia& video_media() const { return session_->config().media[1]; }
  const NegotiatedMedia& audio_media() const { return session_->config().media[0]; }

  static inline std::shared_ptr<const DtlsCertificate> client_cert_;
  static inline std::shared_ptr<const DtlsCertificate> server_cert_;
  static inline std::shared_ptr<DtlsContext> client_ctx_;
  static inline std::shared_ptr<DtlsContext> server_ctx_;

  Micros now_ = 7'000'000'000;
  const SocketAddress client_ = SocketAddress::v4(192, 0, 2, 1, 50000);
  const SocketAddress stranger_ = SocketAddress::v4(198, 51, 100, 7, 40404);
  std::unique_ptr<WebRtcSession> session_;
  std::unique_ptr<DtlsTransport> client_dtls_;
  std::unique_ptr<SrtpSession> client_srtp_;
  std::vector<std::vector<uint8_t>> received_;
  core::RemoteTrackId audio_track_ = 0;
  core::RemoteTrackId video_track_ = 0;
};

// ---- ICE ------------------------------------------------------------------------------------------------

TEST_F(WebRtcSessionTest, WrongIntegrityIsAnswered401WithoutStateChange) {
  open(SessionKind::kPublish);
  deliver(client_, binding_request(username(), "notTheServerPassword0000", true, 9));
  auto sent = take_sent();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].to, client_);
  auto msg = media::StunMessage::parse(sent[0].data);
  ASSERT_TRUE(msg);
  EXPECT_EQ(msg->type(), media::kStunBindingError);
  ASSERT_TRUE(msg->error_code());
  EXPECT_EQ(msg->error_code()->code, 401);
  EXPECT_TRUE(msg->verify_fingerprint());
  EXPECT_FALSE(msg->has(media::stun_attr::kMessageIntegrity));  // we could not authenticate the asker
  EXPECT_EQ(msg->transaction_id()[0], 9);
  EXPECT_EQ(msg->transaction_id()[11], 9 + 11);

  EXPECT_EQ(session_->state(), SessionState::kNew);
  EXPECT_FALSE(session_->ice().validated(client_));
  EXPECT_TRUE(session_->validated_addresses().empty());
  EXPECT_EQ(session_->stats().stun_requests, 1u);
  EXPECT_EQ(session_->stats().stun_bad_integrity, 1u);
  EXPECT_TRUE(take_events().empty());

  // A USERNAME for someone else with our password: also 401.
  deliver(client_, binding_request("zzzz:" + std::string(kClientUfrag), kServerPwd, true));
  sent = take_sent();
  ASSERT_EQ(sent.size(), 1u);
  msg = media::StunMessage::parse(sent[0].data);
  ASSERT_TRUE(msg);
  ASSERT_TRUE(msg->error_code());
  EXPECT_EQ(msg->error_code()->code, 401);
  EXPECT_EQ(session_->stats().stun_bad_integrity, 2u);
  EXPECT_EQ(session_->state(), SessionState::kNew);

  // The 401s validated nothing: DTLS from that address is still not accepted.
  DtlsConfig c;
  c.role = DtlsRole::kClient;
  c.remote_fingerprint = {"sha-256", server_cert_->fingerprint_sha256()};
  DtlsTransport client(client_ctx_, c);
  client.start(now_);
  auto hello = client.pop_outgoing();
  ASSERT_TRUE(hello);
  deliver(client_, *hello);
  EXPECT_TRUE(take_sent().empty());
  EXPECT_EQ(session_->stats().dropped_unvalidated, 1u);
  EXPECT_EQ(session_->state(), SessionState::kNew);
}

TEST_F(WebRtcSessionTest, ValidCheckIsAnsweredWithXorMappedAddressAndStartsDtls) {
  open(SessionKind::kPublish);
  auto sent = check(client_);
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].to, client_);
  auto msg = media::StunMessage::parse(sent[0].data);
  ASSERT_TRUE(msg);
  EXPECT_EQ(msg->type(), media::kStunBindingSuccess);
  EXPECT_EQ(msg->transaction_id()[0], 1);
  EXPECT_TRUE(msg->verify_integrity(kServerPwd));
  EXPECT_TRUE(msg->verify_fingerprint());
  auto mapped = msg->xor_mapped_address();
  ASSERT_TRUE(mapped);
  EXPECT_FALSE(mapped->v6);
  EXPECT_EQ(mapped->port, 50000);
  EXPECT_EQ(mapped->ip[0], 192);
  EXPECT_EQ(mapped->ip[1], 0);
  EXPECT_EQ(mapped->ip[2], 2);
  EXPECT_EQ(mapped->ip[3], 1);

  EXPECT_EQ(session_->state(), SessionState::kConnecting);
  EXPECT_TRUE(session_->ice().validated(client_));
  EXPECT_TRUE(session_->ice().nominated());
  EXPECT_EQ(session_->validated_addresses(), std::vector<SocketAddress>{client_});
  EXPECT_EQ(session_->stats().stun_bad_integrity, 0u);

  // A second check from the same address is answered too and adds nothing.
  EXPECT_EQ(check(client_, false).size(), 1u);
  EXPECT_EQ(session_->validated_addresses().size(), 1u);
  EXPECT_EQ(session_->state(), SessionState::kConnecting);
}

TEST_F(WebRtcSessionTest, DtlsFromAnUnvalidatedAddressIsDropped) {
  open(SessionKind::kPublish);
  ASSERT_EQ(check(client_).size(), 1u);
  DtlsConfig c;
  c.role = DtlsRole::kClient;
  c.remote_fingerprint = {"sha-256", server_cert_->fingerprint_sha256()};
  DtlsTransport client(client_ctx_, c);
  client.start(now_);
  auto hello = client.pop_outgoing();
  ASSERT_TRUE(hello);

  deliver(stranger_, *hello);
  EXPECT_TRUE(take_sent().empty());
  EXPECT_EQ(session_->stats().dropped_unvalidated, 1u);
  EXPECT_EQ(session_->state(), SessionState::kConnecting);

  // The same ClientHello from the address that passed the check gets an answer.
  deliver(client_, *hello);
  auto sent = take_sent();
  ASSERT_FALSE(sent.empty());
  EXPECT_EQ(media::classify_packet(sent[0].data), media::PacketClass::kDtls);
  EXPECT_EQ(sent[0].to, client_);
}

TEST_F(WebRtcSessionTest, DtlsHandshakeConnects) {
  open(SessionKind::kPublish);
  connect();
  EXPECT_EQ(session_->state(), SessionState::kConnected);
  EXPECT_EQ(client_dtls_->remote_fingerprint(), server_cert_->fingerprint_sha256());
  EXPECT_EQ(client_srtp_->profile(), SrtpProfile::kAeadAes128Gcm);
}

// ---- publish (WHIP) ---------------------------------------------------------------------------------------

TEST_F(WebRtcSessionTest, PublishesAudioAndVideoOnceJoinedAndConnected) {
  open(SessionKind::kPublish);
  connect();
  EXPECT_TRUE(only<tev::Publish>(take_events()).empty()) << "published before the room accepted the peer";

  session_->on_endpoint_event(now_, eev::Joined{"room", "peer"});
  const auto published = only<tev::Publish>(take_events());
  ASSERT_EQ(published.size(), 2u);
  EXPECT_EQ(published[0].info.name, "audio");
  EXPECT_EQ(published[0].info.kind, media::MediaKind::kAudio);
  EXPECT_EQ(published[1].info.name, "video");
  EXPECT_EQ(published[1].info.kind, media::MediaKind::kVideo);
  EXPECT_NE(published[0].id, published[1].id);
  EXPECT_TRUE(session_->joined());

  // Only once.
  session_->on_endpoint_event(now_, eev::Joined{"room", "peer"});
  EXPECT_TRUE(only<tev::Publish>(take_events()).empty());
}

TEST_F(WebRtcSessionTest, JoinedBeforeDtlsPublishesWhenConnected) {
  open(SessionKind::kPublish);
  session_->on_endpoint_event(now_, eev::Joined{"room", "peer"});
  EXPECT_TRUE(only<tev::Publish>(take_events()).empty()) << "published before DTLS was up";
  connect();
  EXPECT_EQ(only<tev::Publish>(take_events()).size(), 2u);
}

TEST_F(WebRtcSessionTest, Vp8KeyFrameBecomesRemoteMedia) {
  open(SessionKind::kPublish);
  connect();
  join_publish();
  deliver(client_, srtp(96, 1000, 90000, kVideoSsrc, true, kVp8KeyFrame));
  auto media = only<tev::RemoteMedia>(take_events());
  ASSERT_EQ(media.size(), 1u);
  EXPECT_EQ(media[0].id, video_track_);
  EXPECT_EQ(media[0].packet.codec, media::Codec::kVP8);
  EXPECT_EQ(media[0].packet.seq, 1000);
  EXPECT_EQ(media[0].packet.timestamp, 90000u);
  EXPECT_TRUE(media[0].packet.marker);
  EXPECT_TRUE(media[0].packet.keyframe);
  EXPECT_EQ(media[0].packet.arrival, now_);
  EXPECT_EQ(std::vector<uint8_t>(media[0].packet.payload.begin(), media[0].packet.payload.end()),
            kVp8KeyFrame);

  deliver(client_, srtp(96, 1001, 93000, kVideoSsrc, false, kVp8DeltaFrame));
  media = only<tev::RemoteMedia>(take_events());
  ASSERT_EQ(media.size(), 1u);
  EXPECT_EQ(media[0].packet.seq, 1001);
  EXPECT_FALSE(media[0].packet.keyframe);
  EXPECT_FALSE(media[0].packet.marker);

  // Audio, with its level from the extension.
  const uint8_t level = 0x80 | 42;  // voice activity, -42 dBov
  const std::array<media::RtpExtension, 1> ext{{{1, {&level, 1}}}};
  deliver(client_, srtp(111, 7, 960, kAudioSsrc, false, kOpusFrame, ext));
  media = only<tev::RemoteMedia>(take_events());
  ASSERT_EQ(media.size(), 1u);
  EXPECT_EQ(media[0].id, audio_track_);
  EXPECT_EQ(media[0].packet.codec, media::Codec::kOpus);
  EXPECT_TRUE(media[0].packet.keyframe);
  EXPECT_EQ(media[0].packet.audio_level, 42);
  EXPECT_EQ(std::vector<uint8_t>(media[0].packet.payload.begin(), media[0].packet.payload.end()), kOpusFrame);
  EXPECT_EQ(session_->stats().rtp_in, 3u);
}

TEST_F(WebRtcSessionTest, MediaBeforeTheRoomAcceptedIsDropped) {
  open(SessionKind::kPublish);
  connect();
  deliver(client_, srtp(96, 1000, 90000, kVideoSsrc, true, kVp8KeyFrame));
  EXPECT_TRUE(only<tev::RemoteMedia>(take_events()).empty());
  EXPECT_EQ(session_->stats().dropped_before_join, 1u);
}

TEST_F(WebRtcSessionTest, RtxPacketIsUnwrappedToTheOriginalSequenceNumber) {
  open(SessionKind::kPublish);
  connect();
  join_publish();
  std::vector<uint8_t> rtx_payload = {0x04, 0xd2};  // OSN 1234
  rtx_payload.insert(rtx_payload.end(), kVp8KeyFrame.begin(), kVp8KeyFrame.end());
  deliver(client_, srtp(97, 5, 90000, kVideoRtxSsrc, true, rtx_payload));
  auto media = only<tev::RemoteMedia>(take_events());
  ASSERT_EQ(media.size(), 1u);
  EXPECT_EQ(media[0].id, video_track_);
  EXPECT_EQ(media[0].packet.codec, media::Codec::kVP8);
  EXPECT_EQ(media[0].packet.seq, 1234);
  EXPECT_TRUE(media[0].packet.keyframe);
  EXPECT_EQ(std::vector<uint8_t>(media[0].packet.payload.begin(), media[0].packet.payload.end()),
            kVp8KeyFrame);

  // The same repair again (a browser's RTX probe of a packet we have) is not forwarded a second time.
  deliver(client_, srtp(97, 6, 90000, kVideoRtxSsrc, true, rtx_payload));
  EXPECT_TRUE(only<tev::RemoteMedia>(take_events()).empty());
  EXPECT_EQ(session_->stats().rtx_duplicates, 1u);

  // A padding-only probe on the repair stream (no OSN) carries no media.
  const std::vector<uint8_t> probe = {0x00};
  deliver(client_, srtp(97, 7, 90000, kVideoRtxSsrc, false, probe));
  EXPECT_TRUE(only<tev::RemoteMedia>(take_events()).empty());
}

TEST_F(WebRtcSessionTest, NewSsrcIsPlacedByItsMid) {
  open(SessionKind::kPublish);
  connect();
  join_publish();
  const std::string mid = "1";
  const std::array<media::RtpExtension, 1> ext{{{4, {reinterpret_cast<const uint8_t*>(mid.data()), 1}}}};
  deliver(client_, srtp(96, 1, 0, 0x77777777, true, kVp8KeyFrame, ext));
  auto media = only<tev::RemoteMedia>(take_events());
  ASSERT_EQ(media.size(), 1u);
  EXPECT_EQ(media[0].id, video_track_);
}

TEST_F(WebRtcSessionTest, KeyFrameRequestSendsPliForThePublishersSsrc) {
  open(SessionKind::kPublish);
  connect();
  join_publish();
  take_sent();
  session_->on_endpoint_event(now_, eev::RequestKeyFrame{video_track_});
  auto sent = take_sent();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].to, client_);
  const auto plain = unprotect_rtcp(sent[0]);
  media::RtcpCompoundIterator it(plain);
  int plis = 0;
  while (auto h = it.next()) {
    if (!h->is(media::RtcpType::kPsfb) || h->fmt() != media::kPsfbPli) continue;
    auto p = media::PliView::parse(*h);
    ASSERT_TRUE(p);
    EXPECT_EQ(p->media_ssrc, kVideoSsrc);
    EXPECT_EQ(p->sender_ssrc, kRtcpSsrc);
    ++plis;
  }
  EXPECT_EQ(it.error(), media::RtcpError::kNone);
  EXPECT_EQ(plis, 1);
  EXPECT_EQ(session_->stats().plis_out, 1u);
}

TEST_F(WebRtcSessionTest, SimulcastStreamsAreLayersOfOneTrackByTheirRid) {
  open(SessionKind::kPublish, whip_simulcast_offer(client_cert_->fingerprint_sha256()));
  connect();
  join_publish();
  const std::string mid = "1";
  auto ext_for = [&](const std::string& rid, uint8_t rid_id) {
    return std::array<media::RtpExtension, 2>{
        {{4, {reinterpret_cast<const uint8_t*>(mid.data()), mid.size()}},
         {rid_id, {reinterpret_cast<const uint8_t*>(rid.data()), rid.size()}}}};
  };
  const std::array<std::pair<std::string, uint32_t>, 3> streams{{{"l", 0x100}, {"m", 0x200}, {"h", 0x300}}};
  for (const auto& [rid, ssrc] : streams)
    deliver(client_, srtp(96, 10, 0, ssrc, true, kVp8KeyFrame, ext_for(rid, 10)));
  auto media = only<tev::RemoteMedia>(take_events());
  ASSERT_EQ(media.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(media[i].id, video_track_);
    EXPECT_EQ(media[i].packet.spatial_layer, i) << streams[i].first;  // l < m < h whatever the SDP order
  }
  // Later packets without the extension stay with their layer; an unknown SSRC without a rid cannot be
  // placed.
  deliver(client_, srtp(96, 11, 3000, 0x300, false, kVp8DeltaFrame));
  deliver(client_, srtp(96, 11, 3000, 0x999, false, kVp8DeltaFrame));
  media = only<tev::RemoteMedia>(take_events());
  ASSERT_EQ(media.size(), 1u);
  EXPECT_EQ(media[0].packet.spatial_layer, 2);
  EXPECT_EQ(session_->stats().dropped_unknown, 1u);
  // "m" loses 11; its repair stream is placed by its repaired rid and unwrapped into layer 1.
  deliver(client_, srtp(96, 12, 6000, 0x200, false, kVp8DeltaFrame));
  take_events();
  std::vector<uint8_t> rtx_payload = {0x00, 0x0b};
  rtx_payload.insert(rtx_payload.end(), kVp8DeltaFrame.begin(), kVp8DeltaFrame.end());
  deliver(client_, srtp(97, 1, 3000, 0x201, false, rtx_payload, ext_for("m", 11)));
  media = only<tev::RemoteMedia>(take_events());
  ASSERT_EQ(media.size(), 1u);
  EXPECT_EQ(media[0].packet.spatial_layer, 1);
  EXPECT_EQ(media[0].packet.seq, 11);

  // A key-frame request for the track asks every layer's SSRC.
  take_sent();
  session_->on_endpoint_event(now_, eev::RequestKeyFrame{video_track_});
  std::vector<uint32_t> asked;
  each_sent_rtcp([&](const media::RtcpHeader& h) {
    if (auto p = media::PliView::parse(h)) asked.push_back(p->media_ssrc);
  });
  std::sort(asked.begin(), asked.end());
  EXPECT_EQ(asked, (std::vector<uint32_t>{0x100, 0x200, 0x300}));
}

TEST_F(WebRtcSessionTest, SubscribersBitrateBecomesARembLimitForThePublisher) {
  open(SessionKind::kPublish);
  connect();
  join_publish();
  deliver(client_, srtp(96, 1000, 90000, kVideoSsrc, true, kVp8KeyFrame));
  take_events();
  take_sent();
  auto rembs = [&] {
    std::vector<uint64_t> out;
    each_sent_rtcp([&](const media::RtcpHeader& h) {
      if (auto r = media::RembView::parse(h)) out.push_back(r->bitrate_bps());
    });
    return out;
  };
  // Nobody watches yet: no limit.
  session_->on_endpoint_event(now_, eev::BitrateHint{video_track_, 0});
  EXPECT_TRUE(rembs().empty());
  // The subscribers can take 400 kbit/s: the browser is told that plus room for its audio.
  session_->on_endpoint_event(now_, eev::BitrateHint{video_track_, 400'000});
  auto r = rembs();
  ASSERT_EQ(r.size(), 1u);
  EXPECT_NEAR(static_cast<double>(r[0]), 464'000, 1'000);
  // Repeated every second while it holds.
  now_ += 1'000'000;
  session_->on_tick(now_);
  EXPECT_EQ(rembs().size(), 1u);
  // A subscriber without a limit lifts it once, then nothing more is sent.
  session_->on_endpoint_event(now_, eev::BitrateHint{video_track_, std::numeric_limits<uint32_t>::max()});
  r = rembs();
  ASSERT_EQ(r.size(), 1u);
  EXPECT_GE(r[0], 50'000'000u);
  now_ += 2'000'000;
  session_->on_tick(now_);
  EXPECT_TRUE(rembs().empty());
  EXPECT_EQ(session_->stats().remb_out, 3u);
}

// A simulcast browser sends every layer below the one the subscribers take: the limit covers them too, or the
// browser drops the very layer they want (Firefox kept its 720p layer off under a limit of that layer alone).
TEST_F(WebRtcSessionTest, ASimulcastPublishersLimitLeavesRoomForItsLowerLayers) {
  open(SessionKind::kPublish, whip_simulcast_offer(client_cert_->fingerprint_sha256()));
  connect();
  join_publish();
  const std::string mid = "1";
  const std::string rid = "l";
  const std::array<media::RtpExtension, 2> ext{
      {{4, {reinterpret_cast<const uint8_t*>(mid.data()), mid.size()}},
       {10, {reinterpret_cast<const uint8_t*>(rid.data()), rid.size()}}}};
  deliver(client_, srtp(96, 10, 0, 0x100, true, kVp8KeyFrame, ext));
  take_events();
  take_sent();
  session_->on_endpoint_event(now_, eev::BitrateHint{video_track_, 900'000});
  std::vector<uint64_t> rembs;
  each_sent_rtcp([&](const media::RtcpHeader& h) {
    if (auto r = media::RembView::parse(h)) rembs.push_back(r->bitrate_bps());
  });
  ASSERT_EQ(rembs.size(), 1u);
  // 900k for the layer taken, 300k and 100k for the two below, 64k for the audio.
  EXPECT_NEAR(static_cast<double>(rembs[0]), 1'364'000, 2'000);
}

TEST_F(WebRtcSessionTest, APublishersLostPacketsAreAskedForAgain) {
  open(SessionKind::kPublish);
  connect();
  join_publish();
  deliver(client_, srtp(96, 100, 90000, kVideoSsrc, true, kVp8KeyFrame));
  deliver(client_, srtp(96, 103, 93000, kVideoSsrc, true, kVp8DeltaFrame));
  take_events();
  take_sent();
  now_ += 20'000;
  session_->on_tick(now_);
  std::vector<uint16_t> asked;
  for (auto& s : take_sent()) {
    const auto plain = unprotect_rtcp(s);
    media::RtcpCompoundIterator it(plain);
    while (auto h = it.next()) {
      if (!h->is(media::RtcpType::kRtpfb) || h->fmt() != media::kRtpfbNack) continue;
      auto n = media::NackView::parse(*h);
      ASSERT_TRUE(n);
      EXPECT_EQ(n->media_ssrc(), kVideoSsrc);
      n->for_each_lost([&](uint16_t seq) { asked.push_back(seq); });
    }
  }
  EXPECT_EQ(asked, (std::vector<uint16_t>{101, 102}));
  EXPECT_EQ(session_->stats().nacks_out, 2u);
  // The repair of 101 arrives on the RTX stream; only 102 is asked for again.
  std::vector<uint8_t> rtx_payload = {0x00, 101};
  rtx_payload.insert(rtx_payload.end(), kVp8DeltaFrame.begin(), kVp8DeltaFrame.end());
  deliver(client_, srtp(97, 1, 90000, kVideoRtxSsrc, false, rtx_payload));
  now_ += 100'000;
  session_->on_tick(now_);
  EXPECT_EQ(session_->stats().nacks_out, 3u);
}

TEST_F(WebRtcSessionTest, ReceiverReportsAndTwccFeedbackReachThePublisher) {
  open(SessionKind::kPublish);
  connect();
  join_publish();
  for (uint16_t i = 0; i < 10; ++i) {
    uint8_t tseq[2] = {0, static_cast<uint8_t>(i)};
    const std::array<media::RtpExtension, 1> ext{{{3, {tseq, 2}}}};
    deliver(client_, srtp(96, static_cast<uint16_t>(100 + i), 90000u + i * 3000u, kVideoSsrc, true,
                          kVp8DeltaFrame, ext));
    now_ += 10'000;
  }
  take_events();
  now_ += 1'000'000;
  session_->on_tick(now_);
  bool rr = false, twcc = false;
  each_sent_rtcp([&](const media::RtcpHeader& h) {
    rr |= h.is(media::RtcpType::kRr);
    twcc |= h.is(media::RtcpType::kRtpfb) && h.fmt() == media::kRtpfbTwcc;
  });
  EXPECT_TRUE(rr);
  EXPECT_TRUE(twcc);
  EXPECT_GE(session_->stats().twcc_feedback_out, 1u);
}

// ---- subscribe (WHEP) -------------------------------------------------------------------------------------

TEST_F(WebRtcSessionTest, SubscribeAsksForKeyFramesOnceConnected) {
  open(SessionKind::kSubscribe);
  connect();
  const auto asks = only<tev::RequestKeyFrame>(take_events());
  ASSERT_EQ(asks.size(), 2u);
  EXPECT_EQ(asks[0].id, 1u);
  EXPECT_EQ(asks[1].id, 2u);
}

TEST_F(WebRtcSessionTest, LocalMediaBecomesRtpWithTheNegotiatedPayloadTypeAndOurSsrc) {
  open(SessionKind::kSubscribe);
  connect();
  take_events();
  ASSERT_TRUE(video_media().send);
  media::MediaPacket p;
  p.codec = media::Codec::kVP8;
  p.seq = 777;
  p.timestamp = 123456;
  p.marker = true;
  p.keyframe = true;
  p.payload = kVp8KeyFrame;
  session_->on_endpoint_event(now_, eev::LocalMedia{2, p});
  auto sent = take_sent();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].to, client_);
  const auto plain = unprotect_rtp(sent[0]);
  auto rtp = media::RtpPacket::parse(plain);
  ASSERT_TRUE(rtp);
  EXPECT_EQ(rtp->payload_type(), 96);
  EXPECT_EQ(rtp->ssrc(), video_media().send->ssrc);
  EXPECT_EQ(rtp->sequence_number(), 777);
  EXPECT_EQ(rtp->timestamp(), 123456u);
  EXPECT_TRUE(rtp->marker());
  EXPECT_EQ(std::vector<uint8_t>(rtp->payload().begin(), rtp->payload().end()), kVp8KeyFrame);
  ASSERT_NE(video_media().extensions.mid, 0);
  EXPECT_EQ(media::read_sdes_string(rtp->find_extension(video_media().extensions.mid)), "1");
  EXPECT_EQ(session_->stats().rtp_out, 1u);

  // Audio goes out on the audio section's SSRC with opus's payload type.
  p.codec = media::Codec::kOpus;
  p.payload = kOpusFrame;
  session_->on_endpoint_event(now_, eev::LocalMedia{1, p});
  sent = take_sent();
  ASSERT_EQ(sent.size(), 1u);
  const auto audio = unprotect_rtp(sent[0]);
  rtp = media::RtpPacket::parse(audio);
  ASSERT_TRUE(rtp);
  EXPECT_EQ(rtp->payload_type(), 111);
  EXPECT_EQ(rtp->ssrc(), audio_media().send->ssrc);

  // A codec the viewer did not accept is not sent.
  p.codec = media::Codec::kH264;
  session_->on_endpoint_event(now_, eev::LocalMedia{2, p});
  EXPECT_TRUE(take_sent().empty());
  EXPECT_EQ(session_->stats().codec_mismatch, 1u);
}

TEST_F(WebRtcSessionTest, ConnectTimeAndFirstVideoSentAreTheTransportsNow) {
  open(SessionKind::kSubscribe);
  EXPECT_FALSE(session_->connected_at());
  connect();
  take_events();
  ASSERT_TRUE(session_->connected_at());
  EXPECT_EQ(*session_->connected_at(), now_);
  const Micros connected = now_;
  media::MediaPacket p;
  // Audio first: not video, so not the first video packet.
  now_ += 40'000;
  p.codec = media::Codec::kOpus;
  p.payload = kOpusFrame;
  session_->on_endpoint_event(now_, eev::LocalMedia{1, p});
  EXPECT_EQ(take_sent().size(), 1u);
  EXPECT_FALSE(session_->first_video_sent());
  // A video packet in a codec the viewer did not accept is not sent either.
  now_ += 10'000;
  p.codec = media::Codec::kH264;
  p.payload = kVp8KeyFrame;
  session_->on_endpoint_event(now_, eev::LocalMedia{2, p});
  EXPECT_FALSE(session_->first_video_sent());
  now_ += 250'000;
  p.codec = media::Codec::kVP8;
  p.keyframe = true;
  p.seq = 10;
  session_->on_endpoint_event(now_, eev::LocalMedia{2, p});
  EXPECT_EQ(take_sent().size(), 1u);
  ASSERT_TRUE(session_->first_video_sent());
  EXPECT_EQ(*session_->first_video_sent() - connected, 300'000);
  // Later packets leave it as it was.
  now_ += 33'000;
  p.seq = 11;
  session_->on_endpoint_event(now_, eev::LocalMedia{2, p});
  EXPECT_EQ(*session_->first_video_sent() - connected, 300'000);
}

TEST_F(WebRtcSessionTest, ViewerFeedbackDrivesTheEstimateAndProbingPadsOnTheRtxStream) {
  open(SessionKind::kSubscribe, whep_twcc_offer(client_cert_->fingerprint_sha256()));
  connect();
  take_events();
  const uint8_t tcc = video_media().extensions.transport_cc;
  ASSERT_NE(tcc, 0);
  // Every video packet carries a transport-wide sequence number, counting up from 1.
  std::vector<media::TwccReceived> arrived;
  std::vector<uint8_t> payload(1000, 0x42);
  std::copy(kVp8KeyFrame.begin(), kVp8KeyFrame.end(), payload.begin());
  auto send_frame = [&](uint16_t seq) {
    media::MediaPacket p;
    p.codec = media::Codec::kVP8;
    p.seq = seq;
    p.timestamp = 3000u * seq;
    p.marker = true;
    p.keyframe = true;
    p.payload = payload;
    session_->on_endpoint_event(now_, eev::LocalMedia{2, p});
    for (auto& s : take_sent()) {
      if (media::classify_packet(s.data) != media::PacketClass::kRtp) continue;
      const auto plain = unprotect_rtp(s);
      auto rtp = media::RtpPacket::parse(plain);
      ASSERT_TRUE(rtp);
      auto tseq = media::read_transport_seq(rtp->find_extension(tcc));
      ASSERT_TRUE(tseq);
      arrived.push_back({*tseq, now_ + 5'000});
    }
  };
  // The viewer's feedback, every 100 ms, says all of it arrived in time; the session reports estimates.
  size_t reported = 0;
  uint8_t fb_count = 0;
  std::vector<tev::BandwidthEstimate> estimates;
  for (uint16_t i = 0; i < 50; ++i) {
    send_frame(static_cast<uint16_t>(100 + i));
    now_ += 20'000;
    if (i % 5 == 4) {
      std::vector<uint8_t> fb(2048);
      fb.resize(media::write_twcc_feedback(fb, kClientRtcpSsrc, video_media().send->ssrc, fb_count++,
                                           std::span(arrived).subspan(reported)));
      ASSERT_FALSE(fb.empty());
      reported = arrived.size();
      deliver(client_, srtcp(fb));
    }
    session_->on_tick(now_);
    for (auto& e : only<tev::BandwidthEstimate>(take_events()))
      estimates.push_back(e);
  }
  ASSERT_EQ(arrived.size(), 50u);
  EXPECT_EQ(arrived.front().seq, 1);
  EXPECT_EQ(arrived.back().seq, 50);
  EXPECT_EQ(session_->stats().twcc_feedback_in, 10u);
  ASSERT_FALSE(estimates.empty());
  EXPECT_GT(estimates.back().bps, 0u);

  // The client could use much more than the estimate: the session probes with RTX copies of recent packets.
  take_sent();
  session_->on_endpoint_event(now_, eev::BandwidthWanted{5'000'000});
  now_ += 20'000;
  session_->on_tick(now_);
  size_t padding = 0;
  for (auto& s : take_sent()) {
    if (media::classify_packet(s.data) != media::PacketClass::kRtp) continue;
    const auto plain = unprotect_rtp(s);
    auto rtp = media::RtpPacket::parse(plain);
    ASSERT_TRUE(rtp);
    EXPECT_EQ(rtp->ssrc(), video_media().send->rtx_ssrc);
    EXPECT_TRUE(media::read_transport_seq(rtp->find_extension(tcc)));
    ++padding;
  }
  EXPECT_GT(padding, 0u);
  EXPECT_EQ(session_->stats().padding_out, padding);
}

TEST_F(WebRtcSessionTest, NackIsAnsweredFromTheCacheOnTheRtxStream) {
  open(SessionKind::kSubscribe);
  connect();
  take_events();
  ASSERT_TRUE(video_media().send);
  const uint32_t rtx_ssrc = video_media().send->rtx_ssrc;
  ASSERT_NE(rtx_ssrc, 0u);
  ASSERT_TRUE(video_media().codecs[0].rtx_pt);
  media::MediaPacket p;
  p.codec = media::Codec::kVP8;
  p.timestamp = 9000;
  for (uint16_t seq = 500; seq < 503; ++seq) {
    p.seq = seq;
    p.payload =
        seq == 501 ? std::span<const uint8_t>(kVp8DeltaFrame) : std::span<const uint8_t>(kVp8KeyFrame);
    session_->on_endpoint_event(now_, eev::LocalMedia{2, p});
  }
  ASSERT_EQ(take_sent().size(), 3u);  // "lost" on the way

  now_ += 50'000;
  deliver(client_, nack(video_media().send->ssrc, {501}));
  auto sent = take_sent();
  ASSERT_EQ(sent.size(), 1u);
  const auto plain = unprotect_rtp(sent[0]);
  auto rtp = media::RtpPacket::parse(plain);
  ASSERT_TRUE(rtp);
  EXPECT_EQ(rtp->payload_type(), *video_media().codecs[0].rtx_pt);
  EXPECT_EQ(rtp->ssrc(), rtx_ssrc);
  EXPECT_EQ(rtp->timestamp(), 9000u);
  auto payload = rtp->payload();
  ASSERT_EQ(payload.size(), kVp8DeltaFrame.size() + 2);
  EXPECT_EQ(payload[0] << 8 | payload[1], 501);  // OSN
  EXPECT_EQ(std::vector<uint8_t>(payload.begin() + 2, payload.end()), kVp8DeltaFrame);
  EXPECT_EQ(session_->stats().nacks_in, 1u);
  EXPECT_EQ(session_->stats().nack_resent, 1u);

  // Two at once, in one NACK item (PID + BLP): two repairs with consecutive RTX sequence numbers.
  deliver(client_, nack(video_media().send->ssrc, {500, 502}));
  sent = take_sent();
  ASSERT_EQ(sent.size(), 2u);
  const auto first = unprotect_rtp(sent[0]);
  const auto second = unprotect_rtp(sent[1]);
  auto r1 = media::RtpPacket::parse(first);
  auto r2 = media::RtpPacket::parse(second);
  ASSERT_TRUE(r1 && r2);
  EXPECT_EQ(r1->payload()[0] << 8 | r1->payload()[1], 500);
  EXPECT_EQ(r2->payload()[0] << 8 | r2->payload()[1], 502);
  EXPECT_EQ(static_cast<uint16_t>(r2->sequence_number() - r1->sequence_number()), 1);

  // Never sent, or too old: counted, nothing resent.
  deliver(client_, nack(video_media().send->ssrc, {9999}));
  EXPECT_TRUE(take_sent().empty());
  now_ += 2'000'000;
  deliver(client_, nack(video_media().send->ssrc, {501}));
  EXPECT_TRUE(take_sent().empty());
  EXPECT_EQ(session_->stats().nacks_in, 5u);
  EXPECT_EQ(session_->stats().nack_resent, 3u);
}

// A long round trip (measured from the viewer's receiver report on our sender report) keeps packets worth
// resending for longer: 3 RTT + 4 jitter instead of the 1 s a short path gets.
TEST_F(WebRtcSessionTest, TheRepairWindowFollowsTheViewersRoundTripAndJitter) {
  open(SessionKind::kSubscribe);
  connect();
  take_events();
  const uint32_t ssrc = video_media().send->ssrc;
  media::MediaPacket p;
  p.codec = media::Codec::kVP8;
  p.timestamp = 9000;
  p.payload = kVp8KeyFrame;
  const media::Micros sent_at = now_;
  for (uint16_t seq = 500; seq < 503; ++seq) {
    p.seq = seq;
    session_->on_endpoint_event(now_, eev::LocalMedia{2, p});
  }
  take_sent();

  // Our sender report, as the viewer would read it.
  const auto lsr = next_sender_report(ssrc, 1'000'000);
  ASSERT_TRUE(lsr);

  // Before any receiver report: the 1 s window; 1.2 s after sending, too old.
  now_ += 200'000;
  deliver(client_, nack(ssrc, {501}));
  EXPECT_TRUE(take_sent().empty());

  // The viewer's report 0.7 s after the SR, having held it 0.1 s: a 0.6 s round trip, 20 ms jitter.
  now_ += 500'000;
  deliver_receiver_report(ssrc, *lsr, 65536 / 10, 90000 / 50);

  // 1.75 s after sending: within 3 x 0.6 s + 4 x jitter (smoothed in from 0) - answered.
  now_ += 50'000;
  ASSERT_EQ(now_ - sent_at, 1'750'000);
  deliver(client_, nack(ssrc, {501}));
  EXPECT_EQ(take_sent().size(), 1u);
  // 3 s after sending: past it.
  now_ += 1'250'000;
  deliver(client_, nack(ssrc, {502}));
  EXPECT_TRUE(take_sent().empty());
}

// An SDK client both publishes and watches: the round trip its receiver reports measure on what we send it
// also spaces the NACK retries on what it publishes (instead of 1.5 x a 50 ms guess).
TEST_F(WebRtcSessionTest, APeersMeasuredRoundTripPacesTheRetriesOfItsPublishingStreams) {
  open(SessionKind::kPeer, peer_offer(client_cert_->fingerprint_sha256()));
  connect();
  take_events();
  const NegotiatedMedia& watched = session_->config().media[1];
  ASSERT_TRUE(watched.send);
  const uint32_t ssrc = watched.send->ssrc;
  media::MediaPacket p;
  p.codec = media::Codec::kVP8;
  p.seq = 1;
  p.timestamp = 9000;
  p.payload = kVp8KeyFrame;
  session_->on_endpoint_event(now_, eev::LocalMedia{1, p});
  take_sent();
  const auto lsr = next_sender_report(ssrc, 1'000'000);
  ASSERT_TRUE(lsr);
  // The client's report 0.5 s after our SR, having held it 0.1 s: a 0.4 s round trip.
  now_ += 500'000;
  deliver_receiver_report(ssrc, *lsr, 65536 / 10);

  // What it publishes loses 101 and 102: asked for once at once ...
  deliver(client_, srtp(96, 100, 90000, kVideoSsrc, true, kVp8KeyFrame));
  deliver(client_, srtp(96, 103, 93000, kVideoSsrc, true, kVp8DeltaFrame));
  now_ += 20'000;
  session_->on_tick(now_);
  EXPECT_EQ(session_->stats().nacks_out, 2u);
  // ... not again after 100 ms (the guess would have retried after 75 ms) ...
  now_ += 100'000;
  session_->on_tick(now_);
  EXPECT_EQ(session_->stats().nacks_out, 2u) << "retried before a round trip of 0.4 s had passed";
  // ... but once 1.5 round trips have passed.
  now_ += 520'000;
  session_->on_tick(now_);
  EXPECT_EQ(session_->stats().nacks_out, 4u);
}

TEST_F(WebRtcSessionTest, NackWithoutRtxResendsTheOriginalPacket) {
  open(SessionKind::kSubscribe);
  connect();
  take_events();
  media::MediaPacket p;
  p.codec = media::Codec::kOpus;
  p.seq = 40;
  p.timestamp = 48000;
  p.payload = kOpusFrame;
  session_->on_endpoint_event(now_, eev::LocalMedia{1, p});
  ASSERT_EQ(take_sent().size(), 1u);  // lost: never unprotected by the client
  deliver(client_, nack(audio_media().send->ssrc, {40}));
  auto sent = take_sent();
  ASSERT_EQ(sent.size(), 1u);
  const auto plain = unprotect_rtp(sent[0]);
  auto rtp = media::RtpPacket::parse(plain);
  ASSERT_TRUE(rtp);
  EXPECT_EQ(rtp->payload_type(), 111);
  EXPECT_EQ(rtp->ssrc(), audio_media().send->ssrc);
  EXPECT_EQ(rtp->sequence_number(), 40);
  EXPECT_EQ(std::vector<uint8_t>(rtp->payload().begin(), rtp->payload().end()), kOpusFrame);
}

TEST_F(WebRtcSessionTest, PliAndFirFromTheViewerBecomeKeyFrameRequests) {
  open(SessionKind::kSubscribe);
  connect();
  take_events();
  deliver(client_, pli(video_media().send->ssrc));
  auto asks = only<tev::RequestKeyFrame>(take_events());
  ASSERT_EQ(asks.size(), 1u);
  EXPECT_EQ(asks[0].id, 2u);
  EXPECT_EQ(session_->stats().plis_in, 1u);

  std::vector<uint8_t> fir(64);
  const media::FirEntry entry{video_media().send->ssrc, 1};
  fir.resize(media::write_fir(fir, kClientRtcpSsrc, std::span(&entry, 1)));
  deliver(client_, srtcp(std::move(fir)));
  asks = only<tev::RequestKeyFrame>(take_events());
  ASSERT_EQ(asks.size(), 1u);
  EXPECT_EQ(asks[0].id, 2u);

  // An SSRC we do not send: nothing.
  deliver(client_, pli(0xdeadbeef));
  EXPECT_TRUE(only<tev::RequestKeyFrame>(take_events()).empty());
  EXPECT_EQ(session_->stats().plis_in, 2u);
}

// ---- garbage ----------------------------------------------------------------------------------------------

// Truncated and unclassifiable datagrams from the validated address of a connected session: each is counted
// once in the session's drop counters, and media still flows afterwards.
TEST_F(WebRtcSessionTest, TruncatedPacketsAreCountedAndDropped) {
  open(SessionKind::kPublish);
  connect();
  join_publish();
  const auto valid = srtp(96, 1, 0, kVideoSsrc, true, kVp8KeyFrame);
  std::vector<uint8_t> truncated_srtp(valid.begin(), valid.begin() + 20);
  const auto valid_rtcp = pli(kVideoSsrc);
  std::vector<uint8_t> truncated_srtcp(valid_rtcp.begin(), valid_rtcp.begin() + 10);
  auto stun = binding_request(username(), kServerPwd, true);
  std::vector<uint8_t> truncated_stun(stun.begin(), stun.begin() + 30);
  auto bad_fingerprint = stun;
  bad_fingerprint.back() ^= 1;
  const std::vector<std::pair<const char*, std::vector<uint8_t>>> cases = {
      {"empty", {}},
      {"one byte", {0x80}},
      {"rtp header cut", {0x80, 0x60, 0x00}},
      {"rtp header only", {0x80, 0x60, 0x00, 0x01, 0, 0, 0, 0, 0, 0, 0x07, 0xd1}},
      {"srtp cut", truncated_srtp},
      {"rtcp header cut", {0x80, 0xc8, 0x00}},
      {"rtcp length overrun", {0x81, 0xc9, 0x00, 0x07, 0, 0, 0x55, 0x55}},
      {"srtcp cut", truncated_srtcp},
      {"stun cut", truncated_stun},
      {"stun bad fingerprint", bad_fingerprint},
      {"stun header only", {0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42}},
      {"zrtp range", {0x10, 0x00, 0x00, 0x00}},
      {"quic range", {0xc0, 0x00, 0x00, 0x01, 0x02}},
  };
  for (const auto& [name, bytes] : cases) {
    SCOPED_TRACE(name);
    const uint64_t before = drops(session_->stats());
    deliver(client_, bytes);
    EXPECT_EQ(drops(session_->stats()), before + 1);
    EXPECT_TRUE(take_events().empty());
    EXPECT_TRUE(take_sent().empty());
    EXPECT_EQ(session_->state(), SessionState::kConnected);
  }
  deliver(client_, valid);
  EXPECT_EQ(only<tev::RemoteMedia>(take_events()).size(), 1u);
}

// Truncated DTLS records (first byte 20..63) from the validated address: they must be counted like any other
// garbage (the issue: "Garbage on the UDP port is counted and dropped"), before and after the handshake. Any
// of the session's drop counters will do; dropped_malformed is the natural one, as the worker exports it as
// atrium_malformed_dropped_total. (DtlsTransport counts them in its own DtlsStats::malformed_dropped, which
// the session does not surface.)
TEST_F(WebRtcSessionTest, TruncatedDtlsRecordsAreCounted) {
  open(SessionKind::kPublish);
  ASSERT_EQ(check(client_).size(), 1u);
  const std::vector<std::pair<const char*, std::vector<uint8_t>>> cases = {
      {"record header cut", {0x16, 0xfe, 0xfd, 0x00, 0x00}},
      {"record length overrun", {0x16, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0x00, 0x01, 0x02}},
      {"application data cut", {0x17, 0xfe, 0xfd, 0x00, 0x01, 0, 0}},
  };
  for (const auto& [name, bytes] : cases) {
    SCOPED_TRACE(std::string("handshaking: ") + name);
    const uint64_t before = drops(session_->stats());
    deliver(client_, bytes);
    EXPECT_EQ(drops(session_->stats()), before + 1) << "a truncated DTLS record is in no session counter";
    EXPECT_EQ(session_->state(), SessionState::kConnecting) << session_->close_reason();
  }
  take_sent();
  connect();
  for (const auto& [name, bytes] : cases) {
    SCOPED_TRACE(std::string("connected: ") + name);
    const uint64_t before = drops(session_->stats());
    deliver(client_, bytes);
    EXPECT_EQ(drops(session_->stats()), before + 1) << "a truncated DTLS record is in no session counter";
    EXPECT_EQ(session_->state(), SessionState::kConnected) << session_->close_reason();
  }
}

// Random datagrams in every first-byte range, from the client's address and from a stranger, before ICE,
// during the handshake and once connected: no crash, everything counted as received, and the session still
// works.
TEST_F(WebRtcSessionTest, RandomDatagramsNeverBreakTheSession) {
  std::mt19937 rng(20240611);
  auto garbage = [&] {
    std::uniform_int_distribution<int> len(0, 1400), byte(0, 255), range(0, 4);
    std::vector<uint8_t> d(static_cast<size_t>(len(rng)));
    for (auto& b : d)
      b = static_cast<uint8_t>(byte(rng));
    if (!d.empty()) {
      switch (range(rng)) {
        case 0:  // STUN, sometimes with the magic cookie
          d[0] &= 0x03;
          if (d.size() >= 8) {
            d[4] = 0x21, d[5] = 0x12, d[6] = 0xa4, d[7] = 0x42;
          }
          break;
        case 1:  // DTLS, sometimes a plausible record header
          d[0] = static_cast<uint8_t>(20 + d[0] % 44);
          if (d.size() >= 3) d[1] = 0xfe, d[2] = 0xfd;
          break;
        case 2:  // RTP / RTCP
          d[0] = static_cast<uint8_t>(0x80 | (d[0] & 0x3f));
          break;
        default:
          break;
      }
    }
    return d;
  };
  open(SessionKind::kPublish);
  uint64_t sent_in = 0;
  for (int i = 0; i < 300; ++i, ++sent_in)
    deliver(i % 2 ? client_ : stranger_, garbage());
  EXPECT_EQ(session_->state(), SessionState::kNew);
  take_sent();
  ASSERT_EQ(check(client_).size(), 1u);
  ++sent_in;
  for (int i = 0; i < 300; ++i, ++sent_in)
    deliver(stranger_, garbage());
  take_sent();
  connect();
  join_publish();
  const uint64_t before_connected = session_->stats().datagrams_in;
  for (int i = 0; i < 1000; ++i)
    deliver(i % 4 ? client_ : stranger_, garbage());
  EXPECT_EQ(session_->stats().datagrams_in, before_connected + 1000);
  EXPECT_GE(sent_in, 601u);
  EXPECT_EQ(session_->state(), SessionState::kConnected) << session_->close_reason();
  EXPECT_GT(drops(session_->stats()), 0u);
  take_events();
  take_sent();
  deliver(client_, srtp(96, 4242, 0, kVideoSsrc, true, kVp8KeyFrame));
  auto media = only<tev::RemoteMedia>(take_events());
  ASSERT_EQ(media.size(), 1u);
  EXPECT_EQ(media[0].packet.seq, 4242);
}

TEST_F(WebRtcSessionTest, SrtpFromAStrangerIsDropped) {
  open(SessionKind::kPublish);
  connect();
  join_publish();
  deliver(stranger_, srtp(96, 1, 0, kVideoSsrc, true, kVp8KeyFrame));
  EXPECT_TRUE(only<tev::RemoteMedia>(take_events()).empty());
  EXPECT_EQ(session_->stats().dropped_unvalidated, 1u);
}

// ---- time -------------------------------------------------------------------------------------------------

TEST_F(WebRtcSessionTest, ClosedWhenNoCheckArrivesWithin30s) {
  open(SessionKind::kPublish);
  const Micros created = now_;
  session_->on_tick(created + 29'999'999);
  EXPECT_EQ(session_->state(), SessionState::kNew);
  session_->on_tick(created + 30'000'000);
  EXPECT_EQ(session_->state(), SessionState::kClosed);
  EXPECT_NE(session_->close_reason().find("ICE"), std::string::npos) << session_->close_reason();
}

TEST_F(WebRtcSessionTest, ClosedWhenConsentExpires) {
  open(SessionKind::kPublish);
  connect();
  join_publish();
  const Micros last_check = now_ + 20'000'000;
  now_ = last_check;
  ASSERT_EQ(check(client_).size(), 1u);  // consent refreshed
  session_->on_tick(last_check + 29'000'000);
  EXPECT_EQ(session_->state(), SessionState::kConnected) << session_->close_reason();
  session_->on_tick(last_check + 30'000'001);
  EXPECT_EQ(session_->state(), SessionState::kClosed);
  EXPECT_NE(session_->close_reason().find("consent"), std::string::npos) << session_->close_reason();

  // Closed: input is ignored.
  const uint64_t in = session_->stats().datagrams_in;
  now_ = last_check + 30'000'002;
  deliver(client_, srtp(96, 1, 0, kVideoSsrc, true, kVp8KeyFrame));
  EXPECT_EQ(session_->stats().datagrams_in, in);
  EXPECT_TRUE(only<tev::RemoteMedia>(take_events()).empty());
}

TEST_F(WebRtcSessionTest, CloseSaysByeAndCloseNotify) {
  open(SessionKind::kSubscribe);
  connect();
  take_sent();
  session_->close(now_, "deleted by the client");
  EXPECT_EQ(session_->state(), SessionState::kClosed);
  EXPECT_EQ(session_->close_reason(), "deleted by the client");
  bool bye = false;
  for (auto& s : take_sent()) {
    if (media::classify_packet(s.data) == media::PacketClass::kRtcp) {
      const auto plain = unprotect_rtcp(s);
      media::RtcpCompoundIterator it(plain);
      while (auto h = it.next())
        bye |= h->is(media::RtcpType::kBye);
    } else if (media::classify_packet(s.data) == media::PacketClass::kDtls) {
      client_dtls_->on_datagram(now_, s.data);
    }
  }
  EXPECT_TRUE(bye);
  EXPECT_EQ(client_dtls_->state(), DtlsState::kClosed);
}

TEST_F(WebRtcSessionTest, JoinRefusedClosesTheSession) {
  open(SessionKind::kPublish);
  session_->on_endpoint_event(now_, eev::ErrorEvent{core::Error{core::ErrorCode::kPeerIdTaken, "taken"}});
  EXPECT_TRUE(session_->join_failed());
  EXPECT_EQ(session_->state(), SessionState::kClosed);
}

}  // namespace
}  // namespace atrium::webrtc
