#include "media/rtcp/rtcp_feedback.h"

#include "media/rtp/bytes.h"

namespace atrium::media {

std::optional<FeedbackCommon> parse_feedback_common(const RtcpHeader& h) {
  if (!h.is(RtcpType::kRtpfb) && !h.is(RtcpType::kPsfb)) return std::nullopt;
  if (h.body.size() < 8) return std::nullopt;
  return FeedbackCommon{bytes::read32(h.body, 0), bytes::read32(h.body, 4), h.body.subspan(8)};
}

namespace {
bool write_feedback_head(std::span<uint8_t> out, uint8_t fmt, RtcpType type, size_t size, uint32_t sender,
                         uint32_t media) {
  if (out.size() < size || !write_rtcp_header(out, fmt, type, size)) return false;
  bytes::write32(out, 4, sender);
  bytes::write32(out, 8, media);
  return true;
}
}  // namespace

std::optional<NackView> NackView::parse(const RtcpHeader& h) {
  if (!h.is(RtcpType::kRtpfb) || h.fmt() != kRtpfbNack) return std::nullopt;
  auto c = parse_feedback_common(h);
  if (!c || c->fci.empty() || c->fci.size() % 4 != 0) return std::nullopt;
  NackView v;
  v.sender_ = c->sender_ssrc;
  v.media_ = c->media_ssrc;
  v.fci_ = c->fci;
  return v;
}

uint16_t NackView::pid(size_t i) const {
  return i < item_count() ? bytes::read16(fci_, 4 * i) : 0;
}
uint16_t NackView::blp(size_t i) const {
  return i < item_count() ? bytes::read16(fci_, 4 * i + 2) : 0;
}

namespace {
// Walks `lost` grouping into items; calls emit(pid, blp) for each.
template <typename Emit>
void pack_nack(std::span<const uint16_t> lost, Emit&& emit) {
  size_t i = 0;
  while (i < lost.size()) {
    const uint16_t pid = lost[i];
    uint16_t blp = 0;
    size_t j = i + 1;
    for (; j < lost.size(); ++j) {
      const auto d = static_cast<uint16_t>(lost[j] - pid);
      if (d == 0) continue;  // duplicate of the PID
      if (d > 16) break;
      blp = static_cast<uint16_t>(blp | (1u << (d - 1)));
    }
    emit(pid, blp);
    i = j;
  }
}
}  // namespace

size_t nack_item_count(std::span<const uint16_t> lost) {
  size_t n = 0;
  pack_nack(lost, [&](uint16_t, uint16_t) { ++n; });
  return n;
}

size_t write_nack(std::span<uint8_t> out, uint32_t sender_ssrc, uint32_t media_ssrc,
                  std::span<const uint16_t> lost) {
  const size_t items = nack_item_count(lost);
  if (items == 0) return 0;
  const size_t size = 12 + 4 * items;
  if (!write_feedback_head(out, kRtpfbNack, RtcpType::kRtpfb, size, sender_ssrc, media_ssrc)) return 0;
  size_t pos = 12;
  pack_nack(lost, [&](uint16_t pid, uint16_t blp) {
    bytes::write16(out, pos, pid);
    bytes::write16(out, pos + 2, blp);
    pos += 4;
  });
  return size;
}

std::optional<PliView> PliView::parse(const RtcpHeader& h) {
  if (!h.is(RtcpType::kPsfb) || h.fmt() != kPsfbPli) return std::nullopt;
  auto c = parse_feedback_common(h);
  if (!c) return std::nullopt;
  return PliView{c->sender_ssrc, c->media_ssrc};
}

size_t write_pli(std::span<uint8_t> out, uint32_t sender_ssrc, uint32_t media_ssrc) {
  return write_feedback_head(out, kPsfbPli, RtcpType::kPsfb, 12, sender_ssrc, media_ssrc) ? 12 : 0;
}

std::optional<FirView> FirView::parse(const RtcpHeader& h) {
  if (!h.is(RtcpType::kPsfb) || h.fmt() != kPsfbFir) return std::nullopt;
  auto c = parse_feedback_common(h);
  if (!c || c->fci.empty() || c->fci.size() % 8 != 0) return std::nullopt;
  FirView v;
  v.sender_ = c->sender_ssrc;
  v.fci_ = c->fci;
  return v;
}

FirEntry FirView::entry(size_t i) const {
  if (i >= entry_count()) return {};
  return FirEntry{bytes::read32(fci_, 8 * i), fci_[8 * i + 4]};
}

size_t write_fir(std::span<uint8_t> out, uint32_t sender_ssrc, std::span<const FirEntry> entries) {
  if (entries.empty()) return 0;
  const size_t size = 12 + 8 * entries.size();
  // RFC 5104 4.3.1: the media source SSRC field is unused and set to 0.
  if (!write_feedback_head(out, kPsfbFir, RtcpType::kPsfb, size, sender_ssrc, 0)) return 0;
  size_t pos = 12;
  for (const auto& e : entries) {
    bytes::write32(out, pos, e.ssrc);
    out[pos + 4] = e.seq;
    out[pos + 5] = out[pos + 6] = out[pos + 7] = 0;
    pos += 8;
  }
  return size;
}

std::optional<RembView> RembView::parse(const RtcpHeader& h) {
  if (!h.is(RtcpType::kPsfb) || h.fmt() != kPsfbAfb) return std::nullopt;
  auto c = parse_feedback_common(h);
  if (!c || c->fci.size() < 8) return std::nullopt;
  const auto& f = c->fci;
  if (f[0] != 'R' || f[1] != 'E' || f[2] != 'M' || f[3] != 'B') return std::nullopt;
  const size_t n = f[4];
  if (f.size() - 8 < 4 * n) return std::nullopt;
  const unsigned exp = f[5] >> 2;
  const uint64_t mantissa = bytes::read24(f, 5) & 0x3FFFF;
  if (exp > 64 - 18 && (mantissa >> (64 - exp)) != 0) return std::nullopt;  // would not fit 64 bits
  RembView v;
  v.sender_ = c->sender_ssrc;
  v.bitrate_ = exp >= 64 ? 0 : mantissa << exp;
  v.ssrcs_ = f.subspan(8, 4 * n);
  return v;
}

uint32_t RembView::ssrc(size_t i) const {
  return i < ssrc_count() ? bytes::read32(ssrcs_, 4 * i) : 0;
}

size_t write_remb(std::span<uint8_t> out, uint32_t sender_ssrc, uint64_t bitrate_bps,
                  std::span<const uint32_t> ssrcs) {
  if (ssrcs.size() > 255) return 0;
  const size_t size = 20 + 4 * ssrcs.size();
  if (!write_feedback_head(out, kPsfbAfb, RtcpType::kPsfb, size, sender_ssrc, 0)) return 0;
  unsigned exp = 0;
  uint64_t mantissa = bitrate_bps;
  while (mantissa > 0x3FFFF) {
    mantissa >>= 1;
    ++exp;
  }
  out[12] = 'R';
  out[13] = 'E';
  out[14] = 'M';
  out[15] = 'B';
  out[16] = static_cast<uint8_t>(ssrcs.size());
  bytes::write24(out, 17, static_cast<uint32_t>((exp << 18) | mantissa));
  size_t pos = 20;
  for (uint32_t s : ssrcs) {
    bytes::write32(out, pos, s);
    pos += 4;
  }
  return size;
}

}  // namespace atrium::media
