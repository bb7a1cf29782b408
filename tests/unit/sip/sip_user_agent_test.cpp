// The user agent as a phone sees it: what it answers to each request, what its timers resend, and that no
// dialog is left once an ending has been absorbed.
#include "transport/sip/sip_user_agent.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace atrium::sip {
namespace {

constexpr media::Micros kMs = 1000;
const SipAddress kPhone{"127.0.0.1", 5070};

std::string invite(std::string_view call_id = "c1", std::string_view branch = "z9hG4bK1", uint32_t cseq = 1,
                   std::string_view to_tag = "", std::string_view extra = "") {
  const std::string sdp =
      "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n";
  std::string m = "INVITE sip:room1@127.0.0.1:5060 SIP/2.0\r\n";
  m += "Via: SIP/2.0/UDP 127.0.0.1:5070;branch=" + std::string(branch) + ";rport\r\n";
  m += "From: \"Alice\" <sip:alice@127.0.0.1>;tag=a1\r\n";
  m +=
      "To: <sip:room1@127.0.0.1>" + (to_tag.empty() ? std::string() : ";tag=" + std::string(to_tag)) + "\r\n";
  m += "Call-ID: " + std::string(call_id) + "\r\n";
  m += "CSeq: " + std::to_string(cseq) + " INVITE\r\n";
  m += "Contact: <sip:alice@127.0.0.1:5070>\r\n";
  m += std::string(extra);
  m += "Content-Type: application/sdp\r\nContent-Length: " + std::to_string(sdp.size()) + "\r\n\r\n" + sdp;
  return m;
}

std::string request(std::string_view method, std::string_view to_tag, uint32_t cseq,
                    std::string_view branch = "z9hG4bK1", std::string_view call_id = "c1") {
  std::string m = std::string(method) + " sip:atrium@127.0.0.1:5060 SIP/2.0\r\n";
  m += "Via: SIP/2.0/UDP 127.0.0.1:5070;branch=" + std::string(branch) + "\r\n";
  m += "From: \"Alice\" <sip:alice@127.0.0.1>;tag=a1\r\n";
  m +=
      "To: <sip:room1@127.0.0.1>" + (to_tag.empty() ? std::string() : ";tag=" + std::string(to_tag)) + "\r\n";
  m += "Call-ID: " + std::string(call_id) + "\r\n";
  m += "CSeq: " + std::to_string(cseq) + " " + std::string(method) + "\r\nContent-Length: 0\r\n\r\n";
  return m;
}

SipUserAgentConfig config(std::string password = {}) {
  SipUserAgentConfig c;
  c.host = "127.0.0.1";
  c.port = 5060;
  c.max_calls = 2;
  c.digest_password = std::move(password);
  return c;
}

struct Phone {
  explicit Phone(std::string password = {}) : ua(config(std::move(password)), 7) {}
  SipUserAgent ua;
  std::vector<std::string> got;

  std::vector<std::string> sent() {
    std::vector<std::string> out;
    while (auto d = ua.pop_datagram()) {
      EXPECT_EQ(d->to, kPhone);
      out.push_back(d->bytes);
    }
    return out;
  }
  static int status(const std::string& m) { return SipMessage::parse(m)->status(); }
  static std::string to_tag(const std::string& m) { return std::string(SipMessage::parse(m)->to_tag()); }
};

TEST(SipUserAgent, AnInviteRingsIsAnsweredAndAckedThenTheCallerHangsUp) {
  Phone p;
  p.ua.receive(0, kPhone, invite());
  auto out = p.sent();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(Phone::status(out[0]), 100);
  auto e = p.ua.pop_event();
  ASSERT_TRUE(e && std::holds_alternative<IncomingCall>(*e));
  const auto& in = std::get<IncomingCall>(*e);
  EXPECT_EQ(in.room, "room1");
  EXPECT_EQ(in.caller_name, "Alice");
  EXPECT_EQ(in.caller_uri, "sip:alice@127.0.0.1");
  EXPECT_NE(in.offer.find("m=audio 4000"), std::string::npos);
  p.ua.ring(in.call);
  p.ua.accept(0, in.call, "v=0\r\n");
  out = p.sent();
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(Phone::status(out[0]), 180);
  EXPECT_EQ(Phone::status(out[1]), 200);
  const std::string tag = Phone::to_tag(out[1]);
  EXPECT_FALSE(tag.empty());
  EXPECT_NE(out[1].find("received=127.0.0.1"), std::string::npos);
  EXPECT_NE(out[1].find("rport=5070"), std::string::npos);
  EXPECT_EQ(p.ua.calls(), 1u);

  // No ACK yet: the 200 is resent after T1, then 2 T1.
  p.ua.tick(500 * kMs);
  EXPECT_EQ(p.sent().size(), 1u);
  p.ua.tick(1000 * kMs);
  EXPECT_TRUE(p.sent().empty());
  p.ua.tick(1500 * kMs);
  EXPECT_EQ(p.sent().size(), 1u);
  p.ua.receive(1600 * kMs, kPhone, request("ACK", tag, 1, "z9hG4bK2"));
  p.ua.tick(10'000 * kMs);
  EXPECT_TRUE(p.sent().empty());  // confirmed: nothing more resent

  p.ua.receive(11'000 * kMs, kPhone, request("BYE", tag, 2, "z9hG4bK3"));
  out = p.sent();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(Phone::status(out[0]), 200);
  e = p.ua.pop_event();
  ASSERT_TRUE(e && std::holds_alternative<CallEnded>(*e));
  EXPECT_EQ(std::get<CallEnded>(*e).reason, "the caller hung up");
  EXPECT_EQ(p.ua.calls(), 0u);
  // A retransmitted BYE is still answered 200 while the dialog lingers; then it is gone.
  p.ua.receive(12'000 * kMs, kPhone, request("BYE", tag, 2, "z9hG4bK3"));
  EXPECT_EQ(Phone::status(p.sent().at(0)), 200);
  p.ua.tick(11'000 * kMs + 64 * 500 * kMs);
  EXPECT_EQ(p.ua.dialogs(), 0u);
}

TEST(SipUserAgent, ARetransmittedInviteGetsTheLastResponseAgain) {
  Phone p;
  p.ua.receive(0, kPhone, invite());
  p.sent();
  const auto call = std::get<IncomingCall>(*p.ua.pop_event()).call;
  p.ua.ring(call);
  p.sent();
  p.ua.receive(100 * kMs, kPhone, invite());
  auto out = p.sent();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(Phone::status(out[0]), 180);
  EXPECT_FALSE(p.ua.pop_event());  // not a second call
  EXPECT_EQ(p.ua.counters().retransmissions_in, 1u);
}

TEST(SipUserAgent, CancelBeforeTheAnswerEndsTheCallWith487) {
  Phone p;
  p.ua.receive(0, kPhone, invite());
  p.sent();
  const auto call = std::get<IncomingCall>(*p.ua.pop_event()).call;
  p.ua.receive(10 * kMs, kPhone, request("CANCEL", "", 1));
  auto out = p.sent();
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(Phone::status(out[0]), 200);  // to the CANCEL
  EXPECT_EQ(Phone::status(out[1]), 487);  // to the INVITE
  auto e = p.ua.pop_event();
  ASSERT_TRUE(e && std::holds_alternative<CallEnded>(*e));
  EXPECT_EQ(p.ua.calls(), 0u);
  // The runtime's late answer changes nothing.
  p.ua.accept(20 * kMs, call, "v=0\r\n");
  EXPECT_TRUE(p.sent().empty());
  // The 487 is resent until its ACK.
  p.ua.tick(510 * kMs);
  EXPECT_EQ(Phone::status(p.sent().at(0)), 487);
  p.ua.receive(600 * kMs, kPhone, request("ACK", Phone::to_tag(out[1]), 1));
  p.ua.tick(600 * kMs + 5 * 500 * kMs);
  EXPECT_EQ(p.ua.dialogs(), 0u);
}

TEST(SipUserAgent, UnknownDialogsAreAnswered481AndStrayAcksCounted) {
  Phone p;
  p.ua.receive(0, kPhone, request("BYE", "nope", 2));
  EXPECT_EQ(Phone::status(p.sent().at(0)), 481);
  p.ua.receive(0, kPhone, request("CANCEL", "", 1));
  EXPECT_EQ(Phone::status(p.sent().at(0)), 481);
  p.ua.receive(0, kPhone, request("ACK", "nope", 1));
  EXPECT_TRUE(p.sent().empty());
  EXPECT_EQ(p.ua.counters().stray_acks, 1u);
  EXPECT_EQ(p.ua.counters().unknown_dialog, 2u);
  p.ua.receive(0, kPhone, request("OPTIONS", "", 1));
  auto out = p.sent();
  EXPECT_EQ(Phone::status(out.at(0)), 200);
  EXPECT_NE(out[0].find("Allow: INVITE"), std::string::npos);
  p.ua.receive(0, kPhone, request("REGISTER", "", 1));
  EXPECT_EQ(Phone::status(p.sent().at(0)), 405);
  p.ua.receive(0, kPhone, "this is not SIP\r\n\r\n");
  EXPECT_TRUE(p.sent().empty());
  EXPECT_EQ(p.ua.counters().malformed, 1u);
  EXPECT_EQ(p.ua.dialogs(), 0u);
}

TEST(SipUserAgent, BeyondMaxCallsInvitesGet503) {
  Phone p;  // max_calls 2
  p.ua.receive(0, kPhone, invite("c1", "z9hG4bKa"));
  p.ua.receive(0, kPhone, invite("c2", "z9hG4bKb"));
  p.ua.receive(0, kPhone, invite("c3", "z9hG4bKc"));
  auto out = p.sent();
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(Phone::status(out[2]), 503);
  EXPECT_NE(out[2].find("Retry-After"), std::string::npos);
  EXPECT_EQ(p.ua.calls(), 2u);
}

TEST(SipUserAgent, NoAckForThe200EndsTheCallWithABye) {
  Phone p;
  p.ua.receive(0, kPhone, invite());
  p.sent();
  const auto call = std::get<IncomingCall>(*p.ua.pop_event()).call;
  p.ua.accept(0, call, "v=0\r\n");
  p.sent();
  for (media::Micros t = 0; t <= 33'000 * kMs; t += 50 * kMs)
    p.ua.tick(t);
  auto out = p.sent();
  ASSERT_FALSE(out.empty());
  EXPECT_EQ(out.back().rfind("BYE sip:alice@127.0.0.1:5070 SIP/2.0", 0), 0u) << out.back() << out.size();
  auto e = p.ua.pop_event();
  ASSERT_TRUE(e && std::holds_alternative<CallEnded>(*e));
  EXPECT_EQ(p.ua.counters().ack_timeouts, 1u);
}

TEST(SipUserAgent, AReinviteIsOfferedToTheRuntimeAndAnsweredInTheDialog) {
  Phone p;
  p.ua.receive(0, kPhone, invite());
  p.sent();
  const auto call = std::get<IncomingCall>(*p.ua.pop_event()).call;
  p.ua.accept(0, call, "v=0\r\n");
  const std::string tag = Phone::to_tag(p.sent().at(0));
  p.ua.receive(10 * kMs, kPhone, request("ACK", tag, 1, "z9hG4bK2"));
  p.ua.receive(20 * kMs, kPhone, invite("c1", "z9hG4bK9", 2, tag));
  EXPECT_EQ(Phone::status(p.sent().at(0)), 100);
  auto e = p.ua.pop_event();
  ASSERT_TRUE(e && std::holds_alternative<CallReoffer>(*e));
  p.ua.accept_reoffer(30 * kMs, call, "v=0\r\n");
  EXPECT_EQ(Phone::status(p.sent().at(0)), 200);
}

TEST(SipUserAgent, ASessionTimerIsGrantedAndEndsACallThatIsNotRefreshed) {
  Phone p;
  p.ua.receive(0, kPhone, invite("c1", "z9hG4bK1", 1, "", "Session-Expires: 90\r\nSupported: timer\r\n"));
  p.sent();
  const auto call = std::get<IncomingCall>(*p.ua.pop_event()).call;
  p.ua.accept(0, call, "v=0\r\n");
  auto ok = p.sent().at(0);
  EXPECT_NE(ok.find("Session-Expires: 90;refresher=uac"), std::string::npos);
  EXPECT_NE(ok.find("Require: timer"), std::string::npos);
  p.ua.receive(10 * kMs, kPhone, request("ACK", Phone::to_tag(ok), 1, "z9hG4bK2"));
  p.ua.tick(89'000 * kMs);
  EXPECT_FALSE(p.ua.pop_event());
  p.ua.tick(90'100 * kMs);
  auto e = p.ua.pop_event();
  ASSERT_TRUE(e && std::holds_alternative<CallEnded>(*e));
  EXPECT_EQ(p.sent().back().rfind("BYE ", 0), 0u);

  Phone q;  // too short an interval: 422 with our minimum
  q.ua.receive(0, kPhone, invite("c2", "z9hG4bK1", 1, "", "Session-Expires: 30\r\n"));
  auto out = q.sent();
  EXPECT_EQ(Phone::status(out.at(0)), 422);
  EXPECT_NE(out[0].find("Min-SE: 90"), std::string::npos);
}

TEST(SipUserAgent, WithASecretAnInviteIsChallengedAndTheRightDigestGetsIn) {
  Phone p("s3cret");
  p.ua.receive(0, kPhone, invite());
  auto out = p.sent();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(Phone::status(out[0]), 401);
  EXPECT_FALSE(p.ua.pop_event());
  auto challenge = SipMessage::parse(out[0])->header("WWW-Authenticate");
  ASSERT_TRUE(challenge);
  const std::string c(*challenge);
  const auto nonce_at = c.find("nonce=\"") + 7;
  const std::string nonce = c.substr(nonce_at, c.find('"', nonce_at) - nonce_at);
  EXPECT_NE(c.find("qop=\"auth\""), std::string::npos);
  // The 401 is ACKed like any rejection; the caller retries with credentials (RFC 2617, qop=auth).
  p.ua.receive(10 * kMs, kPhone, request("ACK", Phone::to_tag(out[0]), 1));
  const auto answer = [&](std::string_view password) {
    const std::string uri = "sip:room1@127.0.0.1:5060";
    const std::string ha1 = md5_hex("alice:atrium:" + std::string(password));
    const std::string ha2 = md5_hex("INVITE:" + uri);
    const std::string response = md5_hex(ha1 + ":" + nonce + ":00000001:abc:auth:" + ha2);
    return "Authorization: Digest username=\"alice\", realm=\"atrium\", nonce=\"" + nonce + "\", uri=\"" +
           uri + "\", response=\"" + response +
           "\", algorithm=MD5, qop=auth, nc=00000001, cnonce=\"abc\"\r\n";
  };
  p.ua.receive(20 * kMs, kPhone, invite("c1", "z9hG4bK5", 2, "", answer("wrong")));
  EXPECT_EQ(Phone::status(p.sent().at(0)), 401);
  EXPECT_EQ(p.ua.counters().auth_failures, 1u);
  p.ua.receive(30 * kMs, kPhone, invite("c1", "z9hG4bK6", 3, "", answer("s3cret")));
  EXPECT_EQ(Phone::status(p.sent().at(0)), 100);
  auto e = p.ua.pop_event();
  ASSERT_TRUE(e && std::holds_alternative<IncomingCall>(*e));
  // A nonce past its lifetime: challenged again, stale=true.
  p.ua.receive((DigestAuth::kNonceLifetime + 5) * 1000 * kMs, kPhone,
               invite("c2", "z9hG4bK7", 1, "", answer("s3cret")));
  auto stale = p.sent();
  EXPECT_EQ(Phone::status(stale.at(0)), 401);
  EXPECT_NE(stale[0].find("stale=true"), std::string::npos);
}

}  // namespace
}  // namespace atrium::sip
