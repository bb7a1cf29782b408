// A certificate made at start for trying HTTPS out (--tls-self-signed): an EC P-256 key and a self-signed
// X.509 certificate whose subjectAltName lists the names a browser may be pointed at. Nothing is written to
// disk; a restart makes a new one, so a browser that was told to trust it must be told again.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <openssl/evp.h>
#include <openssl/x509.h>

namespace atrium::server {

struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct EvpPkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};

struct SelfSignedCertificate {
  std::unique_ptr<X509, X509Free> certificate;
  std::unique_ptr<EVP_PKEY, EvpPkeyFree> key;
};

// Valid from a day ago (clocks differ) for a year. `names`: host names (DNS entries) and IP addresses (IP
// entries, told apart by parsing), at least one. Throws std::runtime_error naming the OpenSSL step that
// failed.
SelfSignedCertificate make_self_signed_certificate(const std::vector<std::string>& names);

}  // namespace atrium::server
