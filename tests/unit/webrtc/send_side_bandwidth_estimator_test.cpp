// SendSideBandwidthEstimator against a simulated link with a fake clock: a paced sender that follows the
// estimate, a bottleneck queue of capacity C (tail drop past a maximum queueing delay), random loss on the
// receiving side, and a receiver that writes transport-cc feedback every 50 ms with write_twcc_feedback; the
// sender parses it back (parse_rtcp_header + TwccFeedbackView::parse) before handing it to the estimator.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <random>
#include <span>
#include <vector>

#include "media/rtcp/rtcp_packet.h"
#include "media/rtcp/twcc.h"
#include "transport/webrtc/bwe/send_side_bandwidth_estimator.h"

namespace atrium::webrtc {
namespace {

using media::Micros;

constexpr Micros kStepUs = 5'000;
constexpr Micros kFeedbackIntervalUs = 50'000;
constexpr size_t kPacketBytes = 1200;
constexpr size_t kMaxPerFeedback = 200;

class LinkSim {
 public:
  explicit LinkSim(const BandwidthEstimatorConfig& cfg, uint32_t seed = 1) : bwe_(cfg), rng_(seed) {}

  void set_capacity_bps(uint64_t bps) { capacity_bps_ = bps; }  // 0: unlimited
  void set_loss_percent(uint32_t pct) { loss_pct_ = pct; }
  void set_jitter_us(Micros j) { jitter_us_ = j; }  // extra delay 0..j per packet, order kept

  // Advances the clock to `end`, sending, queueing, delivering and feeding back on the way.
  void run_until(Micros end) {
    while (now_ < end) {
      now_ += kStepUs;
      send_step();
      if (now_ % kFeedbackIntervalUs == 0) feedback();
      bwe_.on_tick(now_);
      if (bwe_.usage() == BandwidthUsage::kOverusing) ++overuse_samples_;
      if (std::getenv("BWE_TRACE") && now_ % 250'000 == 0)
        std::printf("t=%.2f est=%u delay=%u loss=%u acked=%u use=%d\n", static_cast<double>(now_) / 1e6,
                    bwe_.estimate_bps(), bwe_.delay_based_bps(), bwe_.loss_based_bps(),
                    bwe_.acked_bps().value_or(0), static_cast<int>(bwe_.usage()));
    }
  }

  // Runs until the estimate satisfies `pred` or `limit` is reached; returns the time it took, or nullopt.
  template <typename Pred>
  std::optional<Micros> run_until_estimate(Pred pred, Micros limit) {
    const Micros start = now_;
    while (now_ < start + limit) {
      run_until(now_ + kStepUs);
      if (pred(bwe_.estimate_bps())) return now_ - start;
    }
    return std::nullopt;
  }

  Micros now() const { return now_; }
  const SendSideBandwidthEstimator& bwe() const { return bwe_; }
  uint64_t overuse_samples() const { return overuse_samples_; }
  uint64_t feedbacks() const { return feedbacks_; }

 private:
  void send_step() {
    budget_bytes_ += static_cast<double>(bwe_.estimate_bps()) * static_cast<double>(kStepUs) / 8e6;
    while (budget_bytes_ > 0) {
      budget_bytes_ -= static_cast<double>(kPacketBytes);
      const uint16_t seq = next_seq_++;
      bwe_.on_packet_sent(seq, kPacketBytes, now_);
      Micros arrival = now_ + kPropagationUs;
      if (capacity_bps_ > 0) {
        const Micros start = std::max(now_, link_free_at_);
        if (start - now_ > kMaxQueueUs) continue;  // tail drop
        link_free_at_ = start + static_cast<Micros>(kPacketBytes * 8 * 1'000'000 / capacity_bps_);
        arrival = link_free_at_ + kPropagationUs;
      }
      if (jitter_us_ > 0) {
        arrival += static_cast<Micros>(rng_() % static_cast<uint32_t>(jitter_us_));
        arrival = std::max(arrival, last_arrival_);
        last_arrival_ = arrival;
      }
      if (rng_() % 100 < loss_pct_) continue;
      in_flight_.push_back({seq, arrival});
    }
  }

  void feedback() {
    // FIFO link: arrivals are in sequence order. Report what has arrived by now.
    size_t n = 0;
    while (n < in_flight_.size() && in_flight_[n].arrival_us <= now_)
      ++n;
    size_t done = 0;
    while (done < n) {
      const size_t take = std::min(kMaxPerFeedback, n - done);
      std::array<uint8_t, 2048> buf{};
      const size_t len =
          media::write_twcc_feedback(buf, 0x1111, 0x2222, fb_count_++,
                                     std::span<const media::TwccReceived>(in_flight_.data() + done, take));
      ASSERT_GT(len, 0u);
      const auto h = media::parse_rtcp_header(std::span<const uint8_t>(buf.data(), len));
      ASSERT_TRUE(h);
      const auto view = media::TwccFeedbackView::parse(*h);
      ASSERT_TRUE(view);
      bwe_.on_feedback(now_, *view);
      ++feedbacks_;
      done += take;
    }
    in_flight_.erase(in_flight_.begin(), in_flight_.begin() + static_cast<std::ptrdiff_t>(n));
  }

  static constexpr Micros kPropagationUs = 20'000;
  static constexpr Micros kMaxQueueUs = 300'000;

  SendSideBandwidthEstimator bwe_;
  std::mt19937 rng_;
  Micros now_ = 1'000'000;
  uint64_t capacity_bps_ = 0;
  uint32_t loss_pct_ = 0;
  Micros jitter_us_ = 0;
  Micros last_arrival_ = 0;
  Micros link_free_at_ = 0;
  double budget_bytes_ = 0;
  uint16_t next_seq_ = 65000;  // wraps within the first seconds
  uint8_t fb_count_ = 0;
  std::vector<media::TwccReceived> in_flight_;
  uint64_t overuse_samples_ = 0;
  uint64_t feedbacks_ = 0;
};

BandwidthEstimatorConfig test_config() {
  BandwidthEstimatorConfig c;
  c.start_bps = 300'000;
  c.min_bps = 50'000;
  c.max_bps = 2'500'000;
  return c;
}

TEST(SendSideBandwidthEstimator, StartsAtTheStartRateAndClampsTheConfig) {
  BandwidthEstimatorConfig c;
  c.start_bps = 10'000'000;
  c.min_bps = 100'000;
  c.max_bps = 1'000'000;
  SendSideBandwidthEstimator bwe(c);
  EXPECT_EQ(bwe.estimate_bps(), 1'000'000u);
  SendSideBandwidthEstimator bwe2(test_config());
  EXPECT_EQ(bwe2.estimate_bps(), 300'000u);
}

TEST(SendSideBandwidthEstimator, RisesToNearMaxOnAnUncappedLink) {
  LinkSim sim(test_config());
  const auto t = sim.run_until_estimate([](uint32_t e) { return e >= 2'250'000; }, 8'000'000);
  ASSERT_TRUE(t) << "estimate " << sim.bwe().estimate_bps();
  std::printf("  uncapped: 300 kbps -> 2.25 Mbps in %.2f s\n", static_cast<double>(*t) / 1e6);
  sim.run_until(sim.now() + 3'000'000);
  EXPECT_GE(sim.bwe().estimate_bps(), 2'400'000u);
  EXPECT_EQ(sim.overuse_samples(), 0u);
  EXPECT_GT(sim.feedbacks(), 100u);
}

TEST(SendSideBandwidthEstimator, StepDownThenUpInCapacity) {
  LinkSim sim(test_config());
  sim.set_capacity_bps(3'000'000);
  sim.run_until(sim.now() + 10'000'000);
  ASSERT_GE(sim.bwe().estimate_bps(), 2'000'000u);

  // Capacity drops to 400 kbps.
  sim.set_capacity_bps(400'000);
  const auto down = sim.run_until_estimate([](uint32_t e) { return e < 500'000; }, 3'000'000);
  ASSERT_TRUE(down) << "estimate " << sim.bwe().estimate_bps();
  std::printf("  3 Mbps -> 400 kbps: estimate below 500 kbps after %.2f s\n",
              static_cast<double>(*down) / 1e6);
  // And stays around the capacity: not above it for long, not collapsed.
  uint32_t lo = UINT32_MAX, hi = 0;
  for (int i = 0; i < 100; ++i) {
    sim.run_until(sim.now() + 100'000);
    lo = std::min(lo, sim.bwe().estimate_bps());
    hi = std::max(hi, sim.bwe().estimate_bps());
  }
  std::printf("  at 400 kbps for 10 s: estimate %u .. %u bps\n", lo, hi);
  EXPECT_GE(lo, 200'000u);
  EXPECT_LE(hi, 520'000u);

  // Capacity back.
  sim.set_capacity_bps(3'000'000);
  const auto up = sim.run_until_estimate([](uint32_t e) { return e >= 2'000'000; }, 15'000'000);
  ASSERT_TRUE(up) << "estimate " << sim.bwe().estimate_bps();
  std::printf("  400 kbps -> 3 Mbps: estimate above 2 Mbps after %.2f s\n", static_cast<double>(*up) / 1e6);
}

TEST(SendSideBandwidthEstimator, HeavyRandomLossPushesTheEstimateDown) {
  LinkSim sim(test_config(), 42);
  sim.run_until(sim.now() + 8'000'000);
  ASSERT_GE(sim.bwe().estimate_bps(), 2'000'000u);
  sim.set_loss_percent(20);
  sim.run_until(sim.now() + 5'000'000);
  std::printf("  20 %% loss for 5 s: estimate %u bps (loss-based %u, delay-based %u), loss %.3f\n",
              sim.bwe().estimate_bps(), sim.bwe().loss_based_bps(), sim.bwe().delay_based_bps(),
              sim.bwe().loss_fraction());
  EXPECT_LT(sim.bwe().estimate_bps(), 1'000'000u);
  EXPECT_LT(sim.bwe().loss_based_bps(), sim.bwe().delay_based_bps());
  EXPECT_GT(sim.bwe().loss_fraction(), 0.05);  // one window of ~20 packets: 20 % give or take
  // Loss gone: back up.
  sim.set_loss_percent(0);
  sim.run_until(sim.now() + 10'000'000);
  EXPECT_GE(sim.bwe().estimate_bps(), 2'000'000u);
}

TEST(SendSideBandwidthEstimator, LightRandomLossDoesNotPushTheEstimateDown) {
  LinkSim sim(test_config(), 7);
  sim.set_loss_percent(1);
  sim.run_until(sim.now() + 10'000'000);
  EXPECT_GE(sim.bwe().estimate_bps(), 2'250'000u);
  EXPECT_LT(sim.bwe().loss_fraction(), 0.1);
}

TEST(SendSideBandwidthEstimator, JitterAloneDoesNotHoldTheEstimateDown) {
  LinkSim sim(test_config(), 3);
  sim.set_jitter_us(10'000);
  sim.run_until(sim.now() + 10'000'000);
  EXPECT_GE(sim.bwe().estimate_bps(), 2'000'000u);
}

TEST(SendSideBandwidthEstimator, HalvesWhenFeedbackStops) {
  LinkSim sim(test_config());
  sim.run_until(sim.now() + 8'000'000);
  SendSideBandwidthEstimator bwe = sim.bwe();  // copy, then stop feeding it
  const uint32_t before = bwe.estimate_bps();
  Micros t = sim.now();
  bwe.on_tick(t + 500'000);
  EXPECT_EQ(bwe.estimate_bps(), before);
  bwe.on_tick(t + 1'000'000);
  EXPECT_EQ(bwe.estimate_bps(), before / 2);
  bwe.on_tick(t + 1'500'000);
  EXPECT_EQ(bwe.estimate_bps(), before / 2);
  bwe.on_tick(t + 2'000'000);
  EXPECT_EQ(bwe.estimate_bps(), before / 4);
}

TEST(SendSideBandwidthEstimator, DetectorFlagsAGrowingQueueAndNotASteadyOne) {
  TrendlineOveruseDetector steady;
  for (int i = 0; i < 100; ++i)
    EXPECT_NE(steady.update((i % 2) ? 0.25 : -0.25, 10, 1'000'000 + i * 10'000), BandwidthUsage::kOverusing);
  TrendlineOveruseDetector growing;
  bool overuse = false;
  for (int i = 0; i < 100 && !overuse; ++i)
    overuse = growing.update(3.0, 10, 1'000'000 + i * 13'000) == BandwidthUsage::kOverusing;
  EXPECT_TRUE(overuse);
}

}  // namespace
}  // namespace atrium::webrtc
