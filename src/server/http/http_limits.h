// Bounds on what one HTTP client may cost us. The defaults suit signalling (SDP offers are a few KiB).
#pragma once

#include <chrono>
#include <cstddef>

namespace atrium::server {

struct HttpLimits {
  std::size_t max_body_bytes = 64 * 1024;    // larger bodies get 413
  std::size_t max_header_bytes = 16 * 1024;  // larger headers get 431
  std::size_t max_connections = 4096;        // beyond this, new connections are closed at once
  // Waiting for a request's headers, including an idle keep-alive connection waiting for its next request.
  std::chrono::milliseconds header_timeout{15'000};
  std::chrono::milliseconds body_timeout{30'000};
  // A handler that has not answered by then gets 504 sent for it.
  std::chrono::milliseconds handler_timeout{30'000};
  std::chrono::milliseconds write_timeout{30'000};
};

}  // namespace atrium::server
