// What the node hosts, for /metrics. The media core fills it in once it is wired to the server.
#pragma once

#include <cstddef>

namespace atrium::server {

struct CoreStats {
  std::size_t rooms = 0;
  std::size_t peers = 0;
  std::size_t tracks = 0;
};

}  // namespace atrium::server
