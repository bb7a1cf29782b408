#include "core/bitrate/bitrate_allocator.h"

#include <algorithm>
#include <cmath>

namespace atrium::core {

LayerBitrates LayerBitrates::spatial(std::initializer_list<uint32_t> per_spatial) {
  LayerBitrates out;
  size_t s = 0;
  for (uint32_t bps : per_spatial) {
    if (s >= out.bps.size()) break;
    out.bps[s++][0] = bps;
  }
  return out;
}

BitrateAllocator::BitrateAllocator(Config config) : config_(config) {}

BitrateAllocator::Track* BitrateAllocator::find(LocalTrackId id) {
  for (auto& t : tracks_)
    if (t.id == id) return &t;
  return nullptr;
}

const BitrateAllocator::Track* BitrateAllocator::find(LocalTrackId id) const {
  for (const auto& t : tracks_)
    if (t.id == id) return &t;
  return nullptr;
}

void BitrateAllocator::add_track(LocalTrackId id, media::MediaKind kind, uint8_t priority,
                                 const LayerBitrates& layers, TrackLimits limits) {
  Track* t = find(id);
  if (!t) {
    tracks_.emplace_back();
    t = &tracks_.back();
    t->id = id;
    order_.push_back(tracks_.size() - 1);
  }
  t->kind = kind;
  t->priority = priority;
  t->layers = layers;
  t->limits = limits;
  rebuild_ladder(*t);
  order_dirty_ = true;
}

void BitrateAllocator::remove_track(LocalTrackId id) {
  auto it = std::find_if(tracks_.begin(), tracks_.end(), [id](const Track& t) { return t.id == id; });
  if (it == tracks_.end()) return;
  tracks_.erase(it);
  order_.resize(tracks_.size());
  for (size_t i = 0; i < order_.size(); ++i)
    order_[i] = i;
  order_dirty_ = true;
}

void BitrateAllocator::set_priority(LocalTrackId id, uint8_t priority) {
  if (Track* t = find(id)) {
    t->priority = priority;
    order_dirty_ = true;
  }
}

void BitrateAllocator::set_limits(LocalTrackId id, TrackLimits limits) {
  if (Track* t = find(id)) {
    t->limits = limits;
    rebuild_ladder(*t);
  }
}

void BitrateAllocator::set_layer_bitrates(LocalTrackId id, const LayerBitrates& layers) {
  if (Track* t = find(id)) {
    t->layers = layers;
    rebuild_ladder(*t);
  }
}

void BitrateAllocator::rebuild_ladder(Track& t) {
  t.ladder_size = 0;
  const int max_s = std::min<int>(t.limits.max_spatial, kMaxSpatialLayers - 1);
  const int max_t = std::min<int>(t.limits.max_temporal, kMaxTemporalLayers - 1);
  auto add = [&t](uint8_t s, uint8_t tl, uint32_t bps) {
    if (bps == 0 || bps > t.limits.max_bitrate_bps) return;
    t.ladder[static_cast<size_t>(t.ladder_size++)] = Rung{Layer{s, tl}, bps};
  };
  for (int s = 0; s <= max_s; ++s) {
    const auto& row = t.layers.bps[static_cast<size_t>(s)];
    const bool has_temporal = std::any_of(row.begin() + 1, row.end(), [](uint32_t b) { return b != 0; });
    if (!has_temporal) {
      // No per-temporal bitrates: the whole spatial layer, with as many temporal layers as the limit allows.
      add(static_cast<uint8_t>(s), t.limits.max_temporal, row[0]);
      continue;
    }
    for (int tl = 0; tl <= max_t; ++tl)
      add(static_cast<uint8_t>(s), static_cast<uint8_t>(tl), row[static_cast<size_t>(tl)]);
  }
  // The rungs stay in the publisher's order (spatial layers as its rids rank them, temporal layers within),
  // not sorted by measured bitrate: a layer measured too low (it has barely started, or its encoder is
  // starved for a moment) must not become the cheap first rung. A rung costs at least what the one below it
  // costs, so climbing never looks free.
  for (int i = 1; i < t.ladder_size; ++i) {
    auto& rung = t.ladder[static_cast<size_t>(i)];
    rung.bps = std::max(rung.bps, t.ladder[static_cast<size_t>(i - 1)].bps);
  }
}

void BitrateAllocator::set_estimate(media::Micros now, uint64_t bps) {
  estimate_bps_ = bps;
  update(now);
}

bool BitrateAllocator::step(Track& t, media::Micros now, uint64_t& remaining) const {
  const int next_index = t.level + 1;
  if (next_index >= t.ladder_size) return false;
  const uint64_t next = t.ladder[static_cast<size_t>(next_index)].bps;
  const uint64_t prev = t.level >= 0 ? t.ladder[static_cast<size_t>(t.level)].bps : 0;
  const uint64_t delta = next > prev ? next - prev : 0;
  uint64_t need = delta;
  if (next_index > t.held) {
    // Above what the track has now: wait out the dwell, and keep a margin so a noisy estimate does not flap.
    if (t.ever_changed && now - t.last_change < config_.min_dwell) return false;
    need += static_cast<uint64_t>(std::llround(static_cast<double>(next) * config_.upgrade_margin));
  }
  if (need > remaining) return false;
  remaining -= delta;
  t.level = next_index;
  return true;
}

void BitrateAllocator::allocate_group(size_t begin, size_t end, media::Micros now, uint64_t& remaining) {
  // Rounds: every track of the group takes one rung before any takes a second. Remaining only shrinks, so a
  // track that cannot step now cannot later in this update either.
  bool progressed = true;
  while (progressed) {
    progressed = false;
    for (size_t i = begin; i < end; ++i) {
      Track& t = tracks_[order_[i]];
      if (t.done) continue;
      if (step(t, now, remaining)) {
        progressed = true;
      } else {
        t.done = true;
      }
    }
  }
}

void BitrateAllocator::update(media::Micros now) {
  if (order_dirty_) {
    std::sort(order_.begin(), order_.end(), [this](size_t a, size_t b) {
      const Track& x = tracks_[a];
      const Track& y = tracks_[b];
      const bool xa = x.kind == media::MediaKind::kAudio;
      const bool ya = y.kind == media::MediaKind::kAudio;
      if (xa != ya) return xa;
      if (x.priority != y.priority) return x.priority > y.priority;
      return x.id < y.id;
    });
    order_dirty_ = false;
  }

  for (auto& t : tracks_) {
    t.level = -1;
    t.done = false;
    t.held = -1;
    if (!t.current) continue;
    // The current layer's rung, or failing that the best rung inside it (a limit may have removed it).
    int inside = -1;
    for (int i = t.ladder_size - 1; i >= 0; --i) {
      const Layer& l = t.ladder[static_cast<size_t>(i)].layer;
      if (l == *t.current) {
        t.held = i;
        break;
      }
      if (inside < 0 && l.spatial <= t.current->spatial && l.temporal <= t.current->temporal) inside = i;
    }
    if (t.held < 0) t.held = inside;
  }

  uint64_t remaining = estimate_bps_;
  size_t begin = 0;
  while (begin < order_.size()) {
    const Track& first = tracks_[order_[begin]];
    size_t end = begin + 1;
    while (end < order_.size() && tracks_[order_[end]].kind == first.kind &&
           tracks_[order_[end]].priority == first.priority)
      ++end;
    allocate_group(begin, end, now, remaining);
    begin = end;
  }

  allocated_bps_ = 0;
  for (size_t i : order_) {
    Track& t = tracks_[i];
    std::optional<Layer> decided;
    if (t.level >= 0) {
      const Rung& r = t.ladder[static_cast<size_t>(t.level)];
      decided = r.layer;
      allocated_bps_ += r.bps;
    }
    if (decided != t.current) {
      t.current = decided;
      t.ever_changed = true;
      t.last_change = now;
      changes_.push(LayerChange{t.id, decided});
    }
  }
}

std::optional<Layer> BitrateAllocator::current(LocalTrackId id) const {
  const Track* t = find(id);
  return t ? t->current : std::nullopt;
}

}  // namespace atrium::core
