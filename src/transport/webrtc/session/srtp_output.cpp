#include "transport/webrtc/session/srtp_output.h"

#include "media/rtp/rtp_extensions.h"
#include "media/rtp/rtp_packet.h"

namespace atrium::webrtc {

std::span<uint8_t> SrtpOutput::take_slot() {
  auto slot = queue_.prepare();
  if (slot.empty()) ++stats_.out_dropped;
  return slot;
}

bool SrtpOutput::queue_rtcp(std::span<uint8_t> slot, size_t len) {
  auto to = ice_.send_address();
  if (!to || len == 0) return false;
  auto protected_len = srtp_->protect_rtcp(slot, len);
  if (!protected_len) return false;
  queue_.commit(*protected_len, *to);
  ++stats_.rtcp_out;
  stats_.bytes_out += *protected_len;
  return true;
}

size_t SrtpOutput::send_rtp(media::Micros now, std::span<uint8_t> slot, size_t len, uint8_t twcc_id,
                            bool padding) {
  auto to = ice_.send_address();
  if (!srtp_ || !to) return 0;
  if (bwe_ && twcc_id) {
    // Every packet on the wire needs its own transport-wide number, a resend included.
    auto value = media::rtp_find_extension_mut(slot.first(len), twcc_id);
    if (value.size() == 2)
      media::write_transport_seq(value, bwe_->on_sending(now, len + SrtpSession::kMaxTrailer, padding));
  }
  auto protected_len = srtp_->protect_rtp(slot, len);
  if (!protected_len) return 0;
  queue_.commit(*protected_len, *to);
  ++stats_.rtp_out;
  stats_.bytes_out += *protected_len;
  return *protected_len;
}

}  // namespace atrium::webrtc
