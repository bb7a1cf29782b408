// Every limit the RTMP session enforces, in one place (docs/rtmp.md lists them). A peer that goes past one is
// a protocol error (SessionFailed), never a crash or an unbounded allocation.
#pragma once

#include <cstddef>
#include <cstdint>

namespace atrium::rtmp {

// The largest message (after reassembly from chunks) we accept. A 1080p x264 IDR at 8 Mbit/s is ~200-400 KiB;
// 4 MiB leaves room for very high bitrates while bounding what one message can make us hold.
inline constexpr uint32_t kMaxMessageSize = 4 * 1024 * 1024;

// Partial messages held at once, over every chunk stream (their buffers' capacity). Two maximum messages fit.
inline constexpr size_t kMaxAssemblyBytes = 2 * size_t{kMaxMessageSize};

// Chunk stream ids a peer may use at once. Encoders use 3-6 (control, command, audio, video, data).
inline constexpr size_t kMaxChunkStreams = 64;

// Set Chunk Size accepts 1..0x7FFFFFFF as the spec says. A chunk never carries more than the rest of its
// message, so sizes above kMaxMessageSize behave exactly as kMaxMessageSize: that is the effective cap.
inline constexpr uint32_t kMaxChunkSizeField = 0x7FFFFFFF;
inline constexpr uint32_t kMaxEffectiveChunkSize = kMaxMessageSize;

// The size of a chunk when nothing set it (RTMP spec 5.4.1).
inline constexpr uint32_t kDefaultChunkSize = 128;

// The largest chunk header: 3-byte basic header + 11-byte type 0 message header + 4-byte extended timestamp.
inline constexpr size_t kMaxChunkHeader = 18;

// Input held but not yet parsed. The runtime drains poll_event() after each receive(), so what stays is less
// than one chunk; this bounds a runtime that does not, and a peer that floods a session that stopped reading.
inline constexpr size_t kMaxBufferedInput = kMaxEffectiveChunkSize + kMaxChunkHeader + 256 * 1024;

// AMF0 nesting (objects, ECMA and strict arrays inside each other) and values per decoded message.
// onMetaData is 2 deep; 16 is generous. The value count bounds memory: one byte of input can be one value.
inline constexpr int kMaxAmf0Depth = 16;
inline constexpr size_t kMaxAmf0Values = 4096;

// What the server sends at connect (docs/rtmp.md): the acknowledgement window and peer bandwidth (bytes),
// and the chunk size of everything it sends afterwards.
inline constexpr uint32_t kServerWindowAckSize = 5'000'000;
inline constexpr uint32_t kServerPeerBandwidth = 5'000'000;
inline constexpr uint32_t kServerChunkSize = 4096;

// The peer's Window Acknowledgement Size is honoured from this value up; smaller ones would make us send an
// acknowledgement for nearly every read (a cheap way to make the server write as much as it reads).
inline constexpr uint32_t kMinPeerWindowAckSize = 4096;

// RTP payload budget for H264 packets (RFC 6184): 1200 bytes keeps RTP + SRTP + UDP + IP under common MTUs.
inline constexpr size_t kDefaultMaxRtpPayload = 1200;

// From the first byte received to an accepted publish (handshake, connect, createStream, publish): a client
// that has not got there by then is dropped (RtmpSession::tick).
inline constexpr int64_t kSetupTimeoutMicros = 10'000'000;

}  // namespace atrium::rtmp
