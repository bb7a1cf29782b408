// One HTTP/1.1 connection: the TLS handshake when TLS is on (within its deadline), then read a request
// (within limits and deadlines), dispatch it, wait for its asynchronous answer, write it, and go round again
// while the client keeps the connection alive. Lives on the HTTP thread; owned by HttpServer's session table,
// so a Responder only holds a weak reference and a late answer for a closed connection is simply dropped.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include "server/address_quota.h"
#include "server/http/http_limits.h"
#include "server/http/http_message.h"
#include "server/http/http_stream.h"

namespace atrium::server {

class HttpServer;

class HttpSession : public std::enable_shared_from_this<HttpSession> {
 public:
  HttpSession(HttpServer& server, HttpStream stream, AddressQuota::Slot slot);

  void start();
  void close();  // ends the connection now, without a response

 private:
  using Parser = boost::beast::http::request_parser<boost::beast::http::string_body>;

  void on_handshake(boost::system::error_code ec);
  void read_header();
  void on_header(boost::system::error_code ec);
  void read_body();
  void on_body(boost::system::error_code ec);
  void dispatch();
  // Called (on the HTTP thread) with the answer to request number `request_id`; stale answers are ignored.
  void on_answer(std::uint64_t request_id, HttpResponse response);
  // Answers a request we could not read (413, 431, 400), then closes without leaving the client's unread
  // bytes to turn our close into a reset that would hide the answer.
  void reject(unsigned status, const char* text);
  void write(HttpResponse response, bool keep_alive);
  void linger();  // half-close, then read and drop what the client still sends, briefly
  void drain(std::size_t drained);

  boost::beast::tcp_stream& tcp() { return stream_.next_layer(); }  // timeouts and the socket, TLS or not

  HttpServer& server_;
  const HttpLimits& limits_;
  HttpStream stream_;
  boost::beast::flat_buffer buffer_;
  std::optional<Parser> parser_;
  boost::beast::http::response<boost::beast::http::string_body> response_;
  boost::asio::steady_timer handler_timer_;
  boost::asio::ip::tcp::endpoint remote_;
  std::uint64_t request_id_ = 0;
  bool awaiting_answer_ = false;
  bool keep_alive_ = false;
  unsigned version_ = 11;
  bool closed_ = false;
  std::vector<char> drain_buffer_;
  AddressQuota::Slot slot_;  // moves into the WebSocket on upgrade
};

}  // namespace atrium::server
