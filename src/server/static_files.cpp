#include "server/static_files.h"

#include <filesystem>
#include <fstream>
#include <sstream>

namespace atrium::server {

namespace {

std::string content_type_for(const std::filesystem::path& p) {
  const auto ext = p.extension().string();
  if (ext == ".html") return "text/html; charset=utf-8";
  if (ext == ".js" || ext == ".mjs") return "text/javascript; charset=utf-8";
  if (ext == ".css") return "text/css; charset=utf-8";
  if (ext == ".json" || ext == ".map") return "application/json";
  if (ext == ".svg") return "image/svg+xml";
  if (ext == ".png") return "image/png";
  return "application/octet-stream";
}

}  // namespace

void add_static_routes(HttpRouter& router, std::string web_root) {
  router.get("/", [](const HttpRequest&, Responder respond) {
    respond(HttpResponse::empty(302).with_header("Location", "/web/whip/"));
  });
  router.get("/web/*", [root = std::move(web_root)](const HttpRequest& req, Responder respond) {
    const std::string rest(req.param("*"));
    // The router already split the path on '/'; refuse anything that could climb out of the root.
    if (rest.find("..") != std::string::npos || rest.find('\\') != std::string::npos)
      return respond(HttpResponse::text(404, "not found\n"));
    std::filesystem::path p = std::filesystem::path(root) / rest;
    std::error_code ec;
    if (std::filesystem::is_directory(p, ec)) p /= "index.html";
    std::ifstream in(p, std::ios::binary);
    if (!in) return respond(HttpResponse::text(404, "not found\n"));
    std::ostringstream body;
    body << in.rdbuf();
    respond(HttpResponse{200, content_type_for(p), body.str(), {{"Cache-Control", "no-cache"}}});
  });
}

}  // namespace atrium::server
