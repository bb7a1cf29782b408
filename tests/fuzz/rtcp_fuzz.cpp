// Feeds arbitrary bytes to the RTCP compound iterator and every view, decoding TWCC feedback entirely, then
// checks writer/parser agreement for what was decoded.
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "media/rtcp/rtcp_feedback.h"
#include "media/rtcp/rtcp_packet.h"
#include "media/rtcp/rtcp_reports.h"
#include "media/rtcp/twcc.h"

using namespace atrium::media;

namespace {

volatile uint64_t g_sink = 0;
void sink(uint64_t v) {
  g_sink = g_sink + v;
}

void twcc(const RtcpHeader& h) {
  auto v = TwccFeedbackView::parse(h);
  if (!v) return;
  sink(v->sender_ssrc() + v->media_ssrc() + v->fb_count() + static_cast<uint64_t>(v->reference_time_us()));
  std::vector<TwccReceived> rx;
  size_t count = 0;
  size_t received = 0;
  auto it = v->packets();
  while (auto s = it.next()) {
    if (s->seq != static_cast<uint16_t>(v->base_seq() + count)) __builtin_trap();
    ++count;
    if (s->received) {
      ++received;
      rx.push_back({s->seq, s->arrival_us});
    }
  }
  if (count != v->status_count() || received != v->received_count()) __builtin_trap();

  // Build feedback from the decoded arrivals; if it encodes, decoding gives the same arrivals back (rounded
  // to 250 us, which they already are relative to the reference).
  if (rx.empty() || static_cast<uint16_t>(rx.back().seq - rx.front().seq) >= 0xFFFF) return;
  std::vector<uint8_t> out(16 + 8 + 2 * 65536 + 2 * rx.size() + 4);
  const size_t n = write_twcc_feedback(out, 1, 2, 3, rx);
  if (n == 0) return;  // e.g. a delta that does not fit 16 bits once losses at the edges are dropped
  auto h2 = parse_rtcp_header(std::span(out).first(n));
  if (!h2) __builtin_trap();
  auto v2 = TwccFeedbackView::parse(*h2);
  if (!v2 || v2->received_count() != rx.size()) __builtin_trap();
  auto it2 = v2->packets();
  size_t k = 0;
  while (auto s = it2.next()) {
    if (!s->received) continue;
    if (s->seq != rx[k].seq) __builtin_trap();
    // Arrival times agree modulo the 24-bit reference wrap.
    const Micros d = s->arrival_us - rx[k].arrival_us;
    if (d % (Micros{1 << 24} * kTwccReferenceUnitUs) != 0) __builtin_trap();
    ++k;
  }
  if (k != rx.size()) __builtin_trap();
}

void one(const RtcpHeader& h) {
  sink(h.count + h.type + h.body.size());
  if (auto sr = SenderReportView::parse(h)) {
    sink(sr->sender_ssrc() + sr->sender_info().ntp_time);
    std::array<ReportBlock, kMaxReportBlocks> rbs{};
    for (size_t i = 0; i < sr->report_count(); ++i)
      rbs[i] = sr->report(i);
    std::array<uint8_t, 1024> out{};
    const size_t n = write_sender_report(out, sr->sender_ssrc(), sr->sender_info(),
                                         std::span(rbs).first(sr->report_count()));
    auto back = SenderReportView::parse(*parse_rtcp_header(std::span(out).first(n)));
    if (!back || back->report_count() != sr->report_count()) __builtin_trap();
    for (size_t i = 0; i < sr->report_count(); ++i) {
      if (!(back->report(i) == rbs[i])) __builtin_trap();
    }
  }
  if (auto rr = ReceiverReportView::parse(h)) {
    for (size_t i = 0; i < rr->report_count(); ++i)
      sink(rr->report(i).jitter);
  }
  if (auto bye = ByeView::parse(h)) {
    for (size_t i = 0; i < bye->ssrc_count(); ++i)
      sink(bye->ssrc(i));
    sink(bye->reason().size());
  }
  if (auto nack = NackView::parse(h)) {
    std::vector<uint16_t> lost;
    nack->for_each_lost([&](uint16_t s) { lost.push_back(s); });
    std::vector<uint8_t> out(12 + 4 * lost.size());
    const size_t n = write_nack(out, 1, 2, lost);
    auto back = NackView::parse(*parse_rtcp_header(std::span(out).first(n)));
    if (!back) __builtin_trap();
    std::vector<uint16_t> lost2;
    back->for_each_lost([&](uint16_t s) { lost2.push_back(s); });
    // Every lost number survives (duplicates may collapse).
    for (uint16_t s : lost) {
      if (std::find(lost2.begin(), lost2.end(), s) == lost2.end()) __builtin_trap();
    }
  }
  if (auto pli = PliView::parse(h)) sink(pli->media_ssrc);
  if (auto fir = FirView::parse(h)) {
    for (size_t i = 0; i < fir->entry_count(); ++i)
      sink(fir->entry(i).seq);
  }
  if (auto remb = RembView::parse(h)) {
    sink(remb->bitrate_bps());
    for (size_t i = 0; i < remb->ssrc_count(); ++i)
      sink(remb->ssrc(i));
  }
  if (auto fb = parse_feedback_common(h)) sink(fb->fci.size());
  twcc(h);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::span<const uint8_t> in(data, size);
  RtcpCompoundIterator it(in);
  size_t consumed = 0;
  while (auto h = it.next()) {
    if (h->packet.data() != data + consumed || h->body.size() + 4 > h->packet.size()) __builtin_trap();
    consumed += h->packet.size();
    one(*h);
  }
  if (it.error() == RtcpError::kNone && consumed != size) __builtin_trap();
  sink(rtcp_compound_is_valid(in));
  return 0;
}
