#include "server/webrtc/turn_credentials.h"

#include <netdb.h>
#include <sys/socket.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>

#include <boost/asio/ip/address.hpp>

namespace atrium::server {

namespace {

std::string base64(const unsigned char* data, size_t size) {
  std::string out(4 * ((size + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data, static_cast<int>(size));
  out.resize(static_cast<size_t>(std::max(n, 0)));
  return out;
}

// A quoted-string for a Link parameter (RFC 9110 section 5.6.4): backslash before '"' and '\'.
std::string link_quoted(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

bool is_turn_url(std::string_view url) {
  return url.starts_with("turn:") || url.starts_with("turns:");
}

// turn:HOST[:PORT][?transport=...] -> HOST ([v6] without brackets).
std::string url_host(std::string_view url) {
  url.remove_prefix(url.find(':') + 1);
  if (const auto q = url.find('?'); q != std::string_view::npos) url = url.substr(0, q);
  if (url.starts_with('[')) {
    const auto end = url.find(']');
    return std::string(url.substr(1, end == std::string_view::npos ? std::string_view::npos : end - 1));
  }
  return std::string(url.substr(0, url.find(':')));
}

}  // namespace

std::vector<std::string> split_comma_list(std::string_view s) {
  std::vector<std::string> out;
  while (!s.empty()) {
    const auto comma = s.find(',');
    std::string item(s.substr(0, comma));
    item.erase(0, item.find_first_not_of(' '));
    item.erase(item.find_last_not_of(' ') + 1);
    if (!item.empty()) out.push_back(std::move(item));
    if (comma == std::string_view::npos) break;
    s.remove_prefix(comma + 1);
  }
  return out;
}

TurnCredential mint_turn_credential(std::string_view secret, int64_t expiry, std::string_view peer) {
  TurnCredential c;
  c.username = std::to_string(expiry) + ":" + std::string(peer);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha1(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(c.username.data()), c.username.size(), mac, &len);
  c.password = base64(mac, len);
  return c;
}

std::vector<IceServer> ice_servers_for(const IceServerSettings& s, std::string_view peer, int64_t now) {
  std::vector<IceServer> out;
  for (auto& url : split_comma_list(s.ice_servers))
    out.push_back(IceServer{{std::move(url)}, {}, {}});
  if (!s.turn_secret.empty()) {
    auto urls = split_comma_list(s.turn_urls);
    if (!urls.empty()) {
      auto c = mint_turn_credential(s.turn_secret, now + s.turn_ttl, peer);
      out.push_back(IceServer{std::move(urls), std::move(c.username), std::move(c.password)});
    }
  }
  return out;
}

std::vector<std::string> ice_server_links(const std::vector<IceServer>& servers) {
  std::vector<std::string> out;
  for (const auto& s : servers) {
    for (const auto& url : s.urls) {
      std::string link = "<" + url + ">; rel=\"ice-server\"";
      if (!s.username.empty())
        link += "; username=" + link_quoted(s.username) + "; credential=" + link_quoted(s.credential) +
                "; credential-type=\"password\"";
      out.push_back(std::move(link));
    }
  }
  return out;
}

nlohmann::json ice_servers_json(const std::vector<IceServer>& servers) {
  auto out = nlohmann::json::array();
  for (const auto& s : servers) {
    nlohmann::json j{{"urls", s.urls}};
    if (!s.username.empty()) {
      j["username"] = s.username;
      j["credential"] = s.credential;
    }
    out.push_back(std::move(j));
  }
  return out;
}

std::vector<std::string> turn_server_addresses(std::string_view turn_urls) {
  std::vector<std::string> out;
  auto add = [&out](std::string a) {
    if (std::find(out.begin(), out.end(), a) == out.end()) out.push_back(std::move(a));
  };
  for (const auto& url : split_comma_list(turn_urls)) {
    if (!is_turn_url(url)) continue;
    const auto host = url_host(url);
    boost::system::error_code ec;
    const auto ip = boost::asio::ip::make_address(host, ec);
    if (!ec) {
      add(ip.to_string());
      continue;
    }
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_DGRAM;
    addrinfo* list = nullptr;
    if (getaddrinfo(host.c_str(), nullptr, &hints, &list) != 0) continue;
    for (addrinfo* i = list; i; i = i->ai_next) {
      char buf[NI_MAXHOST];
      if (getnameinfo(i->ai_addr, i->ai_addrlen, buf, sizeof buf, nullptr, 0, NI_NUMERICHOST) == 0) add(buf);
    }
    freeaddrinfo(list);
  }
  return out;
}

}  // namespace atrium::server
