#include "transport/sip/sip_digest.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cstdio>

#include "transport/sip/sip_message.h"

namespace atrium::sip {
namespace {

std::string hex(const unsigned char* p, size_t n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string s;
  s.reserve(n * 2);
  for (size_t i = 0; i < n; ++i) {
    s += kDigits[p[i] >> 4];
    s += kDigits[p[i] & 0xF];
  }
  return s;
}

// `name=value` or `name="value"` from a Digest credentials list (commas between, quoted strings kept whole).
std::string_view param(std::string_view list, std::string_view name) {
  size_t pos = 0;
  while (pos < list.size()) {
    while (pos < list.size() && (list[pos] == ' ' || list[pos] == ',' || list[pos] == '\t'))
      ++pos;
    const size_t eq = list.find('=', pos);
    if (eq == std::string_view::npos) return {};
    std::string_view key = list.substr(pos, eq - pos);
    while (!key.empty() && key.back() == ' ')
      key.remove_suffix(1);
    size_t v = eq + 1;
    while (v < list.size() && list[v] == ' ')
      ++v;
    std::string_view value;
    if (v < list.size() && list[v] == '"') {
      const size_t close = list.find('"', v + 1);
      if (close == std::string_view::npos) return {};
      value = list.substr(v + 1, close - v - 1);
      pos = close + 1;
    } else {
      const size_t end = std::min(list.find(',', v), list.size());
      value = list.substr(v, end - v);
      while (!value.empty() && value.back() == ' ')
        value.remove_suffix(1);
      pos = end;
    }
    if (iequals(key, name)) return value;
  }
  return {};
}

}  // namespace

std::string md5_hex(std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_Digest(data.data(), data.size(), out, &n, EVP_md5(), nullptr);
  return hex(out, n);
}

DigestAuth::DigestAuth(std::string realm, std::string password, std::string nonce_key)
    : realm_(std::move(realm)), password_(std::move(password)), nonce_key_(std::move(nonce_key)) {}

std::string DigestAuth::nonce(int64_t issued) const {
  char stamp[32];
  std::snprintf(stamp, sizeof stamp, "%llx", static_cast<unsigned long long>(issued));
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  HMAC(EVP_sha256(), nonce_key_.data(), static_cast<int>(nonce_key_.size()),
       reinterpret_cast<const unsigned char*>(stamp), std::char_traits<char>::length(stamp), mac, &n);
  return std::string(stamp) + "." + hex(mac, 12);
}

std::string DigestAuth::challenge(int64_t now_seconds, bool stale) const {
  return "Digest realm=\"" + realm_ + "\", nonce=\"" + nonce(now_seconds) +
         "\", algorithm=MD5, qop=\"auth\"" + (stale ? ", stale=true" : "");
}

DigestAuth::Verdict DigestAuth::verify(std::string_view authorization, std::string_view method,
                                       int64_t now_seconds) const {
  if (authorization.empty()) return Verdict::kMissing;
  if (authorization.size() < 7 || !iequals(authorization.substr(0, 7), "Digest ")) return Verdict::kMalformed;
  const std::string_view creds = authorization.substr(7);
  const auto username = param(creds, "username");
  const auto realm = param(creds, "realm");
  const auto nonce_value = param(creds, "nonce");
  const auto uri = param(creds, "uri");
  const auto response = param(creds, "response");
  const auto qop = param(creds, "qop");
  const auto algorithm = param(creds, "algorithm");
  if (username.empty() || nonce_value.empty() || uri.empty() || response.empty()) return Verdict::kMalformed;
  if (realm != realm_ || (!algorithm.empty() && !iequals(algorithm, "MD5"))) return Verdict::kWrong;
  // The nonce must be ours and fresh.
  const auto dot = nonce_value.find('.');
  if (dot == std::string_view::npos || dot == 0 || dot > 16) return Verdict::kWrong;
  unsigned long long issued = 0;
  for (char c : nonce_value.substr(0, dot)) {
    const int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
    if (d < 0) return Verdict::kWrong;
    issued = issued * 16 + static_cast<unsigned>(d);
  }
  if (nonce(static_cast<int64_t>(issued)) != nonce_value) return Verdict::kWrong;
  if (now_seconds - static_cast<int64_t>(issued) > kNonceLifetime) return Verdict::kStale;
  const std::string ha1 = md5_hex(std::string(username) + ":" + realm_ + ":" + password_);
  const std::string ha2 = md5_hex(std::string(method) + ":" + std::string(uri));
  std::string expected;
  if (qop.empty()) {
    expected = md5_hex(ha1 + ":" + std::string(nonce_value) + ":" + ha2);  // RFC 2069 style
  } else if (iequals(qop, "auth")) {
    const auto nc = param(creds, "nc");
    const auto cnonce = param(creds, "cnonce");
    if (nc.empty() || cnonce.empty()) return Verdict::kMalformed;
    expected = md5_hex(ha1 + ":" + std::string(nonce_value) + ":" + std::string(nc) + ":" +
                       std::string(cnonce) + ":auth:" + ha2);
  } else {
    return Verdict::kWrong;  // auth-int is not offered
  }
  // Constant time: the response is what an attacker varies.
  std::string given(response);
  for (auto& c : given)
    if (c >= 'A' && c <= 'F') c = static_cast<char>(c - 'A' + 'a');
  if (given.size() != expected.size()) return Verdict::kWrong;
  return CRYPTO_memcmp(given.data(), expected.data(), expected.size()) == 0 ? Verdict::kOk : Verdict::kWrong;
}

}  // namespace atrium::sip
