#include "server/webrtc/udp_port.h"

#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include <array>

#include "server/worker_core.h"

namespace atrium::server {

namespace asio = boost::asio;
using webrtc::SocketAddress;

namespace {

constexpr size_t kReceiveBuffer = 2048;

SocketAddress to_socket_address(const asio::ip::udp::endpoint& ep) {
  SocketAddress a;
  const auto addr = ep.address();
  if (addr.is_v4()) {
    const auto b = addr.to_v4().to_bytes();
    std::copy(b.begin(), b.end(), a.ip.begin());
  } else {
    a.v6 = true;
    a.ip = addr.to_v6().to_bytes();
  }
  a.port = ep.port();
  return a;
}

}  // namespace

struct UdpPort::Batch {
  std::array<mmsghdr, kSendBatch> msgs{};
  std::array<iovec, kSendBatch> iov{};
  std::array<sockaddr_storage, kSendBatch> addr{};
  std::array<Outbox*, kSendBatch> owner{};
  size_t size = 0;

  void add(std::span<const uint8_t> data, const SocketAddress& to, Outbox* out) {
    const size_t i = size++;
    auto& a = addr[i];
    socklen_t len = 0;
    if (to.v6) {
      auto* a6 = reinterpret_cast<sockaddr_in6*>(&a);
      *a6 = {};
      a6->sin6_family = AF_INET6;
      a6->sin6_port = htons(to.port);
      std::memcpy(&a6->sin6_addr, to.ip.data(), 16);
      len = sizeof(sockaddr_in6);
    } else {
      auto* a4 = reinterpret_cast<sockaddr_in*>(&a);
      *a4 = {};
      a4->sin_family = AF_INET;
      a4->sin_port = htons(to.port);
      std::memcpy(&a4->sin_addr, to.ip.data(), 4);
      len = sizeof(sockaddr_in);
    }
    iov[i] = {const_cast<uint8_t*>(data.data()), data.size()};
    msgs[i] = {};
    msgs[i].msg_hdr.msg_name = &a;
    msgs[i].msg_hdr.msg_namelen = len;
    msgs[i].msg_hdr.msg_iov = &iov[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
    owner[i] = out;
  }
};

UdpPort::UdpPort(asio::io_context& io, WebRtcCounters& counters, OnDatagram on_datagram, AfterWake after_wake)
    : socket_(io),
      counters_(counters),
      on_datagram_(std::move(on_datagram)),
      after_wake_(std::move(after_wake)),
      receive_buffer_(kReceiveBuffer),
      batch_(std::make_unique<Batch>()) {}

UdpPort::~UdpPort() {
  boost::system::error_code ec;
  socket_.close(ec);
}

std::string UdpPort::open(const asio::ip::address& bind, uint16_t port) {
  boost::system::error_code ec;
  const asio::ip::udp::endpoint ep(bind, port);
  socket_.open(ep.protocol(), ec);
  if (!ec) socket_.bind(ep, ec);
  if (ec)
    return "cannot bind UDP " + ep.address().to_string() + ":" + std::to_string(port) + ": " + ec.message();
  socket_.non_blocking(true, ec);
  // Bursts of fan-out leave faster than the kernel's default buffers drain.
  socket_.set_option(asio::socket_base::send_buffer_size(4 << 20), ec);
  socket_.set_option(asio::socket_base::receive_buffer_size(4 << 20), ec);
  port_ = socket_.local_endpoint().port();
  receive();
  return {};
}

void UdpPort::receive() {
  socket_.async_wait(asio::ip::udp::socket::wait_read, [this](const boost::system::error_code& ec) {
    if (ec) return;
    const int64_t now = WorkerCore::now();
    for (int i = 0; i < kMaxDatagramsPerWake; ++i) {
      asio::ip::udp::endpoint from;
      boost::system::error_code rec;
      const size_t n = socket_.receive_from(asio::buffer(receive_buffer_), from, 0, rec);
      if (rec) break;  // would_block: drained
      counters_.datagrams_in.fetch_add(1, std::memory_order_relaxed);
      counters_.bytes_in.fetch_add(n, std::memory_order_relaxed);
      on_datagram_(now, to_socket_address(from), std::span(receive_buffer_.data(), n));
    }
    after_wake_(now);
    receive();
  });
}

void UdpPort::add(Outbox& out) {
  if (batch_->size == kSendBatch) send_batch();  // pops what it sent: out.batched and the queue shrink alike
  const auto d = out.session->datagrams().at(out.batched);
  batch_->add(d.data, d.to, &out);
  ++out.batched;
}

void UdpPort::added(Outbox& out) {
  if (out.session->datagrams().size() >= kQueueHighWater) send_batch();
}

void UdpPort::send_batch() {
  auto& b = *batch_;
  if (b.size == 0) return;
  const int fd = socket_.native_handle();
  size_t off = 0;
  uint64_t sent = 0, bytes = 0, errors = 0;
  while (off < b.size) {
    const int n = ::sendmmsg(fd, &b.msgs[off], static_cast<unsigned>(b.size - off), 0);
    if (n > 0) {
      for (size_t i = off; i < off + static_cast<size_t>(n); ++i)
        bytes += b.iov[i].iov_len;
      sent += static_cast<uint64_t>(n);
      off += static_cast<size_t>(n);
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else {
      ++errors;  // this datagram is dropped (e.g. the send buffer is full), as send_to did; go on with the
                 // next
      ++off;
    }
  }
  for (size_t i = 0; i < b.size; ++i) {
    Outbox* out = b.owner[i];
    out->session->datagrams().pop();
    --out->batched;
  }
  b.size = 0;
  if (sent) {
    counters_.datagrams_out.fetch_add(sent, std::memory_order_relaxed);
    counters_.bytes_out.fetch_add(bytes, std::memory_order_relaxed);
  }
  if (errors) counters_.send_errors.fetch_add(errors, std::memory_order_relaxed);
}

}  // namespace atrium::server
