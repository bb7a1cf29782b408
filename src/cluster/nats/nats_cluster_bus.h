// The ClusterBus for many nodes, over NATS. The core cannot tell it from LocalBus: local endpoints of a room
// are served exactly as LocalBus serves them (the same RoomDirectory rules, local fan-out without NATS), and
// what other nodes do arrives as the same cluster events.
//
//   media      <prefix>.media.<channel hex>: binary frames, published only while another node wants the
//   channel feedback   <prefix>.fb.<channel hex>: interest (with desired bitrate), gone, key-frame request
//   directory  JetStream KV <rooms_bucket>: room.<room>.<peer> and room.<room>.<peer>.<track>, owned by one
//   bus liveness   heartbeats published to KV <nodes_bucket> node.<owner>; a silent owner's entries are
//   removed
//
// Threading: only libnats threads touch sockets. What they receive goes into an Inbox and `wake` is called
// when it goes non-empty; the runtime then calls hub.on_bus(now) on the worker. Every public method runs on
// the worker. Directory set-up (join, watching a room, buckets) makes a JetStream request on the worker (one
// round trip, bounded by request_timeout_ms, skipped while disconnected); media and feedback never block. See
// docs/cluster.md.
#pragma once

#include <nats/nats.h>

#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "cluster/nats/inbox.h"
#include "cluster/nats/nats_bus_options.h"
#include "cluster/nats/room_mirror.h"
#include "core/cluster/cluster_bus.h"
#include "core/room/room_directory.h"
#include "core/util/ring_queue.h"

namespace atrium::cluster::nats {

struct NatsBusStats {
  std::string connection;        // connected, reconnecting, disconnected, closed, ...
  uint64_t relayed_in = 0;       // media frames received from other nodes and delivered here
  uint64_t relayed_out = 0;      // media frames published for other nodes
  uint64_t relay_errors = 0;     // frames that could not be published or decoded
  size_t directory_entries = 0;  // peers and tracks (own and others') in the rooms this node hosts
  uint64_t reconnects = 0;
  uint64_t dead_nodes = 0;  // owners declared dead, whose entries this node removed
};

class NatsClusterBus final : public core::ClusterBus {
 public:
  using Wake = std::function<void()>;
  struct Connected {
    std::unique_ptr<NatsClusterBus> bus;
    std::string error;  // one line, set when bus is null
  };
  // Connects, makes sure both buckets exist, starts heartbeats. `wake` runs on a libnats thread.
  static Connected connect(const NatsBusOptions& options, Wake wake);
  // Removes this node's entries (a clean leave for every local peer) and closes the connection.
  ~NatsClusterBus() override;
  NatsClusterBus(const NatsClusterBus&) = delete;
  NatsClusterBus& operator=(const NatsClusterBus&) = delete;

  void send(media::Micros now, core::EndpointId from, core::ClusterControl&& control) override;
  std::optional<core::ClusterDelivery> pop_delivery() override;
  void on_tick(media::Micros now) override;
  core::BusStats stats() const override;

  NatsBusStats nats_stats() const;
  const std::string& owner() const { return owner_; }  // node_id plus a random suffix: one per instance
  const core::RoomDirectory* room(const std::string& name) const;
  // Drops the connection as a crash would (kill -9): nothing is removed from NATS, the bus goes quiet.
  void abandon();

 private:
  NatsClusterBus(const NatsBusOptions& options, Wake wake);

  struct Member {
    std::string room;
    std::string peer;
    std::string meta;
  };
  struct Subscriber {
    core::EndpointId ep;
    core::LocalTrackId id;
    uint32_t desired_bps;  // UINT32_MAX: no limit
  };
  struct RemoteInterest {
    uint32_t bps = 0;
    media::Micros last_seen = 0;
  };
  struct Channel {
    core::ChannelId id = 0;
    std::string room;
    std::string peer;
    core::TrackInfo info;
    core::EndpointId publisher = 0;  // 0: the publisher is on another node
    core::RemoteTrackId remote = 0;
    std::vector<Subscriber> subscribers;  // local ones
    uint32_t announced_bps = 0;           // publisher here: what its endpoint was last told
    std::string media_subject;
    std::string feedback_subject;
    natsSubscription* sub = nullptr;  // publisher here: its feedback; publisher elsewhere: its media
    // Publisher here: which other nodes want it. Media is relayed while one of them wants more than 0 bps.
    std::map<std::string, RemoteInterest> interest;
    bool relay = false;
    // Publisher elsewhere: what this node last asked for.
    uint32_t sent_bps = 0;
    media::Micros last_interest = 0;
  };
  struct Room {
    core::RoomDirectory dir;
    RoomMirror mirror;
    natsSubscription* watch = nullptr;
    natsSubscription* messages = nullptr;  // <prefix>.msg.<room token>
    size_t members = 0;
  };
  struct OwnerSeen {
    media::Micros last_seen = 0;
    bool left = false;  // it said goodbye (deleted its heartbeat): its expiry is no death, only a last sweep
  };
  struct EpTrack {
    core::EndpointId ep;
    uint32_t id;
    bool operator==(const EpTrack&) const = default;
  };
  struct EpTrackHash {
    size_t operator()(const EpTrack& k) const {
      return std::hash<uint64_t>()(k.ep * 0x9e3779b97f4a7c15ULL ^ k.id);
    }
  };
  enum class Claim { kClaimed, kTaken, kUnavailable };

  std::string open(const NatsBusOptions& options);  // "" or the one-line reason
  bool ensure_buckets(std::string& error);
  bool connected() const;

  // Controls from local endpoints (as LocalBus, plus what other nodes must learn).
  void on_join(core::EndpointId from, const core::JoinParams& params);
  void on_leave(core::EndpointId from);
  void on_track_started(core::EndpointId from, const Member& m, core::RemoteTrackId id,
                        const core::TrackInfo& info);
  void on_track_ended(core::EndpointId from, const Member& m, core::RemoteTrackId id);
  void on_media(core::EndpointId from, core::RemoteTrackId id, const media::MediaPacket& pkt);
  void on_local_started(core::EndpointId from, const Member& m, const core::ccl::LocalTrackStarted& c);
  void on_local_ended(core::EndpointId from, core::LocalTrackId id);
  void on_keyframe_request(core::EndpointId from, core::LocalTrackId id, uint8_t spatial_layer);
  void announce_bitrate(Channel& ch);
  Claim claim_peer(const std::string& room, const std::string& peer, const std::string& meta);
  bool owner_alive(const std::string& owner);

  // What arrives from NATS, on the worker.
  void process(InboxItem& item);
  void on_room_entry(natsMsg* msg);
  void on_feedback(natsMsg* msg);
  void on_remote_media(natsMsg* msg);
  void on_heartbeat(natsMsg* msg);
  void on_message(natsMsg* msg);
  void on_peer_message(core::EndpointId from, const Member& m, Room& room, core::ccl::PeerMessage& c);
  void resync();
  void end_remote_tracks(const std::string& room, const std::vector<RoomMirror::TrackRef>& ended);
  void remove_dead_owner(const std::string& owner);
  void note_owner(const std::string& owner);

  // Hosting a room = watching its keys while a local endpoint is in it.
  Room& host(const std::string& room);
  void unhost_if_idle(const std::string& room);
  std::string message_subject(const std::string& room) const;
  bool start_watch(const std::string& room, Room& r);

  // NATS output; each is a no-op without a connection.
  natsSubscription* subscribe(const std::string& subject, InboxKind kind);
  void unsubscribe(natsSubscription*& sub);
  void kv_put(const std::string& key, const std::string& value);
  void kv_delete(const std::string& key);
  void delete_marker(const std::string& subject);  // a KV delete, as kvStore_Delete writes it
  void put_peer(const Member& m);
  void put_track(const Channel& ch);
  void heartbeat();
  void send_feedback(const Channel& ch, uint8_t type, uint32_t bps,
                     uint8_t spatial_layer = core::kAnySpatialLayer);
  void close_connection();

  NatsBusOptions options_;
  std::string owner_;
  std::string rooms_prefix_;  // "$KV.<rooms_bucket>."
  std::string nodes_prefix_;  // "$KV.<nodes_bucket>."
  std::shared_ptr<Inbox> inbox_;
  natsConnection* conn_ = nullptr;
  jsCtx* js_ = nullptr;
  kvStore* rooms_kv_ = nullptr;
  kvStore* nodes_kv_ = nullptr;
  natsSubscription* heartbeat_sub_ = nullptr;
  bool abandoned_ = false;

  static constexpr media::Micros kRetryInterval = 1'000'000;
  // The latest time the runtime gave us (send, on_tick); what arrives from NATS is stamped with it. Before
  // the first one, stamps are kUnstamped and the first tick replaces them (a 0 would look ancient: instantly
  // dead).
  static constexpr media::Micros kUnstamped = std::numeric_limits<media::Micros>::min();
  media::Micros stamp() const { return clock_known_ ? now_ : kUnstamped; }
  media::Micros now_ = 0;
  bool clock_known_ = false;
  media::Micros last_heartbeat_ = 0;
  media::Micros retry_at_ = 0;  // no set-up retry (resync, room watch) before this
  bool resync_pending_ = false;

  core::RingQueue<core::ClusterDelivery> out_{256};
  std::vector<InboxItem> batch_;  // taken from the inbox; media payloads in it stay valid for one pump cycle
  size_t batch_pos_ = 0;
  bool cycle_open_ = false;
  bool batch_taken_ = false;
  std::vector<uint8_t> frame_;  // reused encode buffer

  std::unordered_map<std::string, Room> rooms_;
  std::unordered_map<core::EndpointId, Member> members_;
  std::unordered_map<core::ChannelId, Channel> channels_;
  std::unordered_map<EpTrack, core::ChannelId, EpTrackHash> published_;
  std::unordered_map<EpTrack, core::ChannelId, EpTrackHash> subscribed_;
  std::unordered_map<std::string, OwnerSeen> owners_;  // other bus instances we depend on

  uint64_t relayed_in_ = 0;
  uint64_t relayed_out_ = 0;
  uint64_t relay_errors_ = 0;
  uint64_t reconnects_ = 0;
  uint64_t dead_nodes_ = 0;
};

}  // namespace atrium::cluster::nats
