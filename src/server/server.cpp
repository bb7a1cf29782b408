#include "server/server.h"

#include <csignal>

#include <spdlog/spdlog.h>

#include "server/builtin_routes.h"
#include "server/host_port.h"

namespace atrium::server {

Server::Server(ServerConfig config, HttpLimits http_limits)
    : config_(std::move(config)),
      http_(std::make_unique<HttpServer>(router_, http_limits)),
      workers_(std::make_unique<WorkerPool>(static_cast<std::size_t>(config_.workers))) {
  signals_.add(SIGINT);
  signals_.add(SIGTERM);

  metrics_.gauge_callback("atrium_uptime_seconds", "Seconds since the server started", [this] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - started_at_).count();
  });
  metrics_.gauge_callback("atrium_workers", "Media worker threads",
                          [n = workers_->size()] { return static_cast<double>(n); });
  metrics_.gauge_callback("atrium_rooms", "Rooms with at least one peer on this node",
                          [this] { return static_cast<double>(core_stats().rooms); });
  metrics_.gauge_callback("atrium_peers", "Peers connected to this node",
                          [this] { return static_cast<double>(core_stats().peers); });
  metrics_.gauge_callback("atrium_tracks", "Tracks published on this node",
                          [this] { return static_cast<double>(core_stats().tracks); });
  add_builtin_routes(router_, metrics_);
}

Server::~Server() {
  stop();
}

std::string Server::listen() {
  const auto endpoint = parse_host_port(config_.http);
  if (!endpoint) return "invalid --http address '" + config_.http + "'";
  if (const auto ec = http_->listen(*endpoint))
    return "cannot listen on " + config_.http + ": " + ec.message();
  return {};
}

void Server::start(std::function<void(Worker&)> on_worker_start) {
  workers_->start(std::move(on_worker_start));
  http_->start();
}

void Server::run_until_signal() {
  signals_.async_wait([](const boost::system::error_code& ec, int signal) {
    if (!ec) spdlog::info("atrium: received {}", signal == SIGINT ? "SIGINT" : "SIGTERM");
  });
  signal_context_.run();
}

void Server::request_stop() {
  // Cancelling the wait ends run_until_signal; signal_set is not thread-safe, so do it on its own context.
  boost::asio::post(signal_context_, [this] {
    boost::system::error_code ignored;
    signals_.cancel(ignored);
  });
}

void Server::stop() {
  if (!http_) return;
  http_->stop();
  workers_->stop();
  workers_.reset();  // drops queued work, and the Responders in it, while the HTTP server still exists
  http_.reset();
}

void Server::set_core_stats(std::function<CoreStats()> source) {
  std::lock_guard lock(core_stats_mutex_);
  core_stats_ = std::move(source);
}

CoreStats Server::core_stats() const {
  std::lock_guard lock(core_stats_mutex_);
  return core_stats_ ? core_stats_() : CoreStats{};
}

}  // namespace atrium::server
