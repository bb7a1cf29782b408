// Splits an ICE-TCP byte stream into the datagrams it carries: RFC 4571 frames, each a 2-byte big-endian
// length and that many bytes (RFC 6544 section 3 uses this framing for STUN, DTLS and SRTP alike). The
// buffer is fixed at construction, so a connection costs the same whatever its peer sends: the caller reads
// into writable(), commits what arrived, then takes frames with next() until it says kNeedMore.
// Sans-IO; no allocation after construction.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

namespace atrium::webrtc {

class Rfc4571Deframer {
 public:
  // Longer than any datagram a WebRTC peer sends (they stay under the path MTU), far below the 65535 the
  // length field allows: a longer length is a peer that is not speaking RFC 4571.
  static constexpr size_t kMaxFrame = 1600;
  static constexpr size_t kHeader = 2;

  enum class Status {
    kFrame,     // frame() is the next datagram, valid until the next writable()/next() call
    kNeedMore,  // the buffer holds at most part of a frame: read more
    kTooLong,   // a length over kMaxFrame: the stream is not RFC 4571, close it
  };

  Rfc4571Deframer();

  // Room for the next read (never empty while next() has not said kTooLong).
  std::span<uint8_t> writable();
  // `n` bytes were read into writable().
  void commit(size_t n) { end_ += n; }
  Status next();
  std::span<uint8_t> frame() const { return frame_; }
  // Bytes of a frame that has started but not finished (its header included); 0 between frames.
  size_t partial() const { return end_ - begin_; }

 private:
  static constexpr size_t kBuffer = 2 * (kHeader + kMaxFrame);
  std::unique_ptr<uint8_t[]> buffer_;
  size_t begin_ = 0;  // first byte not yet handed out
  size_t end_ = 0;    // one past the last byte read
  std::span<uint8_t> frame_;
};

}  // namespace atrium::webrtc
