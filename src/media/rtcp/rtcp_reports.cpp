#include "media/rtcp/rtcp_reports.h"

#include <algorithm>
#include <cstring>

#include "media/rtp/bytes.h"

namespace atrium::media {

ReportBlock read_report_block(std::span<const uint8_t> b) {
  ReportBlock rb;
  rb.ssrc = bytes::read32(b, 0);
  rb.fraction_lost = b[4];
  uint32_t lost = bytes::read24(b, 5);
  if (lost & 0x800000) lost |= 0xFF000000u;  // sign-extend 24 bits
  rb.cumulative_lost = static_cast<int32_t>(lost);
  rb.extended_highest_seq = bytes::read32(b, 8);
  rb.jitter = bytes::read32(b, 12);
  rb.last_sr = bytes::read32(b, 16);
  rb.delay_since_last_sr = bytes::read32(b, 20);
  return rb;
}

void write_report_block(std::span<uint8_t> out, const ReportBlock& rb) {
  bytes::write32(out, 0, rb.ssrc);
  out[4] = rb.fraction_lost;
  const int32_t lost = std::clamp<int32_t>(rb.cumulative_lost, -0x800000, 0x7FFFFF);
  bytes::write24(out, 5, static_cast<uint32_t>(lost) & 0xFFFFFF);
  bytes::write32(out, 8, rb.extended_highest_seq);
  bytes::write32(out, 12, rb.jitter);
  bytes::write32(out, 16, rb.last_sr);
  bytes::write32(out, 20, rb.delay_since_last_sr);
}

std::optional<SenderReportView> SenderReportView::parse(const RtcpHeader& h) {
  if (!h.is(RtcpType::kSr)) return std::nullopt;
  const size_t need = 24 + kReportBlockSize * h.count;
  if (h.body.size() < need) return std::nullopt;
  SenderReportView v;
  v.ssrc_ = bytes::read32(h.body, 0);
  v.info_.ntp_time = bytes::read64(h.body, 4);
  v.info_.rtp_timestamp = bytes::read32(h.body, 12);
  v.info_.packet_count = bytes::read32(h.body, 16);
  v.info_.octet_count = bytes::read32(h.body, 20);
  v.blocks_ = h.body.subspan(24, kReportBlockSize * h.count);
  return v;
}

ReportBlock SenderReportView::report(size_t i) const {
  if (i >= report_count()) return {};
  return read_report_block(blocks_.subspan(i * kReportBlockSize, kReportBlockSize));
}

std::optional<ReceiverReportView> ReceiverReportView::parse(const RtcpHeader& h) {
  if (!h.is(RtcpType::kRr)) return std::nullopt;
  const size_t need = 4 + kReportBlockSize * h.count;
  if (h.body.size() < need) return std::nullopt;
  ReceiverReportView v;
  v.ssrc_ = bytes::read32(h.body, 0);
  v.blocks_ = h.body.subspan(4, kReportBlockSize * h.count);
  return v;
}

ReportBlock ReceiverReportView::report(size_t i) const {
  if (i >= report_count()) return {};
  return read_report_block(blocks_.subspan(i * kReportBlockSize, kReportBlockSize));
}

std::optional<ByeView> ByeView::parse(const RtcpHeader& h) {
  if (!h.is(RtcpType::kBye)) return std::nullopt;
  const size_t n = 4 * static_cast<size_t>(h.count);
  if (h.body.size() < n) return std::nullopt;
  ByeView v;
  v.ssrcs_ = h.body.first(n);
  if (h.body.size() > n) {
    const size_t len = h.body[n];
    if (len <= h.body.size() - n - 1)
      v.reason_ = std::string_view(reinterpret_cast<const char*>(h.body.data() + n + 1), len);
  }
  return v;
}

uint32_t ByeView::ssrc(size_t i) const {
  return i < ssrc_count() ? bytes::read32(ssrcs_, 4 * i) : 0;
}

size_t write_sender_report(std::span<uint8_t> out, uint32_t ssrc, const SenderInfo& info,
                           std::span<const ReportBlock> reports) {
  if (reports.size() > kMaxReportBlocks) return 0;
  const size_t size = 28 + kReportBlockSize * reports.size();
  if (out.size() < size) return 0;
  write_rtcp_header(out, static_cast<uint8_t>(reports.size()), RtcpType::kSr, size);
  bytes::write32(out, 4, ssrc);
  bytes::write64(out, 8, info.ntp_time);
  bytes::write32(out, 16, info.rtp_timestamp);
  bytes::write32(out, 20, info.packet_count);
  bytes::write32(out, 24, info.octet_count);
  for (size_t i = 0; i < reports.size(); ++i)
    write_report_block(out.subspan(28 + i * kReportBlockSize), reports[i]);
  return size;
}

size_t write_receiver_report(std::span<uint8_t> out, uint32_t ssrc, std::span<const ReportBlock> reports) {
  if (reports.size() > kMaxReportBlocks) return 0;
  const size_t size = 8 + kReportBlockSize * reports.size();
  if (out.size() < size) return 0;
  write_rtcp_header(out, static_cast<uint8_t>(reports.size()), RtcpType::kRr, size);
  bytes::write32(out, 4, ssrc);
  for (size_t i = 0; i < reports.size(); ++i)
    write_report_block(out.subspan(8 + i * kReportBlockSize), reports[i]);
  return size;
}

size_t write_sdes_cname(std::span<uint8_t> out, uint32_t ssrc, std::string_view cname) {
  if (cname.empty() || cname.size() > 255) return 0;
  // header, SSRC, item type + length + text, then at least one NUL ending the item list, padded to 32 bits.
  const size_t size = (4 + 4 + 2 + cname.size() + 1 + 3) / 4 * 4;
  if (out.size() < size) return 0;
  write_rtcp_header(out, 1, RtcpType::kSdes, size);
  bytes::write32(out, 4, ssrc);
  out[8] = 1;  // CNAME
  out[9] = static_cast<uint8_t>(cname.size());
  std::memcpy(&out[10], cname.data(), cname.size());
  std::fill(out.begin() + static_cast<std::ptrdiff_t>(10 + cname.size()),
            out.begin() + static_cast<std::ptrdiff_t>(size), uint8_t{0});
  return size;
}

size_t write_bye(std::span<uint8_t> out, std::span<const uint32_t> ssrcs, std::string_view reason) {
  if (ssrcs.size() > 31 || reason.size() > 255) return 0;
  size_t body = 4 * ssrcs.size();
  if (!reason.empty()) body += 1 + reason.size();
  const size_t size = 4 + (body + 3) / 4 * 4;
  if (out.size() < size) return 0;
  write_rtcp_header(out, static_cast<uint8_t>(ssrcs.size()), RtcpType::kBye, size);
  size_t pos = 4;
  for (uint32_t s : ssrcs) {
    bytes::write32(out, pos, s);
    pos += 4;
  }
  if (!reason.empty()) {
    out[pos++] = static_cast<uint8_t>(reason.size());
    std::memcpy(&out[pos], reason.data(), reason.size());
    pos += reason.size();
  }
  while (pos < size)
    out[pos++] = 0;
  return size;
}

}  // namespace atrium::media
