// The SIP message parser on what real user agents send (baresip's and RFC 3261's examples) and on what they
// must not: each refusal names its reason.
#include "transport/sip/sip_message.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace atrium::sip {
namespace {

const std::string kInvite =
    "INVITE sip:room1@127.0.0.1:5060 SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 127.0.0.1:5070;rport;branch=z9hG4bK776asdhds\r\n"
    "Max-Forwards: 70\r\n"
    "To: <sip:room1@127.0.0.1>\r\n"
    "From: \"Alice, the caller\" <sip:alice@127.0.0.1>;tag=1928301774\r\n"
    "Call-ID: a84b4c76e66710@127.0.0.1\r\n"
    "CSeq: 314159 INVITE\r\n"
    "Contact: <sip:alice@127.0.0.1:5070>\r\n"
    "Content-Type: application/sdp\r\n"
    "Content-Length: 8\r\n"
    "\r\n"
    "v=0\r\no=- 1";  // two bytes past Content-Length: dropped

TEST(SipMessage, ParsesARequest) {
  std::string error;
  auto m = SipMessage::parse(kInvite, &error);
  ASSERT_TRUE(m) << error;
  EXPECT_TRUE(m->is_request());
  EXPECT_EQ(m->method(), "INVITE");
  EXPECT_EQ(m->request_uri(), "sip:room1@127.0.0.1:5060");
  EXPECT_EQ(m->call_id(), "a84b4c76e66710@127.0.0.1");
  EXPECT_EQ(m->cseq_number(), 314159u);
  EXPECT_EQ(m->cseq_method(), "INVITE");
  EXPECT_EQ(m->via_branch(), "z9hG4bK776asdhds");
  EXPECT_EQ(m->from_tag(), "1928301774");
  EXPECT_EQ(m->to_tag(), "");
  EXPECT_EQ(m->body(), "v=0\r\no=-");
  EXPECT_EQ(m->header("content-type"), "application/sdp");
  EXPECT_EQ(m->headers().size(), 9u);
}

TEST(SipMessage, ParsesAResponseWithCompactHeadersAndSeveralVias) {
  const std::string text =
      "SIP/2.0 180 Ringing\r\n"
      "v: SIP/2.0/UDP 127.0.0.1;branch=z9hG4bKx , SIP/2.0/TCP 10.0.0.1;branch=z9hG4bKy\r\n"
      "Via: SIP/2.0/UDP 10.0.0.2;branch=z9hG4bKz\r\n"
      "f: <sip:a@b>;tag=1\r\n"
      "t: <sip:c@d>;tag=2\r\n"
      "i: abc\r\n"
      "CSeq: 1 INVITE\r\n"
      "l: 0\r\n\r\n";
  auto m = SipMessage::parse(text);
  ASSERT_TRUE(m);
  EXPECT_FALSE(m->is_request());
  EXPECT_EQ(m->status(), 180);
  EXPECT_EQ(m->reason(), "Ringing");
  std::vector<std::string> vias;
  m->each_value("Via", [&](std::string_view v) { vias.emplace_back(v); });
  ASSERT_EQ(vias.size(), 3u);
  EXPECT_EQ(vias[1], "SIP/2.0/TCP 10.0.0.1;branch=z9hG4bKy");
  EXPECT_EQ(m->via_branch(), "z9hG4bKx");
  EXPECT_EQ(m->to_tag(), "2");
  EXPECT_EQ(m->call_id(), "abc");
  EXPECT_EQ(m->body(), "");
}

TEST(SipMessage, FoldedLinesBareLfAndLeadingCrlfAreTaken) {
  const std::string text =
      "\r\n\r\nOPTIONS sip:x@y SIP/2.0\n"
      "Via: SIP/2.0/UDP h\n"
      "  ;branch=z9hG4bKfold\n"
      "Subject: one\n\t two\n"
      "From: <sip:a@b>;tag=9\nTo: <sip:x@y>\nCall-ID: 1\nCSeq: 2 OPTIONS\n\n";
  std::string error;
  auto m = SipMessage::parse(text, &error);
  ASSERT_TRUE(m) << error;
  EXPECT_EQ(unfolded(*m->header("Subject")), "one two");
  EXPECT_EQ(m->via_branch(), "z9hG4bKfold");
}

TEST(SipMessage, CommasInQuotesAndAnglesDoNotSplit) {
  std::vector<std::string> parts;
  split_values(R"("Doe, John" <sip:j@x;a=1,2>;tag=3, <sip:k@y>)",
               [&](std::string_view v) { parts.emplace_back(v); });
  ASSERT_EQ(parts.size(), 2u);
  EXPECT_EQ(parts[0], R"("Doe, John" <sip:j@x;a=1,2>;tag=3)");
  EXPECT_EQ(header_param(parts[0], "tag"), "3");
  EXPECT_EQ(header_param(parts[0], "a"), "");  // inside the URI, not a header parameter
}

TEST(SipMessage, RefusalsSayWhy) {
  const std::string tail =
      "Via: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:c@d>\r\n"
      "Call-ID: 1\r\nCSeq: 1 OPTIONS\r\n";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", "no complete start line"},
      {"HELLO\r\n\r\n", "bad request line"},
      {"OPTIONS sip:x SIP/3.0\r\n" + tail + "\r\n", "bad request line"},
      {"OPTIONS nocolon SIP/2.0\r\n" + tail + "\r\n", "no scheme"},
      {"SIP/2.0 99 Too low\r\n" + tail + "\r\n", "bad status line"},
      {"SIP/2.0 2000 OK\r\n" + tail + "\r\n", "bad status line"},
      {"OPTIONS sip:x@y SIP/2.0\r\n" + tail + "no colon here\r\n\r\n", "without a colon"},
      {"OPTIONS sip:x@y SIP/2.0\r\n" + tail, "does not end"},
      {"OPTIONS sip:x@y SIP/2.0\r\n" + tail + "Content-Length: 5\r\n\r\nabc", "larger than the body"},
      {"OPTIONS sip:x@y SIP/2.0\r\n" + tail + "Content-Length: x\r\n\r\n", "not a number"},
      {"OPTIONS sip:x@y SIP/2.0\r\nFrom: <sip:a@b>\r\nTo: <sip:c@d>\r\nCall-ID: 1\r\nCSeq: 1 OPTIONS\r\n\r\n",
       "no Via"},
      {"OPTIONS sip:x@y SIP/2.0\r\nVia: v\r\nFrom: f\r\nTo: t\r\nCall-ID: 1\r\nCSeq: OPTIONS\r\n\r\n",
       "bad CSeq"},
      {" Via: folded first\r\n", "bad request line"},
      {std::string(70 * 1024, 'a'), "larger than 64 KiB"},
  };
  for (const auto& [text, why] : cases) {
    std::string error;
    EXPECT_FALSE(SipMessage::parse(text, &error)) << text.substr(0, 60);
    EXPECT_NE(error.find(why), std::string::npos) << "got '" << error << "' for " << text.substr(0, 60);
  }
  std::string many = "OPTIONS sip:x@y SIP/2.0\r\n" + tail;
  for (int i = 0; i < 70; ++i)
    many += "X-H: " + std::to_string(i) + "\r\n";
  std::string error;
  EXPECT_FALSE(SipMessage::parse(many + "\r\n", &error));
  EXPECT_NE(error.find("more than 64"), std::string::npos) << error;
}

}  // namespace
}  // namespace atrium::sip
