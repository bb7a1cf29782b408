// SRTP/SRTCP protection for one DTLS-SRTP association (RFC 3711, RFC 5764, RFC 7714): outbound packets are
// protected with our (local) key, inbound ones verified and decrypted with the peer's (remote) key. Any SSRC
// is accepted in both directions; the replay window is wide enough for NACK retransmissions and resending the
// same outbound packet (RTX, NACK answers) is allowed. All of libsrtp2 lives in srtp_session.cpp.
//
// Hot path: no allocation, no lock, no log; failures are counted by reason in stats().
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "transport/webrtc/srtp/srtp_keys.h"

namespace atrium::webrtc {

struct SrtpStats {
  uint64_t rtp_protected = 0;
  uint64_t rtcp_protected = 0;
  uint64_t rtp_unprotected = 0;
  uint64_t rtcp_unprotected = 0;
  uint64_t auth_fail = 0;     // inbound: tag did not verify (tampered, wrong key, garbage)
  uint64_t replay_fail = 0;   // inbound: already seen, or older than the replay window
  uint64_t other_fail = 0;    // inbound: too short, not RTP/RTCP, libsrtp error
  uint64_t protect_fail = 0;  // outbound: no room for the trailer, malformed, libsrtp error
};

class SrtpSession {
 public:
  // The largest number of bytes protect_rtp / protect_rtcp append (AES-GCM tag 16 + SRTCP index 4). A buffer
  // passed to protect must have at least len + trailer bytes (see srtp_rtp_trailer_len /
  // srtp_rtcp_trailer_len).
  static constexpr size_t kMaxTrailer = 20;
  // Inbound RTP replay window in packets (libsrtp's default is 128; NACK answers can be older than that).
  static constexpr unsigned long kReplayWindow = 1024;

  // Nullptr and a reason in `error` if libsrtp refuses the keys (wrong lengths, GCM not compiled in).
  static std::unique_ptr<SrtpSession> create(const SrtpKeys& keys, std::string* error = nullptr);
  ~SrtpSession();
  SrtpSession(const SrtpSession&) = delete;
  SrtpSession& operator=(const SrtpSession&) = delete;

  SrtpProfile profile() const { return profile_; }

  // In place: buf[0, len) is the packet, buf.size() its capacity. Returns the new length, or nullopt
  // (counted).
  std::optional<size_t> protect_rtp(std::span<uint8_t> buf, size_t len);
  std::optional<size_t> protect_rtcp(std::span<uint8_t> buf, size_t len);
  std::optional<size_t> unprotect_rtp(std::span<uint8_t> buf, size_t len);
  std::optional<size_t> unprotect_rtcp(std::span<uint8_t> buf, size_t len);

  const SrtpStats& stats() const { return stats_; }

 private:
  struct Contexts;
  SrtpSession(SrtpProfile profile, std::unique_ptr<Contexts> contexts);

  SrtpProfile profile_;
  std::unique_ptr<Contexts> contexts_;
  SrtpStats stats_;
};

}  // namespace atrium::webrtc
