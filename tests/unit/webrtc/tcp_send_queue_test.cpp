// The ICE-TCP send queue: datagrams leave framed (RFC 4571) and in order across the ring's wrap; when the
// client reads slowly, RTP is dropped a whole frame at a time (never the start of a frame without its end,
// nor its end without its start), and STUN/DTLS/RTCP only when nothing fits.
#include "transport/webrtc/tcp/tcp_send_queue.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "transport/webrtc/tcp/rfc4571_deframer.h"

namespace atrium::webrtc {
namespace {

using Verdict = TcpSendQueue::Verdict;

std::vector<uint8_t> rtp(uint32_t ssrc, uint16_t seq, uint32_t timestamp, bool marker, size_t size = 1000) {
  std::vector<uint8_t> p(size, 0xAB);
  p[0] = 0x80;
  p[1] = static_cast<uint8_t>((marker ? 0x80 : 0) | 96);
  p[2] = static_cast<uint8_t>(seq >> 8);
  p[3] = static_cast<uint8_t>(seq);
  for (int i = 0; i < 4; ++i) {
    p[4 + i] = static_cast<uint8_t>(timestamp >> (24 - 8 * i));
    p[8 + i] = static_cast<uint8_t>(ssrc >> (24 - 8 * i));
  }
  return p;
}

std::vector<uint8_t> rtcp(size_t size = 80) {
  std::vector<uint8_t> p(size, 0);
  p[0] = 0x81;
  p[1] = 201;  // RR
  return p;
}

// Everything queued, deframed again; the queue is drained.
std::vector<std::vector<uint8_t>> drain(TcpSendQueue& q) {
  std::vector<uint8_t> bytes;
  for (auto piece : q.pending())
    bytes.insert(bytes.end(), piece.begin(), piece.end());
  q.consume(bytes.size());
  Rfc4571Deframer d;
  std::vector<std::vector<uint8_t>> out;
  for (size_t at = 0; at < bytes.size();) {
    auto room = d.writable();
    const size_t n = std::min(room.size(), bytes.size() - at);
    std::copy_n(bytes.begin() + static_cast<std::ptrdiff_t>(at), n, room.begin());
    d.commit(n);
    at += n;
    while (d.next() == Rfc4571Deframer::Status::kFrame)
      out.emplace_back(d.frame().begin(), d.frame().end());
  }
  return out;
}

uint16_t seq_of(const std::vector<uint8_t>& p) {
  return static_cast<uint16_t>((p[2] << 8) | p[3]);
}

TEST(TcpSendQueue, DatagramsLeaveFramedAndInOrderAcrossTheWrap) {
  TcpSendQueue q(8192);
  uint16_t seq = 0;
  for (int round = 0; round < 50; ++round) {
    std::vector<uint16_t> sent;
    for (int i = 0; i < 3; ++i, ++seq) {
      ASSERT_EQ(q.push(rtp(1, seq, seq, true, 700 + static_cast<size_t>(round))), Verdict::kQueued);
      sent.push_back(seq);
    }
    const auto got = drain(q);
    ASSERT_EQ(got.size(), sent.size());
    for (size_t i = 0; i < got.size(); ++i)
      EXPECT_EQ(seq_of(got[i]), sent[i]);
    EXPECT_TRUE(q.empty());
  }
}

TEST(TcpSendQueue, AFullQueueDropsWholeFramesOnly) {
  TcpSendQueue q(16384);
  // A slow reader: frames of 4 packets, with a little drained between frames.
  std::vector<std::vector<uint8_t>> out;
  uint16_t seq = 0;
  for (uint32_t frame = 0; frame < 100; ++frame) {
    for (int k = 0; k < 4; ++k, ++seq)
      q.push(rtp(7, seq, frame * 3000, k == 3));
    if (frame % 3 == 0) {
      for (auto& p : drain(q))
        out.push_back(std::move(p));
    }
  }
  for (auto& p : drain(q))
    out.push_back(std::move(p));
  EXPECT_GT(q.stats().frames_dropped, 0u);
  EXPECT_EQ(q.stats().frames_cut, 0u);
  EXPECT_EQ(q.stats().packets_dropped, 4 * q.stats().frames_dropped);
  // Every frame that arrived arrived whole: 4 consecutive packets, the last with the marker.
  ASSERT_EQ(out.size() % 4, 0u);
  for (size_t i = 0; i < out.size(); i += 4) {
    for (size_t k = 1; k < 4; ++k)
      EXPECT_EQ(size_t{seq_of(out[i + k])}, size_t{seq_of(out[i])} + k);
    EXPECT_EQ(seq_of(out[i]) % 4, 0);
    EXPECT_TRUE(out[i + 3][1] & 0x80);
  }
}

TEST(TcpSendQueue, AFrameStartedIsFinishedInTheHalfKeptFree) {
  TcpSendQueue q(16384);
  // Fill to just under half, then a frame of 6 KB: it starts below half, so all of it goes in.
  uint16_t seq = 0;
  for (int i = 0; i < 7; ++i, ++seq)
    ASSERT_EQ(q.push(rtp(1, seq, 0, false, 1000)), Verdict::kQueued);
  for (int k = 0; k < 6; ++k, ++seq)
    EXPECT_EQ(q.push(rtp(2, seq, 90, k == 5, 1000)), Verdict::kQueued);
  // Now over half: the next frame's first packet drops the frame, its later packets follow it.
  EXPECT_EQ(q.push(rtp(2, seq++, 180, false, 1000)), Verdict::kFrameDropped);
  EXPECT_EQ(q.push(rtp(2, seq++, 180, true, 1000)), Verdict::kFrameRest);
  // Control traffic still fits.
  EXPECT_EQ(q.push(rtcp()), Verdict::kQueued);
  // Another stream's frame start is refused too, and the first stream's frame after the marker as well.
  EXPECT_EQ(q.push(rtp(3, 0, 5, true, 200)), Verdict::kFrameDropped);
  EXPECT_EQ(q.stats().frames_dropped, 2u);
}

TEST(TcpSendQueue, AFrameLargerThanHalfTheQueueIsCutAndCounted) {
  TcpSendQueue q(8192);
  Verdict last = Verdict::kQueued;
  int cut_at = -1;
  for (int k = 0; k < 12; ++k) {
    last = q.push(rtp(1, static_cast<uint16_t>(k), 0, k == 11, 1000));
    if (last == Verdict::kFrameCut) cut_at = k;
  }
  EXPECT_EQ(cut_at, 8);  // 8 framed packets of 1002 bytes fit in 8192
  EXPECT_EQ(last, Verdict::kFrameRest);
  EXPECT_EQ(q.stats().frames_cut, 1u);
}

TEST(TcpSendQueue, ControlIsDroppedOnlyWhenNothingFits) {
  TcpSendQueue q(4096);
  size_t queued = 0;
  while (q.push(rtcp(100)) == Verdict::kQueued)
    ++queued;
  EXPECT_EQ(queued, 4096u / 102u);
  EXPECT_EQ(q.stats().other_dropped, 1u);
  q.consume(102);
  EXPECT_EQ(q.push(rtcp(100)), Verdict::kQueued);
}

}  // namespace
}  // namespace atrium::webrtc
