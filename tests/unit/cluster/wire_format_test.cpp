// The bytes nodes exchange: round trips, and refusal of anything malformed (it comes from the network).
#include <gtest/gtest.h>

#include "cluster/nats/key_codec.h"
#include "cluster/nats/wire_format.h"

namespace atrium::cluster::nats {
namespace {

TEST(KeyCodec, TokensKeepSafeNamesAndEscapeTheRest) {
  EXPECT_EQ(encode_token("alice_01-x"), "alice_01-x");
  EXPECT_EQ(encode_token("a.b c*>"), "a=2Eb=20c=2A=3E");
  EXPECT_EQ(encode_token("a=b"), "a=3Db");
  for (const std::string& name :
       std::vector<std::string>{"room 1", "ünï.cødé", "=", ">", std::string("nul\0byte", 8)})
    EXPECT_EQ(decode_token(encode_token(name)), name);
  EXPECT_FALSE(decode_token(""));
  EXPECT_FALSE(decode_token("a.b"));
  EXPECT_FALSE(decode_token("a=4"));
  EXPECT_FALSE(decode_token("a=zz"));
}

TEST(KeyCodec, DirectoryKeysRoundTrip) {
  auto p = parse_dir_key(peer_key("my.room", "bob smith"));
  ASSERT_TRUE(p);
  EXPECT_EQ(p->room, "my.room");
  EXPECT_EQ(p->peer, "bob smith");
  EXPECT_FALSE(p->is_track());
  auto t = parse_dir_key(track_key("r", "bob", "screen.2"));
  ASSERT_TRUE(t);
  EXPECT_EQ(t->track, "screen.2");
  EXPECT_EQ(room_filter("my.room"), "room.my=2Eroom.>");
  EXPECT_FALSE(parse_dir_key("room.r"));
  EXPECT_FALSE(parse_dir_key("node.r.p"));
  EXPECT_FALSE(parse_dir_key("room.r.p.t.x"));
  EXPECT_EQ(media_subject("atrium", 0x0123456789abcdefULL), "atrium.media.0123456789ABCDEF");
  EXPECT_EQ(feedback_subject("atrium", 1), "atrium.fb.0000000000000001");
}

TEST(WireFormat, LevelSummaryRoundTripAndRejects) {
  LevelSummary s;
  s.owner = "node-1-abcd";
  s.peers.push_back({"ann", {{255, 6}, {128, 40}}});
  s.peers.push_back({"ben", {{0, 127}}});
  std::vector<uint8_t> buf;
  encode_levels(s, buf);
  EXPECT_EQ(buf.size(), 1u + 1 + 11 + (1 + 3 + 1 + 4) + (1 + 3 + 1 + 2));
  auto d = decode_levels(buf);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->owner, "node-1-abcd");
  ASSERT_EQ(d->peers.size(), 2u);
  EXPECT_EQ(d->peers[0].peer, "ann");
  EXPECT_EQ(d->peers[0].bins, s.peers[0].bins);
  EXPECT_EQ(d->peers[1].peer, "ben");
  EXPECT_EQ(d->peers[1].bins, s.peers[1].bins);
  // Too many bins: the newest kMaxLevelBins go.
  s.peers = {{"cat", std::vector<core::ActiveSpeakerDetector::BinSummary>(30, {1, 2})}};
  s.peers[0].bins.back() = {9, 9};
  encode_levels(s, buf);
  d = decode_levels(buf);
  ASSERT_TRUE(d);
  ASSERT_EQ(d->peers[0].bins.size(), kMaxLevelBins);
  EXPECT_EQ(d->peers[0].bins.back().activity, 9);
  // Untrusted input: every truncation, a bad level, a bad magic.
  for (size_t n = 0; n < buf.size(); ++n) {
    auto cut = decode_levels(std::span<const uint8_t>(buf).first(n));
    EXPECT_TRUE(!cut || cut->peers.empty()) << n;  // only the cut right after the owner parses (no peers)
  }
  auto bad = buf;
  bad.back() = 200;  // level > 127
  EXPECT_FALSE(decode_levels(bad));
  bad = buf;
  bad[0] = 0xA7;
  EXPECT_FALSE(decode_levels(bad));
}

TEST(WireFormat, MediaFrameRoundTrip) {
  const std::vector<uint8_t> payload = {1, 2, 3, 4, 5};
  media::MediaPacket p;
  p.codec = media::Codec::kVP9;
  p.seq = 65535;
  p.timestamp = 0xdeadbeef;
  p.marker = true;
  p.keyframe = false;
  p.spatial_layer = 2;
  p.temporal_layer = 1;
  p.audio_level = -1;
  p.picture_id = 0x7ABC;
  p.tl0_pic_idx = 0;
  p.layer_sync = true;
  p.payload = payload;
  std::vector<uint8_t> buf;
  encode_media(0xfeedfacecafebeefULL, p, buf);
  EXPECT_EQ(buf.size(), kMediaHeaderSize + payload.size());
  auto f = decode_media(buf);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->channel, 0xfeedfacecafebeefULL);
  EXPECT_EQ(f->packet.codec, media::Codec::kVP9);
  EXPECT_EQ(f->packet.seq, 65535);
  EXPECT_EQ(f->packet.timestamp, 0xdeadbeefu);
  EXPECT_TRUE(f->packet.marker);
  EXPECT_FALSE(f->packet.keyframe);
  EXPECT_EQ(f->packet.spatial_layer, 2);
  EXPECT_EQ(f->packet.temporal_layer, 1);
  EXPECT_EQ(f->packet.audio_level, -1);
  EXPECT_EQ(f->packet.picture_id, 0x7ABC);
  EXPECT_EQ(f->packet.tl0_pic_idx, 0);
  EXPECT_TRUE(f->packet.layer_sync);
  EXPECT_EQ(std::vector<uint8_t>(f->packet.payload.begin(), f->packet.payload.end()), payload);

  // A warm buffer is reused: the same capacity serves the next, smaller frame.
  const auto* data = buf.data();
  p.payload = std::span<const uint8_t>(payload).first(2);
  encode_media(1, p, buf);
  EXPECT_EQ(buf.data(), data);

  p.picture_id = -1;
  p.tl0_pic_idx = -1;
  p.layer_sync = false;
  encode_media(1, p, buf);
  f = decode_media(buf);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->packet.picture_id, -1) << "absent fields stay absent";
  EXPECT_EQ(f->packet.tl0_pic_idx, -1);
  EXPECT_FALSE(f->packet.layer_sync);
}

TEST(WireFormat, MediaFrameRejectsGarbage) {
  std::vector<uint8_t> buf;
  media::MediaPacket p;
  encode_media(1, p, buf);
  EXPECT_TRUE(decode_media(buf));
  EXPECT_FALSE(decode_media(std::span<const uint8_t>(buf).first(kMediaHeaderSize - 1)));
  auto bad = buf;
  bad[0] ^= 1;
  EXPECT_FALSE(decode_media(bad));
  bad = buf;
  bad[1] = 0x80;
  EXPECT_FALSE(decode_media(bad));
  bad = buf;
  bad[2] = 99;
  EXPECT_FALSE(decode_media(bad));
  bad = buf;
  bad[20] = 0x80;  // a picture id wider than 15 bits that is not the "none" marker
  bad[21] = 0x00;
  EXPECT_FALSE(decode_media(bad));
}

TEST(WireFormat, FeedbackRoundTripAndRejects) {
  std::vector<uint8_t> buf;
  encode_feedback({FeedbackType::kInterest, 42, 1'500'000, "node-a-1234"}, buf);
  auto fb = decode_feedback(buf);
  ASSERT_TRUE(fb);
  EXPECT_EQ(fb->type, FeedbackType::kInterest);
  EXPECT_EQ(fb->channel, 42u);
  EXPECT_EQ(fb->bitrate_bps, 1'500'000u);
  EXPECT_EQ(fb->owner, "node-a-1234");
  EXPECT_EQ(fb->spatial_layer, 0xFF) << "any layer unless named";
  encode_feedback({FeedbackType::kKeyFrame, 42, 0, "n", 2}, buf);
  fb = decode_feedback(buf);
  ASSERT_TRUE(fb);
  EXPECT_EQ(fb->spatial_layer, 2);
  encode_feedback({FeedbackType::kInterest, 42, 1'500'000, "node-a-1234"}, buf);
  buf.push_back(0);
  EXPECT_FALSE(decode_feedback(buf));  // length must match the owner
  buf.pop_back();
  buf[1] = 9;
  EXPECT_FALSE(decode_feedback(buf));
  EXPECT_FALSE(decode_feedback({}));
}

TEST(WireFormat, FieldsRoundTripAnyBytes) {
  const std::string meta = "{\"a\":\"1,2:3\"}\n";
  const std::string enc = encode_fields({"owner", "", meta});
  EXPECT_EQ(enc, "5:owner,0:,14:" + meta + ",");
  auto f = decode_fields(std::span(reinterpret_cast<const uint8_t*>(enc.data()), enc.size()));
  ASSERT_TRUE(f);
  ASSERT_EQ(f->size(), 3u);
  EXPECT_EQ((*f)[2], meta);
  for (const std::string bad : {"5:own,", "x:a,", "3:abc", "3:abcd", ":a,", "99999999:a,"})
    EXPECT_FALSE(decode_fields(std::span(reinterpret_cast<const uint8_t*>(bad.data()), bad.size()))) << bad;
}

}  // namespace
}  // namespace atrium::cluster::nats
