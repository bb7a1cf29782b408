#include "server/webrtc/tcp_port.h"

#include <spdlog/spdlog.h>

#include "server/worker_core.h"

namespace atrium::server {

namespace asio = boost::asio;
using webrtc::SocketAddress;

namespace {

SocketAddress to_socket_address(const asio::ip::tcp::endpoint& ep) {
  SocketAddress a;
  const auto addr = ep.address();
  if (addr.is_v4() || (addr.is_v6() && addr.to_v6().is_v4_mapped())) {
    const auto b = addr.is_v4() ? addr.to_v4().to_bytes()
                                : asio::ip::make_address_v4(asio::ip::v4_mapped, addr.to_v6()).to_bytes();
    std::copy(b.begin(), b.end(), a.ip.begin());
  } else {
    a.v6 = true;
    a.ip = addr.to_v6().to_bytes();
  }
  a.port = ep.port();
  a.tcp = true;
  return a;
}

}  // namespace

TcpPort::TcpPort(asio::io_context& io, WebRtcCounters::Tcp& counters, TcpPortLimits limits, OnFrame on_frame,
                 AfterRead after_read)
    : acceptor_(io),
      counters_(counters),
      limits_(limits),
      on_frame_(std::move(on_frame)),
      after_read_(std::move(after_read)) {}

TcpPort::~TcpPort() {
  boost::system::error_code ec;
  acceptor_.close(ec);
  for (auto& [remote, c] : connections_)
    c->close();
  counters_.open.fetch_sub(static_cast<int64_t>(connections_.size()), std::memory_order_relaxed);
  counters_.pending.fetch_sub(static_cast<int64_t>(pending_), std::memory_order_relaxed);
}

std::string TcpPort::open(const asio::ip::address& bind, uint16_t port) {
  boost::system::error_code ec;
  const asio::ip::tcp::endpoint ep(bind, port);
  acceptor_.open(ep.protocol(), ec);
  if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(ep, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec)
    return "cannot listen on TCP " + ep.address().to_string() + ":" + std::to_string(port) + ": " +
           ec.message();
  port_ = acceptor_.local_endpoint().port();
  accept();
  return {};
}

void TcpPort::accept() {
  acceptor_.async_accept([this](const boost::system::error_code& ec, asio::ip::tcp::socket socket) {
    if (ec == asio::error::operation_aborted) return;
    if (!ec) admit(std::move(socket));
    // Out of descriptors (EMFILE) or similar: keep accepting; the next connection may fit.
    accept();
  });
}

void TcpPort::admit(asio::ip::tcp::socket socket) {
  boost::system::error_code ec;
  const auto ep = socket.remote_endpoint(ec);
  if (ec) return;
  const SocketAddress remote = to_socket_address(ep);
  const SocketAddress host = host_of(remote);
  auto& from_host = pending_by_host_[host];
  if (connections_.size() >= limits_.max_connections || pending_ >= limits_.max_pending ||
      from_host >= limits_.max_pending_per_address || connections_.contains(remote)) {
    if (from_host == 0) pending_by_host_.erase(host);
    counters_.refused.fetch_add(1, std::memory_order_relaxed);
    socket.close(ec);
    return;
  }
  socket.set_option(asio::ip::tcp::no_delay(true), ec);  // media: no Nagle delay on small datagrams
  socket.non_blocking(true, ec);
  const int64_t now = WorkerCore::now();
  auto c = std::make_shared<TcpConnection>(*this, std::move(socket), remote, now, counters_);
  connections_.emplace(remote, c);
  ++from_host;
  ++pending_;
  pending_since_.emplace_back(now, remote);
  counters_.accepted.fetch_add(1, std::memory_order_relaxed);
  counters_.open.fetch_add(1, std::memory_order_relaxed);
  counters_.pending.fetch_add(1, std::memory_order_relaxed);
  c->start();
}

SocketAddress TcpPort::host_of(const SocketAddress& a) {
  SocketAddress h = a;
  h.port = 0;
  return h;
}

void TcpPort::match(TcpConnection& c) {
  if (!c.pending() || c.closed()) return;
  c.matched(limits_.send_queue);
  --pending_;
  counters_.pending.fetch_sub(1, std::memory_order_relaxed);
  auto it = pending_by_host_.find(host_of(c.remote()));
  if (it != pending_by_host_.end() && --it->second == 0) pending_by_host_.erase(it);
}

bool TcpPort::send(const SocketAddress& to, std::span<const uint8_t> datagram) {
  auto it = connections_.find(to);
  if (it == connections_.end()) return false;
  it->second->send(datagram);
  return true;
}

void TcpPort::close(const SocketAddress& remote) {
  auto it = connections_.find(remote);
  if (it != connections_.end()) drop(*it->second);
}

void TcpPort::refuse(int64_t, TcpConnection& c, std::atomic<uint64_t>& counter, const char* why) {
  counter.fetch_add(1, std::memory_order_relaxed);
  spdlog::debug("webrtc: TCP connection from {} closed: {}", c.remote().to_string(), why);
  drop(c);
}

void TcpPort::lost(TcpConnection& c) {
  drop(c);
}

void TcpPort::drop(TcpConnection& c) {
  auto it = connections_.find(c.remote());
  if (it == connections_.end() || it->second.get() != &c) return;
  auto keep = std::move(it->second);  // `c` lives until its handlers are done with it
  connections_.erase(it);
  if (c.pending()) {
    --pending_;
    counters_.pending.fetch_sub(1, std::memory_order_relaxed);
    auto host = pending_by_host_.find(host_of(c.remote()));
    if (host != pending_by_host_.end() && --host->second == 0) pending_by_host_.erase(host);
  }
  counters_.open.fetch_sub(1, std::memory_order_relaxed);
  c.close();
}

void TcpPort::tick(int64_t now) {
  while (!pending_since_.empty() && now - pending_since_.front().first >= limits_.pending_timeout) {
    const SocketAddress remote = pending_since_.front().second;
    const int64_t since = pending_since_.front().first;
    pending_since_.pop_front();
    auto it = connections_.find(remote);
    if (it == connections_.end() || !it->second->pending() || it->second->accepted_at() != since) continue;
    refuse(now, *it->second, counters_.timed_out, "not matched to a session in time");
  }
}

}  // namespace atrium::server
