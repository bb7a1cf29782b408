#include "server/auth/access_token.h"

#include <algorithm>
#include <chrono>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <array>

#include <nlohmann/json.hpp>

namespace atrium::server {

namespace {

constexpr char kB64Url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

std::string b64url_encode(std::string_view in) {
  std::string out;
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const uint32_t v =
        (uint32_t(uint8_t(in[i])) << 16) | (uint32_t(uint8_t(in[i + 1])) << 8) | uint8_t(in[i + 2]);
    out += kB64Url[(v >> 18) & 63];
    out += kB64Url[(v >> 12) & 63];
    out += kB64Url[(v >> 6) & 63];
    out += kB64Url[v & 63];
  }
  if (i + 1 == in.size()) {
    const uint32_t v = uint32_t(uint8_t(in[i])) << 16;
    out += kB64Url[(v >> 18) & 63];
    out += kB64Url[(v >> 12) & 63];
  } else if (i + 2 == in.size()) {
    const uint32_t v = (uint32_t(uint8_t(in[i])) << 16) | (uint32_t(uint8_t(in[i + 1])) << 8);
    out += kB64Url[(v >> 18) & 63];
    out += kB64Url[(v >> 12) & 63];
    out += kB64Url[(v >> 6) & 63];
  }
  return out;
}

std::optional<std::string> b64url_decode(std::string_view in) {
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    const char* p = std::char_traits<char>::find(kB64Url, 64, c);
    if (!p) return std::nullopt;
    acc = (acc << 6) | static_cast<uint32_t>(p - kB64Url);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xFF);
    }
  }
  if (in.size() % 4 == 1) return std::nullopt;
  return out;
}

std::string hmac_sha256(std::string_view key, std::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac.data(), &len);
  return std::string(reinterpret_cast<const char*>(mac.data()), len);
}

TokenCheck fail(std::string code, std::string message) {
  return {std::nullopt, std::move(code), std::move(message)};
}

}  // namespace

std::string make_access_token(std::string_view secret, const AccessClaims& c) {
  nlohmann::json payload{{"room", c.room}, {"exp", c.expires}};
  if (!c.peer.empty()) payload["peer"] = c.peer;
  auto perms = nlohmann::json::array();
  if (c.publish) perms.push_back("publish");
  if (c.subscribe) perms.push_back("subscribe");
  if (c.admin) perms.push_back("admin");
  payload["permissions"] = perms;
  const std::string signing =
      b64url_encode(R"({"alg":"HS256","typ":"JWT"})") + "." + b64url_encode(payload.dump());
  return signing + "." + b64url_encode(hmac_sha256(secret, signing));
}

TokenCheck verify_access_token(std::string_view secret, std::string_view token, int64_t now_unix) {
  if (token.empty()) return fail("TOKEN_MISSING", "this server needs an access token");
  if (token.size() > 8192) return fail("TOKEN_INVALID", "the token is too long");
  const auto d1 = token.find('.');
  const auto d2 = d1 == std::string_view::npos ? d1 : token.find('.', d1 + 1);
  if (d2 == std::string_view::npos) return fail("TOKEN_INVALID", "the token is not a JWT");
  const auto header = b64url_decode(token.substr(0, d1));
  const auto payload = b64url_decode(token.substr(d1 + 1, d2 - d1 - 1));
  const auto signature = b64url_decode(token.substr(d2 + 1));
  if (!header || !payload || !signature) return fail("TOKEN_INVALID", "the token is not base64url");
  const auto h = nlohmann::json::parse(*header, nullptr, false);
  // Read by type: h.value("alg", "") would throw on {"alg": 5}, and this runs before the signature is
  // checked.
  const auto alg = h.is_object() ? h.find("alg") : h.end();
  if (!h.is_object() || alg == h.end() || !alg->is_string() || *alg != "HS256")
    return fail("TOKEN_INVALID", "the token must be signed with HS256");
  const std::string expected = hmac_sha256(secret, token.substr(0, d2));
  if (expected.size() != signature->size() ||
      CRYPTO_memcmp(expected.data(), signature->data(), expected.size()) != 0)
    return fail("TOKEN_INVALID", "the token's signature does not match this server's secret");
  const auto p = nlohmann::json::parse(*payload, nullptr, false);
  if (!p.is_object() || !p.contains("room") || !p["room"].is_string() || !p.contains("exp") ||
      !p["exp"].is_number_integer())
    return fail("TOKEN_INVALID", "the token needs a string \"room\" and an integer \"exp\"");
  AccessClaims c;
  c.room = p["room"].get<std::string>();
  c.expires = p["exp"].get<int64_t>();
  if (p.contains("peer") && p["peer"].is_string()) c.peer = p["peer"].get<std::string>();
  if (p.contains("permissions") && p["permissions"].is_array()) {
    for (const auto& perm : p["permissions"]) {
      if (!perm.is_string()) continue;
      const auto s = perm.get<std::string>();
      c.publish |= s == "publish";
      c.subscribe |= s == "subscribe";
      c.admin |= s == "admin";
    }
  }
  if (c.expires <= now_unix) return fail("TOKEN_EXPIRED", "the token expired");
  return {std::move(c), {}, {}};
}

std::string check_scope(const AccessClaims& claims, std::string_view room, std::string_view peer) {
  if (claims.room != room && claims.room != "*") return "TOKEN_WRONG_ROOM";
  if (!claims.peer.empty() && claims.peer != peer) return "TOKEN_WRONG_PEER";
  return {};
}

bool looks_like_token(std::string_view s) {
  return s.size() > 20 && std::count(s.begin(), s.end(), '.') == 2;
}

int64_t unix_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace atrium::server
