// SIP URIs as phones and trunks write them, and the name-addr around them: the room is the request URI's user
// part, a caller is named by its display name or user part.
#include "transport/sip/sip_uri.h"

#include <gtest/gtest.h>

namespace atrium::sip {
namespace {

TEST(SipUri, ParsesTheFormsPhonesSend) {
  auto u = parse_sip_uri("sip:room1@127.0.0.1:5060;transport=udp");
  ASSERT_TRUE(u);
  EXPECT_FALSE(u->secure);
  EXPECT_EQ(u->user, "room1");
  EXPECT_EQ(u->host, "127.0.0.1");
  EXPECT_EQ(u->port, 5060);
  EXPECT_EQ(uri_param(*u, "Transport"), "udp");

  u = parse_sip_uri("SIPS:alice:secret@[::1]:5061?subject=hi");
  ASSERT_TRUE(u);
  EXPECT_TRUE(u->secure);
  EXPECT_EQ(u->user, "alice");
  EXPECT_EQ(u->password, "secret");
  EXPECT_EQ(u->host, "::1");
  EXPECT_EQ(u->port, 5061);
  EXPECT_EQ(u->headers, "subject=hi");

  u = parse_sip_uri("sip:example.com");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->user, "");
  EXPECT_EQ(u->host, "example.com");
  EXPECT_EQ(u->port, 0);

  u = parse_sip_uri("sip:+4930123;phone-context=x@gw.example.com;lr");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->user, "+4930123;phone-context=x");
  EXPECT_EQ(u->host, "gw.example.com");
  EXPECT_EQ(u->params, "lr");
}

TEST(SipUri, RefusesWhatIsNotASipUri) {
  for (const char* bad : {"tel:+123", "sip:", "sip:@", "sip:user@", "sip:host:0", "sip:host:70000",
                          "sip:host:", "sip:[::1", "sip:[::1]x", "sip:a b@c", "http://x"})
    EXPECT_FALSE(parse_sip_uri(bad)) << bad;
}

TEST(SipUri, NameAddr) {
  EXPECT_EQ(addr_spec(R"("Alice, A." <sip:alice@h;transport=tcp>;tag=1)"), "sip:alice@h;transport=tcp");
  EXPECT_EQ(display_name(R"("Alice, A." <sip:alice@h>;tag=1)"), "Alice, A.");
  EXPECT_EQ(display_name("Bob <sip:bob@h>"), "Bob");
  EXPECT_EQ(display_name("<sip:bob@h>"), "");
  EXPECT_EQ(addr_spec("sip:carol@h;tag=9"), "sip:carol@h");
  EXPECT_EQ(display_name("sip:carol@h;tag=9"), "");
  EXPECT_EQ(addr_spec("<sip:unclosed@h"), "");
}

}  // namespace
}  // namespace atrium::sip
