// One RTMP publisher connection, server side, sans-IO (docs/rtmp.md): bytes in, bytes out, events polled,
// time passed in. No sockets, threads, clocks or logging.
//
//   session.receive(bytes, now);                        // what the socket read
//   while (auto e = session.poll_event()) { ... }       // drain after every receive (see below)
//   write(session.pending_output()); session.consume_output(n);
//   session.tick(now);                                   // now and then: the setup timeout
//
// Input is parsed lazily: receive() and poll_event() parse until an event is queued and stop there, so an
// event's views (AudioFrame::aac, video_packets()) point into the session's buffers with no copy and stay
// valid until the next poll_event() or receive(). The runtime must drain poll_event() after each receive();
// input it leaves unparsed is bounded by kMaxBufferedInput (past it the session fails).
//
// Commands: connect (-> Window Acknowledgement Size, Set Peer Bandwidth, Set Chunk Size, _result
// NetConnection.Connect.Success), releaseStream (-> _result), FCPublish (-> onFCPublish), createStream
// (-> _result, stream id 1), publish (-> PublishRequested; the runtime calls accept_publish(): User Control
// Stream Begin + onStatus NetStream.Publish.Start, or reject_publish()), @setDataFrame / onMetaData
// (-> MetadataReceived), FCUnpublish / deleteStream / closeStream (-> PublishEnded), play (-> onStatus
// NetStream.Play.Failed: publish only). Other commands get _error when they carry a transaction id > 0 and
// are otherwise ignored; both are counted (unknown_commands).
//
// B-frames: a video tag with a non-zero composition time offset gets onStatus error
// NetStream.Publish.Rejected with kBFramesSentence, SessionFailed with the same sentence, and no more media
// is taken.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "media/media_packet.h"
#include "transport/rtmp/amf0.h"
#include "transport/rtmp/chunk_reader.h"
#include "transport/rtmp/chunk_writer.h"
#include "transport/rtmp/h264_packetizer.h"
#include "transport/rtmp/handshake.h"
#include "transport/rtmp/rtmp_counters.h"
#include "transport/rtmp/rtmp_events.h"
#include "transport/rtmp/rtmp_limits.h"

namespace atrium::rtmp {

inline constexpr std::string_view kBFramesSentence =
    "B-frames are not supported: the stream has composition time offsets. Set the encoder to send no "
    "B-frames (x264: bframes=0, or profile baseline; OBS: Advanced -> x264 options bframes=0)";
inline constexpr std::string_view kPlayRefusedSentence =
    "this server takes RTMP publish only; watch over WHEP";

struct RtmpSessionConfig {
  uint64_t seed = 0;  // the handshake's S1 random bytes are drawn from it
  size_t max_rtp_payload = kDefaultMaxRtpPayload;
  uint32_t chunk_size = kServerChunkSize;           // announced at connect, used for all we send after
  uint32_t window_ack_size = kServerWindowAckSize;  // the client acknowledges every this many bytes
  uint32_t peer_bandwidth = kServerPeerBandwidth;
  media::Micros setup_timeout = kSetupTimeoutMicros;  // first byte -> accepted publish
};

// How reject_publish() answers (onStatus code, level "error").
enum class PublishRejection : uint8_t {
  kBadName,          // NetStream.Publish.BadName: the stream key names no room/peer we accept, or it is taken
  kRejected,         // NetStream.Publish.Rejected: anything else (not allowed, server busy)
  kConnectRejected,  // NetConnection.Connect.Rejected: a missing or bad token in the stream key
};

class RtmpSession {
 public:
  enum class State : uint8_t {
    kHandshake,         // waiting for C0+C1 / C2
    kConnecting,        // handshake done, waiting for connect
    kConnected,         // connected, not publishing (createStream, FCPublish, ... or a publish ended)
    kPublishRequested,  // PublishRequested queued; waiting for accept_publish() / reject_publish()
    kPublishing,        // media flows
    kClosing,           // failed or rejected: flush pending_output(), then close the socket
  };

  explicit RtmpSession(RtmpSessionConfig config = {}, media::Micros now = 0);

  // Bytes read from the socket. Ignored once closing (still counted in bytes_in).
  void receive(std::span<const uint8_t> bytes, media::Micros now);
  // The setup timeout: no accepted publish within config.setup_timeout of the session's creation fails it.
  void tick(media::Micros now);

  // The next event; parses held input when none is queued. nullopt: nothing more until the next receive().
  std::optional<RtmpEvent> poll_event();
  // The RTP payloads of the last VideoAccessUnit; valid until the next poll_event() or receive().
  std::span<const RtpPayloadView> video_packets() const { return packetizer_.packets(); }

  // Bytes to write to the socket, oldest first; consume_output(n) after writing n of them.
  std::span<const uint8_t> pending_output() const;
  void consume_output(size_t n);

  // Answers PublishRequested (no effect in any other state).
  void accept_publish();
  // onStatus (level error, code per `reason`) with `description`, then the session is closing.
  void reject_publish(std::string description, PublishRejection reason = PublishRejection::kRejected);

  State state() const { return state_; }
  bool closing() const { return state_ == State::kClosing; }
  bool publishing() const { return state_ == State::kPublishing; }
  const RtmpSessionCounters& counters() const { return counters_; }
  // From connect and publish, normalised as in PublishRequested (empty until then).
  const std::string& app() const { return app_; }
  const std::string& stream_key() const { return stream_key_; }
  const std::string& tc_url() const { return tc_url_; }

 private:
  void process();
  void on_message(const RtmpMessage& m);
  void on_command(const RtmpMessage& m, std::span<const uint8_t> body);
  void on_data(std::span<const uint8_t> body);
  void on_video(const RtmpMessage& m);
  void on_audio(const RtmpMessage& m);
  void on_user_control(std::span<const uint8_t> body);

  void on_connect(double txn, const std::vector<Amf0Value>& args);
  void on_publish(const RtmpMessage& m, double txn, const std::vector<Amf0Value>& args);
  void end_publish();
  void unsupported(media::MediaKind kind, std::string sentence);

  void fail(std::string sentence);
  void push(RtmpEvent e);
  bool events_pending() const { return head_ < events_.size(); }

  // Output.
  void write_message(uint32_t csid, MessageType type, uint32_t stream_id, std::span<const uint8_t> payload);
  void send_control32(MessageType type, uint32_t value);
  void send_user_control(UserControlEvent event, uint32_t value);
  void send_on_status(uint32_t stream_id, std::string_view level, std::string_view code,
                      std::string_view description);
  void send_error(double txn, std::string_view code, std::string_view description);
  void send_command(uint32_t stream_id);  // scratch_ holds the AMF0 body

  RtmpSessionConfig config_;
  State state_ = State::kHandshake;
  media::Micros created_;
  ServerHandshake handshake_;
  ChunkReader reader_;
  ChunkWriter writer_;
  H264Packetizer packetizer_;

  std::vector<uint8_t> in_;
  size_t in_pos_ = 0;
  std::vector<uint8_t> out_;
  size_t out_pos_ = 0;
  std::vector<uint8_t> scratch_;
  std::vector<RtmpEvent> events_;
  size_t head_ = 0;

  // Acknowledgements of what we receive, once the client set a window.
  uint32_t peer_window_ = 0;
  uint32_t received_ = 0;  // bytes, wrapping as the Acknowledgement's sequence number does
  uint32_t acked_ = 0;

  std::string app_, tc_url_, stream_key_;
  uint32_t publish_stream_id_ = 1;
  bool ever_published_ = false;
  bool video_configured_ = false;
  uint8_t nal_length_size_ = 4;
  std::vector<uint8_t> avc_config_;  // the last AVCDecoderConfigurationRecord, to report changes only
  bool audio_configured_ = false;
  bool video_unsupported_sent_ = false;
  bool audio_unsupported_sent_ = false;
  RtmpSessionCounters counters_;
};

}  // namespace atrium::rtmp
