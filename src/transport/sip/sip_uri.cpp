#include "transport/sip/sip_uri.h"

#include <charconv>

#include "transport/sip/sip_message.h"

namespace atrium::sip {
namespace {

std::string_view trim(std::string_view v) {
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t'))
    v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t'))
    v.remove_suffix(1);
  return v;
}

}  // namespace

std::optional<SipUri> parse_sip_uri(std::string_view text) {
  SipUri u;
  text = trim(text);
  // Unescaped spaces and the delimiters of a name-addr never appear inside a URI (RFC 3261 §25.1).
  if (text.find_first_of(" \t\r\n<>\"") != std::string_view::npos) return std::nullopt;
  if (text.size() >= 5 && iequals(text.substr(0, 5), "sips:")) {
    u.secure = true;
    text.remove_prefix(5);
  } else if (text.size() >= 4 && iequals(text.substr(0, 4), "sip:")) {
    text.remove_prefix(4);
  } else {
    return std::nullopt;
  }
  if (const size_t q = text.find('?'); q != std::string_view::npos) {
    u.headers = text.substr(q + 1);
    text = text.substr(0, q);
  }
  // userinfo ends at the last '@' before any parameter (a user part may hold ';' as user parameters).
  if (const size_t at = text.rfind('@'); at != std::string_view::npos) {
    std::string_view userinfo = text.substr(0, at);
    text.remove_prefix(at + 1);
    if (const size_t colon = userinfo.find(':'); colon != std::string_view::npos) {
      u.password = userinfo.substr(colon + 1);
      userinfo = userinfo.substr(0, colon);
    }
    u.user = userinfo;
  }
  if (const size_t semi = text.find(';'); semi != std::string_view::npos) {
    u.params = text.substr(semi + 1);
    text = text.substr(0, semi);
  }
  std::string_view port;
  if (!text.empty() && text.front() == '[') {
    const size_t close = text.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    u.host = text.substr(1, close - 1);
    std::string_view rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return std::nullopt;
      port = rest.substr(1);
    }
  } else {
    const size_t colon = text.find(':');
    u.host = text.substr(0, colon);
    if (colon != std::string_view::npos) port = text.substr(colon + 1);
  }
  if (u.host.empty()) return std::nullopt;
  if (u.host.find('@') != std::string_view::npos) return std::nullopt;
  if (!port.empty() || text.find(':') != std::string_view::npos) {
    unsigned value = 0;
    auto [p, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (port.empty() || ec != std::errc() || p != port.data() + port.size() || value == 0 || value > 65535)
      return std::nullopt;
    u.port = static_cast<uint16_t>(value);
  }
  return u;
}

std::string_view addr_spec(std::string_view name_addr) {
  name_addr = trim(name_addr);
  const size_t open = name_addr.find('<');
  if (open != std::string_view::npos) {
    const size_t close = name_addr.find('>', open);
    if (close == std::string_view::npos) return {};
    return name_addr.substr(open + 1, close - open - 1);
  }
  // addr-spec form: header parameters (;tag=) start at the first ';' (RFC 3261 §20.10: no URI parameters
  // are possible here without angle brackets).
  return trim(name_addr.substr(0, name_addr.find(';')));
}

std::string_view display_name(std::string_view name_addr) {
  name_addr = trim(name_addr);
  const size_t open = name_addr.find('<');
  if (open == std::string_view::npos) return {};
  std::string_view name = trim(name_addr.substr(0, open));
  if (name.size() >= 2 && name.front() == '"' && name.back() == '"') name = name.substr(1, name.size() - 2);
  return name;
}

std::string_view uri_param(const SipUri& uri, std::string_view name) {
  std::string_view params = uri.params;
  while (!params.empty()) {
    const size_t semi = params.find(';');
    std::string_view p = params.substr(0, semi);
    const size_t eq = p.find('=');
    if (iequals(p.substr(0, eq), name))
      return eq == std::string_view::npos ? std::string_view() : p.substr(eq + 1);
    if (semi == std::string_view::npos) break;
    params.remove_prefix(semi + 1);
  }
  return {};
}

}  // namespace atrium::sip
