#include "media/sdp/sdp.h"
#include "media/util/text.h"

#include <charconv>

namespace atrium::sdp {

const SdpAttribute* SdpAttributeList::find(std::string_view name) const {
  for (const auto& a : attributes) {
    if (a.name == name) return &a;
  }
  return nullptr;
}

std::optional<std::string_view> SdpAttributeList::value(std::string_view name) const {
  const SdpAttribute* a = find(name);
  if (!a) return std::nullopt;
  return std::string_view(a->value);
}

std::vector<std::string_view> SdpAttributeList::values(std::string_view name) const {
  std::vector<std::string_view> out;
  for (const auto& a : attributes) {
    if (a.name == name) out.emplace_back(a.value);
  }
  return out;
}

void SdpAttributeList::add(std::string name, std::string value) {
  attributes.push_back({std::move(name), std::move(value), true});
}

void SdpAttributeList::add_flag(std::string name) {
  attributes.push_back({std::move(name), {}, false});
}

namespace {

constexpr std::string_view kKnownTypes = "vosiuepcbtrzkam";
constexpr std::string_view kMediaLevelTypes = "icbka";

SdpError fail(size_t line, std::string reason) {
  return SdpError{line, std::move(reason)};
}

bool has_control_chars(std::string_view s) {
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 && c != '\t') || u == 0x7F) return true;
  }
  return false;
}

std::vector<std::string_view> split_spaces(std::string_view s) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && s[i] == ' ')
      ++i;
    const size_t start = i;
    while (i < s.size() && s[i] != ' ')
      ++i;
    if (i > start) out.push_back(s.substr(start, i - start));
  }
  return out;
}

std::optional<std::string> parse_media_line(std::string_view v, MediaSection& m) {
  const auto tokens = split_spaces(v);
  if (tokens.size() < 4) return "m= line needs media, port, proto and at least one format";
  m.media = std::string(tokens[0]);
  const std::string_view port = tokens[1];
  const size_t slash = port.find('/');
  uint32_t p = 0;
  if (!media::parse_number(port.substr(0, slash), p) || p > 65535) return "m= line has a bad port";
  m.port = static_cast<uint16_t>(p);
  if (slash != std::string_view::npos) {
    uint32_t n = 0;
    if (!media::parse_number(port.substr(slash + 1), n) || n == 0 || n > 65535)
      return "m= line has a bad port count";
    m.port_count = static_cast<uint16_t>(n);
  }
  m.proto = std::string(tokens[2]);
  if (tokens.size() - 3 > kSdpMaxFormats) return "m= line has too many formats";
  for (size_t i = 3; i < tokens.size(); ++i)
    m.formats.emplace_back(tokens[i]);
  return std::nullopt;
}

}  // namespace

SdpResult<SessionDescription, SdpError> parse_sdp(std::string_view text) {
  if (text.size() > kSdpMaxSize) return fail(0, "SDP is larger than 64 KiB");
  SessionDescription sdp;
  size_t line_no = 0;
  size_t nonblank = 0;
  bool seen_time = false;
  MediaSection* current = nullptr;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) continue;
    if (++nonblank > kSdpMaxLines) return fail(line_no, "too many lines");
    if (line.size() < 2 || line[1] != '=' || line[0] < 'a' || line[0] > 'z') {
      return fail(line_no, "expected a line of the form <letter>=<value>");
    }
    const char type = line[0];
    const std::string_view value = line.substr(2);
    if (has_control_chars(value)) return fail(line_no, "control character in the line");
    if (kKnownTypes.find(type) == std::string_view::npos) {
      return fail(line_no, std::string("unknown line type '") + type + "='");
    }
    if (nonblank == 1) {
      if (type != 'v' || value != "0") return fail(line_no, "SDP must start with v=0");
      continue;
    }
    if (nonblank == 2) {
      if (type != 'o') return fail(line_no, "the second line must be o=");
      if (split_spaces(value).size() != 6) return fail(line_no, "o= line needs six fields");
      sdp.origin = std::string(value);
      continue;
    }
    if (nonblank == 3) {
      if (type != 's') return fail(line_no, "the third line must be s=");
      sdp.session_name = std::string(value);
      continue;
    }
    if (type == 'v' || type == 'o' || type == 's') {
      return fail(line_no, std::string("a second ") + type + "= line");
    }
    if (type == 'm') {
      if (!seen_time) return fail(line_no, "m= line before any t= line");
      if (sdp.media.size() >= kSdpMaxMediaSections) return fail(line_no, "too many media sections");
      MediaSection m;
      m.line_number = line_no;
      if (auto err = parse_media_line(value, m)) return fail(line_no, *err);
      sdp.media.push_back(std::move(m));
      current = &sdp.media.back();
      continue;
    }
    if (current && kMediaLevelTypes.find(type) == std::string_view::npos) {
      return fail(line_no, std::string(1, type) + "= line is not allowed inside a media section");
    }
    if (type == 't') seen_time = true;
    if (type == 'a') {
      if (value.empty()) return fail(line_no, "empty a= line");
      const size_t colon = value.find(':');
      SdpAttribute a;
      a.name = std::string(value.substr(0, colon));
      if (a.name.empty() || a.name.find(' ') != std::string::npos) {
        return fail(line_no, "a= line has a bad attribute name");
      }
      if (colon != std::string_view::npos) {
        a.value = std::string(value.substr(colon + 1));
        a.has_value = true;
      }
      (current ? current->attributes : sdp.attributes).push_back(std::move(a));
      continue;
    }
    (current ? current->lines : sdp.lines).push_back(SdpLine{type, std::string(value)});
  }
  if (nonblank == 0) return fail(0, "empty SDP");
  if (nonblank < 3) return fail(0, "SDP ends before the s= line");
  if (!seen_time) return fail(0, "SDP has no t= line");
  return sdp;
}

namespace {

void write_line(std::string& out, char type, std::string_view value) {
  out += type;
  out += '=';
  out += value;
  out += "\r\n";
}

void write_attributes(std::string& out, const SdpAttributeList& list) {
  for (const auto& a : list.attributes) {
    out += "a=";
    out += a.name;
    if (a.has_value) {
      out += ':';
      out += a.value;
    }
    out += "\r\n";
  }
}

void write_sections(std::string& out, const std::vector<MediaSection>& media) {
  for (const auto& m : media) {
    std::string v = m.media + ' ' + std::to_string(m.port);
    if (m.port_count) v += '/' + std::to_string(*m.port_count);
    v += ' ';
    v += m.proto;
    for (const auto& f : m.formats) {
      v += ' ';
      v += f;
    }
    write_line(out, 'm', v);
    for (const auto& l : m.lines)
      write_line(out, l.type, l.value);
    write_attributes(out, m);
  }
}

}  // namespace

std::string serialize_sdp(const SessionDescription& sdp) {
  std::string out;
  out.reserve(2048);
  write_line(out, 'v', "0");
  write_line(out, 'o', sdp.origin.empty() ? "- 0 0 IN IP4 127.0.0.1" : sdp.origin);
  write_line(out, 's', sdp.session_name.empty() ? "-" : sdp.session_name);
  bool has_time = false;
  for (const auto& l : sdp.lines)
    has_time |= l.type == 't';
  for (const auto& l : sdp.lines)
    write_line(out, l.type, l.value);
  if (!has_time) write_line(out, 't', "0 0");
  write_attributes(out, sdp);
  write_sections(out, sdp.media);
  return out;
}

std::string serialize_sdp_fragment(const SessionDescription& fragment) {
  std::string out;
  write_attributes(out, fragment);
  write_sections(out, fragment.media);
  return out;
}

}  // namespace atrium::sdp
