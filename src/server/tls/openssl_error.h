// The reason OpenSSL queued for its last failure, as words for a log line or an error sentence.
#pragma once

#include <string>

#include <openssl/err.h>

namespace atrium::server {

// The newest queued error's reason ("no start line", "key values mismatch"), or `fallback` when the queue is
// empty. Clears the queue, so the next failure is not blamed on this one.
inline std::string take_openssl_reason(const char* fallback = "unknown OpenSSL error") {
  const unsigned long code = ERR_peek_last_error();
  const char* reason = code != 0 ? ERR_reason_error_string(code) : nullptr;
  ERR_clear_error();
  return reason != nullptr ? reason : fallback;
}

}  // namespace atrium::server
