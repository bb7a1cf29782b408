// How a NatsClusterBus reaches NATS and how quickly it notices things. Defaults suit a LAN cluster; tests use
// short timings so a dead node is noticed in about a second.
#pragma once

#include <string>

#include "media/media_packet.h"

namespace atrium::cluster::nats {

struct NatsBusOptions {
  std::string servers = "nats://127.0.0.1:4222";  // comma-separated URLs
  std::string node_id = "atrium";                 // names this node in KV values and NATS connection names
  std::string rooms_bucket = "atrium_rooms";      // peers and tracks (history 1, no expiry)
  std::string nodes_bucket = "atrium_nodes";      // heartbeats (entries expire after node_ttl)
  std::string subject_prefix = "atrium";  // media and feedback subjects: <prefix>.media.<hex>, .fb.<hex>

  media::Micros heartbeat_interval = 1'000'000;
  media::Micros node_ttl = 5'000'000;  // a node silent this long is dead; its entries are removed
  // Subscriber nodes refresh their interest in a channel this often; the publisher's node forgets a node's
  // interest after 3 intervals without a refresh.
  media::Micros interest_interval = 1'000'000;
  int connect_timeout_ms = 2000;
  // Each JetStream API call (a join's peer claim is up to four, bucket and watch set-up one or two) waits at
  // most this long, on the bus's RequestThread: the worker never waits for one.
  int request_timeout_ms = 1000;
  // A join whose peer claim has not completed this long after it arrived is refused (CLUSTER_UNAVAILABLE,
  // WHIP/WHEP 503); a claim that succeeds later is given back.
  media::Micros join_timeout = 3'000'000;
  int reconnect_wait_ms = 500;
  int reconnect_buffer_bytes = 1 << 20;  // what may queue while disconnected; media beyond that is dropped
  // true: every publish is written to the socket at once, on the worker (one write per relayed packet).
  // false: libnats's flusher thread batches writes, which costs each packet about 1 ms of latency (it sleeps
  // a millisecond to gather more) but fewer system calls. See docs/cluster.md for both measured.
  bool send_asap = true;
};

}  // namespace atrium::cluster::nats
