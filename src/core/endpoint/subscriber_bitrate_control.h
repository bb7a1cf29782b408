// Subscriber-side bitrate control for one endpoint. Once the transport reports a bandwidth estimate, the
// BitrateAllocator picks each local track's layer from the layer bitrates the tracks measure (refreshed once
// a second); until then every track forwards its source's best layer. The estimate also caps the bitrate each
// track asks its publisher for (its desired bitrate), so publishers can stop layers nobody can take, and the
// sum of what the tracks could use (BandwidthWanted) tells the transport how far to probe.
//
// Sans-IO like the rest of the core: time is passed in, and decisions go to the Sink, which the Endpoint
// turns into events and cluster controls. The tracks stay the Endpoint's; each call is given them.
#pragma once

#include <cstdint>
#include <optional>
#include <unordered_map>

#include "core/bitrate/bitrate_allocator.h"
#include "core/endpoint/local_track.h"

namespace atrium::core {

class SubscriberBitrateControl {
 public:
  // Layer bitrates, allocation, desired bitrates and the wanted bandwidth are refreshed this often.
  static constexpr media::Micros kInterval = 1'000'000;
  // Desired bitrates and the wanted bandwidth are re-sent only when they move by more than this fraction.
  static constexpr double kChange = 0.10;
  // The transport's first estimate is its starting guess (600 kbit/s for WebRTC), and its estimator needs
  // feedback and a probe or two to find the link. Pausing a video on that guess froze the third page of a
  // call for 3-4 s after it joined (two 320x240 cameras measure over 600 kbit/s while their first key frames
  // are counted), so for kEstimateWarmup after the first estimate no video is paused for want of bandwidth:
  // it keeps its lowest layer.
  static constexpr media::Micros kEstimateWarmup = 5'000'000;

  using Tracks = std::unordered_map<LocalTrackId, LocalTrack>;
  class Sink {
   public:
    virtual ~Sink() = default;
    virtual void desired_bitrate(LocalTrackId id, uint32_t bps) = 0;
    virtual void bandwidth_wanted(uint64_t bps) = 0;
    // The track's target changed: its key-frame request, layer change and state are due.
    virtual void track_updated(LocalTrack& t, LocalTrackState before) = 0;
  };

  void on_estimate(media::Micros now, uint64_t bps, Tracks& tracks, Sink& sink);
  // Once a second (kInterval): measures, reallocates, reports what moved.
  void tick(media::Micros now, Tracks& tracks, Sink& sink);
  // Before a track attaches: under an estimate a new source starts at its lowest layer until it is measured.
  void before_attach(media::Micros now, LocalTrack& t);
  // The track's attachment, pause or limits changed: it takes its new share at the next reallocate().
  void track_changed(media::Micros now, LocalTrack& t);
  void reallocate(media::Micros now, Tracks& tracks, Sink& sink);
  // Tells the track's desired bitrate when it moved (or always, with `force`).
  void send_desired(LocalTrack& t, bool force, Sink& sink);
  // New limits: the desired bitrate is told at once, attached or not.
  void on_limits(media::Micros now, LocalTrack& t, Tracks& tracks, Sink& sink);
  void forget(LocalTrackId id);
  void reset();  // the endpoint left its room: no tracks any more (the estimate is the transport's, it stays)

  uint32_t desired_bitrate(const LocalTrack& t) const;
  const BitrateAllocator& allocator() const { return allocator_; }
  std::optional<uint64_t> estimate() const {
    return estimate_known_ ? std::optional<uint64_t>(estimate_bps_) : std::nullopt;
  }

 private:
  void apply_allocation(media::Micros now, Tracks& tracks, Sink& sink);

  BitrateAllocator allocator_;
  bool estimate_known_ = false;
  uint64_t estimate_bps_ = 0;
  media::Micros first_estimate_at_ = 0;
  uint64_t audio_bps_ = 0;  // what the audio local tracks take (for the video cap)
  media::Micros last_tick_ = 0;
  bool ticked_ = false;
  uint64_t wanted_reported_ = 0;
  std::unordered_map<LocalTrackId, uint32_t> desired_sent_;
};

}  // namespace atrium::core
