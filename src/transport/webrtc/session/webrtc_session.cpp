#include "transport/webrtc/session/webrtc_session.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <limits>

#include "core/util/overloaded.h"
#include "media/codec/keyframe.h"
#include "media/codec/vp8.h"
#include "media/demux.h"
#include "media/rtcp/rtcp_feedback.h"
#include "media/rtcp/rtcp_packet.h"
#include "media/rtcp/rtcp_reports.h"
#include "media/rtp/rtp_extensions.h"
#include "media/rtp/rtp_packet.h"
#include "media/stun/stun_message.h"
#include "media/stun/stun_writer.h"
#include "transport/webrtc/rtp/simulcast_layers.h"

namespace atrium::webrtc {

namespace {

constexpr size_t kCacheSlotsVideo = 1024;  // ~1 s of 8 Mbit/s video; NACKs for older packets come too late
constexpr size_t kCacheSlotsAudio = 64;
constexpr double kDuplicateRepairLoss = 0.02;  // viewer loss above which a NACK is answered twice

// The NTP format of `now`. Only differences reach the peer (RTT from LSR/DLSR, A/V sync between our own
// streams), so the steady clock's origin is as good as 1900.
uint64_t ntp_of(media::Micros now) {
  const uint64_t secs = static_cast<uint64_t>(now / 1'000'000);
  const uint64_t frac = (static_cast<uint64_t>(now % 1'000'000) << 32) / 1'000'000;
  return (secs << 32) | frac;
}

media::StunAddress to_stun(const SocketAddress& a) {
  media::StunAddress s;
  s.v6 = a.v6;
  s.ip = a.ip;
  s.port = a.port;
  return s;
}

bool receives(SdpDirection d) {
  return d == SdpDirection::kRecvOnly || d == SdpDirection::kSendRecv;
}
bool sends(SdpDirection d) {
  return d == SdpDirection::kSendOnly || d == SdpDirection::kSendRecv;
}

const NegotiatedCodec* codec_by_pt(const NegotiatedMedia& m, uint8_t pt, bool* rtx) {
  for (const auto& c : m.codecs) {
    if (c.pt == pt) {
      *rtx = false;
      return &c;
    }
    if (c.rtx_pt && *c.rtx_pt == pt) {
      *rtx = true;
      return &c;
    }
  }
  return nullptr;
}

}  // namespace

std::string_view to_string(SessionState s) {
  switch (s) {
    case SessionState::kNew:
      return "new";
    case SessionState::kConnecting:
      return "connecting";
    case SessionState::kConnected:
      return "connected";
    case SessionState::kClosed:
      return "closed";
  }
  return "?";
}

WebRtcSession::WebRtcSession(std::shared_ptr<DtlsContext> dtls, WebRtcSessionConfig config, media::Micros now)
    : config_(std::move(config)),
      ice_(config_.ice),
      dtls_(std::move(dtls), DtlsConfig{.role = DtlsRole::kServer,
                                        .remote_fingerprint = config_.remote_fingerprint,
                                        .handshake_timeout = config_.connect_timeout}),
      created_(now),
      next_report_(now + config_.report_interval),
      next_twcc_(now) {
  std::array<uint32_t, 2> names_used{0, 0};  // per kind, for "video", "video2", ...
  for (const NegotiatedMedia& m : config_.media) {
    if (config_.kind != SessionKind::kSubscribe && receives(m.direction)) {
      Inbound in;
      in.media = &m;
      // WHIP numbers its tracks by section; the SDK binds them when the client publishes.
      in.track =
          config_.kind == SessionKind::kPeer ? 0 : static_cast<core::RemoteTrackId>(inbound_.size() + 1);
      const auto k = static_cast<size_t>(m.kind);
      in.name = std::string(media::to_string(m.kind));
      if (++names_used[k] > 1) in.name += std::to_string(names_used[k]);
      const uint32_t clock = m.codecs.empty() ? 90000 : m.codecs.front().clock_rate;
      if (!m.remote_rids.empty()) {
        const auto layers = simulcast_layer_order(m.remote_rids);
        for (size_t i = 0; i < m.remote_rids.size(); ++i)
          in.streams.push_back(InboundStream{0, 0, layers[i], ReceiveStatistics(clock), 0, NackGenerator()});
      } else {
        InboundStream st{0, 0, 0, ReceiveStatistics(clock), 0, NackGenerator()};
        for (uint32_t ssrc : m.remote_ssrcs) {
          bool is_rtx = std::any_of(m.remote_rtx_pairs.begin(), m.remote_rtx_pairs.end(),
                                    [&](const auto& p) { return p.second == ssrc; });
          if (is_rtx && st.rtx_ssrc == 0) st.rtx_ssrc = ssrc;
          if (!is_rtx && st.ssrc == 0) st.ssrc = ssrc;
        }
        in.streams.push_back(st);
      }
      if (m.extensions.transport_cc) twcc_ext_id_ = m.extensions.transport_cc;
      inbound_.push_back(std::move(in));
    }
    if (config_.kind != SessionKind::kPublish && sends(m.direction) && m.send) {
      auto out = std::make_unique<Outbound>(m.kind == media::MediaKind::kVideo ? kCacheSlotsVideo
                                                                               : kCacheSlotsAudio);
      out->media = &m;
      out->track = static_cast<core::LocalTrackId>(outbound_.size() + 1);
      out->ssrc = m.send->ssrc;
      out->rtx_ssrc = m.send->rtx_ssrc;
      out->clock_rate = m.codecs.empty() ? 90000 : m.codecs.front().clock_rate;
      outbound_.push_back(std::move(out));
    }
  }

  for (const auto& o : outbound_)
    if (o->media->extensions.transport_cc && o->media->feedback.transport_cc && !bwe_) bwe_.emplace();

  core::JoinParams join = config_.join;
  if (config_.kind == SessionKind::kSubscribe) {
    // A viewer needs to know what is published, not who is present.
    join.peers = core::SubscribeMode::kManual;
    join.tracks = core::SubscribeMode::kAuto;
    std::vector<WhepSourceSelector::Want> wants;
    for (const auto& o : outbound_)
      wants.push_back({o->track, o->media->kind});
    selector_.emplace(config_.source, std::move(wants));
  }
  if (config_.join_room) events_.push(core::tev::Join{std::move(join)});
}

std::vector<WebRtcSession::Section> WebRtcSession::sections() const {
  std::vector<Section> out;
  for (const NegotiatedMedia& m : config_.media) {
    const auto layers = static_cast<uint8_t>(std::clamp<size_t>(m.remote_rids.size(), 1, 4));
    Section s{m.mid, m.kind, receives(m.direction), sends(m.direction), 0, 0, layers};
    for (const auto& o : outbound_)
      if (o->media == &m) s.local = o->track;
    for (const auto& in : inbound_)
      if (in.media == &m) s.remote = in.track;
    out.push_back(std::move(s));
  }
  return out;
}

bool WebRtcSession::bind_inbound(std::string_view mid, core::RemoteTrackId id) {
  for (auto& in : inbound_) {
    if (in.media->mid != mid) continue;
    in.track = id;
    return true;
  }
  return false;
}

void WebRtcSession::unbind_inbound(core::RemoteTrackId id) {
  for (auto& in : inbound_)
    if (in.track == id) in.track = 0;
}

void WebRtcSession::on_datagram(media::Micros now, const SocketAddress& from, std::span<uint8_t> data) {
  if (state_ == SessionState::kClosed) return;
  ++stats_.datagrams_in;
  stats_.bytes_in += data.size();
  const auto kind = media::classify_packet(data);
  switch (kind) {
    case media::PacketClass::kStun:
      on_stun(now, from, data);
      return;
    case media::PacketClass::kDtls:
      if (!ice_.validated(from)) {
        ++stats_.dropped_unvalidated;
        return;
      }
      on_dtls(now, from, data);
      return;
    case media::PacketClass::kRtp:
    case media::PacketClass::kRtcp:
      if (!ice_.validated(from)) {
        ++stats_.dropped_unvalidated;
        return;
      }
      if (!srtp_) {
        ++stats_.dropped_unknown;
        return;
      }
      if (kind == media::PacketClass::kRtp)
        on_rtp(now, data);
      else
        on_rtcp(now, data);
      return;
    case media::PacketClass::kUnknown:
      ++stats_.dropped_unknown;
      return;
  }
}

void WebRtcSession::on_stun(media::Micros now, const SocketAddress& from, std::span<uint8_t> data) {
  auto msg = media::StunMessage::parse(data);
  if (!msg || !msg->verify_fingerprint()) {
    ++stats_.stun_malformed;
    return;
  }
  if (msg->type() != media::kStunBindingRequest) return;  // responses and indications: nothing to do (lite)
  ++stats_.stun_requests;
  const auto tid = msg->transaction_id_array();
  auto username = msg->username();
  const std::string& ufrag = ice_.local().ufrag;
  const bool user_ok = username && username->size() > ufrag.size() && username->starts_with(ufrag) &&
                       (*username)[ufrag.size()] == ':';
  if (!user_ok || !msg->verify_integrity(std::string_view(ice_.local().pwd))) {
    // RFC 8445 section 7.3 / RFC 8489 section 9.1.3: unauthenticated, so answered without integrity.
    ++stats_.stun_bad_integrity;
    auto slot = out_.prepare();
    if (slot.empty()) return;
    const size_t n = media::write_stun_binding_error(slot, tid, 401, "Unauthorized");
    if (n) out_.commit(n, from);
    return;
  }
  if (!ice_.on_valid_check(now, from, msg->use_candidate())) return;
  auto slot = out_.prepare();
  if (slot.empty()) {
    ++stats_.out_dropped;
  } else if (size_t n = media::write_stun_binding_success(slot, tid, to_stun(from), ice_.local().pwd)) {
    out_.commit(n, from);
  }
  if (state_ == SessionState::kNew) {
    state_ = SessionState::kConnecting;
    dtls_.start(now);
  }
}

void WebRtcSession::on_dtls(media::Micros now, const SocketAddress&, std::span<uint8_t> data) {
  const auto before = dtls_.stats().malformed_dropped + dtls_.stats().ignored_dropped;
  dtls_.on_datagram(now, data);
  stats_.dropped_malformed += dtls_.stats().malformed_dropped + dtls_.stats().ignored_dropped - before;
  flush_dtls();
  if (dtls_.state() == DtlsState::kFailed) {
    close(now, "DTLS failed: " + dtls_.failure_reason());
    return;
  }
  if (dtls_.state() == DtlsState::kClosed) {
    close(now, "the client closed DTLS");
    return;
  }
  if (dtls_.state() == DtlsState::kConnected && !srtp_) {
    std::string error;
    srtp_ = SrtpSession::create(*dtls_.srtp_keys(), &error);
    if (!srtp_) {
      close(now, "SRTP setup failed: " + error);
      return;
    }
    state_ = SessionState::kConnected;
    maybe_publish();
    // Anything sent before SRTP was up was lost; start every local track on a key frame.
    for (const auto& o : outbound_)
      events_.push(core::tev::RequestKeyFrame{o->track});
  }
}

void WebRtcSession::flush_dtls() {
  while (auto d = dtls_.pop_outgoing()) {
    auto to = ice_.send_address();
    if (!to) continue;
    auto slot = out_.prepare();
    if (slot.empty() || d->size() > slot.size()) {
      ++stats_.out_dropped;
      continue;
    }
    std::memcpy(slot.data(), d->data(), d->size());
    out_.commit(d->size(), *to);
    stats_.bytes_out += d->size();
  }
}

std::pair<WebRtcSession::Inbound*, WebRtcSession::InboundStream*> WebRtcSession::inbound_for(
    const media::RtpPacket& p) {
  const uint32_t ssrc = p.ssrc();
  for (auto& in : inbound_)
    for (auto& st : in.streams)
      if (st.ssrc == ssrc || st.rtx_ssrc == ssrc) return {&in, &st};
  // A new SSRC: place it by its MID header extension (RFC 8843), else by payload type.
  Inbound* target = nullptr;
  for (auto& in : inbound_) {
    if (!in.media->extensions.mid) continue;
    auto mid = media::read_sdes_string(p.find_extension(in.media->extensions.mid));
    if (mid && *mid == in.media->mid) {
      target = &in;
      break;
    }
  }
  bool rtx = false;
  if (!target) {
    for (auto& in : inbound_)
      if (codec_by_pt(*in.media, p.payload_type(), &rtx)) {
        target = &in;
        break;
      }
  }
  if (!target || !codec_by_pt(*target->media, p.payload_type(), &rtx)) return {nullptr, nullptr};
  InboundStream* stream = &target->streams.front();
  if (!target->media->remote_rids.empty()) {
    // Simulcast (RFC 8853): the RID (or, on the repair stream, the repaired RID) says which layer. Browsers
    // send it until the SSRC is acknowledged, so the first packets of each stream carry it.
    const auto& ext = target->media->extensions;
    const uint8_t id = rtx ? ext.repaired_rid : ext.rid;
    auto rid = id ? media::read_sdes_string(p.find_extension(id)) : std::nullopt;
    if (!rid) return {nullptr, nullptr};
    const auto& rids = target->media->remote_rids;
    auto it = std::find(rids.begin(), rids.end(), *rid);
    if (it == rids.end()) return {nullptr, nullptr};
    stream = &target->streams[static_cast<size_t>(it - rids.begin())];
  }
  // A new SSRC for a known stream replaces the old one, as when a browser's sender restarts.
  if (rtx)
    stream->rtx_ssrc = ssrc;
  else
    stream->ssrc = ssrc;
  return {target, stream};
}

void WebRtcSession::on_rtp(media::Micros now, std::span<uint8_t> data) {
  auto len = srtp_->unprotect_rtp(data, data.size());
  if (!len) {
    ++stats_.srtp_failures;
    return;
  }
  auto p = media::RtpPacket::parse(data.first(*len));
  if (!p) {
    ++stats_.dropped_malformed;
    return;
  }
  ++stats_.rtp_in;
  if (twcc_ext_id_) {
    if (auto tseq = media::read_transport_seq(p->find_extension(twcc_ext_id_))) twcc_.on_packet(*tseq, now);
  }
  auto [in, stream] = inbound_for(*p);
  bool rtx = false;
  const NegotiatedCodec* codec = in ? codec_by_pt(*in->media, p->payload_type(), &rtx) : nullptr;
  if (!codec) {
    ++stats_.dropped_unknown;
    return;
  }
  auto payload = p->payload();
  uint16_t seq = p->sequence_number();
  if (rtx) {
    if (payload.size() < 2) return;  // padding-only probe
    seq = static_cast<uint16_t>(payload[0] << 8 | payload[1]);
    payload = payload.subspan(2);
  }
  if (payload.empty()) return;  // padding-only
  if (in->media->kind == media::MediaKind::kVideo) {
    // A browser probes its bandwidth with RTX copies of packets we already have (and a repair can come
    // twice): forwarding them would hand every viewer duplicates, which its SRTP replay check drops.
    if (rtx && stream->nack.is_duplicate(seq)) {
      ++stats_.rtx_duplicates;
      return;
    }
    if (!stream->nack.on_packet(seq, now) && in->media->feedback.nack)
      request_keyframe(in->track, stream->layer);  // too much lost to repair packet by packet
  }
  if (!rtx) stream->stats.on_packet(seq, p->timestamp(), now);
  if (in->track == 0 || !joined_ || (config_.kind == SessionKind::kPublish && !published_)) {
    ++stats_.dropped_before_join;
    return;
  }
  media::MediaPacket mp;
  mp.codec = codec->codec;
  mp.seq = seq;
  mp.timestamp = p->timestamp();
  mp.marker = p->marker();
  mp.arrival = now;
  mp.payload = payload;
  if (in->media->kind == media::MediaKind::kAudio) {
    mp.keyframe = true;
    if (in->media->extensions.audio_level) {
      if (auto level = media::read_audio_level(p->find_extension(in->media->extensions.audio_level)))
        mp.audio_level = static_cast<int8_t>(level->level);
    }
  } else {
    mp.keyframe = media::is_keyframe(mp.codec, payload);
    const auto layers = media::layer_info(mp.codec, payload);
    // A simulcast stream's layer is its place among the rids; within it, SVC layers do not occur.
    mp.spatial_layer = in->media->remote_rids.empty() ? layers.spatial : stream->layer;
    mp.temporal_layer = layers.temporal;
    const auto picture = media::picture_info(mp.codec, payload);
    mp.picture_id = picture.picture_id;
    mp.tl0_pic_idx = picture.tl0_pic_idx;
    mp.layer_sync = picture.layer_sync;
  }
  events_.push(core::tev::RemoteMedia{in->track, mp});
}

WebRtcSession::Outbound* WebRtcSession::outbound_by_ssrc(uint32_t ssrc) {
  for (auto& o : outbound_)
    if (o->ssrc == ssrc) return o.get();
  return nullptr;
}

void WebRtcSession::on_rtcp(media::Micros now, std::span<uint8_t> data) {
  auto len = srtp_->unprotect_rtcp(data, data.size());
  if (!len) {
    ++stats_.srtp_failures;
    return;
  }
  ++stats_.rtcp_in;
  media::RtcpCompoundIterator it(data.first(*len));
  while (auto h = it.next()) {
    if (h->is(media::RtcpType::kSr)) {
      if (auto sr = media::SenderReportView::parse(*h)) {
        for (auto& in : inbound_)
          for (auto& st : in.streams)
            if (st.ssrc == sr->sender_ssrc()) st.stats.on_sender_report(sr->sender_info().ntp_time, now);
        for (size_t i = 0; i < sr->report_count(); ++i)
          on_report_block(now, sr->report(i));
      }
    } else if (h->is(media::RtcpType::kRr)) {
      if (auto rr = media::ReceiverReportView::parse(*h)) {
        for (size_t i = 0; i < rr->report_count(); ++i)
          on_report_block(now, rr->report(i));
      }
    } else if (h->is(media::RtcpType::kRtpfb) && h->fmt() == media::kRtpfbNack) {
      if (auto nack = media::NackView::parse(*h)) {
        if (Outbound* o = outbound_by_ssrc(nack->media_ssrc()))
          nack->for_each_lost([&](uint16_t seq) { on_nack(now, *o, seq); });
      }
    } else if (h->is(media::RtcpType::kRtpfb) && h->fmt() == media::kRtpfbTwcc) {
      if (auto fb = media::TwccFeedbackView::parse(*h); fb && bwe_) {
        ++stats_.twcc_feedback_in;
        bwe_->on_feedback(now, *fb);
      }
    } else if (h->is(media::RtcpType::kPsfb) && h->fmt() == media::kPsfbPli) {
      if (auto pli = media::PliView::parse(*h)) {
        if (Outbound* o = outbound_by_ssrc(pli->media_ssrc)) {
          ++stats_.plis_in;
          events_.push(core::tev::RequestKeyFrame{o->track});
        }
      }
    } else if (h->is(media::RtcpType::kPsfb) && h->fmt() == media::kPsfbFir) {
      if (auto fir = media::FirView::parse(*h)) {
        for (size_t i = 0; i < fir->entry_count(); ++i) {
          if (Outbound* o = outbound_by_ssrc(fir->entry(i).ssrc)) {
            ++stats_.plis_in;
            events_.push(core::tev::RequestKeyFrame{o->track});
          }
        }
      }
    }
  }
  if (it.error() != media::RtcpError::kNone) ++stats_.dropped_malformed;
}

void WebRtcSession::on_report_block(media::Micros now, const media::ReportBlock& rb) {
  Outbound* o = outbound_by_ssrc(rb.ssrc);
  if (!o) return;  // another stream's, or the repair stream's (its jitter says nothing)
  if (o->clock_rate)
    o->jitter = (o->jitter * 7 + static_cast<media::Micros>(rb.jitter) * 1'000'000 / o->clock_rate) / 8;
  if (rb.last_sr != 0) {
    // now - LSR - DLSR, in 1/65536 s, on our own NTP clock (ntp_of): no clock sync with the client needed.
    const uint32_t rtt = media::ntp_compact(ntp_of(now)) - rb.last_sr - rb.delay_since_last_sr;
    if (rtt < 10u * 65536u) {  // otherwise a report about an SR we did not send, or garbage
      const auto sample = static_cast<media::Micros>(static_cast<uint64_t>(rtt) * 1'000'000 / 65536);
      o->rtt = o->rtt ? (*o->rtt * 7 + sample) / 8 : sample;
      // The client's publishing streams share the path: their retries follow the measured round trip
      // rather than the generator's 50 ms guess. (A WHIP publisher gets no stream from us, hence no report
      // block to measure with; it keeps the guess.)
      for (auto& in : inbound_)
        for (auto& st : in.streams)
          st.nack.set_rtt(*o->rtt);
    }
  }
}

void WebRtcSession::on_nack(media::Micros now, Outbound& o, uint16_t seq) {
  ++stats_.nacks_in;
  if (!resend(now, o, seq, false)) return;
  ++stats_.nack_resent;
  // On a lossy link the repair is itself lost now and then, and the receiver asks again only after about a
  // round trip (Chrome assumes 100 ms when it receives only): a visible stall. A second copy makes that rare
  // (p^2 instead of p) for little bandwidth while loss is a few percent.
  if (bwe_ && bwe_->estimator().loss_fraction() > kDuplicateRepairLoss && resend(now, o, seq, false))
    ++stats_.nack_duplicated;
}

size_t WebRtcSession::resend(media::Micros now, Outbound& o, uint16_t seq, bool padding) {
  auto cached = o.cache.find(seq, now, o.repair_window());
  auto to = ice_.send_address();
  if (cached.empty() || !to) return 0;
  auto original = media::RtpPacket::parse(cached);
  bool rtx_unused = false;
  const NegotiatedCodec* codec =
      original ? codec_by_pt(*o.media, original->payload_type(), &rtx_unused) : nullptr;
  const bool use_rtx = o.rtx_ssrc && codec && codec->rtx_pt && original;
  if (padding && !use_rtx) return 0;  // a plain resend would look like a duplicate media packet
  auto slot = out_.prepare();
  if (slot.empty()) {
    ++stats_.out_dropped;
    return 0;
  }
  size_t total = 0;
  if (use_rtx) {
    // RFC 4588: the repair stream carries the original sequence number in front of the payload.
    std::array<media::RtpExtension, 2> ext;
    const size_t n_ext = outbound_extensions(o, ext);
    const size_t hdr = media::write_rtp_header(slot,
                                               {.marker = original->marker(),
                                                .payload_type = *codec->rtx_pt,
                                                .sequence_number = o.rtx_seq++,
                                                .timestamp = original->timestamp(),
                                                .ssrc = o.rtx_ssrc,
                                                .csrcs = {}},
                                               std::span(ext.data(), n_ext));
    const auto payload = original->payload();
    if (hdr == 0 || hdr + 2 + payload.size() + SrtpSession::kMaxTrailer > slot.size()) return 0;
    slot[hdr] = static_cast<uint8_t>(seq >> 8);
    slot[hdr + 1] = static_cast<uint8_t>(seq);
    std::memcpy(slot.data() + hdr + 2, payload.data(), payload.size());
    total = hdr + 2 + payload.size();
  } else {
    if (cached.size() + SrtpSession::kMaxTrailer > slot.size()) return 0;
    std::memcpy(slot.data(), cached.data(), cached.size());
    total = cached.size();
  }
  return send_rtp(now, o, slot, total, *to, padding);
}

size_t WebRtcSession::outbound_extensions(const Outbound& o, std::array<media::RtpExtension, 2>& ext) const {
  static constexpr std::array<uint8_t, 2> kUnstamped{};  // send_rtp() writes the transport-wide number
  size_t n = 0;
  if (o.media->extensions.mid) {
    ext[n++] = {o.media->extensions.mid,
                {reinterpret_cast<const uint8_t*>(o.media->mid.data()), o.media->mid.size()}};
  }
  if (bwe_ && o.media->extensions.transport_cc) ext[n++] = {o.media->extensions.transport_cc, kUnstamped};
  return n;
}

size_t WebRtcSession::send_rtp(media::Micros now, const Outbound& o, std::span<uint8_t> slot, size_t total,
                               const SocketAddress& to, bool padding) {
  if (bwe_ && o.media->extensions.transport_cc) {
    // Every packet on the wire needs its own transport-wide number, a resend included.
    auto value = media::rtp_find_extension_mut(slot.first(total), o.media->extensions.transport_cc);
    if (value.size() == 2)
      media::write_transport_seq(value, bwe_->on_sending(now, total + SrtpSession::kMaxTrailer, padding));
  }
  auto len = srtp_->protect_rtp(slot, total);
  if (!len) return 0;
  out_.commit(*len, to);
  ++stats_.rtp_out;
  stats_.bytes_out += *len;
  return *len;
}

void WebRtcSession::send_media(media::Micros now, const core::eev::LocalMedia& m) {
  if (!srtp_ || m.id == 0 || m.id > outbound_.size()) return;
  Outbound& o = *outbound_[m.id - 1];
  const NegotiatedCodec* codec = nullptr;
  for (const auto& c : o.media->codecs)
    if (c.codec == m.packet.codec) {
      codec = &c;
      break;
    }
  if (!codec) {
    ++stats_.codec_mismatch;
    return;
  }
  auto to = ice_.send_address();
  if (!to) return;
  auto slot = out_.prepare();
  if (slot.empty()) {
    ++stats_.out_dropped;
    return;
  }
  std::array<media::RtpExtension, 2> ext;
  const size_t n_ext = outbound_extensions(o, ext);
  const size_t hdr = media::write_rtp_header(slot,
                                             {.marker = m.packet.marker,
                                              .payload_type = codec->pt,
                                              .sequence_number = m.packet.seq,
                                              .timestamp = m.packet.timestamp,
                                              .ssrc = o.ssrc,
                                              .csrcs = {}},
                                             std::span(ext.data(), n_ext));
  const size_t payload = m.packet.payload.size();
  if (hdr == 0 || hdr + payload + SrtpSession::kMaxTrailer > slot.size()) {
    ++stats_.dropped_malformed;
    return;
  }
  std::memcpy(slot.data() + hdr, m.packet.payload.data(), payload);
  // Spliced streams (a simulcast layer switch, a new source) keep the receiver's VP8 picture ids continuous.
  if (m.packet.codec == media::Codec::kVP8 && (m.packet.picture_id >= 0 || m.packet.tl0_pic_idx >= 0))
    media::vp8_rewrite_descriptor(slot.subspan(hdr, payload), m.packet.picture_id, m.packet.tl0_pic_idx);
  const size_t total = hdr + payload;
  o.cache.store(m.packet.seq, now, slot.first(total));
  if (!send_rtp(now, o, slot, total, *to, false)) return;
  o.sent_any = true;
  o.last_seq = m.packet.seq;
  o.last_timestamp = m.packet.timestamp;
  o.last_sent = now;
  ++o.packets;
  o.octets += static_cast<uint32_t>(payload);
}

void WebRtcSession::queue_rtcp(std::span<uint8_t> slot, size_t len) {
  auto to = ice_.send_address();
  if (!srtp_ || !to || len == 0) return;
  auto protected_len = srtp_->protect_rtcp(slot, len);
  if (!protected_len) return;
  out_.commit(*protected_len, *to);
  ++stats_.rtcp_out;
  stats_.bytes_out += *protected_len;
}

void WebRtcSession::request_keyframe(core::RemoteTrackId id, uint8_t layer) {
  if (!srtp_) return;
  for (auto& in : inbound_) {
    if (in.track != id) continue;
    for (auto& st : in.streams) {
      if (st.ssrc == 0 || (layer != core::kAnySpatialLayer && st.layer != layer)) continue;
      auto slot = out_.prepare();
      if (slot.empty()) {
        ++stats_.out_dropped;
        return;
      }
      size_t n = 0;
      if (in.media->feedback.pli || !in.media->feedback.fir) {
        n = media::write_pli(slot, config_.rtcp_ssrc, st.ssrc);
      } else {
        const media::FirEntry entry{st.ssrc, ++st.fir_seq};
        n = media::write_fir(slot, config_.rtcp_ssrc, std::span(&entry, 1));
      }
      ++stats_.plis_out;
      queue_rtcp(slot, n);
    }
    return;
  }
}

void WebRtcSession::send_reports(media::Micros now) {
  const std::string cname =
      !outbound_.empty() && outbound_.front()->media->send ? outbound_.front()->media->send->cname : "atrium";
  for (auto& o : outbound_) {
    if (!o->sent_any) continue;
    auto slot = out_.prepare();
    if (slot.empty()) return;
    media::SenderInfo info;
    info.ntp_time = ntp_of(now);
    info.rtp_timestamp =
        o->last_timestamp + static_cast<uint32_t>((now - o->last_sent) * o->clock_rate / 1'000'000);
    info.packet_count = o->packets;
    info.octet_count = o->octets;
    size_t n = media::write_sender_report(slot, o->ssrc, info, {});
    if (n) n += media::write_sdes_cname(slot.subspan(n), o->ssrc, cname);
    queue_rtcp(slot, n);
  }
  std::array<media::ReportBlock, media::kMaxReportBlocks> blocks;
  size_t count = 0;
  for (auto& in : inbound_)
    for (auto& st : in.streams)
      if (st.ssrc && st.stats.started() && count < blocks.size())
        blocks[count++] = st.stats.report(st.ssrc, now);
  if (count) {
    auto slot = out_.prepare();
    if (slot.empty()) return;
    size_t n = media::write_receiver_report(slot, config_.rtcp_ssrc, std::span(blocks.data(), count));
    if (n) n += media::write_sdes_cname(slot.subspan(n), config_.rtcp_ssrc, cname);
    queue_rtcp(slot, n);
  }
}

void WebRtcSession::send_twcc(media::Micros) {
  uint32_t media_ssrc = 0;
  for (auto& in : inbound_)
    for (auto& st : in.streams)
      if (st.ssrc) media_ssrc = st.ssrc;
  while (twcc_.has_pending()) {
    auto slot = out_.prepare();
    if (slot.empty()) return;
    const size_t n = twcc_.write_feedback(slot, config_.rtcp_ssrc, media_ssrc);
    if (n == 0) continue;  // everything pending was late; write_feedback consumed it
    ++stats_.twcc_feedback_out;
    queue_rtcp(slot, n);
  }
}

void WebRtcSession::send_nacks(media::Micros now) {
  std::array<uint16_t, 64> lost{};
  for (auto& in : inbound_) {
    for (auto& st : in.streams) {
      if (st.ssrc == 0 || st.nack.missing() == 0) continue;
      const size_t n = st.nack.poll(now, lost);
      if (n == 0) continue;
      auto slot = out_.prepare();
      if (slot.empty()) {
        ++stats_.out_dropped;
        return;
      }
      stats_.nacks_out += n;
      queue_rtcp(slot, media::write_nack(slot, config_.rtcp_ssrc, st.ssrc, std::span(lost.data(), n)));
    }
  }
}

void WebRtcSession::maybe_publish() {
  if (config_.kind != SessionKind::kPublish || published_ || !joined_ || state_ != SessionState::kConnected)
    return;
  published_ = true;
  for (const auto& in : inbound_)
    events_.push(core::tev::Publish{
        in.track, core::TrackInfo{in.name, in.media->kind, {}, static_cast<uint8_t>(in.streams.size())}});
}

void WebRtcSession::on_endpoint_event(media::Micros now, const core::EndpointEvent& event) {
  if (state_ == SessionState::kClosed) return;
  std::visit(core::Overloaded{
                 [&](const core::eev::LocalMedia& m) { send_media(now, m); },
                 [&](const core::eev::RequestKeyFrame& r) { request_keyframe(r.id, r.spatial_layer); },
                 [&](const core::eev::BitrateHint& h) { on_bitrate_hint(now, h); },
                 [&](const core::eev::BandwidthWanted& w) {
                   if (bwe_) bwe_->set_wanted(w.bps);
                 },
                 [&](const core::eev::Joined&) {
                   joined_ = true;
                   maybe_publish();
                 },
                 [&](const core::eev::ErrorEvent& e) {
                   if (!joined_) {
                     join_failed_ = true;
                     join_error_ = e.error.code;
                     close(now, e.error.message);
                   }
                 },
                 [&](const auto&) {},
             },
             event);
  if (selector_) {
    selector_->on_event(event, selector_out_);
    for (auto& e : selector_out_)
      events_.push(std::move(e));
    selector_out_.clear();
  }
}

void WebRtcSession::on_tick(media::Micros now) {
  if (state_ == SessionState::kClosed) return;
  if (state_ != SessionState::kNew) {
    dtls_.on_tick(now);
    flush_dtls();
    if (dtls_.state() == DtlsState::kFailed) {
      close(now, "DTLS failed: " + dtls_.failure_reason());
      return;
    }
  }
  if (state_ != SessionState::kConnected && now - created_ >= config_.connect_timeout) {
    close(now, state_ == SessionState::kNew ? "no ICE connectivity check arrived within 30 s"
                                            : "the DTLS handshake did not finish within 30 s");
    return;
  }
  if (ice_.state(now) == IceState::kFailed) {
    close(now, "consent expired: no ICE check from the client for 30 s");
    return;
  }
  if (state_ != SessionState::kConnected) return;
  if (twcc_ext_id_ && now >= next_twcc_) {
    next_twcc_ = now + config_.twcc_feedback_interval;
    send_twcc(now);
  }
  if (now >= next_report_) {
    next_report_ = now + config_.report_interval;
    send_reports(now);
  }
  send_nacks(now);
  if (remb_sent_ != kNoCap && now >= next_remb_) send_remb(now);
  if (bwe_) {
    bwe_->on_tick(now);
    if (auto bps = bwe_->poll_report(now)) events_.push(core::tev::BandwidthEstimate{*bps});
    if (size_t bytes = bwe_->padding_due(now)) send_padding(now, bytes);
  }
}

void WebRtcSession::on_bitrate_hint(media::Micros now, const core::eev::BitrateHint& h) {
  for (auto& in : inbound_)
    if (in.track == h.id) in.bitrate_hint = h.bitrate_bps;
  const uint64_t cap = publisher_cap();
  // A new cap goes out at once when it is lower, or clearly higher; otherwise with the periodic refresh.
  const bool changed = cap != remb_sent_ && (cap < remb_sent_ || cap > remb_sent_ + remb_sent_ / 10);
  if (changed) send_remb(now);
}

uint64_t WebRtcSession::publisher_cap() const {
  // Only when every video track has subscribers that told what they can take; a track nobody watches yet,
  // or one a subscriber takes without limit, leaves the publisher's own estimate alone.
  uint64_t video = 0;
  size_t audio_tracks = 0;
  bool any_video = false;
  for (const auto& in : inbound_) {
    if (in.track == 0) continue;
    if (in.media->kind == media::MediaKind::kAudio) {
      ++audio_tracks;
      continue;
    }
    if (in.bitrate_hint == 0 || in.bitrate_hint == std::numeric_limits<uint32_t>::max()) return kNoCap;
    any_video = true;
    video += std::max<uint64_t>(in.bitrate_hint, kMinVideoCap);
  }
  if (!any_video) return kNoCap;
  return video + audio_tracks * kAudioAllowance;
}

void WebRtcSession::send_remb(media::Micros now) {
  if (!srtp_ || state_ != SessionState::kConnected) return;
  const uint64_t cap = publisher_cap();
  if (cap == kNoCap && remb_sent_ == kNoCap) return;  // never capped: nothing to lift
  std::array<uint32_t, 16> ssrcs{};
  size_t n = 0;
  for (const auto& in : inbound_)
    for (const auto& st : in.streams)
      if (st.ssrc && n < ssrcs.size()) ssrcs[n++] = st.ssrc;
  if (n == 0) return;
  auto slot = out_.prepare();
  if (slot.empty()) {
    ++stats_.out_dropped;
    return;
  }
  // Lifting a cap is a REMB far above anything a browser sends (a browser keeps the last REMB as a limit).
  const uint64_t value = cap == kNoCap ? kLiftedCap : cap;
  queue_rtcp(slot, media::write_remb(slot, config_.rtcp_ssrc, value, std::span(ssrcs.data(), n)));
  ++stats_.remb_out;
  remb_sent_ = cap;
  next_remb_ = now + kRembRefresh;
}

void WebRtcSession::send_padding(media::Micros now, size_t bytes) {
  // RTX copies of the newest video packets: large (few packets per byte), already in the cache, and thrown
  // away by a receiver that has the original.
  constexpr size_t kMaxPacketsPerCall = 64;
  constexpr uint16_t kMaxBack = 64;
  for (auto& o : outbound_) {
    if (o->media->kind != media::MediaKind::kVideo || !o->rtx_ssrc || !o->sent_any) continue;
    size_t packets = 0;
    size_t misses = 0;
    while (bytes > 0 && packets < kMaxPacketsPerCall && misses < kMaxBack) {
      const uint16_t seq = static_cast<uint16_t>(o->last_seq - o->pad_back);
      o->pad_back = static_cast<uint16_t>((o->pad_back + 1) % kMaxBack);
      const size_t sent = resend(now, *o, seq, true);
      if (!sent) {
        ++misses;
        continue;
      }
      ++packets;
      ++stats_.padding_out;
      bytes = sent >= bytes ? 0 : bytes - sent;
    }
    return;
  }
}

void WebRtcSession::close(media::Micros now, std::string reason) {
  if (state_ == SessionState::kClosed) return;
  if (srtp_) {
    std::array<uint32_t, 16> ssrcs{};
    size_t n = 0;
    for (const auto& o : outbound_)
      if (n < ssrcs.size()) ssrcs[n++] = o->ssrc;
    if (n == 0) ssrcs[n++] = config_.rtcp_ssrc;
    auto slot = out_.prepare();
    if (!slot.empty()) {
      size_t len = media::write_receiver_report(slot, n ? ssrcs[0] : config_.rtcp_ssrc, {});
      if (len) len += media::write_bye(slot.subspan(len), std::span(ssrcs.data(), n), "session closed");
      queue_rtcp(slot, len);
    }
  }
  dtls_.close();
  flush_dtls();
  (void)now;
  state_ = SessionState::kClosed;
  close_reason_ = std::move(reason);
}

}  // namespace atrium::webrtc
