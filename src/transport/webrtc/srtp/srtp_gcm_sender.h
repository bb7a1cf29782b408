// SRTP protection of outbound RTP for AEAD_AES_128_GCM (RFC 7714) straight on OpenSSL's EVP AES-GCM, for the
// fan-out path: one instance per leg, the key schedule made once, no allocation, no lock and no library
// dispatch per packet. (Debian's libsrtp2 is built on NSS, whose per-call session setup took a mutex and a
// calloc/free for every packet.) The output is byte for byte what libsrtp2 writes: session keys from the
// RFC 3711 AES-CM key derivation as libsrtp2 runs it for a 96-bit salt, the rollover counter kept per SSRC
// with libsrtp2's index estimate, and repeats (RTX, NACK answers) allowed.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "transport/webrtc/srtp/srtp_keys.h"

namespace atrium::webrtc {

class SrtpGcmSender {
 public:
  // Nullptr when the key or salt has the wrong length or OpenSSL refuses.
  static std::unique_ptr<SrtpGcmSender> create(const SrtpMasterKey& local);
  ~SrtpGcmSender();
  SrtpGcmSender(const SrtpGcmSender&) = delete;
  SrtpGcmSender& operator=(const SrtpGcmSender&) = delete;

  // In place: buf[0, len) is an RTP packet whose header (CSRCs and extension included) is `header_len`
  // bytes; buf must have 16 bytes of room after len. Returns len + 16, or nullopt if OpenSSL fails.
  std::optional<size_t> protect(std::span<uint8_t> buf, size_t len, size_t header_len);

  // The derived session key and salt (for tests).
  const std::array<uint8_t, 16>& session_key() const { return key_; }
  const std::array<uint8_t, 12>& session_salt() const { return salt_; }

 private:
  struct Stream {
    uint32_t ssrc = 0;
    uint64_t index = 0;  // ROC << 16 | highest sequence number protected
  };
  struct Cipher;
  SrtpGcmSender();
  uint64_t packet_index(uint32_t ssrc, uint16_t seq);

  std::unique_ptr<Cipher> cipher_;
  std::array<uint8_t, 16> key_{};
  std::array<uint8_t, 12> salt_{};
  std::vector<Stream> streams_;  // a leg sends a handful of SSRCs: a linear scan
  size_t last_ = 0;              // the stream found last time
};

}  // namespace atrium::webrtc
