#include "server/rtmp/rtmp_worker.h"

#include <vector>

#include <spdlog/spdlog.h>

#include "server/rtmp/rtmp_connection.h"
#include "server/webrtc/random_id.h"

namespace atrium::server {
namespace {

uint64_t handshake_seed() {
  return (uint64_t{random_u32()} << 32) | random_u32();
}

}  // namespace

RtmpWorker::RtmpWorker(Worker& worker, WorkerCore& core, RtmpService& service)
    : worker_(worker), core_(core), service_(service), sweep_timer_(worker.io_context()) {
  sweep();
}

RtmpWorker::~RtmpWorker() {
  sweep_timer_.cancel();
  if (acceptor_) {
    boost::system::error_code ignored;
    acceptor_->close(ignored);
  }
  const int64_t now = WorkerCore::now();
  std::vector<std::shared_ptr<RtmpConnection>> all;
  for (auto& [raw, c] : connections_)
    all.push_back(c);
  for (auto& c : all)
    c->abort(now);
  connections_.clear();
}

std::string RtmpWorker::listen(const boost::asio::ip::tcp::endpoint& at) {
  boost::system::error_code ec;
  acceptor_ = std::make_unique<boost::asio::ip::tcp::acceptor>(worker_.io_context());
  acceptor_->open(at.protocol(), ec);
  if (!ec) acceptor_->set_option(boost::asio::ip::tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor_->bind(at, ec);
  if (!ec) acceptor_->listen(boost::asio::socket_base::max_listen_connections, ec);
  if (ec) {
    acceptor_.reset();
    return "cannot listen for RTMP on " + at.address().to_string() + ":" + std::to_string(at.port()) + ": " +
           ec.message() + " (--rtmp ADDR:PORT, or --rtmp off)";
  }
  accept();
  return {};
}

uint16_t RtmpWorker::listen_port() const {
  boost::system::error_code ec;
  return acceptor_ ? acceptor_->local_endpoint(ec).port() : 0;
}

void RtmpWorker::accept() {
  acceptor_->async_accept([this](const boost::system::error_code& ec, boost::asio::ip::tcp::socket socket) {
    if (ec == boost::asio::error::operation_aborted || !acceptor_) return;
    if (!ec) {
      auto& counters = service_.counters();
      counters.accepted.fetch_add(1, std::memory_order_relaxed);
      boost::system::error_code peer_ec;
      const auto peer = socket.remote_endpoint(peer_ec);
      const std::string address = peer_ec ? "?" : peer.address().to_string();
      const auto& config = service_.config();
      if (pending_ >= config.rtmp_max_pending ||
          pending_by_address_[address] >= config.rtmp_max_pending_per_address) {
        counters.refused_full.fetch_add(1, std::memory_order_relaxed);
        spdlog::debug("rtmp: closed a new connection from {}: {} connections not publishing yet ({} from it)",
                      address, pending_, pending_by_address_[address]);
        if (pending_by_address_[address] == 0) pending_by_address_.erase(address);
        socket.close(peer_ec);
      } else {
        ++pending_;
        ++pending_by_address_[address];
        counters.connections.fetch_add(1, std::memory_order_relaxed);
        auto c = std::make_shared<RtmpConnection>(*this, std::move(socket),
                                                  std::make_unique<rtmp::RtmpPublisher>(handshake_seed()),
                                                  WorkerCore::now());
        c->hold_pending_slot();
        connections_.emplace(c.get(), c);
        c->start();
      }
    } else {
      // EMFILE and the like: the next accept may work once descriptors are free again.
      spdlog::warn("rtmp: accept failed: {}", ec.message());
    }
    accept();
  });
}

void RtmpWorker::adopt(int fd, const boost::asio::ip::tcp::endpoint& peer,
                       std::unique_ptr<rtmp::RtmpPublisher> publisher, RtmpService::Route route) {
  boost::system::error_code ec;
  boost::asio::ip::tcp::socket socket(worker_.io_context());
  socket.assign(peer.protocol(), fd, ec);
  const int64_t now = WorkerCore::now();
  auto c = std::make_shared<RtmpConnection>(*this, std::move(socket), std::move(publisher), now);
  connections_.emplace(c.get(), c);
  c->join(now, std::move(route));
  c->start();
}

void RtmpWorker::on_endpoint_event(int64_t now, core::EndpointId id, const core::EndpointEvent& event) {
  auto it = by_endpoint_.find(id);
  if (it != by_endpoint_.end()) it->second->on_endpoint_event(now, event);
}

void RtmpWorker::own(core::EndpointId id, RtmpConnection& c) {
  by_endpoint_[id] = &c;
  core_.own(id, *this);
}

void RtmpWorker::left_pending(RtmpConnection& c) {
  if (!c.release_pending_slot()) return;
  if (pending_ > 0) --pending_;
  auto it = pending_by_address_.find(c.address());
  if (it != pending_by_address_.end() && --it->second <= 0) pending_by_address_.erase(it);
}

void RtmpWorker::forget(RtmpConnection& c) {
  left_pending(c);
  for (auto it = by_endpoint_.begin(); it != by_endpoint_.end();) {
    if (it->second == &c) {
      core_.disown(it->first);
      it = by_endpoint_.erase(it);
    } else {
      ++it;
    }
  }
  // The caller may be `c` itself: keep it alive until this turn of the loop is over.
  auto it = connections_.find(&c);
  if (it == connections_.end()) return;
  auto keep = std::move(it->second);
  connections_.erase(it);
  boost::asio::post(worker_.io_context(), [keep = std::move(keep)] {});
}

void RtmpWorker::sweep() {
  sweep_timer_.expires_after(std::chrono::seconds(1));
  sweep_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    const int64_t now = WorkerCore::now();
    const int64_t start_limit = std::chrono::microseconds(kStartTimeout).count();
    const int64_t idle_limit = std::chrono::microseconds(kIdleTimeout).count();
    std::vector<std::shared_ptr<RtmpConnection>> all;
    for (auto& [raw, c] : connections_)
      all.push_back(c);
    auto& counters = service_.counters();
    for (auto& c : all) {
      if (c->closing()) {
        if (now - c->closing_since() > 1'000'000) c->finish(now);  // a second to flush its last words
      } else if (c->pending() && now - c->started() > start_limit) {
        c->close(now, "did not start publishing within 10 s of connecting", &counters.timeouts);
      } else if (!c->pending() && now - c->last_read() > idle_limit) {
        c->close(now, "sent nothing for 10 s", &counters.timeouts);
      }
    }
    sweep();
  });
}

}  // namespace atrium::server
