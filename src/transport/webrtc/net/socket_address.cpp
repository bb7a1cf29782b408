#include "transport/webrtc/net/socket_address.h"

#include <arpa/inet.h>

namespace atrium::webrtc {

std::optional<SocketAddress> SocketAddress::parse(std::string_view ip, uint16_t port) {
  std::string s(ip);
  SocketAddress a;
  a.port = port;
  if (inet_pton(AF_INET, s.c_str(), a.ip.data()) == 1) return a;
  if (s.size() > 2 && s.front() == '[' && s.back() == ']') s = s.substr(1, s.size() - 2);
  if (inet_pton(AF_INET6, s.c_str(), a.ip.data()) == 1) {
    a.v6 = true;
    return a;
  }
  return std::nullopt;
}

std::string SocketAddress::ip_string() const {
  char buf[INET6_ADDRSTRLEN] = {};
  inet_ntop(v6 ? AF_INET6 : AF_INET, ip.data(), buf, sizeof buf);
  return buf;
}

std::string SocketAddress::to_string() const {
  return v6 ? "[" + ip_string() + "]:" + std::to_string(port) : ip_string() + ":" + std::to_string(port);
}

}  // namespace atrium::webrtc
