#include "transport/webrtc/session/webrtc_session.h"

#include <algorithm>
#include <array>
#include <cstring>

#include "core/util/overloaded.h"
#include "media/demux.h"
#include "media/rtcp/rtcp_feedback.h"
#include "media/rtcp/rtcp_packet.h"
#include "media/rtcp/rtcp_reports.h"
#include "media/rtp/rtp_extensions.h"
#include "media/rtp/rtp_packet.h"
#include "media/stun/stun_message.h"
#include "media/stun/stun_writer.h"

namespace atrium::webrtc {

namespace {

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
      output_(out_, ice_, stats_),
      created_(now),
      next_report_(now + config_.report_interval),
      next_twcc_(now) {
  std::array<uint32_t, 2> names_used{0, 0};  // per kind, for "video", "video2", ...
  for (const NegotiatedMedia& m : config_.media) {
    if (config_.kind != SessionKind::kSubscribe && receives(m.direction)) {
      // WHIP numbers its tracks by section; the SDK binds them when the client publishes.
      const auto track =
          config_.kind == SessionKind::kPeer ? 0 : static_cast<core::RemoteTrackId>(receivers_.size() + 1);
      const auto k = static_cast<size_t>(m.kind);
      std::string name(media::to_string(m.kind));
      if (++names_used[k] > 1) name += std::to_string(names_used[k]);
      receivers_.emplace_back(m, track, std::move(name));
      if (m.extensions.transport_cc) twcc_ext_id_ = m.extensions.transport_cc;
    }
    if (config_.kind != SessionKind::kPublish && sends(m.direction) && m.send)
      senders_.emplace_back(m, static_cast<core::LocalTrackId>(senders_.size() + 1));
  }

  for (const auto& s : senders_)
    if (s.media().extensions.transport_cc && s.media().feedback.transport_cc && !bwe_) bwe_.emplace();
  if (bwe_) output_.set_bandwidth_controller(&*bwe_);

  core::JoinParams join = config_.join;
  if (config_.kind == SessionKind::kSubscribe) {
    // A viewer needs to know what is published, not who is present.
    join.peers = core::SubscribeMode::kManual;
    join.tracks = core::SubscribeMode::kAuto;
    std::vector<WhepSourceSelector::Want> wants;
    for (const auto& s : senders_)
      wants.push_back({s.track(), s.media().kind});
    selector_.emplace(config_.source, std::move(wants));
  }
  if (config_.join_room) events_.push(core::tev::Join{std::move(join)});
}

std::vector<WebRtcSession::Section> WebRtcSession::sections() const {
  std::vector<Section> out;
  for (const NegotiatedMedia& m : config_.media) {
    const auto layers = static_cast<uint8_t>(std::clamp<size_t>(m.remote_rids.size(), 1, 4));
    Section s{m.mid, m.kind, receives(m.direction), sends(m.direction), 0, 0, layers};
    for (const auto& sender : senders_)
      if (&sender.media() == &m) s.local = sender.track();
    for (const auto& r : receivers_)
      if (&r.media() == &m) s.remote = r.track();
    out.push_back(std::move(s));
  }
  return out;
}

bool WebRtcSession::bind_inbound(std::string_view mid, core::RemoteTrackId id) {
  for (auto& r : receivers_) {
    if (r.media().mid != mid) continue;
    r.set_track(id);
    return true;
  }
  return false;
}

void WebRtcSession::unbind_inbound(core::RemoteTrackId id) {
  for (auto& r : receivers_)
    if (r.track() == id) r.set_track(0);
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
  if (!ice_.on_valid_check(now, from, msg->use_candidate(), msg->priority())) return;
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
    output_.set_srtp(srtp_.get());
    state_ = SessionState::kConnected;
    connected_at_ = now;
    maybe_publish();
    // Anything sent before SRTP was up was lost; start every local track on a key frame.
    for (const auto& s : senders_)
      events_.push(core::tev::RequestKeyFrame{s.track()});
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

RtpReceiver* WebRtcSession::receiver_for(const media::RtpPacket& p) {
  for (auto& r : receivers_)
    if (r.owns(p.ssrc())) return &r;
  // A new SSRC: place it by its MID header extension (RFC 8843), else by payload type.
  for (auto& r : receivers_)
    if (r.named_by_mid(p)) return &r;
  bool rtx = false;
  for (auto& r : receivers_)
    if (codec_by_pt(r.media(), p.payload_type(), &rtx)) return &r;
  return nullptr;
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
  RtpReceiver* r = receiver_for(*p);
  media::MediaPacket mp;
  std::optional<uint8_t> keyframe_layer;
  const auto result = r ? r->receive(now, *p, mp, keyframe_layer, stats_) : RtpReceiver::Result::kNotOurs;
  if (keyframe_layer) r->request_keyframe(*keyframe_layer, output_, config_.rtcp_ssrc, stats_);
  if (result == RtpReceiver::Result::kNotOurs) {
    ++stats_.dropped_unknown;
    return;
  }
  if (result != RtpReceiver::Result::kMedia) return;
  if (r->track() == 0 || !joined_ || (config_.kind == SessionKind::kPublish && !published_)) {
    ++stats_.dropped_before_join;
    return;
  }
  events_.push(core::tev::RemoteMedia{r->track(), mp});
}

RtpSender* WebRtcSession::sender_by_ssrc(uint32_t ssrc) {
  for (auto& s : senders_)
    if (s.ssrc() == ssrc) return &s;
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
        for (auto& r : receivers_)
          r.on_sender_report(sr->sender_ssrc(), sr->sender_info().ntp_time, now);
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
        if (RtpSender* s = sender_by_ssrc(nack->media_ssrc()))
          nack->for_each_lost([&](uint16_t seq) { s->on_nack(now, seq, output_, stats_); });
      }
    } else if (h->is(media::RtcpType::kRtpfb) && h->fmt() == media::kRtpfbTwcc) {
      if (auto fb = media::TwccFeedbackView::parse(*h); fb && bwe_) {
        ++stats_.twcc_feedback_in;
        bwe_->on_feedback(now, *fb);
      }
    } else if (h->is(media::RtcpType::kPsfb) && h->fmt() == media::kPsfbPli) {
      if (auto pli = media::PliView::parse(*h)) {
        if (RtpSender* s = sender_by_ssrc(pli->media_ssrc)) {
          ++stats_.plis_in;
          events_.push(core::tev::RequestKeyFrame{s->track()});
        }
      }
    } else if (h->is(media::RtcpType::kPsfb) && h->fmt() == media::kPsfbFir) {
      if (auto fir = media::FirView::parse(*h)) {
        for (size_t i = 0; i < fir->entry_count(); ++i) {
          if (RtpSender* s = sender_by_ssrc(fir->entry(i).ssrc)) {
            ++stats_.plis_in;
            events_.push(core::tev::RequestKeyFrame{s->track()});
          }
        }
      }
    }
  }
  if (it.error() != media::RtcpError::kNone) ++stats_.dropped_malformed;
}

void WebRtcSession::on_report_block(media::Micros now, const media::ReportBlock& rb) {
  RtpSender* s = sender_by_ssrc(rb.ssrc);
  if (!s) return;  // another stream's, or the repair stream's (its jitter says nothing)
  // The client's publishing streams share the path: their retries follow the measured round trip rather
  // than the generator's 50 ms guess. (A WHIP publisher gets no stream from us, hence no report block to
  // measure with; it keeps the guess.)
  if (auto rtt = s->on_report_block(now, rb))
    for (auto& r : receivers_)
      r.set_rtt(*rtt);
}

void WebRtcSession::send_media(media::Micros now, const core::eev::LocalMedia& m) {
  if (!srtp_ || m.id == 0 || m.id > senders_.size()) return;
  RtpSender& sender = senders_[m.id - 1];
  sender.send(now, m.packet, output_, stats_);
  if (!first_video_sent_ && sender.sent_any() && sender.media().kind == media::MediaKind::kVideo)
    first_video_sent_ = now;
}

void WebRtcSession::request_keyframe(core::RemoteTrackId id, uint8_t layer) {
  for (auto& r : receivers_)
    if (r.track() == id) return r.request_keyframe(layer, output_, config_.rtcp_ssrc, stats_);
}

void WebRtcSession::send_reports(media::Micros now) {
  std::string_view cname = "atrium";
  if (!senders_.empty() && senders_.front().media().send) cname = senders_.front().media().send->cname;
  for (auto& s : senders_)
    s.send_report(now, cname, output_);
  std::array<media::ReportBlock, media::kMaxReportBlocks> blocks;
  size_t count = 0;
  for (auto& r : receivers_)
    count += r.report_blocks(now, std::span(blocks).subspan(count));
  if (count == 0) return;
  output_.rtcp([&](std::span<uint8_t> slot) {
    size_t n = media::write_receiver_report(slot, config_.rtcp_ssrc, std::span(blocks.data(), count));
    if (n) n += media::write_sdes_cname(slot.subspan(n), config_.rtcp_ssrc, cname);
    return n;
  });
}

void WebRtcSession::send_twcc(media::Micros) {
  uint32_t media_ssrc = 0;
  for (const auto& r : receivers_) {
    std::array<uint32_t, 16> ssrcs{};
    if (const size_t n = r.ssrcs(ssrcs)) media_ssrc = ssrcs[n - 1];
  }
  while (twcc_.has_pending()) {
    bool written = false;
    const bool sent = output_.rtcp([&](std::span<uint8_t> slot) {
      written = true;
      // 0 when everything pending was late; write_feedback consumes it either way.
      return twcc_.write_feedback(slot, config_.rtcp_ssrc, media_ssrc);
    });
    if (!written) return;  // no free slot now: the rest goes with the next interval
    if (sent) ++stats_.twcc_feedback_out;
  }
}

void WebRtcSession::on_bitrate_hint(media::Micros now, const core::eev::BitrateHint& h) {
  for (auto& r : receivers_)
    if (r.track() == h.id) r.set_bitrate_hint(h.bitrate_bps);
  remb_.on_hint(now, receivers_, output_, config_.rtcp_ssrc, stats_);
}

void WebRtcSession::maybe_publish() {
  if (config_.kind != SessionKind::kPublish || published_ || !joined_ || state_ != SessionState::kConnected)
    return;
  published_ = true;
  for (const auto& r : receivers_)
    events_.push(core::tev::Publish{r.track(), core::TrackInfo{r.name(), r.media().kind, {}, r.layers()}});
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
  for (auto& r : receivers_)
    r.send_nacks(now, output_, config_.rtcp_ssrc, stats_);
  remb_.on_tick(now, receivers_, output_, config_.rtcp_ssrc, stats_);
  if (bwe_) {
    bwe_->on_tick(now);
    if (auto bps = bwe_->poll_report(now)) events_.push(core::tev::BandwidthEstimate{*bps});
    if (size_t bytes = bwe_->padding_due(now)) {
      // From the first video stream that can: padding only has to add bytes, not spread them.
      auto s = std::find_if(senders_.begin(), senders_.end(), [](const RtpSender& x) { return x.can_pad(); });
      if (s != senders_.end()) s->send_padding(now, bytes, output_, stats_);
    }
  }
}
void WebRtcSession::close(media::Micros now, std::string reason) {
  if (state_ == SessionState::kClosed) return;
  if (srtp_) {
    std::array<uint32_t, 16> ssrcs{};
    size_t n = 0;
    for (const auto& s : senders_)
      if (n < ssrcs.size()) ssrcs[n++] = s.ssrc();
    if (n == 0) ssrcs[n++] = config_.rtcp_ssrc;
    output_.rtcp([&](std::span<uint8_t> slot) {
      size_t len = media::write_receiver_report(slot, ssrcs[0], {});
      if (len) len += media::write_bye(slot.subspan(len), std::span(ssrcs.data(), n), "session closed");
      return len;
    });
  }
  dtls_.close();
  flush_dtls();
  (void)now;
  state_ = SessionState::kClosed;
  close_reason_ = std::move(reason);
}

}  // namespace atrium::webrtc
