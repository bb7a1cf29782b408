// One ICE-TCP connection (RFC 6544, a client's active end to our passive candidate): reads RFC 4571 frames
// into its port, writes what the session sends it through a bounded TcpSendQueue. At most one write is
// outstanding, gathering the queue's (at most two) spans; the worker never waits on the socket, and a client
// that reads slowly costs its own queue only, which then drops whole frames. Only the worker's thread
// touches it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/ip/tcp.hpp>

#include "server/webrtc/webrtc_counters.h"
#include "transport/webrtc/net/socket_address.h"
#include "transport/webrtc/tcp/rfc4571_deframer.h"
#include "transport/webrtc/tcp/tcp_send_queue.h"

namespace atrium::server {

class TcpPort;

class TcpConnection : public std::enable_shared_from_this<TcpConnection> {
 public:
  TcpConnection(TcpPort& port, boost::asio::ip::tcp::socket socket, const webrtc::SocketAddress& remote,
                int64_t now, WebRtcCounters::Tcp& counters);

  // The client's address as sessions see it (tcp set).
  const webrtc::SocketAddress& remote() const { return remote_; }
  int64_t accepted_at() const { return accepted_at_; }
  // Not matched to a session yet: its first frame must be a check a session authenticates.
  bool pending() const { return !queue_; }
  bool closed() const { return closed_; }

  void start();  // the read loop
  // The first check was authenticated: from now on the connection can carry the session's datagrams, up to
  // `send_queue` bytes waiting.
  void matched(size_t send_queue);
  // Frames `datagram` and queues it (or drops it by TcpSendQueue's policy); starts a write if none is out.
  void send(std::span<const uint8_t> datagram);
  // Closes the socket; queued bytes are dropped. The port forgets the connection; its handlers end it.
  void close();

 private:
  void read();
  void write();

  TcpPort& port_;
  boost::asio::ip::tcp::socket socket_;
  webrtc::SocketAddress remote_;
  int64_t accepted_at_;
  WebRtcCounters::Tcp& counters_;
  webrtc::Rfc4571Deframer deframer_;
  std::optional<webrtc::TcpSendQueue> queue_;  // once matched
  bool writing_ = false;
  bool closed_ = false;
};

}  // namespace atrium::server
