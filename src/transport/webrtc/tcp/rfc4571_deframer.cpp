#include "transport/webrtc/tcp/rfc4571_deframer.h"

#include <cstring>

namespace atrium::webrtc {

Rfc4571Deframer::Rfc4571Deframer() : buffer_(std::make_unique_for_overwrite<uint8_t[]>(kBuffer)) {}

std::span<uint8_t> Rfc4571Deframer::writable() {
  frame_ = {};
  // Move the unfinished frame to the front once less than one whole frame fits behind it, so that a frame
  // always fits and reads stay large.
  if (kBuffer - end_ < kHeader + kMaxFrame && begin_ > 0) {
    std::memmove(buffer_.get(), buffer_.get() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }
  return {buffer_.get() + end_, kBuffer - end_};
}

Rfc4571Deframer::Status Rfc4571Deframer::next() {
  frame_ = {};
  const size_t have = end_ - begin_;
  if (have < kHeader) return Status::kNeedMore;
  const uint8_t* p = buffer_.get() + begin_;
  const size_t length = (size_t{p[0]} << 8) | p[1];
  if (length > kMaxFrame) return Status::kTooLong;
  if (have < kHeader + length) return Status::kNeedMore;
  frame_ = {buffer_.get() + begin_ + kHeader, length};
  begin_ += kHeader + length;
  if (begin_ == end_) begin_ = end_ = 0;  // drained: the frame's bytes stay put until the next writable()
  return Status::kFrame;
}

}  // namespace atrium::webrtc
