#include "core/endpoint/local_track.h"

#include <algorithm>

namespace atrium::core {

namespace {

// VP9 and AV1 signal SVC layers in the payload: one stream whose higher layers need the lower ones.
bool is_svc(media::Codec c) {
  return c == media::Codec::kVP9 || c == media::Codec::kAV1;
}

}  // namespace

void LocalTrack::update_state() {
  if (peer_.empty())
    state_ = LocalTrackState::kIdle;
  else if (!sending())
    state_ = LocalTrackState::kPaused;
  else
    state_ = selector_.spatial() >= 0 ? LocalTrackState::kLive : LocalTrackState::kWaiting;
}

void LocalTrack::wait_for_keyframe(media::Micros now) {
  selector_.stop();
  rewriter_.switch_source();
  picture_ids_.rebase();
  gate_.stop();
  if (sending())
    gate_.wait_for(now, selector_.driven() || layers_.any_seen() ? selector_.target_spatial(now, layers_)
                                                                 : KeyFrameGate::kAnyLayer);
  update_state();
}

void LocalTrack::attach(media::Micros now, std::string peer, std::string track) {
  if (state_ != LocalTrackState::kIdle) ++stats_.source_switches;
  peer_ = std::move(peer);
  track_ = std::move(track);
  layers_.reset();  // the new source's layers are not the old one's
  wait_for_keyframe(now);
}

void LocalTrack::detach() {
  peer_.clear();
  track_.clear();
  client_paused_ = false;
  selector_.stop();
  gate_.cancel();
  update_state();
}

void LocalTrack::set_paused(media::Micros now, bool paused) {
  if (state_ == LocalTrackState::kIdle || paused == client_paused_) return;
  client_paused_ = paused;
  // What was skipped while paused is gone; resuming is a fresh start from a key frame, not a gap to repair.
  if (!paused && !selector_.paused()) return wait_for_keyframe(now);
  update_state();
}

void LocalTrack::set_target(media::Micros now, std::optional<Layer> target, bool cut_over) {
  const LayerSelector::TargetUpdate u = selector_.set_target(target);
  if (!u.changed) return;
  if (!target || !attached()) return update_state();
  if (u.resumed && !client_paused_) return wait_for_keyframe(now);
  if (cut_over && !client_paused_ && selector_.spatial() > selector_.target_spatial(now, layers_))
    return wait_for_keyframe(now);
  if (u.temporal_up) selector_.set_temporal_wait_since(now);
  if (!client_paused_) update_want(now);
  update_state();
}

void LocalTrack::update_want(media::Micros now) {
  const int ts = selector_.target_spatial(now, layers_);
  const int cur = selector_.spatial();
  gate_.want(now, cur < 0 || ts != cur ? ts : KeyFrameGate::kNone);
}

void LocalTrack::start_layer(uint8_t layer) {
  if (selector_.spatial() >= 0 && selector_.spatial() != layer) ++stats_.layer_switches;
  rewriter_.switch_source();
  picture_ids_.rebase();
  selector_.start(layer);
  gate_.stop();
  update_state();
}

std::optional<media::MediaPacket> LocalTrack::on_media(media::Micros now, const media::MediaPacket& in) {
  if (state_ == LocalTrackState::kIdle) return std::nullopt;
  const bool svc = is_svc(in.codec);
  const auto layer = static_cast<uint8_t>(svc ? 0 : std::min<int>(in.spatial_layer, kMaxSpatialLayers - 1));
  const auto tid = static_cast<uint8_t>(std::min<int>(in.temporal_layer, kMaxTemporalLayers - 1));
  layers_.on_packet(now, layer, tid, in.payload.size());
  kind_ = media::kind_of(in.codec);
  if (state_ == LocalTrackState::kPaused) return std::nullopt;

  // The default target moves up when a higher layer appears, down when the forwarded one falls silent
  // (on_tick notices that); a packet of the forwarded layer changes neither.
  const int cur = selector_.spatial();
  if (cur < 0 || layer != cur) {
    update_want(now);
    // A layer switch (or the start) happens at a key frame of the layer waited for; other layers' packets
    // are in their own seq space, so only those dropped while nothing is forwarded count.
    if (in.keyframe) gate_.saw_keyframe(layer);
    if (!in.keyframe || layer != selector_.target_spatial(now, layers_)) {
      if (cur < 0) ++stats_.dropped_waiting;
      return std::nullopt;
    }
    start_layer(layer);
  } else if (in.keyframe) {
    gate_.saw_keyframe(layer);
  }

  if (!selector_.temporal_pass(in, tid)) {
    rewriter_.drop(in.seq);
    ++stats_.dropped_temporal;
    return std::nullopt;
  }
  media::MediaPacket out = in;
  if (!rewriter_.rewrite(now, media::clock_rate(in.codec), out.seq, out.timestamp)) return std::nullopt;
  picture_ids_.rewrite(in, out);
  ++stats_.packets;
  stats_.bytes += out.payload.size();
  return out;
}

void LocalTrack::on_tick(media::Micros now) {
  if (state_ == LocalTrackState::kIdle || state_ == LocalTrackState::kPaused) return;
  update_want(now);
  if (gate_.waiting()) {
    if (!gate_.retry_due(now)) return;
    const int layer = gate_.waiting_for() == KeyFrameGate::kAnyLayer && layers_.any_seen()
                          ? selector_.target_spatial(now, layers_)
                          : gate_.waiting_for();
    gate_.wait_for(now, layer);
    return;
  }
  // A temporal upgrade that found no layer-sync frame within a second: a key frame lets it happen.
  if (selector_.temporal_upgrade_pending(layers_) &&
      now - selector_.temporal_wait_since() >= KeyFrameGate::kRetry && gate_.retry_due(now)) {
    selector_.set_temporal_wait_since(now);
    gate_.request(now, selector_.spatial());
  }
}

void LocalTrack::on_keyframe_requested(media::Micros now) {
  if (state_ == LocalTrackState::kIdle || state_ == LocalTrackState::kPaused) return;  // nothing to repair
  gate_.request(now, selector_.spatial() >= 0 ? selector_.spatial() : gate_.waiting_for());
}

std::optional<std::pair<int16_t, int16_t>> LocalTrack::take_layer_change() {
  if (kind_ == media::MediaKind::kAudio) {  // no layers to speak of
    selector_.discard_change();
    return std::nullopt;
  }
  return selector_.take_change();
}

}  // namespace atrium::core
