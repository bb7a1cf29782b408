// Access tokens for the SDK, WHIP and WHEP: JWT (RFC 7519) signed with HS256 (HMAC-SHA256 over a shared
// secret, OpenSSL). Claims: `room` (required), `peer` (optional: when present the client must use that peer
// id), `permissions` (any of "publish", "subscribe", "admin"), `exp` (seconds since the epoch, required).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace atrium::server {

struct AccessClaims {
  std::string room;
  std::string peer;  // empty: any peer id
  bool publish = false;
  bool subscribe = false;
  bool admin = false;
  int64_t expires = 0;  // unix seconds
};

struct TokenCheck {
  std::optional<AccessClaims> claims;
  std::string code;     // TOKEN_MISSING, TOKEN_INVALID, TOKEN_EXPIRED when claims is empty
  std::string message;  // a sentence
};

std::string make_access_token(std::string_view secret, const AccessClaims& claims);
TokenCheck verify_access_token(std::string_view secret, std::string_view token, int64_t now_unix);

// For requests that name a room (and maybe a peer): TOKEN_WRONG_ROOM, TOKEN_WRONG_PEER or "" when allowed.
std::string check_scope(const AccessClaims& claims, std::string_view room, std::string_view peer);

// Where a name or a token may stand (an RTMP stream key, a SIP user part): a JWT is three base64url parts
// joined by dots; peer and room names cannot contain a dot twice like that, and their 128-character limit is
// shorter than any token.
bool looks_like_token(std::string_view s);
// The wall clock, unix seconds, for token expiry.
int64_t unix_seconds();

}  // namespace atrium::server
