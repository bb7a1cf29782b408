#include "server/server_config.h"

#include <algorithm>
#include <array>
#include <fstream>
#include <sstream>
#include <thread>
#include <tuple>
#include <type_traits>

#include <CLI/CLI.hpp>
#include <boost/asio/ip/address.hpp>
#include <nlohmann/json.hpp>

#include "server/host_port.h"

namespace atrium::server {
namespace {

constexpr int kMaxWorkers = 1024;
constexpr std::array kLogLevels = {"trace", "debug", "info", "warn", "error", "critical", "off"};

// Error output must stay one line, whatever a library put in its message.
std::string one_line(std::string text) {
  std::replace(text.begin(), text.end(), '\n', ' ');
  while (!text.empty() && text.back() == ' ')
    text.pop_back();
  return text;
}

ConfigParseResult fail(const std::string& message) {
  return ConfigParseResult{std::nullopt, 2, "atrium: " + one_line(message)};
}

template <typename T>
const char* json_type_name() {
  if constexpr (std::is_same_v<T, bool>) {
    return "true or false";
  } else if constexpr (std::is_integral_v<T>) {
    return "an integer";
  } else {
    return "a string";
  }
}

// Reads the config file into every setting whose flag was not given. Returns an error sentence or "".
std::string apply_config_file(const std::string& path, ServerConfig& config, const CLI::App& app) {
  std::ifstream file(path);
  if (!file) return "cannot read config file " + path;
  nlohmann::json root;
  try {
    root = nlohmann::json::parse(file);
  } catch (const nlohmann::json::exception& e) {
    return "config file " + path + " is not valid JSON: " + e.what();
  }
  if (!root.is_object()) return "config file " + path + " must hold a JSON object";

  std::string error;
  std::vector<std::string> known;
  visit_settings(config, [&](const std::string& name, auto& field, const char*) {
    known.push_back(name);
    const auto it = root.find(name);
    if (it == root.end() || !error.empty()) return;
    using T = std::remove_reference_t<decltype(field)>;
    const bool type_ok = std::is_same_v<T, bool> ? it->is_boolean()
                         : std::is_integral_v<T> ? it->is_number_integer()
                                                 : it->is_string();
    if (!type_ok) {
      error = "config file " + path + ": \"" + name + "\" must be " + json_type_name<T>();
      return;
    }
    if (app.count("--" + name) == 0) field = it->get<T>();
  });
  if (!error.empty()) return error;
  for (const auto& [key, value] : root.items()) {
    if (std::find(known.begin(), known.end(), key) == known.end()) {
      return "config file " + path + ": unknown setting \"" + key + "\"";
    }
  }
  return {};
}

}  // namespace

std::string validate_config(const ServerConfig& config) {
  if (!parse_host_port(config.http)) {
    return "--http: expected address:port (e.g. 127.0.0.1:8080 or [::1]:8080), got '" + config.http + "'";
  }
  if (config.workers < 0 || config.workers > kMaxWorkers) {
    return "--workers: expected 0 (one per core) to " + std::to_string(kMaxWorkers) + ", got " +
           std::to_string(config.workers);
  }
  if (std::find(kLogLevels.begin(), kLogLevels.end(), config.log_level) == kLogLevels.end()) {
    return "--log-level: expected trace, debug, info, warn, error, critical or off, got '" +
           config.log_level + "'";
  }
  if (config.udp_port < 0 || config.udp_port + std::max(config.workers, 1) - 1 > 65535) {
    return "--udp-port: expected 0 (ephemeral) or a port that leaves room for one per worker, got " +
           std::to_string(config.udp_port);
  }
  if (config.tcp_port != "off" && !config.tcp_port.empty()) {
    const auto& t = config.tcp_port;
    const bool digits =
        t.size() <= 5 && std::all_of(t.begin(), t.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (!digits || std::stoi(t) + std::max(config.workers, 1) - 1 > 65535)
      return "--tcp-port: expected off, 0 (ephemeral) or a port that leaves room for one per worker, got '" +
             t + "'";
  }
  for (const auto& [flag, value, least] :
       {std::tuple{"--tcp-max-connections", config.tcp_max_connections, 1},
        std::tuple{"--tcp-max-pending", config.tcp_max_pending, 1},
        std::tuple{"--tcp-max-pending-per-address", config.tcp_max_pending_per_address, 1},
        std::tuple{"--tcp-pending-timeout", config.tcp_pending_timeout, 10},
        std::tuple{"--tcp-send-queue", config.tcp_send_queue, 8192}}) {
    if (value < least)
      return std::string(flag) + ": expected at least " + std::to_string(least) + ", got " +
             std::to_string(value);
  }
  if (config.max_connections < 1)
    return "--max-connections: expected at least 1, got " + std::to_string(config.max_connections);
  if (config.max_connections_per_address < 1)
    return "--max-connections-per-address: expected at least 1, got " +
           std::to_string(config.max_connections_per_address);
  if (config.tls_cert.empty() != config.tls_key.empty())
    return config.tls_cert.empty() ? "--tls-key needs --tls-cert (the certificate it belongs to)"
                                   : "--tls-cert needs --tls-key (the certificate's private key)";
  if (config.tls_self_signed && !config.tls_cert.empty())
    return "--tls-self-signed and --tls-cert exclude each other: generate a certificate or use the files";
  if (config.max_sessions < 1) {
    return "--max-sessions: expected at least 1, got " + std::to_string(config.max_sessions);
  }
  if (config.max_pending_sessions < 1) {
    return "--max-pending-sessions: expected at least 1, got " + std::to_string(config.max_pending_sessions);
  }
  if (config.max_pending_per_address < 1) {
    return "--max-pending-per-address: expected at least 1, got " +
           std::to_string(config.max_pending_per_address);
  }
  if (config.rtmp != "off" && !config.rtmp.empty() && !parse_host_port(config.rtmp))
    return "--rtmp: expected address:port (e.g. 127.0.0.1:1935) or off, got '" + config.rtmp + "'";
  if (config.rtmp_max_publishers < 1)
    return "--rtmp-max-publishers: expected at least 1, got " + std::to_string(config.rtmp_max_publishers);
  if (config.rtmp_max_pending < 1)
    return "--rtmp-max-pending: expected at least 1, got " + std::to_string(config.rtmp_max_pending);
  if (config.rtmp_max_pending_per_address < 1)
    return "--rtmp-max-pending-per-address: expected at least 1, got " +
           std::to_string(config.rtmp_max_pending_per_address);
  if (config.sip != "off" && !config.sip.empty() && !parse_host_port(config.sip))
    return "--sip: expected address:port (e.g. 127.0.0.1:5060) or off, got '" + config.sip + "'";
  if (config.sip_max_calls < 1)
    return "--sip-max-calls: expected at least 1, got " + std::to_string(config.sip_max_calls);
  if (config.sip_rate_limit < 1)
    return "--sip-rate-limit: expected at least 1, got " + std::to_string(config.sip_rate_limit);
  {
    size_t start = 0;
    const std::string& s = config.sip_codecs;
    bool any = false;
    while (start <= s.size()) {
      const size_t end = std::min(s.find(',', start), s.size());
      const std::string name = s.substr(start, end - start);
      if (name != "opus" && name != "pcmu" && name != "pcma")
        return "--sip-codecs: expected a comma-separated list of opus, pcmu, pcma; got '" + s + "'";
      any = true;
      start = end + 1;
    }
    if (!any) return "--sip-codecs: expected at least one codec";
  }
  boost::system::error_code ec;
  boost::asio::ip::make_address(config.bind, ec);
  if (ec) return "--bind: expected an IP address (e.g. 0.0.0.0 or 127.0.0.1), got '" + config.bind + "'";
  std::stringstream urls(config.cluster);
  for (std::string url; std::getline(urls, url, ',');) {
    if (!url.starts_with("nats://") || url.size() <= 7)
      return "--cluster: expected nats://host:port URLs separated by commas, got '" + url + "'";
  }
  if (!config.node_id.empty() && !std::all_of(config.node_id.begin(), config.node_id.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
      }))
    return "--node-id: letters, digits, - and _ only, got '" + config.node_id + "'";
  std::stringstream turn(config.turn_urls);
  for (std::string url; std::getline(turn, url, ',');) {
    url.erase(0, url.find_first_not_of(' '));
    if (!url.starts_with("turn:") && !url.starts_with("turns:"))
      return "--turn-urls: expected turn: or turns: URLs separated by commas, got '" + url + "'";
  }
  if (!config.turn_urls.empty() && config.turn_secret.empty())
    return "--turn-urls needs --turn-secret (the TURN server's static-auth-secret)";
  std::stringstream ips(config.public_ip);
  for (std::string ip; std::getline(ips, ip, ',');) {
    boost::asio::ip::make_address(ip, ec);
    if (ec) return "--public-ip: '" + ip + "' is not an IP address";
  }
  return {};
}

std::optional<uint16_t> tcp_port_of(const ServerConfig& config, int index) {
  if (config.tcp_port == "off") return std::nullopt;
  const int first = config.tcp_port.empty() ? config.udp_port : std::stoi(config.tcp_port);
  return static_cast<uint16_t>(first == 0 ? 0 : first + index);
}

std::string rtmp_address(const ServerConfig& config) {
  if (config.rtmp == "off") return {};
  if (!config.rtmp.empty()) return config.rtmp;
  auto http = parse_host_port(config.http);
  if (!http) return {};
  return format_host_port(boost::asio::ip::tcp::endpoint(http->address(), 1935));
}

std::string sip_address(const ServerConfig& config) {
  if (config.sip == "off") return {};
  if (!config.sip.empty()) return config.sip;
  auto http = parse_host_port(config.http);
  if (!http) return {};
  return format_host_port(boost::asio::ip::tcp::endpoint(http->address(), 5060));
}

ConfigParseResult parse_command_line(const std::vector<std::string>& args) {
  ServerConfig config;
  CLI::App app{"Atrium: a room-based media server (WebRTC WHIP/WHEP, room SDK)", "atrium"};
  app.set_version_flag("--version", std::string("atrium ") + ATRIUM_VERSION);
  app.add_option("--config", config.config_file, "JSON file with the same keys as the long flags; flags win")
      ->check(CLI::ExistingFile);
  visit_settings(config, [&](const std::string& name, auto& field, const char* help) {
    using T = std::remove_reference_t<decltype(field)>;
    if constexpr (std::is_same_v<T, bool>) {
      app.add_flag("--" + name, field, help);
    } else {
      app.add_option("--" + name, field, help)->capture_default_str();
    }
  });

  try {
    // CLI11 wants argv order reversed when given a vector (it pops from the back).
    std::vector<std::string> reversed(args.rbegin(), args.rend());
    app.parse(reversed);
  } catch (const CLI::CallForHelp&) {
    return ConfigParseResult{std::nullopt, 0, app.help()};
  } catch (const CLI::CallForVersion& e) {
    return ConfigParseResult{std::nullopt, 0, std::string(e.what()) + "\n"};
  } catch (const CLI::ParseError& e) {
    return fail(std::string(e.what()) + " (try --help)");
  }

  if (!config.config_file.empty()) {
    if (auto error = apply_config_file(config.config_file, config, app); !error.empty()) return fail(error);
  }
  if (auto error = validate_config(config); !error.empty()) return fail(error);
  if (config.workers == 0)
    config.workers = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  return ConfigParseResult{std::move(config), 0, {}};
}

ConfigParseResult parse_command_line(int argc, const char* const* argv) {
  std::vector<std::string> args;
  for (int i = 1; i < argc; ++i)
    args.emplace_back(argv[i]);
  return parse_command_line(args);
}

}  // namespace atrium::server
