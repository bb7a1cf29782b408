// What HTTP handlers see and answer: a parsed request and a plain response, independent of Beast's templates.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/http/fields.hpp>
#include <boost/beast/http/verb.hpp>

namespace atrium::server {

struct HttpRequest {
  boost::beast::http::verb method = boost::beast::http::verb::get;
  std::string target;  // as sent: path and query
  std::string path;    // target up to '?'
  std::string query;   // after '?', without it
  boost::beast::http::fields headers;
  std::string body;
  std::map<std::string, std::string, std::less<>>
      params;  // from the route's {name} segments, percent-decoded
  boost::asio::ip::tcp::endpoint remote;

  // Empty when absent.
  std::string_view header(std::string_view name) const;
  std::string_view param(std::string_view name) const;
};

struct HttpResponse {
  unsigned status = 200;
  std::string content_type;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // extra ones: Location, Link, ETag, ...

  static HttpResponse text(unsigned status, std::string body);
  static HttpResponse json(unsigned status, std::string body);
  static HttpResponse empty(unsigned status) { return HttpResponse{status, {}, {}, {}}; }
  HttpResponse& with_header(std::string name, std::string value) {
    headers.emplace_back(std::move(name), std::move(value));
    return *this;
  }
};

}  // namespace atrium::server
