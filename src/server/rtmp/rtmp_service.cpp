#include "server/rtmp/rtmp_service.h"

#include <algorithm>
#include <chrono>
#include <vector>

#include <spdlog/spdlog.h>

#include "core/names.h"
#include "server/auth/access_token.h"
#include "server/host_port.h"
#include "server/rtmp/rtmp_worker.h"
#include "server/webrtc/random_id.h"
#include "server/webrtc/webrtc_service.h"

namespace atrium::server {
namespace {

std::vector<std::string> split(std::string_view s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  for (;;) {
    const size_t end = s.find(sep, start);
    out.emplace_back(s.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  return out;
}

std::string query_value(std::string_view query, std::string_view key) {
  for (const auto& kv : split(query, '&')) {
    const auto eq = kv.find('=');
    if (eq != std::string::npos && std::string_view(kv).substr(0, eq) == key) return kv.substr(eq + 1);
  }
  return {};
}

}  // namespace

RtmpService::RtmpService(const ServerConfig& config, MetricsRegistry& metrics, WorkerPool& workers)
    : config_(config), workers_(workers), address_(rtmp_address(config)) {
  if (enabled()) register_rtmp_metrics(metrics, counters_);
}

std::string RtmpService::start_worker(Worker& worker, WorkerCore& core) {
  if (!enabled()) return {};
  auto& w = worker.emplace<RtmpWorker>(worker, core, *this);
  if (worker.index() != 0) return {};
  auto endpoint = parse_host_port(address_);
  if (!endpoint) return "invalid --rtmp address '" + address_ + "'";
  auto error = w.listen(*endpoint);
  if (error.empty()) port_.store(w.listen_port());
  return error;
}

std::string RtmpService::listening() const {
  if (!enabled()) return "off";
  auto endpoint = parse_host_port(address_);
  if (!endpoint) return address_;
  endpoint->port(port_.load());
  return format_host_port(*endpoint);
}

RtmpService::Route RtmpService::route(const rtmp::PublishTarget& target) {
  Route r;
  const auto bad_name = [&](std::string sentence) {
    r.status = rtmp::PublishRejection::kBadName;
    r.sentence = std::move(sentence);
    r.counter = &counters_.refused_name;
    return r;
  };
  // app "live" + key "ROOM/PEER", or app "live/ROOM" + key "PEER": the same path either way. A query
  // (?token=...) may ride on either.
  std::string path = target.app + "/" + target.stream_key;
  std::string query;
  if (const auto q = path.find('?'); q != std::string::npos) {
    query = path.substr(q + 1);
    path.erase(q);
    if (const auto slash = query.find('/'); slash != std::string::npos) {  // "live?x=y/ROOM/PEER"
      path += query.substr(slash);
      query.erase(slash);
    }
  }
  const auto parts = split(path, '/');
  if (parts.size() != 3 || parts[0] != "live")
    return bad_name("the URL must be rtmp://HOST:PORT/live/ROOM/PEER (docs/rtmp.md); got app '" + target.app +
                    "' and stream key '" + target.stream_key + "'");
  const std::string& room = parts[1];
  std::string peer = parts[2];
  std::string token = query_value(query, "token");
  if (looks_like_token(peer)) {
    token = peer;
    peer.clear();
  }
  if (!core::is_url_safe_name(room))
    return bad_name("room names are 1 to 128 characters of A-Z a-z 0-9 - _ . ~; got '" + room + "'");

  if (!config_.auth_secret.empty()) {
    const auto refuse = [&](std::string sentence) {
      r.status = rtmp::PublishRejection::kConnectRejected;
      r.sentence = std::move(sentence);
      r.counter = &counters_.refused_auth;
      return r;
    };
    if (token.empty())
      return refuse(
          "this server needs a token: publish to rtmp://HOST:PORT/live/ROOM/TOKEN (`atrium token --rtmp`)");
    auto check = verify_access_token(config_.auth_secret, token, unix_seconds());
    if (!check.claims) return refuse(check.code + ": " + check.message);
    if (peer.empty()) peer = check.claims->peer;
    if (auto scope = check_scope(*check.claims, room, peer); !scope.empty())
      return refuse(scope + ": the token is for room '" + check.claims->room + "'" +
                    (check.claims->peer.empty() ? "" : " and peer '" + check.claims->peer + "'"));
    if (!check.claims->publish && !check.claims->admin)
      return refuse("PERMISSION_DENIED: this token may not publish");
  } else if (looks_like_token(parts[2])) {
    peer.clear();  // a token where the peer goes, on a server without --auth-secret: any peer name
  }
  if (peer.empty()) peer = "rtmp-" + random_hex(4);
  if (!core::is_url_safe_name(peer))
    return bad_name("peer names are 1 to 128 characters of A-Z a-z 0-9 - _ . ~; got '" + peer + "'");

  if (publishers_.fetch_add(1, std::memory_order_relaxed) >= config_.rtmp_max_publishers) {
    publishers_.fetch_sub(1, std::memory_order_relaxed);
    r.status = rtmp::PublishRejection::kRejected;
    r.sentence = "the server is at its RTMP publisher limit (" + std::to_string(config_.rtmp_max_publishers) +
                 ", --rtmp-max-publishers); try again later";
    r.counter = &counters_.refused_publishers;
    return r;
  }
  r.ok = true;
  r.join.room = room;
  r.join.peer = peer;
  // A publisher only sends: it needs no room events.
  r.join.peers = core::SubscribeMode::kManual;
  r.join.tracks = core::SubscribeMode::kManual;
  r.join.meta = R"({"name":")" + peer + R"(","transport":"rtmp"})";
  r.worker = &WebRtcService::worker_for_room(workers_, room);
  return r;
}

}  // namespace atrium::server
