#include "transport/webrtc/session/rtp_sender.h"

#include <cstring>

#include "media/codec/vp8.h"
#include "media/rtcp/rtcp_packet.h"
#include "media/rtp/rtp_extensions.h"
#include "transport/webrtc/session/rtp_receiver.h"

namespace atrium::webrtc {

namespace {

// The packet cache. Slots bound how many packets it finds (1024: ~1 s of 8 Mbit/s video, ~3 s of 2.5
// Mbit/s); its bytes follow the measured send rate (see send()), starting from a few hundred milliseconds of
// a typical stream and never beyond a repair window of 8 Mbit/s.
constexpr size_t kCacheSlotsVideo = 1024;
constexpr size_t kCacheBytesVideo = 128 * 1024;
constexpr size_t kCacheMaxBytesVideo = 3 * 1024 * 1024;
constexpr size_t kCacheSlotsAudio = 64;
constexpr size_t kCacheBytesAudio = 8 * 1024;
constexpr size_t kCacheMaxBytesAudio = 64 * 1024;
constexpr media::Micros kRateInterval = 1'000'000;

}  // namespace

uint64_t ntp_of(media::Micros now) {
  const uint64_t secs = static_cast<uint64_t>(now / 1'000'000);
  const uint64_t frac = (static_cast<uint64_t>(now % 1'000'000) << 32) / 1'000'000;
  return (secs << 32) | frac;
}

RtpSender::RtpSender(const NegotiatedMedia& m, core::LocalTrackId track)
    : media_(&m),
      track_(track),
      ssrc_(m.send ? m.send->ssrc : 0),
      rtx_ssrc_(m.send ? m.send->rtx_ssrc : 0),
      clock_rate_(m.codecs.empty() ? 90000 : m.codecs.front().clock_rate),
      cache_(m.kind == media::MediaKind::kVideo
                 ? PacketCache(kCacheSlotsVideo, kCacheBytesVideo, kCacheMaxBytesVideo)
                 : PacketCache(kCacheSlotsAudio, kCacheBytesAudio, kCacheMaxBytesAudio)) {}

void RtpSender::size_cache(media::Micros now, size_t bytes) {
  if (rate_start_ < 0) rate_start_ = now;
  rate_bytes_ += bytes;
  const media::Micros elapsed = now - rate_start_;
  if (elapsed < kRateInterval) return;
  // What one repair window of the last interval's rate takes, and a packet more. The cache only grows, so
  // a rate that falls back later (a paused layer, a still picture) keeps the room it had.
  const uint64_t per_second = rate_bytes_ * 1'000'000 / static_cast<uint64_t>(elapsed);
  const uint64_t window = per_second * static_cast<uint64_t>(repair_window()) / 1'000'000;
  cache_.reserve(static_cast<size_t>(window) + PacketCache::kMaxPacket);
  rate_start_ = now;
  rate_bytes_ = 0;
}

size_t RtpSender::extensions(const SrtpOutput& output, std::array<media::RtpExtension, 2>& ext) const {
  static constexpr std::array<uint8_t, 2> kUnstamped{};  // SrtpOutput::send_rtp() writes the number
  size_t n = 0;
  if (media_->extensions.mid) {
    ext[n++] = {media_->extensions.mid,
                {reinterpret_cast<const uint8_t*>(media_->mid.data()), media_->mid.size()}};
  }
  if (const uint8_t id = twcc_id(output)) ext[n++] = {id, kUnstamped};
  return n;
}

void RtpSender::send(media::Micros now, const media::MediaPacket& packet, SrtpOutput& output,
                     WebRtcSessionStats& stats) {
  const NegotiatedCodec* codec = nullptr;
  for (const auto& c : media_->codecs)
    if (c.codec == packet.codec) {
      codec = &c;
      break;
    }
  if (!codec) {
    ++stats.codec_mismatch;
    return;
  }
  auto slot = output.rtp_slot();
  if (slot.empty()) return;
  std::array<media::RtpExtension, 2> ext;
  const size_t n_ext = extensions(output, ext);
  const size_t hdr = media::write_rtp_header(slot,
                                             {.marker = packet.marker,
                                              .payload_type = codec->pt,
                                              .sequence_number = packet.seq,
                                              .timestamp = packet.timestamp,
                                              .ssrc = ssrc_,
                                              .csrcs = {}},
                                             std::span(ext.data(), n_ext));
  const size_t payload = packet.payload.size();
  if (hdr == 0 || hdr + payload + SrtpSession::kMaxTrailer > slot.size()) {
    ++stats.dropped_malformed;
    return;
  }
  std::memcpy(slot.data() + hdr, packet.payload.data(), payload);
  // Spliced streams (a simulcast layer switch, a new source) keep the receiver's VP8 picture ids continuous.
  if (packet.codec == media::Codec::kVP8 && (packet.picture_id >= 0 || packet.tl0_pic_idx >= 0))
    media::vp8_rewrite_descriptor(slot.subspan(hdr, payload), packet.picture_id, packet.tl0_pic_idx);
  const size_t total = hdr + payload;
  size_cache(now, total);
  cache_.store(packet.seq, now, slot.first(total));
  if (!output.send_rtp(now, slot, total, twcc_id(output), false)) return;
  sent_any_ = true;
  last_seq_ = packet.seq;
  last_timestamp_ = packet.timestamp;
  last_sent_ = now;
  ++packets_;
  octets_ += static_cast<uint32_t>(payload);
}

void RtpSender::on_nack(media::Micros now, uint16_t seq, SrtpOutput& output, WebRtcSessionStats& stats) {
  ++stats.nacks_in;
  if (!resend(now, seq, false, output)) return;
  ++stats.nack_resent;
  // On a lossy link the repair is itself lost now and then, and the receiver asks again only after about a
  // round trip (Chrome assumes 100 ms when it receives only): a visible stall. A second copy makes that rare
  // (p^2 instead of p) for little bandwidth while loss is a few percent.
  const auto* bwe = output.bandwidth_controller();
  if (bwe && bwe->estimator().loss_fraction() > kDuplicateRepairLoss && resend(now, seq, false, output))
    ++stats.nack_duplicated;
}

size_t RtpSender::resend(media::Micros now, uint16_t seq, bool padding, SrtpOutput& output) {
  auto cached = cache_.find(seq, now, repair_window());
  if (cached.empty()) return 0;
  auto original = media::RtpPacket::parse(cached);
  bool rtx_unused = false;
  const NegotiatedCodec* codec =
      original ? codec_by_pt(*media_, original->payload_type(), &rtx_unused) : nullptr;
  const bool use_rtx = rtx_ssrc_ && codec && codec->rtx_pt && original;
  if (padding && !use_rtx) return 0;  // a plain resend would look like a duplicate media packet
  auto slot = output.rtp_slot();
  if (slot.empty()) return 0;
  size_t total = 0;
  if (use_rtx) {
    // RFC 4588: the repair stream carries the original sequence number in front of the payload.
    std::array<media::RtpExtension, 2> ext;
    const size_t n_ext = extensions(output, ext);
    const size_t hdr = media::write_rtp_header(slot,
                                               {.marker = original->marker(),
                                                .payload_type = *codec->rtx_pt,
                                                .sequence_number = rtx_seq_++,
                                                .timestamp = original->timestamp(),
                                                .ssrc = rtx_ssrc_,
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
  return output.send_rtp(now, slot, total, twcc_id(output), padding);
}

void RtpSender::send_padding(media::Micros now, size_t bytes, SrtpOutput& output, WebRtcSessionStats& stats) {
  // RTX copies of the newest video packets: large (few packets per byte), already in the cache, and thrown
  // away by a receiver that has the original.
  constexpr size_t kMaxPacketsPerCall = 64;
  constexpr uint16_t kMaxBack = 64;
  size_t packets = 0;
  size_t misses = 0;
  while (bytes > 0 && packets < kMaxPacketsPerCall && misses < kMaxBack) {
    const uint16_t seq = static_cast<uint16_t>(last_seq_ - pad_back_);
    pad_back_ = static_cast<uint16_t>((pad_back_ + 1) % kMaxBack);
    const size_t sent = resend(now, seq, true, output);
    if (!sent) {
      ++misses;
      continue;
    }
    ++packets;
    ++stats.padding_out;
    bytes = sent >= bytes ? 0 : bytes - sent;
  }
}

void RtpSender::send_report(media::Micros now, std::string_view cname, SrtpOutput& output) {
  if (!sent_any_) return;
  output.rtcp([&](std::span<uint8_t> slot) {
    media::SenderInfo info;
    info.ntp_time = ntp_of(now);
    info.rtp_timestamp =
        last_timestamp_ + static_cast<uint32_t>((now - last_sent_) * clock_rate_ / 1'000'000);
    info.packet_count = packets_;
    info.octet_count = octets_;
    size_t n = media::write_sender_report(slot, ssrc_, info, {});
    if (n) n += media::write_sdes_cname(slot.subspan(n), ssrc_, cname);
    return n;
  });
}

std::optional<media::Micros> RtpSender::on_report_block(media::Micros now, const media::ReportBlock& rb) {
  if (clock_rate_)
    jitter_ = (jitter_ * 7 + static_cast<media::Micros>(rb.jitter) * 1'000'000 / clock_rate_) / 8;
  if (rb.last_sr == 0) return std::nullopt;
  // now - LSR - DLSR, in 1/65536 s, on our own NTP clock (ntp_of): no clock sync with the client needed.
  const uint32_t rtt = media::ntp_compact(ntp_of(now)) - rb.last_sr - rb.delay_since_last_sr;
  if (rtt >= 10u * 65536u) return std::nullopt;  // a report about an SR we did not send, or garbage
  const auto sample = static_cast<media::Micros>(static_cast<uint64_t>(rtt) * 1'000'000 / 65536);
  rtt_ = rtt_ ? (*rtt_ * 7 + sample) / 8 : sample;
  return rtt_;
}

}  // namespace atrium::webrtc
