// What one ICE-TCP connection still has to write: datagrams framed for RFC 4571 (a 2-byte length, then the
// bytes) in a ring of fixed size, and the drop policy for when the client reads slower than we send.
//
// The policy, by what the datagram is (told from its first bytes, RFC 7983 / RFC 5761):
//  - RTP is dropped a whole frame at a time, never half of one. A frame is the packets of one SSRC with one
//    RTP timestamp (the marker bit also ends it). Its first packet is queued only while the queue is at most
//    half full; when it is not, the frame is dropped, and so is every later packet of it. Once a frame's
//    first packet is in, the rest follow up to the full size (the half left free is for them), so a frame is
//    cut only when one is larger than half the queue; that is counted apart. An audio packet is a frame of
//    its own and follows the same rule (an Opus frame is ~100 bytes; it loses its place only to a video
//    frame already being queued). NACK and PLI repair what was dropped, and the bandwidth estimate, fed by
//    transport-cc feedback that keeps flowing, lowers the layer the allocator picks.
//  - Everything else (STUN, DTLS, RTCP: small, and what keeps the connection and the estimate alive) is
//    queued whenever it fits in the whole queue.
// The writer takes the queued bytes as at most two spans (the ring may wrap), writes them, then consume()s
// what was written; bytes being written never move, so one write can be outstanding while more is pushed.
// Sans-IO; the ring is allocated once, at construction.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

namespace atrium::webrtc {

class TcpSendQueue {
 public:
  enum class Verdict {
    kQueued,
    kFrameDropped,  // an RTP frame's first packet: the frame is dropped whole
    kFrameCut,      // an RTP frame's packet that no longer fit: the rest of the frame goes too
    kFrameRest,     // a later packet of a frame being dropped
    kDropped,       // not RTP, and it did not fit
  };

  struct Stats {
    uint64_t frames_dropped = 0;   // RTP frames dropped whole (their first packet did not fit)
    uint64_t frames_cut = 0;       // RTP frames whose tail did not fit (a frame over half the queue)
    uint64_t packets_dropped = 0;  // RTP packets dropped, for either reason
    uint64_t other_dropped = 0;    // STUN, DTLS, RTCP that did not fit at all
    uint64_t bytes_queued = 0;     // framed bytes accepted so far
  };

  explicit TcpSendQueue(size_t capacity);

  // Frames `datagram` and queues it, or drops it by the policy above.
  Verdict push(std::span<const uint8_t> datagram);
  // The queued bytes, oldest first, as one or two spans; the second is empty unless the ring wraps.
  std::array<std::span<const uint8_t>, 2> pending() const;
  // The first `n` pending bytes were written.
  void consume(size_t n);

  size_t size() const { return size_; }
  size_t capacity() const { return capacity_; }
  bool empty() const { return size_ == 0; }
  const Stats& stats() const { return stats_; }

 private:
  // One RTP stream's frame state: the timestamp of its current frame, whether that frame is being dropped.
  struct Stream {
    uint32_t ssrc = 0;
    uint32_t timestamp = 0;
    bool used = false;
    bool ended = false;  // the last packet had the marker bit: the next one starts a frame
    bool dropping = false;
  };
  static constexpr size_t kStreams = 32;  // more SSRCs than a session sends; beyond, the oldest is reused

  Verdict push_rtp(std::span<const uint8_t> datagram);
  Stream& stream(uint32_t ssrc, bool& fresh);
  void append(std::span<const uint8_t> datagram);

  std::unique_ptr<uint8_t[]> ring_;
  size_t capacity_;
  size_t head_ = 0;  // first pending byte
  size_t size_ = 0;
  std::array<Stream, kStreams> streams_{};
  size_t next_reuse_ = 0;
  Stats stats_;
};

}  // namespace atrium::webrtc
