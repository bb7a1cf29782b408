#include "server/http/http_session.h"

#include <string>

#include <spdlog/spdlog.h>
#include <boost/asio/buffer.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/stream_base.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/websocket/rfc6455.hpp>

#include "server/http/http_server.h"
#include "server/http/websocket_connection.h"

namespace atrium::server {
namespace http = boost::beast::http;
namespace asio = boost::asio;
using boost::system::error_code;

namespace {

// After rejecting a request we still read (and drop) this much for this long, so the client sees our answer.
constexpr std::size_t kLingerBytes = 1024 * 1024;
constexpr std::chrono::milliseconds kLingerTime{2000};

// Connection-level failures end the connection silently; only malformed requests deserve an answer.
bool is_disconnect(const error_code& ec) {
  return ec == http::error::end_of_stream || ec == asio::error::eof || ec == asio::error::connection_reset ||
         ec == asio::error::operation_aborted || ec == boost::beast::error::timeout ||
         ec == asio::error::broken_pipe || ec == http::error::partial_message;
}

// Method, target split into path and query, and who asked; headers and body are the caller's to move.
template <typename Message>
HttpRequest request_line(const Message& message, const asio::ip::tcp::endpoint& remote) {
  HttpRequest request;
  request.method = message.method();
  request.target = std::string(message.target());
  const auto question = request.target.find('?');
  request.path = request.target.substr(0, question);
  if (question != std::string::npos) request.query = request.target.substr(question + 1);
  request.remote = remote;
  return request;
}

}  // namespace

HttpSession::HttpSession(HttpServer& server, HttpStream stream, AddressQuota::Slot slot)
    : server_(server),
      limits_(server.limits_),
      stream_(std::move(stream)),
      handler_timer_(stream_.get_executor()),
      slot_(std::move(slot)) {
  error_code ec;
  remote_ = tcp().socket().remote_endpoint(ec);
  tcp().socket().set_option(asio::ip::tcp::no_delay(true), ec);  // small answers should leave at once
}

void HttpSession::start() {
  auto* tls = stream_.tls();
  if (tls == nullptr) return read_header();
  // A client that connects and says nothing, or trickles its hello, holds a descriptor and a slot: it gets as
  // long as a request's headers would.
  tcp().expires_after(limits_.tls_handshake_timeout);
  tls->async_handshake(asio::ssl::stream_base::server,
                       [self = shared_from_this()](error_code ec) { self->on_handshake(ec); });
}

void HttpSession::on_handshake(error_code ec) {
  if (closed_) return;
  if (ec) {
    server_.on_tls_handshake_failed(ec, remote_);
    return close();
  }
  read_header();
}

void HttpSession::read_header() {
  parser_.emplace();
  parser_->body_limit(limits_.max_body_bytes);
  parser_->header_limit(static_cast<std::uint32_t>(limits_.max_header_bytes));
  tcp().expires_after(limits_.header_timeout);
  http::async_read_header(stream_, buffer_, *parser_,
                          [self = shared_from_this()](error_code ec, std::size_t) { self->on_header(ec); });
}

void HttpSession::on_header(error_code ec) {
  if (closed_) return;
  if (ec == http::error::body_limit) return reject(413, "request body too large\n");
  if (ec == http::error::header_limit) return reject(431, "request header too large\n");
  if (ec && is_disconnect(ec)) return close();
  if (ec) return reject(400, "bad request\n");

  // curl and others wait for "100 Continue" before sending a larger body.
  if (boost::beast::iequals(parser_->get()[http::field::expect], "100-continue")) {
    static constexpr char kContinue[] = "HTTP/1.1 100 Continue\r\n\r\n";
    tcp().expires_after(limits_.write_timeout);
    asio::async_write(stream_, asio::buffer(kContinue, sizeof kContinue - 1),
                      [self = shared_from_this()](error_code write_ec, std::size_t) {
                        if (self->closed_) return;
                        if (write_ec) return self->close();
                        self->read_body();
                      });
    return;
  }
  read_body();
}

void HttpSession::read_body() {
  tcp().expires_after(limits_.body_timeout);
  http::async_read(stream_, buffer_, *parser_,
                   [self = shared_from_this()](error_code ec, std::size_t) { self->on_body(ec); });
}

void HttpSession::on_body(error_code ec) {
  if (closed_) return;
  if (ec == http::error::body_limit) return reject(413, "request body too large\n");
  if (ec && is_disconnect(ec)) return close();
  if (ec) return reject(400, "bad request\n");
  dispatch();
}

void HttpSession::dispatch() {
  tcp().expires_never();  // while the handler works, no read or write is pending
  auto message = parser_->release();
  parser_.reset();

  const std::string_view target_path =
      std::string_view(message.target()).substr(0, message.target().find('?'));
  if (const auto* ws_handler = server_.router_.websocket_handler(target_path)) {
    if (!boost::beast::websocket::is_upgrade(message)) {
      keep_alive_ = false;
      version_ = message.version();
      return write(
          HttpResponse::text(426, "this is a WebSocket endpoint\n").with_header("Upgrade", "websocket"),
          false);
    }
    HttpRequest request = request_line(message, remote_);
    // The connection leaves HTTP for good: the socket moves into the WebSocket, this session ends quietly.
    auto ws = std::make_shared<WebSocketConnection>(std::move(stream_), std::move(request), std::move(slot_));
    closed_ = true;
    handler_timer_.cancel();
    (*ws_handler)(ws);
    ws->start(std::move(message));
    server_.forget(this);
    return;
  }

  // Read before the headers move out: keep_alive() looks at the Connection header (and the version).
  keep_alive_ = message.keep_alive();
  version_ = message.version();

  HttpRequest request = request_line(message, remote_);
  request.body = std::move(message.body());
  request.headers = std::move(static_cast<http::fields&>(message.base()));
  request.remote = remote_;

  awaiting_answer_ = true;
  const auto id = ++request_id_;

  handler_timer_.expires_after(limits_.handler_timeout);
  handler_timer_.async_wait([self = shared_from_this(), id](error_code ec) {
    if (ec) return;  // cancelled: the answer came in time
    spdlog::warn("http: handler for request {} from {} timed out", id, self->remote_.address().to_string());
    self->on_answer(id, HttpResponse::text(504, "the server did not answer in time\n"));
  });

  Responder respond([weak = weak_from_this(), id](HttpResponse response) {
    // Any thread: hop onto the HTTP thread. A closed connection (session gone) drops the answer.
    if (auto self = weak.lock()) {
      asio::post(self->stream_.get_executor(), [self, id, response = std::move(response)]() mutable {
        self->on_answer(id, std::move(response));
      });
    }
  });
  server_.router_.dispatch(request, respond);
}

void HttpSession::on_answer(std::uint64_t request_id, HttpResponse response) {
  if (closed_ || !awaiting_answer_ || request_id != request_id_) return;
  awaiting_answer_ = false;
  handler_timer_.cancel();
  write(std::move(response), keep_alive_);
}

void HttpSession::write(HttpResponse answer, bool keep_alive) {
  response_ = {};
  response_.version(version_);
  response_.result(answer.status);
  response_.set(http::field::server, std::string("atrium/") + ATRIUM_VERSION);
  if (!answer.content_type.empty()) response_.set(http::field::content_type, answer.content_type);
  // WHIP/WHEP players run in browsers on other origins and must read Location (the session URL), Link (ICE
  // servers) and ETag (ICE restarts).
  response_.set(http::field::access_control_allow_origin, "*");
  response_.set(http::field::access_control_expose_headers, "Location, Link, ETag");
  for (auto& [name, value] : answer.headers)
    response_.insert(name, value);
  response_.body() = std::move(answer.body);
  response_.keep_alive(keep_alive);
  const bool has_no_body = answer.status < 200 || answer.status == 204 || answer.status == 304;
  if (has_no_body) {
    response_.body().clear();  // and no Content-Length either (RFC 9110, 8.6)
  } else {
    response_.prepare_payload();
  }

  tcp().expires_after(limits_.write_timeout);
  http::async_write(stream_, response_, [self = shared_from_this(), keep_alive](error_code ec, std::size_t) {
    if (self->closed_) return;
    if (ec) return self->close();
    if (keep_alive) return self->read_header();
    error_code ignored;
    self->tcp().socket().shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
    self->close();
  });
}

void HttpSession::reject(unsigned status, const char* text) {
  spdlog::debug("http: rejecting request from {} with {}", remote_.address().to_string(), status);
  parser_.reset();
  keep_alive_ = false;
  response_ = {};
  response_.version(11);
  response_.result(status);
  response_.set(http::field::server, std::string("atrium/") + ATRIUM_VERSION);
  response_.set(http::field::content_type, "text/plain; charset=utf-8");
  response_.set(http::field::access_control_allow_origin, "*");
  response_.set(http::field::access_control_expose_headers, "Location, Link, ETag");
  response_.body() = text;
  response_.keep_alive(false);
  response_.prepare_payload();
  tcp().expires_after(limits_.write_timeout);
  http::async_write(stream_, response_, [self = shared_from_this()](error_code ec, std::size_t) {
    if (self->closed_) return;
    if (ec) return self->close();
    self->linger();
  });
}

void HttpSession::linger() {
  error_code ignored;
  tcp().socket().shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
  drain_buffer_.resize(16 * 1024);
  tcp().expires_after(kLingerTime);
  drain(0);
}

void HttpSession::drain(std::size_t drained) {
  stream_.async_read_some(asio::buffer(drain_buffer_),
                          [self = shared_from_this(), drained](error_code ec, std::size_t n) {
                            if (self->closed_) return;
                            if (ec || drained + n >= kLingerBytes) return self->close();
                            self->drain(drained + n);
                          });
}

void HttpSession::close() {
  if (closed_) return;
  closed_ = true;
  auto self = shared_from_this();  // forget() may drop the table's reference
  handler_timer_.cancel();
  error_code ignored;
  tcp().socket().close(ignored);
  slot_ = {};
  server_.forget(this);
}

}  // namespace atrium::server
