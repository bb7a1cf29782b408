#include "server/webrtc/turn_credentials.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace atrium::server {
namespace {

// The expected password was computed once outside this code:
//   echo -n "1700000000:viewer" | openssl dgst -sha1 -hmac "north-star" -binary | base64
TEST(TurnCredentials, MatchesTheOpensslVector) {
  const auto c = mint_turn_credential("north-star", 1700000000, "viewer");
  EXPECT_EQ(c.username, "1700000000:viewer");
  EXPECT_EQ(c.password, "G4JfzKymdQDGLLAHeRIjGViRmyk=");
}

TEST(TurnCredentials, ExpiryIsNowPlusTtlAndNegativeTtlIsInThePast) {
  IceServerSettings s{"stun:stun.example:3478", "turn:10.0.0.1:3478?transport=udp, turns:turn.example:5349",
                      "north-star", 600};
  auto servers = ice_servers_for(s, "alice", 1'000'000);
  ASSERT_EQ(servers.size(), 2u);
  EXPECT_EQ(servers[0].urls, std::vector<std::string>{"stun:stun.example:3478"});
  EXPECT_TRUE(servers[0].username.empty());
  EXPECT_EQ(servers[1].urls.size(), 2u);
  EXPECT_EQ(servers[1].username, "1000600:alice");
  EXPECT_EQ(servers[1].credential, mint_turn_credential("north-star", 1000600, "alice").password);
  s.turn_ttl = -60;
  EXPECT_EQ(ice_servers_for(s, "alice", 1'000'000)[1].username, "999940:alice");
}

TEST(TurnCredentials, NoSecretNoTurn) {
  IceServerSettings s{"", "turn:10.0.0.1:3478", "", 600};
  EXPECT_TRUE(ice_servers_for(s, "alice", 1).empty());
}

TEST(TurnCredentials, LinkHeadersPerRfc9725) {
  std::vector<IceServer> servers{
      {{"stun:a:3478"}, "", ""},
      {{"turn:b:3478?transport=udp", "turn:b:3478?transport=tcp"}, "60:p", "pa\"ss"}};
  const auto links = ice_server_links(servers);
  ASSERT_EQ(links.size(), 3u);
  EXPECT_EQ(links[0], "<stun:a:3478>; rel=\"ice-server\"");
  EXPECT_EQ(links[1],
            "<turn:b:3478?transport=udp>; rel=\"ice-server\"; username=\"60:p\"; credential=\"pa\\\"ss\"; "
            "credential-type=\"password\"");
  EXPECT_EQ(links[2].substr(0, 28), "<turn:b:3478?transport=tcp>;");
}

TEST(TurnCredentials, Json) {
  std::vector<IceServer> servers{{{"turn:b:3478"}, "60:p", "x"}, {{"stun:a"}, "", ""}};
  const auto j = ice_servers_json(servers);
  EXPECT_EQ(j.dump(), R"([{"credential":"x","urls":["turn:b:3478"],"username":"60:p"},{"urls":["stun:a"]}])");
}

TEST(TurnCredentials, ServerAddresses) {
  EXPECT_EQ(turn_server_addresses("turn:10.99.0.1:3478?transport=udp,turn:10.99.0.1:3478?transport=tcp,"
                                  "turns:[::1]:5349,stun:10.0.0.9"),
            (std::vector<std::string>{"10.99.0.1", "::1"}));
  const auto local = turn_server_addresses("turn:localhost:3478?transport=tcp");
  EXPECT_NE(std::find(local.begin(), local.end(), "127.0.0.1"), local.end());
}

}  // namespace
}  // namespace atrium::server
