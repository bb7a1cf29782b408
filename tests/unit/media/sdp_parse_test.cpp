// The generic SDP parser and serializer: structure, limits, line endings, error line numbers.
#include <gtest/gtest.h>

#include <string>

#include "media/sdp/sdp.h"

namespace atrium::sdp {
namespace {

constexpr std::string_view kMinimal =
    "v=0\r\n"
    "o=- 123 2 IN IP4 127.0.0.1\r\n"
    "s=-\r\n"
    "c=IN IP4 0.0.0.0\r\n"
    "t=0 0\r\n"
    "a=group:BUNDLE 0\r\n"
    "a=ice-lite\r\n"
    "m=audio 9 UDP/TLS/RTP/SAVPF 111 0\r\n"
    "c=IN IP4 0.0.0.0\r\n"
    "b=AS:64\r\n"
    "a=mid:0\r\n"
    "a=rtpmap:111 opus/48000/2\r\n"
    "a=rtcp-mux\r\n"
    "a=fmtp:\r\n"
    "m=application 0/2 UDP/DTLS/SCTP webrtc-datachannel\r\n"
    "a=mid:1\r\n";

std::string with_lf(std::string_view crlf) {
  std::string s;
  for (char c : crlf) {
    if (c != '\r') s += c;
  }
  return s;
}

TEST(SdpParse, MinimalDescription) {
  auto r = parse_sdp(kMinimal);
  ASSERT_TRUE(r) << r.error().line << ": " << r.error().reason;
  const auto& s = *r;
  EXPECT_EQ(s.origin, "- 123 2 IN IP4 127.0.0.1");
  EXPECT_EQ(s.session_name, "-");
  ASSERT_EQ(s.lines.size(), 2u);
  EXPECT_EQ(s.lines[0].type, 'c');
  EXPECT_EQ(s.lines[1].type, 't');
  EXPECT_EQ(s.lines[1].value, "0 0");
  ASSERT_EQ(s.attributes.size(), 2u);
  EXPECT_EQ(s.attributes[0].name, "group");
  EXPECT_EQ(s.attributes[0].value, "BUNDLE 0");
  EXPECT_TRUE(s.attributes[0].has_value);
  EXPECT_EQ(s.attributes[1].name, "ice-lite");
  EXPECT_FALSE(s.attributes[1].has_value);

  ASSERT_EQ(s.media.size(), 2u);
  const auto& a = s.media[0];
  EXPECT_EQ(a.media, "audio");
  EXPECT_EQ(a.port, 9);
  EXPECT_FALSE(a.port_count);
  EXPECT_EQ(a.proto, "UDP/TLS/RTP/SAVPF");
  EXPECT_EQ(a.formats, (std::vector<std::string>{"111", "0"}));
  EXPECT_EQ(a.line_number, 8u);
  ASSERT_EQ(a.lines.size(), 2u);
  EXPECT_EQ(a.lines[1].type, 'b');
  EXPECT_EQ(a.lines[1].value, "AS:64");
  EXPECT_EQ(a.value("mid"), "0");
  EXPECT_EQ(a.value("rtpmap"), "111 opus/48000/2");
  EXPECT_TRUE(a.has("rtcp-mux"));
  EXPECT_EQ(a.value("fmtp"), "");  // "a=fmtp:" has an empty value
  EXPECT_TRUE(a.find("fmtp")->has_value);
  EXPECT_FALSE(a.has("sendonly"));

  const auto& d = s.media[1];
  EXPECT_EQ(d.port, 0);
  EXPECT_EQ(d.port_count, 2);
  EXPECT_EQ(d.formats, (std::vector<std::string>{"webrtc-datachannel"}));
}

TEST(SdpParse, LfAndCrlfGiveTheSameResult) {
  auto a = parse_sdp(kMinimal);
  auto b = parse_sdp(with_lf(kMinimal));
  ASSERT_TRUE(a);
  ASSERT_TRUE(b);
  EXPECT_EQ(serialize_sdp(*a), serialize_sdp(*b));
  // No final newline, and blank lines, are tolerated.
  std::string no_final(kMinimal);
  no_final.resize(no_final.size() - 2);
  auto c = parse_sdp(no_final + "\r\n\r\n");
  ASSERT_TRUE(c);
  EXPECT_EQ(serialize_sdp(*c), serialize_sdp(*a));
  auto d = parse_sdp(no_final);
  ASSERT_TRUE(d);
  EXPECT_EQ(serialize_sdp(*d), serialize_sdp(*a));
}

TEST(SdpParse, SerializeRoundTripIsExact) {
  auto r = parse_sdp(kMinimal);
  ASSERT_TRUE(r);
  EXPECT_EQ(serialize_sdp(*r), kMinimal);
}

TEST(SdpParse, SerializeFillsMandatoryLines) {
  SessionDescription s;
  MediaSection m;
  m.media = "video";
  m.port = 9;
  m.proto = "UDP/TLS/RTP/SAVPF";
  m.formats = {"96"};
  m.add("mid", "v");
  m.add_flag("recvonly");
  s.media.push_back(m);
  EXPECT_EQ(serialize_sdp(s),
            "v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:v\r\n"
            "a=recvonly\r\n");
  auto back = parse_sdp(serialize_sdp(s));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->media[0].value("mid"), "v");
}

struct Bad {
  std::string text;
  size_t line;
  std::string reason;
};

TEST(SdpParse, StructuralErrorsNameTheLine) {
  const std::string head = "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n";
  const std::vector<Bad> cases = {
      {"", 0, "empty SDP"},
      {"\r\n\n", 0, "empty SDP"},
      {"o=- 1 1 IN IP4 0.0.0.0\r\nv=0\r\n", 1, "SDP must start with v=0"},
      {"v=1\r\n", 1, "SDP must start with v=0"},
      {"v=0\r\ns=-\r\n", 2, "the second line must be o="},
      {"v=0\r\no=- 1 1 IN IP4\r\ns=-\r\n", 2, "o= line needs six fields"},
      {"v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\nt=0 0\r\n", 3, "the third line must be s="},
      {"v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\n", 0, "SDP ends before the s= line"},
      {"v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\n", 0, "SDP has no t= line"},
      {"v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nm=audio 9 RTP/AVP 0\r\n", 4, "m= line before any t= line"},
      {head + "m=video nine UDP/TLS/RTP/SAVPF 96\r\n", 5, "m= line has a bad port"},
      {head + "m=video 70000 UDP/TLS/RTP/SAVPF 96\r\n", 5, "m= line has a bad port"},
      {head + "m=video 9/0 UDP/TLS/RTP/SAVPF 96\r\n", 5, "m= line has a bad port count"},
      {head + "m=video 9 UDP/TLS/RTP/SAVPF\r\n", 5,
       "m= line needs media, port, proto and at least one format"},
      {head + "a=ice-lite\r\nthis is not sdp\r\n", 6, "expected a line of the form <letter>=<value>"},
      {head + "A=foo\r\n", 5, "expected a line of the form <letter>=<value>"},
      {head + "x=foo\r\n", 5, "unknown line type 'x='"},
      {head + "v=0\r\n", 5, "a second v= line"},
      {head + "m=audio 9 RTP/AVP 0\r\nt=0 0\r\n", 6, "t= line is not allowed inside a media section"},
      {head + "a=\r\n", 5, "empty a= line"},
      {head + "a=:x\r\n", 5, "a= line has a bad attribute name"},
      {head + "a=na me:x\r\n", 5, "a= line has a bad attribute name"},
      {head + std::string("a=x\0y\r\n", 7), 5, "control character in the line"},
  };
  for (const auto& c : cases) {
    auto r = parse_sdp(c.text);
    ASSERT_FALSE(r) << c.text;
    EXPECT_EQ(r.error().line, c.line) << c.text;
    EXPECT_EQ(r.error().reason, c.reason) << c.text;
  }
}

TEST(SdpParse, Limits) {
  const std::string head = "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n";
  std::string big = head;
  while (big.size() <= kSdpMaxSize)
    big += "a=x-padding:0123456789012345678901234567890123456789\r\n";
  auto r = parse_sdp(big);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().line, 0u);
  EXPECT_EQ(r.error().reason, "SDP is larger than 64 KiB");

  std::string many = head;
  for (size_t i = 0; i < kSdpMaxLines; ++i)
    many += "a=x\r\n";
  r = parse_sdp(many);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().reason, "too many lines");
  EXPECT_EQ(r.error().line, kSdpMaxLines + 1);

  std::string sections = head;
  for (size_t i = 0; i <= kSdpMaxMediaSections; ++i)
    sections += "m=audio 9 RTP/AVP 0\r\n";
  r = parse_sdp(sections);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().reason, "too many media sections");
  EXPECT_EQ(r.error().line, 5 + kSdpMaxMediaSections);

  std::string formats = head + "m=video 9 RTP/AVP";
  for (size_t i = 0; i <= kSdpMaxFormats; ++i)
    formats += " 96";
  r = parse_sdp(formats + "\r\n");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().reason, "m= line has too many formats");
}

TEST(SdpAttributeList, LookupHelpers) {
  SdpAttributeList l;
  l.add("ssrc", "1 cname:a");
  l.add_flag("rtcp-mux");
  l.add("ssrc", "2 cname:b");
  EXPECT_EQ(l.value("ssrc"), "1 cname:a");
  EXPECT_EQ(l.values("ssrc"), (std::vector<std::string_view>{"1 cname:a", "2 cname:b"}));
  EXPECT_TRUE(l.has("rtcp-mux"));
  EXPECT_FALSE(l.value("mid"));
  EXPECT_TRUE(l.values("mid").empty());
}

}  // namespace
}  // namespace atrium::sdp
