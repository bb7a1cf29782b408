// Token claims of the wrong JSON type are TOKEN_INVALID, never an exception (issue 13, part 7).
#include "server/auth/access_token.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <array>
#include <string>

namespace atrium::server {
namespace {

constexpr char kSecret[] = "unit-test-secret";

std::string b64url(const std::string& in) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (unsigned char c : in) {
    acc = (acc << 8) | c;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out += kAlphabet[(acc >> bits) & 63];
    }
  }
  if (bits > 0) out += kAlphabet[(acc << (6 - bits)) & 63];
  return out;
}

// A correctly signed JWT with this header and payload, whatever they hold.
std::string signed_token(const std::string& header, const std::string& payload) {
  const std::string signing = b64url(header) + "." + b64url(payload);
  std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
  unsigned int len = 0;
  HMAC(EVP_sha256(), kSecret, static_cast<int>(sizeof kSecret - 1),
       reinterpret_cast<const unsigned char*>(signing.data()), signing.size(), mac.data(), &len);
  return signing + "." + b64url(std::string(reinterpret_cast<const char*>(mac.data()), len));
}

TEST(AccessToken, AGoodTokenVerifies) {
  const auto check =
      verify_access_token(kSecret, signed_token(R"({"alg":"HS256"})", R"({"room":"r","exp":2000})"), 1000);
  ASSERT_TRUE(check.claims) << check.message;
  EXPECT_EQ(check.claims->room, "r");
}

TEST(AccessToken, WrongTypesAreInvalidNotThrown) {
  const std::string good = R"({"room":"r","exp":2000})";
  for (const char* header : {R"({"alg":5})", R"({"alg":["HS256"]})", R"({"alg":null})", R"([1])"}) {
    TokenCheck check;
    EXPECT_NO_THROW(check = verify_access_token(kSecret, signed_token(header, good), 1000)) << header;
    EXPECT_FALSE(check.claims) << header;
    EXPECT_EQ(check.code, "TOKEN_INVALID") << header;
  }
  for (const char* payload : {R"({"room":5,"exp":2000})", R"({"room":"r","exp":"2000"})",
                              R"({"room":"r","exp":2000.5})", R"({"room":{},"exp":2000})"}) {
    TokenCheck check;
    EXPECT_NO_THROW(check = verify_access_token(kSecret, signed_token(R"({"alg":"HS256"})", payload), 1000))
        << payload;
    EXPECT_EQ(check.code, "TOKEN_INVALID") << payload;
  }
  // Optional claims of another type are ignored (no peer restriction, no permission), not a crash.
  const auto odd = verify_access_token(
      kSecret, signed_token(R"({"alg":"HS256"})", R"({"room":"r","exp":2000,"peer":7,"permissions":[1,{}]})"),
      1000);
  ASSERT_TRUE(odd.claims);
  EXPECT_EQ(odd.claims->peer, "");
  EXPECT_FALSE(odd.claims->publish);
}

}  // namespace
}  // namespace atrium::server
