#include "load/peer.h"

#include <openssl/rand.h>

#include <chrono>
#include <cstring>

#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>

#include "media/demux.h"
#include "media/rtcp/rtcp_packet.h"
#include "media/rtp/rtp_packet.h"
#include "media/stun/stun_message.h"
#include "media/stun/stun_writer.h"

namespace atrium::load {

namespace asio = boost::asio;
using udp = asio::ip::udp;

namespace {

std::string random_token(size_t n) {
  static constexpr char kChars[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  std::vector<unsigned char> b(n);
  RAND_bytes(b.data(), static_cast<int>(n));
  std::string s;
  for (unsigned char c : b)
    s += kChars[c % 62];
  return s;
}

media::StunAddress to_stun(const udp::endpoint& ep) {
  media::StunAddress a;
  const auto b = ep.address().to_v4().to_bytes();
  std::copy(b.begin(), b.end(), a.ip.begin());
  a.port = ep.port();
  return a;
}

void put32(uint8_t* p, uint32_t v) {
  p[0] = static_cast<uint8_t>(v >> 24);
  p[1] = static_cast<uint8_t>(v >> 16);
  p[2] = static_cast<uint8_t>(v >> 8);
  p[3] = static_cast<uint8_t>(v);
}
uint32_t get32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}

}  // namespace

int64_t steady_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

Peer::Peer(asio::io_context& io, Role role, std::string name, const asio::ip::address& bind,
           std::shared_ptr<webrtc::DtlsContext> dtls, ReceiveTotals* totals)
    : io_(io),
      role_(role),
      name_(std::move(name)),
      dtls_context_(std::move(dtls)),
      totals_(totals),
      socket_(io),
      tcp_(io),
      check_timer_(io),
      dtls_timer_(io),
      media_timer_(io),
      ufrag_(random_token(8)),
      pwd_(random_token(24)) {
  RAND_bytes(reinterpret_cast<unsigned char*>(&tiebreaker_), sizeof tiebreaker_);
  socket_.open(bind.is_v4() ? udp::v4() : udp::v6());
  socket_.bind({bind, 0});
  socket_.non_blocking(true);
  boost::system::error_code ec;
  socket_.set_option(asio::socket_base::receive_buffer_size(1 << 20), ec);
  socket_.set_option(asio::socket_base::send_buffer_size(1 << 20), ec);
}

Peer::~Peer() = default;

LocalDescription Peer::local() const {
  const auto ep = socket_.local_endpoint();
  return {ufrag_, pwd_, dtls_context_->certificate().fingerprint_sha256(), ep.address().to_string(),
          ep.port()};
}

std::string Peer::failure() const {
  return failed() ? failure_ : std::string();
}

void Peer::start(RemoteDescription remote, bool controlling, MediaSettings media, bool tcp) {
  asio::post(io_, [this, remote = std::move(remote), controlling, media, tcp] {
    remote_ = remote;
    controlling_ = controlling;
    media_ = media;
    remote_ep_ = remote_.candidate;
    if (tcp) {
      connect_tcp();
      if (failed()) return;
    } else {
      receive();
    }
    check_timer();
  });
}

void Peer::connect_tcp() {
  if (remote_.tcp_candidate.port() == 0) return fail("the server's SDP has no passive TCP candidate");
  boost::system::error_code ec;
  tcp_.connect({remote_.tcp_candidate.address(), remote_.tcp_candidate.port()}, ec);
  if (ec) return fail("TCP connect to " + remote_.tcp_candidate.address().to_string() + ": " + ec.message());
  tcp_.set_option(asio::ip::tcp::no_delay(true), ec);
  tcp_.set_option(asio::socket_base::receive_buffer_size(1 << 20), ec);
  use_tcp_ = true;
  remote_ep_ = remote_.tcp_candidate;
  tcp_rx_.resize(2 + 65535 + 65536);
  tcp_receive();
}

void Peer::tcp_receive() {
  tcp_.async_read_some(asio::buffer(tcp_rx_.data() + tcp_fill_, tcp_rx_.size() - tcp_fill_),
                       [this](const boost::system::error_code& ec, size_t n) {
                         if (ec) {
                           if (!stopped_) fail("TCP: " + ec.message());
                           return;
                         }
                         tcp_fill_ += n;
                         size_t off = 0;
                         while (tcp_fill_ - off >= 2) {
                           const size_t len = (size_t{tcp_rx_[off]} << 8) | tcp_rx_[off + 1];
                           if (tcp_fill_ - off < 2 + len) break;
                           on_datagram(std::span(tcp_rx_.data() + off + 2, len), remote_ep_);
                           off += 2 + len;
                         }
                         std::memmove(tcp_rx_.data(), tcp_rx_.data() + off, tcp_fill_ - off);
                         tcp_fill_ -= off;
                         tcp_receive();
                       });
}

void Peer::send_to(std::span<const uint8_t> data, const udp::endpoint& to) {
  boost::system::error_code ec;
  if (use_tcp_) {
    // What a subscriber sends is small (checks, DTLS, RTCP): a blocking write never waits here.
    const std::array<uint8_t, 2> len{static_cast<uint8_t>(data.size() >> 8),
                                     static_cast<uint8_t>(data.size())};
    const std::array<asio::const_buffer, 2> frame{asio::buffer(len), asio::buffer(data.data(), data.size())};
    asio::write(tcp_, frame, ec);
  } else {
    socket_.send_to(asio::buffer(data.data(), data.size()), to, 0, ec);
  }
  totals_->datagrams_sent.fetch_add(1, std::memory_order_relaxed);
}

void Peer::stop() {
  asio::post(io_, [this] {
    stopped_ = true;
    check_timer_.cancel();
    dtls_timer_.cancel();
    media_timer_.cancel();
  });
}

void Peer::fail(std::string why) {
  if (failed()) return;
  failure_ = name_ + ": " + why;
  failed_.store(true);
  stopped_ = true;
}

void Peer::receive() {
  socket_.async_wait(udp::socket::wait_read, [this](const boost::system::error_code& ec) {
    if (ec) return;
    for (int i = 0; i < 64; ++i) {
      udp::endpoint from;
      boost::system::error_code rec;
      const size_t n = socket_.receive_from(asio::buffer(rx_), from, 0, rec);
      if (rec) break;
      on_datagram(std::span(rx_.data(), n), from);
    }
    receive();
  });
}

void Peer::on_datagram(std::span<uint8_t> data, const udp::endpoint& from) {
  switch (media::classify_packet(data)) {
    case media::PacketClass::kStun:
      on_stun(data, from);
      break;
    case media::PacketClass::kDtls:
      if (dtls_) {
        dtls_->on_datagram(steady_ns() / 1000, data);
        flush_dtls();
        if (!srtp_ && dtls_->state() == webrtc::DtlsState::kConnected) on_connected();
        if (dtls_->state() == webrtc::DtlsState::kFailed) fail("DTLS failed: " + dtls_->failure_reason());
      }
      break;
    case media::PacketClass::kRtp:
      if (srtp_) on_rtp(data);
      break;
    case media::PacketClass::kRtcp:
      if (srtp_) on_rtcp(data);
      break;
    default:
      break;
  }
}

void Peer::on_stun(std::span<const uint8_t> data, const udp::endpoint& from) {
  auto msg = media::StunMessage::parse(data);
  if (!msg) return;
  if (msg->type() == media::kStunBindingRequest) {
    // A full-ICE server checks our candidate too (and keeps consent with checks later).
    if (!msg->verify_integrity(std::string_view(pwd_))) return;
    std::array<uint8_t, 256> out{};
    const size_t n = media::write_stun_binding_success(out, msg->transaction_id_array(), to_stun(from), pwd_);
    if (n == 0) return;
    send_to(std::span(out.data(), n), from);
    if (!controlling_ && !ice_ok_) {
      // The controlling server nominates; its check reaching us is enough to start DTLS towards it.
      remote_ep_ = from;
      ice_ok_ = true;
      start_dtls();
    }
    return;
  }
  if (msg->type() == media::kStunBindingSuccess) {
    if (!msg->verify_integrity(std::string_view(remote_.pwd))) return;
    if (!ice_ok_) {
      remote_ep_ = from;
      ice_ok_ = true;
      start_dtls();
    }
  }
}

void Peer::send_check() {
  media::StunTransactionId tid{};
  RAND_bytes(tid.data(), static_cast<int>(tid.size()));
  std::array<uint8_t, 512> out{};
  const std::string username = remote_.ufrag + ":" + ufrag_;
  const size_t n = media::write_stun_binding_request(out, tid,
                                                     {.username = username,
                                                      .password = remote_.pwd,
                                                      .priority = 0x6e001eff,
                                                      .controlling = controlling_,
                                                      .tiebreaker = tiebreaker_,
                                                      .use_candidate = controlling_});
  if (n == 0) return;
  send_to(std::span(out.data(), n), remote_ep_);
}

void Peer::check_timer() {
  if (stopped_) return;
  send_check();
  // Fast until connected, then consent freshness (a server closes a session without checks for 30 s).
  check_timer_.expires_after(connected() ? std::chrono::milliseconds(2000) : std::chrono::milliseconds(50));
  check_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) check_timer();
  });
}

void Peer::start_dtls() {
  if (dtls_) return;
  webrtc::DtlsConfig c;
  c.role = webrtc::DtlsRole::kClient;
  c.remote_fingerprint = {remote_.fingerprint_algorithm, remote_.fingerprint};
  c.initial_retransmit = 300'000;
  c.max_retransmit = 3'000'000;
  dtls_ = std::make_unique<webrtc::DtlsTransport>(dtls_context_, c);
  dtls_->start(steady_ns() / 1000);
  flush_dtls();
  dtls_timer();
}

void Peer::flush_dtls() {
  while (auto d = dtls_->pop_outgoing())
    send_raw(*d);
}

void Peer::dtls_timer() {
  dtls_timer_.expires_after(std::chrono::milliseconds(50));
  dtls_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec || stopped_ || srtp_) return;
    dtls_->on_tick(steady_ns() / 1000);
    flush_dtls();
    if (dtls_->state() == webrtc::DtlsState::kFailed) {
      fail("DTLS failed: " + dtls_->failure_reason());
      return;
    }
    dtls_timer();
  });
}

void Peer::on_connected() {
  std::string error;
  srtp_ = webrtc::SrtpSession::create(*dtls_->srtp_keys(), &error);
  if (!srtp_) {
    fail("SRTP: " + error);
    return;
  }
  connected_ns_ = steady_ns();
  connected_.store(true);
  if (role_ == Role::kPublisher) {
    const int64_t now = steady_ns();
    next_video_ns_ = now;
    next_audio_ns_ = now;
    media_timer();
  }
}

void Peer::send_raw(std::span<const uint8_t> data) {
  send_to(data, remote_ep_);
}

// ---- publisher ---------------------------------------------------------------------------------------

void Peer::media_timer() {
  if (stopped_) return;
  const int64_t now = steady_ns();
  while (next_video_ns_ <= now) {
    send_video_frame(now);
    next_video_ns_ += 1'000'000'000 / media_.fps;
  }
  while (media_.audio && remote_.has_audio && next_audio_ns_ <= now) {
    send_audio(now);
    next_audio_ns_ += 20'000'000;
  }
  const int64_t next =
      media_.audio && remote_.has_audio ? std::min(next_video_ns_, next_audio_ns_) : next_video_ns_;
  media_timer_.expires_after(std::chrono::nanoseconds(std::max<int64_t>(next - steady_ns(), 0)));
  media_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) media_timer();
  });
}

void Peer::send_video_frame(int64_t now_ns) {
  const int64_t key_every = static_cast<int64_t>(media_.keyframe_interval_s * 1e9);
  const bool key = (key_wanted_ && now_ns - last_key_ns_ > 300'000'000) || now_ns - last_key_ns_ >= key_every;
  if (key) {
    last_key_ns_ = now_ns;
    key_wanted_ = false;
  }
  const int per_frame = std::max(1, media_.video_pps / media_.fps);
  const size_t payload = std::clamp<size_t>(
      static_cast<size_t>(media_.video_kbps) * 1000 / 8 / static_cast<size_t>(media_.video_pps), 40, 1200);
  const int packets = key ? per_frame * 3 : per_frame;
  for (int i = 0; i < packets; ++i)
    send_rtp(remote_.video_pt, video_seq_++, video_ts_, kVideoSsrc, i == packets - 1, payload, key, i == 0,
             now_ns);
  video_ts_ += 90000 / static_cast<uint32_t>(media_.fps);
}

void Peer::send_audio(int64_t now_ns) {
  send_rtp(remote_.audio_pt, audio_seq_++, audio_ts_, kAudioSsrc, false, 120, false, false, now_ns);
  audio_ts_ += 960;
}

void Peer::send_rtp(uint8_t pt, uint16_t seq, uint32_t ts, uint32_t ssrc, bool marker, size_t payload_size,
                    bool key, bool frame_start, int64_t now_ns) {
  const size_t hdr = media::write_rtp_header(tx_, {.marker = marker,
                                                   .payload_type = pt,
                                                   .sequence_number = seq,
                                                   .timestamp = ts,
                                                   .ssrc = ssrc,
                                                   .csrcs = {}});
  uint8_t* p = tx_.data() + hdr;
  std::memset(p, 0x5A, payload_size);
  if (ssrc == kVideoSsrc) {
    // VP8 payload descriptor (RFC 7741): S bit on a frame's first packet, partition 0. The first packet of a
    // frame carries the frame tag: P bit clear and the start code + 640x480 on a key frame.
    p[0] = frame_start ? 0x10 : 0x00;
    if (frame_start) {
      p[1] = key ? 0x50 : 0x51;
      p[2] = 0x02;
      p[3] = 0x00;
      if (key) {
        const uint8_t start[] = {0x9d, 0x01, 0x2a, 0x80, 0x02, 0xe0, 0x01};
        std::memcpy(p + 4, start, sizeof start);
      }
    }
  } else {
    p[0] = 0xfc;  // an opus TOC byte
  }
  // Trailer: magic and send time.
  uint8_t* t = p + payload_size - kTrailerSize;
  put32(t, kTrailerMagic);
  put32(t + 4, static_cast<uint32_t>(static_cast<uint64_t>(now_ns) >> 32));
  put32(t + 8, static_cast<uint32_t>(static_cast<uint64_t>(now_ns)));
  auto n = srtp_->protect_rtp(tx_, hdr + payload_size);
  if (!n) return;
  send_raw(std::span(tx_.data(), *n));
  sent_.fetch_add(1, std::memory_order_relaxed);
}

// ---- both --------------------------------------------------------------------------------------------

void Peer::on_rtcp(std::span<uint8_t> data) {
  if (role_ != Role::kPublisher) return;
  auto n = srtp_->unprotect_rtcp(data, data.size());
  if (!n) return;
  media::RtcpCompoundIterator it(data.first(*n));
  while (auto h = it.next()) {
    // PSFB (206) PLI (fmt 1) or FIR (fmt 4): the next video frame is a key frame.
    if (h->type == 206 && (h->fmt() == 1 || h->fmt() == 4)) {
      key_wanted_ = true;
      keyframe_requests_.fetch_add(1, std::memory_order_relaxed);
    }
  }
}

void Peer::on_rtp(std::span<uint8_t> data) {
  if (role_ != Role::kSubscriber) return;
  // The RTP header is in the clear: sequence numbers are counted on every packet; one in
  // `decrypt_every` is also authenticated and decrypted (and read for its send time), so that a
  // single-threaded client can follow hundreds of subscribers.
  const bool decrypt = ++rtp_seen_ % static_cast<uint64_t>(media_.decrypt_every) == 0;
  size_t len = data.size();
  if (decrypt) {
    auto n = srtp_->unprotect_rtp(data, data.size());
    if (!n) {
      totals_->srtp_failures.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    len = *n;
  }
  auto pkt = media::RtpPacket::parse(data.first(len));
  if (!pkt) return;
  const int64_t now = steady_ns();
  if (first_video_ns_.load(std::memory_order_relaxed) < 0 && pkt->payload_type() == remote_.video_pt)
    first_video_ns_.store(now - connected_ns_, std::memory_order_relaxed);
  const uint32_t ssrc = pkt->ssrc();
  SeqTrack* t = nullptr;
  for (auto& s : tracks_)
    if (s.ssrc == ssrc) t = &s;
  if (!t) {
    tracks_.push_back({});
    t = &tracks_.back();
    t->ssrc = ssrc;
  }
  const uint16_t seq = pkt->sequence_number();
  if (!t->started) {
    t->started = true;
    t->first = t->highest = seq;
    t->received = 1;
  } else {
    // Unwrap around the highest seen so far.
    const int16_t delta = static_cast<int16_t>(seq - static_cast<uint16_t>(t->highest));
    const int64_t ext = t->highest + delta;
    if (ext > t->highest) {
      t->highest = ext;
    } else {
      ++t->late;
    }
    ++t->received;
  }
  received_.fetch_add(1, std::memory_order_relaxed);
  totals_->packets.fetch_add(1, std::memory_order_relaxed);
  if (!totals_->measuring.load(std::memory_order_relaxed)) return;
  totals_->window_packets.fetch_add(1, std::memory_order_relaxed);
  window_received_.fetch_add(1, std::memory_order_relaxed);
  if (!decrypt) return;
  const auto payload = pkt->payload();
  if (payload.size() < kTrailerSize) return;
  const uint8_t* tr = payload.data() + payload.size() - kTrailerSize;
  if (get32(tr) != kTrailerMagic) return;
  const int64_t sent = static_cast<int64_t>((uint64_t{get32(tr + 4)} << 32) | get32(tr + 8));
  const int64_t us = std::max<int64_t>((now - sent) / 1000, 0);
  const size_t bucket = std::min<size_t>(static_cast<size_t>(us / 10), ReceiveTotals::kBuckets - 1);
  ++totals_->latency[bucket];
}

uint64_t Peer::lost() const {
  uint64_t lost = 0;
  for (const auto& t : tracks_) {
    const int64_t expected = t.highest - t.first + 1;
    const int64_t got = static_cast<int64_t>(t.received - t.late);
    if (expected > got) lost += static_cast<uint64_t>(expected - got);
  }
  return lost;
}

uint64_t Peer::late() const {
  uint64_t late = 0;
  for (const auto& t : tracks_)
    late += t.late;
  return late;
}

}  // namespace atrium::load
