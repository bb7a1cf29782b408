// One worker's UDP media port: every session of the worker shares it. It reads datagrams when the socket is
// readable (a bounded number per wake, so timers and posted work still run) and sends in batches: the
// datagrams a pump queued leave through one sendmmsg per kSendBatch, straight from the sessions' queues.
// Only the worker's thread touches it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>

#include "server/webrtc/webrtc_counters.h"
#include "transport/webrtc/net/socket_address.h"
#include "transport/webrtc/session/udp_session.h"

namespace atrium::server {

class UdpPort {
 public:
  // Datagrams per sendmmsg. A pump that fans one packet out to N viewers queues N datagrams; they leave in
  // ceil(N / kSendBatch) system calls instead of N.
  static constexpr size_t kSendBatch = 128;
  // A session whose queue holds this many (of DatagramQueue's 64 slots) sends the batch at once, so that
  // batching never makes a queue overflow.
  static constexpr size_t kQueueHighWater = 32;
  static constexpr int kMaxDatagramsPerWake = 64;  // then let timers and posted work run

  // A session's side of the batch: datagrams at the front of its queue that are in the batch. The batch
  // points into the queue, so an Outbox must stay where it is while it has datagrams batched.
  struct Outbox {
    webrtc::UdpSession* session = nullptr;
    size_t batched = 0;
  };

  // A datagram arrived (`data` is the receive buffer, valid until the call returns).
  using OnDatagram = std::function<void(int64_t now, const webrtc::SocketAddress& from, std::span<uint8_t>)>;
  // After each wake's datagrams.
  using AfterWake = std::function<void(int64_t now)>;

  UdpPort(boost::asio::io_context& io, WebRtcCounters& counters, OnDatagram on_datagram,
          AfterWake after_wake);
  ~UdpPort();

  // Binds and starts reading; "" or a sentence saying why not.
  std::string open(const boost::asio::ip::address& bind, uint16_t port);
  uint16_t port() const { return port_; }

  // The session's next datagram (number out.batched in its queue) joins the batch, which is sent first
  // when full.
  void add(Outbox& out);
  // After a session's datagrams joined: sends the batch when that session's queue is filling up.
  void added(Outbox& out);
  // Sends the batch; its datagrams then leave their sessions' queues (sent or, refused by the kernel,
  // dropped and counted).
  void send_batch();

 private:
  struct Batch;  // sendmmsg arrays (udp_port.cpp)
  void receive();

  boost::asio::ip::udp::socket socket_;
  WebRtcCounters& counters_;
  OnDatagram on_datagram_;
  AfterWake after_wake_;
  uint16_t port_ = 0;
  std::vector<uint8_t> receive_buffer_;
  std::unique_ptr<Batch> batch_;
};

}  // namespace atrium::server
