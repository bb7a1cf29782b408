// The SHA-256 fingerprint of an X.509 certificate as browsers, `openssl x509 -fingerprint -sha256` and Node's
// `fingerprint256` print it: 32 upper-case hex bytes joined by colons. A user compares it with what the
// browser shows before trusting a self-signed certificate, so it must read the same.
#pragma once

#include <span>
#include <string>

#include <openssl/x509.h>

namespace atrium::server {

// "AB:CD:...", one pair of upper-case hex digits per byte.
std::string format_fingerprint(std::span<const unsigned char> digest);
// SHA-256 over the certificate's DER encoding; "" if OpenSSL cannot encode it.
std::string sha256_fingerprint(const X509& certificate);

}  // namespace atrium::server
