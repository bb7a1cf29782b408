// Reassembles RTMP messages from the chunk stream (RTMP spec 1.0, section 5.3): basic headers of 1-3 bytes
// (chunk stream ids 2-65599), message headers of types 0-3, extended timestamps (also on type 3 chunks whose
// stream last had one, as ffmpeg and librtmp write them), per chunk stream state, interleaved messages.
//
// Protocol control that changes how chunks are read is applied here, as the message completes: Set Chunk
// Size (1..0x7FFFFFFF; effectively capped at kMaxMessageSize, see rtmp_limits.h) and Abort. Those messages
// are still returned, so the caller can count them. Limits (rtmp_limits.h): kMaxMessageSize per message,
// kMaxChunkStreams chunk stream ids, kMaxAssemblyBytes of partial messages; past one, read() fails.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "transport/rtmp/rtmp_limits.h"
#include "transport/rtmp/rtmp_message.h"

namespace atrium::rtmp {

class ChunkReader {
 public:
  enum class Result : uint8_t {
    kNeedMore,  // `in` does not hold a whole chunk yet; nothing consumed
    kChunk,     // one chunk consumed (consumed()); its message is not complete yet
    kMessage,   // one chunk consumed that completed message()
    kError,     // protocol error (error()); the reader stays failed
  };

  // Parses at most one chunk from the front of `in`.
  Result read(std::span<const uint8_t> in);

  size_t consumed() const { return consumed_; }
  // The message the last kMessage completed; its payload is valid until the next read().
  const RtmpMessage& message() const { return message_; }
  std::string_view error() const { return error_; }
  bool failed() const { return !error_.empty(); }

  uint32_t chunk_size() const { return chunk_size_; }
  // Partial messages thrown away: Abort messages, and a new message header on a stream mid-message.
  uint64_t messages_discarded() const { return discarded_; }

 private:
  struct Stream {
    uint32_t csid = 0;
    bool has_header = false;  // a type 0 header was seen
    bool extended = false;    // the last type 0/1/2 header had an extended timestamp
    uint32_t timestamp = 0;   // of the message in progress / last message
    uint32_t delta = 0;       // the timestamp field a type 3 header repeats for a new message
    uint32_t length = 0;
    uint8_t type = 0;
    uint32_t stream_id = 0;
    bool in_progress = false;
    std::vector<uint8_t> buffer;
  };

  Stream* find_or_add(uint32_t csid);
  bool reserve(Stream& s, size_t length);
  void release(Stream& s);
  Result fail(std::string_view why);
  void apply_control(const RtmpMessage& m);

  std::vector<Stream> streams_;
  size_t assembly_bytes_ = 0;  // capacity of every stream's buffer
  uint32_t chunk_size_ = kDefaultChunkSize;
  size_t consumed_ = 0;
  RtmpMessage message_;
  uint64_t discarded_ = 0;
  std::string_view error_;
};

}  // namespace atrium::rtmp
