// Identifiers shared by every layer of the core.
#pragma once

#include <cstdint>
#include <string_view>

#include "core/util/fnv1a.h"

namespace atrium::core {

// One client session (WHIP publisher, WHEP viewer, SDK peer) inside one node; assigned by the hub, never
// reused.
using EndpointId = uint64_t;
// A track the client publishes, numbered by its transport; unique within the endpoint.
using RemoteTrackId = uint32_t;
// A track the client receives, numbered by its transport; unique within the endpoint.
using LocalTrackId = uint32_t;
// A key-frame request for every spatial layer of a source (and the only value a non-simulcast source needs).
inline constexpr uint8_t kAnySpatialLayer = 0xFF;
// The media channel of one published track in the whole cluster: the same (room, peer, track) gives the same
// id on every node, so nodes agree on NATS subjects without asking each other.
using ChannelId = uint64_t;

// FNV-1a 64 over "room\0peer\0track": stable across builds, platforms and processes.
constexpr ChannelId channel_id(std::string_view room, std::string_view peer, std::string_view track) {
  uint64_t h = kFnv1aOffset;
  for (std::string_view s : {room, peer, track})
    h = fnv1a(s, h) * kFnv1aPrime;  // the separator: ("ab","c") and ("a","bc") differ
  return h;
}

}  // namespace atrium::core
