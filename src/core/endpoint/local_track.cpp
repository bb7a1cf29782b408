#include "core/endpoint/local_track.h"

#include <algorithm>

#include "media/rtp/seq.h"

namespace atrium::core {

namespace {

// VP9 and AV1 signal SVC layers in the payload: one stream whose higher layers need the lower ones.
bool is_svc(media::Codec c) {
  return c == media::Codec::kVP9 || c == media::Codec::kAV1;
}

}  // namespace

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

void LocalTrack::request(media::Micros now, int layer) {
  request_due_ = true;
  request_layer_ = layer >= 0 && layer < kMaxSpatialLayers ? static_cast<uint8_t>(layer) : kAnySpatialLayer;
  last_request_ = now;
  if (request_layer_ == kAnySpatialLayer) {
    any_requested_ = true;
    any_request_at_ = now;
    any_answered_ = 0;
  }
  ++stats_.keyframe_requests;
}

void LocalTrack::update_state() {
  if (peer_.empty())
    state_ = LocalTrackState::kIdle;
  else if (client_paused_ || alloc_paused_)
    state_ = LocalTrackState::kPaused;
  else
    state_ = cur_s_ >= 0 ? LocalTrackState::kLive : LocalTrackState::kWaiting;
}

void LocalTrack::wait_for_keyframe(media::Micros now) {
  cur_s_ = -1;
  rewriter_.switch_source();
  frame_known_ = false;
  pic_rebase_ = true;
  waiting_for_ = -1;
  if (!client_paused_ && !alloc_paused_) {
    const bool any_seen = std::any_of(seen_.begin(), seen_.end(), [](bool b) { return b; });
    waiting_for_ = alloc_driven_ || any_seen ? target_spatial(now) : kAnyLayer;
    request(now, waiting_for_);
  }
  update_state();
}

void LocalTrack::attach(media::Micros now, std::string peer, std::string track) {
  if (state_ != LocalTrackState::kIdle) ++stats_.source_switches;
  peer_ = std::move(peer);
  track_ = std::move(track);
  // The new source's layers are not the old one's.
  meter_.reset();
  seen_ = {};
  max_tid_ = {};
  measured_ = false;
  remembered_ = {};
  wait_for_keyframe(now);
}

void LocalTrack::detach() {
  peer_.clear();
  track_.clear();
  client_paused_ = false;
  cur_s_ = -1;
  waiting_for_ = -1;
  request_due_ = false;
  update_state();
}

void LocalTrack::set_paused(media::Micros now, bool paused) {
  if (state_ == LocalTrackState::kIdle || paused == client_paused_) return;
  client_paused_ = paused;
  // What was skipped while paused is gone; resuming is a fresh start from a key frame, not a gap to repair.
  if (!paused && !alloc_paused_) return wait_for_keyframe(now);
  update_state();
}

void LocalTrack::set_target(media::Micros now, std::optional<Layer> target, bool cut_over) {
  const bool first = !alloc_driven_;
  alloc_driven_ = true;
  if (!target) {
    if (alloc_paused_ && !first) return;
    alloc_paused_ = true;
    layer_dirty_ = true;
    update_state();
    return;
  }
  const bool resume = alloc_paused_;
  if (!first && !resume && *target == alloc_layer_) return;
  const bool temporal_up = target->temporal > alloc_layer_.temporal || first;
  alloc_layer_ = *target;
  alloc_paused_ = false;
  if (!attached()) return;
  if (resume && !client_paused_) return wait_for_keyframe(now);
  if (cut_over && !client_paused_ && cur_s_ > static_cast<int>(target_spatial(now)))
    return wait_for_keyframe(now);
  if (temporal_up) temporal_wait_since_ = now;
  if (!client_paused_) update_want(now);
  update_state();
}

int LocalTrack::target_spatial(media::Micros now) const {
  if (alloc_driven_) return std::min<int>(alloc_layer_.spatial, kMaxSpatialLayers - 1);
  for (int s = kMaxSpatialLayers - 1; s > 0; --s)
    if (seen_[static_cast<size_t>(s)] && now - last_seen_[static_cast<size_t>(s)] < kLayerGone) return s;
  return 0;
}

void LocalTrack::update_want(media::Micros now) {
  const int ts = target_spatial(now);
  const int want = cur_s_ < 0 || ts != cur_s_ ? ts : -1;
  if (want == waiting_for_) return;
  // An "any layer" request that is still fresh covers whichever layer turns out to be wanted.
  const bool covered = any_requested_ && now - any_request_at_ < kKeyFrameRetry && want >= 0 &&
                       want < kMaxSpatialLayers && (any_answered_ & (1u << want)) == 0;
  waiting_for_ = want;
  if (want >= 0 && !covered) request(now, want);
}

void LocalTrack::start_layer(uint8_t layer) {
  if (cur_s_ >= 0 && cur_s_ != layer) ++stats_.layer_switches;
  rewriter_.switch_source();
  cur_s_ = layer;
  cur_t_ = target_temporal();
  frame_known_ = false;
  pic_rebase_ = true;
  waiting_for_ = -1;
  layer_dirty_ = true;
  update_state();
}

std::optional<media::MediaPacket> LocalTrack::on_media(media::Micros now, const media::MediaPacket& in) {
  if (state_ == LocalTrackState::kIdle) return std::nullopt;
  const bool svc = is_svc(in.codec);
  const auto layer = static_cast<uint8_t>(svc ? 0 : std::min<int>(in.spatial_layer, kMaxSpatialLayers - 1));
  const auto tid = static_cast<uint8_t>(std::min<int>(in.temporal_layer, kMaxTemporalLayers - 1));
  meter_.add(now, layer, tid, in.payload.size());
  last_seen_[layer] = now;
  seen_[layer] = true;
  max_tid_[layer] = std::max(max_tid_[layer], tid);
  kind_ = media::kind_of(in.codec);
  if (state_ == LocalTrackState::kPaused) return std::nullopt;

  // The default target moves up when a higher layer appears, down when the forwarded one falls silent
  // (on_tick notices that); a packet of the forwarded layer changes neither.
  if (cur_s_ < 0 || layer != cur_s_) update_want(now);
  const int ts = target_spatial(now);
  if (cur_s_ < 0) {
    if (!in.keyframe || layer != ts) {
      if (in.keyframe) any_answered_ |= static_cast<uint8_t>(1u << layer);
      ++stats_.dropped_waiting;
      return std::nullopt;
    }
    start_layer(layer);
  } else if (layer != cur_s_) {
    if (layer != ts || !in.keyframe) {
      if (in.keyframe) any_answered_ |= static_cast<uint8_t>(1u << layer);
      return std::nullopt;  // another layer's own seq space: no drop to report
    }
    start_layer(layer);
  }
  if (in.keyframe) any_answered_ |= static_cast<uint8_t>(1u << layer);

  // Temporal ceiling, decided once per frame so the receiver never gets part of a frame.
  if (!frame_known_ || in.timestamp != frame_ts_) {
    frame_known_ = true;
    frame_ts_ = in.timestamp;
    const uint8_t tt = target_temporal();
    if (tt < cur_t_) {
      cur_t_ = tt;
      layer_dirty_ = true;
    } else if (tt > cur_t_) {
      // Up only where the decoder can follow: a key frame, or a frame of the next layer that references TL0
      // frames only (which it has).
      if (in.keyframe) {
        cur_t_ = tt;
        layer_dirty_ = true;
      } else if (in.layer_sync && tid == cur_t_ + 1) {
        cur_t_ = tid;
        layer_dirty_ = true;
      }
    }
    frame_forward_ = tid <= cur_t_;
  }
  if (!frame_forward_) {
    rewriter_.drop(in.seq);
    ++stats_.dropped_temporal;
    return std::nullopt;
  }

  media::MediaPacket out = in;
  if (!rewriter_.rewrite(now, media::clock_rate(in.codec), out.seq, out.timestamp)) return std::nullopt;
  if (pic_rebase_) {
    // The first packet after a switch continues the ids right after the newest ones sent.
    pic_rebase_ = false;
    pid_offset_ =
        in.picture_id >= 0 && last_pid_ >= 0 ? static_cast<uint16_t>(last_pid_ + 1 - in.picture_id) : 0;
    tl0_offset_ =
        in.tl0_pic_idx >= 0 && last_tl0_ >= 0 ? static_cast<uint8_t>(last_tl0_ + 1 - in.tl0_pic_idx) : 0;
  }
  if (in.picture_id >= 0) out.picture_id = (in.picture_id + pid_offset_) & 0x7FFF;
  if (in.tl0_pic_idx >= 0) out.tl0_pic_idx = static_cast<int16_t>((in.tl0_pic_idx + tl0_offset_) & 0xFF);
  if (!have_out_ || media::seq_newer(out.seq, last_out_seq_)) {
    have_out_ = true;
    last_out_seq_ = out.seq;
    if (out.picture_id >= 0) last_pid_ = out.picture_id;
    if (out.tl0_pic_idx >= 0) last_tl0_ = out.tl0_pic_idx;
  }
  ++stats_.packets;
  stats_.bytes += out.payload.size();
  return out;
}

void LocalTrack::on_tick(media::Micros now) {
  if (state_ == LocalTrackState::kIdle || state_ == LocalTrackState::kPaused) return;
  update_want(now);
  if (waiting_for_ >= 0) {
    if (now - last_request_ < kKeyFrameRetry) return;
    if (waiting_for_ == kAnyLayer && std::any_of(seen_.begin(), seen_.end(), [](bool b) { return b; }))
      waiting_for_ = target_spatial(now);
    request(now, waiting_for_);
    return;
  }
  // A temporal upgrade that found no layer-sync frame within a second: a key frame lets it happen.
  if (temporal_upgrade_pending() && now - temporal_wait_since_ >= kKeyFrameRetry &&
      now - last_request_ >= kKeyFrameRetry) {
    temporal_wait_since_ = now;
    request(now, cur_s_);
  }
}

void LocalTrack::on_keyframe_requested(media::Micros now) {
  if (state_ == LocalTrackState::kIdle || state_ == LocalTrackState::kPaused) return;  // nothing to repair
  request(now, cur_s_ >= 0 ? cur_s_ : waiting_for_);
}

std::optional<std::pair<int16_t, int16_t>> LocalTrack::take_layer_change() {
  if (!layer_dirty_) return std::nullopt;
  layer_dirty_ = false;
  if (kind_ == media::MediaKind::kAudio) return std::nullopt;  // no layers to speak of
  std::pair<int16_t, int16_t> now_fwd = reported_;
  if (alloc_paused_)
    now_fwd = {-1, -1};
  else if (cur_s_ >= 0)
    now_fwd = {static_cast<int16_t>(cur_s_), static_cast<int16_t>(cur_t_)};
  if (now_fwd == reported_) return std::nullopt;
  reported_ = now_fwd;
  return now_fwd;
}

LayerBitrates LocalTrack::layer_bitrates(media::Micros now) {
  LayerBitrates out;
  for (size_t s = 0; s < kMaxSpatialLayers; ++s) {
    uint32_t cumulative = 0;
    for (size_t t = 0; t < kMaxTemporalLayers; ++t) {
      uint32_t bps = meter_.bps(now, static_cast<uint8_t>(s), static_cast<uint8_t>(t));
      if (bps > 0) {
        remembered_.bps[s][t] = bps;
        remembered_at_[s][t] = now;
      } else if (remembered_.bps[s][t] > 0 && now - remembered_at_[s][t] < kRememberBitrate) {
        bps = remembered_.bps[s][t];
      } else {
        remembered_.bps[s][t] = 0;
      }
      if (bps == 0) continue;  // absent: the allocator must not offer it
      measured_ = true;
      cumulative += bps;
      // Per temporal layer only when the subscriber accepts a lower frame rate (LocalTrackLimits).
      out.bps[s][limits_.lower_frame_rate ? t : 0] = cumulative;
    }
  }
  return out;
}

}  // namespace atrium::core
