// The RTMP side of one media worker: the connections that live on it and the seam to its EndpointHub (it
// owns their endpoints, so the hub's outputs for them come here). Worker 0 also runs the listener and every
// connection that has not published yet (RtmpService says why). Everything here runs on the worker's thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include "server/rtmp/rtmp_service.h"
#include "server/worker.h"
#include "server/worker_core.h"

namespace atrium::server {

class RtmpConnection;

class RtmpWorker final : public EndpointOwner {
 public:
  // How long a connection may take from accepting to publishing, and how long a publisher may stay silent.
  static constexpr std::chrono::seconds kStartTimeout{10};
  static constexpr std::chrono::seconds kIdleTimeout{10};

  RtmpWorker(Worker& worker, WorkerCore& core, RtmpService& service);
  ~RtmpWorker() override;  // closes every connection; their endpoints leave the room

  // Worker 0: binds the listener and starts accepting. "" or why not.
  std::string listen(const boost::asio::ip::tcp::endpoint& at);
  uint16_t listen_port() const;

  // A connection that asked to publish to a room of this worker, moved here with its session.
  void adopt(int fd, const boost::asio::ip::tcp::endpoint& peer,
             std::unique_ptr<rtmp::RtmpPublisher> publisher, RtmpService::Route route);

  void on_endpoint_event(int64_t now, core::EndpointId id, const core::EndpointEvent& event) override;

  Worker& worker() { return worker_; }
  WorkerCore& core() { return core_; }
  RtmpService& service() { return service_; }

  // RtmpConnection's calls.
  void own(core::EndpointId id, RtmpConnection& c);
  void forget(RtmpConnection& c);  // it closed: drop it (and give back its pending slot)
  void left_pending(RtmpConnection& c);

 private:
  void accept();
  void sweep();

  Worker& worker_;
  WorkerCore& core_;
  RtmpService& service_;
  std::unique_ptr<boost::asio::ip::tcp::acceptor> acceptor_;
  boost::asio::steady_timer sweep_timer_;
  std::unordered_map<RtmpConnection*, std::shared_ptr<RtmpConnection>> connections_;
  std::unordered_map<core::EndpointId, RtmpConnection*> by_endpoint_;
  // Connections not publishing yet (worker 0 only): in total and per client address.
  int pending_ = 0;
  std::unordered_map<std::string, int> pending_by_address_;
};

}  // namespace atrium::server
