#include "server/webrtc/random_id.h"

#include <openssl/rand.h>

#include <vector>

namespace atrium::server {

std::string random_hex(size_t bytes) {
  std::vector<unsigned char> b(bytes);
  RAND_bytes(b.data(), static_cast<int>(bytes));
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s;
  for (unsigned char c : b) {
    s += kHex[c >> 4];
    s += kHex[c & 15];
  }
  return s;
}

uint32_t random_u32() {
  uint32_t v = 0;
  while (v == 0)
    RAND_bytes(reinterpret_cast<unsigned char*>(&v), sizeof v);
  return v;
}

}  // namespace atrium::server
