// Maps method + path to an asynchronous handler. Patterns are split on '/':
//   "/healthz"            exact
//   "/whip/{room}"        a {name} segment matches one non-empty segment, captured into
//   request.params["room"]
//   "/static/*"           a final '*' matches the rest of the path (zero or more segments), captured as "*"
// When several patterns match, the most specific wins: segment by segment, literal beats {param} beats '*'.
// The router also answers what needs no handler: 404, 405 (with Allow) and CORS preflight (OPTIONS) for any
// path that has routes, unless an OPTIONS route was registered for it (WHIP's OPTIONS may add Link headers).
// Register routes before the server starts; matching is read-only and needs no lock.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "server/http/http_message.h"
#include "server/http/responder.h"

namespace atrium::server {

using HttpHandler = std::function<void(const HttpRequest&, Responder)>;
class WebSocketConnection;
// Runs on the HTTP thread with the upgraded connection, before its handshake completes: set its handlers
// here.
using WebSocketHandler = std::function<void(const std::shared_ptr<WebSocketConnection>&)>;

class HttpRouter {
 public:
  // Throws std::invalid_argument for a malformed pattern or a method+pattern registered twice.
  void add(boost::beast::http::verb method, std::string_view pattern, HttpHandler handler);
  void get(std::string_view pattern, HttpHandler handler) {
    add(boost::beast::http::verb::get, pattern, std::move(handler));
  }
  void post(std::string_view pattern, HttpHandler handler) {
    add(boost::beast::http::verb::post, pattern, std::move(handler));
  }

  // A WebSocket endpoint at an exact path: GET with "Upgrade: websocket" goes here, any other request to the
  // path gets 426.
  void websocket(std::string path, WebSocketHandler handler) {
    websockets_[std::move(path)] = std::move(handler);
  }
  const WebSocketHandler* websocket_handler(std::string_view path) const {
    auto it = websockets_.find(path);
    return it == websockets_.end() ? nullptr : &it->second;
  }

  struct Match {
    enum class Kind { kFound, kNotFound, kMethodNotAllowed } kind = Kind::kNotFound;
    const HttpHandler* handler = nullptr;
    std::map<std::string, std::string, std::less<>> params;
    std::vector<boost::beast::http::verb> allowed;  // methods some route accepts for this path
  };
  Match match(boost::beast::http::verb method, std::string_view path) const;

  // Fills request.params and runs the handler, or answers 404/405/preflight itself. A handler that throws
  // gets a 500 answer (unless it already answered).
  void dispatch(HttpRequest& request, const Responder& respond) const;

 private:
  struct Segment {
    enum class Kind { kLiteral, kParam, kRest } kind;
    std::string text;  // literal text or parameter name
  };
  struct Route {
    boost::beast::http::verb method;
    std::string pattern;
    std::vector<Segment> segments;
    HttpHandler handler;
  };
  // Per-segment ranks (2 literal, 1 param, 0 rest) when `route` matches `parts`, else empty.
  static bool matches(const Route& route, const std::vector<std::string_view>& parts, std::vector<int>& rank,
                      std::map<std::string, std::string, std::less<>>* params);

  std::vector<Route> routes_;
  std::map<std::string, WebSocketHandler, std::less<>> websockets_;
};

// "%2F" -> "/", "+" is left alone (paths, not forms). Malformed escapes are kept as they are.
std::string percent_decode(std::string_view text);

}  // namespace atrium::server
