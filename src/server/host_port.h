// "address:port" as written in flags and config files ("127.0.0.1:8080", "[::1]:8080", "0.0.0.0:0").
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <boost/asio/ip/tcp.hpp>

namespace atrium::server {

// Parses a numeric address and a port (0 asks the kernel for a free one). No host names: a server binds
// addresses, and resolving at start-up would hide a misconfiguration behind DNS.
std::optional<boost::asio::ip::tcp::endpoint> parse_host_port(std::string_view text);

// The inverse, with brackets around IPv6 addresses.
std::string format_host_port(const boost::asio::ip::tcp::endpoint& endpoint);

}  // namespace atrium::server
