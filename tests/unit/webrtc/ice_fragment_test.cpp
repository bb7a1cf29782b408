// ICE-restart and trickle fragments (RFC 8840) as WHIP PATCH uses them, the shared candidate priority
// (RFC 8445 section 5.1.2.1), and how many send streams an offer can use.
#include <gtest/gtest.h>

#include <string>

#include "transport/webrtc/ice/candidate_priority.h"
#include "transport/webrtc/sdp/ice_fragment.h"
#include "transport/webrtc/sdp/negotiator.h"
#include "media/sdp/sdp.h"

namespace atrium::webrtc {
namespace {

TEST(CandidatePriority, FollowsRfc8445) {
  // (2^24) * type preference + (2^8) * local preference + (256 - component)
  EXPECT_EQ(candidate_priority(126, 65535, 1), 2130706431u);  // what browsers give a first host candidate
  EXPECT_EQ(candidate_priority(110, 65535, 2), (110u << 24) + (65535u << 8) + 254u);  // prflx, RTCP
  EXPECT_EQ(candidate_priority(0, 0, 256), 0u);
  EXPECT_EQ(host_candidate_priority(0, true), 2130706431u);
  EXPECT_EQ(host_candidate_priority(1, true), 2130706175u);   // later in our list: lower
  EXPECT_EQ(host_candidate_priority(2, false), 2122317311u);  // TCP below every UDP candidate
  EXPECT_LT(host_candidate_priority(1000, true), host_candidate_priority(999, true));
  EXPECT_EQ(host_candidate_priority(5000, true), host_candidate_priority(1000, true));  // clamped
}

TEST(IceFragment, ReadsCredentials) {
  auto f = parse_ice_fragment(
      "a=ice-ufrag:cLnt\r\na=ice-pwd:client-password-0123456789\r\nm=audio 9 UDP/TLS/RTP/SAVPF 0\r\n"
      "a=mid:0\r\na=candidate:1 1 udp 1 192.0.2.1 5000 typ host\r\n");
  ASSERT_TRUE(f);
  EXPECT_EQ(f->ufrag, "cLnt");
  EXPECT_EQ(f->pwd, "client-password-0123456789");
  // \n endings and blank lines are fine; a repeated credential: the last one counts.
  f = parse_ice_fragment("\na=ice-ufrag:one\n\na=ice-ufrag:two\n");
  ASSERT_TRUE(f);
  EXPECT_EQ(f->ufrag, "two");
  EXPECT_EQ(f->pwd, "");
}

TEST(IceFragment, TrickleOnlyHasNoCredentials) {
  auto f = parse_ice_fragment("a=candidate:1 1 udp 1 192.0.2.1 5000 typ host\r\na=end-of-candidates\r\n");
  ASSERT_TRUE(f);
  EXPECT_TRUE(f->ufrag.empty());
  EXPECT_TRUE(f->pwd.empty());
  EXPECT_TRUE(parse_ice_fragment(""));
}

TEST(IceFragment, RefusesWhatIsNotSdpLines) {
  EXPECT_FALSE(parse_ice_fragment("{\"candidate\": \"1 1 udp\"}"));
  EXPECT_FALSE(parse_ice_fragment("a=ice-ufrag:x\r\nhello\r\n"));
  EXPECT_FALSE(parse_ice_fragment("a\r\n"));
}

NegotiatedMedia section(std::string mid, media::MediaKind kind, std::vector<uint8_t> pts) {
  NegotiatedMedia m;
  m.mid = std::move(mid);
  m.kind = kind;
  for (uint8_t pt : pts) {
    NegotiatedCodec c;
    c.pt = pt;
    m.codecs.push_back(c);
  }
  return m;
}

TEST(IceRestartFragment, WritesCredentialsBundleAndCandidates) {
  const std::vector<NegotiatedMedia> media = {section("0", media::MediaKind::kAudio, {111, 63}),
                                              section("1", media::MediaKind::kVideo, {96, 97})};
  const std::vector<HostCandidate> ours = {{"192.0.2.10", 40000, true, 0}, {"2001:db8::10", 40000, true, 0}};
  EXPECT_EQ(write_ice_restart_fragment("newU", "new-password-0123456789ab", media, ours),
            "a=ice-lite\r\n"
            "a=ice-ufrag:newU\r\n"
            "a=ice-pwd:new-password-0123456789ab\r\n"
            "a=group:BUNDLE 0 1\r\n"
            "m=audio 9 UDP/TLS/RTP/SAVPF 111 63\r\n"
            "a=mid:0\r\n"
            "a=candidate:1 1 udp 2130706431 192.0.2.10 40000 typ host\r\n"
            "a=candidate:2 1 udp 2130706175 2001:db8::10 40000 typ host\r\n"
            "a=end-of-candidates\r\n");
}

TEST(IceRestartFragment, WithoutSectionsOnlyCredentials) {
  EXPECT_EQ(write_ice_restart_fragment("u", "p", {}, {{"192.0.2.10", 40000, true, 0}}),
            "a=ice-lite\r\na=ice-ufrag:u\r\na=ice-pwd:p\r\n");
}

TEST(IceRestartFragment, ReadsBackAsAFragment) {
  const auto text = write_ice_restart_fragment("u2", "pwd2", {section("v", media::MediaKind::kVideo, {96})},
                                               {{"192.0.2.10", 40000, true, 0}});
  auto f = parse_ice_fragment(text);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->ufrag, "u2");
  EXPECT_EQ(f->pwd, "pwd2");
}

TEST(MaxSendStreams, CountsTheSectionsTheServerWouldSendOn) {
  auto offer = parse_sdp(
      "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
      "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:0\r\na=sendrecv\r\n"
      "m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:1\r\na=recvonly\r\n"
      "m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:2\r\na=sendonly\r\n"
      "m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:3\r\na=inactive\r\n"
      "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\na=mid:4\r\n");
  ASSERT_TRUE(offer);
  EXPECT_EQ(max_send_streams(*offer, SessionKind::kPublish), 0u);
  EXPECT_EQ(max_send_streams(*offer, SessionKind::kSubscribe), 2u);  // sendrecv and recvonly
  EXPECT_EQ(max_send_streams(*offer, SessionKind::kPeer), 2u);
  // Without a direction a section is sendrecv (or takes the session's).
  auto session_level = parse_sdp(
      "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=recvonly\r\n"
      "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:1\r\n");
  ASSERT_TRUE(session_level);
  EXPECT_EQ(max_send_streams(*session_level, SessionKind::kSubscribe), 2u);
}

TEST(ParseOffer, NamesTheLine) {
  auto r = parse_offer("v=0\r\nbogus\r\n");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().http_status, 400);
  EXPECT_NE(r.error().reason.find("The offer is not valid SDP"), std::string::npos);
}

}  // namespace
}  // namespace atrium::webrtc
