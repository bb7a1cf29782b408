// SDP offer/answer for phones: what baresip, desk phones and trunks offer, which codec the answer picks,
// and the hold directions.
#include "transport/sip/sip_sdp.h"

#include <gtest/gtest.h>

namespace atrium::sip {
namespace {

const std::vector<media::Codec> kPreference = {media::Codec::kOpus, media::Codec::kPcmu, media::Codec::kPcma};

std::string offer(std::string_view formats, std::string_view attrs, std::string_view conn = "127.0.0.1") {
  return "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 " + std::string(conn) +
         "\r\nt=0 0\r\nm=audio 4000 RTP/AVP " + std::string(formats) + "\r\n" + std::string(attrs);
}

TEST(SipSdp, PrefersOpusAndKeepsItsPayloadTypeAndDtmfAtItsRate) {
  auto r = read_audio_offer(offer("0 8 111 101 102",
                                  "a=rtpmap:111 opus/48000/2\r\na=rtpmap:101 telephone-event/8000\r\n"
                                  "a=rtpmap:102 telephone-event/48000\r\na=ptime:20\r\n"));
  ASSERT_TRUE(r.offer) << r.error;
  EXPECT_EQ(r.offer->address, "127.0.0.1");
  EXPECT_EQ(r.offer->port, 4000);
  std::string why;
  auto n = choose_audio(*r.offer, kPreference, &why);
  ASSERT_TRUE(n) << why;
  EXPECT_EQ(n->codec, media::Codec::kOpus);
  EXPECT_EQ(n->pt, 111);
  EXPECT_EQ(n->clock_rate, 48000u);
  EXPECT_EQ(n->dtmf_pt, 102);
  const std::string answer = write_audio_answer(*n, "127.0.0.1", 5004, 1, 1);
  EXPECT_NE(answer.find("m=audio 5004 RTP/AVP 111 102\r\n"), std::string::npos) << answer;
  EXPECT_NE(answer.find("a=rtpmap:111 opus/48000/2\r\n"), std::string::npos);
  EXPECT_NE(answer.find("a=rtpmap:102 telephone-event/48000\r\n"), std::string::npos);
  EXPECT_NE(answer.find("a=sendrecv\r\n"), std::string::npos);
}

TEST(SipSdp, StaticPayloadTypesNeedNoRtpmapAndTheServersOrderWins) {
  auto r = read_audio_offer(offer("8 0", ""));
  ASSERT_TRUE(r.offer);
  auto n = choose_audio(*r.offer, kPreference, nullptr);
  ASSERT_TRUE(n);
  EXPECT_EQ(n->codec, media::Codec::kPcmu);  // PCMU before PCMA in our order, whatever the offer's
  EXPECT_FALSE(n->dtmf_pt);
  n = choose_audio(*r.offer, {media::Codec::kPcma}, nullptr);
  ASSERT_TRUE(n);
  EXPECT_EQ(n->pt, 8);
  // Opus with telephone-event at 8 kHz only (what baresip offers): taken at 8 kHz.
  auto baresip =
      read_audio_offer(offer("96 101", "a=rtpmap:96 opus/48000/2\r\na=rtpmap:101 telephone-event/8000\r\n"));
  n = choose_audio(*baresip.offer, kPreference, nullptr);
  ASSERT_TRUE(n);
  EXPECT_EQ(n->dtmf_pt, 101);
  EXPECT_NE(write_audio_answer(*n, "127.0.0.1", 5004, 1, 1).find("a=rtpmap:101 telephone-event/8000\r\n"),
            std::string::npos);
  n = choose_audio(*r.offer, {media::Codec::kPcma}, nullptr);
  ASSERT_TRUE(n);
  EXPECT_EQ(n->pt, 8);
}

TEST(SipSdp, HoldOffersGetTheMirroredDirection) {
  auto sendonly = read_audio_offer(offer("0", "a=sendonly\r\n"));
  EXPECT_EQ(choose_audio(*sendonly.offer, kPreference, nullptr)->direction, Direction::kRecvOnly);
  auto inactive = read_audio_offer(offer("0", "a=inactive\r\n"));
  EXPECT_EQ(choose_audio(*inactive.offer, kPreference, nullptr)->direction, Direction::kInactive);
  auto old_hold = read_audio_offer(offer("0", "", "0.0.0.0"));
  EXPECT_EQ(choose_audio(*old_hold.offer, kPreference, nullptr)->direction, Direction::kInactive);
}

TEST(SipSdp, RefusalsSaySo) {
  EXPECT_NE(read_audio_offer("not sdp").error, "");
  EXPECT_EQ(
      read_audio_offer("v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nt=0 0\r\nm=video 4 RTP/AVP 96\r\n").error,
      "the SDP has no audio section");
  std::string why;
  auto g722 = read_audio_offer(offer("9", "a=rtpmap:9 G722/8000\r\n"));
  EXPECT_FALSE(choose_audio(*g722.offer, kPreference, &why));
  EXPECT_NE(why.find("G722/8000"), std::string::npos) << why;
  auto savp = read_audio_offer(
      "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nc=IN IP4 1.2.3.4\r\nt=0 0\r\nm=audio 4 RTP/SAVP 0\r\n");
  EXPECT_FALSE(choose_audio(*savp.offer, kPreference, &why));
  EXPECT_NE(why.find("RTP/SAVP"), std::string::npos);
}

}  // namespace
}  // namespace atrium::sip
