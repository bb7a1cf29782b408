#include "cluster/nats/key_codec.h"

#include <vector>

namespace atrium::cluster::nats {

namespace {

constexpr char kHex[] = "0123456789ABCDEF";

bool safe(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::vector<std::string_view> split(std::string_view s) {
  std::vector<std::string_view> out;
  size_t start = 0;
  for (size_t i = 0; i <= s.size(); ++i) {
    if (i == s.size() || s[i] == '.') {
      out.push_back(s.substr(start, i - start));
      start = i + 1;
    }
  }
  return out;
}

std::string channel_hex(core::ChannelId id) {
  std::string out(16, '0');
  for (int i = 15; i >= 0; --i) {
    out[static_cast<size_t>(i)] = kHex[id & 0xf];
    id >>= 4;
  }
  return out;
}

}  // namespace

std::string encode_token(std::string_view name) {
  std::string out;
  out.reserve(name.size());
  for (char c : name) {
    if (safe(c)) {
      out.push_back(c);
    } else {
      const auto b = static_cast<uint8_t>(c);
      out.push_back('=');
      out.push_back(kHex[b >> 4]);
      out.push_back(kHex[b & 0xf]);
    }
  }
  return out;
}

std::optional<std::string> decode_token(std::string_view token) {
  if (token.empty()) return std::nullopt;
  std::string out;
  out.reserve(token.size());
  for (size_t i = 0; i < token.size(); ++i) {
    if (token[i] == '=') {
      if (i + 2 >= token.size()) return std::nullopt;
      const int hi = hex_value(token[i + 1]);
      const int lo = hex_value(token[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (safe(token[i])) {
      out.push_back(token[i]);
    } else {
      return std::nullopt;
    }
  }
  return out;
}

std::string peer_key(std::string_view room, std::string_view peer) {
  return "room." + encode_token(room) + "." + encode_token(peer);
}

std::string track_key(std::string_view room, std::string_view peer, std::string_view track) {
  return peer_key(room, peer) + "." + encode_token(track);
}

std::string room_filter(std::string_view room) {
  return "room." + encode_token(room) + ".>";
}

std::optional<DirKey> parse_dir_key(std::string_view key) {
  const auto parts = split(key);
  if ((parts.size() != 3 && parts.size() != 4) || parts[0] != "room") return std::nullopt;
  DirKey k;
  auto room = decode_token(parts[1]);
  auto peer = decode_token(parts[2]);
  if (!room || !peer) return std::nullopt;
  k.room = std::move(*room);
  k.peer = std::move(*peer);
  if (parts.size() == 4) {
    auto track = decode_token(parts[3]);
    if (!track) return std::nullopt;
    k.track = std::move(*track);
  }
  return k;
}

std::string node_key(std::string_view owner) {
  return "node." + encode_token(owner);
}

std::string media_subject(std::string_view prefix, core::ChannelId id) {
  return std::string(prefix) + ".media." + channel_hex(id);
}

std::string feedback_subject(std::string_view prefix, core::ChannelId id) {
  return std::string(prefix) + ".fb." + channel_hex(id);
}

}  // namespace atrium::cluster::nats
