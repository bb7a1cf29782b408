#include "transport/sip/sip_message.h"

#include <algorithm>
#include <charconv>

namespace atrium::sip {
namespace {

// RFC 3261 §7.3.3 and the registrations since (RFC 3515, 3841, 3891, 3892, 4028, 4474, 3903, ...).
struct Compact {
  char letter;
  std::string_view name;
};
constexpr std::array<Compact, 20> kCompact = {{{'a', "Accept-Contact"},
                                               {'b', "Referred-By"},
                                               {'c', "Content-Type"},
                                               {'d', "Request-Disposition"},
                                               {'e', "Content-Encoding"},
                                               {'f', "From"},
                                               {'i', "Call-ID"},
                                               {'j', "Reject-Contact"},
                                               {'k', "Supported"},
                                               {'l', "Content-Length"},
                                               {'m', "Contact"},
                                               {'n', "Identity-Info"},
                                               {'o', "Event"},
                                               {'r', "Refer-To"},
                                               {'s', "Subject"},
                                               {'t', "To"},
                                               {'u', "Allow-Events"},
                                               {'v', "Via"},
                                               {'x', "Session-Expires"},
                                               {'y', "Identity"}}};

char lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

std::string_view trim(std::string_view v) {
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t'))
    v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t' || v.back() == '\r' || v.back() == '\n'))
    v.remove_suffix(1);
  return v;
}

bool is_token_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         std::string_view("-.!%*_+`'~").find(c) != std::string_view::npos;
}

bool fail(std::string* error, const char* why) {
  if (error) *error = why;
  return false;
}

// The next line of `data` from `pos` (without its CRLF or LF); advances `pos` past the line end. False at
// the end of data without a line end.
bool next_line(std::string_view data, size_t& pos, std::string_view& line) {
  const size_t lf = data.find('\n', pos);
  if (lf == std::string_view::npos) return false;
  size_t end = lf;
  if (end > pos && data[end - 1] == '\r') --end;
  line = data.substr(pos, end - pos);
  pos = lf + 1;
  return true;
}

}  // namespace

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (lower(a[i]) != lower(b[i])) return false;
  return true;
}

bool header_matches(std::string_view field, std::string_view name) {
  if (iequals(field, name)) return true;
  if (field.size() != 1) return false;
  for (const auto& c : kCompact)
    if (c.letter == lower(field[0])) return iequals(c.name, name);
  return false;
}

std::optional<SipMessage> SipMessage::parse(std::string_view data, std::string* error) {
  if (data.size() > kMaxMessageSize) {
    fail(error, "SIP: message larger than 64 KiB");
    return std::nullopt;
  }
  SipMessage m;
  size_t pos = 0;
  // RFC 3261 §7.5: CRLFs before the start line are ignored (keep-alives on streams).
  while (pos < data.size() && (data[pos] == '\r' || data[pos] == '\n'))
    ++pos;
  std::string_view line;
  if (!next_line(data, pos, line)) {
    fail(error, "SIP: no complete start line");
    return std::nullopt;
  }
  if (line.size() > kMaxStartLine) {
    fail(error, "SIP: start line longer than 4096 bytes");
    return std::nullopt;
  }
  if (line.starts_with("SIP/2.0 ")) {
    // Status-Line = SIP-Version SP Status-Code SP Reason-Phrase
    std::string_view rest = line.substr(8);
    int code = 0;
    auto [p, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), code);
    if (ec != std::errc() || p != rest.data() + 3 || code < 100 || code > 699 ||
        (p != rest.data() + rest.size() && *p != ' ')) {
      fail(error, "SIP: bad status line");
      return std::nullopt;
    }
    m.status_ = code;
    m.reason_ = p == rest.data() + rest.size() ? std::string_view() : trim(rest.substr(4));
  } else {
    // Request-Line = Method SP Request-URI SP SIP-Version
    const size_t sp1 = line.find(' ');
    const size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
    if (sp1 == std::string_view::npos || sp2 == std::string_view::npos || sp1 == 0 || sp2 == sp1 + 1 ||
        line.substr(sp2 + 1) != "SIP/2.0") {
      fail(error, "SIP: bad request line (expected METHOD URI SIP/2.0)");
      return std::nullopt;
    }
    m.method_ = line.substr(0, sp1);
    if (!std::all_of(m.method_.begin(), m.method_.end(), is_token_char)) {
      fail(error, "SIP: bad method");
      return std::nullopt;
    }
    m.uri_ = line.substr(sp1 + 1, sp2 - sp1 - 1);
    if (m.uri_.find(':') == std::string_view::npos) {
      fail(error, "SIP: the request URI has no scheme");
      return std::nullopt;
    }
  }
  // Header fields up to the empty line. A line that starts with SP/HTAB continues the previous field.
  bool ended = false;
  while (next_line(data, pos, line)) {
    if (line.empty()) {
      ended = true;
      break;
    }
    if (line.front() == ' ' || line.front() == '\t') {
      if (m.count_ == 0) {
        fail(error, "SIP: a continuation line before any header");
        return std::nullopt;
      }
      // The value's view grows over the fold: the fields are contiguous in the buffer.
      SipHeader& h = m.headers_[m.count_ - 1];
      const char* begin = h.value.empty() ? line.data() : h.value.data();
      h.value = trim(std::string_view(begin, static_cast<size_t>(line.data() + line.size() - begin)));
      continue;
    }
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) {
      fail(error, "SIP: a header line without a colon");
      return std::nullopt;
    }
    const std::string_view name = trim(line.substr(0, colon));
    if (name.empty() || !std::all_of(name.begin(), name.end(), is_token_char)) {
      fail(error, "SIP: bad header name");
      return std::nullopt;
    }
    if (m.count_ == kMaxHeaders) {
      fail(error, "SIP: more than 64 header fields");
      return std::nullopt;
    }
    m.headers_[m.count_++] = {name, trim(line.substr(colon + 1))};
  }
  if (!ended) {
    fail(error, "SIP: the header section does not end (no empty line)");
    return std::nullopt;
  }
  std::string_view body = data.substr(pos);
  if (auto cl = m.header("Content-Length")) {
    size_t n = 0;
    auto [p, ec] = std::from_chars(cl->data(), cl->data() + cl->size(), n);
    if (ec != std::errc() || p != cl->data() + cl->size()) {
      fail(error, "SIP: Content-Length is not a number");
      return std::nullopt;
    }
    if (n > body.size()) {
      fail(error, "SIP: Content-Length is larger than the body");
      return std::nullopt;
    }
    body = body.substr(0, n);  // RFC 3261 §18.3: bytes past it in a datagram are dropped
  }
  m.body_ = body;
  for (const char* required : {"Via", "From", "To", "Call-ID", "CSeq"}) {
    if (!m.header(required)) {
      if (error) *error = std::string("SIP: no ") + required + " header";
      return std::nullopt;
    }
  }
  if (!m.cseq_number()) {
    fail(error, "SIP: bad CSeq");
    return std::nullopt;
  }
  return m;
}

std::optional<std::string_view> SipMessage::header(std::string_view name) const {
  for (size_t i = 0; i < count_; ++i)
    if (header_matches(headers_[i].name, name)) return headers_[i].value;
  return std::nullopt;
}

std::optional<uint32_t> SipMessage::cseq_number() const {
  const auto v = header("CSeq");
  if (!v) return std::nullopt;
  uint32_t n = 0;
  auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
  if (ec != std::errc() || p == v->data() || p == v->data() + v->size() || (*p != ' ' && *p != '\t'))
    return std::nullopt;
  if (trim(v->substr(static_cast<size_t>(p - v->data()))).empty()) return std::nullopt;
  return n;
}

std::string_view SipMessage::cseq_method() const {
  const auto v = header("CSeq");
  if (!v) return {};
  const size_t sp = v->find_first_of(" \t");
  return sp == std::string_view::npos ? std::string_view() : trim(v->substr(sp));
}

std::string_view SipMessage::top_via() const {
  std::string_view first;
  each_value("Via", [&](std::string_view v) {
    if (first.empty()) first = v;
  });
  return first;
}

std::string_view SipMessage::via_branch() const {
  return header_param(top_via(), "branch");
}

std::string_view SipMessage::from_tag() const {
  return header_param(header("From").value_or(""), "tag");
}

std::string_view SipMessage::to_tag() const {
  return header_param(header("To").value_or(""), "tag");
}

std::string_view header_param(std::string_view value, std::string_view name) {
  // Parameters start after the URI: past a closing '>' when the value has a name-addr.
  size_t pos = value.find('>');
  pos = pos == std::string_view::npos ? 0 : pos + 1;
  while ((pos = value.find(';', pos)) != std::string_view::npos) {
    ++pos;
    size_t end = value.find_first_of(";,", pos);
    if (end == std::string_view::npos) end = value.size();
    std::string_view param = trim(value.substr(pos, end - pos));
    const size_t eq = param.find('=');
    const std::string_view key = trim(param.substr(0, eq));
    if (iequals(key, name))
      return eq == std::string_view::npos ? std::string_view() : trim(param.substr(eq + 1));
    pos = end;
  }
  return {};
}

std::string unfolded(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  bool space = false;
  for (char c : value) {
    if (c == '\r' || c == '\n' || c == '\t' || c == ' ') {
      space = true;
      continue;
    }
    if (space && !out.empty()) out += ' ';
    space = false;
    out += c;
  }
  return out;
}

}  // namespace atrium::sip
