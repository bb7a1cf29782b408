// The publisher side of bitrate control: what the subscribers of a client's tracks can take becomes a REMB
// limit for that client's browser. A WHIP publisher has no other way to hear it, and a simulcast browser
// drops the layers that no longer fit under the limit.
#pragma once

#include <cstdint>
#include <limits>
#include <span>

#include "media/media_packet.h"
#include "transport/webrtc/session/rtp_receiver.h"
#include "transport/webrtc/session/session_counters.h"
#include "transport/webrtc/session/srtp_output.h"

namespace atrium::webrtc {

class PublisherRemb {
 public:
  // A subscriber hint changed (RtpReceiver::set_bitrate_hint done): a lower cap goes out at once, a clearly
  // higher one too; small rises wait for the periodic refresh.
  void on_hint(media::Micros now, std::span<const RtpReceiver> receivers, SrtpOutput& output,
               uint32_t rtcp_ssrc, WebRtcSessionStats& stats);
  // Repeats the cap in force every kRefresh (a browser forgets nothing, but a lost REMB must not stick).
  void on_tick(media::Micros now, std::span<const RtpReceiver> receivers, SrtpOutput& output,
               uint32_t rtcp_ssrc, WebRtcSessionStats& stats);

  static constexpr uint64_t kNoCap = std::numeric_limits<uint64_t>::max();
  // The cap the browser was last told, kNoCap = none in force.
  uint64_t in_force() const { return sent_; }

 private:
  // Only when every video track has subscribers that told what they can take; a track nobody watches yet,
  // or one a subscriber takes without limit, leaves the publisher's own estimate alone.
  static uint64_t cap(std::span<const RtpReceiver> receivers);
  // A simulcast publisher sends every layer below the one a subscriber takes, so a cap of only that layer's
  // rate makes the browser drop it: Firefox turned its 720p layer off for good under such a cap (the viewer
  // could never measure what it was not sent). The hint counts as the top of `layers`, each below it a third
  // of the next (a quarter of the pixels costs about a third of the bits): hint x (1 + 1/3 + 1/9 ...).
  static uint64_t with_lower_layers(uint64_t hint, uint8_t layers) {
    uint64_t total = hint;
    uint64_t below = hint;
    for (uint8_t i = 1; i < layers; ++i) {
      below /= 3;
      total += below;
    }
    return total;
  }
  void send(media::Micros now, std::span<const RtpReceiver> receivers, SrtpOutput& output, uint32_t rtcp_ssrc,
            WebRtcSessionStats& stats);

  static constexpr uint64_t kLiftedCap = 100'000'000;
  static constexpr uint64_t kMinVideoCap = 100'000;    // never squeeze a video track below its lowest layer
  static constexpr uint64_t kAudioAllowance = 64'000;  // per audio track, on top of the video hints
  static constexpr media::Micros kRefresh = 1'000'000;
  uint64_t sent_ = kNoCap;
  media::Micros next_ = 0;
};

}  // namespace atrium::webrtc
