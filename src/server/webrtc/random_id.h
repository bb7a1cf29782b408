// Unguessable identifiers (session ids, ETags, resume secrets, default peer names) from OpenSSL's CSPRNG. A
// failing CSPRNG aborts the process (random_id.cpp says why).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace atrium::server {

std::string random_hex(size_t bytes);  // 2 * bytes lower-case hex digits
uint32_t random_u32();                 // never 0 (SSRCs)

// Bytes of randomness in a session id (WHIP/WHEP resource, SDK session): without --auth-secret the id is the
// only key to the session, so it must be unguessable (128 bits).
inline constexpr size_t kSessionIdBytes = 16;
// "<worker index>-<kSessionIdBytes of hex>": the HTTP side finds the worker of /session/{id} by the prefix.
std::string new_session_id(size_t worker_index);

}  // namespace atrium::server
