// The sending side of one subscriber transport's congestion control: numbers every outgoing RTP packet with
// a transport-wide sequence number, feeds the receiver's transport-cc feedback to the estimator, says when
// the core should hear a new estimate, and how much probing traffic to send.
//
// Probing: a subscriber forwarded a low layer sends little, and an estimator only learns what the link can
// carry from what was sent (the GCC rate never goes above 1.5 times the acknowledged rate). So while the
// client could use more than the estimate (set_wanted) the session fills the gap between what media sent and
// the estimate with padding (RTX copies of recent packets, which the receiver discards).
//
// Padding runs as trials. During a trial the estimator forgets the capacity it last saw, so the estimate
// climbs multiplicatively (doubling per second) rather than creeping up additively on an old capacity: a
// link that has opened up is found within seconds. A trial succeeds when the estimate rises a fifth above
// where the trial started and a tenth above where the last failed trial peaked; then the next trial starts
// from there. It fails on loss over 10 %, or when after 5 s it has not made a new high for a second; padding
// then pauses for `probe_pause` (4 s), so that a thin link spends most of its time on media. Once the
// estimate reaches what the client wants, padding only holds it there and no trial runs.
//
// Measured on a simulated 400 kbit/s link (tests/unit/webrtc/egress_bandwidth_controller_test.cpp): padding
// averages about 120 kbit/s there with nothing lost; when the link opens up the estimate reaches 1.8 Mbit/s
// within 3-5 s. An earlier version doubled the pause after each failure (up to 32 s) and climbed additively
// during trials: it never got back up after a long thin spell.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

#include "media/media_packet.h"
#include "media/rtcp/twcc.h"
#include "transport/webrtc/bwe/send_side_bandwidth_estimator.h"

namespace atrium::webrtc {

struct EgressBandwidthConfig {
  BandwidthEstimatorConfig estimator{.start_bps = 600'000, .max_bps = 20'000'000};
  double report_change = 0.05;                // tell the core when the estimate moved this much...
  media::Micros report_interval = 1'000'000;  // ... or this long after the last report
  media::Micros rate_window = 500'000;        // for the media send rate that padding tops up
  media::Micros probe_pause = 4'000'000;      // no padding this long after a failed trial
  double pad_to = 1.0;                        // pad up to this fraction of the estimate
  media::Micros max_padding_burst = 40'000;   // at most this much padding time is owed at once
};

class EgressBandwidthController {
 public:
  explicit EgressBandwidthController(const EgressBandwidthConfig& cfg = {});

  // Takes the next transport-wide sequence number for a packet of `bytes` (after SRTP) sent now.
  uint16_t on_sending(media::Micros now, size_t bytes, bool padding);
  void on_feedback(media::Micros now, const media::TwccFeedbackView& fb);
  void on_tick(media::Micros now);

  // The estimate to give the core now, if it is due.
  std::optional<uint64_t> poll_report(media::Micros now);
  // The most the client could use (the sum of its tracks' best layers); 0 = unknown, no probing.
  void set_wanted(uint64_t bps) { wanted_bps_ = bps; }
  // Bytes of padding to send now (0 when none is due). Call after the media of this round was sent.
  size_t padding_due(media::Micros now);

  uint32_t estimate_bps() const { return estimator_.estimate_bps(); }
  // Probing stopped after loss or a failed trial, and does not start again yet.
  bool probing_paused(media::Micros now) const;
  uint64_t media_rate_bps() const { return static_cast<uint64_t>(media_rate_bps_); }
  const SendSideBandwidthEstimator& estimator() const { return estimator_; }

 private:
  static constexpr double kCongestedLoss = 0.1;              // where the loss-based controller starts cutting
  static constexpr media::Micros kProbeTrial = 5'000'000;    // a trial may fail after this long...
  static constexpr media::Micros kProbeStalled = 1'000'000;  // ... without a new high for this long
  void pause_probing(media::Micros now);
  void account_media(media::Micros now, size_t bytes);

  EgressBandwidthConfig cfg_;
  SendSideBandwidthEstimator estimator_;
  uint16_t next_seq_ = 1;
  // The media send rate (padding not counted), exponentially averaged over rate_window.
  double media_rate_bps_ = 0;
  std::optional<media::Micros> last_rate_update_;
  std::optional<media::Micros> last_padding_;
  uint64_t wanted_bps_ = 0;
  std::optional<media::Micros> paused_at_;  // the last failed trial
  bool trial_active_ = false;
  media::Micros trial_start_ = 0;
  uint32_t trial_base_ = 0;
  uint32_t peak_ = 0;          // the highest estimate in the current trial...
  media::Micros peak_at_ = 0;  // ... reached then
  uint32_t ceiling_ = 0;       // where the last failed trial got to
  std::optional<uint64_t> reported_;
  media::Micros last_report_ = 0;
};

}  // namespace atrium::webrtc
