// Decodes arbitrary bytes as a run of AMF0 values; whatever decodes must re-encode and decode back equal.
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "transport/rtmp/amf0.h"

using namespace atrium::rtmp;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Amf0Reader r(std::span<const uint8_t>(data, size));
  const std::vector<Amf0Value> values = r.read_all();
  if (r.position() > size) __builtin_trap();
  std::vector<uint8_t> out;
  Amf0Writer w(out);
  for (const auto& v : values)
    w.value(v);
  Amf0Reader back(out);
  const std::vector<Amf0Value> again = back.read_all();
  if (!back.error().empty() || again != values) __builtin_trap();
  for (const auto& v : values) {
    if (const Amf0Value* app = v.get("app")) (void)app->is_string();
    (void)v.get_number("width");
  }
  return 0;
}
