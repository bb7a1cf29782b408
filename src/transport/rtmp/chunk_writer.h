// Writes RTMP messages as chunks (RTMP spec 1.0, section 5.3): a type 0 header on the first chunk of every
// message (the server sends few messages, so the shorter headers are not worth their state), type 3 headers
// on the rest, the extended timestamp on every chunk when the timestamp needs it.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "transport/rtmp/rtmp_limits.h"

namespace atrium::rtmp {

class ChunkWriter {
 public:
  // Takes effect for the next message. Set it right after writing the Set Chunk Size message that tells the
  // peer (capped at kMaxEffectiveChunkSize; 0 is taken as 1).
  void set_chunk_size(uint32_t size);
  uint32_t chunk_size() const { return chunk_size_; }

  // Appends the message's chunks to `out`. `csid` 2..65599.
  void write(std::vector<uint8_t>& out, uint32_t csid, uint8_t type, uint32_t stream_id, uint32_t timestamp,
             std::span<const uint8_t> payload) const;

 private:
  uint32_t chunk_size_ = kDefaultChunkSize;
};

}  // namespace atrium::rtmp
