// The WebRTC runtime of one media worker: its UDP port, its sessions, and the pump between them and the
// worker's EndpointHub. Everything here runs on the worker's thread; the HTTP side reaches it by posting
// (through WebRtcWorker, which adds the WHIP and SDK entry points on top).
//
// The pump: a session's core events go to the hub; the hub's outputs go to the sessions they address, whose
// new events go back in, until both sides are quiet; then the batch of datagrams leaves. Sessions that
// closed meanwhile are removed after that, in reap() (the only place that removes a closed session).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include <boost/asio/ip/address.hpp>

#include "server/webrtc/send_path.h"
#include "server/webrtc/session_table.h"
#include "server/webrtc/tcp_port.h"
#include "server/webrtc/udp_port.h"
#include "server/webrtc/webrtc_counters.h"
#include "server/worker.h"
#include "server/worker_core.h"

namespace atrium::server {

class SessionRuntime {
 public:
  // `reserved_sessions`: slots the HTTP side reserved against --max-sessions; the runtime gives one back for
  // every session it removes (and callers for every offer that did not become one, via release_slot).
  SessionRuntime(Worker& worker, WorkerCore& core, WebRtcCounters& counters,
                 std::atomic<int64_t>* reserved_sessions, TcpPortLimits tcp_limits = {});
  ~SessionRuntime();  // says goodbye on every session (RTCP BYE, DTLS close_notify) before the port closes

  // Binds the worker's UDP port; "" or a sentence saying why not.
  std::string open(const boost::asio::ip::address& bind, uint16_t port) { return port_.open(bind, port); }
  uint16_t port() const { return port_.port(); }
  // Starts the worker's ICE-TCP listener; "" or a sentence saying why not.
  std::string open_tcp(const boost::asio::ip::address& bind, uint16_t port) { return tcp_.open(bind, port); }
  uint16_t tcp_port() const { return tcp_.port(); }  // 0: no listener
  // TURN servers' addresses: a session whose nominated address has one of these IPs counts as relayed.
  void set_relay_addresses(std::vector<std::string> ips) { relay_ips_ = std::move(ips); }
  SessionTable& sessions() { return table_; }

  // Gives the entry a core endpoint and adds it to the table.
  SessionEntry& add(std::unique_ptr<SessionEntry> entry);
  // Drains `first` (if any) and everything it sets off, then sends.
  void pump(int64_t now, SessionEntry* first);
  // The session's new datagrams join the send batch, its SDK messages go to its socket, and a closed session
  // is noted for reap().
  void flush(SessionEntry& e);
  void send_batch() { port_.send_batch(); }
  // Ends `e` now: its final counters, its socket closed, its endpoint out of the core (the room hears).
  void remove(int64_t now, SessionEntry& e);
  // Removes every session that closed.
  void reap(int64_t now);
  void release_slot() {
    if (reserved_sessions_) reserved_sessions_->fetch_sub(1, std::memory_order_relaxed);
  }

 private:
  void on_datagram(int64_t now, const webrtc::SocketAddress& from, std::span<uint8_t> data);
  // A frame from an ICE-TCP connection: a matched one's goes to its session like a datagram; a pending
  // one's must be a check its session authenticates, which matches the connection, else it is closed.
  void on_tcp_frame(int64_t now, TcpConnection& c, std::span<uint8_t> data);
  void tick(int64_t now);
  // Adds the session's time to first video to the histogram, once it has one.
  void count_first_video(SessionEntry& e);
  // Once per media connection: logs the nominated pair's kind and counts it by transport.
  void note_transport(SessionEntry& e);

  WorkerCore& core_;
  WebRtcCounters& counters_;
  std::atomic<int64_t>* reserved_sessions_;
  std::vector<std::string> relay_ips_;
  SessionCounterSync counter_sync_;
  SessionTable table_;
  std::vector<SessionEntry*> pending_;  // the pump's work list: sessions whose events are not drained yet
  TcpPort tcp_;                         // its connections copy what they send: no pointer into the sessions
  UdpPort port_;  // last: the socket closes before the sessions its batch points into go
  SendPath send_path_{port_, &tcp_};
};

}  // namespace atrium::server
