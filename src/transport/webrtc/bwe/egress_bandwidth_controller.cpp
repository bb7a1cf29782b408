#include "transport/webrtc/bwe/egress_bandwidth_controller.h"

#include <algorithm>
#include <cmath>

namespace atrium::webrtc {

EgressBandwidthController::EgressBandwidthController(const EgressBandwidthConfig& cfg)
    : cfg_(cfg), estimator_(cfg.estimator) {}

void EgressBandwidthController::account_media(media::Micros now, size_t bytes) {
  const double window = static_cast<double>(cfg_.rate_window);
  if (last_rate_update_ && now > *last_rate_update_)
    media_rate_bps_ *= std::exp(-static_cast<double>(now - *last_rate_update_) / window);
  if (!last_rate_update_ || now > *last_rate_update_) last_rate_update_ = now;
  media_rate_bps_ += static_cast<double>(bytes) * 8.0 * 1e6 / window;
}

uint16_t EgressBandwidthController::on_sending(media::Micros now, size_t bytes, bool padding) {
  const uint16_t seq = next_seq_++;
  estimator_.on_packet_sent(seq, bytes, now);
  if (!padding) account_media(now, bytes);
  return seq;
}

void EgressBandwidthController::on_feedback(media::Micros now, const media::TwccFeedbackView& fb) {
  estimator_.on_feedback(now, fb);
  on_tick(now);
}

void EgressBandwidthController::on_tick(media::Micros now) {
  estimator_.on_tick(now);
  // Loss ends a trial. Rising delay alone only lowers the estimate, and padding follows it down: stopping
  // padding outright there would let the acknowledged rate fall to the media rate, and the next delay-based
  // decrease (a fraction of that rate) would cut far below what the link carries. Loss while probing is
  // already paused was not caused by probing (or is the late report of the loss that paused it): it does not
  // start the pause over, or a lossy moment just as a link opens up would keep the estimate from finding out.
  if (estimator_.loss_fraction() > kCongestedLoss && !probing_paused(now)) pause_probing(now);
}

bool EgressBandwidthController::probing_paused(media::Micros now) const {
  return paused_at_ && now - *paused_at_ < cfg_.probe_pause;
}

void EgressBandwidthController::pause_probing(media::Micros now) {
  paused_at_ = now;
  trial_active_ = false;
  ceiling_ = std::max(peak_, estimator_.estimate_bps());
  peak_ = 0;
}

std::optional<uint64_t> EgressBandwidthController::poll_report(media::Micros now) {
  const uint64_t e = estimator_.estimate_bps();
  const bool due = !reported_ || now - last_report_ >= cfg_.report_interval ||
                   std::fabs(static_cast<double>(e) - static_cast<double>(*reported_)) >
                       cfg_.report_change * static_cast<double>(*reported_);
  if (!due) return std::nullopt;
  reported_ = e;
  last_report_ = now;
  return e;
}

size_t EgressBandwidthController::padding_due(media::Micros now) {
  const media::Micros since = last_padding_ ? now - *last_padding_ : 0;
  last_padding_ = now;
  if (wanted_bps_ == 0 || since <= 0) return 0;
  if (probing_paused(now)) return 0;
  const uint32_t e = estimator_.estimate_bps();
  if (e >= wanted_bps_) {
    // Nothing left to find: padding only holds the estimate up, and no trial runs (or fails) meanwhile.
    trial_active_ = false;
    peak_ = 0;
  } else {
    if (e > peak_) {
      peak_ = e;
      peak_at_ = now;
    }
    const uint32_t bar = std::max(trial_base_ + trial_base_ / 5, ceiling_ + ceiling_ / 10);
    // (The bar includes the last failed trial's peak: an estimate saws below a thin link's capacity, and
    // rising from a trough is not news.)
    if (!trial_active_ || e >= bar) {
      trial_active_ = true;
      trial_start_ = now;
      trial_base_ = e;
    } else if (now - trial_start_ > kProbeTrial && now - peak_at_ > kProbeStalled) {
      pause_probing(now);
      return 0;
    }
    // A decrease on the way re-learns a capacity; the climb goes on multiplicatively all the same.
    estimator_.forget_capacity();
  }
  // Decay the media rate to now, so a pause in media does not look like a full pipe.
  account_media(now, 0);
  const double target = std::min(static_cast<double>(wanted_bps_), cfg_.pad_to * estimator_.estimate_bps());
  if (media_rate_bps_ >= target) return 0;
  const double dt = static_cast<double>(std::min(since, cfg_.max_padding_burst)) / 1e6;
  return static_cast<size_t>((target - media_rate_bps_) * dt / 8.0);
}

}  // namespace atrium::webrtc
