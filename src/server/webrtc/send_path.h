// Where a session's datagrams leave the worker: each goes the way its address says, to the UDP port's send
// batch or, for the remote end of an ICE-TCP connection, into that connection's send queue (RFC 4571
// framing, the drop policy of TcpSendQueue). The session itself only ever addresses datagrams; this is the
// one place that tells the two apart.
#pragma once

#include "server/webrtc/tcp_port.h"
#include "server/webrtc/udp_port.h"

namespace atrium::server {

class SendPath {
 public:
  SendPath(UdpPort& udp, TcpPort* tcp) : udp_(udp), tcp_(tcp) {}

  // The session's datagrams not yet handed on: UDP ones join the batch, TCP ones are copied into their
  // connection (a datagram to a connection that is gone is dropped). Order is kept: a TCP datagram behind
  // batched UDP ones waits for the batch to be sent.
  void stage(UdpPort::Outbox& out);

 private:
  UdpPort& udp_;
  TcpPort* tcp_;  // null with --tcp-port off
};

}  // namespace atrium::server
