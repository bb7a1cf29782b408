// What ChannelRouter keeps per member and per media channel, shared with the relay that reads it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/events/room_types.h"
#include "core/ids.h"

namespace atrium::core {

class ActiveSpeakerDetector;
class RoomMix;

struct RouterMember {
  std::string room;
  std::string peer;
  std::string meta;
};

struct RouterSubscriber {
  EndpointId ep;
  LocalTrackId id;
  uint32_t desired_bps;  // UINT32_MAX: no limit
};

// One published track as this node sees it: its publisher (local, or 0 when on another node) and the local
// tracks attached to it.
struct RouterChannel {
  ChannelId id = 0;
  std::string room;
  std::string peer;
  TrackInfo info;
  EndpointId publisher = 0;  // 0: published on another node
  RemoteTrackId remote = 0;
  std::vector<RouterSubscriber> subscribers;  // local ones
  uint32_t announced_bps = 0;                 // publisher here: what its endpoint was last told
  uint32_t remote_bps = 0;                    // publisher here: the most any other node wants (relay's word)
  // Audio published here: its room's detector and its peer's slot there (levels go in per packet).
  ActiveSpeakerDetector* speakers = nullptr;
  uint32_t speaker_slot = 0;
  // Audio of a room with a mix: the room's RoomMix takes every packet (published here or relayed) under
  // this input id. The mix counts as a subscriber: a channel from another node stays open for it, and the
  // publisher is told someone listens.
  RoomMix* mix = nullptr;
  uint32_t mix_input = 0;
};

}  // namespace atrium::core
