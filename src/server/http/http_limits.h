// Bounds on what one HTTP client may cost us. The defaults suit signalling (SDP offers are a few KiB).
#pragma once

#include <chrono>
#include <cstddef>

namespace atrium::server {

struct HttpLimits {
  std::size_t max_body_bytes = 64 * 1024;    // larger bodies get 413
  std::size_t max_header_bytes = 16 * 1024;  // larger headers get 431
  // Open TCP connections, plain HTTP and WebSockets alike; beyond either, a new connection is closed at once.
  // The server lowers max_connections below its file-descriptor limit at start (fd_budget.h).
  std::size_t max_connections = 4096;
  std::size_t max_connections_per_address = 256;
  // After accept() fails for want of file descriptors (EMFILE, ENFILE), accepting pauses this long instead
  // of retrying at once, which would spin on the connection still waiting in the backlog.
  std::chrono::milliseconds accept_pause{20};
  // Waiting for a request's headers, including an idle keep-alive connection waiting for its next request.
  std::chrono::milliseconds header_timeout{15'000};
  // With TLS on, from accept to a finished handshake; then the header timeout starts. A client that does not
  // finish in time, or sends what is not TLS, is closed and counted (atrium_tls_handshake_failures_total).
  std::chrono::milliseconds tls_handshake_timeout{10'000};
  std::chrono::milliseconds body_timeout{30'000};
  // A handler that has not answered by then gets 504 sent for it.
  std::chrono::milliseconds handler_timeout{30'000};
  std::chrono::milliseconds write_timeout{30'000};
};

}  // namespace atrium::server
