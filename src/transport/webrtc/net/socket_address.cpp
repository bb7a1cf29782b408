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
  // Appends rather than operator+ chains: GCC 12 at -O2 reports a false -Wrestrict on "[" + std::string.
  std::string out;
  if (v6) out.push_back('[');
  out.append(ip_string());
  if (v6) out.push_back(']');
  out.push_back(':');
  out.append(std::to_string(port));
  if (tcp) out.append(" tcp");
  return out;
}

}  // namespace atrium::webrtc
