// One RTMP message as the chunk stream carries it (RTMP spec 1.0, sections 5.3-5.4 and 7.1), and the message
// type ids.
#pragma once

#include <cstdint>
#include <span>

namespace atrium::rtmp {

enum class MessageType : uint8_t {
  kSetChunkSize = 1,
  kAbort = 2,
  kAcknowledgement = 3,
  kUserControl = 4,
  kWindowAckSize = 5,
  kSetPeerBandwidth = 6,
  kAudio = 8,
  kVideo = 9,
  kDataAmf3 = 15,
  kSharedObjectAmf3 = 16,
  kCommandAmf3 = 17,
  kDataAmf0 = 18,
  kSharedObjectAmf0 = 19,
  kCommandAmf0 = 20,
  kAggregate = 22,
};

// User Control event types (spec 7.1.7).
enum class UserControlEvent : uint16_t {
  kStreamBegin = 0,
  kStreamEof = 1,
  kStreamDry = 2,
  kSetBufferLength = 3,
  kStreamIsRecorded = 4,
  kPingRequest = 6,
  kPingResponse = 7,
};

// The chunk stream ids the server writes on: protocol control (spec 5.4: csid 2, stream 0) and commands.
inline constexpr uint32_t kControlChunkStream = 2;
inline constexpr uint32_t kCommandChunkStream = 3;

struct RtmpMessage {
  uint32_t chunk_stream = 0;
  uint8_t type = 0;  // MessageType, but any value the peer sent
  uint32_t stream_id = 0;
  uint32_t timestamp = 0;  // milliseconds, 32-bit, wraps
  std::span<const uint8_t> payload;
};

}  // namespace atrium::rtmp
