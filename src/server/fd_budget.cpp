#include "server/fd_budget.h"

#include <sys/resource.h>

#include <algorithm>

namespace atrium::server {

std::size_t reserved_descriptors(int workers, std::size_t tcp_per_worker) {
  return 64 + (16 + tcp_per_worker) * static_cast<std::size_t>(std::max(workers, 1));
}

std::size_t connection_cap(std::size_t wanted, std::uint64_t soft_limit, int workers,
                           std::size_t tcp_per_worker) {
  const std::size_t reserve = reserved_descriptors(workers, tcp_per_worker);
  const std::size_t room = soft_limit > reserve ? static_cast<std::size_t>(soft_limit) - reserve : 0;
  return std::max<std::size_t>(16, std::min(wanted, room));
}

FdBudget raise_fd_limit(std::size_t wanted_connections, int workers, std::size_t tcp_per_worker) {
  FdBudget b;
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0) {
    b.soft_before = limit.rlim_cur;
    b.hard = limit.rlim_max;
    if (limit.rlim_cur < limit.rlim_max) {
      rlimit raised = limit;
      raised.rlim_cur = limit.rlim_max;
      if (setrlimit(RLIMIT_NOFILE, &raised) == 0) limit = raised;
    }
    b.soft = limit.rlim_cur;
  } else {
    b.soft = b.soft_before = b.hard = 1024;
  }
  b.reserved = reserved_descriptors(workers, tcp_per_worker);
  b.max_connections = connection_cap(wanted_connections, b.soft, workers, tcp_per_worker);
  b.capped = b.max_connections < wanted_connections;
  return b;
}

}  // namespace atrium::server
