#include "transport/webrtc/rtp/receive_statistics.h"

#include <algorithm>
#include <cmath>

namespace atrium::webrtc {

void ReceiveStatistics::on_packet(uint16_t seq, uint32_t rtp_timestamp, media::Micros arrival) {
  if (!started_) {
    started_ = true;
    base_seq_ = seq;
    max_seq_ = seq;
  } else {
    const auto delta = static_cast<int16_t>(static_cast<uint16_t>(seq - max_seq_));
    if (delta > 0) {
      if (seq < max_seq_) cycles_ += 65536;
      max_seq_ = seq;
    }
  }
  ++received_;
  // Transit in timestamp units; only differences matter, so the clocks' origins do not.
  const int64_t arrival_ts = arrival * static_cast<int64_t>(clock_rate_) / 1'000'000;
  const int64_t transit = arrival_ts - static_cast<int64_t>(rtp_timestamp);
  if (have_transit_) {
    // The RTP timestamp wraps; a difference over half the range is a wrap, not a jump.
    int64_t d = transit - last_transit_;
    d = static_cast<int32_t>(static_cast<uint32_t>(d));
    jitter_ += (std::abs(static_cast<double>(d)) - jitter_) / 16.0;
  }
  last_transit_ = transit;
  have_transit_ = true;
}

int64_t ReceiveStatistics::lost() const {
  if (!started_) return 0;
  const int64_t expected = static_cast<int64_t>(extended_highest()) - base_seq_ + 1;
  return expected - static_cast<int64_t>(received_);
}

media::ReportBlock ReceiveStatistics::report(uint32_t ssrc, media::Micros now) {
  media::ReportBlock rb;
  rb.ssrc = ssrc;
  if (!started_) return rb;
  const uint64_t expected = static_cast<uint64_t>(extended_highest()) - base_seq_ + 1;
  const int64_t expected_interval = static_cast<int64_t>(expected - expected_prior_);
  const int64_t received_interval = static_cast<int64_t>(received_ - received_prior_);
  const int64_t lost_interval = expected_interval - received_interval;
  expected_prior_ = expected;
  received_prior_ = received_;
  rb.fraction_lost =
      (expected_interval <= 0 || lost_interval <= 0)
          ? 0
          : static_cast<uint8_t>(std::min<int64_t>(255, (lost_interval << 8) / expected_interval));
  rb.cumulative_lost = static_cast<int32_t>(std::clamp<int64_t>(lost(), -0x800000, 0x7FFFFF));
  rb.extended_highest_seq = extended_highest();
  rb.jitter = static_cast<uint32_t>(jitter_);
  if (last_sr_arrival_ != 0) {
    rb.last_sr = last_sr_;
    rb.delay_since_last_sr = static_cast<uint32_t>((now - last_sr_arrival_) * 65536 / 1'000'000);
  }
  return rb;
}

}  // namespace atrium::webrtc
