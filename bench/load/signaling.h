// How the load tool gets an answer for its publisher and its subscribers: WHIP/WHEP against Atrium, the
// VideoRoom plugin's HTTP API against Janus. Synchronous HTTP/1.1 (Boost.Beast), one connection per request,
// on the calling (main) thread; errors are std::runtime_error with a sentence naming the request.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace atrium::load {

struct HttpUrl {
  std::string host = "127.0.0.1";
  uint16_t port = 8080;
  std::string base;                              // path prefix, e.g. "/janus"
  static HttpUrl parse(const std::string& url);  // http://host:port[/base]
};

struct HttpReply {
  unsigned status = 0;
  std::string body;
  std::string location;
};

HttpReply http_request(const HttpUrl& url, const std::string& method, const std::string& target,
                       const std::string& content_type, const std::string& body);

class Signaling {
 public:
  virtual ~Signaling() = default;
  // The publisher's offer -> the answer.
  virtual std::string publish(const std::string& offer) = 0;
  // Atrium: we offer; Janus: the server offers and we answer. `make_answer` turns the server's offer into
  // ours, `offer` is used when the server takes offers.
  virtual bool subscriber_offers() const = 0;
  virtual std::string subscribe_with_offer(int index, const std::string& offer) = 0;
  virtual std::string subscriber_server_offer(int index) = 0;
  virtual void subscriber_answer(int index, const std::string& answer) = 0;
  virtual void close() = 0;  // ends every session (best effort)
};

std::unique_ptr<Signaling> make_atrium_signaling(HttpUrl url, std::string room);
std::unique_ptr<Signaling> make_janus_signaling(HttpUrl url, uint64_t room);

}  // namespace atrium::load
