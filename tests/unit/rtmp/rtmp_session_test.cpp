#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "media/codec/h264.h"
#include "rtmp/rtmp_test_util.h"
#include "transport/rtmp/rtmp_session.h"

namespace atrium::rtmp {
namespace {

using test::Bytes;
using test::Client;
using test::nal;
using test::null;
using test::num;
using test::str;

template <typename T>
bool is(const test::Owned& o) {
  return std::holds_alternative<T>(o.event);
}

// Drives connect .. publish and accepts: returns the replies so far.
std::vector<test::Reply> accepted(Client& c, const std::string& app = "live",
                                  const std::string& key = "room1/peer1") {
  c.publish(app, key);
  auto ev = c.events();
  EXPECT_EQ(ev.size(), 1u);
  EXPECT_TRUE(!ev.empty() && is<PublishRequested>(ev[0]));
  c.session.accept_publish();
  EXPECT_TRUE(c.session.publishing());
  return c.replies();
}

TEST(RtmpSession, FullScriptedPublish) {
  Client c;
  c.publish();
  // The publish is parsed; the session waits for the runtime's decision.
  auto ev = c.events();
  ASSERT_EQ(ev.size(), 1u);
  const auto& req = std::get<PublishRequested>(ev[0].event);
  EXPECT_EQ(req.app, "live");
  EXPECT_EQ(req.stream_key, "room1/peer1");
  EXPECT_EQ(req.tc_url, "rtmp://127.0.0.1:1935/live");
  EXPECT_EQ(c.session.state(), RtmpSession::State::kPublishRequested);
  c.session.accept_publish();

  auto r = c.replies();
  // connect: Window Ack Size, Set Peer Bandwidth, Set Chunk Size, _result.
  ASSERT_GE(r.size(), 9u);
  EXPECT_EQ(r[0].type, static_cast<uint8_t>(MessageType::kWindowAckSize));
  EXPECT_EQ(r[1].type, static_cast<uint8_t>(MessageType::kSetPeerBandwidth));
  EXPECT_EQ(r[2].type, static_cast<uint8_t>(MessageType::kSetChunkSize));
  EXPECT_EQ(r[2].payload, (Bytes{0, 0, 0x10, 0}));
  EXPECT_EQ(r[3].name(), "_result");
  EXPECT_EQ(r[3].amf[1].number, 1);
  EXPECT_EQ(r[3].code(), "NetConnection.Connect.Success");
  // releaseStream -> _result (txn 2); FCPublish -> onFCPublish; createStream -> _result (txn 4) stream 1.
  EXPECT_EQ(r[4].name(), "_result");
  EXPECT_EQ(r[4].amf[1].number, 2);
  EXPECT_EQ(r[5].name(), "onFCPublish");
  EXPECT_EQ(r[6].name(), "_result");
  EXPECT_EQ(r[6].amf[1].number, 4);
  ASSERT_EQ(r[6].amf.size(), 4u);
  EXPECT_EQ(r[6].amf[3].number, 1);
  // accept: Stream Begin 1, onStatus NetStream.Publish.Start on stream 1.
  EXPECT_EQ(r[7].type, static_cast<uint8_t>(MessageType::kUserControl));
  EXPECT_EQ(r[7].payload, (Bytes{0, 0, 0, 0, 0, 1}));
  EXPECT_EQ(r[8].name(), "onStatus");
  EXPECT_EQ(r[8].stream_id, 1u);
  EXPECT_EQ(r[8].code(), "NetStream.Publish.Start");
  EXPECT_EQ(r[8].info()->get_string("level"), "status");

  // Metadata, video, audio, as ffmpeg sends them (the client switches to a bigger chunk size first).
  c.send(2, MessageType::kSetChunkSize, 0, 0, Bytes{0, 0, 0x10, 0});
  c.writer.set_chunk_size(4096);
  Amf0Value meta;
  meta.type = Amf0Value::Type::kEcmaArray;
  meta.set("width", num(640)).set("height", num(360)).set("framerate", num(30));
  meta.set("videocodecid", num(7)).set("audiocodecid", num(10)).set("encoder", str("Lavf60.16.100"));
  c.send(4, MessageType::kDataAmf0, 1, 0, test::amf({str("@setDataFrame"), str("onMetaData"), meta}));
  c.video(0, test::avc_sequence_header());
  const Bytes idr = nal(0x65, 5000);
  c.video(0, test::avc_nalus(true, 0, {Bytes{0x09, 0xF0}, nal(0x06, 30), idr}));
  c.video(33, test::avc_nalus(false, 0, {nal(0x41, 700)}));
  c.video(67, test::avc_nalus(false, 0, {nal(0x41, 1500)}));
  c.audio(0, test::aac_config());
  c.audio(23, test::aac_frame({0x21, 0x10, 0x05}));
  c.audio(46, test::aac_frame({0x21, 0x10, 0x06, 0x07}));
  c.command({str("FCUnpublish"), num(6), null(), str("room1/peer1")});
  c.command({str("deleteStream"), num(7), null(), num(1)});

  ev = c.events();
  ASSERT_EQ(ev.size(), 9u);
  const auto& md = std::get<MetadataReceived>(ev[0].event);
  EXPECT_EQ(md.width, 640u);
  EXPECT_EQ(md.height, 360u);
  EXPECT_EQ(md.framerate, 30);
  EXPECT_EQ(md.video_codec, "H264");
  EXPECT_EQ(md.audio_codec, "AAC");
  EXPECT_EQ(md.encoder, "Lavf60.16.100");
  EXPECT_EQ(std::get<VideoConfigured>(ev[1].event).profile_level_id, "42e01f");
  const auto& au = std::get<VideoAccessUnit>(ev[2].event);
  EXPECT_TRUE(au.keyframe);
  EXPECT_EQ(au.rtp_timestamp, 0u);
  ASSERT_GE(ev[2].packets.size(), 3u);  // STAP-A, SEI, FU-A x5
  EXPECT_TRUE(media::h264_is_keyframe(ev[2].packets[0]));
  EXPECT_TRUE(ev[2].keyframes[0]);
  EXPECT_TRUE(ev[2].markers.back());
  const auto& p1 = std::get<VideoAccessUnit>(ev[3].event);
  EXPECT_FALSE(p1.keyframe);
  EXPECT_EQ(p1.rtp_timestamp, 33u * 90);
  EXPECT_EQ(ev[3].packets.size(), 1u);
  EXPECT_EQ(std::get<VideoAccessUnit>(ev[4].event).rtp_timestamp, 67u * 90);
  EXPECT_EQ(ev[4].packets.size(), 2u);  // 1500 bytes: two FU-A fragments
  EXPECT_EQ(std::get<AudioConfigured>(ev[5].event).audio_specific_config, (Bytes{0x12, 0x10}));
  EXPECT_EQ(std::get<AudioFrame>(ev[6].event).timestamp_ms, 23u);
  EXPECT_EQ(ev[6].aac, (Bytes{0x21, 0x10, 0x05}));
  EXPECT_EQ(std::get<AudioFrame>(ev[7].event).timestamp_ms, 46u);
  EXPECT_EQ(ev[7].aac, (Bytes{0x21, 0x10, 0x06, 0x07}));
  EXPECT_TRUE(is<PublishEnded>(ev[8]));  // FCUnpublish; deleteStream after it ends nothing more
  EXPECT_EQ(c.session.counters().access_units, 3u);
  EXPECT_EQ(c.session.counters().audio_frames, 2u);
  EXPECT_EQ(c.session.counters().protocol_errors, 0u);
}

TEST(RtmpSession, EventsComeOutInOrderAndEndOnce) {
  Client c;
  accepted(c);
  c.video(0, test::avc_sequence_header());
  c.video(0, test::avc_nalus(true, 0, {nal(0x65, 100)}));
  c.command({str("FCUnpublish"), num(6), null(), str("room1/peer1")});
  c.command({str("deleteStream"), num(7), null(), num(1)});
  auto ev = c.events();
  ASSERT_EQ(ev.size(), 3u);
  EXPECT_TRUE(is<VideoConfigured>(ev[0]));
  EXPECT_TRUE(is<VideoAccessUnit>(ev[1]));
  EXPECT_TRUE(is<PublishEnded>(ev[2]));
  EXPECT_EQ(c.session.state(), RtmpSession::State::kConnected);
  // Media after the end is dropped.
  c.video(40, test::avc_nalus(false, 0, {nal(0x41, 100)}));
  EXPECT_TRUE(c.events().empty());
  EXPECT_GE(c.session.counters().dropped_tags, 1u);
}

TEST(RtmpSession, AppWithRoomMapsToTheSameKey) {
  Client c;
  c.publish("live/room1", "peer1");
  auto ev = c.events();
  ASSERT_EQ(ev.size(), 1u);
  const auto& req = std::get<PublishRequested>(ev[0].event);
  EXPECT_EQ(req.app, "live");
  EXPECT_EQ(req.stream_key, "room1/peer1");
}

TEST(RtmpSession, BFramesAreRefused) {
  Client c;
  accepted(c);
  c.video(0, test::avc_sequence_header());
  c.video(0, test::avc_nalus(true, 0, {nal(0x65, 100)}));
  c.video(33, test::avc_nalus(false, 66, {nal(0x41, 100)}));  // a composition time offset: B-frames
  c.video(66, test::avc_nalus(false, 0, {nal(0x41, 100)}));
  auto ev = c.events();
  ASSERT_EQ(ev.size(), 3u);
  EXPECT_TRUE(is<VideoConfigured>(ev[0]));
  EXPECT_TRUE(is<VideoAccessUnit>(ev[1]));
  EXPECT_EQ(std::get<SessionFailed>(ev[2].event).sentence, kBFramesSentence);
  EXPECT_TRUE(c.session.closing());
  auto r = c.replies();
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].name(), "onStatus");
  EXPECT_EQ(r[0].code(), "NetStream.Publish.Rejected");
  EXPECT_EQ(r[0].info()->get_string("level"), "error");
  EXPECT_EQ(r[0].info()->get_string("description"), kBFramesSentence);
  // Nothing is taken afterwards.
  c.video(99, test::avc_nalus(false, 0, {nal(0x41, 100)}));
  EXPECT_TRUE(c.events().empty());
  EXPECT_EQ(c.session.counters().access_units, 1u);
}

TEST(RtmpSession, RejectPublishSendsTheErrorAndCloses) {
  Client c;
  c.publish();
  c.events();
  c.session.reject_publish("peer id taken", PublishRejection::kBadName);
  EXPECT_TRUE(c.session.closing());
  auto r = c.replies();
  ASSERT_FALSE(r.empty());
  EXPECT_EQ(r.back().code(), "NetStream.Publish.BadName");
  EXPECT_EQ(r.back().info()->get_string("description"), "peer id taken");
  EXPECT_EQ(r.back().info()->get_string("level"), "error");
}

TEST(RtmpSession, PlayIsRefused) {
  Client c;
  c.handshake();
  auto obj = Amf0Value::make_object();
  obj.set("app", str("live"));
  c.command({str("connect"), num(1), obj});
  c.command({str("createStream"), num(2), null()});
  c.command({str("play"), num(0), null(), str("room1/peer1")}, 1);
  auto r = c.replies();
  ASSERT_FALSE(r.empty());
  EXPECT_EQ(r.back().code(), "NetStream.Play.Failed");
  EXPECT_EQ(r.back().info()->get_string("description"), kPlayRefusedSentence);
  EXPECT_TRUE(c.events().empty());
}

TEST(RtmpSession, UnknownCommandsGetErrorOnlyWithATransaction) {
  Client c;
  c.handshake();
  auto obj = Amf0Value::make_object();
  obj.set("app", str("live"));
  c.command({str("connect"), num(1), obj});
  c.replies();
  c.command({str("_checkbw"), num(5), null()});
  c.command({str("someNotification"), num(0), null()});
  auto r = c.replies();
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].name(), "_error");
  EXPECT_EQ(r[0].amf[1].number, 5);
  EXPECT_EQ(c.session.counters().unknown_commands, 2u);
}

TEST(RtmpSession, UnsupportedCodecsAreReportedOnceAndTheOtherKindFlows) {
  Client c;
  accepted(c);
  c.audio(0, Bytes{0x2F, 0xFF, 0xFB});  // MP3
  c.audio(26, Bytes{0x2F, 0xFF, 0xFB});
  c.video(0, test::avc_sequence_header());
  c.video(0, test::avc_nalus(true, 0, {nal(0x65, 100)}));
  auto ev = c.events();
  ASSERT_EQ(ev.size(), 3u);
  const auto& u = std::get<UnsupportedMedia>(ev[0].event);
  EXPECT_EQ(u.kind, media::MediaKind::kAudio);
  EXPECT_EQ(u.sentence, "RTMP audio: MP3 is not supported; send AAC (the video still plays)");
  EXPECT_TRUE(is<VideoConfigured>(ev[1]));
  EXPECT_TRUE(is<VideoAccessUnit>(ev[2]));
  EXPECT_EQ(c.session.counters().unsupported_tags, 2u);

  Client h;
  accepted(h);
  h.video(0, Bytes{0x90, 'h', 'v', 'c', '1', 0, 0, 0});  // enhanced RTMP HEVC sequence start
  ev = h.events();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(std::get<UnsupportedMedia>(ev[0].event).kind, media::MediaKind::kVideo);
  EXPECT_NE(std::get<UnsupportedMedia>(ev[0].event).sentence.find("hvc1"), std::string::npos);
}

TEST(RtmpSession, PingAndAcknowledgements) {
  Client c;
  c.handshake();
  c.send(2, MessageType::kUserControl, 0, 0, Bytes{0, 6, 0x12, 0x34, 0x56, 0x78});
  c.send(2, MessageType::kWindowAckSize, 0, 0, Bytes{0, 0, 0x10, 0x00});  // 4096
  auto r = c.replies();
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].type, static_cast<uint8_t>(MessageType::kUserControl));
  EXPECT_EQ(r[0].payload, (Bytes{0, 7, 0x12, 0x34, 0x56, 0x78}));
  // 4096 more bytes: an acknowledgement of everything received.
  c.send(5, MessageType::kDataAmf0, 0, 0, Bytes(4000, 0x05));
  r = c.replies();
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].type, static_cast<uint8_t>(MessageType::kAcknowledgement));
  EXPECT_EQ(c.session.counters().acks_sent, 1u);
  const uint32_t seq = (uint32_t{r[0].payload[0]} << 24) | (uint32_t{r[0].payload[1]} << 16) |
                       (uint32_t{r[0].payload[2]} << 8) | r[0].payload[3];
  EXPECT_EQ(seq, c.session.counters().bytes_in);
}

TEST(RtmpSession, OversizedMessageFailsTheSession) {
  Client c;
  c.handshake();
  c.feed(Bytes{0x04, 0, 0, 0, 0x7F, 0xFF, 0xFF, 9, 1, 0, 0, 0});  // 8 MiB announced
  auto ev = c.events();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_NE(std::get<SessionFailed>(ev[0].event).sentence.find("4 MiB"), std::string::npos);
  EXPECT_TRUE(c.session.closing());
  EXPECT_EQ(c.session.counters().protocol_errors, 1u);
  c.feed(Bytes(1000, 0));  // ignored
  EXPECT_TRUE(c.events().empty());
}

TEST(RtmpSession, BadChunkSizeFailsTheSession) {
  Client c;
  c.handshake();
  c.send(2, MessageType::kSetChunkSize, 0, 0, Bytes{0, 0, 0, 0});
  auto ev = c.events();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_TRUE(is<SessionFailed>(ev[0]));
}

TEST(RtmpSession, NotRtmpFailsAtOnce) {
  Client c;
  c.feed(Bytes{'G', 'E', 'T', ' ', '/'});
  auto ev = c.events();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_TRUE(is<SessionFailed>(ev[0]));
  EXPECT_TRUE(c.session.pending_output().empty());
}

TEST(RtmpSession, SetupTimeout) {
  Client c;
  c.handshake();
  c.session.tick(kSetupTimeoutMicros - 1);
  EXPECT_TRUE(c.events().empty());
  c.session.tick(kSetupTimeoutMicros);
  auto ev = c.events();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_TRUE(is<SessionFailed>(ev[0]));

  Client ok;
  accepted(ok);
  ok.session.tick(kSetupTimeoutMicros * 10);
  EXPECT_TRUE(ok.events().empty());
}

TEST(RtmpSession, EmptyStreamKeyIsABadName) {
  Client c;
  c.publish("live", "");
  auto ev = c.events();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_TRUE(is<SessionFailed>(ev[0]));
  EXPECT_EQ(c.replies().back().code(), "NetStream.Publish.BadName");
}

TEST(RtmpSession, MediaBeforeAcceptOrConfigIsDropped) {
  Client c;
  c.publish();
  c.video(0, test::avc_nalus(true, 0, {nal(0x65, 100)}));  // parsed only after the runtime's poll
  auto ev = c.events();
  ASSERT_EQ(ev.size(), 1u);  // PublishRequested; the tag was dropped (not accepted yet)
  c.session.accept_publish();
  c.video(0, test::avc_nalus(true, 0, {nal(0x65, 100)}));  // no sequence header yet
  c.audio(0, test::aac_frame({1, 2}));                     // no AudioSpecificConfig yet
  EXPECT_TRUE(c.events().empty());
  EXPECT_EQ(c.session.counters().dropped_tags, 3u);
}

TEST(RtmpSession, ByteByByteInputGivesTheSameSession) {
  // The whole scripted publish, fed one byte per receive().
  Client whole;
  whole.publish();
  Client trickle;
  Bytes all;
  {
    // Record what `whole` was fed by replaying the same client calls into a buffer.
    Bytes c0c1(1 + kHandshakeSize);
    c0c1[0] = 3;
    all = c0c1;
    all.insert(all.end(), kHandshakeSize, 0x55);
    ChunkWriter w;
    auto obj = Amf0Value::make_object();
    obj.set("app", str("live"));
    w.write(all, 3, 20, 0, 0, test::amf({str("connect"), num(1), obj}));
    w.write(all, 3, 20, 0, 0, test::amf({str("createStream"), num(2), null()}));
    w.write(all, 3, 20, 1, 0, test::amf({str("publish"), num(3), null(), str("r/p"), str("live")}));
  }
  std::vector<test::Owned> ev;
  for (uint8_t b : all) {
    trickle.feed(Bytes{b});
    auto e = trickle.events();
    for (auto& x : e)
      ev.push_back(std::move(x));
  }
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(std::get<PublishRequested>(ev[0].event).stream_key, "r/p");
}

}  // namespace
}  // namespace atrium::rtmp
