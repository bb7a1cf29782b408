#include "media/rewrite/picture_id_rewriter.h"

#include <gtest/gtest.h>

namespace atrium::media {
namespace {

MediaPacket vp8(uint16_t seq, int32_t pid, int16_t tl0) {
  MediaPacket p;
  p.seq = seq;
  p.picture_id = pid;
  p.tl0_pic_idx = tl0;
  return p;
}

// What the receiver gets: `in` rewritten, with the seq the stream rewriter gave it.
MediaPacket sent(PictureIdRewriter& r, const MediaPacket& in, uint16_t out_seq) {
  MediaPacket out = in;
  out.seq = out_seq;
  r.rewrite(in, out);
  return out;
}

TEST(PictureIdRewriter, TheFirstSourcePassesThrough) {
  PictureIdRewriter r;
  EXPECT_EQ(sent(r, vp8(1, 500, 7), 1).picture_id, 500);
  EXPECT_EQ(sent(r, vp8(2, 501, 8), 2).tl0_pic_idx, 8);
}

TEST(PictureIdRewriter, ASwitchContinuesAfterTheNewestIdsSentAcrossTheWrap) {
  PictureIdRewriter r;
  sent(r, vp8(10, 32767, 255), 10);  // the 15-bit id and the 8-bit index at their top
  r.rebase();
  const MediaPacket a = sent(r, vp8(900, 40, 3), 11);
  EXPECT_EQ(a.picture_id, 0) << "32767 + 1 wraps to 0";
  EXPECT_EQ(a.tl0_pic_idx, 0);
  EXPECT_EQ(sent(r, vp8(901, 41, 4), 12).picture_id, 1) << "the offset holds within the source";
}

TEST(PictureIdRewriter, AReorderedPacketDoesNotMoveTheNewest) {
  PictureIdRewriter r;
  sent(r, vp8(20, 100, 1), 20);
  sent(r, vp8(19, 99, 1), 19);  // late: keeps its id, is not the newest
  r.rebase();
  EXPECT_EQ(sent(r, vp8(5000, 7, 9), 21).picture_id, 101);
}

TEST(PictureIdRewriter, PacketsWithoutIdsAreLeftAlone) {
  PictureIdRewriter r;
  const MediaPacket p = sent(r, vp8(1, -1, -1), 1);
  EXPECT_EQ(p.picture_id, -1);
  EXPECT_EQ(p.tl0_pic_idx, -1);
}

}  // namespace
}  // namespace atrium::media
