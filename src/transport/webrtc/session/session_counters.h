// Every counter a WebRTC session keeps, declared once. The table below makes the session's stats struct, and
// the runtime reads the same table to add each session's counts to its worker's totals and to register the
// Prometheus metrics, so a new counter is one line here. Counters that share a metric are summed into it.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

namespace atrium::webrtc {

// X(field, metric, help): the field of WebRtcSessionStats, the Prometheus counter it adds to ("" = only in
// the session's own stats: the UDP port counts datagrams and bytes on the socket itself), and what it counts.
#define ATRIUM_WEBRTC_SESSION_COUNTERS(X)                                                                  \
  X(datagrams_in, "", "datagrams the demultiplexer gave this session")                                     \
  X(bytes_in, "", "bytes of those datagrams")                                                              \
  X(rtp_in, "atrium_rtp_packets_received_total", "RTP packets received (after SRTP)")                      \
  X(rtcp_in, "atrium_rtcp_packets_received_total", "RTCP compound packets received")                       \
  X(rtp_out, "atrium_rtp_packets_sent_total", "RTP packets sent, NACK answers included")                   \
  X(rtcp_out, "atrium_rtcp_packets_sent_total", "RTCP compound packets sent")                              \
  X(bytes_out, "", "bytes this session queued for sending")                                                \
  X(stun_requests, "", "STUN binding requests")                                                            \
  X(stun_bad_integrity, "atrium_stun_unauthorized_total",                                                  \
    "STUN requests with a wrong username or integrity")                                                    \
  X(stun_malformed, "atrium_malformed_dropped_total", "malformed STUN/RTP/RTCP packets dropped")           \
  X(dropped_unvalidated, "atrium_udp_unknown_dropped_total",                                               \
    "datagrams that matched no session or that a session could not place")                                 \
  X(dropped_unknown, "atrium_udp_unknown_dropped_total",                                                   \
    "datagrams that matched no session or that a session could not place")                                 \
  X(dropped_malformed, "atrium_malformed_dropped_total", "malformed STUN/RTP/RTCP packets dropped")        \
  X(dropped_before_join, "", "media that arrived before the room accepted the session")                    \
  X(srtp_failures, "atrium_srtp_failures_total",                                                           \
    "SRTP/SRTCP packets that failed to decrypt or authenticate")                                           \
  X(nacks_in, "atrium_nack_requested_total", "packets clients asked for again (NACK)")                     \
  X(nack_resent, "atrium_nack_resent_total", "NACKed packets sent again from the cache")                   \
  X(nack_duplicated, "atrium_nack_duplicated_total",                                                       \
    "NACK answers sent twice because the viewer's link loses over 2 %")                                    \
  X(plis_in, "atrium_pli_received_total", "key-frame requests (PLI/FIR) from viewers")                     \
  X(plis_out, "atrium_pli_sent_total", "key-frame requests (PLI/FIR) sent to publishers")                  \
  X(nacks_out, "atrium_nack_sent_total", "packets publishers were asked to send again (NACK)")             \
  X(rtx_duplicates, "atrium_rtx_duplicates_dropped_total",                                                 \
    "repair-stream packets from publishers for media already received (browser probes), not forwarded")    \
  X(twcc_feedback_out, "", "transport-cc feedback packets sent to publishers")                             \
  X(twcc_feedback_in, "atrium_twcc_feedback_received_total", "transport-cc feedback packets from viewers") \
  X(padding_out, "atrium_probe_packets_sent_total",                                                        \
    "RTX copies sent to probe a viewer's link while its estimate is below what it could use")              \
  X(remb_out, "atrium_remb_sent_total", "bitrate limits (REMB) sent to publishers")                        \
  X(out_dropped, "", "datagrams dropped for want of a free slot in the session's send queue")              \
  X(codec_mismatch, "", "media in a codec the client did not accept")

struct WebRtcSessionStats {
#define ATRIUM_X(field, metric, help) uint64_t field = 0;
  ATRIUM_WEBRTC_SESSION_COUNTERS(ATRIUM_X)
#undef ATRIUM_X
};

struct SessionCounterInfo {
  uint64_t WebRtcSessionStats::*field;
  std::string_view name;
  std::string_view metric;  // empty: not exported by itself
  std::string_view help;
};

inline constexpr std::array kSessionCounters = {
#define ATRIUM_X(field, metric, help) SessionCounterInfo{&WebRtcSessionStats::field, #field, metric, help},
    ATRIUM_WEBRTC_SESSION_COUNTERS(ATRIUM_X)
#undef ATRIUM_X
};

}  // namespace atrium::webrtc
