// Text helpers the parsers share (SDP, HTTP headers, query strings): names there are ASCII and compare
// without case, and a number is the whole token or it is not a number.
#pragma once

#include <cctype>
#include <charconv>
#include <string>
#include <string_view>
#include <system_error>

namespace atrium::media {

inline std::string ascii_lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// The whole of `s` as a number of type T (no sign for unsigned types, no spaces, no trailing text).
template <typename T>
bool parse_number(std::string_view s, T& out) {
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}

}  // namespace atrium::media
