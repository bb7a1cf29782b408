#include "server/server.h"

#include <csignal>
#include <sstream>

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
  if (tls_enabled(config_)) signals_.add(SIGHUP);  // without TLS, SIGHUP keeps its default (the process ends)

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
  metrics_.callback(
      "atrium_tls_handshake_failures_total",
      "API connections closed in their TLS handshake: not TLS (plain HTTP to the HTTPS port), bad "
      "TLS, timed out or closed by the client",
      MetricType::kCounter,
      [this] { return http_ ? static_cast<double>(http_->tls_handshake_failures()) : 0.0; });
  add_builtin_routes(router_, metrics_);
}

Server::~Server() {
  stop();
}

std::string Server::load_certificate() {
  std::string error;
  if (!config_.tls_cert.empty()) {
    certificate_ = ServerCertificate::from_files(config_.tls_cert, config_.tls_key, error);
  } else if (config_.tls_self_signed) {
    // The names a browser on this machine or another one may be pointed at.
    std::vector<std::string> names = {"localhost", "127.0.0.1", "::1"};
    std::stringstream public_ips(config_.public_ip);
    for (std::string ip; std::getline(public_ips, ip, ',');)
      names.push_back(ip);
    const auto http = parse_host_port(config_.http);
    if (http && !http->address().is_unspecified() && !http->address().is_loopback())
      names.push_back(http->address().to_string());
    certificate_ = ServerCertificate::self_signed(names, error);
  }
  if (certificate_) http_->use_tls(certificate_);
  return error;
}

std::string Server::listen() {
  const auto endpoint = parse_host_port(config_.http);
  if (!endpoint) return "invalid --http address '" + config_.http + "'";
  if (auto error = load_certificate(); !error.empty()) return error;
  if (const auto ec = http_->listen(*endpoint))
    return "cannot listen on " + config_.http + ": " + ec.message();
  return {};
}

void Server::start(std::function<void(Worker&)> on_worker_start) {
  workers_->start(std::move(on_worker_start));
  http_->start();
}

void Server::run_until_signal() {
  wait_for_signal();
  signal_context_.run();
}

void Server::wait_for_signal() {
  signals_.async_wait([this](const boost::system::error_code& ec, int signal) {
    if (ec) return;  // request_stop()
    if (signal == SIGHUP) {
      reload_certificate();
      return wait_for_signal();
    }
    spdlog::info("atrium: received {}", signal == SIGINT ? "SIGINT" : "SIGTERM");
  });
}

void Server::reload_certificate() {
  if (!certificate_) return;
  const auto kept = certificate_->fingerprint();
  if (auto error = certificate_->reload(); !error.empty()) {
    spdlog::warn("atrium: SIGHUP: TLS certificate not reloaded: {}; still serving SHA-256 fingerprint {}",
                 error, kept);
    return;
  }
  spdlog::info(
      "atrium: SIGHUP: reloaded the TLS certificate from {}, SHA-256 fingerprint {}; new connections get it, "
      "open ones keep theirs",
      certificate_->origin(), certificate_->fingerprint());
}

std::string Server::http_url() const {
  return (certificate_ ? "https://" : "http://") + format_host_port(http_endpoint());
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
