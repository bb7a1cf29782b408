#include "server/sip/sip_counters.h"

namespace atrium::server {

void register_sip_metrics(MetricsRegistry& metrics, const SipCounters& c) {
  metrics.gauge_callback("atrium_sip_calls", "SIP calls ringing or answered",
                         [&c] { return static_cast<double>(c.calls.load()); });
  metrics.gauge_callback("atrium_sip_dialogs",
                         "SIP dialogs held: live calls plus ended ones kept 64*T1 for "
                         "retransmissions",
                         [&c] { return static_cast<double>(c.dialogs.load()); });
  auto counter = [&](const char* name, const char* help, const std::atomic<uint64_t>& v,
                     const MetricLabels& labels = {}) { metrics.counter_of(name, help, v, labels); };
  counter("atrium_sip_requests_total", "SIP requests received", c.requests);
  counter("atrium_sip_malformed_total", "SIP datagrams that did not parse, or had a bad CSeq", c.malformed);
  counter("atrium_sip_stray_acks_total", "ACKs that matched no call", c.stray_acks);
  counter("atrium_sip_unknown_dialog_total", "BYE, CANCEL or re-INVITE for no call, answered 481",
          c.unknown_dialog);
  counter("atrium_sip_retransmissions_total", "responses and BYEs sent again by the RFC 3261 timers",
          c.retransmissions_out);
  counter("atrium_sip_calls_started_total", "INVITEs that started a call", c.calls_started);
  counter("atrium_sip_calls_answered_total", "calls answered 200 OK", c.calls_answered);
  counter("atrium_sip_ack_timeouts_total", "answered calls ended because no ACK came", c.ack_timeouts);
  counter("atrium_sip_calls_refused_total", "INVITEs refused", c.refused_busy, {{"reason", "max_calls"}});
  counter("atrium_sip_calls_refused_total", "INVITEs refused", c.refused_rate, {{"reason", "rate_limit"}});
  counter("atrium_sip_calls_refused_total", "INVITEs refused", c.refused_address, {{"reason", "address"}});
  counter("atrium_sip_calls_refused_total", "INVITEs refused", c.refused_room, {{"reason", "room"}});
  counter("atrium_sip_auth_challenges_total", "401 digest challenges sent (--sip-secret)", c.auth_challenges);
  counter("atrium_sip_auth_failures_total", "INVITEs with wrong or malformed digest credentials",
          c.auth_failures);
  counter("atrium_sip_rtp_packets_received_total", "RTP packets from callers", c.rtp_in);
  counter("atrium_sip_rtp_packets_sent_total", "RTP packets of the room's mix sent to callers", c.rtp_out);
  counter("atrium_sip_rtp_wrong_address_total", "RTP datagrams from an address the call's SDP did not name",
          c.rtp_wrong_address);
  counter("atrium_sip_rtp_dropped_total", "RTP packets dropped: malformed, unknown payload type, second SSRC",
          c.rtp_dropped);
  counter("atrium_sip_transcoded_total", "Opus packets encoded from callers' G.711", c.transcoded);
  counter("atrium_sip_dtmf_digits_total", "DTMF digits received (RFC 4733)", c.dtmf_digits);
}

}  // namespace atrium::server
