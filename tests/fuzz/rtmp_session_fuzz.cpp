// Arbitrary bytes into an RtmpSession. The first byte picks the mode: bit 0 prepends a valid handshake,
// connect, createStream and publish (accepted), so the rest reaches the chunk stream and media paths; bit 1
// cuts the input into receives of varying sizes; bit 2 ticks past the setup timeout halfway.
#include <cstddef>
#include <cstdint>
#include <span>
#include <variant>
#include <vector>

#include "media/codec/h264.h"
#include "transport/rtmp/amf0.h"
#include "transport/rtmp/chunk_writer.h"
#include "transport/rtmp/handshake.h"
#include "transport/rtmp/rtmp_session.h"

using namespace atrium;
using namespace atrium::rtmp;

namespace {

std::vector<uint8_t> prefix() {
  std::vector<uint8_t> b(1 + kHandshakeSize + kHandshakeSize, 0x11);
  b[0] = 3;
  ChunkWriter w;
  auto command = [&](std::vector<Amf0Value> v, uint32_t stream) {
    std::vector<uint8_t> body;
    Amf0Writer aw(body);
    for (const auto& x : v)
      aw.value(x);
    w.write(b, 3, 20, stream, 0, body);
  };
  auto obj = Amf0Value::make_object();
  obj.set("app", Amf0Value::make_string("live"));
  command({Amf0Value::make_string("connect"), Amf0Value::make_number(1), obj}, 0);
  command({Amf0Value::make_string("createStream"), Amf0Value::make_number(2), Amf0Value::make_null()}, 0);
  command({Amf0Value::make_string("publish"), Amf0Value::make_number(3), Amf0Value::make_null(),
           Amf0Value::make_string("room/peer"), Amf0Value::make_string("live")},
          1);
  return b;
}

void drain(RtmpSession& s) {
  while (auto e = s.poll_event()) {
    if (std::holds_alternative<PublishRequested>(*e)) s.accept_publish();
    if (std::holds_alternative<VideoAccessUnit>(*e)) {
      const auto packets = s.video_packets();
      if (packets.empty() || !packets.back().marker) __builtin_trap();
      for (const auto& p : packets)
        if (p.payload.empty() || p.payload.size() > kDefaultMaxRtpPayload) __builtin_trap();
    }
    if (auto* a = std::get_if<AudioFrame>(&*e)) {
      volatile uint8_t first = a->aac.empty() ? 0 : a->aac[0];
      (void)first;
    }
  }
  s.consume_output(s.pending_output().size());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  static const std::vector<uint8_t> kPrefix = prefix();
  const uint8_t mode = data[0];
  std::span<const uint8_t> in(data + 1, size - 1);
  RtmpSession s(RtmpSessionConfig{.seed = 7}, 0);
  if (mode & 1) {
    s.receive(kPrefix, 0);
    drain(s);
  }
  size_t pos = 0, step = 1;
  while (pos < in.size()) {
    const size_t n = (mode & 2) ? std::min(in.size() - pos, step) : in.size() - pos;
    s.receive(in.subspan(pos, n), static_cast<media::Micros>(pos));
    drain(s);
    pos += n;
    step = step * 3 % 1021 + 1;
    if ((mode & 4) && pos >= in.size() / 2) s.tick(kSetupTimeoutMicros + 1);
  }
  const auto& c = s.counters();
  if (c.bytes_in != size - 1 + ((mode & 1) ? kPrefix.size() : 0)) __builtin_trap();
  return 0;
}
