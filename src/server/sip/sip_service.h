// SIP as the process runs it (docs/sip.md): the listener (--sip, default --http's host with port 5060, UDP),
// the user agent and every call's signalling on worker 0 (SipSignaling), each call's media on its room's
// worker (SipCallWorker, like WHIP). What a call must pass before it rings: --sip-allow, --sip-rate-limit,
// --sip-max-calls (in the user agent), a room name, an SDP offer with a codec of --sip-codecs, and the
// room's join.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/ip/udp.hpp>
#include <boost/asio/steady_timer.hpp>

#include "server/metrics/metrics_registry.h"
#include "server/server_config.h"
#include "server/sip/sip_call_worker.h"
#include "server/sip/sip_counters.h"
#include "server/worker.h"
#include "server/worker_core.h"
#include "server/worker_pool.h"
#include "transport/sip/sip_sdp.h"
#include "transport/sip/sip_user_agent.h"

namespace atrium::server {

class SipService;

// Worker 0's half: the socket, the user agent, the admission rules, and the calls' routing.
class SipSignaling {
 public:
  SipSignaling(Worker& worker, SipService& service);
  ~SipSignaling();
  std::string listen(const boost::asio::ip::udp::endpoint& at);
  uint16_t port() const;

 private:
  struct Pending {
    Worker* worker = nullptr;
    sip::NegotiatedAudio audio;
    std::string answer;
    std::string local_ip;
    uint16_t local_port = 0;
    uint64_t session_id = 0;
    uint64_t version = 1;
    std::string description;
    bool started = false;  // the room's worker has the call
  };
  struct RateWindow {
    int64_t start = 0;
    int count = 0;
  };

  void receive();
  void tick();
  void drain(int64_t now);
  void on_incoming(int64_t now, sip::IncomingCall& in);
  void on_reoffer(int64_t now, sip::CallReoffer& r);
  void on_ended(sip::CallEnded& e);
  void on_outcome(const SipCallOutcome& outcome);
  bool allowed(const boost::asio::ip::address& a) const;
  bool within_rate(int64_t now, const std::string& ip);
  void refuse(int64_t now, sip::CallHandle call, int status, const std::string& reason,
              const std::string& why, std::atomic<uint64_t>& counter);

  Worker& worker_;
  SipService& service_;
  boost::asio::ip::udp::socket socket_;
  boost::asio::steady_timer timer_;
  std::unique_ptr<sip::SipUserAgent> ua_;
  std::array<char, 65536> buffer_{};
  boost::asio::ip::udp::endpoint from_;
  std::map<sip::CallHandle, Pending> calls_;
  std::map<std::string, RateWindow> rates_;
  std::string media_ip_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

class SipService {
 public:
  SipService(const ServerConfig& config, MetricsRegistry& metrics, WorkerPool& workers);

  bool enabled() const { return !address_.empty(); }
  // In each worker's start hook: the call worker everywhere, and on worker 0 the listener. "" or why not.
  std::string start_worker(Worker& worker, WorkerCore& core);
  std::string listening() const;

  const ServerConfig& config() const { return config_; }
  SipCounters& counters() { return counters_; }
  WorkerPool& workers() { return workers_; }
  const std::vector<media::Codec>& codecs() const { return codecs_; }
  struct Cidr {
    boost::asio::ip::address network;
    int bits = 0;
  };
  const std::vector<Cidr>& allow() const { return allow_; }
  std::atomic<uint16_t>& port() { return port_; }

 private:
  const ServerConfig& config_;
  WorkerPool& workers_;
  std::string address_;
  SipCounters counters_;
  std::vector<media::Codec> codecs_;
  std::vector<Cidr> allow_;
  std::atomic<uint16_t> port_{0};
};

// "10.0.0.0/8,::1/128" -> the networks; "" when one does not parse (`error` says which).
std::vector<SipService::Cidr> parse_cidrs(const std::string& list, std::string* error);
bool cidr_contains(const SipService::Cidr& net, const boost::asio::ip::address& a);

}  // namespace atrium::server
