#include "server/tls/certificate_fingerprint.h"

#include <array>

#include <openssl/evp.h>
#include <spdlog/fmt/fmt.h>

namespace atrium::server {

std::string format_fingerprint(std::span<const unsigned char> digest) {
  return fmt::format("{:02X}", fmt::join(digest, ":"));
}

std::string sha256_fingerprint(const X509& certificate) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int size = 0;
  if (X509_digest(&certificate, EVP_sha256(), digest.data(), &size) != 1) return {};
  return format_fingerprint(std::span(digest.data(), size));
}

}  // namespace atrium::server
