#include <gtest/gtest.h>

#include <vector>

#include "media/codec/av1.h"
#include "media/codec/h264.h"
#include "media/codec/keyframe.h"
#include "media/codec/vp8.h"
#include "media/codec/vp9.h"

namespace atrium::media {
namespace {

using Bytes = std::vector<uint8_t>;

// ---- VP8 ----

// X=1 S=1 PID=0; I=1; 15-bit PictureID 0x0123; VP8 payload header with P=0 (key frame).
const Bytes kVp8Key = {0x90, 0x80, 0x81, 0x23, 0x10, 0x02, 0x00, 0x9D, 0x01, 0x2A};

TEST(CodecVp8, KeyFrameNeedsStartAndPBitZero) {
  EXPECT_TRUE(is_keyframe(Codec::kVP8, kVp8Key));
  Bytes delta = kVp8Key;
  delta[4] = 0x11;  // P=1
  EXPECT_FALSE(is_keyframe(Codec::kVP8, delta));
  Bytes not_start = kVp8Key;
  not_start[0] = 0x80;  // S=0
  EXPECT_FALSE(is_keyframe(Codec::kVP8, not_start));
  Bytes other_partition = kVp8Key;
  other_partition[0] = 0x91;  // S=1 but PID=1
  EXPECT_FALSE(is_keyframe(Codec::kVP8, other_partition));
  // Minimal descriptor (X=0): 0x10 then the payload header.
  EXPECT_TRUE(is_keyframe(Codec::kVP8, Bytes{0x10, 0x50}));
  EXPECT_FALSE(is_keyframe(Codec::kVP8, Bytes{0x10}));  // no payload byte at all
  for (size_t n = 0; n <= 4; ++n) {
    EXPECT_FALSE(is_keyframe(Codec::kVP8, std::span(kVp8Key).first(n))) << n;
  }
}

TEST(CodecVp8, ParsesEveryDescriptorField) {
  // X S N... : X=1 N=1 S=1 PID=2; I L T K; 7-bit PictureID 5; TL0PICIDX 42; TID 2 Y=1 KEYIDX 3; payload.
  const Bytes b = {0xB2, 0xF0, 0x05, 0x2A, 0xA3, 0xAB};
  auto d = parse_vp8_descriptor(b);
  ASSERT_TRUE(d);
  EXPECT_TRUE(d->non_reference);
  EXPECT_TRUE(d->start_of_partition);
  EXPECT_EQ(d->partition_id, 2);
  EXPECT_FALSE(d->starts_frame());
  EXPECT_TRUE(d->has_picture_id);
  EXPECT_FALSE(d->picture_id_15bit);
  EXPECT_EQ(d->picture_id, 5);
  EXPECT_TRUE(d->has_tl0_pic_idx);
  EXPECT_EQ(d->tl0_pic_idx, 42);
  EXPECT_TRUE(d->has_tid);
  EXPECT_EQ(d->tid, 2);
  EXPECT_TRUE(d->layer_sync);
  EXPECT_TRUE(d->has_key_idx);
  EXPECT_EQ(d->key_idx, 3);
  EXPECT_EQ(d->size, 5u);
  EXPECT_EQ(layer_info(Codec::kVP8, b), (LayerInfo{0, 2}));
  for (size_t n = 0; n < b.size(); ++n)
    EXPECT_FALSE(parse_vp8_descriptor(std::span(b).first(n))) << n;

  // K without T: the TID/Y/KEYIDX byte is present, TID is not meaningful.
  const Bytes k_only = {0x90, 0x10, 0xDF, 0x00};
  d = parse_vp8_descriptor(k_only);
  ASSERT_TRUE(d);
  EXPECT_FALSE(d->has_tid);
  EXPECT_EQ(d->tid, 0);
  EXPECT_EQ(d->key_idx, 31);
  EXPECT_EQ(d->size, 3u);
  EXPECT_EQ(layer_info(Codec::kVP8, k_only), (LayerInfo{0, 0}));
}

TEST(CodecVp8, RewritesPictureIdAndTl0InPlace) {
  Bytes b = kVp8Key;
  ASSERT_TRUE(vp8_rewrite_descriptor(b, uint16_t{0x1234}, std::nullopt));
  EXPECT_EQ(b, (Bytes{0x90, 0x80, 0x92, 0x34, 0x10, 0x02, 0x00, 0x9D, 0x01, 0x2A}));
  EXPECT_FALSE(vp8_rewrite_descriptor(b, std::nullopt, uint8_t{1})) << "no TL0PICIDX to rewrite";
  EXPECT_EQ(b[4], 0x10) << "nothing written on failure";

  Bytes seven = {0xB2, 0xF0, 0x05, 0x2A, 0xA3, 0xAB};
  ASSERT_TRUE(vp8_rewrite_descriptor(seven, uint16_t{0x1FF}, uint8_t{0x99}));
  EXPECT_EQ(seven, (Bytes{0xB2, 0xF0, 0x7F, 0x99, 0xA3, 0xAB})) << "7-bit id keeps its width";
  auto d = parse_vp8_descriptor(seven);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->picture_id, 0x7F);
  EXPECT_EQ(d->tl0_pic_idx, 0x99);
  Bytes truncated = {0x90, 0x80, 0x81};
  EXPECT_FALSE(vp8_rewrite_descriptor(truncated, uint16_t{1}, std::nullopt));
}

TEST(CodecVp8, PictureInfoForTheTransport) {
  const Bytes seven = {0xB2, 0xF0, 0x05, 0x2A, 0xA3, 0xAB};
  EXPECT_EQ(picture_info(Codec::kVP8, seven), (PictureInfo{5, 42, true}));
  EXPECT_EQ(picture_info(Codec::kVP8, kVp8Key), (PictureInfo{0x0123, -1, false}));
  const Bytes fifteen = {0x90, 0xC0, 0x92, 0x34, 0x07, 0x10, 0x02};  // I L; 15-bit 0x1234; TL0PICIDX 7
  EXPECT_EQ(picture_info(Codec::kVP8, fifteen), (PictureInfo{0x1234, 7, false}));
  const Bytes bare = {0x10, 0x00, 0x00};
  EXPECT_EQ(picture_info(Codec::kVP8, bare), PictureInfo{});
  EXPECT_EQ(picture_info(Codec::kVP9, kVp8Key), PictureInfo{}) << "VP8 only";
  EXPECT_EQ(picture_info(Codec::kVP8, Bytes{0x90, 0x80}), PictureInfo{}) << "truncated";
}

TEST(CodecVp8, RewriteWithMediaPacketConventions) {
  Bytes fifteen = {0x90, 0xC0, 0x92, 0x34, 0x07, 0x10, 0x02};
  ASSERT_TRUE(vp8_rewrite_descriptor(fifteen, int32_t{0x7ABC}, int16_t{200}));
  EXPECT_EQ(picture_info(Codec::kVP8, fifteen), (PictureInfo{0x7ABC, 200, false}));
  ASSERT_TRUE(vp8_rewrite_descriptor(fifteen, int32_t{-1}, int16_t{9})) << "-1 leaves the picture id alone";
  EXPECT_EQ(picture_info(Codec::kVP8, fifteen), (PictureInfo{0x7ABC, 9, false}));
  ASSERT_TRUE(vp8_rewrite_descriptor(fifteen, int32_t{0x8001}, int16_t{-1})) << "masked to 15 bits";
  EXPECT_EQ(picture_info(Codec::kVP8, fifteen), (PictureInfo{1, 9, false}));

  Bytes seven = {0xB2, 0xF0, 0x05, 0x2A, 0xA3, 0xAB};
  ASSERT_TRUE(vp8_rewrite_descriptor(seven, int32_t{0x1FF}, int16_t{-1}));
  EXPECT_EQ(seven, (Bytes{0xB2, 0xF0, 0x7F, 0x2A, 0xA3, 0xAB})) << "a 7-bit id keeps its width";

  Bytes no_tl0 = {0x90, 0x80, 0x05, 0x10, 0x02};
  EXPECT_FALSE(vp8_rewrite_descriptor(no_tl0, int32_t{6}, int16_t{1})) << "no TL0PICIDX in the descriptor";
  EXPECT_EQ(no_tl0[2], 0x05) << "nothing written on failure";
  EXPECT_TRUE(vp8_rewrite_descriptor(no_tl0, int32_t{-1}, int16_t{-1}));
}

// ---- VP9 ----

// I=1 P=0 L=1 F=0 B=1 E=0 V=1 Z=0; 15-bit PictureID 1; TID 0 U 0 SID 0 D 0; TL0PICIDX 7;
// SS: N_S=2 (3 layers), Y=1, G=0; 320x180, 640x360, 1280x720; then VP9 data.
const Bytes kVp9Key = {0xAA, 0x80, 0x01, 0x00, 0x07, 0x50, 0x01, 0x40, 0x00, 0xB4,
                       0x02, 0x80, 0x01, 0x68, 0x05, 0x00, 0x02, 0xD0, 0x82};

TEST(CodecVp9, KeyFrameWithScalabilityStructure) {
  auto d = parse_vp9_descriptor(kVp9Key);
  ASSERT_TRUE(d);
  EXPECT_TRUE(d->has_picture_id);
  EXPECT_TRUE(d->picture_id_15bit);
  EXPECT_EQ(d->picture_id, 1);
  EXPECT_TRUE(d->begin_of_frame);
  EXPECT_FALSE(d->end_of_frame);
  EXPECT_FALSE(d->inter_picture_predicted);
  EXPECT_TRUE(d->has_tl0_pic_idx);
  EXPECT_EQ(d->tl0_pic_idx, 7);
  EXPECT_TRUE(d->has_scalability_structure);
  EXPECT_EQ(d->num_spatial_layers, 3);
  EXPECT_TRUE(d->has_resolutions);
  EXPECT_EQ(d->width[0], 320);
  EXPECT_EQ(d->height[0], 180);
  EXPECT_EQ(d->width[2], 1280);
  EXPECT_EQ(d->height[2], 720);
  EXPECT_EQ(d->size, kVp9Key.size() - 1);
  EXPECT_TRUE(is_keyframe(Codec::kVP9, kVp9Key));
  EXPECT_EQ(layer_info(Codec::kVP9, kVp9Key), (LayerInfo{0, 0}));
  for (size_t n = 0; n < kVp9Key.size(); ++n) {
    EXPECT_FALSE(is_keyframe(Codec::kVP9, std::span(kVp9Key).first(n))) << n;
  }
}

TEST(CodecVp9, KeyFrameRules) {
  // B=1 P=0 without layer indices.
  EXPECT_TRUE(is_keyframe(Codec::kVP9, Bytes{0x08, 0x00}));
  EXPECT_FALSE(is_keyframe(Codec::kVP9, Bytes{0x48, 0x00})) << "P=1";
  EXPECT_FALSE(is_keyframe(Codec::kVP9, Bytes{0x00, 0x00})) << "B=0";
  // L=1 non-flexible, SID 1: not the key frame's first packet (that is SID 0).
  const Bytes sid1 = {0x28, 0x02, 0x00, 0x00};
  EXPECT_FALSE(is_keyframe(Codec::kVP9, sid1));
  EXPECT_EQ(layer_info(Codec::kVP9, sid1), (LayerInfo{1, 0}));
}

TEST(CodecVp9, FlexibleModeReferenceDiffs) {
  // I P L F B: 7-bit PictureID 5; TID 2 U=1 SID 1 D=1; P_DIFF 1 (N=1), P_DIFF 2 (N=0); data.
  const Bytes b = {0xF8, 0x05, 0x53, 0x03, 0x04, 0x00};
  auto d = parse_vp9_descriptor(b);
  ASSERT_TRUE(d);
  EXPECT_TRUE(d->flexible_mode);
  EXPECT_EQ(d->picture_id, 5);
  EXPECT_EQ(d->temporal_id, 2);
  EXPECT_TRUE(d->switching_up);
  EXPECT_EQ(d->spatial_id, 1);
  EXPECT_TRUE(d->inter_layer_dependency);
  EXPECT_FALSE(d->has_tl0_pic_idx);
  EXPECT_EQ(d->num_ref_pics, 2);
  EXPECT_EQ(d->p_diff[0], 1);
  EXPECT_EQ(d->p_diff[1], 2);
  EXPECT_EQ(d->size, 5u);
  EXPECT_EQ(layer_info(Codec::kVP9, b), (LayerInfo{1, 2}));
  EXPECT_FALSE(is_keyframe(Codec::kVP9, b));
  const Bytes four_diffs = {0xF8, 0x05, 0x53, 0x03, 0x03, 0x03, 0x02, 0x00};
  EXPECT_FALSE(parse_vp9_descriptor(four_diffs));
}

TEST(CodecVp9, GroupOfFramesIsSkippedAndRewriteWorks) {
  // I L B V; PictureID 9; L byte; TL0 3; SS: N_S=0 Y=0 G=1, N_G=2: [TID0 U0 R1, P_DIFF 4], [TID1 U1 R0];
  // data.
  Bytes b = {0xAA, 0x09, 0x00, 0x03, 0x08, 0x02, 0x04, 0x04, 0x30, 0xEE};
  auto d = parse_vp9_descriptor(b);
  ASSERT_TRUE(d);
  EXPECT_TRUE(d->has_gof);
  EXPECT_EQ(d->num_frames_in_gof, 2);
  EXPECT_EQ(d->num_spatial_layers, 1);
  EXPECT_EQ(d->size, 9u);
  ASSERT_TRUE(vp9_rewrite_descriptor(b, uint16_t{0x300}, uint8_t{0x44}));
  EXPECT_EQ(b[1], 0x00) << "7-bit id keeps width: 0x300 & 0x7F";
  EXPECT_EQ(b[3], 0x44);
  Bytes bad_gof = {0xAA, 0x09, 0x00, 0x03, 0x08, 0x05, 0x04, 0x04};  // N_G=5, only 2 present
  EXPECT_FALSE(parse_vp9_descriptor(bad_gof));
}

// ---- H.264 ----

TEST(CodecH264, SingleNalUnits) {
  EXPECT_TRUE(is_keyframe(Codec::kH264, Bytes{0x65, 0x88, 0x84}));  // IDR
  EXPECT_TRUE(is_keyframe(Codec::kH264, Bytes{0x67, 0x42, 0xE0}));  // SPS
  EXPECT_FALSE(is_keyframe(Codec::kH264, Bytes{0x68, 0xCE}));       // PPS alone
  EXPECT_FALSE(is_keyframe(Codec::kH264, Bytes{0x41, 0x9A}));       // non-IDR slice
  EXPECT_FALSE(is_keyframe(Codec::kH264, Bytes{}));
  auto info = inspect_h264(Bytes{0x68, 0xCE});
  ASSERT_TRUE(info);
  EXPECT_TRUE(info->has_pps);
  EXPECT_FALSE(info->has_sps);
  EXPECT_FALSE(inspect_h264(Bytes{0x00}));              // type 0
  EXPECT_FALSE(inspect_h264(Bytes{0x79, 0x00, 0x00}));  // STAP-B: not handled
}

TEST(CodecH264, StapA) {
  const Bytes stap = {0x78, 0x00, 0x02, 0x67, 0x42, 0x00, 0x02, 0x68, 0xCE, 0x00, 0x03, 0x65, 0x88, 0x84};
  auto info = inspect_h264(stap);
  ASSERT_TRUE(info);
  EXPECT_EQ(info->packet_type, 24);
  EXPECT_TRUE(info->has_sps);
  EXPECT_TRUE(info->has_pps);
  EXPECT_TRUE(info->has_idr);
  EXPECT_TRUE(is_keyframe(Codec::kH264, stap));
  // A STAP-A with only non-IDR slices.
  EXPECT_FALSE(is_keyframe(Codec::kH264, Bytes{0x78, 0x00, 0x01, 0x41, 0x00, 0x01, 0x01}));
  // Length of the last unit overruns the packet; a zero length; a dangling length byte.
  EXPECT_FALSE(inspect_h264(Bytes{0x78, 0x00, 0x02, 0x67, 0x42, 0x00, 0x05, 0x65}));
  EXPECT_FALSE(inspect_h264(Bytes{0x78, 0x00, 0x00}));
  EXPECT_FALSE(inspect_h264(Bytes{0x78, 0x00, 0x01, 0x65, 0x00}));
  EXPECT_FALSE(inspect_h264(Bytes{0x78}));
  for (size_t n = 1; n < stap.size(); ++n) {
    if (n == 5 || n == 9) continue;  // cuts between units still parse
    EXPECT_FALSE(inspect_h264(std::span(stap).first(n))) << n;
  }
}

TEST(CodecH264, FuA) {
  EXPECT_TRUE(is_keyframe(Codec::kH264, Bytes{0x7C, 0x85, 0x88}));   // S=1, IDR
  EXPECT_FALSE(is_keyframe(Codec::kH264, Bytes{0x7C, 0x05, 0x88}));  // middle
  EXPECT_FALSE(is_keyframe(Codec::kH264, Bytes{0x7C, 0x45, 0x88}));  // end
  EXPECT_FALSE(is_keyframe(Codec::kH264, Bytes{0x7C, 0x81, 0x88}));  // start of a non-IDR slice
  EXPECT_FALSE(is_keyframe(Codec::kH264, Bytes{0x7C}));
  auto info = inspect_h264(Bytes{0x7C, 0x05});
  ASSERT_TRUE(info);
  EXPECT_FALSE(info->fragment_start);
  EXPECT_FALSE(info->has_idr);
}

// ---- AV1 ----

TEST(CodecAv1, NewCodedVideoSequenceIsKeyFrame) {
  EXPECT_TRUE(is_keyframe(Codec::kAV1, Bytes{0x18, 0x0A, 0x0B}));   // W=1 N=1, sequence header OBU
  EXPECT_FALSE(is_keyframe(Codec::kAV1, Bytes{0x10, 0x32, 0x00}));  // N=0
  EXPECT_FALSE(is_keyframe(Codec::kAV1, Bytes{0x88, 0x00}));        // Z=1 N=1: contradictory
  EXPECT_FALSE(is_keyframe(Codec::kAV1, Bytes{0x18}));              // header only
  auto h = parse_av1_aggregation_header(Bytes{0xE8, 0x00});
  ASSERT_TRUE(h);
  EXPECT_TRUE(h->continuation);
  EXPECT_TRUE(h->continues_next);
  EXPECT_EQ(h->obu_count, 2);
  EXPECT_TRUE(h->new_coded_video_sequence);
}

TEST(CodecAv1, LayerFromObuExtension) {
  // W=1: one element without a length; OBU frame (type 6) with extension, TID 2 SID 1.
  EXPECT_EQ(layer_info(Codec::kAV1, Bytes{0x10, 0x34, 0x48, 0x00}), (LayerInfo{1, 2}));
  // W=0: leb128 length 3 first.
  EXPECT_EQ(layer_info(Codec::kAV1, Bytes{0x00, 0x03, 0x34, 0x48, 0x00}), (LayerInfo{1, 2}));
  // Length overruns, no extension flag, continuation: no layer.
  EXPECT_FALSE(av1_first_obu_layer(Bytes{0x00, 0x09, 0x34, 0x48}));
  EXPECT_FALSE(av1_first_obu_layer(Bytes{0x10, 0x30, 0x48}));
  EXPECT_FALSE(av1_first_obu_layer(Bytes{0x90, 0x34, 0x48}));
  EXPECT_FALSE(av1_first_obu_layer(Bytes{0x00, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01}));
  EXPECT_EQ(layer_info(Codec::kAV1, Bytes{0x10, 0x30, 0x48}), (LayerInfo{0, 0}));
}

// ---- dispatch ----

TEST(CodecDispatch, AudioAlwaysKeyUnknownNever) {
  EXPECT_TRUE(is_keyframe(Codec::kOpus, Bytes{}));
  EXPECT_TRUE(is_keyframe(Codec::kOpus, Bytes{0x78, 0x01}));
  EXPECT_FALSE(is_keyframe(Codec::kUnknown, kVp8Key));
  EXPECT_EQ(layer_info(Codec::kOpus, Bytes{0x90, 0x20, 0xC0, 0x00}), (LayerInfo{0, 0}));
  EXPECT_EQ(layer_info(Codec::kH264, Bytes{0x65}), (LayerInfo{0, 0}));
  EXPECT_FALSE(is_keyframe(Codec::kH264, kVp8Key)) << "0x90 is a forbidden-bit NAL of type 16";
}

}  // namespace
}  // namespace atrium::media
