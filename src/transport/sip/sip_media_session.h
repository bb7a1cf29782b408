// One SIP call's media as the core sees it, sans-IO: plain RTP (RFC 3550, the RTP/AVP profile) in and out,
// core events polled, `now` passed in. The caller is a peer of the room with one audio track and hears the
// room's mix-minus:
//
//   in:  G.711 (PCMU/PCMA, any ptime) is decoded and encoded to Opus as it is, at 8 kHz (no resampling; the
//        RTP clock is 48 kHz, RFC 7587), 20 ms a packet; Opus is passed through. Each packet carries its
//        level (dBov, from the PCM) for the room's active-speaker detection. telephone-event (RFC 4733)
//        packets become DTMF digits, one per event.
//   out: the room's mix (tev::AttachMix in the call's codec, so G.711 is encoded once per room, not per
//        call), written as RTP with this call's SSRC and payload type.
//
// The runtime checks that RTP comes from the address the SDP named before handing it in.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "core/events/endpoint_event.h"
#include "core/events/transport_event.h"
#include "core/util/ring_queue.h"
#include "media/audio/opus_decoder.h"
#include "media/audio/opus_encoder.h"
#include "transport/sip/sip_sdp.h"

namespace atrium::sip {

struct SipMediaCounters {
  uint64_t rtp_in = 0;
  uint64_t rtp_out = 0;
  uint64_t malformed = 0;   // not RTP
  uint64_t unknown_pt = 0;  // a payload type the SDP did not name
  uint64_t wrong_ssrc = 0;  // a second SSRC while the first is still talking: dropped
  uint64_t transcoded = 0;  // Opus packets made from G.711
  uint64_t codec_errors = 0;
  uint64_t dtmf_digits = 0;
  uint64_t discontinuities = 0;  // a gap or a jump in the caller's timestamps (a partial frame dropped)
};

class SipMediaSession {
 public:
  static constexpr core::RemoteTrackId kAudioTrack = 1;
  static constexpr core::LocalTrackId kMixTrack = 1;
  static constexpr size_t kMaxFramesPerPacket = 6;  // 120 ms of G.711 in one packet
  static constexpr size_t kMaxRtpOut = 1500;

  SipMediaSession(const NegotiatedAudio& audio, core::JoinParams join, uint64_t seed);

  // Queues the join; the track is published and the mix attached once the core says Joined.
  void start();
  void receive_rtp(media::Micros now, std::span<const uint8_t> packet);
  void on_endpoint_event(media::Micros now, const core::EndpointEvent& event);
  // A re-INVITE changed the direction or the address (hold: we stop sending; the runtime re-targets).
  void update(const NegotiatedAudio& audio);

  std::optional<core::TransportEvent> pop_event() { return events_.pop(); }
  // RTP to send to the caller; the view is valid until the next call into the session.
  std::optional<std::span<const uint8_t>> pop_rtp();
  // DTMF digits ('0'-'9', '*', '#', 'A'-'D') as they were pressed.
  std::optional<char> pop_digit() { return digits_.pop(); }

  bool joined() const { return joined_; }
  // Set when the core refused the join: the runtime rejects the call with it.
  const std::optional<core::Error>& join_error() const { return join_error_; }
  const NegotiatedAudio& audio() const { return audio_; }
  const SipMediaCounters& counters() const { return counters_; }

 private:
  void on_voice(media::Micros now, uint32_t rtp_ts, std::span<const uint8_t> payload);
  void on_g711(media::Micros now, uint32_t rtp_ts, std::span<const uint8_t> payload);
  void on_dtmf(uint32_t rtp_ts, std::span<const uint8_t> payload);
  void emit(media::Micros now, uint32_t ts48, std::span<const uint8_t> opus, int8_t level);
  void send_mix(const media::MediaPacket& p);

  NegotiatedAudio audio_;
  core::JoinParams join_;
  bool joined_ = false;
  std::optional<core::Error> join_error_;
  core::RingQueue<core::TransportEvent> events_{32};
  core::RingQueue<char> digits_{32};
  SipMediaCounters counters_;

  // In.
  std::optional<uint32_t> ssrc_in_;
  media::Micros ssrc_seen_ = 0;
  media::audio::OpusEncoder encoder_;  // G.711 calls
  media::audio::OpusDecoder decoder_;  // Opus calls: for the level only
  std::array<float, 160> frame_{};     // 20 ms at 8 kHz being filled
  size_t fill_ = 0;
  uint32_t frame_ts_ = 0;  // 8 kHz timestamp of frame_[0]
  std::array<float, media::audio::OpusDecoder::kMaxFrameSamples> decoded_{};
  std::array<std::array<uint8_t, media::audio::OpusEncoder::kMaxPacketBytes>, kMaxFramesPerPacket> opus_{};
  size_t opus_used_ = 0;
  uint16_t seq_in_ = 0;
  std::optional<uint32_t> last_dtmf_ts_;

  // Out.
  uint32_t ssrc_out_ = 0;
  uint16_t seq_offset_ = 0;
  uint32_t ts_offset_ = 0;
  bool first_out_ = true;
  std::array<std::array<uint8_t, kMaxRtpOut>, 4> rtp_out_{};
  std::array<size_t, 4> rtp_len_{};
  size_t rtp_head_ = 0, rtp_count_ = 0;
};

}  // namespace atrium::sip
