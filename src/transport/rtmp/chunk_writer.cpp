#include "transport/rtmp/chunk_writer.h"

#include <algorithm>

namespace atrium::rtmp {

namespace {
void basic_header(std::vector<uint8_t>& out, uint8_t fmt, uint32_t csid) {
  const auto f = static_cast<uint8_t>(fmt << 6);
  if (csid < 64) {
    out.push_back(static_cast<uint8_t>(f | csid));
  } else if (csid < 64 + 256) {
    out.push_back(f);
    out.push_back(static_cast<uint8_t>(csid - 64));
  } else {
    out.push_back(static_cast<uint8_t>(f | 1));
    out.push_back(static_cast<uint8_t>((csid - 64) & 0xFF));
    out.push_back(static_cast<uint8_t>((csid - 64) >> 8));
  }
}
void be(std::vector<uint8_t>& out, uint32_t v, int n) {
  for (int i = n - 1; i >= 0; --i)
    out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}
}  // namespace

void ChunkWriter::set_chunk_size(uint32_t size) {
  chunk_size_ = std::clamp<uint32_t>(size, 1, kMaxEffectiveChunkSize);
}

void ChunkWriter::write(std::vector<uint8_t>& out, uint32_t csid, uint8_t type, uint32_t stream_id,
                        uint32_t timestamp, std::span<const uint8_t> payload) const {
  const bool extended = timestamp >= 0xFFFFFF;
  size_t pos = 0;
  do {
    const size_t n = std::min<size_t>(chunk_size_, payload.size() - pos);
    if (pos == 0) {
      basic_header(out, 0, csid);
      be(out, extended ? 0xFFFFFF : timestamp, 3);
      be(out, static_cast<uint32_t>(payload.size()), 3);
      out.push_back(type);
      for (int i = 0; i < 4; ++i)
        out.push_back(static_cast<uint8_t>(stream_id >> (8 * i)));  // little-endian, as the spec has it
    } else {
      basic_header(out, 3, csid);
    }
    if (extended) be(out, timestamp, 4);
    out.insert(out.end(), payload.begin() + static_cast<ptrdiff_t>(pos),
               payload.begin() + static_cast<ptrdiff_t>(pos + n));
    pos += n;
  } while (pos < payload.size());
}

}  // namespace atrium::rtmp
