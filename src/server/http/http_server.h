// The HTTP/1.1 API server (Boost.Beast): one thread with its own io_context, keep-alive connections, requests
// handed to an HttpRouter and answered through a Responder from any thread. Every response carries the CORS
// headers WHIP/WHEP clients in browsers need.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <thread>
#include <unordered_map>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/system/error_code.hpp>

#include "server/address_quota.h"
#include "server/http/http_limits.h"
#include "server/http/http_router.h"

namespace atrium::server {

class HttpSession;
class ServerCertificate;

class HttpServer {
 public:
  // The router must outlive the server and stay unchanged while it runs.
  explicit HttpServer(const HttpRouter& router, HttpLimits limits = {});
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;
  ~HttpServer();

  // Binds and listens now, so the caller can report a busy port before starting anything else.
  boost::system::error_code listen(const boost::asio::ip::tcp::endpoint& endpoint);
  // The bound address (the real port when listening on port 0).
  boost::asio::ip::tcp::endpoint local_endpoint() const;

  // Before start(): every connection accepted from then on speaks TLS, with the certificate's context at the
  // time it is accepted.
  void use_tls(std::shared_ptr<const ServerCertificate> certificate);
  bool tls() const { return certificate_ != nullptr; }
  // Connections closed because their TLS handshake failed or timed out (any thread).
  std::uint64_t tls_handshake_failures() const {
    return tls_handshake_failures_.load(std::memory_order_relaxed);
  }

  void start();  // accepts on a thread of its own
  void stop();   // closes the listener and every connection, joins the thread; idempotent

 private:
  friend class HttpSession;
  void do_accept();
  void on_accept_failed(const boost::system::error_code& ec);  // pauses, logs at most once a second
  void on_refused(AddressQuota::Reserved why, const boost::asio::ip::tcp::endpoint& from);
  void forget(HttpSession* session);  // a session calls this when it closes (HTTP thread only)
  void on_tls_handshake_failed(const boost::system::error_code& ec,
                               const boost::asio::ip::tcp::endpoint& from);

  const HttpRouter& router_;
  HttpLimits limits_;
  boost::asio::io_context io_context_{1};  // declared before its users: destroyed after them
  boost::asio::ip::tcp::acceptor acceptor_{io_context_};
  boost::asio::ip::tcp::endpoint local_endpoint_;
  std::unordered_map<HttpSession*, std::shared_ptr<HttpSession>> sessions_;  // HTTP thread only
  // Open connections, HTTP and WebSocket alike, in total and per client address: a connection holds its
  // Slot for its whole life, and the Slot moves from the HTTP session into the WebSocket on upgrade.
  std::shared_ptr<AddressQuota> connections_;
  boost::asio::steady_timer accept_pause_{io_context_};
  // Throttled logging of accept failures and refusals: counts since the last line.
  std::chrono::steady_clock::time_point last_accept_log_{};
  std::uint64_t accept_failures_ = 0, accept_failures_unlogged_ = 0;
  std::chrono::steady_clock::time_point last_refusal_log_{};
  std::uint64_t refusals_unlogged_ = 0;
  std::shared_ptr<const ServerCertificate> certificate_;  // null: plain HTTP
  std::atomic<std::uint64_t> tls_handshake_failures_{0};
  std::chrono::steady_clock::time_point last_tls_failure_log_{};
  std::uint64_t tls_failures_unlogged_ = 0;
  std::thread thread_;
  bool stopped_ = false;
};

}  // namespace atrium::server
