// A peer address as the sans-IO WebRTC code sees it: plain bytes, hashable, no socket headers. Usually a UDP
// address; `tcp` marks the remote end of an ICE-TCP connection (RFC 6544), which the session answers like any
// other address and the runtime sends to through that connection (a client may use the same ip:port for
// both).
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace atrium::webrtc {

struct SocketAddress {
  bool v6 = false;
  std::array<uint8_t, 16> ip{};  // IPv4 in the first 4 bytes
  uint16_t port = 0;
  bool tcp = false;

  static SocketAddress v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d, uint16_t port) {
    SocketAddress s;
    s.ip = {a, b, c, d};
    s.port = port;
    return s;
  }
  static std::optional<SocketAddress> parse(std::string_view ip, uint16_t port);
  std::string ip_string() const;
  std::string to_string() const;  // "1.2.3.4:5" or "[::1]:5" (and " tcp" for a TCP connection)
  bool operator==(const SocketAddress&) const = default;
};

struct SocketAddressHash {
  size_t operator()(const SocketAddress& a) const {
    uint64_t lo, hi;
    std::memcpy(&lo, a.ip.data(), 8);
    std::memcpy(&hi, a.ip.data() + 8, 8);
    return std::hash<uint64_t>()(lo * 0x9e3779b97f4a7c15ULL ^ hi ^ (uint64_t{a.port} << 48) ^ a.v6 ^
                                 (uint64_t{a.tcp} << 1));
  }
};

}  // namespace atrium::webrtc
