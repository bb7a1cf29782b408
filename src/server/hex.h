// Lower-case hex of some bytes: random ids and ETags.
#pragma once

#include <cstddef>
#include <span>
#include <string>

namespace atrium::server {

inline std::string lower_hex(std::span<const unsigned char> bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s;
  s.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    s += kHex[c >> 4];
    s += kHex[c & 15];
  }
  return s;
}

}  // namespace atrium::server
