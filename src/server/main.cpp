// atrium: parse the configuration, start the server, wait for SIGINT/SIGTERM, shut down cleanly.
// Exit codes: 0 after a clean shutdown (or --help/--version), 2 for a configuration the server cannot run
// with (bad flag, bad config file, busy port), 1 for anything unexpected.
#include <chrono>
#include <cstdio>
#include <string_view>

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <exception>
#include <memory>
#include <mutex>
#include <vector>

#include <spdlog/spdlog.h>

#include "server/auth/access_token.h"
#include "server/fd_budget.h"
#include "server/host_port.h"
#include "server/logging.h"
#include "server/rtmp/rtmp_service.h"
#include "server/server.h"
#include "server/server_config.h"
#include "server/sip/sip_service.h"
#include "server/static_files.h"
#include "server/webrtc/webrtc_service.h"
#include "server/worker_core.h"

// `atrium token --secret S --room R [--peer P] [--ttl SECONDS] [--publish] [--subscribe] [--admin]` prints an
// access token; without a permission flag the token may publish and subscribe. With --rtmp it prints the RTMP
// URL that publishes with it instead (the token as the stream key: docs/rtmp.md).
int token_command(int argc, char** argv) {
  using namespace atrium::server;
  CLI::App app{"Print an access token for the room SDK, WHIP and WHEP (JWT, HS256)", "atrium token"};
  std::string secret, room, peer;
  int64_t ttl = 3600;
  bool publish = false, subscribe = false, admin = false, rtmp = false;
  std::string rtmp_host = "127.0.0.1:1935";
  app.add_option("--secret", secret, "the server's --auth-secret")->required();
  app.add_option("--room", room, "the room the token opens ('*': any room)")->required();
  app.add_option("--peer", peer, "the only peer id the token may use (default: any)");
  app.add_option("--ttl", ttl, "seconds until it expires (negative: already expired, for tests)")
      ->capture_default_str();
  app.add_flag("--publish", publish, "may publish");
  app.add_flag("--subscribe", subscribe, "may subscribe");
  app.add_flag("--admin", admin, "may do anything");
  app.add_flag("--rtmp", rtmp, "print rtmp://HOST:PORT/live/ROOM/TOKEN, the URL to publish to (OBS, ffmpeg)");
  app.add_option("--rtmp-host", rtmp_host, "the server's --rtmp address, for --rtmp")->capture_default_str();
  try {
    app.parse(argc - 1, argv + 1);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  if (!publish && !subscribe && !admin) publish = subscribe = true;
  AccessClaims claims{
      room,
      peer,
      publish,
      subscribe,
      admin,
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
              .count() +
          ttl};
  const std::string token = make_access_token(secret, claims);
  if (rtmp) {
    if (room == "*") {
      std::fprintf(stderr, "atrium token: --rtmp needs one room, not '*'\n");
      return 2;
    }
    std::printf("rtmp://%s/live/%s/%s\n", rtmp_host.c_str(), room.c_str(), token.c_str());
    return 0;
  }
  std::printf("%s\n", token.c_str());
  return 0;
}

int main(int argc, char** argv) {
  using namespace atrium::server;
  if (argc > 1 && std::string_view(argv[1]) == "token") return token_command(argc, argv);
  auto parsed = parse_command_line(argc, argv);
  if (!parsed.config) {
    std::FILE* out = parsed.exit_code == 0 ? stdout : stderr;
    std::fputs(parsed.output.c_str(), out);
    if (!parsed.output.empty() && parsed.output.back() != '\n') std::fputc('\n', out);
    return parsed.exit_code;
  }

  try {
    init_logging(parsed.config->log_level);
    const std::size_t tcp_fds =
        parsed.config->tcp_port == "off" ? 0 : static_cast<std::size_t>(parsed.config->tcp_max_connections);
    const auto fds = raise_fd_limit(static_cast<std::size_t>(parsed.config->max_connections),
                                    parsed.config->workers, tcp_fds);
    HttpLimits http_limits;
    http_limits.max_connections = fds.max_connections;
    http_limits.max_connections_per_address =
        static_cast<std::size_t>(parsed.config->max_connections_per_address);
    Server server(*parsed.config, http_limits);
    if (auto error = server.listen(); !error.empty()) {
      std::fprintf(stderr, "atrium: %s\n", error.c_str());
      return 2;
    }
    // Logged once listening, so a server that cannot start says only why.
    if (fds.capped)
      spdlog::warn(
          "atrium: file-descriptor limit {} (hard {}): at most {} HTTP connections instead of "
          "--max-connections {} ({} descriptors kept for the rest); raise it with `ulimit -n`",
          fds.soft, fds.hard, fds.max_connections, parsed.config->max_connections, fds.reserved);
    else
      spdlog::info("atrium: file-descriptor limit {} (was {}); at most {} HTTP connections, {} per address",
                   fds.soft, fds.soft_before, fds.max_connections, http_limits.max_connections_per_address);
    // Each worker gets its media core; /metrics sums their snapshots.
    struct Cores {
      std::mutex mutex;
      std::vector<WorkerCore*> all;
    };
    auto cores = std::make_shared<Cores>();
    server.set_core_stats([cores] {
      std::lock_guard lock(cores->mutex);
      CoreStats total;
      for (auto* c : cores->all) {
        auto s = c->stats();
        total.rooms += s.rooms;
        total.peers += s.peers;
        total.tracks += s.tracks;
      }
      return total;
    });
    // The cluster, summed over workers (each worker is a bus instance of this node).
    auto cluster_sum = [cores](auto field) {
      return [cores, field] {
        std::lock_guard lock(cores->mutex);
        double total = 0;
        for (auto* c : cores->all)
          total += static_cast<double>(field(c->cluster_stats()));
        return total;
      };
    };
    if (!server.config().cluster.empty()) {
      auto& m = server.metrics();
      m.gauge_callback("atrium_cluster_connections_up", "worker NATS connections that are connected",
                       cluster_sum([](const ClusterStats& s) { return s.connected ? 1 : 0; }));
      m.callback("atrium_cluster_relayed_in_total", "media frames received from other nodes",
                 MetricType::kCounter, cluster_sum([](const ClusterStats& s) { return s.relayed_in; }));
      m.callback("atrium_cluster_relayed_out_total", "media frames published for other nodes",
                 MetricType::kCounter, cluster_sum([](const ClusterStats& s) { return s.relayed_out; }));
      m.callback("atrium_cluster_relay_errors_total", "media frames that could not be relayed",
                 MetricType::kCounter, cluster_sum([](const ClusterStats& s) { return s.relay_errors; }));
      m.gauge_callback("atrium_cluster_directory_entries", "peers and tracks in the rooms this node hosts",
                       cluster_sum([](const ClusterStats& s) { return s.directory_entries; }));
      m.callback("atrium_cluster_reconnects_total", "NATS reconnections", MetricType::kCounter,
                 cluster_sum([](const ClusterStats& s) { return s.reconnects; }));
      m.callback("atrium_cluster_dead_nodes_total", "nodes declared dead whose entries this node removed",
                 MetricType::kCounter, cluster_sum([](const ClusterStats& s) { return s.dead_nodes; }));
    }
    WebRtcService webrtc(server.config(), server.metrics());
    webrtc.add_routes(server.router(), server.workers());
    webrtc.add_sdk_routes(server.router(), server.workers());
    RtmpService rtmp(server.config(), server.metrics(), server.workers());
    SipService sip(server.config(), server.metrics(), server.workers());
    {
      // The pages are read once, here: no request touches the filesystem (docs/security.md).
      const std::string web_root =
          server.config().web_root.empty() ? std::string(ATRIUM_WEB_ROOT) : server.config().web_root;
      const std::string sdk_root = std::string(ATRIUM_WEB_BUILD_ROOT) + "/sdk";
      auto pages = StaticFiles::load({{sdk_root, "sdk/", ""}, {web_root, "", "sdk/"}});
      spdlog::info("atrium: serving {} page files ({} KiB) from {} and {}", pages->files(),
                   pages->bytes() / 1024, web_root, sdk_root);
      for (const auto& why : pages->skipped())
        spdlog::warn("atrium: page file left out: {}", why);
      add_static_routes(server.router(), std::move(pages));
    }
    auto udp_errors = std::make_shared<std::vector<std::string>>();
    atrium::cluster::nats::NatsBusOptions nats;
    if (!server.config().cluster.empty()) {
      nats.servers = server.config().cluster;
      nats.node_id = server.config().node_id;
      if (nats.node_id.empty()) {
        char host[256] = {};
        gethostname(host, sizeof host - 1);
        nats.node_id = host[0] ? host : "atrium";
      }
    }
    const bool clustered = !server.config().cluster.empty();
    server.start([cores, &webrtc, &rtmp, &sip, udp_errors, clustered, nats](Worker& w) {
      WorkerCore* made = nullptr;
      if (clustered) {
        auto options = nats;
        options.node_id += "-w" + std::to_string(w.index());
        try {
          made = &w.emplace<WorkerCore>(w, options);
        } catch (const std::exception& e) {
          std::lock_guard lock(cores->mutex);
          udp_errors->push_back(e.what());
          return;
        }
      } else {
        made = &w.emplace<WorkerCore>(w);
      }
      auto& core = *made;
      auto error = webrtc.start_worker(w, core);
      if (error.empty()) error = rtmp.start_worker(w, core);  // after WebRTC's: its runtime drains the hub
      if (error.empty()) error = sip.start_worker(w, core);
      std::lock_guard lock(cores->mutex);
      cores->all.push_back(&core);
      if (!error.empty()) udp_errors->push_back(error);
    });
    if (!udp_errors->empty()) {
      std::fprintf(stderr, "atrium: %s\n", udp_errors->front().c_str());
      server.stop();
      return 2;
    }
    std::string ports;
    for (auto p : webrtc.ports())
      ports += (ports.empty() ? "" : ",") + std::to_string(p);
    std::string tcp_ports;
    for (auto p : webrtc.tcp_ports())
      tcp_ports += (tcp_ports.empty() ? "" : ",") + std::to_string(p);
    std::string ips;
    for (const auto& ip : webrtc.candidate_ips())
      ips += (ips.empty() ? "" : ",") + ip;
    spdlog::info("atrium {} listening on {} ({} workers); media on UDP {}:{}{} advertised as {}",
                 ATRIUM_VERSION, server.http_url(), server.workers().size(), server.config().bind, ports,
                 server.config().tcp_port == "off" ? std::string(", ICE-TCP off") : ", ICE-TCP " + tcp_ports,
                 ips);
    if (const auto* certificate = server.certificate())
      spdlog::info("atrium: HTTPS and WSS with {}, SHA-256 fingerprint {}", certificate->origin(),
                   certificate->fingerprint());
    if (rtmp.enabled()) spdlog::info("atrium: RTMP ingest on rtmp://{}/live/ROOM/PEER", rtmp.listening());
    if (sip.enabled())
      spdlog::info("atrium: SIP on udp {}: call sip:ROOM@{}", sip.listening(), sip.listening());
    if (clustered) spdlog::info("atrium: cluster node '{}' on NATS {}", nats.node_id, nats.servers);
    if (server.config().auth_secret.empty())
      spdlog::warn("atrium: no --auth-secret: anyone who reaches the API can publish and watch");
    server.run_until_signal();
    spdlog::info("atrium: shutting down");
    server.stop();
    spdlog::info("atrium: stopped");
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "atrium: fatal: %s\n", e.what());
    return 1;
  }
}
