#include "server/static_files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <system_error>

#include <openssl/evp.h>

#include "server/hex.h"

namespace atrium::server {

namespace fs = std::filesystem;

namespace {

std::string content_type_for(std::string_view path) {
  const auto dot = path.rfind('.');
  const std::string_view ext = dot == std::string_view::npos ? std::string_view() : path.substr(dot);
  if (ext == ".html") return "text/html; charset=utf-8";
  if (ext == ".js" || ext == ".mjs") return "text/javascript; charset=utf-8";
  if (ext == ".css") return "text/css; charset=utf-8";
  if (ext == ".json" || ext == ".map") return "application/json";
  if (ext == ".svg") return "image/svg+xml";
  if (ext == ".png") return "image/png";
  if (ext == ".ico") return "image/x-icon";
  if (ext == ".txt" || ext == ".ts") return "text/plain; charset=utf-8";
  if (ext == ".wasm") return "application/wasm";
  return "application/octet-stream";
}

std::string strong_etag(std::string_view body) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  EVP_Digest(body.data(), body.size(), digest, &size, EVP_sha256(), nullptr);
  return "\"" + lower_hex(std::span<const unsigned char>(digest, std::min(size, 12u))) + "\"";
}

// Reads a regular file without following a symlink and without blocking on a FIFO or device that replaced
// it since the directory walk; "" on success, else why it was left out.
std::string read_regular_file(const fs::path& path, std::size_t max_bytes, std::string& out) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return "cannot be opened";
  struct stat st {};
  std::string why;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    why = "not a regular file";
  } else if (static_cast<std::size_t>(st.st_size) > max_bytes) {
    why = "over " + std::to_string(max_bytes) + " bytes";
  } else {
    out.resize(static_cast<std::size_t>(st.st_size));
    std::size_t got = 0;
    while (got < out.size()) {
      const auto n = ::read(fd, out.data() + got, out.size() - got);
      if (n <= 0) break;
      got += static_cast<std::size_t>(n);
    }
    out.resize(got);
  }
  ::close(fd);
  return why;
}

}  // namespace

std::shared_ptr<const StaticFiles> StaticFiles::load(const std::vector<Root>& roots, Limits limits) {
  auto table = std::make_shared<StaticFiles>();
  for (const auto& root : roots) {
    std::error_code ec;
    // Directory symlinks are not followed (the iterator's default), so the walk stays inside the root.
    fs::recursive_directory_iterator it(root.dir, fs::directory_options::skip_permission_denied, ec);
    if (ec) {
      table->skipped_.push_back(root.dir + ": " + ec.message());
      continue;
    }
    for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
      if (ec) break;
      const auto relative = it->path().lexically_relative(root.dir).generic_string();
      if (!root.exclude.empty() && relative.starts_with(root.exclude)) {
        if (it->is_directory(ec)) it.disable_recursion_pending();
        continue;
      }
      const auto status = it->symlink_status(ec);
      if (ec || fs::is_directory(status)) continue;
      const std::string key = root.prefix + relative;
      if (fs::is_symlink(status)) {
        table->skipped_.push_back(key + ": a symlink");
        continue;
      }
      if (!fs::is_regular_file(status)) {
        table->skipped_.push_back(key + ": not a regular file");
        continue;
      }
      if (table->assets_.count(key)) continue;
      if (table->assets_.size() >= limits.max_files) {
        table->skipped_.push_back(key + ": over " + std::to_string(limits.max_files) + " files");
        continue;
      }
      Asset asset;
      if (auto why = read_regular_file(it->path(), limits.max_file_bytes, asset.body); !why.empty()) {
        table->skipped_.push_back(key + ": " + why);
        continue;
      }
      if (table->bytes_ + asset.body.size() > limits.max_total_bytes) {
        table->skipped_.push_back(key + ": over " + std::to_string(limits.max_total_bytes) + " bytes in all");
        continue;
      }
      asset.content_type = content_type_for(key);
      asset.etag = strong_etag(asset.body);
      table->bytes_ += asset.body.size();
      table->assets_.emplace(key, std::move(asset));
    }
  }
  return table;
}

const StaticFiles::Asset* StaticFiles::find(std::string_view path) const {
  if (auto it = assets_.find(path); it != assets_.end()) return &it->second;
  std::string index(path);
  if (!index.empty() && index.back() != '/') index += '/';
  index += "index.html";
  if (auto it = assets_.find(index); it != assets_.end()) return &it->second;
  return nullptr;
}

void add_static_routes(HttpRouter& router, std::shared_ptr<const StaticFiles> files) {
  router.get("/", [](const HttpRequest&, Responder respond) {
    respond(HttpResponse::empty(302).with_header("Location", "/web/room/"));
  });
  router.get("/web/*", [files = std::move(files)](const HttpRequest& req, Responder respond) {
    const StaticFiles::Asset* asset = files->find(req.param("*"));
    if (!asset) return respond(HttpResponse::text(404, "not found\n"));
    // no-cache: a browser revalidates each time (cheap with the ETag), so a restarted server's pages are
    // seen.
    if (req.header("If-None-Match") == asset->etag)
      return respond(
          HttpResponse::empty(304).with_header("ETag", asset->etag).with_header("Cache-Control", "no-cache"));
    HttpResponse r{200, asset->content_type, asset->body, {}};
    respond(std::move(r.with_header("ETag", asset->etag).with_header("Cache-Control", "no-cache")));
  });
}

}  // namespace atrium::server
