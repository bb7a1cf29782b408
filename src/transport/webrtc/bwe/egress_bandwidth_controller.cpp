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
  // Loss is what backs probing off. Rising delay alone only lowers the estimate, and padding follows it down:
  // stopping padding outright there would let the acknowledged rate fall to the media rate, and the next
  // delay-based decrease (a fraction of that rate) would cut far below what the link carries.
  // Loss while probing is already paused was not caused by probing (or is the late report of the loss that
  // paused it): it neither restarts nor lengthens the pause, or a lossy spell right after a link opens up
  // would keep the estimate from finding out.
  if (estimator_.loss_fraction() > kCongestedLoss && !probing_paused(now)) pause_probing(now);
}

bool EgressBandwidthController::probing_paused(media::Micros now) const {
  return fell_ && now - last_fall_ < backoff_;
}

void EgressBandwidthController::pause_probing(media::Micros now) {
  // Probing that fails again right after its pause waits twice as long the next time (a link that is
  // simply thin is not kept overflowing every few seconds); a long quiet starts over.
  if (!fell_ || now - last_fall_ > backoff_ + kBackoffReset)
    backoff_ = cfg_.probe_backoff;
  else if (now - last_fall_ > backoff_)
    backoff_ = std::min(backoff_ * 2, kMaxBackoff);
  fell_ = true;
  last_fall_ = now;
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
  // A probe is a trial: padding that has not raised the estimate a fifth above where it started, and a tenth
  // above the highest estimate an earlier failed trial reached, within kProbeTrial found the link's limit,
  // and pauses like a loss would. (An estimate saws below a thin link's capacity; rising from a trough is not
  // news.)
  const uint32_t e = estimator_.estimate_bps();
  if (e >= wanted_bps_) {
    // Nothing left to find: padding only holds the estimate up, and no trial runs (or fails) meanwhile.
    trial_active_ = false;
    peak_ = 0;
  } else {
    peak_ = std::max(peak_, e);
    const uint32_t bar = std::max(trial_base_ + trial_base_ / 5, ceiling_ + ceiling_ / 10);
    if (!trial_active_ || e >= bar) {
      if (trial_active_) backoff_ = cfg_.probe_backoff;  // it worked: the next failure waits the base time
      trial_active_ = true;
      estimator_.forget_capacity();
      trial_start_ = now;
      trial_base_ = e;
    } else if (now - trial_start_ > kProbeTrial) {
      pause_probing(now);
      return 0;
    }
  }
  // Decay the media rate to now, so a pause in media does not look like a full pipe.
  account_media(now, 0);
  const double target = std::min(static_cast<double>(wanted_bps_), cfg_.pad_to * estimator_.estimate_bps());
  if (media_rate_bps_ >= target) return 0;
  const double dt = static_cast<double>(std::min(since, cfg_.max_padding_burst)) / 1e6;
  return static_cast<size_t>((target - media_rate_bps_) * dt / 8.0);
}

}  // namespace atrium::webrtc
