// Names as NATS sees them. Room, peer and track names are any 1-128 bytes, but a KV key or subject token may
// only hold [-_=A-Za-z0-9] safely ('.' separates tokens, '*' and '>' are wildcards). Tokens keep the safe
// characters and write every other byte as "=XX", so the mapping is reversible and readable for plain ASCII
// names.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/ids.h"

namespace atrium::cluster::nats {

std::string encode_token(std::string_view name);
std::optional<std::string> decode_token(std::string_view token);  // nullopt: not something encode_token made

// One directory entry's key: "room.<room>.<peer>" for a peer, "room.<room>.<peer>.<track>" for its track.
struct DirKey {
  std::string room;
  std::string peer;
  std::string track;  // empty for a peer entry
  bool is_track() const { return !track.empty(); }
};

std::string peer_key(std::string_view room, std::string_view peer);
std::string track_key(std::string_view room, std::string_view peer, std::string_view track);
std::string room_filter(std::string_view room);  // "room.<room>.>": every entry of one room
std::optional<DirKey> parse_dir_key(std::string_view key);

std::string node_key(std::string_view owner);  // "node.<owner>": the heartbeat of one bus instance

// "<prefix>.media.<16 hex digits>" and "<prefix>.fb.<16 hex digits>"
std::string media_subject(std::string_view prefix, core::ChannelId id);
std::string feedback_subject(std::string_view prefix, core::ChannelId id);

}  // namespace atrium::cluster::nats
