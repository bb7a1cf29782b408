// One RTMP client publishing into a room, as the core sees it: the RtmpSession (handshake, chunks, AMF
// commands, FLV tags) plus what turns its stream into core events - H264 passed through as RFC 6184 RTP
// payloads, AAC transcoded to Opus (media/audio). Sans-IO like WebRtcSession: bytes in, bytes out, core
// events polled, `now` passed in.
//
// Life: the client connects and asks to publish (take_publish_request); the runtime checks the names and
// the token and answers admit(join) or refuse(...). Admitted, the publisher joins the room; once the core
// says Joined it tells the client NetStream.Publish.Start and publishes track "video" (and "audio" when the
// stream carries AAC). Unpublishing, a protocol error, B-frames, or the runtime's close() end it: closed()
// turns true, and the runtime flushes pending_output() and drops the connection (the endpoint leaves).
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/events/endpoint_event.h"
#include "core/events/transport_event.h"
#include "core/util/ring_queue.h"
#include "media/audio/aac_to_opus.h"
#include "transport/rtmp/rtmp_session.h"

namespace atrium::rtmp {

// What the client asked to publish to: the app and the stream key of its URL (docs/rtmp.md).
struct PublishTarget {
  std::string app;
  std::string stream_key;
  std::string tc_url;
};

// Why a publisher ended, for the refusal counters.
enum class EndReason : uint8_t {
  kNone,
  kUnpublished,  // the client said so
  kPeerTaken,    // the room already has this peer
  kJoinFailed,   // any other join error
  kBFrames,
  kProtocol,  // broken RTMP
  kRuntime,   // the runtime closed it (socket gone, refused, timeout, shutdown)
};

struct PublisherCounters {
  uint64_t video_frames = 0;
  uint64_t audio_frames = 0;
  uint64_t opus_packets = 0;
  uint64_t audio_errors = 0;
  uint64_t keyframe_requests = 0;  // viewers asked; an RTMP encoder cannot be asked, its GOP decides
};

class RtmpPublisher {
 public:
  static constexpr core::RemoteTrackId kVideoTrack = 1;
  static constexpr core::RemoteTrackId kAudioTrack = 2;

  explicit RtmpPublisher(uint64_t seed, media::Micros now = 0);

  void receive(media::Micros now, std::span<const uint8_t> bytes);
  std::span<const uint8_t> pending_output() const { return session_.pending_output(); }
  void consume_output(size_t n) { session_.consume_output(n); }

  // Once per connection, when the client's publish command arrived.
  std::optional<PublishTarget> take_publish_request();
  // The runtime's verdict on it; `how` picks the onStatus code the client is told.
  void admit(core::JoinParams join);
  void refuse(PublishRejection how, const std::string& sentence);
  // Ends it now (socket gone, timeout, shutdown); the core is told by the endpoint's removal.
  void close(const std::string& why);

  std::optional<core::TransportEvent> pop_event();
  // Sentences for the log: media the server cannot take, an audio config it refused, the first AAC frame
  // that did not decode.
  std::optional<std::string> pop_notice();
  void on_endpoint_event(media::Micros now, const core::EndpointEvent& event);

  bool publishing() const { return joined_; }
  bool closed() const { return closed_; }
  const std::string& close_reason() const { return close_reason_; }
  EndReason end_reason() const { return end_reason_; }
  const PublisherCounters& counters() const { return counters_; }
  const RtmpSessionCounters& session_counters() const { return session_.counters(); }
  // What the stream carries, for the log: "1280x720 H264 + AAC 44100 Hz stereo" once known.
  const std::string& description() const { return description_; }

 private:
  void on_session_event(media::Micros now, RtmpEvent&& event);
  void on_video(media::Micros now, const VideoAccessUnit& au);
  void on_audio_config(const AudioConfigured& c);
  void on_audio(media::Micros now, const AudioFrame& f);
  void publish_tracks();
  void end(EndReason reason, const std::string& why);
  // A payload copied into storage that stays put until the next receive(): the core's packets are views.
  std::span<const uint8_t> keep(std::span<const uint8_t> payload);
  void emit_media(core::RemoteTrackId track, const media::MediaPacket& packet);

  RtmpSession session_;
  std::unique_ptr<media::audio::AacToOpus> audio_;
  std::optional<PublishTarget> request_;
  bool request_taken_ = false;
  bool admitted_ = false;
  bool joined_ = false;
  bool video_published_ = false;
  bool audio_published_ = false;
  bool audio_refused_ = false;
  bool closed_ = false;
  std::string close_reason_;
  EndReason end_reason_ = EndReason::kNone;
  std::string description_;
  uint16_t video_seq_ = 0;
  uint16_t audio_seq_ = 0;
  core::RingQueue<core::TransportEvent> events_{64};
  core::RingQueue<std::string> notices_{4};
  bool audio_error_noticed_ = false;
  std::string video_info_, audio_info_;
  std::deque<std::vector<uint8_t>> store_;  // deque: elements never move, so the views stay valid
  size_t store_used_ = 0;
  PublisherCounters counters_;
};

}  // namespace atrium::rtmp
