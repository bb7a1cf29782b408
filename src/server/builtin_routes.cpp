#include "server/builtin_routes.h"

namespace atrium::server {

void add_builtin_routes(HttpRouter& router, const MetricsRegistry& metrics) {
  // Liveness only: the HTTP thread answered. Readiness checks (cluster connected, ...) can be added later.
  router.get("/healthz",
             [](const HttpRequest&, Responder respond) { respond(HttpResponse::text(200, "ok\n")); });
  router.get("/metrics", [&metrics](const HttpRequest&, Responder respond) {
    respond(HttpResponse{200, MetricsRegistry::kContentType, metrics.render(), {}});
  });
}

}  // namespace atrium::server
