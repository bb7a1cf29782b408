// A SIP message (RFC 3261 §7) parsed in place: the start line, the headers and the body are views into the
// caller's buffer, which must outlive the message. No allocation: at most kMaxHeaders header fields are kept,
// and anything past a limit is an error with a sentence, never a partial message. What the SIP transport
// reads from UDP datagrams and TCP streams (SipStreamFramer) goes through here first; it is fuzzed
// (tests/fuzz/sip_message_fuzz.cpp).
//
// Accepted as RFC 3261 allows: compact header names (f, t, i, v, m, l, c, k, s, e, o, r, u, x, y, b, a, j, d,
// n), case-insensitive names, folded header lines (obsolete line folding: a line starting with SP or HTAB
// continues the previous one), LWS around the colon, bare LF line ends. Refused: a missing or bad start
// line, a header line without a colon, more than kMaxHeaders fields, a Content-Length that is not a number
// or exceeds what follows (UDP: the datagram is the whole message), a message over kMaxMessageSize.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace atrium::sip {

inline constexpr size_t kMaxMessageSize =
    64 * 1024;                                 // UDP carries far less; a TCP peer sending more is broken
inline constexpr size_t kMaxHeaders = 64;      // header fields (lines) per message
inline constexpr size_t kMaxStartLine = 4096;  // request line or status line

struct SipHeader {
  std::string_view name;   // as written (compact or full)
  std::string_view value;  // trimmed; folded lines keep their inner CRLF SP (unfold with unfolded())
};

class SipMessage {
 public:
  // Parses `data` as one whole message (a UDP datagram, or what SipStreamFramer cut from a stream).
  // Returns the message or nothing, with error() saying why.
  static std::optional<SipMessage> parse(std::string_view data, std::string* error = nullptr);

  bool is_request() const { return status_ == 0; }
  std::string_view method() const { return method_; }    // requests: "INVITE", ...
  std::string_view request_uri() const { return uri_; }  // requests
  int status() const { return status_; }                 // responses: 100..699
  std::string_view reason() const { return reason_; }    // responses
  std::string_view body() const { return body_; }

  // The first field named `name` (full name, case-insensitive; its compact form matches too), or nothing.
  std::optional<std::string_view> header(std::string_view name) const;
  // Every field named `name`, in order, each value split at top-level commas (Via: a, b -> two values).
  // Calls `fn(value)` for each; quoted strings and <...> are not split.
  template <typename Fn>
  void each_value(std::string_view name, Fn&& fn) const;
  std::span<const SipHeader> headers() const { return {headers_.data(), count_}; }

  // Convenience views of the fields every transaction needs; empty when absent.
  std::string_view call_id() const { return header("Call-ID").value_or(""); }
  std::optional<uint32_t> cseq_number() const;
  std::string_view cseq_method() const;
  std::string_view top_via() const;     // the first Via value
  std::string_view via_branch() const;  // its ;branch= parameter
  std::string_view from_tag() const;
  std::string_view to_tag() const;

 private:
  std::string_view method_, uri_, reason_, body_;
  int status_ = 0;
  std::array<SipHeader, kMaxHeaders> headers_{};
  size_t count_ = 0;
};

// `;name=value` from a header value's parameters (after the URI/host part), case-insensitive name; empty when
// absent, and also when present without a value.
std::string_view header_param(std::string_view value, std::string_view name);
// A folded value with its line breaks replaced by one space (RFC 3261 §7.3.1), trimmed.
std::string unfolded(std::string_view value);
// Case-insensitive ASCII comparison.
bool iequals(std::string_view a, std::string_view b);
// Whether a field written as `field` is the header `name` (a full name), by its full or its compact form.
bool header_matches(std::string_view field, std::string_view name);

// Splits `value` at commas outside quotes and angle brackets.
template <typename Fn>
void split_values(std::string_view value, Fn&& fn) {
  bool quoted = false;
  int angle = 0;
  size_t start = 0;
  auto emit = [&](size_t end) {
    std::string_view v = value.substr(start, end - start);
    while (!v.empty() && (v.front() == ' ' || v.front() == '\t' || v.front() == '\r' || v.front() == '\n'))
      v.remove_prefix(1);
    while (!v.empty() && (v.back() == ' ' || v.back() == '\t' || v.back() == '\r' || v.back() == '\n'))
      v.remove_suffix(1);
    if (!v.empty()) fn(v);
  };
  for (size_t i = 0; i < value.size(); ++i) {
    const char c = value[i];
    if (c == '\\' && quoted) {
      ++i;
    } else if (c == '"') {
      quoted = !quoted;
    } else if (!quoted && c == '<') {
      ++angle;
    } else if (!quoted && c == '>' && angle > 0) {
      --angle;
    } else if (!quoted && angle == 0 && c == ',') {
      emit(i);
      start = i + 1;
    }
  }
  emit(value.size());
}

template <typename Fn>
void SipMessage::each_value(std::string_view name, Fn&& fn) const {
  for (size_t i = 0; i < count_; ++i) {
    if (header_matches(headers_[i].name, name)) split_values(headers_[i].value, fn);
  }
}

}  // namespace atrium::sip
