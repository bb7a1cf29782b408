// One WebRTC client leg of the load tool: its own UDP socket, ICE checks (and answers to the server's checks,
// for full-ICE servers such as Janus), a client-role DTLS handshake and SRTP, all on the media thread's
// io_context. A publisher sends synthetic media (see MediaSource); a subscriber checks what it receives.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/steady_timer.hpp>

#include "load/sdp_util.h"
#include "transport/webrtc/dtls/dtls_transport.h"
#include "transport/webrtc/srtp/srtp_session.h"

namespace atrium::load {

// Payload trailer of every synthetic packet: magic, then the send time (steady clock, ns), big endian.
inline constexpr uint32_t kTrailerMagic = 0x41544C44;  // "ATLD"
inline constexpr size_t kTrailerSize = 12;

int64_t steady_ns();

// Shared by every subscriber; only the media thread writes it.
struct ReceiveTotals {
  std::atomic<uint64_t> packets{0};         // RTP packets received (decrypted) since start
  std::atomic<uint64_t> window_packets{0};  // ... while `measuring`
  std::atomic<uint64_t> srtp_failures{0};
  std::atomic<uint64_t> datagrams_sent{0};  // by every peer (media, checks, DTLS, STUN answers)
  std::atomic<bool> measuring{false};
  // Latency histogram in 10 µs buckets up to 2 s (the last bucket holds everything above), window only.
  static constexpr size_t kBuckets = 200001;
  std::vector<uint64_t> latency = std::vector<uint64_t>(kBuckets, 0);
};

struct MediaSettings {
  int video_kbps = 2500;
  int video_pps = 300;  // delta frames: video_pps / fps packets each
  int fps = 30;
  double keyframe_interval_s = 2.0;  // plus one whenever the server asks (PLI/FIR), at most every 300 ms
  bool audio = true;                 // opus-like, 50 packets/s of 120 bytes
  int decrypt_every = 1;             // subscribers: authenticate and decrypt one packet in this many
};

class Peer {
 public:
  enum class Role { kPublisher, kSubscriber };

  Peer(boost::asio::io_context& io, Role role, std::string name, const boost::asio::ip::address& bind,
       std::shared_ptr<webrtc::DtlsContext> dtls, ReceiveTotals* totals);
  ~Peer();
  Peer(const Peer&) = delete;
  Peer& operator=(const Peer&) = delete;

  const std::string& name() const { return name_; }
  LocalDescription local() const;  // ufrag, pwd, fingerprint, our candidate

  // From any thread: starts ICE against `remote` (posted to the media thread). `controlling`: we nominate
  // (we made the offer); otherwise the server does. `tcp`: ICE over TCP instead, to the server's passive TCP
  // candidate (RFC 6544 active side, RFC 4571 framing); the UDP socket stays unused.
  void start(RemoteDescription remote, bool controlling, MediaSettings media = {}, bool tcp = false);
  // From any thread: stop sending media and checks (posted).
  void stop();

  bool connected() const { return connected_.load(std::memory_order_relaxed); }
  bool failed() const { return failed_.load(std::memory_order_relaxed); }
  std::string failure() const;  // when failed()

  // Subscriber results (read after stop(), when the media thread is idle or joined).
  uint64_t received() const { return received_.load(std::memory_order_relaxed); }
  uint64_t window_received() const { return window_received_.load(std::memory_order_relaxed); }
  uint64_t lost() const;  // gaps in the sequence numbers of every SSRC, from the first packet on
  uint64_t late() const;  // arrived after a later sequence number (reordered or duplicated)
  uint64_t sent() const { return sent_.load(std::memory_order_relaxed); }  // publisher
  uint64_t keyframes_requested() const { return keyframe_requests_.load(std::memory_order_relaxed); }
  // Subscriber, from any thread: nanoseconds from its media connect (DTLS done, SRTP keys in place) to the
  // first video RTP packet it received (the server's payload type), or -1 before that packet.
  int64_t first_video_ns() const { return first_video_ns_.load(std::memory_order_relaxed); }

 private:
  struct SeqTrack {
    uint32_t ssrc = 0;
    bool started = false;
    int64_t first = 0;
    int64_t highest = 0;
    uint64_t received = 0;
    uint64_t late = 0;
  };

  void receive();
  void tcp_receive();
  void connect_tcp();
  // To the server over UDP (`to`) or, over TCP, framed on the connection.
  void send_to(std::span<const uint8_t> data, const boost::asio::ip::udp::endpoint& to);
  void on_datagram(std::span<uint8_t> data, const boost::asio::ip::udp::endpoint& from);
  void on_stun(std::span<const uint8_t> data, const boost::asio::ip::udp::endpoint& from);
  void on_rtp(std::span<uint8_t> data);
  void on_rtcp(std::span<uint8_t> data);
  void send_check();
  void check_timer();
  void start_dtls();
  void flush_dtls();
  void dtls_timer();
  void on_connected();
  void fail(std::string why);
  void send_raw(std::span<const uint8_t> data);
  void media_timer();
  void send_video_frame(int64_t now_ns);
  void send_audio(int64_t now_ns);
  void send_rtp(uint8_t pt, uint16_t seq, uint32_t ts, uint32_t ssrc, bool marker, size_t payload_size,
                bool key_start, bool frame_start, int64_t now_ns);

  boost::asio::io_context& io_;
  Role role_;
  std::string name_;
  std::shared_ptr<webrtc::DtlsContext> dtls_context_;
  ReceiveTotals* totals_;
  boost::asio::ip::udp::socket socket_;
  boost::asio::ip::tcp::socket tcp_;
  bool use_tcp_ = false;
  std::vector<uint8_t> tcp_rx_;  // what arrived on the TCP connection and is not a whole frame yet
  size_t tcp_fill_ = 0;
  boost::asio::steady_timer check_timer_;
  boost::asio::steady_timer dtls_timer_;
  boost::asio::steady_timer media_timer_;
  std::string ufrag_;
  std::string pwd_;
  uint64_t tiebreaker_ = 0;

  RemoteDescription remote_;
  bool controlling_ = true;
  MediaSettings media_;
  boost::asio::ip::udp::endpoint remote_ep_;
  bool ice_ok_ = false;
  bool stopped_ = false;
  std::unique_ptr<webrtc::DtlsTransport> dtls_;
  std::unique_ptr<webrtc::SrtpSession> srtp_;
  std::atomic<bool> connected_{false};
  std::atomic<bool> failed_{false};
  std::string failure_;
  std::array<uint8_t, 2048> rx_{};
  std::array<uint8_t, 2048> tx_{};

  // publisher
  int64_t next_video_ns_ = 0;
  int64_t next_audio_ns_ = 0;
  int64_t last_key_ns_ = 0;
  bool key_wanted_ = true;
  uint16_t video_seq_ = 1000;
  uint16_t audio_seq_ = 5000;
  uint32_t video_ts_ = 90000;
  uint32_t audio_ts_ = 48000;
  std::atomic<uint64_t> sent_{0};
  std::atomic<uint64_t> keyframe_requests_{0};

  // subscriber
  std::vector<SeqTrack> tracks_;
  uint64_t rtp_seen_ = 0;
  int64_t connected_ns_ = 0;
  std::atomic<int64_t> first_video_ns_{-1};
  std::atomic<uint64_t> received_{0};
  std::atomic<uint64_t> window_received_{0};
};

}  // namespace atrium::load
