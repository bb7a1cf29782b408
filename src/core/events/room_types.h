// Plain descriptions of peers and tracks as every layer sees them. Meta is opaque to the server (JSON text
// from the client), so the core never interprets it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "media/media_packet.h"

namespace atrium::core {

// auto: everything in the room is announced; manual: only what the client subscribed to (per peer).
enum class SubscribeMode : uint8_t { kAuto, kManual };

struct JoinParams {
  std::string room;
  std::string peer;
  std::string meta;
  SubscribeMode peers = SubscribeMode::kAuto;   // peer joined/left/meta events
  SubscribeMode tracks = SubscribeMode::kAuto;  // track published/unpublished/meta events
};

struct TrackInfo {
  std::string name;  // unique per peer: "audio", "video", "screen", ...
  media::MediaKind kind = media::MediaKind::kVideo;
  std::string meta;
  // Simulcast layers the publisher sends (1 otherwise). Subscribers use it to know that layers exist which
  // are not arriving right now (paused because nobody could take them), so they still probe for them.
  uint8_t layers = 1;
};

// What a subscriber may receive on one local track; the allocator of the bitrate issue fills this in further.
struct LocalTrackLimits {
  uint32_t max_bitrate_bps = 0;  // 0 = unlimited
  uint8_t priority = 1;          // higher wins when bandwidth is short
  // Let the bitrate allocator forward fewer temporal layers (a lower frame rate) of a spatial layer. Off by
  // default: under a 400 kbit/s link, Chromium's mid layer at a reduced rate (which the estimate allowed)
  // overflowed the link and froze the picture for seconds where the low layer at full rate plays
  // (tests/integration/bitrate_simulcast); the allocator does not yet account for overhead and repairs.
  bool lower_frame_rate = false;
};

// One entry of a room's active-speaker list (core/audio/ActiveSpeakerDetector): a peer and its recent audio
// level in dBov as RFC 6464 writes it (0 = loudest, 127 = silence).
struct ActiveSpeaker {
  std::string peer;
  uint8_t level_dbov = 127;
  bool operator==(const ActiveSpeaker&) const = default;
};
using ActiveSpeakers = std::vector<ActiveSpeaker>;

enum class LocalTrackState : uint8_t {
  kIdle,     // not attached to any source
  kWaiting,  // attached; waiting for a key frame before sending anything
  kLive,     // forwarding
  kPaused,   // attached, the client asked for nothing to be sent
};

constexpr const char* to_string(LocalTrackState s) {
  switch (s) {
    case LocalTrackState::kIdle:
      return "idle";
    case LocalTrackState::kWaiting:
      return "waiting";
    case LocalTrackState::kLive:
      return "live";
    case LocalTrackState::kPaused:
      return "paused";
  }
  return "?";
}

}  // namespace atrium::core
