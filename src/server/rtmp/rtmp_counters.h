// What /metrics shows of RTMP ingest: totals over every worker, bumped on the workers' threads (relaxed
// atomics), read at scrape time.
#pragma once

#include <atomic>
#include <cstdint>

#include "server/metrics/metrics_registry.h"

namespace atrium::server {

struct RtmpCounters {
  std::atomic<int64_t> connections{0};  // open TCP connections, publishing or not yet
  std::atomic<int64_t> publishing{0};   // of which publishing into a room
  std::atomic<uint64_t> accepted{0};
  std::atomic<uint64_t> bytes_in{0};
  std::atomic<uint64_t> bytes_out{0};
  std::atomic<uint64_t> video_frames{0};
  std::atomic<uint64_t> audio_frames{0};        // AAC frames received
  std::atomic<uint64_t> opus_packets{0};        // Opus packets made from them
  std::atomic<uint64_t> audio_errors{0};        // AAC frames that did not decode
  std::atomic<uint64_t> refused_full{0};        // connections closed at once: too many pending
  std::atomic<uint64_t> refused_auth{0};        // bad or missing stream-key token
  std::atomic<uint64_t> refused_name{0};        // no room/peer in the URL, or bad names
  std::atomic<uint64_t> refused_taken{0};       // the peer id is in use in the room
  std::atomic<uint64_t> refused_bframes{0};     // the stream has B-frames
  std::atomic<uint64_t> refused_publishers{0};  // --rtmp-max-publishers reached
  std::atomic<uint64_t> protocol_errors{0};     // broken RTMP: the connection was closed
  std::atomic<uint64_t> timeouts{0};            // not publishing 10 s after connecting, or silent for 10 s
  std::atomic<uint64_t> slow_writers{0};        // closed: the client stopped reading what we send
};

void register_rtmp_metrics(MetricsRegistry& metrics, const RtmpCounters& counters);

}  // namespace atrium::server
