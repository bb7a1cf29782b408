// The example pages under web/ served by the API server, so `atrium run` alone gives a person something to
// click: GET / redirects to /web/room/ (the room demo; /web/whip/ is the WHIP/WHEP example), GET /web/<path>
// answers <path> from a table read once at start (index.html for folders), where sdk/ comes from the build
// tree (the compiled SDK) and everything else from the web root.
//
// Why a table: a request never touches the filesystem, so no path it names (`//etc/passwd`, `%2e%2e/`, a NUL,
// /dev/zero, a FIFO, a symlink planted later) can reach a file that was not a page at start. What is loaded
// is bounded too: regular files only (never a symlink, FIFO or device), each and all together under a size
// cap.
#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "server/http/http_router.h"

namespace atrium::server {

class StaticFiles {
 public:
  struct Limits {
    std::size_t max_file_bytes = 8 * 1024 * 1024;    // a larger file is left out (and logged)
    std::size_t max_total_bytes = 64 * 1024 * 1024;  // files past this are left out
    std::size_t max_files = 4096;
  };
  // A folder whose regular files are served under `prefix` (e.g. "sdk/"). `exclude`: a path prefix inside
  // this folder to leave out, because another root serves it.
  struct Root {
    std::string dir;
    std::string prefix;
    std::string exclude;
  };
  struct Asset {
    std::string body;
    std::string content_type;
    std::string etag;  // strong, from the content's SHA-256
  };

  // Reads every regular file below the roots, in order; a path already taken keeps its first file.
  static std::shared_ptr<const StaticFiles> load(const std::vector<Root>& roots, Limits limits);
  static std::shared_ptr<const StaticFiles> load(const std::vector<Root>& roots) { return load(roots, {}); }

  // `path` relative to /web/, as the router decoded it. "" and folders ("room", "room/") mean their
  // index.html. nullptr for anything else.
  const Asset* find(std::string_view path) const;

  std::size_t files() const { return assets_.size(); }
  std::size_t bytes() const { return bytes_; }
  // What was left out at load and why ("room/x: a symlink"), for the start log.
  const std::vector<std::string>& skipped() const { return skipped_; }

 private:
  std::map<std::string, Asset, std::less<>> assets_;
  std::size_t bytes_ = 0;
  std::vector<std::string> skipped_;
};

// GET / (redirect to the room demo) and GET /web/* from `files`.
void add_static_routes(HttpRouter& router, std::shared_ptr<const StaticFiles> files);

}  // namespace atrium::server
