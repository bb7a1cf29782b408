// HTTP Digest authentication as SIP uses it (RFC 3261 §22.4, RFC 2617 MD5 with qop=auth; RFC 8760 keeps MD5
// as the interoperable default): the challenge a UAS sends in 401 Unauthorized, and the check of the
// Authorization header a caller answers with.
//
// Nonces are stateless: "<issued, hex seconds>.<HMAC-SHA256(key, issued), truncated>", so the server keeps no
// table a flood could fill; a nonce older than kNonceLifetime is stale (the caller is challenged again with
// stale=true, and retries without asking its user).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace atrium::sip {

class DigestAuth {
 public:
  static constexpr int64_t kNonceLifetime = 300;  // seconds

  // `password`: what every caller must know (--sip-secret); any user name is taken. `nonce_key`: random,
  // per process.
  DigestAuth(std::string realm, std::string password, std::string nonce_key);

  // The WWW-Authenticate value for a 401, at `now_seconds` (unix time).
  std::string challenge(int64_t now_seconds, bool stale = false) const;

  enum class Verdict : uint8_t { kOk, kMissing, kMalformed, kStale, kWrong };
  // Checks an Authorization header value against the request's method (and the uri it names).
  Verdict verify(std::string_view authorization, std::string_view method, int64_t now_seconds) const;

 private:
  std::string nonce(int64_t issued) const;

  std::string realm_;
  std::string password_;
  std::string nonce_key_;
};

std::string md5_hex(std::string_view data);

}  // namespace atrium::sip
