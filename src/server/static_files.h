// The example pages under web/ served by the API server, so `atrium run` alone gives a person something to
// click: GET / redirects to /web/room/ (the room demo; /web/whip/ is the WHIP/WHEP example), GET /web/<path>
// reads <web_root>/<path> (index.html for folders), except /web/sdk/<path>: the compiled SDK, from the build
// tree.
#pragma once

#include <string>

#include "server/http/http_router.h"

namespace atrium::server {

void add_static_routes(HttpRouter& router, std::string web_root);

}  // namespace atrium::server
