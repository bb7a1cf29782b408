// The ClusterBus for many nodes, over NATS: core::ChannelRouter (the same one LocalBus is) plus a relay.
// The core cannot tell it from LocalBus: local endpoints of a room are served by the router exactly as
// LocalBus serves them (the same RoomDirectory rules, local fan-out without NATS); as the router's
// ChannelRelay, the bus writes what other nodes must learn to NATS, and hands what they do to the router.
//
//   media      <prefix>.media.<channel hex>: binary frames, published only while another node wants the
//   channel feedback   <prefix>.fb.<channel hex>: interest (with desired bitrate), gone, key-frame request
//   directory  JetStream KV <rooms_bucket>: room.<room>.<peer> and room.<room>.<peer>.<track>, owned by one
//   bus liveness   heartbeats published to KV <nodes_bucket> node.<owner>; a silent owner's entries are
//   removed
//
// Threading: only libnats threads touch sockets. What they receive goes into an Inbox and `wake` is called
// when it goes non-empty; the runtime then calls hub.on_bus(now) on the worker. Every public method runs on
// the worker and never waits for NATS: media, feedback and directory writes are plain publishes, and every
// JetStream request (a join's peer claim, creating or deleting a room watch, binding the buckets) is a job
// on the bus's RequestThread, whose result comes back through the Inbox. A join is answered when its claim
// is. See docs/cluster.md.
#pragma once

#include <nats/nats.h>

#include <atomic>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "cluster/nats/inbox.h"
#include "cluster/nats/nats_bus_options.h"
#include "cluster/nats/peer_claims.h"
#include "cluster/nats/request_thread.h"
#include "cluster/nats/room_mirror.h"
#include "core/cluster/channel_router.h"
#include "core/cluster/cluster_bus.h"

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

class NatsClusterBus final : public core::ClusterBus, private core::ChannelRelay {
 public:
  using Wake = std::function<void()>;
  // Tests put a slower directory in front of the real one (the claim runs on the RequestThread either way).
  using ClaimsDecorator = std::function<std::unique_ptr<PeerClaims>(std::unique_ptr<PeerClaims> real)>;
  struct Connected {
    std::unique_ptr<NatsClusterBus> bus;
    std::string error;  // one line, set when bus is null
  };
  // Connects, makes sure both buckets exist, starts heartbeats. `wake` runs on a libnats thread or the
  // RequestThread.
  static Connected connect(const NatsBusOptions& options, Wake wake, ClaimsDecorator decorate = {});
  // Removes this node's entries (a clean leave for every local peer) and closes the connection.
  ~NatsClusterBus() override;
  NatsClusterBus(const NatsClusterBus&) = delete;
  NatsClusterBus& operator=(const NatsClusterBus&) = delete;

  void send(media::Micros now, core::EndpointId from, core::ClusterControl&& control) override;
  std::optional<core::ClusterDelivery> pop_delivery() override;
  void on_tick(media::Micros now) override;
  core::BusStats stats() const override { return router_.stats(); }

  NatsBusStats nats_stats() const;
  const std::string& owner() const { return owner_; }  // node_id plus a random suffix: one per instance
  const core::RoomDirectory* room(const std::string& name) const { return router_.room(name); }
  // Drops the connection as a crash would (kill -9): nothing is removed from NATS, the bus goes quiet.
  void abandon();

 private:
  NatsClusterBus(const NatsBusOptions& options, Wake wake);

  struct RemoteInterest {
    uint32_t bps = 0;
    media::Micros last_seen = 0;
  };
  // What NATS needs of a channel beyond the router's view of it.
  struct RelayChannel {
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
  // A room this node hosts (one with a local member or pending join): its keys watched, its messages heard.
  struct HostedRoom {
    RoomMirror mirror;
    natsSubscription* watch = nullptr;
    uint64_t watch_ticket = 0;  // the watch request in flight (0: none); a completion with another is stale
    natsSubscription* messages = nullptr;  // <prefix>.msg.<room token>
    natsSubscription* levels = nullptr;    // <prefix>.lvl.<room token>
    struct RemoteSpeaker {
      core::ActiveSpeakerDetector::Slot slot = 0;
      media::Micros last_heard = 0;
    };
    std::unordered_map<std::string, RemoteSpeaker> remote_speakers;  // peers on other nodes, by name
  };
  struct OwnerSeen {
    media::Micros last_seen = 0;
    bool left = false;  // it said goodbye (deleted its heartbeat): its expiry is no death, only a last sweep
  };

  std::string open(const NatsBusOptions& options);  // "" or the one-line reason
  bool ensure_buckets(std::string& error);          // blocking: at open, then only on the RequestThread
  bool connected() const;

  // Joins: the router holds the join while the RequestThread claims the peer id; the verdict comes back as
  // a completion.
  void on_join(core::EndpointId from, const core::JoinParams& params);
  void on_claimed(core::EndpointId from, uint64_t ticket, ClaimResult result, const std::string& room,
                  const std::string& peer);
  // The join's claim stops mattering (withdrawn, or past join_timeout): a job queued behind the claim gives
  // the key back if the claim took it.
  void abandon_claim(core::EndpointId from, const core::JoinParams& params);
  void expire_claims(media::Micros now);  // on_tick: joins past join_timeout are refused as unavailable
  // A key a claim of ours may hold with no local endpoint behind it (withdrawn, timed out, unanswered): it is
  // deleted if ours, retried every kRetryInterval until NATS gives a definite answer (on_tick).
  struct Doubtful {
    uint64_t generation = 0;  // a give-back's answer for an older generation is stale
    media::Micros next_try = 0;
    bool in_flight = false;
  };
  void give_back(const std::string& key);
  void try_give_back(const std::string& key, Doubtful& d);
  void retry_give_backs(media::Micros now);

  // core::ChannelRelay: what the router tells other nodes through NATS.
  void room_opened(const std::string& room) override;
  void room_closed(const std::string& room) override;
  void join_cancelled(core::EndpointId ep, const core::JoinParams& params) override;
  void peer_meta_changed(const core::RouterMember& m) override;
  void peer_left(const core::RouterMember& m) override;
  void track_published(const core::RouterChannel& ch) override;
  void track_meta_changed(const core::RouterChannel& ch) override;
  void track_unpublished(const core::RouterChannel& ch) override;
  void media(const core::RouterChannel& ch, const media::MediaPacket& pkt) override;
  void remote_channel_opened(const core::RouterChannel& ch) override;
  void remote_channel_closed(const core::RouterChannel& ch, bool source_ended) override;
  void remote_key_frame_wanted(const core::RouterChannel& ch, uint8_t spatial_layer) override;
  void remote_bitrate_wanted(const core::RouterChannel& ch, uint32_t bps) override;
  void message(const std::string& room, const std::string& from, const std::string& to,
               const std::string& data) override;

  // What arrives from NATS, on the worker.
  void process(InboxItem& item);
  void on_room_entry(natsMsg* msg);
  void on_feedback(natsMsg* msg);
  void on_remote_media(natsMsg* msg);
  void on_heartbeat(natsMsg* msg);
  void on_message(natsMsg* msg);
  void on_levels(natsMsg* msg);
  void relay_levels(media::Micros now);  // on_tick: our bins out, silent remote speakers forgotten
  void update_remote_want(core::ChannelId id, RelayChannel& r);  // the max over other nodes, to the router
  void resync();
  void on_buckets_bound(bool ok);
  void end_remote_tracks(const std::string& room, const std::vector<RoomMirror::TrackRef>& ended);
  void remove_dead_owner(const std::string& owner);
  void note_owner(const std::string& owner);

  // Room watches are JetStream consumers: created and deleted on the RequestThread.
  std::string message_subject(const std::string& room) const;
  std::string levels_subject(const std::string& room) const;
  void request_watch(const std::string& room, HostedRoom& r);
  void on_watch_started(const std::string& room, uint64_t ticket, natsSubscription* sub);
  void drop_watch(natsSubscription*& sub);

  // NATS output; each is a no-op without a connection, and none waits for an answer.
  natsSubscription* subscribe(const std::string& subject, InboxKind kind);
  void unsubscribe(natsSubscription*& sub);  // plain subscriptions only (a watch: drop_watch)
  void kv_put(const std::string& key, const std::string& value);
  void kv_delete(const std::string& key);
  void delete_marker(const std::string& subject);  // a KV delete, as kvStore_Delete writes it
  void put_peer(const core::RouterMember& m);
  void put_track(const core::RouterChannel& ch);
  void heartbeat();
  void send_feedback(core::ChannelId id, const RelayChannel& r, uint8_t type, uint32_t bps,
                     uint8_t spatial_layer = core::kAnySpatialLayer);
  void close_connection();

  NatsBusOptions options_;
  std::string owner_;
  std::string rooms_prefix_;  // "$KV.<rooms_bucket>."
  std::string nodes_prefix_;  // "$KV.<nodes_bucket>."
  std::shared_ptr<Inbox> inbox_;
  natsConnection* conn_ = nullptr;
  jsCtx* js_ = nullptr;
  KvBuckets buckets_;  // after open, only the RequestThread touches them
  std::unique_ptr<PeerClaims> claims_;
  natsSubscription* heartbeat_sub_ = nullptr;
  bool abandoned_ = false;

  // Watches the RequestThread created and has not deleted; whatever is left at close is destroyed there.
  std::mutex watches_mutex_;
  std::set<natsSubscription*> watches_;

  static constexpr media::Micros kRetryInterval = 1'000'000;
  // Audio levels: sent every kLevelInterval per hosted room with audio here; a remote speaker not heard of
  // for kRemoteSpeakerTtl is dropped from the room's detector (its track ended or its node died).
  static constexpr media::Micros kLevelInterval = 200'000;
  static constexpr media::Micros kRemoteSpeakerTtl = 3'000'000;
  media::Micros last_levels_ = 0;
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
  bool binding_buckets_ = false;  // a resync's bucket job is in flight

  core::ChannelRouter router_{this};
  std::vector<InboxItem> batch_;  // taken from the inbox; media payloads in it stay valid for one pump cycle
  size_t batch_pos_ = 0;
  bool cycle_open_ = false;
  bool batch_taken_ = false;
  std::vector<uint8_t> frame_;  // reused encode buffer

  std::unordered_map<std::string, HostedRoom> hosted_;
  std::unordered_map<core::ChannelId, RelayChannel> relays_;
  struct ClaimInFlight {
    uint64_t ticket = 0;
    media::Micros deadline = 0;  // refused as unavailable if the claim has not completed by then
    // Set on the worker when the join goes (withdrawn or timed out): a claim job that has not started skips
    // the requests.
    std::shared_ptr<std::atomic<bool>> withdrawn;
  };
  std::unordered_map<core::EndpointId, ClaimInFlight> claims_in_flight_;
  std::unordered_map<std::string, Doubtful> doubtful_;  // peer keys to give back
  uint64_t next_ticket_ = 1;
  std::unordered_map<std::string, OwnerSeen> owners_;  // other bus instances we depend on

  uint64_t relayed_in_ = 0;
  uint64_t relayed_out_ = 0;
  uint64_t relay_errors_ = 0;
  uint64_t reconnects_ = 0;
  uint64_t dead_nodes_ = 0;

  // The destructor stops it first, so no job runs while what jobs use goes away.
  RequestThread requests_;
};

}  // namespace atrium::cluster::nats
