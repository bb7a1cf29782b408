// A track the client publishes: marks key frames, counts what arrives, and turns the subscribers' many
// key-frame requests into few for the publisher (a PLI storm costs the publisher a burst of bitrate each
// time). Requests are merged per simulcast layer: a subscriber switching to layer 2 must not wait behind one
// that asked for layer 0.
#pragma once

#include <array>
#include <cstdint>

#include "core/events/room_types.h"
#include "core/ids.h"

namespace atrium::core {

struct RemoteTrackStats {
  uint64_t packets = 0;
  uint64_t bytes = 0;
  uint64_t keyframes = 0;
  uint64_t keyframe_requests_in = 0;         // from subscribers
  uint64_t keyframe_requests_forwarded = 0;  // to the publisher
};

class RemoteTrack {
 public:
  // Requests closer together than this are merged into one.
  static constexpr media::Micros kKeyFrameRequestInterval = 500'000;
  // Layers 0..kLayers-1 are tracked one by one; a higher index is treated as kAnySpatialLayer.
  static constexpr int kLayers = 4;

  RemoteTrack(RemoteTrackId id, TrackInfo info) : id_(id), info_(std::move(info)) {}

  // Fills in packet.keyframe from the payload and counts it.
  void on_media(media::MediaPacket& packet);
  // True when the request for `spatial_layer` (or kAnySpatialLayer) should go to the publisher now; otherwise
  // it is remembered for on_tick.
  bool on_keyframe_request(media::Micros now, uint8_t spatial_layer = kAnySpatialLayer);
  // Calls emit(spatial_layer) for every merged request that is due and that no key frame has answered since.
  template <typename Emit>
  void on_tick(media::Micros now, Emit&& emit) {
    for (int i = 0; i <= kLayers; ++i) {
      Slot& s = slots_[static_cast<size_t>(i)];
      if (!s.pending || now - s.last_forwarded < kKeyFrameRequestInterval) continue;
      s.pending = false;
      s.last_forwarded = now;
      ++stats_.keyframe_requests_forwarded;
      emit(i == kLayers ? kAnySpatialLayer : static_cast<uint8_t>(i));
    }
  }

  RemoteTrackId id() const { return id_; }
  const TrackInfo& info() const { return info_; }
  TrackInfo& info() { return info_; }
  const RemoteTrackStats& stats() const { return stats_; }

 private:
  struct Slot {
    bool forwarded_once = false;
    media::Micros last_forwarded = 0;
    bool pending = false;
  };
  static size_t slot_of(uint8_t layer) { return layer < kLayers ? layer : kLayers; }

  RemoteTrackId id_;
  TrackInfo info_;
  RemoteTrackStats stats_;
  std::array<Slot, kLayers + 1> slots_{};  // per layer, then "any"
  uint8_t seen_layers_ = 0;                // bit per spatial layer that has sent media
  uint8_t answered_any_ = 0;               // layers with a key frame since the pending "any" request
};

}  // namespace atrium::core
