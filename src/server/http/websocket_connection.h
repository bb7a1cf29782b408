// One accepted WebSocket (RFC 6455, Boost.Beast) on the HTTP thread: text messages in, text messages out from
// any thread. The room SDK's signalling runs over it. Bounded: a message over `max_message` bytes or a send
// queue over `max_queued` messages closes the connection (1009 / 1008) rather than buffering without end.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>

#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/websocket/stream.hpp>

#include "server/address_quota.h"
#include "server/http/http_message.h"
#include "server/http/http_stream.h"

namespace atrium::server {

class WebSocketConnection : public std::enable_shared_from_this<WebSocketConnection> {
 public:
  using MessageHandler = std::function<void(std::string text)>;
  using CloseHandler = std::function<void(uint16_t code)>;

  static constexpr size_t kMaxMessage = 64 * 1024;
  static constexpr size_t kMaxQueued = 1024;

  // `slot`: the connection's place under the server's connection limits, held until the socket closes.
  // `stream`: the upgraded connection, plain or TLS (wss).
  WebSocketConnection(HttpStream stream, HttpRequest request, AddressQuota::Slot slot = {});

  // Set before start(); both run on the HTTP thread. on_close runs once, whoever closed.
  void on_message(MessageHandler h) { on_message_ = std::move(h); }
  void on_close(CloseHandler h) { on_close_ = std::move(h); }
  // Completes the handshake with the upgrade request, then reads.
  void start(boost::beast::http::request<boost::beast::http::string_body> upgrade);

  void send(std::string text);                    // any thread
  void close(uint16_t code, std::string reason);  // any thread; sends queued messages first
  // Closes with `code` and `reason` after `timeout` unless keep() is called first (any thread): how a
  // socket that never joins is let go.
  void close_unless_kept(std::chrono::milliseconds timeout, uint16_t code, std::string reason);
  void keep();
  const HttpRequest& request() const { return request_; }

 private:
  void read();
  void write_next();
  void finish(uint16_t code);

  boost::beast::websocket::stream<HttpStream> ws_;
  HttpRequest request_;
  boost::beast::flat_buffer buffer_;
  std::deque<std::string> queue_;
  bool writing_ = false;
  bool open_ = false;
  bool closing_ = false;
  bool finished_ = false;
  uint16_t close_code_ = 1000;
  std::string close_reason_;
  MessageHandler on_message_;
  CloseHandler on_close_;
  boost::asio::steady_timer keep_timer_;
  AddressQuota::Slot slot_;
};

}  // namespace atrium::server
