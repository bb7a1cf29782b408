#include "server/rtmp/rtmp_counters.h"

namespace atrium::server {

void register_rtmp_metrics(MetricsRegistry& metrics, const RtmpCounters& c) {
  metrics.gauge_callback("atrium_rtmp_connections", "RTMP connections open (publishing or not yet)",
                         [&c] { return static_cast<double>(c.connections.load()); });
  metrics.gauge_callback("atrium_rtmp_sessions", "RTMP streams publishing into a room",
                         [&c] { return static_cast<double>(c.publishing.load()); });
  auto counter = [&](const char* name, const char* help, const std::atomic<uint64_t>& v,
                     const MetricLabels& labels = {}) { metrics.counter_of(name, help, v, labels); };
  counter("atrium_rtmp_connections_accepted_total", "RTMP connections accepted", c.accepted);
  counter("atrium_rtmp_bytes_received_total", "bytes received from RTMP clients", c.bytes_in);
  counter("atrium_rtmp_bytes_sent_total", "bytes sent to RTMP clients", c.bytes_out);
  counter("atrium_rtmp_frames_total", "media frames received over RTMP", c.video_frames, {{"kind", "video"}});
  counter("atrium_rtmp_frames_total", "media frames received over RTMP", c.audio_frames, {{"kind", "audio"}});
  counter("atrium_rtmp_audio_transcoded_total", "Opus packets made from RTMP AAC audio", c.opus_packets);
  counter("atrium_rtmp_audio_errors_total", "RTMP AAC frames that could not be decoded", c.audio_errors);
  const char* refusals = "RTMP connections or publishes refused, by reason";
  counter("atrium_rtmp_refused_total", refusals, c.refused_full, {{"reason", "full"}});
  counter("atrium_rtmp_refused_total", refusals, c.refused_auth, {{"reason", "auth"}});
  counter("atrium_rtmp_refused_total", refusals, c.refused_name, {{"reason", "name"}});
  counter("atrium_rtmp_refused_total", refusals, c.refused_taken, {{"reason", "peer_taken"}});
  counter("atrium_rtmp_refused_total", refusals, c.refused_bframes, {{"reason", "bframes"}});
  counter("atrium_rtmp_refused_total", refusals, c.refused_publishers, {{"reason", "max_publishers"}});
  counter("atrium_rtmp_refused_total", refusals, c.protocol_errors, {{"reason", "protocol"}});
  counter("atrium_rtmp_refused_total", refusals, c.timeouts, {{"reason", "timeout"}});
  counter("atrium_rtmp_refused_total", refusals, c.slow_writers, {{"reason", "slow_reader"}});
}

}  // namespace atrium::server
