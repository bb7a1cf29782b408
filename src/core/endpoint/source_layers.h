// What a local track's source sends, per (spatial, temporal) layer: which spatial layers are arriving, the
// highest temporal layer seen on each, and the bitrates the allocator decides with. Fed with every packet of
// the source, forwarded or not; reset when the track follows another source (its layers are not the old
// one's).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "core/bitrate/bitrate_allocator.h"
#include "media/media_packet.h"

namespace atrium::core {

// Bytes per (spatial, temporal) layer over the last second: a ring of short buckets, so adding a packet is an
// index and an add.
class LayerMeter {
 public:
  static constexpr int kBuckets = 5;
  static constexpr media::Micros kBucket = 200'000;

  void add(media::Micros now, uint8_t spatial, uint8_t temporal, size_t bytes) {
    if (epoch_ < 0 || now >= bucket_end_) advance(now);
    bytes_[static_cast<size_t>(epoch_ % kBuckets)][spatial][temporal] += static_cast<uint32_t>(bytes);
  }
  // Bits per second of one layer over the completed buckets (the current one is still filling).
  uint32_t bps(media::Micros now, uint8_t spatial, uint8_t temporal);

 private:
  void advance(media::Micros now);

  using Grid = std::array<std::array<uint32_t, kMaxTemporalLayers>, kMaxSpatialLayers>;
  std::array<Grid, kBuckets> bytes_{};
  int64_t epoch_ = -1;
  media::Micros bucket_end_ = 0;  // the current bucket's end: most packets need no division
};

class SourceLayers {
 public:
  // A spatial layer with no packet for this long has stopped (the publisher turned it off): it leaves the
  // ladder at once. A browser sends every layer at 7.5 fps or more, so this is several frames' silence.
  static constexpr media::Micros kLayerStopped = 500'000;
  // A layer (re)joins only once it has arrived without a stop this long: its bitrate is then measured over
  // a full meter window, so a layer that just started (or just came back) is never taken for a cheap one,
  // and a new viewer starts on a layer that is really flowing (the lowest, until the others are steady).
  static constexpr media::Micros kSteadyAfter = 1'000'000;

  void on_packet(media::Micros now, uint8_t spatial, uint8_t temporal, size_t bytes) {
    meter_.add(now, spatial, temporal, bytes);
    if (!seen_[spatial] || now - last_seen_[spatial] >= kLayerStopped) run_start_[spatial] = now;
    last_seen_[spatial] = now;
    seen_[spatial] = true;
    if (temporal > max_temporal_[spatial]) max_temporal_[spatial] = temporal;
  }
  void reset() { *this = SourceLayers{}; }

  bool any_seen() const;
  // Arriving, and steadily for kSteadyAfter.
  bool steady(media::Micros now, int spatial) const {
    const auto s = static_cast<size_t>(spatial);
    return seen_[s] && now - last_seen_[s] < kLayerStopped && now - run_start_[s] >= kSteadyAfter;
  }
  // The highest spatial layer arriving steadily (0 when none is: the lowest is the safe first choice).
  int highest_arriving(media::Micros now) const;
  uint8_t max_temporal(int spatial) const { return max_temporal_[static_cast<size_t>(spatial)]; }

  // Cumulative over temporal layers; with `per_temporal` false each spatial layer's total sits in t = 0 (the
  // subscriber does not accept a lower frame rate, see LocalTrackLimits). Layers that are not steady() are 0,
  // which the allocator does not offer.
  LayerBitrates bitrates(media::Micros now, bool per_temporal);
  // Some layer has had a bitrate.
  bool measured() const { return measured_; }

 private:
  LayerMeter meter_;
  std::array<media::Micros, kMaxSpatialLayers> last_seen_{};
  std::array<media::Micros, kMaxSpatialLayers> run_start_{};  // first packet since the layer last stopped
  std::array<bool, kMaxSpatialLayers> seen_{};
  std::array<uint8_t, kMaxSpatialLayers> max_temporal_{};
  bool measured_ = false;
};

}  // namespace atrium::core
