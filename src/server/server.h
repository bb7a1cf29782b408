// The atrium runtime: media workers, the HTTP API, metrics and signal handling, put together from a
// ServerConfig.
//
//   Server server(config);
//   server.router().post("/whip/{room}", ...);        // routes and per-worker hooks before start()
//   if (auto error = server.listen(); !error.empty()) ...
//   server.start([](Worker& w) { w.emplace<core::EndpointHub>(...); });
//   server.run_until_signal();                         // SIGINT/SIGTERM or request_stop(); SIGHUP reloads
//   TLS server.stop();
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include "server/core_stats.h"
#include "server/http/http_router.h"
#include "server/http/http_server.h"
#include "server/metrics/metrics_registry.h"
#include "server/server_config.h"
#include "server/tls/server_certificate.h"
#include "server/worker_pool.h"

namespace atrium::server {

class Server {
 public:
  // `config` must be validated (parse_command_line does it) with workers resolved (> 0).
  explicit Server(ServerConfig config, HttpLimits http_limits = {});
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;
  ~Server();

  // Loads or makes the TLS certificate when TLS is on, then binds the HTTP port. Returns "" or a sentence for
  // the user, e.g. "cannot listen on 127.0.0.1:8080: Address already in use".
  std::string listen();
  // Starts the workers (running `on_worker_start` on each worker's thread first), then the HTTP server.
  void start(std::function<void(Worker&)> on_worker_start = {});
  // Blocks until SIGINT/SIGTERM or request_stop(). Installed at construction, so an early signal is not lost.
  // With TLS on, SIGHUP re-reads the certificate files meanwhile (reload_certificate).
  void run_until_signal();
  // New connections get the certificate now in the --tls-cert/--tls-key files; open ones keep theirs. Logs
  // what happened; a failure keeps the old certificate.
  void reload_certificate();
  void request_stop();  // any thread
  // Stops accepting, stops the HTTP thread, then the workers, and joins everything. Idempotent.
  void stop();

  const ServerConfig& config() const { return config_; }
  HttpRouter& router() { return router_; }
  MetricsRegistry& metrics() { return metrics_; }
  WorkerPool& workers() { return *workers_; }
  // Where the HTTP API listens (the real port when configured with port 0).
  boost::asio::ip::tcp::endpoint http_endpoint() const { return http_->local_endpoint(); }
  // "http://127.0.0.1:8080", or https:// with TLS on.
  std::string http_url() const;
  // The certificate the API presents; null without TLS.
  const ServerCertificate* certificate() const { return certificate_.get(); }

  // Feeds atrium_rooms / atrium_peers / atrium_tracks. Called at scrape time on the HTTP thread, so it must
  // read thread-safe state. Until set, the gauges read 0.
  void set_core_stats(std::function<CoreStats()> source);

 private:
  CoreStats core_stats() const;
  std::string load_certificate();  // "" or why not
  void wait_for_signal();

  ServerConfig config_;
  const std::chrono::steady_clock::time_point started_at_ = std::chrono::steady_clock::now();
  MetricsRegistry metrics_;
  HttpRouter router_;
  mutable std::mutex core_stats_mutex_;
  std::function<CoreStats()> core_stats_;
  // Destruction order matters: workers go before the HTTP server, because a worker may still hold a
  // Responder.
  std::shared_ptr<ServerCertificate> certificate_;
  std::unique_ptr<HttpServer> http_;
  std::unique_ptr<WorkerPool> workers_;
  boost::asio::io_context signal_context_{1};
  boost::asio::signal_set signals_{signal_context_};
};

}  // namespace atrium::server
