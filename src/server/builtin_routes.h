// Routes every atrium server has: GET /healthz and GET /metrics.
#pragma once

#include "server/http/http_router.h"
#include "server/metrics/metrics_registry.h"

namespace atrium::server {

// The registry must outlive the router's use.
void add_builtin_routes(HttpRouter& router, const MetricsRegistry& metrics);

}  // namespace atrium::server
