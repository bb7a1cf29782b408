// The names clients choose (rooms, peers) travel in URLs, logs, metrics and NATS keys: printable, short, and
// the same rule for every transport.
#pragma once

#include <algorithm>
#include <cctype>
#include <string_view>

namespace atrium::core {

constexpr size_t kMaxUrlSafeName = 128;

// 1 to 128 of A-Z a-z 0-9 - _ . ~ (the unreserved characters of RFC 3986).
inline bool is_url_safe_name(std::string_view s) {
  return !s.empty() && s.size() <= kMaxUrlSafeName && std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' || c == '~';
  });
}

}  // namespace atrium::core
