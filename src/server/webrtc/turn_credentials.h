// Short-lived TURN credentials (the "TURN REST API" scheme coturn checks with use-auth-secret /
// static-auth-secret): username "EXPIRY:PEER" (EXPIRY in unix seconds), password
// base64(HMAC-SHA1(secret, username)). The server and the TURN server share only the secret; a credential
// works until EXPIRY, for anyone who holds it. docs/turn.md.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace atrium::server {

struct TurnCredential {
  std::string username;
  std::string password;
};

// The credential valid until `expiry` (unix seconds) for `peer`.
TurnCredential mint_turn_credential(std::string_view secret, int64_t expiry, std::string_view peer);

// What a client is told to use: the --ice-servers URLs (no credential) and, with --turn-secret, the
// --turn-urls with a credential minted for `peer`, valid until now + ttl.
struct IceServer {
  std::vector<std::string> urls;
  std::string username;  // empty: none (stun:, or a turn: URL the operator configured by hand)
  std::string credential;
};

struct IceServerSettings {
  std::string ice_servers;   // --ice-servers, comma-separated
  std::string turn_urls;     // --turn-urls, comma-separated
  std::string turn_secret;   // --turn-secret; empty: no TURN credentials
  int64_t turn_ttl = 86400;  // --turn-ttl, seconds (negative: already expired, for tests)
};

std::vector<IceServer> ice_servers_for(const IceServerSettings& s, std::string_view peer, int64_t now);

// One `Link: <url>; rel="ice-server"[; username=...; credential=...; credential-type="password"]` value per
// URL (RFC 9725 section 4.6).
std::vector<std::string> ice_server_links(const std::vector<IceServer>& servers);

// [{"urls": [...], "username": ..., "credential": ...}] as RTCPeerConnection's iceServers takes them.
nlohmann::json ice_servers_json(const std::vector<IceServer>& servers);

// The hosts (IP literals as written, names resolved) of the turn:/turns: URLs: a check arriving from one of
// these addresses came through a relay.
std::vector<std::string> turn_server_addresses(std::string_view turn_urls);

// "a,b , c" -> {"a", "b", "c"}
std::vector<std::string> split_comma_list(std::string_view s);

}  // namespace atrium::server
