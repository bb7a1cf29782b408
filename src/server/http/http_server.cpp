#include "server/http/http_server.h"

#include <exception>

#include <pthread.h>
#include <spdlog/spdlog.h>
#include <boost/asio/post.hpp>

#include "server/http/http_session.h"

namespace atrium::server {
namespace asio = boost::asio;
using boost::system::error_code;

HttpServer::HttpServer(const HttpRouter& router, HttpLimits limits) : router_(router), limits_(limits) {}

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
    if (ec) {
      // Out of file descriptors and the like: keep accepting; the failing connection is lost either way.
      spdlog::warn("http: accept failed: {}", ec.message());
    } else if (sessions_.size() >= limits_.max_connections) {
      error_code ignored;
      socket.close(ignored);
    } else {
      auto session = std::make_shared<HttpSession>(*this, std::move(socket));
      sessions_.emplace(session.get(), session);
      session->start();
    }
    do_accept();
  });
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
