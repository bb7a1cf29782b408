#include "transport/webrtc/session/publisher_remb.h"

#include <algorithm>
#include <array>

#include "media/rtcp/rtcp_feedback.h"

namespace atrium::webrtc {

uint64_t PublisherRemb::cap(std::span<const RtpReceiver> receivers) {
  uint64_t video = 0;
  size_t audio_tracks = 0;
  bool any_video = false;
  for (const auto& r : receivers) {
    if (r.track() == 0) continue;
    if (r.media().kind == media::MediaKind::kAudio) {
      ++audio_tracks;
      continue;
    }
    const uint32_t hint = r.bitrate_hint();
    if (hint == 0 || hint == std::numeric_limits<uint32_t>::max()) return kNoCap;
    any_video = true;
    video += with_lower_layers(std::max<uint64_t>(hint, kMinVideoCap), r.layers());
  }
  if (!any_video) return kNoCap;
  return video + audio_tracks * kAudioAllowance;
}

void PublisherRemb::on_hint(media::Micros now, std::span<const RtpReceiver> receivers, SrtpOutput& output,
                            uint32_t rtcp_ssrc, WebRtcSessionStats& stats) {
  const uint64_t c = cap(receivers);
  if (c != sent_ && (c < sent_ || c > sent_ + sent_ / 10)) send(now, receivers, output, rtcp_ssrc, stats);
}

void PublisherRemb::on_tick(media::Micros now, std::span<const RtpReceiver> receivers, SrtpOutput& output,
                            uint32_t rtcp_ssrc, WebRtcSessionStats& stats) {
  if (sent_ != kNoCap && now >= next_) send(now, receivers, output, rtcp_ssrc, stats);
}

void PublisherRemb::send(media::Micros now, std::span<const RtpReceiver> receivers, SrtpOutput& output,
                         uint32_t rtcp_ssrc, WebRtcSessionStats& stats) {
  if (!output.ready()) return;
  const uint64_t c = cap(receivers);
  if (c == kNoCap && sent_ == kNoCap) return;  // never capped: nothing to lift
  std::array<uint32_t, 16> ssrcs{};
  size_t n = 0;
  for (const auto& r : receivers)
    n += r.ssrcs(std::span(ssrcs).subspan(n));
  if (n == 0) return;
  // Lifting a cap is a REMB far above anything a browser sends (a browser keeps the last REMB as a limit).
  const uint64_t value = c == kNoCap ? kLiftedCap : c;
  const bool sent = output.rtcp([&](std::span<uint8_t> slot) {
    return media::write_remb(slot, rtcp_ssrc, value, std::span(ssrcs.data(), n));
  });
  if (!sent) return;
  ++stats.remb_out;
  sent_ = c;
  next_ = now + kRefresh;
}

}  // namespace atrium::webrtc
