#include "server/http/websocket_connection.h"

#include <spdlog/spdlog.h>
#include <boost/asio/post.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/websocket/error.hpp>

namespace atrium::server {
namespace beast = boost::beast;
namespace websocket = boost::beast::websocket;
namespace asio = boost::asio;
using boost::system::error_code;

WebSocketConnection::WebSocketConnection(HttpStream stream, HttpRequest request, AddressQuota::Slot slot)
    : ws_(std::move(stream)),
      request_(std::move(request)),
      keep_timer_(ws_.get_executor()),
      slot_(std::move(slot)) {}

void WebSocketConnection::close_unless_kept(std::chrono::milliseconds timeout, uint16_t code,
                                            std::string reason) {
  asio::post(
      ws_.get_executor(), [self = shared_from_this(), timeout, code, reason = std::move(reason)]() mutable {
        if (self->finished_) return;
        self->keep_timer_.expires_after(timeout);
        self->keep_timer_.async_wait([weak = std::weak_ptr<WebSocketConnection>(self), code,
                                      reason = std::move(reason)](error_code ec) mutable {
          auto me = weak.lock();
          if (ec || !me || me->finished_) return;
          spdlog::debug("websocket: closing {}: {}", me->request_.remote.address().to_string(), reason);
          me->close(code, std::move(reason));
        });
      });
}

void WebSocketConnection::keep() {
  asio::post(ws_.get_executor(), [self = shared_from_this()] { self->keep_timer_.cancel(); });
}

void WebSocketConnection::start(beast::http::request<beast::http::string_body> upgrade) {
  beast::get_lowest_layer(ws_).expires_never();
  // The close handshake gets 5 s, not Beast's 30: a peer that ignores our close frame must not hold its
  // descriptor long. A connection silent for 60 s (pings at half of that go unanswered) is gone.
  auto timeouts = websocket::stream_base::timeout::suggested(beast::role_type::server);
  timeouts.handshake_timeout = std::chrono::seconds(5);
  timeouts.idle_timeout = std::chrono::seconds(60);
  timeouts.keep_alive_pings = true;
  ws_.set_option(timeouts);
  ws_.set_option(websocket::stream_base::decorator([](websocket::response_type& res) {
    res.set(beast::http::field::server, std::string("atrium/") + ATRIUM_VERSION);
  }));
  ws_.read_message_max(kMaxMessage);
  ws_.async_accept(upgrade, [self = shared_from_this()](error_code ec) {
    if (ec) return self->finish(1006);
    self->open_ = true;
    self->read();
    if (!self->queue_.empty()) self->write_next();
  });
}

void WebSocketConnection::read() {
  ws_.async_read(buffer_, [self = shared_from_this()](error_code ec, std::size_t) {
    if (ec == websocket::error::message_too_big) {
      self->close(1009, "message over 64 KiB");
      return;
    }
    if (ec) return self->finish(ec == websocket::error::closed ? self->ws_.reason().code : 1006);
    if (!self->ws_.got_text()) {
      self->buffer_.consume(self->buffer_.size());
      self->close(1003, "text messages only");
      return;
    }
    std::string text = beast::buffers_to_string(self->buffer_.data());
    self->buffer_.consume(self->buffer_.size());
    if (self->on_message_ && !self->closing_) self->on_message_(std::move(text));
    self->read();
  });
}

void WebSocketConnection::send(std::string text) {
  asio::post(ws_.get_executor(), [self = shared_from_this(), text = std::move(text)]() mutable {
    if (self->finished_ || self->closing_) return;
    if (self->queue_.size() >= kMaxQueued) {
      self->close(1008, "the client does not read its messages");
      return;
    }
    self->queue_.push_back(std::move(text));
    if (self->open_ && !self->writing_) self->write_next();
  });
}

void WebSocketConnection::close(uint16_t code, std::string reason) {
  asio::post(ws_.get_executor(), [self = shared_from_this(), code, reason = std::move(reason)]() mutable {
    if (self->finished_ || self->closing_) return;
    self->closing_ = true;
    self->close_code_ = code;
    self->close_reason_ = std::move(reason);
    if (self->open_ && !self->writing_) self->write_next();
  });
}

void WebSocketConnection::write_next() {
  if (finished_) return;
  if (queue_.empty()) {
    if (!closing_) return;
    writing_ = true;
    ws_.async_close(websocket::close_reason(static_cast<websocket::close_code>(close_code_), close_reason_),
                    [self = shared_from_this()](error_code) { self->finish(self->close_code_); });
    return;
  }
  writing_ = true;
  ws_.text(true);
  ws_.async_write(asio::buffer(queue_.front()), [self = shared_from_this()](error_code ec, std::size_t) {
    self->writing_ = false;
    if (ec) return self->finish(1006);
    self->queue_.pop_front();
    self->write_next();
  });
}

void WebSocketConnection::finish(uint16_t code) {
  if (finished_) return;
  finished_ = true;
  queue_.clear();
  keep_timer_.cancel();
  error_code ignored;
  beast::get_lowest_layer(ws_).socket().close(ignored);
  slot_ = {};  // the descriptor is closed: its place under the limits is free
  if (auto h = std::move(on_close_)) h(code);
  on_message_ = nullptr;
}

}  // namespace atrium::server
