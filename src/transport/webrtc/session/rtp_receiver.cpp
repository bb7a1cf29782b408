#include "transport/webrtc/session/rtp_receiver.h"

#include <algorithm>
#include <array>

#include "media/codec/keyframe.h"
#include "media/rtcp/rtcp_feedback.h"
#include "media/rtp/rtp_extensions.h"
#include "transport/webrtc/rtp/simulcast_layers.h"

namespace atrium::webrtc {

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

RtpReceiver::RtpReceiver(const NegotiatedMedia& m, core::RemoteTrackId track, std::string name)
    : media_(&m), track_(track), name_(std::move(name)) {
  const uint32_t clock = m.codecs.empty() ? 90000 : m.codecs.front().clock_rate;
  if (!m.remote_rids.empty()) {
    const auto layers = simulcast_layer_order(m.remote_rids);
    for (size_t i = 0; i < m.remote_rids.size(); ++i)
      streams_.push_back(Stream{0, 0, layers[i], ReceiveStatistics(clock), 0, NackGenerator()});
    return;
  }
  // One stream, with the SSRCs the SDP announced (the FID group says which one repairs).
  Stream st{0, 0, 0, ReceiveStatistics(clock), 0, NackGenerator()};
  for (uint32_t ssrc : m.remote_ssrcs) {
    const bool is_rtx = std::any_of(m.remote_rtx_pairs.begin(), m.remote_rtx_pairs.end(),
                                    [&](const auto& p) { return p.second == ssrc; });
    if (is_rtx && st.rtx_ssrc == 0) st.rtx_ssrc = ssrc;
    if (!is_rtx && st.ssrc == 0) st.ssrc = ssrc;
  }
  streams_.push_back(std::move(st));
}

bool RtpReceiver::owns(uint32_t ssrc) const {
  return std::any_of(streams_.begin(), streams_.end(),
                     [&](const Stream& s) { return s.ssrc == ssrc || s.rtx_ssrc == ssrc; });
}

bool RtpReceiver::named_by_mid(const media::RtpPacket& p) const {
  if (!media_->extensions.mid) return false;
  auto mid = media::read_sdes_string(p.find_extension(media_->extensions.mid));
  return mid && *mid == media_->mid;
}

RtpReceiver::Stream* RtpReceiver::bind(const media::RtpPacket& p, bool rtx) {
  const uint32_t ssrc = p.ssrc();
  for (auto& st : streams_)
    if (st.ssrc == ssrc || st.rtx_ssrc == ssrc) return &st;
  Stream* stream = &streams_.front();
  if (!media_->remote_rids.empty()) {
    // Simulcast (RFC 8853): the RID (or, on the repair stream, the repaired RID) says which layer. Browsers
    // send it until the SSRC is acknowledged, so the first packets of each stream carry it.
    const auto& ext = media_->extensions;
    const uint8_t id = rtx ? ext.repaired_rid : ext.rid;
    auto rid = id ? media::read_sdes_string(p.find_extension(id)) : std::nullopt;
    if (!rid) return nullptr;
    const auto& rids = media_->remote_rids;
    auto it = std::find(rids.begin(), rids.end(), *rid);
    if (it == rids.end()) return nullptr;
    stream = &streams_[static_cast<size_t>(it - rids.begin())];
  }
  // A new SSRC for a known stream replaces the old one, as when a browser's sender restarts.
  if (rtx)
    stream->rtx_ssrc = ssrc;
  else
    stream->ssrc = ssrc;
  return stream;
}

RtpReceiver::Result RtpReceiver::receive(media::Micros now, const media::RtpPacket& p, media::MediaPacket& mp,
                                         std::optional<uint8_t>& keyframe_layer, WebRtcSessionStats& stats) {
  bool rtx = false;
  const NegotiatedCodec* codec = codec_by_pt(*media_, p.payload_type(), &rtx);
  if (!codec) return Result::kNotOurs;
  Stream* stream = bind(p, rtx);
  if (!stream) return Result::kNotOurs;
  auto payload = p.payload();
  uint16_t seq = p.sequence_number();
  if (rtx) {
    if (payload.size() < 2) return Result::kConsumed;  // padding-only probe
    seq = static_cast<uint16_t>(payload[0] << 8 | payload[1]);
    payload = payload.subspan(2);
  }
  if (payload.empty()) return Result::kConsumed;  // padding-only
  if (media_->kind == media::MediaKind::kVideo) {
    // A browser probes its bandwidth with RTX copies of packets we already have (and a repair can come
    // twice): forwarding them would hand every viewer duplicates, which its SRTP replay check drops.
    if (rtx && stream->nack.is_duplicate(seq)) {
      ++stats.rtx_duplicates;
      return Result::kConsumed;
    }
    // Too much lost to repair packet by packet: a key frame instead.
    if (!stream->nack.on_packet(seq, now) && media_->feedback.nack) keyframe_layer = stream->layer;
  }
  if (!rtx) stream->stats.on_packet(seq, p.timestamp(), now);

  mp.codec = codec->codec;
  mp.seq = seq;
  mp.timestamp = p.timestamp();
  mp.marker = p.marker();
  mp.arrival = now;
  mp.payload = payload;
  if (media_->kind == media::MediaKind::kAudio) {
    mp.keyframe = true;
    if (media_->extensions.audio_level) {
      if (auto level = media::read_audio_level(p.find_extension(media_->extensions.audio_level)))
        mp.audio_level = static_cast<int8_t>(level->level);
    }
    return Result::kMedia;
  }
  mp.keyframe = media::is_keyframe(mp.codec, payload);
  const auto layers = media::layer_info(mp.codec, payload);
  // A simulcast stream's layer is its place among the rids; within it, SVC layers do not occur.
  mp.spatial_layer = media_->remote_rids.empty() ? layers.spatial : stream->layer;
  mp.temporal_layer = layers.temporal;
  const auto picture = media::picture_info(mp.codec, payload);
  mp.picture_id = picture.picture_id;
  mp.tl0_pic_idx = picture.tl0_pic_idx;
  mp.layer_sync = picture.layer_sync;
  return Result::kMedia;
}

void RtpReceiver::on_sender_report(uint32_t ssrc, uint64_t ntp_time, media::Micros now) {
  for (auto& st : streams_)
    if (st.ssrc == ssrc) st.stats.on_sender_report(ntp_time, now);
}

void RtpReceiver::set_rtt(media::Micros rtt) {
  for (auto& st : streams_)
    st.nack.set_rtt(rtt);
}

size_t RtpReceiver::report_blocks(media::Micros now, std::span<media::ReportBlock> out) {
  size_t n = 0;
  for (auto& st : streams_)
    if (st.ssrc && st.stats.started() && n < out.size()) out[n++] = st.stats.report(st.ssrc, now);
  return n;
}

size_t RtpReceiver::ssrcs(std::span<uint32_t> out) const {
  size_t n = 0;
  for (const auto& st : streams_)
    if (st.ssrc && n < out.size()) out[n++] = st.ssrc;
  return n;
}

void RtpReceiver::send_nacks(media::Micros now, SrtpOutput& output, uint32_t rtcp_ssrc,
                             WebRtcSessionStats& stats) {
  std::array<uint16_t, 64> lost{};
  for (auto& st : streams_) {
    if (st.ssrc == 0 || st.nack.missing() == 0) continue;
    const size_t n = st.nack.poll(now, lost);
    if (n == 0) continue;
    const bool sent = output.rtcp([&](std::span<uint8_t> slot) {
      return media::write_nack(slot, rtcp_ssrc, st.ssrc, std::span(lost.data(), n));
    });
    if (sent) stats.nacks_out += n;
  }
}

void RtpReceiver::request_keyframe(uint8_t layer, SrtpOutput& output, uint32_t rtcp_ssrc,
                                   WebRtcSessionStats& stats) {
  for (auto& st : streams_) {
    if (st.ssrc == 0 || (layer != core::kAnySpatialLayer && st.layer != layer)) continue;
    const bool sent = output.rtcp([&](std::span<uint8_t> slot) {
      if (media_->feedback.pli || !media_->feedback.fir) return media::write_pli(slot, rtcp_ssrc, st.ssrc);
      const media::FirEntry entry{st.ssrc, ++st.fir_seq};
      return media::write_fir(slot, rtcp_ssrc, std::span(&entry, 1));
    });
    if (sent) ++stats.plis_out;
  }
}

}  // namespace atrium::webrtc
