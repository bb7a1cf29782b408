// Connecting, the buckets, subscriptions and every write to NATS. Each write is fire-and-forget (a plain
// publish that the KV stream stores); what a disconnection loses is re-asserted after the reconnect. Room
// watches are JetStream consumers, created and deleted by jobs on the RequestThread.
#include <random>

#include "cluster/nats/key_codec.h"
#include "cluster/nats/nats_cluster_bus.h"
#include "cluster/nats/wire_format.h"

namespace atrium::cluster::nats {

using core::ChannelId;
using core::RouterChannel;
using core::RouterMember;

namespace {

struct SubClosure {
  std::shared_ptr<Inbox> inbox;
  InboxKind kind;
};

void on_nats_msg(natsConnection*, natsSubscription*, natsMsg* msg, void* closure) {
  auto* c = static_cast<SubClosure*>(closure);
  c->inbox->push(c->kind, msg);
}

// libnats calls this once the subscription is closed and its handler has returned for the last time.
void on_sub_complete(void* closure) {
  delete static_cast<SubClosure*>(closure);
}

void adopt(natsSubscription* sub, SubClosure* closure) {
  // If this fails the subscription is already closed and a handler may still be running: the closure is left
  // alive rather than risk freeing it under that handler.
  natsSubscription_SetOnCompleteCB(sub, on_sub_complete, closure);
}

struct ConnClosure {
  std::shared_ptr<Inbox> inbox;
};

void on_disconnected(natsConnection*, void* closure) {
  static_cast<ConnClosure*>(closure)->inbox->push(InboxKind::kDisconnected, nullptr);
}

void on_reconnected(natsConnection*, void* closure) {
  static_cast<ConnClosure*>(closure)->inbox->push(InboxKind::kReconnected, nullptr);
}

void on_closed(natsConnection*, void* closure) {  // the last connection callback: its closure goes with it
  auto* c = static_cast<ConnClosure*>(closure);
  c->inbox->push(InboxKind::kClosed, nullptr);
  delete c;
}

std::vector<std::string> split_servers(const std::string& list) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= list.size()) {
    size_t end = list.find(',', start);
    if (end == std::string::npos) end = list.size();
    std::string s = list.substr(start, end - start);
    while (!s.empty() && s.front() == ' ')
      s.erase(s.begin());
    while (!s.empty() && s.back() == ' ')
      s.pop_back();
    if (!s.empty()) out.push_back(s);
    start = end + 1;
  }
  return out;
}

std::string random_suffix() {
  std::random_device rd;
  const uint64_t v = (static_cast<uint64_t>(rd()) << 32) ^ rd();
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s(8, '0');
  for (size_t i = 0; i < s.size(); ++i)
    s[i] = kHex[(v >> (4 * i)) & 0xf];
  return s;
}

std::string status_text(natsStatus s) {
  std::string text = natsStatus_GetText(s);
  const char* detail = nats_GetLastError(nullptr);
  if (detail && *detail && text.find(detail) == std::string::npos) text += std::string(" (") + detail + ")";
  return text;
}

}  // namespace

NatsClusterBus::NatsClusterBus(const NatsBusOptions& options, Wake wake)
    : options_(options),
      owner_(options.node_id + "-" + random_suffix()),
      rooms_prefix_("$KV." + options.rooms_bucket + "."),
      nodes_prefix_("$KV." + options.nodes_bucket + "."),
      inbox_(std::make_shared<Inbox>(std::move(wake))) {}

NatsClusterBus::Connected NatsClusterBus::connect(const NatsBusOptions& options, Wake wake,
                                                  ClaimsDecorator decorate) {
  std::unique_ptr<NatsClusterBus> bus(new NatsClusterBus(options, std::move(wake)));
  bus->claims_ = std::make_unique<KvPeerClaims>(bus->buckets_, bus->owner_);
  if (decorate) bus->claims_ = decorate(std::move(bus->claims_));
  std::string error = bus->open(options);
  if (!error.empty()) return {nullptr, error};
  return {std::move(bus), {}};
}

std::string NatsClusterBus::open(const NatsBusOptions& options) {
  const auto servers = split_servers(options.servers);
  if (servers.empty()) return "no NATS server given (--cluster nats://HOST:PORT)";
  natsOptions* raw = nullptr;
  if (natsOptions_Create(&raw) != NATS_OK) return "cannot initialise the NATS client library";
  OptionsPtr opts(raw);
  std::vector<const char*> urls;
  for (const auto& s : servers)
    urls.push_back(s.c_str());
  if (natsOptions_SetServers(raw, urls.data(), static_cast<int>(urls.size())) != NATS_OK)
    return "invalid NATS server URL in '" + options.servers + "'";
  natsOptions_SetName(raw, owner_.c_str());
  natsOptions_SetTimeout(raw, options.connect_timeout_ms);
  natsOptions_SetMaxReconnect(raw, -1);  // a node outlives any NATS outage
  natsOptions_SetReconnectWait(raw, options.reconnect_wait_ms);
  natsOptions_SetReconnectBufSize(raw, options.reconnect_buffer_bytes);
  natsOptions_SetSendAsap(raw, options.send_asap);
  natsOptions_SetNoEcho(raw, true);                 // a node never needs what it published itself
  natsOptions_UseGlobalMessageDelivery(raw, true);  // one delivery thread, not one per channel
  auto* closure = new ConnClosure{inbox_};
  natsOptions_SetDisconnectedCB(raw, on_disconnected, closure);
  natsOptions_SetReconnectedCB(raw, on_reconnected, closure);
  natsOptions_SetClosedCB(raw, on_closed, closure);
  natsStatus s = natsConnection_Connect(&conn_, raw);
  if (s != NATS_OK) {
    delete closure;  // a connection that never opened calls no callback
    conn_ = nullptr;
    return "cannot reach NATS at " + options.servers + ": " + status_text(s);
  }
  jsOptions jo;
  jsOptions_Init(&jo);
  jo.Wait = options.request_timeout_ms;
  if ((s = natsConnection_JetStream(&js_, conn_, &jo)) != NATS_OK)
    return "NATS JetStream context failed: " + status_text(s);
  std::string error;
  if (!ensure_buckets(error)) return error;
  heartbeat_sub_ = subscribe(nodes_prefix_ + "node.*", InboxKind::kHeartbeat);
  if (!heartbeat_sub_) return "cannot subscribe to heartbeats on NATS at " + options.servers;
  heartbeat();
  return {};
}

bool NatsClusterBus::ensure_buckets(std::string& error) {
  // Binds both buckets again (after a restart NATS may have lost them), keeping the old handles on failure.
  auto bind = [&](kvStore*& kv, const std::string& bucket, int64_t ttl_ns) {
    kvStore* fresh = nullptr;
    natsStatus s = js_KeyValue(&fresh, js_, bucket.c_str());
    if (s != NATS_OK) {
      kvConfig cfg;
      kvConfig_Init(&cfg);
      cfg.Bucket = bucket.c_str();
      cfg.History = 1;
      cfg.TTL = ttl_ns;  // libnats 3.4 hands this to the stream's MaxAge as is: nanoseconds
      s = js_CreateKeyValue(&fresh, js_, &cfg);
    }
    if (s != NATS_OK) {
      error = "cannot open the KV bucket '" + bucket + "' on NATS at " + options_.servers +
              " (is JetStream enabled, nats-server -js?): " + status_text(s);
      return false;
    }
    if (kv) kvStore_Destroy(kv);
    kv = fresh;
    return true;
  };
  return bind(buckets_.rooms, options_.rooms_bucket, 0) &&
         bind(buckets_.nodes, options_.nodes_bucket, std::max<int64_t>(100'000, options_.node_ttl) * 1000);
}

bool NatsClusterBus::connected() const {
  return conn_ && !abandoned_ && natsConnection_Status(conn_) == NATS_CONN_STATUS_CONNECTED;
}

natsSubscription* NatsClusterBus::subscribe(const std::string& subject, InboxKind kind) {
  if (!conn_ || abandoned_) return nullptr;
  auto* closure = new SubClosure{inbox_, kind};
  natsSubscription* sub = nullptr;
  if (natsConnection_Subscribe(&sub, conn_, subject.c_str(), on_nats_msg, closure) != NATS_OK) {
    delete closure;
    return nullptr;
  }
  adopt(sub, closure);
  return sub;
}

void NatsClusterBus::request_watch(const std::string& room, HostedRoom& r) {
  if (r.watch || r.watch_ticket || !connected()) return;
  const uint64_t ticket = next_ticket_++;
  r.watch_ticket = ticket;
  requests_.post([this, room, ticket] {
    const std::string stream = "KV_" + options_.rooms_bucket;
    const std::string subject = rooms_prefix_ + room_filter(room);
    jsSubOptions so;
    jsSubOptions_Init(&so);
    so.Stream = stream.c_str();
    // A plain ephemeral push consumer, not libnats's "ordered" one: a push consumer on one connection
    // delivers in order anyway, after a reconnect the bus replaces it itself, and the ordered consumer's own
    // reset races unsubscribing in libnats 3.4 (use-after-free in jsSub_deleteConsumer under ASan).
    so.Config.DeliverPolicy = js_DeliverLastPerSubject;  // the room as it is now, then every change
    so.Config.AckPolicy = js_AckNone;
    so.Config.InactiveThreshold = 30'000'000'000;  // the server drops it 30 s after we vanished
    auto* closure = new SubClosure{inbox_, InboxKind::kRoomEntry};
    natsSubscription* sub = nullptr;
    jsErrCode jerr = static_cast<jsErrCode>(0);
    if (js_Subscribe(&sub, js_, subject.c_str(), on_nats_msg, closure, nullptr, &so, &jerr) != NATS_OK) {
      delete closure;
      sub = nullptr;
    } else {
      adopt(sub, closure);
      std::lock_guard lock(watches_mutex_);
      watches_.insert(sub);
    }
    inbox_->push_completion([this, room, ticket, sub] { on_watch_started(room, ticket, sub); });
  });
}

void NatsClusterBus::on_watch_started(const std::string& room, uint64_t ticket, natsSubscription* sub) {
  auto it = hosted_.find(room);
  if (it == hosted_.end() || it->second.watch_ticket != ticket) {  // closed or replaced meanwhile
    drop_watch(sub);
    return;
  }
  it->second.watch_ticket = 0;
  if (!sub) {
    retry_at_ = now_ + kRetryInterval;
    return;
  }
  it->second.watch = sub;
}

void NatsClusterBus::drop_watch(natsSubscription*& sub) {
  if (!sub) return;
  natsSubscription* watch = sub;
  sub = nullptr;
  requests_.post([this, watch] {
    {
      std::lock_guard lock(watches_mutex_);
      if (!watches_.erase(watch)) return;
    }
    // Unsubscribe first deletes the consumer (one request). natsSubscription_Destroy alone would leave the
    // consumer pushing to us, and libnats 3.4 then crashes in natsConn_processMsg when watches come and go
    // (reproduced under ASan with a few hundred create/destroy cycles). Without a connection the request
    // cannot be made; the server drops the consumer after its inactive threshold.
    if (natsConnection_Status(conn_) == NATS_CONN_STATUS_CONNECTED) natsSubscription_Unsubscribe(watch);
    natsSubscription_Destroy(watch);
  });
}

void NatsClusterBus::unsubscribe(natsSubscription*& sub) {
  if (!sub) return;
  if (connected()) natsSubscription_Unsubscribe(sub);  // a plain subscription: one UNSUB line, no answer
  natsSubscription_Destroy(sub);
  sub = nullptr;
}

void NatsClusterBus::kv_put(const std::string& key, const std::string& value) {
  if (!conn_ || abandoned_) return;
  const std::string subject = rooms_prefix_ + key;
  natsConnection_Publish(conn_, subject.c_str(), value.data(), static_cast<int>(value.size()));
}

void NatsClusterBus::kv_delete(const std::string& key) {
  delete_marker(rooms_prefix_ + key);
}

void NatsClusterBus::delete_marker(const std::string& subject) {
  if (!conn_ || abandoned_) return;
  natsMsg* raw = nullptr;
  if (natsMsg_Create(&raw, subject.c_str(), nullptr, nullptr, 0) != NATS_OK) return;
  MsgPtr msg(raw);
  natsMsgHeader_Set(raw, "KV-Operation", "DEL");  // what kvStore_Delete writes: a delete marker
  natsConnection_PublishMsg(conn_, raw);
}

void NatsClusterBus::put_peer(const RouterMember& m) {
  kv_put(peer_key(m.room, m.peer), encode_fields({owner_, m.meta}));
}

void NatsClusterBus::put_track(const RouterChannel& ch) {
  kv_put(
      track_key(ch.room, ch.peer, ch.info.name),
      encode_fields({owner_, media::to_string(ch.info.kind), ch.info.meta, std::to_string(ch.info.layers)}));
}

void NatsClusterBus::heartbeat() {
  if (!conn_ || abandoned_) return;
  const std::string subject = nodes_prefix_ + node_key(owner_);
  natsConnection_Publish(conn_, subject.c_str(), owner_.data(), static_cast<int>(owner_.size()));
}

void NatsClusterBus::send_feedback(ChannelId id, const RelayChannel& r, uint8_t type, uint32_t bps,
                                   uint8_t spatial_layer) {
  if (!conn_ || abandoned_) return;
  encode_feedback({static_cast<FeedbackType>(type), id, bps, owner_, spatial_layer}, frame_);
  natsConnection_Publish(conn_, r.feedback_subject.c_str(), frame_.data(), static_cast<int>(frame_.size()));
}

void NatsClusterBus::close_connection() {
  requests_.stop();  // no job may use the connection, the buckets or a watch from here on
  inbox_->close();
  batch_.clear();
  // Closing first ends every subscription at once (no per-subscription requests on the way out).
  if (conn_) natsConnection_Close(conn_);
  for (auto& [name, r] : hosted_) {
    r.watch = nullptr;  // destroyed below with every other watch still alive
    unsubscribe(r.messages);
    unsubscribe(r.levels);
  }
  for (natsSubscription* watch : watches_)
    natsSubscription_Destroy(watch);
  watches_.clear();
  for (auto& [id, r] : relays_)
    unsubscribe(r.sub);
  unsubscribe(heartbeat_sub_);
  if (buckets_.rooms) kvStore_Destroy(buckets_.rooms);
  if (buckets_.nodes) kvStore_Destroy(buckets_.nodes);
  if (js_) jsCtx_Destroy(js_);
  if (conn_) natsConnection_Destroy(conn_);
  buckets_ = {};
  js_ = nullptr;
  conn_ = nullptr;
}

void NatsClusterBus::abandon() {
  if (abandoned_) return;
  requests_.stop();  // before abandoned_ changes: jobs read it through connected()
  abandoned_ = true;
  close_connection();
}

NatsClusterBus::~NatsClusterBus() {
  requests_.stop();  // a claim in flight finishes; its verdict is not needed any more
  if (!abandoned_ && conn_) {
    // A clean leave for every local peer, so other nodes need not wait for the heartbeat to expire.
    for (const auto& [cid, ch] : router_.channels())
      if (ch.publisher) kv_delete(track_key(ch.room, ch.peer, ch.info.name));
    for (const auto& [ep, m] : router_.members())
      kv_delete(peer_key(m.room, m.peer));
    for (const auto& [cid, ch] : router_.channels()) {
      auto r = relays_.find(cid);
      if (!ch.publisher && r != relays_.end())
        send_feedback(cid, r->second, static_cast<uint8_t>(FeedbackType::kGone), 0);
    }
    delete_marker(nodes_prefix_ + node_key(owner_));  // our heartbeat: gone now, not when it expires
    if (connected()) natsConnection_FlushTimeout(conn_, options_.request_timeout_ms);
  }
  close_connection();
}

}  // namespace atrium::cluster::nats
