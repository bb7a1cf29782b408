// One RTMP client's TCP connection on a worker: reads into the RtmpPublisher, writes what it answers, feeds
// its core events to the worker's hub once it publishes. Reads and writes are asynchronous and bounded: a
// stalled client costs its own buffers only (at most kMaxUnsent bytes waiting to be written, then it is
// closed), never the worker's time.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include <boost/asio/ip/tcp.hpp>

#include "server/rtmp/rtmp_service.h"
#include "transport/rtmp/rtmp_publisher.h"

namespace atrium::server {

class RtmpWorker;

class RtmpConnection : public std::enable_shared_from_this<RtmpConnection> {
 public:
  // What the client may leave unread before it counts as stalled and is closed.
  static constexpr size_t kMaxUnsent = 1 << 20;

  RtmpConnection(RtmpWorker& worker, boost::asio::ip::tcp::socket socket,
                 std::unique_ptr<rtmp::RtmpPublisher> publisher, int64_t now);

  const std::string& address() const { return address_; }  // the client's IP, for the pending limits
  bool pending() const { return !route_; }
  // Whether it still counts against the worker's pending limits (RtmpWorker gives the slot back once).
  void hold_pending_slot() { pending_slot_ = true; }
  bool release_pending_slot() { return std::exchange(pending_slot_, false); }
  int64_t started() const { return started_; }
  int64_t last_read() const { return last_read_; }
  bool closing() const { return closing_; }

  void start();  // the read loop
  // On the room's worker: join the room.
  void join(int64_t now, RtmpService::Route route);
  void on_endpoint_event(int64_t now, const core::EndpointEvent& event);
  // Ends it: says why in the log, and the endpoint leaves the room at once; what is queued for the client is
  // written, and the socket lingers (reading and dropping) for a second so that the client reads it.
  void close(int64_t now, const std::string& why, std::atomic<uint64_t>* counter = nullptr);
  int64_t closing_since() const { return closing_since_; }
  // Closes the socket now; what was queued for the client is dropped.
  void finish(int64_t now);
  // At shutdown, on the worker's thread: everything now, the endpoint included.
  void abort(int64_t now);

 private:
  void read();
  void on_read(const boost::system::error_code& ec, size_t n);
  // After any input: the publish request, the core events, the answer bytes, the end.
  void process(int64_t now);
  void feed_core(int64_t now);
  void write();
  void move_to(Worker& target);
  void finish_endpoint(int64_t now);  // the endpoint leaves the room
  void sync_counters();

  RtmpWorker& worker_;
  boost::asio::ip::tcp::socket socket_;
  std::unique_ptr<rtmp::RtmpPublisher> publisher_;
  std::string address_;
  std::string description_;  // "rtmp ROOM/PEER from ADDR" once routed
  std::optional<RtmpService::Route> route_;
  core::EndpointId endpoint_ = 0;
  bool reading_ = false;
  bool writing_ = false;
  bool moving_ = false;  // routed to another worker: moves once no write is in flight
  bool closing_ = false;
  bool finished_ = false;
  bool pending_slot_ = false;
  bool shut_down_ = false;  // our side of the stream is shut (closing, output flushed)
  int64_t started_ = 0;
  int64_t last_read_ = 0;
  int64_t closing_since_ = 0;
  rtmp::PublisherCounters synced_;
  uint64_t synced_in_ = 0, synced_out_ = 0;
  std::array<uint8_t, 64 * 1024> buffer_{};
};

}  // namespace atrium::server
