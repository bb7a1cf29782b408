// Which key frame a local track waits for before it may forward a layer, and the requests for it upstream.
// A track that waits sends nothing (a decoder cannot start on a delta frame); the request is retried every
// kRetry while it waits. When the layers are not known yet the track asks for "any layer"; such a request,
// while fresh, also covers whichever layer turns out to be wanted, until that layer's key frame has come.
#pragma once

#include <cstdint>
#include <optional>

#include "core/bitrate/bitrate_allocator.h"
#include "core/events/room_types.h"
#include "media/media_packet.h"

namespace atrium::core {

class KeyFrameGate {
 public:
  static constexpr media::Micros kRetry = 1'000'000;
  static constexpr int kAnyLayer = kAnySpatialLayer;
  static constexpr int kNone = -1;

  // Waits for `layer` (kAnyLayer: any) and asks for it now.
  void wait_for(media::Micros now, int layer) {
    waiting_for_ = layer;
    request(now, layer);
  }
  // Wants `layer` (kNone: nothing to wait for). Asks only when the wanted layer changed and no fresh "any
  // layer" request covers it.
  void want(media::Micros now, int layer);
  void stop() { waiting_for_ = kNone; }
  // Stops waiting and drops a request not yet taken.
  void cancel() {
    waiting_for_ = kNone;
    request_due_ = false;
  }
  // A key frame of `layer` arrived (forwarded or not).
  void saw_keyframe(uint8_t layer) { any_answered_ |= static_cast<uint8_t>(1u << layer); }
  // Asks for a key frame of `layer` (out of range: any layer).
  void request(media::Micros now, int layer);

  int waiting_for() const { return waiting_for_; }
  bool waiting() const { return waiting_for_ != kNone; }
  bool retry_due(media::Micros now) const { return now - last_request_ >= kRetry; }
  uint64_t requests() const { return requests_; }

  // A key-frame request to send upstream now: the spatial layer (kAnySpatialLayer when unknown).
  std::optional<uint8_t> take_request() {
    if (!request_due_) return std::nullopt;
    request_due_ = false;
    return request_layer_;
  }

 private:
  int waiting_for_ = kNone;
  media::Micros last_request_ = 0;
  bool any_requested_ = false;  // an "any layer" request was sent at any_request_at_
  media::Micros any_request_at_ = 0;
  uint8_t any_answered_ = 0;  // layers whose key frame arrived since
  bool request_due_ = false;
  uint8_t request_layer_ = kAnySpatialLayer;
  uint64_t requests_ = 0;
};

}  // namespace atrium::core
