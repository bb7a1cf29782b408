// RTMP ingest as the process runs it: the listener (--rtmp, default --http's host with port 1935), the
// rules a publish must pass (names, --auth-secret token, --rtmp-max-publishers), and which worker a stream
// lives on (its room's, like WHIP). docs/rtmp.md.
//
// A connection is accepted on worker 0 and stays there, without an endpoint, through the handshake and the
// connect/publish commands (at most --rtmp-max-pending of them, --rtmp-max-pending-per-address per client,
// each with 10 s to get there). Its publish names the room; the socket then moves to the room's worker, where
// it joins the room as a peer with tracks "video" and "audio".
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include <boost/asio/ip/tcp.hpp>

#include "core/events/room_types.h"
#include "server/metrics/metrics_registry.h"
#include "server/rtmp/rtmp_counters.h"
#include "server/server_config.h"
#include "server/worker.h"
#include "server/worker_core.h"
#include "server/worker_pool.h"
#include "transport/rtmp/rtmp_publisher.h"

namespace atrium::server {

class RtmpService {
 public:
  RtmpService(const ServerConfig& config, MetricsRegistry& metrics, WorkerPool& workers);

  bool enabled() const { return !address_.empty(); }
  // In each worker's start hook; on worker 0 it also opens the listener. Returns "" or why not.
  std::string start_worker(Worker& worker, WorkerCore& core);
  // Where the listener is (the real port with :0), for the start-up line; "off" when disabled.
  std::string listening() const;

  // What the publish request becomes: a join on the room's worker, or a refusal for the client.
  struct Route {
    bool ok = false;
    core::JoinParams join;
    Worker* worker = nullptr;
    rtmp::PublishRejection status = rtmp::PublishRejection::kRejected;  // the onStatus code when refused
    std::string sentence;                                               // why, for the client and the log
    std::atomic<uint64_t>* counter = nullptr;
  };
  Route route(const rtmp::PublishTarget& target);
  // A publisher slot against --rtmp-max-publishers: taken by route(), given back when the stream ends.
  void release_publisher() { publishers_.fetch_sub(1, std::memory_order_relaxed); }

  const ServerConfig& config() const { return config_; }
  RtmpCounters& counters() { return counters_; }

 private:
  const ServerConfig& config_;
  WorkerPool& workers_;
  std::string address_;
  RtmpCounters counters_;
  std::atomic<int64_t> publishers_{0};
  std::atomic<uint16_t> port_{0};
};

}  // namespace atrium::server
