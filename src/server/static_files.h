// The example pages under web/ served by the API server, so `atrium run` alone gives a person something to
// click: GET / redirects to /web/whip/, GET /web/<path> reads <web_root>/<path> (index.html for folders).
#pragma once

#include <string>

#include "server/http/http_router.h"

namespace atrium::server {

void add_static_routes(HttpRouter& router, std::string web_root);

}  // namespace atrium::server
