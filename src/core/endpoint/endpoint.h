// The bridge between one client's transport and the cluster. It owns the client's view of its session:
// whether it is in a room, what it publishes (RemoteTrack) and what it receives (LocalTrack). It validates
// every control, answers bad ones with a coded error, and turns the rest into cluster controls; cluster
// events become transport events. The subscriber's bitrate control (layers under the estimate, desired
// bitrates, the bandwidth wanted) is SubscriberBitrateControl's.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <variant>

#include "core/endpoint/local_track.h"
#include "core/endpoint/remote_track.h"
#include "core/endpoint/subscriber_bitrate_control.h"
#include "core/events/cluster_control.h"
#include "core/events/cluster_event.h"
#include "core/events/endpoint_event.h"
#include "core/events/transport_event.h"
#include "core/util/ring_queue.h"

namespace atrium::core {

using EndpointOutput = std::variant<EndpointEvent, ClusterControl>;

class Endpoint {
 public:
  static constexpr size_t kMaxMetaLength = 16 * 1024;
  static constexpr size_t kMaxMessageLength = 16 * 1024;
  static constexpr size_t kMaxTracks = 64;

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
  const BitrateAllocator& allocator() const { return bitrate_.allocator(); }
  std::optional<uint64_t> estimate() const { return bitrate_.estimate(); }

 private:
  enum class State { kIdle, kJoining, kJoined };

  // Transport controls.
  void join(media::Micros now, JoinParams&& params);
  void leave();
  void publish(tev::Publish&& c);
  void unpublish(RemoteTrackId id);
  void attach(media::Micros now, tev::Attach&& c);
  void attach_mix(media::Micros now, LocalTrackId id, media::Codec codec);
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

  // Room state dropped on leaving or on a refused join.
  void clear_room();
  // The key-frame request and layer change a local track has queued.
  void flush_local(LocalTrack& t);

  // Where SubscriberBitrateControl's decisions go. Made for each call: the endpoint may move in its map.
  class BitrateSink final : public SubscriberBitrateControl::Sink {
   public:
    explicit BitrateSink(Endpoint& ep) : ep_(ep) {}
    void desired_bitrate(LocalTrackId id, uint32_t bps) override {
      ep_.control(ccl::LocalTrackDesiredBitrate{id, bps});
    }
    void bandwidth_wanted(uint64_t bps) override { ep_.emit(eev::BandwidthWanted{bps}); }
    void track_updated(LocalTrack& t, LocalTrackState before) override {
      ep_.flush_local(t);
      ep_.set_state(t, before);
    }

   private:
    Endpoint& ep_;
  };

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
  std::map<std::string, KnownTrack> kinds_;
  ActiveSpeakers speakers_;  // the last list told to the transport  // "peer\0track" of tracks announced to
                             // this endpoint

  SubscriberBitrateControl bitrate_;
  RingQueue<EndpointOutput> out_{64};
};

}  // namespace atrium::core
