// The server's settings: one struct, filled from defaults, then an optional JSON config file, then
// command-line flags (flags win). Each setting is listed once in `visit_settings`, which gives it its flag
// name (also its key in the config file) and its help text, so adding a setting is the struct field plus one
// line there.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace atrium::server {

struct ServerConfig {
  std::string http = "127.0.0.1:8080";  // address:port of the HTTP API
  int workers = 0;                      // media worker threads; 0: one per hardware core
  std::string log_level = "info";
  // HTTP API connections (plain and WebSocket); docs/security.md.
  int max_connections = 4096;             // lowered at start to fit the file-descriptor limit
  int max_connections_per_address = 256;  // per client IP address
  // HTTPS and WSS on the API instead of HTTP and WS (docs/server.md, "TLS").
  std::string tls_cert;          // PEM certificate chain, server certificate first; reloaded on SIGHUP
  std::string tls_key;           // its PEM private key (unencrypted)
  bool tls_self_signed = false;  // generate a certificate at start instead

  // WebRTC media.
  std::string bind = "0.0.0.0";  // address the UDP media sockets bind to
  std::string public_ip;         // comma-separated addresses to advertise as candidates; empty: see below
  int udp_port = 40000;          // worker i listens on udp_port + i; 0: ephemeral ports
  // ICE-TCP (RFC 6544 passive candidates): worker i listens on tcp_port + i; "": the --udp-port numbers over
  // TCP; "off": no TCP candidates. The limits are per worker.
  std::string tcp_port;
  int tcp_max_connections = 1024;
  int tcp_max_pending = 256;
  int tcp_max_pending_per_address = 32;
  int tcp_pending_timeout = 10000;  // ms
  int tcp_send_queue = 131072;      // bytes per connection
  int max_sessions = 1000;          // WHIP + WHEP sessions; beyond it POST answers 503
  // Sessions not connected yet (ICE/DTLS not done), in total and per client address; beyond: 503.
  int max_pending_sessions = 200;
  int max_pending_per_address = 20;
  std::string ice_servers;  // comma-separated stun:/turn: URLs announced in Link headers
  // TURN with short-lived credentials (docs/turn.md): URLs handed out with a credential minted per session.
  std::string turn_secret;  // coturn's static-auth-secret; empty: no TURN credentials
  std::string turn_urls;    // comma-separated turn:/turns: URLs
  int turn_ttl = 86400;     // seconds a minted credential stays valid
  std::string auth_secret;  // when set, WHIP/WHEP need "Authorization: Bearer <secret>"
  std::string web_root;     // directory served at / (the example page); empty: the built-in default

  // RTMP ingest (docs/rtmp.md).
  std::string rtmp;  // address:port of the RTMP listener; empty: --http's host, port 1935; "off": none
  int rtmp_max_publishers = 100;         // RTMP streams publishing at once; beyond, publish is refused
  int rtmp_max_pending = 64;             // RTMP connections that have not started publishing yet
  int rtmp_max_pending_per_address = 8;  // the same, per client IP address

  // SIP (docs/sip.md).
  std::string sip;          // address:port of the SIP listener (UDP); empty: --http's host, 5060
  int sip_max_calls = 200;  // SIP calls at once; beyond, INVITEs get 503
  std::string sip_codecs = "opus,pcmu,pcma";  // what an answer picks, in this order, from what is offered
  int sip_rate_limit = 10;                    // INVITEs per source address per 10 s; beyond, 503
  std::string sip_allow;                      // comma-separated CIDRs that may send SIP; empty: anyone
  std::string sip_secret;  // when set, callers answer a digest challenge with it (any user name)

  // Cluster.
  std::string cluster;  // comma-separated nats:// URLs; empty: the embedded single-node bus
  std::string node_id;  // this node's name in the cluster; empty: the host name

  // The settings the process needs but are not themselves settings.
  std::string config_file;  // --config, empty when none was given
};

// Calls `visit(name, field, help)` for every setting; `name` is the long flag without dashes and the JSON
// key.
template <typename Visitor>
void visit_settings(ServerConfig& config, Visitor&& visit) {
  visit("http", config.http, "address:port of the HTTP API (WHIP, WHEP, /metrics, /healthz)");
  visit("workers", config.workers, "media worker threads; 0 means one per hardware core");
  visit("log-level", config.log_level, "trace, debug, info, warn, error, critical or off");
  visit("max-connections", config.max_connections,
        "open HTTP + WebSocket connections at once (lowered to fit the file-descriptor limit); beyond, new "
        "ones are closed");
  visit("max-connections-per-address", config.max_connections_per_address,
        "open HTTP + WebSocket connections from one client address; beyond, new ones are closed");
  visit("tls-cert", config.tls_cert,
        "PEM certificate chain (server certificate first): serve HTTPS and WSS instead of HTTP and WS on "
        "--http; "
        "needs --tls-key; re-read on SIGHUP");
  visit("tls-key", config.tls_key, "the PEM private key of --tls-cert (not encrypted)");
  visit(
      "tls-self-signed", config.tls_self_signed,
      "serve HTTPS and WSS with a certificate generated at start (for localhost, 127.0.0.1 and --public-ip); "
      "its SHA-256 fingerprint is logged");
  visit("bind", config.bind, "address the UDP media sockets bind to (0.0.0.0: all IPv4 addresses)");
  visit("public-ip", config.public_ip,
        "comma-separated addresses advertised as ICE candidates; default: the bound address, or every "
        "address of the machine (non-loopback first, then loopback) when bound to 0.0.0.0");
  visit("udp-port", config.udp_port, "first UDP media port; worker i uses udp-port + i; 0: ephemeral ports");
  visit(
      "tcp-port", config.tcp_port,
      "first ICE-TCP media port (passive TCP candidates, RFC 6544); worker i uses tcp-port + i; default: the "
      "--udp-port numbers over TCP (ephemeral with --udp-port 0); 0: ephemeral; 'off': no TCP candidates");
  visit("tcp-max-connections", config.tcp_max_connections,
        "ICE-TCP connections open at once per worker (pending or carrying a session); beyond, new ones are "
        "closed");
  visit("tcp-max-pending", config.tcp_max_pending,
        "ICE-TCP connections per worker whose first STUN check has not matched a session yet; beyond, new "
        "ones are closed");
  visit("tcp-max-pending-per-address", config.tcp_max_pending_per_address,
        "pending ICE-TCP connections per worker from one client IP address; beyond, new ones are closed");
  visit("tcp-pending-timeout", config.tcp_pending_timeout,
        "milliseconds an ICE-TCP connection may take to match a session with its first check; then closed");
  visit("tcp-send-queue", config.tcp_send_queue,
        "bytes waiting to be written per ICE-TCP connection; a frame starts only while it is half empty, "
        "else whole frames are dropped");
  visit("max-sessions", config.max_sessions, "WHIP + WHEP sessions accepted at once; beyond, POST gets 503");
  visit(
      "max-pending-sessions", config.max_pending_sessions,
      "sessions (WHIP, WHEP, SDK) not connected yet (ICE/DTLS not done) accepted at once; beyond, POST gets "
      "503 and a join SERVER_FULL");
  visit("max-pending-per-address", config.max_pending_per_address,
        "sessions not connected yet accepted at once from one client IP address; beyond, 503 / SERVER_FULL");
  visit("ice-servers", config.ice_servers,
        "comma-separated stun:/turn: URLs sent to clients in Link headers");
  visit("turn-secret", config.turn_secret,
        "shared secret of the TURN server (coturn: use-auth-secret, static-auth-secret); with --turn-urls, "
        "every session gets a credential minted from it");
  visit("turn-urls", config.turn_urls,
        "comma-separated turn:/turns: URLs (turn:HOST:3478?transport=udp,...) handed out with a credential "
        "minted from --turn-secret");
  visit("turn-ttl", config.turn_ttl, "seconds a minted TURN credential stays valid (default 86400)");
  visit("auth-secret", config.auth_secret,
        "when set, WHIP/WHEP requests need 'Authorization: Bearer <secret>'; empty: open");
  visit("web-root", config.web_root, "directory of the pages served under /web/ (/ leads to the room demo)");
  visit(
      "rtmp", config.rtmp,
      "address:port of the RTMP ingest listener (OBS, ffmpeg); default: --http's host with port 1935; 'off' "
      "disables it");
  visit("rtmp-max-publishers", config.rtmp_max_publishers,
        "RTMP streams publishing at once; beyond, publish is refused with NetStream.Publish.Rejected");
  visit(
      "rtmp-max-pending", config.rtmp_max_pending,
      "RTMP connections still in handshake/connect (10 s to start publishing); beyond, new ones are closed");
  visit("rtmp-max-pending-per-address", config.rtmp_max_pending_per_address,
        "RTMP connections not publishing yet from one client IP address; beyond, new ones are closed");
  visit(
      "sip", config.sip,
      "address:port of the SIP listener (UDP): phones and trunks call sip:ROOM@HOST:PORT; default: --http's "
      "host with port 5060; 'off' disables it");
  visit("sip-max-calls", config.sip_max_calls, "SIP calls at once; beyond, an INVITE is answered 503");
  visit("sip-codecs", config.sip_codecs,
        "comma-separated codecs a SIP answer may pick (opus, pcmu, pcma), the first offered one wins");
  visit("sip-rate-limit", config.sip_rate_limit,
        "INVITEs one source address may send per 10 s; beyond, they are answered 503 with Retry-After");
  visit("sip-allow", config.sip_allow,
        "comma-separated CIDRs (10.0.0.0/8,127.0.0.1/32) that may send SIP; others are dropped; empty: any");
  visit("sip-secret", config.sip_secret,
        "when set, an INVITE is challenged (401, digest MD5) and the caller must answer with this password, "
        "any "
        "user name; empty: no challenge");
  visit("cluster", config.cluster,
        "comma-separated NATS URLs (nats://host:4222) to run as one node of a cluster; empty: single node");
  visit("node-id", config.node_id, "this node's name in the cluster (default: the host name)");
}

// What parsing the command line decided: either run with `config`, or exit with `exit_code` after printing
// `output` (to stdout for --help/--version, to stderr as one line for errors).
struct ConfigParseResult {
  std::optional<ServerConfig> config;
  int exit_code = 0;
  std::string output;
};

// Parses flags and the config file they name, then validates and resolves defaults (workers = hardware
// cores). Never throws: every problem becomes exit_code 2 and a one-line message starting with "atrium: ".
ConfigParseResult parse_command_line(const std::vector<std::string>& args);
ConfigParseResult parse_command_line(int argc, const char* const* argv);

// Checks values that neither CLI11 nor JSON typing can (address syntax, ranges, names); returns an error
// sentence or an empty string.
std::string validate_config(const ServerConfig& config);

// Worker `index`'s ICE-TCP port: 0 ephemeral, nullopt when --tcp-port is off.
std::optional<uint16_t> tcp_port_of(const ServerConfig& config, int index);
// Whether the API speaks TLS (--tls-cert or --tls-self-signed).
inline bool tls_enabled(const ServerConfig& config) {
  return config.tls_self_signed || !config.tls_cert.empty();
}

// The RTMP listener's address:port as configured, or resolved from --http's host (port 1935); "" when off.
std::string rtmp_address(const ServerConfig& config);
// The SIP listener's address:port, or "" when --sip is off.
std::string sip_address(const ServerConfig& config);

}  // namespace atrium::server
