#include "transport/webrtc/bwe/send_side_bandwidth_estimator.h"

#include <algorithm>
#include <cmath>

namespace atrium::webrtc {

namespace {

constexpr double kSmoothing = 0.9;        // trendline: exponential smoothing of the accumulated delay
constexpr double kTrendGain = 4.0;        // trendline: slope gain
constexpr size_t kMaxDeltasForGain = 60;  // trendline: the slope is scaled by min(deltas seen, this)
constexpr double kThresholdMin = 6.0;
constexpr double kThresholdMax = 600.0;
constexpr double kKUp = 0.0087;
constexpr double kKDown = 0.039;
constexpr double kOveruseTimeMs = 10.0;
constexpr double kMaxThresholdStepMs = 100.0;
constexpr double kAdditivePacketBits = 1200.0 * 8.0;

double micros_to_ms(media::Micros us) {
  return static_cast<double>(us) / 1000.0;
}

// Least-squares slope of y over x; nullopt when x does not vary.
std::optional<double> slope_of(const std::deque<std::pair<double, double>>& pts) {
  double sx = 0, sy = 0;
  for (const auto& [x, y] : pts) {
    sx += x;
    sy += y;
  }
  const double n = static_cast<double>(pts.size());
  const double mx = sx / n, my = sy / n;
  double num = 0, den = 0;
  for (const auto& [x, y] : pts) {
    num += (x - mx) * (y - my);
    den += (x - mx) * (x - mx);
  }
  if (den == 0) return std::nullopt;
  return num / den;
}

}  // namespace

// ---- TrendlineOveruseDetector ----

BandwidthUsage TrendlineOveruseDetector::update(double delay_variation_ms, double send_delta_ms,
                                                media::Micros arrival_us) {
  if (!first_arrival_us_) first_arrival_us_ = arrival_us;
  num_deltas_ = std::min<size_t>(num_deltas_ + 1, 1000);
  accumulated_ += delay_variation_ms;
  smoothed_ = kSmoothing * smoothed_ + (1 - kSmoothing) * accumulated_;
  window_.emplace_back(micros_to_ms(arrival_us - *first_arrival_us_), smoothed_);
  if (window_.size() > kWindow) window_.pop_front();
  if (window_.size() == kWindow) {
    if (auto s = slope_of(window_)) slope_ = *s;
  }
  const double trend = static_cast<double>(std::min(num_deltas_, kMaxDeltasForGain)) * slope_ * kTrendGain;

  if (trend > threshold_) {
    if (time_over_ms_ < 0)
      time_over_ms_ = send_delta_ms / 2;
    else
      time_over_ms_ += send_delta_ms;
    ++overuse_count_;
    if (time_over_ms_ > kOveruseTimeMs && overuse_count_ > 1 && trend >= prev_trend_) {
      time_over_ms_ = 0;
      overuse_count_ = 0;
      state_ = BandwidthUsage::kOverusing;
    }
  } else if (trend < -threshold_) {
    time_over_ms_ = -1;
    overuse_count_ = 0;
    state_ = BandwidthUsage::kUnderusing;
  } else {
    time_over_ms_ = -1;
    overuse_count_ = 0;
    state_ = BandwidthUsage::kNormal;
  }
  prev_trend_ = trend;
  update_threshold(trend, arrival_us);
  return state_;
}

void TrendlineOveruseDetector::update_threshold(double trend, media::Micros now_us) {
  if (!last_threshold_update_us_) last_threshold_update_us_ = now_us;
  const double abs_trend = std::fabs(trend);
  // A spike far above the threshold (a route change, a burst) should not drag the threshold up with it.
  if (abs_trend > threshold_ + 15.0) {
    last_threshold_update_us_ = now_us;
    return;
  }
  const double k = abs_trend < threshold_ ? kKDown : kKUp;
  const double dt_ms =
      std::clamp(micros_to_ms(now_us - *last_threshold_update_us_), 0.0, kMaxThresholdStepMs);
  threshold_ += k * (abs_trend - threshold_) * dt_ms;
  threshold_ = std::clamp(threshold_, kThresholdMin, kThresholdMax);
  last_threshold_update_us_ = now_us;
}

// ---- AimdRateControl ----

AimdRateControl::AimdRateControl(const BandwidthEstimatorConfig& cfg)
    : cfg_(cfg), rate_(static_cast<double>(cfg.start_bps)) {}

void AimdRateControl::set_rate(uint32_t bps) {
  rate_ = std::clamp(static_cast<double>(bps), static_cast<double>(cfg_.min_bps),
                     static_cast<double>(cfg_.max_bps));
}

void AimdRateControl::update(BandwidthUsage usage, std::optional<uint32_t> acked_bps, media::Micros now) {
  switch (usage) {
    case BandwidthUsage::kOverusing:
      state_ = State::kDecrease;
      break;
    case BandwidthUsage::kUnderusing:
      state_ = State::kHold;
      break;
    case BandwidthUsage::kNormal:
      if (state_ == State::kHold || state_ == State::kDecrease) state_ = State::kIncrease;
      break;
  }
  const double dt_s =
      last_update_ ? std::clamp(static_cast<double>(now - *last_update_) / 1e6, 0.0, 1.0) : 0.0;
  last_update_ = now;
  const std::optional<double> acked =
      acked_bps ? std::optional<double>(static_cast<double>(*acked_bps)) : std::nullopt;

  if (state_ == State::kIncrease) {
    // Far above the capacity seen at the last decreases: that capacity is stale, forget it.
    if (acked && avg_max_bps_) {
      const double band = std::max(3 * std::sqrt(var_max_), 0.1 * *avg_max_bps_);
      if (*acked > *avg_max_bps_ + band) {
        avg_max_bps_.reset();
        var_max_ = 0;
      }
    }
    bool near_max = false;
    if (acked && avg_max_bps_) {
      const double band = std::max(3 * std::sqrt(var_max_), 0.1 * *avg_max_bps_);
      near_max = std::fabs(*acked - *avg_max_bps_) <= band;
    }
    if (near_max) {
      // About one packet more per response time.
      rate_ += kAdditivePacketBits * dt_s / (static_cast<double>(cfg_.response_time_us) / 1e6);
    } else {
      const double per_s = avg_max_bps_ ? cfg_.increase_per_s : cfg_.startup_increase_per_s;
      rate_ *= std::pow(1.0 + per_s, dt_s);
    }
    // Never run far ahead of what actually gets through.
    if (acked) rate_ = std::min(rate_, 1.5 * *acked + 10'000.0);
  } else if (state_ == State::kDecrease) {
    if (!last_decrease_ || now - *last_decrease_ >= cfg_.response_time_us) {
      const double base = acked ? *acked : rate_;
      const double target = cfg_.decrease_factor * base;
      if (target < rate_) rate_ = target;
      if (acked) {
        if (!avg_max_bps_) {
          avg_max_bps_ = *acked;
          var_max_ = 0;
        } else {
          const double band = std::max(3 * std::sqrt(var_max_), 0.1 * *avg_max_bps_);
          if (std::fabs(*acked - *avg_max_bps_) > band) {
            avg_max_bps_ = *acked;  // the capacity moved: start over from here
            var_max_ = 0;
          } else {
            const double diff = *acked - *avg_max_bps_;
            *avg_max_bps_ += 0.05 * diff;
            var_max_ = 0.95 * var_max_ + 0.05 * diff * diff;
          }
        }
      }
      last_decrease_ = now;
    }
    state_ = State::kHold;
  }
  rate_ = std::clamp(rate_, static_cast<double>(cfg_.min_bps), static_cast<double>(cfg_.max_bps));
}

// ---- LossBasedControl ----

void LossBasedControl::on_counts(size_t lost, size_t total, media::Micros now) {
  if (!window_start_) window_start_ = now;
  lost_ += lost;
  total_ += total;
  if (total_ < kMinPackets || now - *window_start_ < kMinWindowUs) return;
  const double p = static_cast<double>(lost_) / static_cast<double>(total_);
  const double window_s = static_cast<double>(now - *window_start_) / 1e6;
  last_loss_ = p;
  lost_ = 0;
  total_ = 0;
  window_start_ = now;
  if (p > 0.10) {
    if (!last_decrease_ || now - *last_decrease_ >= kMinDecreaseIntervalUs) {
      rate_ *= 1.0 - 0.5 * p;
      last_decrease_ = now;
    }
  } else if (p < 0.02) {
    // 5 % per 100 ms of feedback: at low packet rates a window spans longer, and the loss-based side must
    // not be what holds a clean link back.
    rate_ *= std::pow(1.05, std::min(window_s, 1.0) / 0.1);
  }
  rate_ = std::clamp(rate_, static_cast<double>(cfg_.min_bps), static_cast<double>(cfg_.max_bps));
}

// ---- SendSideBandwidthEstimator ----

SendSideBandwidthEstimator::SendSideBandwidthEstimator(const BandwidthEstimatorConfig& cfg)
    : cfg_(cfg), aimd_(cfg_), loss_(cfg_) {
  if (cfg_.min_bps == 0) cfg_.min_bps = 1;
  if (cfg_.max_bps < cfg_.min_bps) cfg_.max_bps = cfg_.min_bps;
  cfg_.start_bps = std::clamp(cfg_.start_bps, cfg_.min_bps, cfg_.max_bps);
  aimd_ = AimdRateControl(cfg_);
  loss_ = LossBasedControl(cfg_);
}

void SendSideBandwidthEstimator::on_packet_sent(uint16_t transport_seq, size_t bytes,
                                                media::Micros send_time) {
  if (history_.empty()) history_.resize(kHistory);
  Sent& s = history_[transport_seq % kHistory];
  s.seq = transport_seq;
  s.send_time = send_time;
  s.bytes = static_cast<uint32_t>(std::min<size_t>(bytes, UINT32_MAX));
  s.valid = true;
  s.reported = false;
  last_send_time_ = std::max(last_send_time_, send_time);
}

std::optional<uint32_t> SendSideBandwidthEstimator::acked_bps() const {
  if (acked_.empty()) return std::nullopt;
  const media::Micros span = acked_.back().first - first_acked_arrival_;
  // Until a full window has passed, measure over what has; too short a span says nothing.
  const media::Micros window = std::min(span, kAckedWindowUs);
  if (window < 100'000) return std::nullopt;
  return static_cast<uint32_t>(static_cast<double>(acked_bytes_) * 8.0 * 1e6 / static_cast<double>(window));
}

void SendSideBandwidthEstimator::on_received(const Sent& p, media::Micros arrival) {
  if (first_acked_arrival_ < 0) first_acked_arrival_ = arrival;
  acked_.emplace_back(arrival, p.bytes);
  acked_bytes_ += p.bytes;
  const media::Micros newest = std::max(arrival, acked_.back().first);
  while (!acked_.empty() && acked_.front().first <= newest - kAckedWindowUs) {
    acked_bytes_ -= acked_.front().second;
    acked_.pop_front();
  }

  // Packet groups by send time.
  if (current_ && p.send_time < current_->first_send) return;  // reordered into an older group: skip
  if (!current_) {
    current_ = Group{p.send_time, p.send_time, arrival};
    return;
  }
  if (p.send_time - current_->first_send <= kGroupSpanUs) {
    current_->last_send = std::max(current_->last_send, p.send_time);
    current_->last_arrival = std::max(current_->last_arrival, arrival);
    return;
  }
  // `current_` is complete.
  if (previous_) {
    const media::Micros send_delta = current_->last_send - previous_->last_send;
    const media::Micros arrival_delta = current_->last_arrival - previous_->last_arrival;
    detector_.update(micros_to_ms(arrival_delta - send_delta), micros_to_ms(send_delta),
                     current_->last_arrival);
  }
  previous_ = current_;
  current_ = Group{p.send_time, p.send_time, arrival};
}

SendSideBandwidthEstimator::Sent* SendSideBandwidthEstimator::sent(uint16_t seq) {
  if (history_.empty()) return nullptr;
  Sent& s = history_[seq % kHistory];
  return s.valid && s.seq == seq ? &s : nullptr;
}

void SendSideBandwidthEstimator::on_feedback(media::Micros now, const media::TwccFeedbackView& fb) {
  size_t lost = 0, total = 0;
  auto counts_as_sent = [&](const Sent* s) {
    return s && !s->reported && s->send_time >= last_send_time_ - kMaxPacketAgeUs && s->send_time <= now;
  };
  // Sequence numbers between the previous feedback and this one were never reported: lost.
  if (next_expected_seq_) {
    const auto gap = static_cast<uint16_t>(fb.base_seq() - *next_expected_seq_);
    if (gap > 0 && gap < 1000) {
      for (uint16_t i = 0; i < gap; ++i) {
        Sent* s = sent(static_cast<uint16_t>(*next_expected_seq_ + i));
        if (!counts_as_sent(s)) continue;
        s->reported = true;
        ++lost;
        ++total;
      }
    }
  }
  auto it = fb.packets();
  while (auto st = it.next()) {
    Sent* s = sent(st->seq);
    if (!counts_as_sent(s)) continue;
    s->reported = true;
    ++total;
    if (!st->received) {
      ++lost;
      continue;
    }
    on_received(*s, st->arrival_us);
  }
  const auto end = static_cast<uint16_t>(fb.base_seq() + fb.status_count());
  if (!next_expected_seq_ || static_cast<int16_t>(static_cast<uint16_t>(end - *next_expected_seq_)) > 0)
    next_expected_seq_ = end;

  last_feedback_ = now;
  last_timeout_cut_.reset();
  if (total == 0) return;
  aimd_.update(detector_.state(), acked_bps(), now);
  loss_.on_counts(lost, total, now);
  if (total >= 20 && static_cast<double>(lost) > kOverflowLoss * static_cast<double>(total)) {
    if (auto recent = recent_acked_bps(kRecentWindowUs)) loss_.cap(std::max(*recent, cfg_.min_bps));
  }
}

std::optional<uint32_t> SendSideBandwidthEstimator::recent_acked_bps(media::Micros window) const {
  if (acked_.size() < 5) return std::nullopt;
  const media::Micros newest = acked_.back().first;
  uint64_t bytes = 0;
  media::Micros oldest = newest;
  size_t n = 0;
  for (auto it = acked_.rbegin(); it != acked_.rend() && it->first > newest - window; ++it) {
    bytes += it->second;
    oldest = it->first;
    ++n;
  }
  if (n < 5 || newest - oldest < window / 4) return std::nullopt;
  return static_cast<uint32_t>(static_cast<double>(bytes) * 8.0 * 1e6 / static_cast<double>(newest - oldest));
}

void SendSideBandwidthEstimator::on_tick(media::Micros now) {
  if (!last_feedback_) return;
  const media::Micros since = now - (last_timeout_cut_ ? *last_timeout_cut_ : *last_feedback_);
  if (since < cfg_.feedback_timeout_us) return;
  // Feedback stopped: the path may be gone or badly congested. Halve, once per timeout.
  const uint32_t half = std::max(cfg_.min_bps, estimate_bps() / 2);
  aimd_.set_rate(half);
  loss_.set_rate(std::min(loss_.rate_bps(), half));
  last_timeout_cut_ = now;
}

uint32_t SendSideBandwidthEstimator::estimate_bps() const {
  return std::clamp(std::min(aimd_.rate_bps(), loss_.rate_bps()), cfg_.min_bps, cfg_.max_bps);
}

}  // namespace atrium::webrtc
