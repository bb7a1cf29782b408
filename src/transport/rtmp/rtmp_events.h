// What an RtmpSession tells its runtime (RtmpSession::poll_event). One header per direction, like the core's
// event vocabulary: these are the session's outputs besides the bytes to write.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "media/media_packet.h"

namespace atrium::rtmp {

// The client asked to publish. The runtime answers with RtmpSession::accept_publish() or reject_publish().
// `app` and `stream_key` are normalised: rtmp://HOST/live/ROOM/PEER arrives either as app "live" + key
// "ROOM/PEER" or as app "live/ROOM" + key "PEER" (docs/rtmp.md); both give app "live", key "ROOM/PEER".
// Any "?query" the client put on the key is left on it for the runtime.
struct PublishRequested {
  std::string app;
  std::string stream_key;
  std::string tc_url;
};

// onMetaData (from @setDataFrame or on its own). Fields the encoder left out stay 0 / empty. Codec ids are
// named ("H264", "AAC", "MP3", ...); enhanced RTMP's FourCC strings are passed as they came ("hvc1").
struct MetadataReceived {
  uint32_t width = 0, height = 0;
  double framerate = 0;
  std::string video_codec, audio_codec, encoder;
};

// The AVC sequence header arrived (again, with different parameter sets): SPS/PPS known. profile_level_id is
// the SDP form ("42e01f"): SPS bytes 1..3 (profile_idc, constraint flags, level_idc).
struct VideoConfigured {
  std::string profile_level_id;
};

// One H264 access unit, packetized: RtmpSession::video_packets() holds its RTP payloads (in order; marker on
// the last, keyframe on the first of an IDR access unit) until the next poll_event() or receive().
struct VideoAccessUnit {
  uint32_t rtp_timestamp = 0;  // 90 kHz, FLV dts (ms) x 90, wrapping with it
  bool keyframe = false;       // an IDR access unit (its first packet is a STAP-A with SPS + PPS)
};

// The AAC AudioSpecificConfig (ISO 14496-3 1.6.2.1) the frames that follow need.
struct AudioConfigured {
  std::vector<uint8_t> audio_specific_config;
};

// One raw AAC frame (no ADTS header).
struct AudioFrame {
  uint32_t timestamp_ms = 0;
  std::span<const uint8_t> aac;  // valid until the next poll_event() or receive()
};

// Media in a codec the server does not take, once per kind per session (later tags are only counted). The
// other kind keeps flowing: a stream with MP3 audio still plays its video.
struct UnsupportedMedia {
  media::MediaKind kind = media::MediaKind::kVideo;
  std::string sentence;  // e.g. "RTMP audio: MP3 is not supported; send AAC"
};

// The client stopped publishing (FCUnpublish, deleteStream or closeStream; once per publish).
struct PublishEnded {};

// The session is over: a protocol error, a limit, B-frames, a setup timeout. The runtime logs the sentence,
// writes what pending_output() still holds, and closes the socket. Nothing else comes after it.
struct SessionFailed {
  std::string sentence;
};

using RtmpEvent = std::variant<PublishRequested, MetadataReceived, VideoConfigured, VideoAccessUnit,
                               AudioConfigured, AudioFrame, UnsupportedMedia, PublishEnded, SessionFailed>;

}  // namespace atrium::rtmp
