// Every counter an RTMP session keeps, declared once (the shape of webrtc/session/session_counters.h): the
// table makes RtmpSessionCounters, and the runtime can walk kRtmpSessionCounters to export them.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

namespace atrium::rtmp {

// X(field, help)
#define ATRIUM_RTMP_SESSION_COUNTERS(X)                                                                     \
  X(bytes_in, "bytes received from the client")                                                             \
  X(bytes_out, "bytes queued to send to the client")                                                        \
  X(messages_in, "RTMP messages received (after chunk reassembly)")                                         \
  X(messages_out, "RTMP messages queued to send")                                                           \
  X(commands_in, "AMF command messages received")                                                           \
  X(unknown_commands, "commands the session does not know (answered _error when they carry a transaction)") \
  X(video_tags, "video messages received")                                                                  \
  X(audio_tags, "audio messages received")                                                                  \
  X(access_units, "H264 access units packetized")                                                           \
  X(rtp_packets, "RTP payloads made from them")                                                             \
  X(audio_frames, "AAC frames handed to the runtime")                                                       \
  X(dropped_tags, "audio/video tags dropped: before publishing, before their codec config, malformed")      \
  X(unsupported_tags, "audio/video tags in a codec the server does not take (or aggregate messages)")       \
  X(acks_sent, "acknowledgements sent for the client's window")                                             \
  X(pings_answered, "ping requests answered")                                                               \
  X(protocol_errors, "protocol errors and exceeded limits (each ends the session)")

struct RtmpSessionCounters {
#define ATRIUM_X(field, help) uint64_t field = 0;
  ATRIUM_RTMP_SESSION_COUNTERS(ATRIUM_X)
#undef ATRIUM_X
};

struct RtmpCounterInfo {
  uint64_t RtmpSessionCounters::*field;
  std::string_view name;
  std::string_view help;
};

inline constexpr std::array kRtmpSessionCounters = {
#define ATRIUM_X(field, help) RtmpCounterInfo{&RtmpSessionCounters::field, #field, help},
    ATRIUM_RTMP_SESSION_COUNTERS(ATRIUM_X)
#undef ATRIUM_X
};

}  // namespace atrium::rtmp
