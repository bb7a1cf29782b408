#include "server/http/http_server.h"

#include <exception>

#include <pthread.h>
#include <spdlog/spdlog.h>
#include <boost/asio/post.hpp>
#include <boost/beast/core/error.hpp>

#include "server/http/http_session.h"
#include "server/tls/server_certificate.h"

namespace atrium::server {
namespace asio = boost::asio;
using boost::system::error_code;

namespace {

// An IPv4 client on a dual-stack socket counts as its IPv4 address.
std::string client_key(const asio::ip::address& address) {
  if (address.is_v6() && address.to_v6().is_v4_mapped())
    return asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6()).to_string();
  return address.to_string();
}

}  // namespace

HttpServer::HttpServer(const HttpRouter& router, HttpLimits limits)
    : router_(router),
      limits_(limits),
      connections_(std::make_shared<AddressQuota>(static_cast<int64_t>(limits.max_connections),
                                                  static_cast<int64_t>(limits.max_connections_per_address))) {
}

HttpServer::~HttpServer() {
  stop();
}

error_code HttpServer::listen(const asio::ip::tcp::endpoint& endpoint) {
  error_code ec;
  acceptor_.open(endpoint.protocol(), ec);
  if (ec) return ec;
  // Lets a restarted server bind while old connections sit in TIME_WAIT; on Linux it does not let two servers
  // listen on one port, so a busy port is still reported.
  acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(endpoint, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (!ec) local_endpoint_ = acceptor_.local_endpoint(ec);
  if (ec) {
    error_code ignored;
    acceptor_.close(ignored);
  }
  return ec;
}

asio::ip::tcp::endpoint HttpServer::local_endpoint() const {
  return local_endpoint_;
}

void HttpServer::start() {
  if (thread_.joinable() || stopped_ || !acceptor_.is_open()) return;
  do_accept();
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "atrium-http");
    for (;;) {
      try {
        io_context_.run();
        break;
      } catch (const std::exception& e) {
        spdlog::error("http: unhandled exception: {}", e.what());
      }
    }
  });
}

void HttpServer::do_accept() {
  acceptor_.async_accept([this](error_code ec, asio::ip::tcp::socket socket) {
    if (!acceptor_.is_open()) return;
    if (ec) return on_accept_failed(ec);
    error_code remote_ec;
    const auto remote = socket.remote_endpoint(remote_ec);
    auto why = AddressQuota::Reserved::kYes;
    auto slot = remote_ec ? AddressQuota::Slot() : connections_->take(client_key(remote.address()), why);
    if (!slot) {
      error_code ignored;
      socket.close(ignored);
      if (!remote_ec) on_refused(why, remote);
    } else {
      // Only the TLS object is made here; its handshake runs in the session, so a client that sends nothing,
      // or garbage, never holds up the next accept.
      boost::beast::tcp_stream tcp(std::move(socket));
      HttpStream stream =
          certificate_ ? HttpStream(std::move(tcp), certificate_->context()) : HttpStream(std::move(tcp));
      auto session = std::make_shared<HttpSession>(*this, std::move(stream), std::move(slot));
      sessions_.emplace(session.get(), session);
      session->start();
    }
    do_accept();
  });
}

void HttpServer::on_accept_failed(const error_code& ec) {
  ++accept_failures_;
  ++accept_failures_unlogged_;
  const auto now = std::chrono::steady_clock::now();
  if (now - last_accept_log_ >= std::chrono::seconds(1)) {
    spdlog::warn(
        "http: accept failed {} time(s) in the last second: {} ({} failures since start, {} "
        "connections open); pausing {} ms between tries",
        accept_failures_unlogged_, ec.message(), accept_failures_, connections_->total(),
        limits_.accept_pause.count());
    accept_failures_unlogged_ = 0;
    last_accept_log_ = now;
  }
  // Out of file descriptors (or kernel memory) the connection stays in the backlog and the listener stays
  // readable: trying again at once would spin. A pause lets descriptors free up, and the backlog waits.
  accept_pause_.expires_after(limits_.accept_pause);
  accept_pause_.async_wait([this](error_code wait_ec) {
    if (!wait_ec && acceptor_.is_open()) do_accept();
  });
}

void HttpServer::on_refused(AddressQuota::Reserved why, const asio::ip::tcp::endpoint& from) {
  ++refusals_unlogged_;
  const auto now = std::chrono::steady_clock::now();
  if (now - last_refusal_log_ < std::chrono::seconds(1)) return;
  if (why == AddressQuota::Reserved::kAddressFull)
    spdlog::warn(
        "http: refused {} connection(s) in the last second; {} has {} open, the limit per address "
        "(--max-connections-per-address)",
        refusals_unlogged_, from.address().to_string(), connections_->max_per_address());
  else
    spdlog::warn(
        "http: refused {} connection(s) in the last second; {} are open, the limit "
        "(--max-connections)",
        refusals_unlogged_, connections_->max_total());
  refusals_unlogged_ = 0;
  last_refusal_log_ = now;
}

void HttpServer::use_tls(std::shared_ptr<const ServerCertificate> certificate) {
  if (!thread_.joinable()) certificate_ = std::move(certificate);
}

void HttpServer::on_tls_handshake_failed(const error_code& ec, const asio::ip::tcp::endpoint& from) {
  if (ec == asio::error::operation_aborted) return;  // stopping
  tls_handshake_failures_.fetch_add(1, std::memory_order_relaxed);
  ++tls_failures_unlogged_;
  const auto now = std::chrono::steady_clock::now();
  if (now - last_tls_failure_log_ < std::chrono::seconds(1)) return;
  // The usual cause is a client speaking plain HTTP to the HTTPS port ("http request").
  spdlog::info("http: {} TLS handshake(s) failed in the last second, the latest from {}: {} ({} since start)",
               tls_failures_unlogged_, from.address().to_string(),
               ec == boost::beast::error::timeout ? "no handshake within the time allowed" : ec.message(),
               tls_handshake_failures());
  tls_failures_unlogged_ = 0;
  last_tls_failure_log_ = now;
}

void HttpServer::forget(HttpSession* session) {
  sessions_.erase(session);
}

void HttpServer::stop() {
  if (stopped_) return;
  stopped_ = true;
  auto close_everything = [this] {
    error_code ignored;
    acceptor_.close(ignored);
    accept_pause_.cancel();
    auto sessions = std::move(sessions_);
    sessions_.clear();
    for (auto& [raw, session] : sessions)
      session->close();
  };
  if (thread_.joinable()) {
    asio::post(io_context_, [this, close_everything] {
      close_everything();
      io_context_.stop();  // pending completions are dropped with the io_context
    });
    thread_.join();
  } else {
    close_everything();
  }
}

}  // namespace atrium::server
