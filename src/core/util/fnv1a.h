// FNV-1a, 64 bits: a hash that is the same on every build, platform and process, for ids that nodes must
// agree on without asking each other (core::channel_id) and for spreading rooms over workers.
#pragma once

#include <cstdint>
#include <string_view>

namespace atrium::core {

inline constexpr uint64_t kFnv1aOffset = 0xcbf29ce484222325ULL;
inline constexpr uint64_t kFnv1aPrime = 0x100000001b3ULL;

// Continues hash `h` over the bytes of `s`.
constexpr uint64_t fnv1a(std::string_view s, uint64_t h = kFnv1aOffset) {
  for (char c : s) {
    h ^= static_cast<uint8_t>(c);
    h *= kFnv1aPrime;
  }
  return h;
}

}  // namespace atrium::core
