#include "server/webrtc/random_id.h"

#include <openssl/rand.h>

#include <cstdlib>
#include <vector>

#include <spdlog/spdlog.h>

#include "server/hex.h"

namespace atrium::server {

namespace {

// Session ids, resume secrets and ETags are the only key to a session when the server runs without
// --auth-secret: a guessable one would let anybody end or take over someone else's session. When OpenSSL's
// CSPRNG cannot deliver there is no safe value to hand out (DTLS and SRTP keys come from it too), so the
// process stops instead of carrying on with predictable secrets.
void random_bytes(unsigned char* out, size_t size) {
  if (RAND_bytes(out, static_cast<int>(size)) != 1) {
    spdlog::critical("the random number generator (OpenSSL RAND_bytes) failed; stopping");
    std::abort();
  }
}

}  // namespace

std::string random_hex(size_t bytes) {
  std::vector<unsigned char> b(bytes);
  random_bytes(b.data(), bytes);
  return lower_hex(b);
}

std::string new_session_id(size_t worker_index) {
  return std::to_string(worker_index) + "-" + random_hex(kSessionIdBytes);
}

uint32_t random_u32() {
  uint32_t v = 0;
  while (v == 0)
    random_bytes(reinterpret_cast<unsigned char*>(&v), sizeof v);
  return v;
}

}  // namespace atrium::server
