// One worker's ICE-TCP listener (RFC 6544 passive candidate, RFC 4571 framing) and its connections. A new
// connection is pending until its first frame, a STUN binding request, is authenticated by the session its
// USERNAME names (the runtime decides, as for a UDP check from a new address); then it carries that
// session's datagrams. Pending connections are bounded in number, per client address and in time; every
// connection that is refused or closed for cause is counted. Only the worker's thread touches it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <unordered_map>
#include <utility>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "server/webrtc/tcp_connection.h"
#include "server/webrtc/webrtc_counters.h"
#include "transport/webrtc/net/socket_address.h"

namespace atrium::server {

struct TcpPortLimits {
  size_t max_connections = 1024;         // --tcp-max-connections: open at once, pending or matched
  size_t max_pending = 256;              // --tcp-max-pending
  size_t max_pending_per_address = 32;   // --tcp-max-pending-per-address
  int64_t pending_timeout = 10'000'000;  // µs, --tcp-pending-timeout (ms)
  size_t send_queue = 128 * 1024;        // bytes, --tcp-send-queue
};

class TcpPort {
 public:
  // A frame from `c` (pending or matched): the bytes are valid until the call returns.
  using OnFrame = std::function<void(int64_t now, TcpConnection& c, std::span<uint8_t> frame)>;
  // After each read's frames.
  using AfterRead = std::function<void(int64_t now)>;

  TcpPort(boost::asio::io_context& io, WebRtcCounters::Tcp& counters, TcpPortLimits limits, OnFrame on_frame,
          AfterRead after_read);
  ~TcpPort();

  // Binds and starts accepting; "" or a sentence saying why not.
  std::string open(const boost::asio::ip::address& bind, uint16_t port);
  uint16_t port() const { return port_; }

  // The connection's first check was authenticated: it carries its session's datagrams from now on.
  void match(TcpConnection& c);
  // Sends a datagram over the connection from `to` (false: there is none, e.g. the client closed it).
  bool send(const webrtc::SocketAddress& to, std::span<const uint8_t> datagram);
  // Closes the connection from `remote`, if open (its session ended).
  void close(const webrtc::SocketAddress& remote);
  // Closes `c` for cause, counted.
  void refuse(int64_t now, TcpConnection& c, std::atomic<uint64_t>& counter, const char* why);
  // Closes pending connections older than the timeout.
  void tick(int64_t now);

  // From the connections.
  void on_frame(int64_t now, TcpConnection& c, std::span<uint8_t> frame) { on_frame_(now, c, frame); }
  void after_read(int64_t now) { after_read_(now); }
  void lost(TcpConnection& c);  // the client closed it or the socket failed

 private:
  void accept();
  void admit(boost::asio::ip::tcp::socket socket);
  // Forgets `c` (pending count, address count, index) and closes it.
  void drop(TcpConnection& c);
  static webrtc::SocketAddress host_of(const webrtc::SocketAddress& a);

  boost::asio::ip::tcp::acceptor acceptor_;
  WebRtcCounters::Tcp& counters_;
  TcpPortLimits limits_;
  OnFrame on_frame_;
  AfterRead after_read_;
  uint16_t port_ = 0;
  std::unordered_map<webrtc::SocketAddress, std::shared_ptr<TcpConnection>, webrtc::SocketAddressHash>
      connections_;
  size_t pending_ = 0;
  std::unordered_map<webrtc::SocketAddress, size_t, webrtc::SocketAddressHash> pending_by_host_;
  // Pending connections in accept order, for the timeout; entries of connections matched or gone meanwhile
  // are skipped when they come up.
  std::deque<std::pair<int64_t, webrtc::SocketAddress>> pending_since_;
};

}  // namespace atrium::server
