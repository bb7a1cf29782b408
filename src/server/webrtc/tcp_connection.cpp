#include "server/webrtc/tcp_connection.h"

#include <array>

#include <boost/asio/write.hpp>

#include "server/webrtc/tcp_port.h"
#include "server/worker_core.h"

namespace atrium::server {

namespace asio = boost::asio;

TcpConnection::TcpConnection(TcpPort& port, asio::ip::tcp::socket socket, const webrtc::SocketAddress& remote,
                             int64_t now, WebRtcCounters::Tcp& counters)
    : port_(port), socket_(std::move(socket)), remote_(remote), accepted_at_(now), counters_(counters) {}

void TcpConnection::start() {
  read();
}

void TcpConnection::read() {
  const auto room = deframer_.writable();
  socket_.async_read_some(asio::buffer(room.data(), room.size()),
                          [self = shared_from_this()](const boost::system::error_code& ec, size_t n) {
                            if (self->closed_) return;
                            if (ec) return self->port_.lost(*self);
                            self->counters_.bytes_in.fetch_add(n, std::memory_order_relaxed);
                            self->deframer_.commit(n);
                            const int64_t now = WorkerCore::now();
                            for (;;) {
                              const auto status = self->deframer_.next();
                              if (status == webrtc::Rfc4571Deframer::Status::kNeedMore) break;
                              if (status == webrtc::Rfc4571Deframer::Status::kTooLong)
                                return self->port_.refuse(now, *self, self->counters_.malformed,
                                                          "a frame length over the maximum");
                              self->port_.on_frame(now, *self, self->deframer_.frame());
                              if (self->closed_) return;
                            }
                            self->port_.after_read(now);
                            if (!self->closed_) self->read();
                          });
}

void TcpConnection::matched(size_t send_queue) {
  if (!queue_) queue_.emplace(send_queue);
}

void TcpConnection::send(std::span<const uint8_t> datagram) {
  if (!queue_ || closed_) return;
  using V = webrtc::TcpSendQueue::Verdict;
  switch (queue_->push(datagram)) {
    case V::kQueued:
      counters_.bytes_queued.fetch_add(datagram.size() + 2, std::memory_order_relaxed);
      counters_.queued_bytes.fetch_add(static_cast<int64_t>(datagram.size() + 2), std::memory_order_relaxed);
      break;
    case V::kFrameDropped:
      counters_.frames_dropped.fetch_add(1, std::memory_order_relaxed);
      counters_.packets_dropped.fetch_add(1, std::memory_order_relaxed);
      break;
    case V::kFrameCut:
      counters_.frames_cut.fetch_add(1, std::memory_order_relaxed);
      counters_.packets_dropped.fetch_add(1, std::memory_order_relaxed);
      break;
    case V::kFrameRest:
      counters_.packets_dropped.fetch_add(1, std::memory_order_relaxed);
      break;
    case V::kDropped:
      counters_.other_dropped.fetch_add(1, std::memory_order_relaxed);
      break;
  }
  if (!writing_) write();
}

void TcpConnection::write() {
  if (queue_->empty()) return;
  const auto pieces = queue_->pending();
  const std::array<asio::const_buffer, 2> buffers{asio::buffer(pieces[0].data(), pieces[0].size()),
                                                  asio::buffer(pieces[1].data(), pieces[1].size())};
  writing_ = true;
  asio::async_write(
      socket_, buffers, [self = shared_from_this()](const boost::system::error_code& ec, size_t n) {
        self->writing_ = false;
        if (self->closed_) return;
        self->queue_->consume(n);
        self->counters_.bytes_out.fetch_add(n, std::memory_order_relaxed);
        self->counters_.queued_bytes.fetch_sub(static_cast<int64_t>(n), std::memory_order_relaxed);
        if (ec) return self->port_.lost(*self);
        self->write();
      });
}

void TcpConnection::close() {
  if (closed_) return;
  closed_ = true;
  if (queue_)
    counters_.queued_bytes.fetch_sub(static_cast<int64_t>(queue_->size()), std::memory_order_relaxed);
  boost::system::error_code ec;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ec);
  socket_.close(ec);
}

}  // namespace atrium::server
