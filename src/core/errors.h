// Errors an endpoint reports to its client: a stable code (part of the public protocol) and a sentence.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace atrium::core {

enum class ErrorCode : uint8_t {
  kNotJoined,           // a room action before join
  kAlreadyJoined,       // join twice
  kInvalidArgument,     // empty room or peer name, name too long, ...
  kPeerIdTaken,         // another endpoint in the room already uses this peer id
  kTrackExists,         // publish a name this peer already publishes
  kTrackNotFound,       // unpublish/meta of an unknown own track, or attach to a track nobody publishes
  kLocalTrackNotFound,  // detach/limits/pause of an unknown local track
  kPeerNotWatched,      // unsubscribe a peer that was not subscribed
  kNotManual,           // subscribe peer while the peer mode is auto
  kPeerNotFound,        // a message to a peer that is not in the room
  kUnavailable,         // the cluster directory could not decide a join in time (NATS away or slow)
};

constexpr std::string_view to_string(ErrorCode c) {
  switch (c) {
    case ErrorCode::kNotJoined:
      return "NOT_JOINED";
    case ErrorCode::kAlreadyJoined:
      return "ALREADY_JOINED";
    case ErrorCode::kInvalidArgument:
      return "INVALID_ARGUMENT";
    case ErrorCode::kPeerIdTaken:
      return "PEER_ID_TAKEN";
    case ErrorCode::kTrackExists:
      return "TRACK_EXISTS";
    case ErrorCode::kTrackNotFound:
      return "TRACK_NOT_FOUND";
    case ErrorCode::kLocalTrackNotFound:
      return "LOCAL_TRACK_NOT_FOUND";
    case ErrorCode::kPeerNotWatched:
      return "PEER_NOT_SUBSCRIBED";
    case ErrorCode::kNotManual:
      return "NOT_MANUAL_MODE";
    case ErrorCode::kPeerNotFound:
      return "PEER_NOT_FOUND";
    case ErrorCode::kUnavailable:
      return "CLUSTER_UNAVAILABLE";
  }
  return "UNKNOWN";
}

struct Error {
  ErrorCode code;
  std::string message;
};

}  // namespace atrium::core
