// Feeds arbitrary bytes, in reads of sizes the input also picks, to the ICE-TCP deframer: every frame it
// hands out lies inside its buffer and within the maximum length, and it never asks for an empty read
// before refusing the stream. Each frame then goes through the frame-dropping send queue.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "transport/webrtc/tcp/rfc4571_deframer.h"
#include "transport/webrtc/tcp/tcp_send_queue.h"

using namespace atrium::webrtc;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Rfc4571Deframer d;
  TcpSendQueue q(8192);
  size_t at = 0;
  while (at < size) {
    const size_t chunk = 1 + data[at] % 251;  // the first byte of each read picks its size
    ++at;
    auto room = d.writable();
    if (room.empty()) std::abort();
    const size_t n = std::min({chunk, room.size(), size - at});
    std::memcpy(room.data(), data + at, n);
    d.commit(n);
    at += n;
    for (;;) {
      const auto s = d.next();
      if (s == Rfc4571Deframer::Status::kTooLong) return 0;
      if (s == Rfc4571Deframer::Status::kNeedMore) break;
      const auto f = d.frame();
      if (f.size() > Rfc4571Deframer::kMaxFrame) std::abort();
      q.push(f);
      if (q.size() > q.capacity()) std::abort();
      if (q.size() > 4096) q.consume(q.size() / 2);
    }
    if (d.partial() > 2 * (Rfc4571Deframer::kHeader + Rfc4571Deframer::kMaxFrame)) std::abort();
  }
  return 0;
}
