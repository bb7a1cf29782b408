// Test helpers for the RTMP module: FLV tag builders, a scripted client that drives an RtmpSession through
// the chunk stream and decodes what the server wrote back.
#pragma once

#include <gtest/gtest.h>

#include <deque>
#include <string>
#include <variant>
#include <vector>

#include "transport/rtmp/amf0.h"
#include "transport/rtmp/chunk_reader.h"
#include "transport/rtmp/chunk_writer.h"
#include "transport/rtmp/handshake.h"
#include "transport/rtmp/rtmp_session.h"

namespace atrium::rtmp::test {

using Bytes = std::vector<uint8_t>;

inline Bytes amf(const std::vector<Amf0Value>& values) {
  Bytes out;
  Amf0Writer w(out);
  for (const auto& v : values)
    w.value(v);
  return out;
}

inline Amf0Value num(double v) {
  return Amf0Value::make_number(v);
}
inline Amf0Value str(std::string v) {
  return Amf0Value::make_string(std::move(v));
}
inline Amf0Value null() {
  return Amf0Value::make_null();
}

// A baseline SPS (profile 66, constraints 0xe0, level 31) and a PPS, as x264 writes them (content only
// matters for the bytes 1..3).
inline const Bytes kSps = {0x67, 0x42, 0xe0, 0x1f, 0x8d, 0x68, 0x0a, 0x03, 0xda, 0x10, 0x00};
inline const Bytes kPps = {0x68, 0xce, 0x3c, 0x80};

inline Bytes avc_sequence_header(const Bytes& sps = kSps, const Bytes& pps = kPps) {
  Bytes b = {0x17, 0x00, 0, 0, 0, 0x01, sps[1], sps[2], sps[3], 0xFF, 0xE1};
  b.push_back(static_cast<uint8_t>(sps.size() >> 8));
  b.push_back(static_cast<uint8_t>(sps.size()));
  b.insert(b.end(), sps.begin(), sps.end());
  b.push_back(1);
  b.push_back(static_cast<uint8_t>(pps.size() >> 8));
  b.push_back(static_cast<uint8_t>(pps.size()));
  b.insert(b.end(), pps.begin(), pps.end());
  return b;
}

// NAL units as AVCC (4-byte lengths) in an AVC NALU video tag.
inline Bytes avc_nalus(bool key, int32_t cts, const std::vector<Bytes>& nals) {
  const auto c = static_cast<uint32_t>(cts);
  Bytes b = {static_cast<uint8_t>(key ? 0x17 : 0x27), 0x01, static_cast<uint8_t>(c >> 16),
             static_cast<uint8_t>(c >> 8), static_cast<uint8_t>(c)};
  for (const auto& n : nals) {
    const auto len = static_cast<uint32_t>(n.size());
    b.insert(b.end(), {static_cast<uint8_t>(len >> 24), static_cast<uint8_t>(len >> 16),
                       static_cast<uint8_t>(len >> 8), static_cast<uint8_t>(len)});
    b.insert(b.end(), n.begin(), n.end());
  }
  return b;
}

inline Bytes nal(uint8_t header, size_t size, uint8_t fill = 0) {
  Bytes n(size);
  n[0] = header;
  for (size_t i = 1; i < size; ++i)
    n[i] = static_cast<uint8_t>(fill + i * 7);
  return n;
}

inline Bytes aac_config(const Bytes& asc = {0x12, 0x10}) {
  Bytes b = {0xAF, 0x00};
  b.insert(b.end(), asc.begin(), asc.end());
  return b;
}
inline Bytes aac_frame(const Bytes& data) {
  Bytes b = {0xAF, 0x01};
  b.insert(b.end(), data.begin(), data.end());
  return b;
}

struct Reply {
  uint8_t type = 0;
  uint32_t stream_id = 0;
  Bytes payload;
  std::vector<Amf0Value> amf;  // command messages, decoded

  std::string name() const { return !amf.empty() && amf[0].is_string() ? amf[0].string : std::string(); }
  // The info object of onStatus / the last object of _result.
  const Amf0Value* info() const {
    for (auto it = amf.rbegin(); it != amf.rend(); ++it)
      if (it->is_object_like()) return &*it;
    return nullptr;
  }
  std::string code() const {
    const auto* i = info();
    return i ? std::string(i->get_string("code").value_or("")) : std::string();
  }
};

// An event with its views copied, so it outlives the next poll.
struct Owned {
  RtmpEvent event;
  std::vector<Bytes> packets;  // VideoAccessUnit: the RTP payloads
  std::vector<bool> markers, keyframes;
  Bytes aac;  // AudioFrame
};

class Client {
 public:
  explicit Client(RtmpSessionConfig config = {}) : session(config, 0) {}

  void feed(const Bytes& b) { session.receive(b, now); }

  void handshake() {
    Bytes c0c1(1 + kHandshakeSize);
    c0c1[0] = 3;
    for (size_t i = 1; i < c0c1.size(); ++i)
      c0c1[i] = static_cast<uint8_t>(i);
    feed(c0c1);
    auto out = session.pending_output();
    ASSERT_EQ(out.size(), 1 + 2 * kHandshakeSize);
    session.consume_output(out.size());
    feed(Bytes(kHandshakeSize, 0x55));  // C2
    ASSERT_EQ(session.state(), RtmpSession::State::kConnecting);
  }

  // Writes a message as chunks of `chunk_size` (the client's side).
  void send(uint32_t csid, MessageType type, uint32_t stream_id, uint32_t ts, const Bytes& payload) {
    Bytes wire;
    writer.write(wire, csid, static_cast<uint8_t>(type), stream_id, ts, payload);
    feed(wire);
  }
  void command(const std::vector<Amf0Value>& values, uint32_t stream_id = 0) {
    send(3, MessageType::kCommandAmf0, stream_id, 0, amf(values));
  }
  void video(uint32_t ts, const Bytes& tag) { send(6, MessageType::kVideo, 1, ts, tag); }
  void audio(uint32_t ts, const Bytes& tag) { send(4, MessageType::kAudio, 1, ts, tag); }

  // Everything the server wrote since the last call, as messages.
  std::vector<Reply> replies() {
    auto out = session.pending_output();
    inbox.insert(inbox.end(), out.begin(), out.end());
    session.consume_output(out.size());
    std::vector<Reply> r;
    size_t pos = 0;
    for (;;) {
      const auto res = reader.read(std::span<const uint8_t>(inbox).subspan(pos));
      if (res == ChunkReader::Result::kNeedMore) break;
      EXPECT_NE(res, ChunkReader::Result::kError) << reader.error();
      if (res == ChunkReader::Result::kError) break;
      pos += reader.consumed();
      if (res != ChunkReader::Result::kMessage) continue;
      const auto& m = reader.message();
      Reply rep{m.type, m.stream_id, Bytes(m.payload.begin(), m.payload.end()), {}};
      if (m.type == static_cast<uint8_t>(MessageType::kCommandAmf0)) {
        Amf0Reader a(m.payload);
        rep.amf = a.read_all();
        EXPECT_TRUE(a.error().empty()) << a.error();
      }
      r.push_back(std::move(rep));
    }
    inbox.erase(inbox.begin(), inbox.begin() + static_cast<ptrdiff_t>(pos));
    return r;
  }

  std::vector<Owned> events() {
    std::vector<Owned> r;
    while (auto e = session.poll_event()) {
      Owned o{std::move(*e), {}, {}, {}, {}};
      if (std::holds_alternative<VideoAccessUnit>(o.event)) {
        for (const auto& p : session.video_packets()) {
          o.packets.emplace_back(p.payload.begin(), p.payload.end());
          o.markers.push_back(p.marker);
          o.keyframes.push_back(p.keyframe);
        }
      }
      if (auto* a = std::get_if<AudioFrame>(&o.event)) {
        o.aac.assign(a->aac.begin(), a->aac.end());
        a->aac = {};
      }
      r.push_back(std::move(o));
    }
    return r;
  }

  // connect -> releaseStream -> FCPublish -> createStream -> publish, accepted.
  void publish(const std::string& app = "live", const std::string& key = "room1/peer1") {
    handshake();
    auto obj = Amf0Value::make_object();
    obj.set("app", str(app)).set("type", str("nonprivate")).set("tcUrl", str("rtmp://127.0.0.1:1935/" + app));
    command({str("connect"), num(1), obj});
    command({str("releaseStream"), num(2), null(), str(key)});
    command({str("FCPublish"), num(3), null(), str(key)});
    command({str("createStream"), num(4), null()});
    command({str("publish"), num(5), null(), str(key), str("live")}, 1);
  }

  media::Micros now = 0;
  RtmpSession session;
  ChunkWriter writer;
  ChunkReader reader;
  Bytes inbox;
};

}  // namespace atrium::rtmp::test
