#include "transport/rtmp/h264_packetizer.h"

#include <algorithm>

#include "media/codec/h264.h"
#include "transport/rtmp/flv_tags.h"

namespace atrium::rtmp {

namespace {
constexpr uint8_t kNalAud = 9;
constexpr uint8_t kNalFiller = 12;

// SEI (6) is kept like any other unit.
bool dropped_type(uint8_t type) {
  return type == 0 || type == kNalAud || type == kNalFiller || type >= 24;
}
}  // namespace

H264Packetizer::H264Packetizer(size_t max_payload) : max_payload_(std::max(max_payload, kMinMaxPayload)) {}

void H264Packetizer::set_parameter_sets(const std::vector<std::vector<uint8_t>>& sps,
                                        const std::vector<std::vector<uint8_t>>& pps) {
  // Only real parameter sets: anything else in the record would make packets no receiver can read.
  sps_.clear();
  pps_.clear();
  for (const auto& s : sps)
    if (!s.empty() && (s[0] & 0x1F) == media::kH264NalSps) sps_.push_back(s);
  for (const auto& p : pps)
    if (!p.empty() && (p[0] & 0x1F) == media::kH264NalPps) pps_.push_back(p);
}

void H264Packetizer::begin_packet() {
  packet_start_ = buf_.size();
}

void H264Packetizer::end_packet() {
  slots_.push_back(Slot{packet_start_, buf_.size() - packet_start_});
}

void H264Packetizer::emit_nal(std::span<const uint8_t> nal) {
  if (nal.size() <= max_payload_) {
    begin_packet();
    buf_.insert(buf_.end(), nal.begin(), nal.end());
    end_packet();
    return;
  }
  // FU-A (RFC 6184 5.8): indicator = F|NRI|28, header = S|E|R|type, then the unit without its header byte.
  const uint8_t indicator = static_cast<uint8_t>((nal[0] & 0xE0) | media::kH264NalFuA);
  const uint8_t type = nal[0] & 0x1F;
  const std::span<const uint8_t> body = nal.subspan(1);
  const size_t step = max_payload_ - 2;
  for (size_t pos = 0; pos < body.size(); pos += step) {
    const size_t n = std::min(step, body.size() - pos);
    uint8_t header = type;
    if (pos == 0) header |= 0x80;
    if (pos + n == body.size()) header |= 0x40;
    begin_packet();
    buf_.push_back(indicator);
    buf_.push_back(header);
    buf_.insert(buf_.end(), body.begin() + static_cast<ptrdiff_t>(pos),
                body.begin() + static_cast<ptrdiff_t>(pos + n));
    end_packet();
  }
}

void H264Packetizer::emit_parameter_sets() {
  if (sps_.empty() && pps_.empty()) return;
  size_t stap_size = 1;
  uint8_t nri = 0;
  for (const auto* sets : {&sps_, &pps_}) {
    for (const auto& s : *sets) {
      stap_size += 2 + s.size();
      nri = std::max<uint8_t>(nri, s[0] & 0x60);
    }
  }
  if (stap_size > max_payload_) {
    for (const auto* sets : {&sps_, &pps_})
      for (const auto& s : *sets)
        emit_nal(s);
    return;
  }
  // STAP-A (RFC 6184 5.7.1): F=0, NRI = the highest of its units, type 24; then size (16 bit) + unit each.
  begin_packet();
  buf_.push_back(static_cast<uint8_t>(nri | media::kH264NalStapA));
  for (const auto* sets : {&sps_, &pps_}) {
    for (const auto& s : *sets) {
      buf_.push_back(static_cast<uint8_t>(s.size() >> 8));
      buf_.push_back(static_cast<uint8_t>(s.size()));
      buf_.insert(buf_.end(), s.begin(), s.end());
    }
  }
  end_packet();
}

size_t H264Packetizer::packetize(std::span<const uint8_t> avcc, uint8_t nal_length_size, uint32_t dts_ms) {
  buf_.clear();
  slots_.clear();
  views_.clear();
  keyframe_ = false;
  rtp_timestamp_ = rtp_timestamp_of(dts_ms);
  if (nal_length_size != 1 && nal_length_size != 2 && nal_length_size != 4) return 0;

  // Pass 1: check the lengths, find the IDR, take in-band parameter sets.
  bool any = false, sps_replaced = false, pps_replaced = false;
  {
    AvccNalReader r(avcc, nal_length_size);
    while (auto nal = r.next()) {
      const uint8_t type = (*nal)[0] & 0x1F;
      if (type == media::kH264NalIdr) keyframe_ = true;
      if (type == media::kH264NalSps || type == media::kH264NalPps) {
        auto& sets = type == media::kH264NalSps ? sps_ : pps_;
        bool& replaced = type == media::kH264NalSps ? sps_replaced : pps_replaced;
        if (!replaced) sets.clear();
        replaced = true;
        sets.emplace_back(nal->begin(), nal->end());
      }
      if (!dropped_type(type)) any = true;
    }
    if (r.truncated()) {
      ++units_truncated_;
      keyframe_ = false;
      return 0;
    }
  }
  if (!any) return 0;

  // Pass 2: write the packets.
  if (keyframe_) emit_parameter_sets();
  AvccNalReader r(avcc, nal_length_size);
  while (auto nal = r.next()) {
    const uint8_t type = (*nal)[0] & 0x1F;
    if (dropped_type(type)) {
      ++nals_dropped_;
      continue;
    }
    // Parameter sets: in the STAP-A before an IDR; on their own (once each) in any other access unit.
    if ((type == media::kH264NalSps || type == media::kH264NalPps) && keyframe_) continue;
    emit_nal(*nal);
  }
  views_.reserve(slots_.size());
  for (const Slot& s : slots_)
    views_.push_back(RtpPayloadView{std::span<const uint8_t>(buf_).subspan(s.offset, s.size), false, false});
  if (!views_.empty()) {
    views_.back().marker = true;
    views_.front().keyframe = keyframe_;
  }
  return views_.size();
}

}  // namespace atrium::rtmp
