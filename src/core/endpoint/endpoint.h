// The bridge between one client's transport and the cluster. It owns the client's view of its session:
// whether it is in a room, what it publishes (RemoteTrack) and what it receives (LocalTrack). It validates
// every control, answers bad ones with a coded error, and turns the rest into cluster controls; cluster
// events become transport events.
//
// Subscriber side bitrate control: once the transport reports a bandwidth estimate, the endpoint's
// BitrateAllocator picks each local track's layer from the layer bitrates the tracks measure (refreshed once
// a second); until then every track forwards its source's best layer. The estimate also caps the bitrate each
// track asks its publisher for, so publishers can stop layers nobody can take.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <variant>

#include "core/bitrate/bitrate_allocator.h"
#include "core/endpoint/local_track.h"
#include "core/endpoint/remote_track.h"
#include "core/events/cluster_control.h"
#include "core/events/cluster_event.h"
#include "core/events/endpoint_event.h"
#include "core/events/transport_event.h"
#include "core/util/ring_queue.h"

namespace atrium::core {

using EndpointOutput = std::variant<EndpointEvent, ClusterControl>;

class Endpoint {
 public:
  static constexpr size_t kMaxNameLength = 128;
  static constexpr size_t kMaxMetaLength = 16 * 1024;
  static constexpr size_t kMaxMessageLength = 16 * 1024;
  static constexpr size_t kMaxTracks = 64;
  // Layer bitrates, allocation, desired bitrates and the wanted bandwidth are refreshed this often.
  static constexpr media::Micros kBitrateInterval = 1'000'000;
  // Desired bitrates and the wanted bandwidth are re-sent only when they move by more than this fraction.
  static constexpr double kBitrateChange = 0.10;

  explicit Endpoint(EndpointId id) : id_(id) {}

  void on_transport(media::Micros now, TransportEvent&& event);
  void on_cluster(media::Micros now, ClusterEvent&& event);
  void on_tick(media::Micros now);
  std::optional<EndpointOutput> pop_output() { return out_.pop(); }

  EndpointId id() const { return id_; }
  bool joined() const { return state_ == State::kJoined; }
  bool joining() const { return state_ == State::kJoining; }  // the bus has not answered the join yet
  const JoinParams& join_params() const { return params_; }
  const std::unordered_map<RemoteTrackId, RemoteTrack>& remote_tracks() const { return remote_; }
  const std::unordered_map<LocalTrackId, LocalTrack>& local_tracks() const { return local_; }
  const RemoteTrack* remote_track(RemoteTrackId id) const;
  const LocalTrack* local_track(LocalTrackId id) const;
  const BitrateAllocator& allocator() const { return allocator_; }
  std::optional<uint64_t> estimate() const {
    return estimate_known_ ? std::optional<uint64_t>(estimate_bps_) : std::nullopt;
  }

 private:
  enum class State { kIdle, kJoining, kJoined };

  // Transport controls.
  void join(media::Micros now, JoinParams&& params);
  void leave();
  void publish(tev::Publish&& c);
  void unpublish(RemoteTrackId id);
  void attach(media::Micros now, tev::Attach&& c);
  void detach(LocalTrackId id);
  void on_remote_media(tev::RemoteMedia& m);

  // Cluster events.
  void on_local_media(media::Micros now, const cev::LocalTrackMedia& m);
  void release_local(LocalTrackId id, bool source_ended);

  bool in_room() const { return state_ != State::kIdle; }
  bool require_room(const char* action);
  void error(ErrorCode code, std::string message);
  void emit(EndpointEvent&& e) { out_.push(EndpointOutput{std::in_place_index<0>, std::move(e)}); }
  void control(ClusterControl&& c) { out_.push(EndpointOutput{std::in_place_index<1>, std::move(c)}); }
  void set_state(LocalTrack& t, LocalTrackState before);
  LocalTrack* find_local(LocalTrackId id, const char* action);

  // Bitrate control.
  void flush_local(LocalTrack& t);  // queued key-frame requests and layer changes
  uint32_t desired_bitrate(const LocalTrack& t) const;
  void send_desired(LocalTrack& t, bool force);
  TrackLimits allocator_limits(const LocalTrack& t) const;
  void allocator_add(media::Micros now, LocalTrack& t);
  void apply_allocation(media::Micros now);
  void bitrate_tick(media::Micros now);
  void forget_local(LocalTrackId id);

  EndpointId id_;
  State state_ = State::kIdle;
  JoinParams params_;
  std::unordered_map<RemoteTrackId, RemoteTrack> remote_;
  std::unordered_map<LocalTrackId, LocalTrack> local_;
  std::set<std::string> watched_;
  struct KnownTrack {
    media::MediaKind kind = media::MediaKind::kVideo;
    uint8_t layers = 1;
  };
  std::map<std::string, KnownTrack> kinds_;  // "peer\0track" of tracks announced to this endpoint

  BitrateAllocator allocator_;
  bool estimate_known_ = false;
  uint64_t estimate_bps_ = 0;
  uint64_t audio_bps_ = 0;  // what the audio local tracks take (for the video cap)
  media::Micros last_bitrate_tick_ = 0;
  bool bitrate_ticked_ = false;
  uint64_t wanted_reported_ = 0;
  std::unordered_map<LocalTrackId, uint32_t> desired_sent_;
  RingQueue<EndpointOutput> out_{64};
};

}  // namespace atrium::core
