// The receive side of transport-wide congestion control: remembers when each packet carrying a
// transport-wide sequence number arrived and turns them into feedback for the sender's bandwidth estimator
// (draft-holmer-rmcat-transport-wide-cc-extensions-01). Without this feedback a browser publishing to us
// never raises its send rate above its start value.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "media/media_packet.h"
#include "media/rtcp/twcc.h"

namespace atrium::webrtc {

class TwccRecorder {
 public:
  static constexpr size_t kMaxPerFeedback = 256;  // keeps one feedback packet well under the MTU

  // Nothing is allocated until the first packet: most sessions never receive transport-cc stamped media.
  TwccRecorder() = default;

  void on_packet(uint16_t transport_seq, media::Micros arrival);
  bool has_pending() const { return !pending_.empty(); }
  // Writes one feedback packet for the oldest pending arrivals (call again while has_pending()). Packets
  // older than what an earlier feedback covered are dropped: the sender already counted them as lost.
  size_t write_feedback(std::span<uint8_t> out, uint32_t sender_ssrc, uint32_t media_ssrc);

  uint64_t feedbacks_sent() const { return feedbacks_; }

 private:
  struct Arrival {
    int64_t seq;  // unwrapped
    media::Micros at;
  };
  std::vector<Arrival> pending_;
  std::vector<media::TwccReceived> scratch_;
  int64_t last_unwrapped_ = -1;
  int64_t next_feedback_from_ = -1;  // first sequence number the next feedback may cover
  uint8_t fb_count_ = 0;
  uint64_t feedbacks_ = 0;
};

}  // namespace atrium::webrtc
