#include "server/http/http_router.h"

#include <algorithm>
#include <exception>
#include <stdexcept>

#include <spdlog/spdlog.h>

namespace atrium::server {
namespace http = boost::beast::http;
namespace {

// "/a/b/" -> {"a", "b", ""}: a trailing slash is significant, so "/whip/" does not match "/whip/{room}".
std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> parts;
  if (path.starts_with('/')) path.remove_prefix(1);
  for (;;) {
    const auto slash = path.find('/');
    parts.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return parts;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string join_methods(const std::vector<http::verb>& methods) {
  std::string out;
  for (auto method : methods) {
    if (!out.empty()) out += ", ";
    out += std::string(http::to_string(method));
  }
  return out;
}

}  // namespace

std::string percent_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size() && hex_value(text[i + 1]) >= 0 && hex_value(text[i + 2]) >= 0) {
      out += static_cast<char>(hex_value(text[i + 1]) * 16 + hex_value(text[i + 2]));
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

void HttpRouter::add(http::verb method, std::string_view pattern, HttpHandler handler) {
  if (!pattern.starts_with('/'))
    throw std::invalid_argument("route pattern must start with '/': " + std::string(pattern));
  Route route{method, std::string(pattern), {}, std::move(handler)};
  const auto parts = split_path(pattern);
  for (std::size_t i = 0; i < parts.size(); ++i) {
    const auto part = parts[i];
    if (part == "*") {
      if (i + 1 != parts.size()) throw std::invalid_argument("'*' must end the pattern: " + route.pattern);
      route.segments.push_back({Segment::Kind::kRest, "*"});
    } else if (part.size() > 2 && part.front() == '{' && part.back() == '}') {
      route.segments.push_back({Segment::Kind::kParam, std::string(part.substr(1, part.size() - 2))});
    } else {
      route.segments.push_back({Segment::Kind::kLiteral, std::string(part)});
    }
  }
  for (const auto& existing : routes_) {
    if (existing.method == method && existing.pattern == route.pattern) {
      throw std::invalid_argument("route registered twice: " + route.pattern);
    }
  }
  routes_.push_back(std::move(route));
}

bool HttpRouter::matches(const Route& route, const std::vector<std::string_view>& parts,
                         std::vector<int>& rank, std::map<std::string, std::string, std::less<>>* params) {
  rank.clear();
  std::size_t i = 0;
  for (const auto& segment : route.segments) {
    if (segment.kind == Segment::Kind::kRest) {
      if (params) {
        std::string rest;
        for (std::size_t j = i; j < parts.size(); ++j) {
          if (j > i) rest += '/';
          rest += parts[j];
        }
        (*params)["*"] = percent_decode(rest);
      }
      rank.push_back(0);
      return true;
    }
    if (i >= parts.size()) return false;
    if (segment.kind == Segment::Kind::kLiteral) {
      if (parts[i] != segment.text) return false;
      rank.push_back(2);
    } else {
      if (parts[i].empty()) return false;
      if (params) (*params)[segment.text] = percent_decode(parts[i]);
      rank.push_back(1);
    }
    ++i;
  }
  return i == parts.size();
}

HttpRouter::Match HttpRouter::match(http::verb method, std::string_view path) const {
  Match result;
  const auto parts = split_path(path);
  const Route* best = nullptr;
  std::vector<int> best_rank;
  std::vector<int> rank;
  for (const auto& route : routes_) {
    if (!matches(route, parts, rank, nullptr)) continue;
    if (std::find(result.allowed.begin(), result.allowed.end(), route.method) == result.allowed.end()) {
      result.allowed.push_back(route.method);
    }
    if (route.method != method) continue;
    if (!best || rank > best_rank) {  // lexicographic: the first differing segment decides
      best = &route;
      best_rank = rank;
    }
  }
  if (best) {
    result.kind = Match::Kind::kFound;
    result.handler = &best->handler;
    matches(*best, parts, rank, &result.params);
  } else if (!result.allowed.empty()) {
    result.kind = Match::Kind::kMethodNotAllowed;
  }
  return result;
}

void HttpRouter::dispatch(HttpRequest& request, const Responder& respond) const {
  auto found = match(request.method, request.path);
  switch (found.kind) {
    case Match::Kind::kNotFound:
      respond(HttpResponse::text(404, "not found\n"));
      return;
    case Match::Kind::kMethodNotAllowed: {
      auto allowed = found.allowed;
      allowed.push_back(http::verb::options);
      if (request.method == http::verb::options) {
        // CORS preflight: the browser asks before a cross-origin POST/PATCH/DELETE with custom headers.
        const auto asked = request.header("Access-Control-Request-Headers");
        respond(HttpResponse::empty(204)
                    .with_header("Allow", join_methods(allowed))
                    .with_header("Access-Control-Allow-Methods", join_methods(allowed))
                    .with_header("Access-Control-Allow-Headers",
                                 asked.empty() ? "Authorization, Content-Type, If-Match" : std::string(asked))
                    .with_header("Access-Control-Max-Age", "86400"));
      } else {
        respond(HttpResponse::text(405, "method not allowed\n").with_header("Allow", join_methods(allowed)));
      }
      return;
    }
    case Match::Kind::kFound:
      break;
  }
  request.params = std::move(found.params);
  try {
    (*found.handler)(request, respond);
  } catch (const std::exception& e) {
    spdlog::error("http: {} {} failed: {}", std::string(http::to_string(request.method)), request.path,
                  e.what());
    respond(HttpResponse::text(500, "internal error\n"));
  }
}

}  // namespace atrium::server
