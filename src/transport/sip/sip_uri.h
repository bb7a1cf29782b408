// SIP and SIPS URIs (RFC 3261 §19.1) and the name-addr form around them in From, To and Contact
// ("Alice" <sip:alice@host;transport=tcp>;tag=x). Views into the caller's text, no allocation. What the room
// is taken from (the request URI's user part, docs/sip.md) and what a caller is named after (the display
// name, else the user part).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace atrium::sip {

struct SipUri {
  bool secure = false;        // sips:
  std::string_view user;      // before '@' (without ":password"); may be empty (sip:host)
  std::string_view password;  // after "user:" (discouraged by RFC 3261, parsed so it is not taken as a port)
  std::string_view host;      // a name, an IPv4 address, or an IPv6 reference without its brackets
  uint16_t port = 0;          // 0: absent
  std::string_view params;    // ";a=b;c" as written, without the leading ';'
  std::string_view headers;   // "?h=v&..." as written, without the '?'
};

// Parses "sip:..." or "sips:..." (scheme case-insensitive). Nothing for anything else (tel:, a bad port, an
// empty host, an unclosed IPv6 reference).
std::optional<SipUri> parse_sip_uri(std::string_view text);

// The URI inside a name-addr ("<...>") or an addr-spec up to its header parameters; the display name,
// unquoted (escapes kept as written), or empty.
std::string_view addr_spec(std::string_view name_addr);
std::string_view display_name(std::string_view name_addr);

// A URI parameter (";transport=tcp") by name, case-insensitive; empty when absent or without a value.
std::string_view uri_param(const SipUri& uri, std::string_view name);

}  // namespace atrium::sip
