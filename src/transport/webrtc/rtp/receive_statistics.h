// What a receiver reports about one incoming RTP stream (RFC 3550 section 6.4.1 and appendix A.3, A.8):
// extended highest sequence number, cumulative and interval loss, interarrival jitter, and the LSR/DLSR pair
// that lets the sender measure the round-trip time.
#pragma once

#include <cstdint>

#include "media/media_packet.h"
#include "media/rtcp/rtcp_reports.h"

namespace atrium::webrtc {

class ReceiveStatistics {
 public:
  explicit ReceiveStatistics(uint32_t clock_rate = 90000) : clock_rate_(clock_rate) {}

  void on_packet(uint16_t seq, uint32_t rtp_timestamp, media::Micros arrival);
  void on_sender_report(uint64_t ntp_time, media::Micros now) {
    last_sr_ = media::ntp_compact(ntp_time);
    last_sr_arrival_ = now;
  }
  // The block for our next RR; also starts a new interval for fraction_lost.
  media::ReportBlock report(uint32_t ssrc, media::Micros now);

  bool started() const { return started_; }
  uint64_t received() const { return received_; }
  uint32_t extended_highest() const { return cycles_ + max_seq_; }
  int64_t lost() const;

 private:
  uint32_t clock_rate_;
  bool started_ = false;
  uint16_t base_seq_ = 0;
  uint16_t max_seq_ = 0;
  uint32_t cycles_ = 0;  // count of wraps, times 65536
  uint64_t received_ = 0;
  uint64_t expected_prior_ = 0;
  uint64_t received_prior_ = 0;
  int64_t last_transit_ = 0;
  bool have_transit_ = false;
  double jitter_ = 0;  // in timestamp units
  uint32_t last_sr_ = 0;
  media::Micros last_sr_arrival_ = 0;
};

}  // namespace atrium::webrtc
