// The byte stream under one API connection, and under the WebSocket it may become: plain TCP, or TLS over TCP
// when the server has a certificate (--tls-cert, --tls-self-signed). One type for both, so HttpSession and
// WebSocketConnection are written once; each operation goes to whichever stream this connection is.
//
// Timeouts and the socket are the TCP stream's, reached as for any Beast stream: beast::get_lowest_layer().
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <utility>

#include <boost/asio/async_result.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/core/role.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <boost/beast/websocket/teardown.hpp>
#include <boost/system/error_code.hpp>

namespace atrium::server {

class HttpStream {
 public:
  using TlsStream = boost::beast::ssl_stream<boost::beast::tcp_stream>;
  using next_layer_type = boost::beast::tcp_stream;
  using executor_type = next_layer_type::executor_type;

  explicit HttpStream(boost::beast::tcp_stream plain) : plain_(std::move(plain)) {}
  // TLS made with `context`, which the stream keeps alive: a reloaded certificate does not touch it. The
  // handshake is the caller's (tls()->async_handshake).
  HttpStream(boost::beast::tcp_stream tcp, std::shared_ptr<boost::asio::ssl::context> context)
      : context_(std::move(context)), tls_(std::in_place, std::move(tcp), *context_) {}

  executor_type get_executor() noexcept { return next_layer().get_executor(); }
  next_layer_type& next_layer() noexcept { return tls_ ? tls_->next_layer() : *plain_; }
  const next_layer_type& next_layer() const noexcept { return tls_ ? tls_->next_layer() : *plain_; }
  TlsStream* tls() noexcept { return tls_ ? &*tls_ : nullptr; }

  template <typename MutableBuffers, typename ReadToken>
  auto async_read_some(const MutableBuffers& buffers, ReadToken&& token) {
    return on_either(buffers, std::forward<ReadToken>(token), [](auto& stream, const auto& b, auto handler) {
      stream.async_read_some(b, std::move(handler));
    });
  }

  template <typename ConstBuffers, typename WriteToken>
  auto async_write_some(const ConstBuffers& buffers, WriteToken&& token) {
    return on_either(buffers, std::forward<WriteToken>(token), [](auto& stream, const auto& b, auto handler) {
      stream.async_write_some(b, std::move(handler));
    });
  }

 private:
  // Starts `operation(stream, buffers, handler)` on the TLS stream or the plain one, whichever this is.
  template <typename Buffers, typename Token, typename Operation>
  auto on_either(const Buffers& buffers, Token&& token, Operation operation) {
    return boost::asio::async_initiate<Token, void(boost::system::error_code, std::size_t)>(
        [this, operation](auto handler, const Buffers& b) {
          if (tls_)
            operation(*tls_, b, std::move(handler));
          else
            operation(*plain_, b, std::move(handler));
        },
        token, buffers);
  }

  std::shared_ptr<boost::asio::ssl::context> context_;  // before tls_: destroyed after the SSL made from it
  std::optional<boost::beast::tcp_stream> plain_;
  std::optional<TlsStream> tls_;
};

// How a WebSocket over an HttpStream ends its connection (Beast finds these by argument-dependent lookup):
// TLS sends its close_notify first.
inline void teardown(boost::beast::role_type role, HttpStream& stream, boost::system::error_code& ec) {
  using boost::beast::websocket::teardown;
  if (auto* tls = stream.tls())
    teardown(role, *tls, ec);
  else
    teardown(role, stream.next_layer(), ec);
}

template <typename TeardownHandler>
void async_teardown(boost::beast::role_type role, HttpStream& stream, TeardownHandler&& handler) {
  using boost::beast::websocket::async_teardown;
  if (auto* tls = stream.tls())
    async_teardown(role, *tls, std::forward<TeardownHandler>(handler));
  else
    async_teardown(role, stream.next_layer(), std::forward<TeardownHandler>(handler));
}

}  // namespace atrium::server
