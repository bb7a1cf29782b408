#include "server/http/http_message.h"

namespace atrium::server {

std::string_view HttpRequest::header(std::string_view name) const {
  const auto it = headers.find(name);
  if (it == headers.end()) return {};
  const auto value = it->value();  // Boost 1.81's string_view type, not std's
  return std::string_view(value.data(), value.size());
}

std::string_view HttpRequest::param(std::string_view name) const {
  const auto it = params.find(name);
  return it == params.end() ? std::string_view{} : std::string_view(it->second);
}

HttpResponse HttpResponse::text(unsigned status, std::string body) {
  return HttpResponse{status, "text/plain; charset=utf-8", std::move(body), {}};
}

HttpResponse HttpResponse::json(unsigned status, std::string body) {
  return HttpResponse{status, "application/json", std::move(body), {}};
}

}  // namespace atrium::server
