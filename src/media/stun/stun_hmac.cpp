#include "media/stun/stun_hmac.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <memory>

namespace atrium::media {

namespace {

struct MacDeleter {
  void operator()(EVP_MAC* m) const { EVP_MAC_free(m); }
};
struct CtxDeleter {
  void operator()(EVP_MAC_CTX* c) const { EVP_MAC_CTX_free(c); }
};

// Fetched once: fetching is a provider lookup, too slow for every consent check.
EVP_MAC* hmac_algorithm() {
  static const std::unique_ptr<EVP_MAC, MacDeleter> mac(EVP_MAC_fetch(nullptr, "HMAC", nullptr));
  return mac.get();
}

}  // namespace

bool stun_hmac_sha1(std::span<const uint8_t> key, std::span<const uint8_t> head,
                    std::span<const uint8_t> body, uint8_t* out) {
  EVP_MAC* mac = hmac_algorithm();
  if (!mac) return false;
  std::unique_ptr<EVP_MAC_CTX, CtxDeleter> ctx(EVP_MAC_CTX_new(mac));
  if (!ctx) return false;
  char digest[] = "SHA1";
  const OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                               OSSL_PARAM_construct_end()};
  // An empty key is legal HMAC input; OpenSSL wants a non-null pointer for it.
  static const uint8_t kEmpty = 0;
  const uint8_t* key_ptr = key.empty() ? &kEmpty : key.data();
  if (EVP_MAC_init(ctx.get(), key_ptr, key.size(), params) != 1) return false;
  if (!head.empty() && EVP_MAC_update(ctx.get(), head.data(), head.size()) != 1) return false;
  if (!body.empty() && EVP_MAC_update(ctx.get(), body.data(), body.size()) != 1) return false;
  size_t len = 0;
  if (EVP_MAC_final(ctx.get(), out, &len, 20) != 1) return false;
  return len == 20;
}

}  // namespace atrium::media
