#include "server/rtmp/rtmp_connection.h"

#include <unistd.h>

#include <spdlog/spdlog.h>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>

#include "server/rtmp/rtmp_worker.h"

namespace atrium::server {

RtmpConnection::RtmpConnection(RtmpWorker& worker, boost::asio::ip::tcp::socket socket,
                               std::unique_ptr<rtmp::RtmpPublisher> publisher, int64_t now)
    : worker_(worker),
      socket_(std::move(socket)),
      publisher_(std::move(publisher)),
      started_(now),
      last_read_(now) {
  boost::system::error_code ec;
  const auto peer = socket_.remote_endpoint(ec);
  address_ = ec ? "?" : peer.address().to_string();
  description_ = "rtmp connection from " + address_;
  socket_.set_option(boost::asio::ip::tcp::no_delay(true), ec);
  synced_in_ = publisher_->session_counters().bytes_in;
  synced_out_ = publisher_->session_counters().bytes_out;
  synced_ = publisher_->counters();
}

void RtmpConnection::start() {
  read();
  process(WorkerCore::now());  // a moved connection may hold answers and events already
}

void RtmpConnection::read() {
  if (reading_ || moving_ || finished_) return;
  reading_ = true;
  socket_.async_read_some(
      boost::asio::buffer(buffer_),
      [self = shared_from_this()](const boost::system::error_code& ec, size_t n) { self->on_read(ec, n); });
}

void RtmpConnection::on_read(const boost::system::error_code& ec, size_t n) {
  reading_ = false;
  if (finished_) return;
  const int64_t now = WorkerCore::now();
  if (ec) {
    if (ec == boost::asio::error::operation_aborted) return;
    close(now, ec == boost::asio::error::eof ? "the client closed the connection" : ec.message());
    finish(now);  // nothing more can be said to a client that is gone
    return;
  }
  if (closing_) {
    // Read and dropped: a client blocked on writing would not read the status that says why it was refused
    // (ffmpeg checks for the server's messages between its writes).
    read();
    return;
  }
  last_read_ = now;
  publisher_->receive(now, std::span<const uint8_t>(buffer_.data(), n));
  process(now);
  read();
}

void RtmpConnection::process(int64_t now) {
  if (finished_) return;
  if (!route_ && !moving_) {
    if (auto request = publisher_->take_publish_request()) {
      auto route = worker_.service().route(*request);
      if (!route.ok) {
        spdlog::warn(
            "rtmp: refused a publish from {} (app '{}', key '{}'): {}", address_, request->app,
            request->stream_key.size() > 40 ? request->stream_key.substr(0, 40) + "..." : request->stream_key,
            route.sentence);
        publisher_->refuse(route.status, route.sentence);
        close(now, route.sentence, route.counter);
      } else {
        worker_.left_pending(*this);
        description_ = "rtmp " + route.join.room + "/" + route.join.peer + " from " + address_;
        if (route.worker == &worker_.worker()) {
          join(now, std::move(route));
        } else {
          route_ = std::move(route);
          moving_ = true;
        }
      }
    }
  }
  while (auto notice = publisher_->pop_notice())
    spdlog::warn("{}: {}", description_, *notice);
  if (endpoint_) {
    feed_core(now);
    worker_.core().pump(now);
  }
  if (publisher_->closed() && !closing_) {
    std::atomic<uint64_t>* counter = nullptr;
    auto& c = worker_.service().counters();
    switch (publisher_->end_reason()) {
      case rtmp::EndReason::kPeerTaken:
        counter = &c.refused_taken;
        break;
      case rtmp::EndReason::kBFrames:
        counter = &c.refused_bframes;
        break;
      case rtmp::EndReason::kProtocol:
        counter = &c.protocol_errors;
        break;
      default:
        break;
    }
    close(now, publisher_->close_reason(), counter);
  }
  sync_counters();
  write();
  if (moving_ && !writing_) move_to(*route_->worker);
}

void RtmpConnection::feed_core(int64_t now) {
  auto& hub = worker_.core().hub();
  while (auto event = publisher_->pop_event())
    hub.on_transport(now, endpoint_, std::move(*event));
}

void RtmpConnection::join(int64_t now, RtmpService::Route route) {
  route_ = std::move(route);
  description_ = "rtmp " + route_->join.room + "/" + route_->join.peer + " from " + address_;
  endpoint_ = worker_.core().hub().create_endpoint();
  worker_.own(endpoint_, *this);
  worker_.service().counters().publishing.fetch_add(1, std::memory_order_relaxed);
  spdlog::info("{}: joining", description_);
  publisher_->admit(route_->join);
  feed_core(now);
  worker_.core().pump(now);
}

void RtmpConnection::on_endpoint_event(int64_t now, const core::EndpointEvent& event) {
  if (finished_) return;
  const bool was_publishing = publisher_->publishing();
  publisher_->on_endpoint_event(now, event);
  if (!was_publishing && publisher_->publishing())
    spdlog::info("{}: publishing{}", description_,
                 publisher_->description().empty() ? "" : " " + publisher_->description());
  feed_core(now);  // the hub's drainer delivers what this sets off
  if (publisher_->closed() && !closing_) {
    auto& c = worker_.service().counters();
    close(now, publisher_->close_reason(),
          publisher_->end_reason() == rtmp::EndReason::kPeerTaken ? &c.refused_taken : nullptr);
  }
  write();
}

void RtmpConnection::write() {
  if (writing_ || finished_) return;
  auto out = publisher_->pending_output();
  if (out.empty()) {
    if (closing_ && !shut_down_) {
      // All said: our FIN tells the client; it closes, or the sweep closes the socket a second later.
      shut_down_ = true;
      boost::system::error_code ignored;
      socket_.shutdown(boost::asio::ip::tcp::socket::shutdown_send, ignored);
    }
    return;
  }
  if (out.size() > kMaxUnsent) {
    close(WorkerCore::now(), "the client does not read what it is sent",
          &worker_.service().counters().slow_writers);
    finish(WorkerCore::now());
    return;
  }
  // A copy: the session may append to its output (acknowledgements) while this write is in flight.
  auto buffer = std::make_shared<std::vector<uint8_t>>(out.begin(), out.end());
  publisher_->consume_output(out.size());
  writing_ = true;
  boost::asio::async_write(socket_, boost::asio::buffer(*buffer),
                           [self = shared_from_this(), buffer](const boost::system::error_code& ec, size_t) {
                             self->writing_ = false;
                             if (self->finished_) return;
                             const int64_t now = WorkerCore::now();
                             if (ec) {
                               if (!self->closing_) self->close(now, "write failed: " + ec.message());
                               self->finish(now);
                               return;
                             }
                             self->write();
                             if (self->moving_ && !self->writing_) self->move_to(*self->route_->worker);
                           });
}

void RtmpConnection::move_to(Worker& target) {
  moving_ = false;
  if (finished_ || closing_) return;
  sync_counters();
  boost::system::error_code ec;
  const auto peer = socket_.remote_endpoint(ec);
  const int fd = ec ? -1 : socket_.release(ec);
  auto route = std::move(*route_);
  route_.reset();
  auto publisher = std::move(publisher_);
  auto& service = worker_.service();
  finished_ = true;  // this object is done; the socket lives on in the target worker's connection
  worker_.forget(*this);
  if (fd < 0) {
    spdlog::info("{}: lost while moving to its room's worker: {}", description_, ec.message());
    service.release_publisher();
    service.counters().connections.fetch_sub(1, std::memory_order_relaxed);
    return;
  }
  target.post(
      [&target, &service, fd, peer, publisher = std::move(publisher), route = std::move(route)]() mutable {
        auto* w = target.find<RtmpWorker>();
        if (!w) {
          ::close(fd);
          service.release_publisher();
          service.counters().connections.fetch_sub(1, std::memory_order_relaxed);
          return;
        }
        w->adopt(fd, peer, std::move(publisher), std::move(route));
      });
}

void RtmpConnection::close(int64_t now, const std::string& why, std::atomic<uint64_t>* counter) {
  if (closing_ || finished_) return;
  closing_ = true;
  closing_since_ = now;
  if (counter) counter->fetch_add(1, std::memory_order_relaxed);
  if (!publisher_->closed()) publisher_->close(why);
  spdlog::info("{}: closed: {}", description_, why);
  if (endpoint_) {
    // Not from inside the hub's delivery (this may be one): the room hears on the next turn of the loop.
    boost::asio::post(socket_.get_executor(),
                      [self = shared_from_this()] { self->finish_endpoint(WorkerCore::now()); });
  }
}

void RtmpConnection::abort(int64_t now) {
  if (!finished_ && publisher_ && !publisher_->closed()) publisher_->close("server shutting down");
  finish_endpoint(now);
  finish(now);
}

void RtmpConnection::finish_endpoint(int64_t now) {
  if (!endpoint_) return;
  const auto id = endpoint_;
  endpoint_ = 0;
  worker_.core().disown(id);
  worker_.core().hub().remove_endpoint(now, id);
  worker_.core().pump(now);
  worker_.service().counters().publishing.fetch_sub(1, std::memory_order_relaxed);
}

void RtmpConnection::finish(int64_t now) {
  if (finished_) return;
  finished_ = true;
  sync_counters();
  boost::system::error_code ignored;
  socket_.shutdown(boost::asio::ip::tcp::socket::shutdown_both, ignored);
  socket_.close(ignored);
  if (endpoint_) {
    boost::asio::post(socket_.get_executor(),
                      [self = shared_from_this()] { self->finish_endpoint(WorkerCore::now()); });
  }
  if (route_) worker_.service().release_publisher();
  worker_.service().counters().connections.fetch_sub(1, std::memory_order_relaxed);
  if (now - closing_since_ > 0 && closing_) spdlog::debug("{}: socket closed", description_);
  worker_.forget(*this);
}

void RtmpConnection::sync_counters() {
  if (!publisher_) return;
  auto& c = worker_.service().counters();
  const auto& s = publisher_->session_counters();
  c.bytes_in.fetch_add(s.bytes_in - synced_in_, std::memory_order_relaxed);
  c.bytes_out.fetch_add(s.bytes_out - synced_out_, std::memory_order_relaxed);
  synced_in_ = s.bytes_in;
  synced_out_ = s.bytes_out;
  const auto& p = publisher_->counters();
  c.video_frames.fetch_add(p.video_frames - synced_.video_frames, std::memory_order_relaxed);
  c.audio_frames.fetch_add(p.audio_frames - synced_.audio_frames, std::memory_order_relaxed);
  c.opus_packets.fetch_add(p.opus_packets - synced_.opus_packets, std::memory_order_relaxed);
  c.audio_errors.fetch_add(p.audio_errors - synced_.audio_errors, std::memory_order_relaxed);
  synced_ = p;
}

}  // namespace atrium::server
