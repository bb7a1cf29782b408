#include <gtest/gtest.h>

#include <vector>

#include "media/codec/h264.h"
#include "rtmp/rtmp_test_util.h"
#include "transport/rtmp/flv_tags.h"
#include "transport/rtmp/h264_packetizer.h"

namespace atrium::rtmp {
namespace {

using test::Bytes;
using test::nal;

Bytes avcc(const std::vector<Bytes>& nals) {
  Bytes tag = test::avc_nalus(true, 0, nals);
  return Bytes(tag.begin() + 5, tag.end());
}

// Reassembles FU-A fragments back into NAL units; single NAL packets pass through; STAP-A is split.
std::vector<Bytes> depacketize(std::span<const RtpPayloadView> packets) {
  std::vector<Bytes> out;
  Bytes fu;
  for (const auto& p : packets) {
    const auto pl = p.payload;
    const uint8_t type = pl[0] & 0x1F;
    if (type == media::kH264NalFuA) {
      const bool start = pl[1] & 0x80, end = pl[1] & 0x40;
      if (start) fu = {static_cast<uint8_t>((pl[0] & 0xE0) | (pl[1] & 0x1F))};
      fu.insert(fu.end(), pl.begin() + 2, pl.end());
      if (end) out.push_back(fu);
    } else if (type == media::kH264NalStapA) {
      size_t pos = 1;
      while (pos + 2 <= pl.size()) {
        const size_t len = (size_t{pl[pos]} << 8) | pl[pos + 1];
        out.emplace_back(pl.begin() + static_cast<ptrdiff_t>(pos + 2),
                         pl.begin() + static_cast<ptrdiff_t>(pos + 2 + len));
        pos += 2 + len;
      }
    } else {
      out.emplace_back(pl.begin(), pl.end());
    }
  }
  return out;
}

TEST(RtmpH264Packetizer, LargeIdrBecomesStapAAndFuAThatReassemble) {
  H264Packetizer p;
  p.set_parameter_sets({test::kSps}, {test::kPps});
  const Bytes idr = nal(0x65, 5000, 3);
  const Bytes aud = {0x09, 0xF0};
  ASSERT_GT(p.packetize(avcc({aud, idr}), 4, 1000), 2u);
  const auto packets = p.packets();
  // STAP-A (SPS + PPS), then ceil(4999 / 1198) = 5 fragments.
  ASSERT_EQ(packets.size(), 6u);
  EXPECT_EQ(packets[0].payload[0] & 0x1F, media::kH264NalStapA);
  EXPECT_TRUE(packets[0].keyframe);
  EXPECT_TRUE(media::h264_is_keyframe(packets[0].payload));
  auto info = media::inspect_h264(packets[0].payload);
  ASSERT_TRUE(info);
  EXPECT_TRUE(info->has_sps && info->has_pps);
  // The first fragment too is seen as the start of an IDR.
  EXPECT_TRUE(media::h264_is_keyframe(packets[1].payload));
  for (size_t i = 0; i < packets.size(); ++i) {
    EXPECT_LE(packets[i].payload.size(), kDefaultMaxRtpPayload);
    EXPECT_EQ(packets[i].marker, i + 1 == packets.size()) << i;
    EXPECT_EQ(packets[i].keyframe, i == 0) << i;
    if (i > 0) {
      EXPECT_EQ(packets[i].payload[0], 0x60 | media::kH264NalFuA);  // NRI of the IDR kept
    }
  }
  const auto nals = depacketize(packets);
  ASSERT_EQ(nals.size(), 3u);  // SPS, PPS, IDR (AUD dropped)
  EXPECT_EQ(nals[0], test::kSps);
  EXPECT_EQ(nals[1], test::kPps);
  EXPECT_EQ(nals[2], idr);
  EXPECT_TRUE(p.keyframe());
  EXPECT_EQ(p.rtp_timestamp(), 90000u);
  EXPECT_EQ(p.nals_dropped(), 1u);
}

TEST(RtmpH264Packetizer, SmallPFrameIsOneSingleNalPacket) {
  H264Packetizer p;
  p.set_parameter_sets({test::kSps}, {test::kPps});
  const Bytes slice = nal(0x41, 300);
  const Bytes sei = nal(0x06, 20);
  const Bytes filler = nal(0x0C, 50);
  ASSERT_EQ(p.packetize(avcc({sei, slice, filler}), 4, 33), 2u);
  EXPECT_FALSE(p.keyframe());
  EXPECT_EQ(Bytes(p.packets()[0].payload.begin(), p.packets()[0].payload.end()), sei);
  EXPECT_EQ(Bytes(p.packets()[1].payload.begin(), p.packets()[1].payload.end()), slice);
  EXPECT_FALSE(p.packets()[0].marker);
  EXPECT_TRUE(p.packets()[1].marker);
  EXPECT_FALSE(p.packets()[0].keyframe);
  EXPECT_FALSE(media::h264_is_keyframe(p.packets()[1].payload));
  EXPECT_EQ(p.rtp_timestamp(), 33u * 90);
}

TEST(RtmpH264Packetizer, NalExactlyAtTheBudgetIsNotFragmented) {
  H264Packetizer p(200);
  ASSERT_EQ(p.packetize(avcc({nal(0x41, 200)}), 4, 0), 1u);
  ASSERT_EQ(p.packetize(avcc({nal(0x41, 201)}), 4, 0), 2u);
  EXPECT_EQ(p.packets()[0].payload.size(), 200u);
  EXPECT_EQ(p.packets()[1].payload.size(), 4u);  // FU-A: 2 header bytes + the last 2 of 200 body bytes
}

TEST(RtmpH264Packetizer, InBandParameterSetsReplaceTheStoredOnes) {
  H264Packetizer p;
  p.set_parameter_sets({test::kSps}, {test::kPps});
  const Bytes sps2 = {0x67, 0x4d, 0x40, 0x28, 0x01};
  const Bytes pps2 = {0x68, 0xee, 0x01};
  ASSERT_EQ(p.packetize(avcc({sps2, pps2, nal(0x65, 100)}), 4, 0), 2u);
  auto nals = depacketize(p.packets());
  ASSERT_EQ(nals.size(), 3u);
  EXPECT_EQ(nals[0], sps2);
  EXPECT_EQ(nals[1], pps2);
  EXPECT_EQ(p.sps().front(), sps2);
}

TEST(RtmpH264Packetizer, TimestampWrapsWithTheMillisecondClock) {
  EXPECT_EQ(H264Packetizer::rtp_timestamp_of(0xFFFFFFFFu), 0xFFFFFFFFu * 90u);
  // One millisecond later the RTMP clock wrapped to 0; the RTP clock moves on by exactly 90.
  EXPECT_EQ(static_cast<uint32_t>(H264Packetizer::rtp_timestamp_of(0) -
                                  H264Packetizer::rtp_timestamp_of(0xFFFFFFFFu)),
            90u);
}

TEST(RtmpH264Packetizer, TruncatedOrEmptyUnitsGiveNothing) {
  H264Packetizer p;
  Bytes bad = avcc({nal(0x41, 100)});
  bad.resize(bad.size() - 1);
  EXPECT_EQ(p.packetize(bad, 4, 0), 0u);
  EXPECT_EQ(p.units_truncated(), 1u);
  EXPECT_EQ(p.packetize(avcc({Bytes{0x09, 0xF0}}), 4, 0), 0u);  // AUD only
  EXPECT_EQ(p.packetize(avcc({nal(0x41, 10)}), 3, 0), 0u);      // not a valid length size
  EXPECT_TRUE(p.packets().empty());
}

TEST(RtmpH264Packetizer, NoAllocationOnceWarm) {
  H264Packetizer p;
  p.set_parameter_sets({test::kSps}, {test::kPps});
  const Bytes big = avcc({nal(0x65, 20000)});
  const Bytes small = avcc({nal(0x41, 500)});
  p.packetize(big, 4, 0);
  const uint8_t* buffer = p.packets()[0].payload.data();
  for (int i = 0; i < 10; ++i) {
    p.packetize(small, 4, static_cast<uint32_t>(i));
    p.packetize(big, 4, static_cast<uint32_t>(i));
    EXPECT_EQ(p.packets()[0].payload.data(), buffer);  // the same buffer, not reallocated
  }
}

TEST(RtmpFlvTags, ParsesAvcAndAacHeaders) {
  auto v = parse_video_tag(test::avc_nalus(false, -2, {nal(0x41, 3)}));
  ASSERT_TRUE(v);
  EXPECT_EQ(v->frame_type, kFlvFrameInter);
  EXPECT_EQ(v->codec_id, kFlvCodecAvc);
  EXPECT_EQ(v->packet_type, 1);
  EXPECT_EQ(v->composition_time, -2);
  auto cfg = parse_avc_decoder_config(parse_video_tag(test::avc_sequence_header())->data);
  ASSERT_TRUE(cfg);
  EXPECT_EQ(cfg->nal_length_size, 4);
  EXPECT_EQ(cfg->sps.at(0), test::kSps);
  EXPECT_EQ(cfg->pps.at(0), test::kPps);
  EXPECT_EQ(cfg->profile, 0x42);

  auto enhanced = parse_video_tag(Bytes{0x91, 'h', 'v', 'c', '1', 0});
  ASSERT_TRUE(enhanced);
  EXPECT_TRUE(enhanced->enhanced);
  EXPECT_EQ(enhanced->fourcc, 0x68766331u);

  auto a = parse_audio_tag(test::aac_frame({1, 2, 3}));
  ASSERT_TRUE(a);
  EXPECT_EQ(a->sound_format, kFlvSoundAac);
  EXPECT_EQ(a->aac_packet_type, 1);
  EXPECT_EQ(a->data.size(), 3u);
  auto mp3 = parse_audio_tag(Bytes{0x2F, 0xFF});
  ASSERT_TRUE(mp3);
  EXPECT_EQ(audio_format_name(mp3->sound_format), "MP3");

  EXPECT_FALSE(parse_video_tag(Bytes{0x17, 0x01}));
  EXPECT_FALSE(parse_avc_decoder_config(Bytes{0x01, 0x42, 0, 0x1f, 0xff, 0xe1, 0x00, 0x20}));
}

}  // namespace
}  // namespace atrium::rtmp
