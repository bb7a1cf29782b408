// The way out of a connected session for its RTP and RTCP: a slot of the datagram queue, SRTP protection,
// the address ICE chose, and the counting that goes with each step. The session owns it; its RtpSenders,
// RtpReceivers and the REMB cap write through it, so the pattern "take a slot, count a drop when there is
// none, write, protect, queue" lives here once.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "media/media_packet.h"
#include "transport/webrtc/bwe/egress_bandwidth_controller.h"
#include "transport/webrtc/ice/ice_lite_agent.h"
#include "transport/webrtc/session/datagram_queue.h"
#include "transport/webrtc/session/session_counters.h"
#include "transport/webrtc/srtp/srtp_session.h"

namespace atrium::webrtc {

class SrtpOutput {
 public:
  SrtpOutput(DatagramQueue& queue, const IceLiteAgent& ice, WebRtcSessionStats& stats)
      : queue_(queue), ice_(ice), stats_(stats) {}

  // Once DTLS gave the keys. Until then nothing protected can leave.
  void set_srtp(SrtpSession* srtp) { srtp_ = srtp; }
  bool ready() const { return srtp_ != nullptr; }
  // Set while we estimate the client's bandwidth from its transport-cc feedback: every RTP packet then gets
  // a transport-wide sequence number as it leaves.
  void set_bandwidth_controller(EgressBandwidthController* bwe) { bwe_ = bwe; }
  EgressBandwidthController* bandwidth_controller() const { return bwe_; }

  // Writes one RTCP packet with `write(slot) -> length` and sends it. False when nothing went out: not
  // connected, no address, no free slot (counted), or the writer wrote nothing.
  template <typename Write>
  bool rtcp(Write&& write) {
    if (!srtp_) return false;
    auto slot = take_slot();
    if (slot.empty()) return false;
    return queue_rtcp(slot, write(slot));
  }

  // A slot to write an RTP packet into (kMaxTrailer bytes must stay free for SRTP); empty when there is no
  // free one (counted) or nothing can be sent.
  std::span<uint8_t> rtp_slot() {
    if (!srtp_ || !ice_.send_address()) return {};
    return take_slot();
  }
  // Stamps the transport-wide number at `twcc_id` (0: none), protects and queues the RTP packet in
  // slot[0, len); the bytes queued, 0 when SRTP refused it.
  size_t send_rtp(media::Micros now, std::span<uint8_t> slot, size_t len, uint8_t twcc_id, bool padding);

 private:
  std::span<uint8_t> take_slot();
  bool queue_rtcp(std::span<uint8_t> slot, size_t len);

  DatagramQueue& queue_;
  const IceLiteAgent& ice_;
  WebRtcSessionStats& stats_;
  SrtpSession* srtp_ = nullptr;
  EgressBandwidthController* bwe_ = nullptr;
};

}  // namespace atrium::webrtc
