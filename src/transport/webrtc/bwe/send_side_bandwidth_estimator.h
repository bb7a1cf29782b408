// Send-side bandwidth estimation from transport-wide-cc feedback, in the manner of Google Congestion Control
// (draft-ietf-rmcat-gcc-02), written from the draft's description:
//
//   * Delay-based: received packets are grouped by send time (a group is what was sent within 5 ms). For two
//     consecutive groups the inter-group delay variation is d = (arrival delta) - (send delta). A trendline
//     estimator accumulates d, smooths it and fits a least-squares line over the last groups; the slope,
//     scaled, is compared with an adaptive threshold (gamma, which follows the signal with k_up / k_down) to
//     say overuse, underuse or normal. An AIMD controller turns that into a rate: multiplicative increase far
//     from the last known capacity, additive increase close to it, a decrease to beta times the measured
//     receive rate on overuse, hold on underuse, and never more than 1.5 times the receive rate.
//   * Loss-based: over windows of feedback, loss above 10 % multiplies the rate by (1 - 0.5 p), below 2 %
//     by 1.05, in between holds.
//   * The estimate is the smaller of the two, clamped to [min, max].
//
// Sans-IO: nothing here reads a clock or touches a socket. The caller reports each packet sent with its
// transport-wide sequence number, hands over each parsed feedback, and calls on_tick() now and then (it
// notices feedback that has stopped coming). Not thread-safe; one instance per subscriber transport.
//
// Deviation from the draft, on purpose: until a capacity is known (at start, again once the receive rate has
// risen well above the last capacity seen, and during probing, which calls forget_capacity()) the
// multiplicative increase uses a faster factor (startup_increase_per_s: doubling per second), in place of
// libwebrtc's probe clusters.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <vector>

#include "media/media_packet.h"
#include "media/rtcp/twcc.h"

namespace atrium::webrtc {

struct BandwidthEstimatorConfig {
  uint32_t start_bps = 300'000;
  uint32_t min_bps = 30'000;
  uint32_t max_bps = 2'500'000;
  double increase_per_s = 0.08;         // multiplicative increase when a capacity is known (draft: 8 %/s)
  double startup_increase_per_s = 1.0;  // multiplicative increase while no capacity is known
  double decrease_factor = 0.85;        // beta: rate after overuse = beta * receive rate
  media::Micros response_time_us = 200'000;       // minimum time between two delay-based decreases
  media::Micros feedback_timeout_us = 1'000'000;  // no feedback this long: halve (once per timeout)
};

enum class BandwidthUsage { kNormal, kUnderusing, kOverusing };

// Trendline over inter-group delay variation plus the adaptive-threshold overuse detector.
class TrendlineOveruseDetector {
 public:
  // One inter-group sample: d in ms, the send-time delta of the groups in ms, the later group's arrival.
  BandwidthUsage update(double delay_variation_ms, double send_delta_ms, media::Micros arrival_us);
  BandwidthUsage state() const { return state_; }
  double modified_trend() const { return prev_trend_; }
  double threshold() const { return threshold_; }

 private:
  static constexpr size_t kWindow = 20;
  void update_threshold(double trend, media::Micros now_us);

  size_t num_deltas_ = 0;
  double accumulated_ = 0;
  double smoothed_ = 0;
  std::optional<media::Micros> first_arrival_us_;
  std::deque<std::pair<double, double>> window_;  // (arrival ms since first, smoothed delay ms)
  double slope_ = 0;
  double threshold_ = 12.5;
  std::optional<media::Micros> last_threshold_update_us_;
  double time_over_ms_ = -1;
  int overuse_count_ = 0;
  double prev_trend_ = 0;
  BandwidthUsage state_ = BandwidthUsage::kNormal;
};

// Additive-increase / multiplicative-decrease rate control driven by the detector's signal.
class AimdRateControl {
 public:
  explicit AimdRateControl(const BandwidthEstimatorConfig& cfg);
  // acked_bps: the receive rate measured from feedback, when known.
  void update(BandwidthUsage usage, std::optional<uint32_t> acked_bps, media::Micros now);
  void set_rate(uint32_t bps);
  uint32_t rate_bps() const { return static_cast<uint32_t>(rate_); }
  bool capacity_known() const { return avg_max_bps_.has_value(); }
  void forget_capacity() {
    avg_max_bps_.reset();
    var_max_ = 0;
  }

 private:
  enum class State { kHold, kIncrease, kDecrease };
  BandwidthEstimatorConfig cfg_;
  double rate_;
  State state_ = State::kIncrease;
  std::optional<media::Micros> last_update_;
  std::optional<media::Micros> last_decrease_;
  std::optional<double> avg_max_bps_;
  double var_max_ = 0;
};

// Loss-based controller over windows of at least kMinPackets packets and kMinWindowUs.
class LossBasedControl {
 public:
  explicit LossBasedControl(const BandwidthEstimatorConfig& cfg) : cfg_(cfg), rate_(cfg.start_bps) {}
  void on_counts(size_t lost, size_t total, media::Micros now);
  void set_rate(uint32_t bps) { rate_ = bps; }
  void cap(uint32_t bps) { rate_ = std::min(rate_, static_cast<double>(bps)); }
  uint32_t rate_bps() const { return static_cast<uint32_t>(rate_); }
  double last_loss_fraction() const { return last_loss_; }

 private:
  static constexpr size_t kMinPackets = 20;
  static constexpr media::Micros kMinWindowUs = 200'000;
  static constexpr media::Micros kMinDecreaseIntervalUs = 300'000;
  BandwidthEstimatorConfig cfg_;
  double rate_;
  size_t lost_ = 0;
  size_t total_ = 0;
  std::optional<media::Micros> window_start_;
  std::optional<media::Micros> last_decrease_;
  double last_loss_ = 0;
};

class SendSideBandwidthEstimator {
 public:
  explicit SendSideBandwidthEstimator(const BandwidthEstimatorConfig& cfg = {});

  void on_packet_sent(uint16_t transport_seq, size_t bytes, media::Micros send_time);
  void on_feedback(media::Micros now, const media::TwccFeedbackView& fb);
  void on_tick(media::Micros now);

  uint32_t estimate_bps() const;
  // A probe is starting: grow multiplicatively again rather than creep up on the capacity last seen.
  void forget_capacity() { aimd_.forget_capacity(); }

  // For logs, stats and tests.
  uint32_t delay_based_bps() const { return aimd_.rate_bps(); }
  uint32_t loss_based_bps() const { return loss_.rate_bps(); }
  std::optional<uint32_t> acked_bps() const;
  // The receive rate over the last `window` of arrivals only (nullopt: too few arrivals to say).
  std::optional<uint32_t> recent_acked_bps(media::Micros window) const;
  BandwidthUsage usage() const { return detector_.state(); }
  double loss_fraction() const { return loss_.last_loss_fraction(); }
  const BandwidthEstimatorConfig& config() const { return cfg_; }

 private:
  struct Sent {
    media::Micros send_time = 0;
    uint32_t bytes = 0;
    uint16_t seq = 0;
    bool valid = false;
    bool reported = false;  // a feedback has said received or lost
  };
  struct Group {
    media::Micros first_send = 0;
    media::Micros last_send = 0;
    media::Micros last_arrival = 0;
  };
  static constexpr media::Micros kGroupSpanUs = 5'000;
  static constexpr media::Micros kAckedWindowUs = 500'000;
  static constexpr media::Micros kMaxPacketAgeUs = 10'000'000;
  // A feedback that reports more than this fraction lost says the link is overflowing now: what still
  // arrives (over kRecentWindowUs) is about what it carries, and waiting for loss windows to average that
  // out would keep it overflowing for seconds (a receiver's picture freezes meanwhile).
  static constexpr double kOverflowLoss = 0.2;
  static constexpr media::Micros kRecentWindowUs = 200'000;

  void on_received(const Sent& p, media::Micros arrival);
  // The record of transport sequence number `seq`, null when it was never sent or was overwritten since.
  Sent* sent(uint16_t seq);
  // Packets sent and not yet reported are looked up in a ring of this many (by seq modulo it): feedback
  // comes within a few hundred ms, by when even 8 Mbit/s (~700 packets/s) has sent a few hundred; 2048
  // is ~3 s of that. Allocated by the first send, so a session that never sends media costs nothing here.
  static constexpr size_t kHistory = 2048;

  BandwidthEstimatorConfig cfg_;
  std::vector<Sent> history_;  // kHistory records, by transport sequence number modulo kHistory
  media::Micros last_send_time_ = 0;
  std::optional<uint16_t> next_expected_seq_;  // one past the last sequence number a feedback covered
  std::optional<Group> current_;
  std::optional<Group> previous_;
  std::deque<std::pair<media::Micros, uint32_t>> acked_;  // (arrival, bytes)
  uint64_t acked_bytes_ = 0;
  media::Micros first_acked_arrival_ = -1;
  TrendlineOveruseDetector detector_;
  AimdRateControl aimd_;
  LossBasedControl loss_;
  std::optional<media::Micros> last_feedback_;
  std::optional<media::Micros> last_timeout_cut_;
};

}  // namespace atrium::webrtc
