// The receiving side of one section a client sends on (what WebRTC calls an RTCRtpReceiver): one remote
// track, carried by one RTP stream or by one per simulcast layer. It binds SSRCs to its streams (from the
// SDP, or learnt from the RID of the first packets), keeps each stream's receive statistics and NACK state,
// turns a packet into the core's MediaPacket, and writes what a receiver sends back: NACKs, PLI/FIR and the
// report blocks of our receiver reports. Its own counters go to the session's stats.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/ids.h"
#include "media/media_packet.h"
#include "media/rtcp/rtcp_reports.h"
#include "media/rtp/rtp_packet.h"
#include "transport/webrtc/rtp/nack_generator.h"
#include "transport/webrtc/rtp/receive_statistics.h"
#include "transport/webrtc/sdp/negotiator.h"
#include "transport/webrtc/session/session_counters.h"
#include "transport/webrtc/session/srtp_output.h"

namespace atrium::webrtc {

// The codec a payload type stands for in section `m`, and whether it is that codec's repair (RTX) type.
const NegotiatedCodec* codec_by_pt(const NegotiatedMedia& m, uint8_t pt, bool* rtx);

class RtpReceiver {
 public:
  // `track` 0: not bound yet (the SDK binds it when the client publishes).
  RtpReceiver(const NegotiatedMedia& media, core::RemoteTrackId track, std::string name);

  const NegotiatedMedia& media() const { return *media_; }
  core::RemoteTrackId track() const { return track_; }
  void set_track(core::RemoteTrackId id) { track_ = id; }
  const std::string& name() const { return name_; }
  uint8_t layers() const { return static_cast<uint8_t>(streams_.size()); }

  // Whether `ssrc` is one of ours already (a primary or a repair stream).
  bool owns(uint32_t ssrc) const;
  // Whether the packet names this section in its MID header extension (RFC 8843).
  bool named_by_mid(const media::RtpPacket& p) const;

  enum class Result : uint8_t {
    kMedia,     // `out` holds the packet for the core
    kNotOurs,   // an SSRC or payload type this section cannot place: counted by the caller as unknown
    kConsumed,  // padding, a duplicate repair, or only bookkeeping (nothing to forward)
  };
  // A packet that owns() or named_by_mid() placed here, or the first with a payload type of ours. Learns a
  // new SSRC, updates statistics and NACK state; `keyframe_layer` is set to the stream's layer when too
  // much was lost there to repair packet by packet. The payload view in `out` points into `p`.
  Result receive(media::Micros now, const media::RtpPacket& p, media::MediaPacket& out,
                 std::optional<uint8_t>& keyframe_layer, WebRtcSessionStats& stats);

  void on_sender_report(uint32_t ssrc, uint64_t ntp_time, media::Micros now);
  // The round trip to the client, measured on the streams we send it: NACK retries follow it.
  void set_rtt(media::Micros rtt);

  // Report blocks for our next receiver report, one per stream that has received; returns how many of
  // `out` were written.
  size_t report_blocks(media::Micros now, std::span<media::ReportBlock> out);
  // The SSRCs of the streams known so far, into `out`; returns how many.
  size_t ssrcs(std::span<uint32_t> out) const;
  // Asks for what is missing now (one NACK per stream).
  void send_nacks(media::Micros now, SrtpOutput& output, uint32_t rtcp_ssrc, WebRtcSessionStats& stats);
  // PLI (or FIR, when only that was negotiated) for a simulcast layer, or every stream (kAnySpatialLayer).
  void request_keyframe(uint8_t layer, SrtpOutput& output, uint32_t rtcp_ssrc, WebRtcSessionStats& stats);

  // What the subscribers of this track can take (eev::BitrateHint), 0 = nobody said yet.
  uint32_t bitrate_hint() const { return bitrate_hint_; }
  void set_bitrate_hint(uint32_t bps) { bitrate_hint_ = bps; }

 private:
  // One RTP stream the client sends here: the only one, or one simulcast layer.
  struct Stream {
    uint32_t ssrc = 0;      // primary, once known
    uint32_t rtx_ssrc = 0;  // once known
    uint8_t layer = 0;      // spatial layer (simulcast), 0 otherwise
    ReceiveStatistics stats;
    uint8_t fir_seq = 0;
    NackGenerator nack;
  };
  // The stream a packet of this section belongs to, learning its SSRC (RID for simulcast); null when the
  // packet says nothing that places it.
  Stream* bind(const media::RtpPacket& p, bool rtx);

  const NegotiatedMedia* media_;
  core::RemoteTrackId track_;
  std::string name_;
  // Simulcast: one per rid, in the SDP's rid order, with the layer each rid has; otherwise exactly one.
  std::vector<Stream> streams_;
  uint32_t bitrate_hint_ = 0;
};

}  // namespace atrium::webrtc
