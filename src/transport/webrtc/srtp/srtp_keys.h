// What DTLS-SRTP (RFC 5764) hands to SRTP: the negotiated protection profile and the master key + salt of
// each direction. Library-free so DTLS and SRTP headers share it without dragging OpenSSL or libsrtp2 along.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace atrium::webrtc {

// Values are the IANA "DTLS-SRTP Protection Profiles" code points.
enum class SrtpProfile : uint16_t {
  kAes128CmSha1_80 = 0x0001,  // RFC 5764: AES-128 counter mode, HMAC-SHA1 with an 80-bit tag
  kAeadAes128Gcm = 0x0007,    // RFC 7714: AES-128-GCM, 128-bit tag
};

constexpr std::string_view to_string(SrtpProfile p) {
  return p == SrtpProfile::kAeadAes128Gcm ? "SRTP_AEAD_AES_128_GCM" : "SRTP_AES128_CM_SHA1_80";
}
constexpr size_t srtp_master_key_len(SrtpProfile) {
  return 16;
}
constexpr size_t srtp_master_salt_len(SrtpProfile p) {
  return p == SrtpProfile::kAeadAes128Gcm ? 12 : 14;
}
// Bytes appended by protect: the authentication tag, plus the 4-byte E-flag/index word for SRTCP.
constexpr size_t srtp_rtp_trailer_len(SrtpProfile p) {
  return p == SrtpProfile::kAeadAes128Gcm ? 16 : 10;
}
constexpr size_t srtp_rtcp_trailer_len(SrtpProfile p) {
  return srtp_rtp_trailer_len(p) + 4;
}

struct SrtpMasterKey {
  std::vector<uint8_t> key;   // srtp_master_key_len(profile) bytes
  std::vector<uint8_t> salt;  // srtp_master_salt_len(profile) bytes
  bool operator==(const SrtpMasterKey&) const = default;
};

// `local` protects what we send, `remote` unprotects what we receive.
struct SrtpKeys {
  SrtpProfile profile = SrtpProfile::kAeadAes128Gcm;
  SrtpMasterKey local;
  SrtpMasterKey remote;
};

}  // namespace atrium::webrtc
