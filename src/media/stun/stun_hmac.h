// Internal helpers of the STUN code: HMAC-SHA1 over a (header, body) pair without copying the message.
#pragma once

#include <cstdint>
#include <span>

namespace atrium::media {

// HMAC-SHA1(key, head || body) into out[20]. False if OpenSSL fails (never expected).
bool stun_hmac_sha1(std::span<const uint8_t> key, std::span<const uint8_t> head,
                    std::span<const uint8_t> body, uint8_t* out);

}  // namespace atrium::media
