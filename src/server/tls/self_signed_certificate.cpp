#include "server/tls/self_signed_certificate.h"

#include <array>
#include <cstdint>
#include <stdexcept>

#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <boost/asio/ip/address.hpp>

#include "server/tls/openssl_error.h"

namespace atrium::server {
namespace {

constexpr long kOneDay = 24L * 3600;

[[noreturn]] void fail(const char* step) {
  throw std::runtime_error(std::string("cannot make a self-signed certificate: ") + step + ": " +
                           take_openssl_reason());
}

// "DNS:localhost,IP:127.0.0.1,...": the subjectAltName value in OpenSSL's configuration syntax.
std::string alt_names(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& name : names) {
    boost::system::error_code not_ip;
    boost::asio::ip::make_address(name, not_ip);
    out += (out.empty() ? "" : ",") + std::string(not_ip ? "DNS:" : "IP:") + name;
  }
  return out;
}

void add_extension(X509* certificate, int nid, const std::string& value) {
  X509V3_CTX context;
  X509V3_set_ctx_nodb(&context);
  X509V3_set_ctx(&context, certificate, certificate, nullptr, nullptr, 0);
  X509_EXTENSION* extension = X509V3_EXT_conf_nid(nullptr, &context, nid, value.c_str());
  const bool added = extension != nullptr && X509_add_ext(certificate, extension, -1) == 1;
  X509_EXTENSION_free(extension);
  if (!added) fail("an X.509 extension");
}

}  // namespace

SelfSignedCertificate make_self_signed_certificate(const std::vector<std::string>& names) {
  if (names.empty()) throw std::invalid_argument("make_self_signed_certificate: no names");
  SelfSignedCertificate made;
  made.key.reset(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  if (!made.key) fail("P-256 key generation");
  made.certificate.reset(X509_new());
  X509* x = made.certificate.get();
  if (x == nullptr || X509_set_version(x, X509_VERSION_3) != 1) fail("X509_new");

  // Browsers refuse a second certificate with the same issuer and serial, and every restart makes a new one.
  std::uint64_t serial = 0;
  if (RAND_bytes(reinterpret_cast<unsigned char*>(&serial), sizeof serial) != 1) fail("RAND_bytes");
  serial = (serial >> 1) | 1;  // positive and never zero
  if (ASN1_INTEGER_set_uint64(X509_get_serialNumber(x), serial) != 1) fail("the serial number");

  if (X509_gmtime_adj(X509_getm_notBefore(x), -kOneDay) == nullptr ||
      X509_gmtime_adj(X509_getm_notAfter(x), 365 * kOneDay) == nullptr)
    fail("the validity");
  X509_NAME* subject = X509_get_subject_name(x);
  const auto* common_name = reinterpret_cast<const unsigned char*>(names.front().c_str());
  if (X509_NAME_add_entry_by_txt(subject, "O", MBSTRING_ASC,
                                 reinterpret_cast<const unsigned char*>("atrium (self-signed)"), -1, -1,
                                 0) != 1 ||
      X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_ASC, common_name, -1, -1, 0) != 1 ||
      X509_set_issuer_name(x, subject) != 1)
    fail("the subject name");
  if (X509_set_pubkey(x, made.key.get()) != 1) fail("X509_set_pubkey");
  add_extension(x, NID_basic_constraints, "critical,CA:FALSE");
  add_extension(x, NID_key_usage, "critical,digitalSignature");
  add_extension(x, NID_ext_key_usage, "serverAuth");
  add_extension(x, NID_subject_alt_name, alt_names(names));
  if (X509_sign(x, made.key.get(), EVP_sha256()) <= 0) fail("X509_sign");
  return made;
}

}  // namespace atrium::server
