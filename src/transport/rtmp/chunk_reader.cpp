#include "transport/rtmp/chunk_reader.h"

#include <algorithm>

#include "media/rtp/bytes.h"

namespace atrium::rtmp {

namespace bytes = media::bytes;

namespace {
constexpr size_t kMessageHeaderSize[4] = {11, 7, 3, 0};
constexpr uint32_t kExtendedTimestamp = 0xFFFFFF;

uint32_t read32le(std::span<const uint8_t> b, size_t at) {
  return uint32_t{b[at]} | (uint32_t{b[at + 1]} << 8) | (uint32_t{b[at + 2]} << 16) |
         (uint32_t{b[at + 3]} << 24);
}
}  // namespace

ChunkReader::Result ChunkReader::fail(std::string_view why) {
  if (error_.empty()) error_ = why;
  return Result::kError;
}

ChunkReader::Stream* ChunkReader::find_or_add(uint32_t csid) {
  for (Stream& s : streams_)
    if (s.csid == csid) return &s;
  if (streams_.size() >= kMaxChunkStreams) return nullptr;
  streams_.emplace_back();
  streams_.back().csid = csid;
  return &streams_.back();
}

void ChunkReader::release(Stream& s) {
  assembly_bytes_ -= s.buffer.capacity();
  std::vector<uint8_t>().swap(s.buffer);
}

bool ChunkReader::reserve(Stream& s, size_t length) {
  if (s.buffer.capacity() >= length) return true;
  auto total_after = [&] { return assembly_bytes_ - s.buffer.capacity() + length; };
  if (total_after() > kMaxAssemblyBytes) {
    // Give back what finished messages left behind, then look again.
    for (Stream& other : streams_)
      if (&other != &s && !other.in_progress) release(other);
    if (total_after() > kMaxAssemblyBytes) return false;
  }
  assembly_bytes_ -= s.buffer.capacity();
  s.buffer.reserve(length);
  assembly_bytes_ += s.buffer.capacity();
  return true;
}

ChunkReader::Result ChunkReader::read(std::span<const uint8_t> in) {
  consumed_ = 0;
  if (failed()) return Result::kError;
  if (in.empty()) return Result::kNeedMore;

  // Basic header: fmt (2 bits) and the chunk stream id in 1, 2 or 3 bytes.
  const uint8_t fmt = in[0] >> 6;
  uint32_t csid = in[0] & 0x3F;
  size_t pos = 1;
  if (csid == 0) {
    if (in.size() < 2) return Result::kNeedMore;
    csid = 64 + uint32_t{in[1]};
    pos = 2;
  } else if (csid == 1) {
    if (in.size() < 3) return Result::kNeedMore;
    csid = 64 + uint32_t{in[1]} + 256 * uint32_t{in[2]};
    pos = 3;
  }
  if (in.size() - pos < kMessageHeaderSize[fmt]) return Result::kNeedMore;

  Stream* known = nullptr;
  for (Stream& s : streams_)
    if (s.csid == csid) known = &s;
  if (fmt != 0 && (known == nullptr || !known->has_header))
    return fail(
        "RTMP chunk stream: a type 1-3 chunk header on a chunk stream that never had a type 0 header");

  // Read the header into locals: nothing changes until the whole chunk is there.
  uint32_t ts_field = 0, length = 0, stream_id = 0;
  uint8_t type = 0;
  if (fmt == 3) {
    ts_field = known->delta;
  } else {
    ts_field = bytes::read24(in, pos);
  }
  if (fmt <= 1) {
    length = bytes::read24(in, pos + 3);
    type = in[pos + 6];
  } else {
    length = known->length;
    type = known->type;
  }
  stream_id = fmt == 0 ? read32le(in, pos + 7) : known->stream_id;
  pos += kMessageHeaderSize[fmt];

  const bool extended = fmt == 3 ? known->extended : ts_field == kExtendedTimestamp;
  if (extended) {
    if (in.size() - pos < 4) return Result::kNeedMore;
    if (fmt != 3) ts_field = bytes::read32(in, pos);
    pos += 4;
  }

  const bool continuation = fmt == 3 && known->in_progress;
  if (!continuation && length > kMaxMessageSize)
    return fail("RTMP chunk stream: a message larger than 4 MiB (kMaxMessageSize)");
  const size_t have = continuation ? known->buffer.size() : 0;
  const size_t payload = std::min<size_t>(chunk_size_, length - have);
  if (in.size() - pos < payload) return Result::kNeedMore;

  // Commit.
  Stream* s = known ? known : find_or_add(csid);
  if (s == nullptr) return fail("RTMP chunk stream: more than 64 chunk streams in use (kMaxChunkStreams)");
  if (!continuation) {
    if (s->in_progress) {  // a new header in the middle of a message: the partial one is lost
      ++discarded_;
      s->in_progress = false;
    }
    s->buffer.clear();
    if (fmt == 0) {
      s->timestamp = ts_field;
      s->delta = ts_field;  // a type 3 header for a new message repeats this as its delta (as ffmpeg does)
    } else {
      if (fmt != 3) s->delta = ts_field;
      s->timestamp += s->delta;
    }
    if (fmt != 3) s->extended = extended;
    s->has_header = true;
    s->length = length;
    s->type = type;
    s->stream_id = stream_id;
    if (!reserve(*s, length))
      return fail("RTMP chunk stream: more than 8 MiB of partial messages (kMaxAssemblyBytes)");
    s->in_progress = true;
  }
  s->buffer.insert(s->buffer.end(), in.begin() + static_cast<ptrdiff_t>(pos),
                   in.begin() + static_cast<ptrdiff_t>(pos + payload));
  consumed_ = pos + payload;
  if (s->buffer.size() < s->length) return Result::kChunk;

  s->in_progress = false;
  message_ = RtmpMessage{s->csid, s->type, s->stream_id, s->timestamp, std::span<const uint8_t>(s->buffer)};
  apply_control(message_);
  return failed() ? Result::kError : Result::kMessage;
}

void ChunkReader::apply_control(const RtmpMessage& m) {
  const auto type = static_cast<MessageType>(m.type);
  if (type == MessageType::kSetChunkSize) {
    if (m.payload.size() < 4) {
      fail("RTMP Set Chunk Size: shorter than 4 bytes");
      return;
    }
    const uint32_t size = bytes::read32(m.payload, 0);
    if (size == 0 || size > kMaxChunkSizeField) {
      fail("RTMP Set Chunk Size: not in 1..0x7FFFFFFF");
      return;
    }
    chunk_size_ = std::min(size, kMaxEffectiveChunkSize);
  } else if (type == MessageType::kAbort) {
    if (m.payload.size() < 4) return;
    const uint32_t csid = bytes::read32(m.payload, 0);
    for (Stream& s : streams_) {
      if (s.csid == csid && s.in_progress) {
        s.in_progress = false;
        s.buffer.clear();
        ++discarded_;
      }
    }
  }
}

}  // namespace atrium::rtmp
