// Transport-wide congestion control feedback (draft-holmer-rmcat-transport-wide-cc-extensions-01, RTPFB fmt
// 15).
//
//   base sequence number (16) | packet status count (16)
//   reference time (24, signed, units of 64 ms) | feedback packet count (8)
//   packet chunks (16 bits each) ... receive deltas (8 or 16 bits each) ... padding
//
// Chunks: run length (T=0: 2-bit symbol, 13-bit run) or status vector (T=1; S=0: 14 one-bit symbols,
// S=1: 7 two-bit symbols). Symbols: 0 not received, 1 received with a small delta (uint8, 250 us units),
// 2 received with a large or negative delta (int16, 250 us units), 3 reserved (rejected).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "media/media_packet.h"
#include "media/rtcp/rtcp_packet.h"

namespace atrium::media {

inline constexpr Micros kTwccDeltaUnitUs = 250;
inline constexpr Micros kTwccReferenceUnitUs = 64'000;

struct TwccPacketStatus {
  uint16_t seq = 0;
  bool received = false;
  Micros delta_us = 0;  // received: arrival minus the previous received packet's (the first: minus reference)
  Micros arrival_us = 0;  // received: reference_time_us() plus all deltas so far; not received: 0
};

class TwccIterator;

class TwccFeedbackView {
 public:
  // Checks the fixed fields, that the chunks cover `status count` symbols without a reserved symbol, and that
  // the receive deltas those symbols call for are all present. After this, iterating cannot fail.
  static std::optional<TwccFeedbackView> parse(const RtcpHeader& h);

  uint32_t sender_ssrc() const { return sender_; }
  uint32_t media_ssrc() const { return media_; }
  uint16_t base_seq() const { return base_seq_; }
  uint16_t status_count() const { return status_count_; }
  int32_t reference_time() const { return reference_time_; }  // sign-extended 24 bits, 64 ms units
  Micros reference_time_us() const { return Micros{reference_time_} * kTwccReferenceUnitUs; }
  uint8_t fb_count() const { return fb_count_; }
  size_t received_count() const { return received_count_; }

  TwccIterator packets() const;

 private:
  friend class TwccIterator;
  uint32_t sender_ = 0;
  uint32_t media_ = 0;
  uint16_t base_seq_ = 0;
  uint16_t status_count_ = 0;
  int32_t reference_time_ = 0;
  uint8_t fb_count_ = 0;
  size_t received_count_ = 0;
  std::span<const uint8_t> chunks_;
  std::span<const uint8_t> deltas_;
};

// Yields one TwccPacketStatus per covered sequence number (status_count() in all), in order.
class TwccIterator {
 public:
  explicit TwccIterator(const TwccFeedbackView& v) : v_(v), time_us_(v.reference_time_us()) {}
  std::optional<TwccPacketStatus> next();

 private:
  TwccFeedbackView v_;
  size_t chunk_ = 0;
  size_t in_chunk_ = 0;
  size_t emitted_ = 0;
  size_t delta_pos_ = 0;
  Micros time_us_ = 0;
};

inline TwccIterator TwccFeedbackView::packets() const {
  return TwccIterator(*this);
}

struct TwccReceived {
  uint16_t seq = 0;
  Micros arrival_us = 0;
};

// Builds a feedback packet from received packets sorted by transport sequence number (in wrap-around order,
// strictly increasing, spanning fewer than 65535 numbers). Gaps become "not received". The reference time is
// the first arrival rounded down to 64 ms; arrivals are rounded down to 250 us. Returns 0 when `received` is
// empty or unsorted, two consecutive arrivals are more than ~8 s apart or go backwards by more than that, or
// `out` is too small. The packet is padded to 32 bits with the P bit set, as libwebrtc does.
size_t write_twcc_feedback(std::span<uint8_t> out, uint32_t sender_ssrc, uint32_t media_ssrc,
                           uint8_t fb_count, std::span<const TwccReceived> received);

}  // namespace atrium::media
