#include "core/endpoint/subscriber_bitrate_control.h"

#include <algorithm>
#include <limits>

namespace atrium::core {

namespace {

constexpr uint32_t kUnlimited = std::numeric_limits<uint32_t>::max();

// The most a track could take: its best layer within its limit.
uint64_t top_allowed(const LayerBitrates& lb, const LocalTrackLimits& limits) {
  const uint32_t limit = limits.max_bitrate_bps ? limits.max_bitrate_bps : kUnlimited;
  uint64_t top = 0;
  for (const auto& row : lb.bps)
    for (uint32_t b : row)
      if (b <= limit && b > top) top = b;
  return top;
}

// What probing should aim at for a track whose source has layers that are not arriving (the publisher paused
// them because no subscriber could take them): each missing spatial layer counted as three times the one
// below (a quarter of the pixels costs about a third of the bits), within the track's limit. Without this
// a subscriber would never probe above the layers flowing, and the publisher would never be asked for more.
uint64_t with_unseen_layers(uint64_t top, const LayerBitrates& lb, const LocalTrack& t) {
  if (top == 0 || t.kind() != media::MediaKind::kVideo) return top;
  int seen = 0;
  for (int s = 0; s < kMaxSpatialLayers; ++s)
    if (lb.bps[static_cast<size_t>(s)][0] > 0) seen = s + 1;
  const uint32_t limit = t.limits().max_bitrate_bps ? t.limits().max_bitrate_bps : kUnlimited;
  uint64_t wanted = top;
  for (int s = seen; s < t.source_layers(); ++s)
    wanted *= 3;
  return std::min<uint64_t>(wanted, limit);
}

bool moved(uint64_t before, uint64_t now, double fraction) {
  if (before == now) return false;
  if (before == 0 || now == 0 || before == kUnlimited || now == kUnlimited) return true;
  const double diff = before > now ? static_cast<double>(before - now) : static_cast<double>(now - before);
  return diff > fraction * static_cast<double>(before);
}

TrackLimits allocator_limits(const LocalTrack& t) {
  TrackLimits l;
  if (t.limits().max_bitrate_bps) l.max_bitrate_bps = t.limits().max_bitrate_bps;
  return l;
}

}  // namespace

uint32_t SubscriberBitrateControl::desired_bitrate(const LocalTrack& t) const {
  if (t.client_paused()) return 0;
  uint32_t want = t.limits().max_bitrate_bps ? t.limits().max_bitrate_bps : kUnlimited;
  if (estimate_known_) {
    // What this client can receive at all; video shares it with the audio it also receives. Never 0 here:
    // 0 tells the publisher that nobody watches.
    uint64_t cap = estimate_bps_;
    if (t.kind() == media::MediaKind::kVideo) cap = cap > audio_bps_ ? cap - audio_bps_ : 0;
    cap = std::max<uint64_t>(cap, 1);
    if (cap < want) want = static_cast<uint32_t>(cap);
  }
  return want;
}

void SubscriberBitrateControl::send_desired(LocalTrack& t, bool force, Sink& sink) {
  if (!t.attached()) return;
  const uint32_t want = desired_bitrate(t);
  auto [it, inserted] = desired_sent_.try_emplace(t.id(), want);
  if (!inserted && !force && !moved(it->second, want, kChange)) return;
  it->second = want;
  sink.desired_bitrate(t.id(), want);
}

void SubscriberBitrateControl::on_limits(media::Micros now, LocalTrack& t, Tracks& tracks, Sink& sink) {
  track_changed(now, t);
  const uint32_t want = desired_bitrate(t);
  sink.desired_bitrate(t.id(), want);
  desired_sent_[t.id()] = want;
  reallocate(now, tracks, sink);
}

void SubscriberBitrateControl::before_attach(media::Micros now, LocalTrack& t) {
  if (estimate_known_) t.set_target(now, Layer{0, kAllTemporalLayers});
}

void SubscriberBitrateControl::track_changed(media::Micros now, LocalTrack& t) {
  if (!t.attached() || t.client_paused()) return allocator_.remove_track(t.id());
  allocator_.add_track(t.id(), t.kind(), t.limits().priority, t.layer_bitrates(now), allocator_limits(t));
}

void SubscriberBitrateControl::forget(LocalTrackId id) {
  allocator_.remove_track(id);
  desired_sent_.erase(id);
}

void SubscriberBitrateControl::reset() {
  allocator_ = BitrateAllocator{};
  desired_sent_.clear();
}

void SubscriberBitrateControl::reallocate(media::Micros now, Tracks& tracks, Sink& sink) {
  if (!estimate_known_) return;
  allocator_.update(now);
  apply_allocation(now, tracks, sink);
}

void SubscriberBitrateControl::on_estimate(media::Micros now, uint64_t bps, Tracks& tracks, Sink& sink) {
  const bool first = !estimate_known_;
  if (first) first_estimate_at_ = now;
  estimate_known_ = true;
  estimate_bps_ = bps;
  allocator_.set_estimate(now, bps);
  if (first) {
    // Measure now rather than at the next tick, so the first decision has bitrates.
    ticked_ = false;
    tick(now, tracks, sink);
  } else {
    apply_allocation(now, tracks, sink);
  }
}

void SubscriberBitrateControl::apply_allocation(media::Micros now, Tracks& tracks, Sink& sink) {
  if (!estimate_known_) return;
  while (allocator_.poll()) {
  }
  // An estimate below everything must not make the client's picture go black by policy alone (an estimate
  // can be wrong low, a frozen picture is worse than a late one): audio is never paused, and when no video
  // track got a layer the highest-priority ones keep their lowest. Pausing is for video the estimate cannot
  // carry while other video plays, and never during the warm-up (kEstimateWarmup).
  bool any_video = false;
  uint8_t top_priority = 0;
  for (auto& [id, t] : tracks) {
    if (!t.attached() || t.client_paused() || t.kind() != media::MediaKind::kVideo) continue;
    top_priority = std::max(top_priority, t.limits().priority);
    if (!t.has_bitrates() || allocator_.current(id)) any_video = true;
  }
  const std::optional<Layer> lowest = Layer{0, kAllTemporalLayers};
  const bool warming_up = now - first_estimate_at_ < kEstimateWarmup;
  for (auto& [id, t] : tracks) {
    if (!t.attached() || t.client_paused()) continue;
    const auto before = t.state();
    // A track whose source has not been measured yet starts at its lowest layer rather than waiting a second.
    std::optional<Layer> target = t.has_bitrates() ? allocator_.current(id) : lowest;
    if (!target && (t.kind() == media::MediaKind::kAudio || warming_up ||
                    (!any_video && t.limits().priority == top_priority)))
      target = lowest;
    // Going down because the current layer alone needs over twice the whole estimate: the link is
    // overflowing, so the current layer stops at once (see LocalTrack::set_target). A milder excess keeps
    // the seamless switch (the estimate may be a dip).
    bool cut_over = false;
    if (target && t.kind() == media::MediaKind::kVideo && t.forwarded_spatial() > target->spatial) {
      const LayerBitrates lb = t.layer_bitrates(now);
      const auto& per_temporal = lb.bps[static_cast<size_t>(t.forwarded_spatial())];
      cut_over = *std::max_element(per_temporal.begin(), per_temporal.end()) > 2 * estimate_bps_;
    }
    t.set_target(now, target, cut_over);
    sink.track_updated(t, before);
  }
}

void SubscriberBitrateControl::tick(media::Micros now, Tracks& tracks, Sink& sink) {
  if (ticked_ && now - last_tick_ < kInterval) return;
  ticked_ = true;
  last_tick_ = now;
  uint64_t wanted = 0;
  uint64_t audio = 0;
  for (auto& [id, t] : tracks) {
    if (!t.attached() || t.client_paused()) continue;
    const LayerBitrates lb = t.layer_bitrates(now);
    allocator_.add_track(id, t.kind(), t.limits().priority, lb, allocator_limits(t));
    const uint64_t top = top_allowed(lb, t.limits());
    wanted += with_unseen_layers(top, lb, t);
    if (t.kind() == media::MediaKind::kAudio) audio += top;
  }
  audio_bps_ = audio;
  reallocate(now, tracks, sink);
  if (moved(wanted_reported_, wanted, kChange)) {
    wanted_reported_ = wanted;
    sink.bandwidth_wanted(wanted);
  }
  for (auto& [id, t] : tracks)
    send_desired(t, false, sink);
}

}  // namespace atrium::core
