#include <gtest/gtest.h>

#include <vector>

#include "transport/rtmp/chunk_reader.h"
#include "transport/rtmp/chunk_writer.h"

namespace atrium::rtmp {
namespace {

using Bytes = std::vector<uint8_t>;

struct Got {
  uint32_t csid, ts, sid;
  uint8_t type;
  Bytes payload;
};

// Reads everything complete in `in` (feeding it one byte more at a time when `trickle`, to exercise kNeedMore
// at every split point).
std::vector<Got> read_all(ChunkReader& r, const Bytes& in, bool trickle = false) {
  std::vector<Got> out;
  size_t pos = 0;
  size_t avail = trickle ? 0 : in.size();
  while (pos < in.size()) {
    const auto res = r.read(std::span(in).subspan(pos, avail - pos));
    if (res == ChunkReader::Result::kError) break;
    if (res == ChunkReader::Result::kNeedMore) {
      if (avail == in.size()) break;
      ++avail;
      continue;
    }
    pos += r.consumed();
    if (res == ChunkReader::Result::kMessage) {
      const auto& m = r.message();
      out.push_back(
          Got{m.chunk_stream, m.timestamp, m.stream_id, m.type, Bytes(m.payload.begin(), m.payload.end())});
    }
  }
  return out;
}

Bytes payload(size_t n, uint8_t seed) {
  Bytes b(n);
  for (size_t i = 0; i < n; ++i)
    b[i] = static_cast<uint8_t>(seed + i * 13);
  return b;
}

void append(Bytes& b, const Bytes& more) {
  b.insert(b.end(), more.begin(), more.end());
}

TEST(RtmpChunkReader, Type0SingleChunk) {
  // fmt 0, csid 3, ts 1000, length 5, type 20, stream id 1 (little-endian).
  const Bytes in = {0x03, 0x00, 0x03, 0xE8, 0x00, 0x00, 0x05, 20, 0x01, 0x00, 0x00, 0x00, 1, 2, 3, 4, 5};
  ChunkReader r;
  auto got = read_all(r, in, true);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].csid, 3u);
  EXPECT_EQ(got[0].ts, 1000u);
  EXPECT_EQ(got[0].sid, 1u);
  EXPECT_EQ(got[0].type, 20);
  EXPECT_EQ(got[0].payload, (Bytes{1, 2, 3, 4, 5}));
}

TEST(RtmpChunkReader, MessageSplitAcrossChunksFedByteByByte) {
  const Bytes body = payload(300, 1);
  Bytes in = {0x04, 0, 0, 10, 0x00, 0x01, 0x2C, 9, 1, 0, 0, 0};  // fmt 0, csid 4, len 300
  in.insert(in.end(), body.begin(), body.begin() + 128);
  in.push_back(0xC4);  // fmt 3
  in.insert(in.end(), body.begin() + 128, body.begin() + 256);
  in.push_back(0xC4);
  in.insert(in.end(), body.begin() + 256, body.end());
  ChunkReader r;
  auto got = read_all(r, in, true);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].payload, body);
  EXPECT_EQ(got[0].ts, 10u);
}

TEST(RtmpChunkReader, HeaderTypes1To3CarryDeltas) {
  Bytes in = {0x06, 0, 0, 100, 0, 0, 2, 8, 1, 0, 0, 0, 0xAA, 0xBB};  // fmt 0: ts 100, len 2, type 8
  append(in, {0x46, 0, 0, 20, 0, 0, 3, 9, 1, 2, 3});                 // fmt 1: +20, len 3, type 9
  append(in, {0x86, 0, 0, 10, 4, 5, 6});                             // fmt 2: +10, same len/type
  append(in, {0xC6, 7, 8, 9});                                       // fmt 3 new message: +10 again
  ChunkReader r;
  auto got = read_all(r, in, true);
  ASSERT_EQ(got.size(), 4u);
  EXPECT_EQ(got[0].ts, 100u);
  EXPECT_EQ(got[1].ts, 120u);
  EXPECT_EQ(got[1].type, 9);
  EXPECT_EQ(got[1].sid, 1u);
  EXPECT_EQ(got[2].ts, 130u);
  EXPECT_EQ(got[2].payload, (Bytes{4, 5, 6}));
  EXPECT_EQ(got[3].ts, 140u);
  EXPECT_EQ(got[3].payload, (Bytes{7, 8, 9}));
}

TEST(RtmpChunkReader, Type3AfterType0RepeatsTheTimestampAsDelta) {
  Bytes in = {0x05, 0, 0, 40, 0, 0, 1, 8, 1, 0, 0, 0, 1};
  append(in, {0xC5, 2});
  ChunkReader r;
  auto got = read_all(r, in);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[1].ts, 80u);
}

TEST(RtmpChunkReader, ExtendedTimestampOnEveryChunk) {
  const Bytes body = payload(200, 3);
  Bytes in = {0x04, 0xFF, 0xFF, 0xFF, 0, 0, 200, 9, 1, 0, 0, 0, 0x01, 0x02, 0x03, 0x04};
  in.insert(in.end(), body.begin(), body.begin() + 128);
  append(in, {0xC4, 0x01, 0x02, 0x03, 0x04});  // type 3 repeats the extended timestamp
  in.insert(in.end(), body.begin() + 128, body.end());
  ChunkReader r;
  auto got = read_all(r, in, true);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].ts, 0x01020304u);
  EXPECT_EQ(got[0].payload, body);
}

TEST(RtmpChunkReader, TwoAndThreeByteChunkStreamIds) {
  Bytes in = {0x00, 10, 0, 0, 1, 0, 0, 1, 8, 0, 0, 0, 0, 0x11};           // csid 74
  append(in, {0x01, 0x2C, 0x01, 0, 0, 2, 0, 0, 1, 8, 0, 0, 0, 0, 0x22});  // csid 64 + 300 = 364
  ChunkReader r;
  auto got = read_all(r, in, true);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].csid, 74u);
  EXPECT_EQ(got[1].csid, 364u);
  EXPECT_EQ(got[1].payload, Bytes{0x22});
}

TEST(RtmpChunkReader, InterleavedMessagesOnTwoStreams) {
  const Bytes a = payload(200, 1), v = payload(150, 2);
  Bytes in = {0x04, 0, 0, 1, 0, 0, 200, 8, 1, 0, 0, 0};
  in.insert(in.end(), a.begin(), a.begin() + 128);
  append(in, {0x06, 0, 0, 2, 0, 0, 150, 9, 1, 0, 0, 0});
  in.insert(in.end(), v.begin(), v.begin() + 128);
  in.push_back(0xC4);
  in.insert(in.end(), a.begin() + 128, a.end());
  in.push_back(0xC6);
  in.insert(in.end(), v.begin() + 128, v.end());
  ChunkReader r;
  auto got = read_all(r, in);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].payload, a);
  EXPECT_EQ(got[1].payload, v);
}

TEST(RtmpChunkReader, SetChunkSizeAppliesToTheNextChunk) {
  Bytes in = {0x02, 0, 0, 0, 0, 0, 4, 1, 0, 0, 0, 0, 0x00, 0x00, 0x10, 0x00};  // Set Chunk Size 4096
  const Bytes body = payload(3000, 5);
  append(in, {0x04, 0, 0, 0, 0, 0x0B, 0xB8, 9, 1, 0, 0, 0});
  append(in, body);  // one chunk
  ChunkReader r;
  auto got = read_all(r, in, true);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].type, 1);
  EXPECT_EQ(r.chunk_size(), 4096u);
  EXPECT_EQ(got[1].payload, body);
}

TEST(RtmpChunkReader, HugeChunkSizeIsCappedByTheMessageLimit) {
  const Bytes in = {0x02, 0, 0, 0, 0, 0, 4, 1, 0, 0, 0, 0, 0x7F, 0xFF, 0xFF, 0xFF};
  ChunkReader r;
  ASSERT_EQ(read_all(r, in).size(), 1u);
  EXPECT_EQ(r.chunk_size(), kMaxEffectiveChunkSize);
}

TEST(RtmpChunkReader, AbortDropsThePartialMessage) {
  Bytes in = {0x04, 0, 0, 0, 0, 0x01, 0x2C, 9, 1, 0, 0, 0};  // 300 bytes announced
  append(in, payload(128, 0));
  append(in, {0x02, 0, 0, 0, 0, 0, 4, 2, 0, 0, 0, 0, 0, 0, 0, 4});  // Abort csid 4
  append(in, {0x04, 0, 0, 0, 0, 0, 2, 9, 1, 0, 0, 0, 0xEE, 0xFF});  // a new message on csid 4
  ChunkReader r;
  auto got = read_all(r, in);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].type, 2);
  EXPECT_EQ(got[1].payload, (Bytes{0xEE, 0xFF}));
  EXPECT_EQ(r.messages_discarded(), 1u);
}

TEST(RtmpChunkReader, Errors) {
  auto fails = [](const Bytes& in) {
    ChunkReader r;
    read_all(r, in);
    return r.failed();
  };
  // A message over kMaxMessageSize (0x400001 bytes).
  EXPECT_TRUE(fails({0x04, 0, 0, 0, 0x40, 0x00, 0x01, 9, 1, 0, 0, 0}));
  EXPECT_FALSE(fails({0x04, 0, 0, 0, 0x40, 0x00, 0x00, 9, 1, 0, 0, 0}));  // exactly the limit: waits for more
  // Set Chunk Size 0, and with the top bit set.
  EXPECT_TRUE(fails({0x02, 0, 0, 0, 0, 0, 4, 1, 0, 0, 0, 0, 0, 0, 0, 0}));
  EXPECT_TRUE(fails({0x02, 0, 0, 0, 0, 0, 4, 1, 0, 0, 0, 0, 0x80, 0, 0, 0}));
  // A type 1 header on a chunk stream never started.
  EXPECT_TRUE(fails({0x45, 0, 0, 0, 0, 0, 1, 8, 0}));
  EXPECT_TRUE(fails({0xC5}));
  // More chunk streams than kMaxChunkStreams.
  Bytes many;
  for (uint32_t i = 0; i <= kMaxChunkStreams; ++i)
    append(many, {0x00, static_cast<uint8_t>(i), 0, 0, 0, 0, 0, 1, 8, 0, 0, 0, 0, 0xAB});
  EXPECT_TRUE(fails(many));
  many.resize(many.size() - 14);
  EXPECT_FALSE(fails(many));
}

TEST(RtmpChunkWriter, RoundTripsThroughTheReader) {
  for (uint32_t chunk : {1u, 7u, 128u, 4096u}) {
    ChunkWriter w;
    w.set_chunk_size(chunk);
    Bytes wire;
    // The reader must be told the chunk size: send Set Chunk Size first at the default size.
    ChunkWriter first;
    const Bytes csz = {static_cast<uint8_t>(chunk >> 24), static_cast<uint8_t>(chunk >> 16),
                       static_cast<uint8_t>(chunk >> 8), static_cast<uint8_t>(chunk)};
    first.write(wire, 2, 1, 0, 0, csz);
    const Bytes a = payload(1000, 9), b = payload(0, 0), c = payload(300, 4);
    w.write(wire, 3, 20, 0, 5, a);
    w.write(wire, 100, 9, 1, 0x12345678, c);  // 2-byte csid, extended timestamp
    w.write(wire, 1000, 8, 1, 7, b);          // 3-byte csid, empty
    ChunkReader r;
    auto got = read_all(r, wire, chunk == 7);
    ASSERT_EQ(got.size(), 4u) << chunk;
    EXPECT_EQ(got[1].payload, a);
    EXPECT_EQ(got[1].ts, 5u);
    EXPECT_EQ(got[2].csid, 100u);
    EXPECT_EQ(got[2].ts, 0x12345678u);
    EXPECT_EQ(got[2].payload, c);
    EXPECT_EQ(got[3].csid, 1000u);
    EXPECT_TRUE(got[3].payload.empty());
  }
}

}  // namespace
}  // namespace atrium::rtmp
