#include "transport/webrtc/tcp/tcp_send_queue.h"

#include <algorithm>
#include <cstring>

namespace atrium::webrtc {

namespace {

constexpr size_t kFrameHeader = 2;  // RFC 4571

// RTP, not RTCP: version 2, and a second byte outside RTCP's packet types 192-223 (RFC 5761 section 4).
bool is_rtp(std::span<const uint8_t> d) {
  return d.size() >= 12 && (d[0] & 0xC0) == 0x80 && !(d[1] >= 192 && d[1] <= 223);
}

uint32_t be32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}

}  // namespace

TcpSendQueue::TcpSendQueue(size_t capacity)
    : ring_(std::make_unique_for_overwrite<uint8_t[]>(std::max<size_t>(capacity, 4096))),
      capacity_(std::max<size_t>(capacity, 4096)) {}

TcpSendQueue::Verdict TcpSendQueue::push(std::span<const uint8_t> datagram) {
  if (datagram.size() > 0xFFFF) return Verdict::kDropped;
  if (is_rtp(datagram)) return push_rtp(datagram);
  if (size_ + kFrameHeader + datagram.size() > capacity_) {
    ++stats_.other_dropped;
    return Verdict::kDropped;
  }
  append(datagram);
  return Verdict::kQueued;
}

TcpSendQueue::Verdict TcpSendQueue::push_rtp(std::span<const uint8_t> d) {
  const bool marker = (d[1] & 0x80) != 0;
  const uint32_t timestamp = be32(&d[4]);
  bool fresh = false;
  Stream& s = stream(be32(&d[8]), fresh);
  const bool starts_frame = fresh || s.ended || s.timestamp != timestamp;
  s.timestamp = timestamp;
  s.ended = marker;
  const size_t framed = kFrameHeader + d.size();
  auto verdict = Verdict::kFrameRest;
  if (starts_frame) {
    s.dropping = size_ + framed > capacity_ / 2;
    if (s.dropping) {
      ++stats_.frames_dropped;
      verdict = Verdict::kFrameDropped;
    }
  } else if (!s.dropping && size_ + framed > capacity_) {
    s.dropping = true;
    ++stats_.frames_cut;
    verdict = Verdict::kFrameCut;
  }
  if (s.dropping) {
    ++stats_.packets_dropped;
    return verdict;
  }
  append(d);
  return Verdict::kQueued;
}

TcpSendQueue::Stream& TcpSendQueue::stream(uint32_t ssrc, bool& fresh) {
  for (auto& s : streams_)
    if (s.used && s.ssrc == ssrc) return s;
  fresh = true;
  auto free = std::find_if(streams_.begin(), streams_.end(), [](const Stream& s) { return !s.used; });
  Stream& s = free != streams_.end() ? *free : streams_[next_reuse_++ % kStreams];
  s = Stream{ssrc, 0, true, false, false};
  return s;
}

void TcpSendQueue::append(std::span<const uint8_t> d) {
  const uint8_t header[kFrameHeader] = {static_cast<uint8_t>(d.size() >> 8), static_cast<uint8_t>(d.size())};
  auto copy = [this](const uint8_t* src, size_t n) {
    const size_t tail = (head_ + size_) % capacity_;
    const size_t first = std::min(n, capacity_ - tail);
    std::memcpy(ring_.get() + tail, src, first);
    std::memcpy(ring_.get(), src + first, n - first);
    size_ += n;
  };
  copy(header, kFrameHeader);
  copy(d.data(), d.size());
  stats_.bytes_queued += kFrameHeader + d.size();
}

std::array<std::span<const uint8_t>, 2> TcpSendQueue::pending() const {
  const size_t first = std::min(size_, capacity_ - head_);
  return {std::span<const uint8_t>(ring_.get() + head_, first),
          std::span<const uint8_t>(ring_.get(), size_ - first)};
}

void TcpSendQueue::consume(size_t n) {
  n = std::min(n, size_);
  size_ -= n;
  head_ = size_ == 0 ? 0 : (head_ + n) % capacity_;
}

}  // namespace atrium::webrtc
