// File descriptors: the soft RLIMIT_NOFILE is raised to the hard limit at start (the default soft 1024 is far
// below what a media server needs, and the hard limit is the administrator's word), and the HTTP connection
// cap is held below it with room for what else the process opens: worker UDP sockets, epoll and timer
// descriptors, NATS connections, log files, and each worker's ICE-TCP connections (--tcp-max-connections).
// Without that, connections would take the last descriptors and accept() (and the workers) would fail instead
// of the cap refusing politely.
#pragma once

#include <cstddef>
#include <cstdint>

namespace atrium::server {

struct FdBudget {
  std::uint64_t soft_before = 0;  // the soft limit the process was started with
  std::uint64_t soft = 0;         // after raising
  std::uint64_t hard = 0;
  std::size_t reserved = 0;         // kept back for everything but HTTP connections
  std::size_t max_connections = 0;  // what the HTTP server may hold open
  bool capped = false;              // the wanted cap did not fit and was lowered
};

// Descriptors kept back for `workers` media workers, each holding up to `tcp_per_worker` ICE-TCP connections.
std::size_t reserved_descriptors(int workers, std::size_t tcp_per_worker = 0);
// The connection cap for a soft limit: `wanted`, or less to keep the reserve. At least 16.
std::size_t connection_cap(std::size_t wanted, std::uint64_t soft_limit, int workers,
                           std::size_t tcp_per_worker = 0);
// Raises the soft limit to the hard one (when it can) and works out the cap.
FdBudget raise_fd_limit(std::size_t wanted_connections, int workers, std::size_t tcp_per_worker = 0);

}  // namespace atrium::server
