#include "core/endpoint/source_layers.h"

#include <algorithm>

namespace atrium::core {

void LayerMeter::advance(media::Micros now) {
  if (epoch_ >= 0 && now < bucket_end_) return;
  const int64_t e = now / kBucket;
  bucket_end_ = (e + 1) * kBucket;
  if (epoch_ < 0) {
    epoch_ = e;
    return;
  }
  if (e <= epoch_) return;
  const int64_t clear = std::min<int64_t>(e - epoch_, kBuckets);
  for (int64_t k = 1; k <= clear; ++k)
    bytes_[static_cast<size_t>((epoch_ + k) % kBuckets)] = Grid{};
  epoch_ = e;
}

uint32_t LayerMeter::bps(media::Micros now, uint8_t spatial, uint8_t temporal) {
  if (epoch_ < 0) return 0;
  advance(now);
  uint64_t bytes = 0;
  for (int k = 1; k < kBuckets; ++k)
    bytes += bytes_[static_cast<size_t>((epoch_ + k) % kBuckets)][spatial][temporal];
  return static_cast<uint32_t>(
      std::min<uint64_t>(bytes * 8 * 1'000'000 / ((kBuckets - 1) * kBucket), UINT32_MAX));
}

bool SourceLayers::any_seen() const {
  return std::any_of(seen_.begin(), seen_.end(), [](bool b) { return b; });
}

int SourceLayers::highest_arriving(media::Micros now) const {
  for (int s = kMaxSpatialLayers - 1; s > 0; --s)
    if (steady(now, s)) return s;
  return 0;
}

LayerBitrates SourceLayers::bitrates(media::Micros now, bool per_temporal) {
  LayerBitrates out;
  for (size_t s = 0; s < kMaxSpatialLayers; ++s) {
    if (!steady(now, static_cast<int>(s))) continue;
    uint32_t cumulative = 0;
    for (size_t t = 0; t < kMaxTemporalLayers; ++t) {
      const uint32_t bps = meter_.bps(now, static_cast<uint8_t>(s), static_cast<uint8_t>(t));
      if (bps == 0) continue;
      measured_ = true;
      cumulative += bps;
      out.bps[s][per_temporal ? t : 0] = cumulative;
    }
  }
  return out;
}

}  // namespace atrium::core
