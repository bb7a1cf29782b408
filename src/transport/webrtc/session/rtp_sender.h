// The sending side of one section a client receives on (what WebRTC calls an RTCRtpSender): one local
// track, sent as one RTP stream with its repair (RTX) stream when negotiated. It writes each packet the core
// forwards, keeps it in a packet cache to answer NACKs, sends RTX padding when the bandwidth estimator wants
// to probe, writes our sender reports, and learns the round trip and jitter from the client's receiver
// reports on its stream. Everything leaves through the session's SrtpOutput.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

#include "core/ids.h"
#include "media/media_packet.h"
#include "media/rtcp/rtcp_reports.h"
#include "media/rtp/rtp_packet.h"
#include "transport/webrtc/rtp/packet_cache.h"
#include "transport/webrtc/sdp/negotiator.h"
#include "transport/webrtc/session/session_counters.h"
#include "transport/webrtc/session/srtp_output.h"

namespace atrium::webrtc {

class RtpSender {
 public:
  RtpSender(const NegotiatedMedia& media, core::LocalTrackId track);

  const NegotiatedMedia& media() const { return *media_; }
  core::LocalTrackId track() const { return track_; }
  uint32_t ssrc() const { return ssrc_; }
  bool sent_any() const { return sent_any_; }
  // Whether this stream can carry probing padding: video with a repair stream that has sent.
  bool can_pad() const { return media_->kind == media::MediaKind::kVideo && rtx_ssrc_ && sent_any_; }

  // Writes, caches and sends one packet the core forwards on this track.
  void send(media::Micros now, const media::MediaPacket& packet, SrtpOutput& output,
            WebRtcSessionStats& stats);
  // The client lost `seq`: sends it again from the cache (twice while the link loses more than
  // kDuplicateRepairLoss).
  void on_nack(media::Micros now, uint16_t seq, SrtpOutput& output, WebRtcSessionStats& stats);
  // Up to `bytes` of RTX copies of the newest packets, to raise the bandwidth estimate.
  void send_padding(media::Micros now, size_t bytes, SrtpOutput& output, WebRtcSessionStats& stats);
  // Our sender report with the CNAME, when the stream has sent.
  void send_report(media::Micros now, std::string_view cname, SrtpOutput& output);
  // A report block of the client about this stream (RFC 3550 6.4.1). Returns the smoothed round trip when
  // the block measured one.
  std::optional<media::Micros> on_report_block(media::Micros now, const media::ReportBlock& rb);

  // How long a sent packet stays worth resending (see kMinRepairWindow).
  media::Micros repair_window() const {
    return std::clamp(3 * rtt_.value_or(0) + 4 * jitter_, kMinRepairWindow, kMaxRepairWindow);
  }
  // A receiver asks again about a round trip after each request while its jitter buffer still waits for the
  // packet, so a repair is worth sending for a few round trips plus the jitter it tolerates: 3 RTT + 4
  // jitter, never under 1 s (what a short path needs anyway) nor over 3 s (a picture that late is gone).
  static constexpr media::Micros kMinRepairWindow = 1'000'000;
  static constexpr media::Micros kMaxRepairWindow = 3'000'000;
  // The viewer's loss above which a NACK is answered twice.
  static constexpr double kDuplicateRepairLoss = 0.02;

  const PacketCache& cache() const { return cache_; }

 private:
  // Sends cached packet `seq` again (on the repair stream when negotiated); returns the bytes sent. Padding
  // (probing) is only ever sent on a repair stream.
  size_t resend(media::Micros now, uint16_t seq, bool padding, SrtpOutput& output);
  // The header extensions of every RTP packet we send: the MID and, while we estimate the client's
  // bandwidth, a transport-wide sequence number (unstamped until SrtpOutput::send_rtp).
  size_t extensions(const SrtpOutput& output, std::array<media::RtpExtension, 2>& ext) const;
  // Counts what the stream sends and, every second, lets the cache hold one repair window of it.
  void size_cache(media::Micros now, size_t bytes);
  uint8_t twcc_id(const SrtpOutput& output) const {
    return output.bandwidth_controller() ? media_->extensions.transport_cc : 0;
  }

  const NegotiatedMedia* media_;
  core::LocalTrackId track_;
  uint32_t ssrc_ = 0;
  uint32_t rtx_ssrc_ = 0;
  uint16_t rtx_seq_ = 0;
  uint32_t clock_rate_ = 90000;
  PacketCache cache_;
  media::Micros rate_start_ = -1;  // the send rate's current interval, -1 before the first packet
  uint64_t rate_bytes_ = 0;
  bool sent_any_ = false;
  uint16_t last_seq_ = 0;
  uint16_t pad_back_ = 0;  // padding resends last_seq - pad_back, walking back then starting over
  uint32_t last_timestamp_ = 0;
  media::Micros last_sent_ = 0;
  uint32_t packets_ = 0;
  uint32_t octets_ = 0;
  // From the client's receiver reports on this stream: the round trip from LSR/DLSR and the interarrival
  // jitter, both smoothed.
  std::optional<media::Micros> rtt_;
  media::Micros jitter_ = 0;
};

// The NTP format of `now`. Only differences reach the peer (RTT from LSR/DLSR, A/V sync between our own
// streams), so the steady clock's origin is as good as 1900.
uint64_t ntp_of(media::Micros now);

}  // namespace atrium::webrtc
