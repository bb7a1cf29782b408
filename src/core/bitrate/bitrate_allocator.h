// BitrateAllocator: per subscriber endpoint, splits the bandwidth estimate among the endpoint's local tracks
// and decides for each the layer (spatial, temporal) it should forward, or that it is paused. Sans-IO: the
// caller passes `now` and the estimate, and polls the changes; nothing here reads a clock or touches a
// socket.
//
// The rules, in order:
// - audio first (by priority), each audio track allocated whenever its bitrate fits what is left;
// - then video, strictly by priority (higher first); tracks of equal priority share in rounds: every one of
// them
//   gets its next layer before any of them gets the one after (so all get their lowest layer before any gets
//   a higher one);
// - limits (max bitrate, max spatial, max temporal layer) remove layers from a track's ladder;
// - stability: keeping or re-taking a layer at or below the current one needs only its bitrate, so a budget
// drop
//   downgrades at once; going above the current layer (including un-pausing) needs the extra bitrate plus a
//   margin of the new layer's bitrate, and only once `min_dwell` has passed since that track's last change.
//   A track that has never been allocated has no dwell to wait for.
// - changes only: each decision that differs from the track's previous one is queued as a LayerChange.
//
// A newly added track starts paused (no change is queued for that). Once warm (the tracks added), update()
// and poll() do not allocate.
#pragma once

#include <array>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <optional>
#include <vector>

#include "core/ids.h"
#include "core/util/ring_queue.h"
#include "media/media_packet.h"

namespace atrium::core {

inline constexpr int kMaxSpatialLayers = 4;
inline constexpr int kMaxTemporalLayers = 4;
// In a Layer: every temporal sub-layer of the spatial layer (the source told no per-temporal bitrates).
inline constexpr uint8_t kAllTemporalLayers = 0xFF;

// The source's layer bitrates. bps[s][t] is what forwarding spatial layer s with temporal sub-layers 0..t
// costs (cumulative over t); 0 means the layer is absent or unknown. A source without temporal information
// fills only t = 0 of each spatial layer; the allocator then reports temporal = the track's max temporal
// limit (kAllTemporalLayers by default). Audio: one entry, bps[0][0].
struct LayerBitrates {
  std::array<std::array<uint32_t, kMaxTemporalLayers>, kMaxSpatialLayers> bps{};

  // One bitrate per spatial layer, no temporal information: spatial({150'000, 500'000, 1'500'000}).
  static LayerBitrates spatial(std::initializer_list<uint32_t> per_spatial);
};

struct TrackLimits {
  uint32_t max_bitrate_bps = std::numeric_limits<uint32_t>::max();
  uint8_t max_spatial = 0xFF;
  uint8_t max_temporal = 0xFF;
};

struct Layer {
  uint8_t spatial = 0;
  uint8_t temporal = 0;
  friend bool operator==(const Layer&, const Layer&) = default;
};

// One decision for one local track: the layer to forward, or nullopt = paused.
struct LayerChange {
  LocalTrackId track = 0;
  std::optional<Layer> layer;
};

class BitrateAllocator {
 public:
  struct Config {
    double upgrade_margin = 0.12;         // fraction of the next layer's bitrate that must be spare to go up
    media::Micros min_dwell = 3'000'000;  // since the track's last change, before it may go up
  };

  BitrateAllocator() : BitrateAllocator(Config{}) {}
  explicit BitrateAllocator(Config config);

  // Track set and descriptions; they take effect at the next update(). Adding an existing id replaces its
  // description but keeps its current layer and dwell time.
  void add_track(LocalTrackId id, media::MediaKind kind, uint8_t priority, const LayerBitrates& layers,
                 TrackLimits limits = {});
  void remove_track(LocalTrackId id);  // no change is queued for a removed track
  void set_priority(LocalTrackId id, uint8_t priority);
  void set_limits(LocalTrackId id, TrackLimits limits);
  void set_layer_bitrates(LocalTrackId id, const LayerBitrates& layers);

  // Records the estimate and runs update(now).
  void set_estimate(media::Micros now, uint64_t bps);
  // Recomputes the allocation and queues what changed. Call it after changing tracks, and periodically (e.g.
  // once a second) so upgrades blocked only by the dwell time happen without a new estimate.
  void update(media::Micros now);

  std::optional<LayerChange> poll() { return changes_.pop(); }

  // The current decision for a track (nullopt = paused or unknown track).
  std::optional<Layer> current(LocalTrackId id) const;
  // Sum of the bitrates of the current decisions.
  uint64_t allocated_bps() const { return allocated_bps_; }
  uint64_t estimate_bps() const { return estimate_bps_; }

 private:
  struct Rung {
    Layer layer;
    uint32_t bps = 0;
  };
  struct Track {
    LocalTrackId id = 0;
    media::MediaKind kind = media::MediaKind::kVideo;
    uint8_t priority = 0;
    LayerBitrates layers;
    TrackLimits limits;
    // The allowed layers, ascending by bitrate; rebuilt when layers or limits change.
    std::array<Rung, kMaxSpatialLayers * kMaxTemporalLayers> ladder{};
    int ladder_size = 0;
    std::optional<Layer> current;  // the last decision
    bool ever_changed = false;
    media::Micros last_change = 0;
    // Scratch for one update().
    int held = -1;   // ladder index that may be taken without margin or dwell (the current layer or below)
    int level = -1;  // ladder index reached in this update; -1 = paused
    bool done = false;
  };

  Track* find(LocalTrackId id);
  const Track* find(LocalTrackId id) const;
  static void rebuild_ladder(Track& t);
  // Tries to move t one rung up within `remaining`; true if it did (and remaining was charged).
  bool step(Track& t, media::Micros now, uint64_t& remaining) const;
  void allocate_group(size_t begin, size_t end, media::Micros now, uint64_t& remaining);

  Config config_;
  std::vector<Track> tracks_;
  std::vector<size_t> order_;  // indices into tracks_: audio first, then by priority desc, then id
  bool order_dirty_ = true;
  uint64_t estimate_bps_ = 0;
  uint64_t allocated_bps_ = 0;
  RingQueue<LayerChange> changes_{16};
};

}  // namespace atrium::core
