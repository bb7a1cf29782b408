// Unguessable identifiers (session ids, ETags, resume secrets, default peer names) from OpenSSL's CSPRNG.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace atrium::server {

std::string random_hex(size_t bytes);  // 2 * bytes lower-case hex digits
uint32_t random_u32();                 // never 0 (SSRCs)

}  // namespace atrium::server
