#include "transport/webrtc/sdp/webrtc_sdp.h"
#include "media/util/text.h"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace atrium::webrtc {

namespace {

bool to_pt(std::string_view s, uint8_t& pt) {
  unsigned v = 0;
  if (!media::parse_number(s, v) || v > 127) return false;
  pt = static_cast<uint8_t>(v);
  return true;
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (true) {
    const size_t at = s.find(sep, start);
    out.push_back(s.substr(start, at == std::string_view::npos ? std::string_view::npos : at - start));
    if (at == std::string_view::npos) break;
    start = at + 1;
  }
  return out;
}

std::vector<std::string_view> tokens(std::string_view s) {
  std::vector<std::string_view> out;
  for (auto t : split(s, ' ')) {
    if (!t.empty()) out.push_back(t);
  }
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
    s.remove_suffix(1);
  return s;
}

// First pt token of "pt rest" values (rtpmap, fmtp, rtcp-fb).
bool split_pt(std::string_view value, std::string_view& pt, std::string_view& rest) {
  const size_t sp = value.find(' ');
  if (sp == std::string_view::npos) return false;
  pt = value.substr(0, sp);
  rest = trim(value.substr(sp + 1));
  return true;
}

bool valid_rid_id(std::string_view id) {
  if (id.empty() || id.size() > 255) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
  });
}

std::optional<std::string_view> with_fallback(const SessionDescription& s, const MediaSection& m,
                                              std::string_view name) {
  if (auto v = m.value(name)) return v;
  return s.value(name);
}

}  // namespace

std::string_view to_string(SdpDirection d) {
  switch (d) {
    case SdpDirection::kSendRecv:
      return "sendrecv";
    case SdpDirection::kSendOnly:
      return "sendonly";
    case SdpDirection::kRecvOnly:
      return "recvonly";
    case SdpDirection::kInactive:
      return "inactive";
  }
  return "sendrecv";
}

std::optional<SdpDirection> direction_from_string(std::string_view s) {
  if (s == "sendrecv") return SdpDirection::kSendRecv;
  if (s == "sendonly") return SdpDirection::kSendOnly;
  if (s == "recvonly") return SdpDirection::kRecvOnly;
  if (s == "inactive") return SdpDirection::kInactive;
  return std::nullopt;
}

SdpDirection reverse(SdpDirection d) {
  if (d == SdpDirection::kSendOnly) return SdpDirection::kRecvOnly;
  if (d == SdpDirection::kRecvOnly) return SdpDirection::kSendOnly;
  return d;
}

std::string_view to_string(SetupRole r) {
  switch (r) {
    case SetupRole::kActPass:
      return "actpass";
    case SetupRole::kActive:
      return "active";
    case SetupRole::kPassive:
      return "passive";
    case SetupRole::kHoldConn:
      return "holdconn";
  }
  return "actpass";
}

std::optional<std::vector<uint8_t>> parse_fingerprint_hex(std::string_view hex) {
  std::vector<uint8_t> out;
  int hi = -1;
  for (size_t i = 0; i < hex.size(); ++i) {
    const char c = hex[i];
    if (c == ':') {
      if (hi >= 0) return std::nullopt;
      continue;
    }
    int v;
    if (c >= '0' && c <= '9') {
      v = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      v = c - 'a' + 10;
    } else if (c >= 'A' && c <= 'F') {
      v = c - 'A' + 10;
    } else {
      return std::nullopt;
    }
    if (hi < 0) {
      hi = v;
    } else {
      out.push_back(static_cast<uint8_t>(hi * 16 + v));
      hi = -1;
      if (out.size() > 64) return std::nullopt;
    }
  }
  if (hi >= 0 || out.empty()) return std::nullopt;
  return out;
}

std::string format_fingerprint_hex(const std::vector<uint8_t>& bytes) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (size_t i = 0; i < bytes.size(); ++i) {
    if (i) out += ':';
    out += kHex[bytes[i] >> 4];
    out += kHex[bytes[i] & 0xF];
  }
  return out;
}

std::optional<Fmtp> parse_fmtp(std::string_view value) {
  std::string_view pt, rest;
  Fmtp f;
  if (!split_pt(value, pt, rest) || !to_pt(pt, f.pt)) return std::nullopt;
  f.params = std::string(rest);
  for (auto item : split(rest, ';')) {
    item = trim(item);
    if (item.empty()) continue;
    const size_t eq = item.find('=');
    if (eq == std::string_view::npos) {
      f.parsed.emplace_back(media::ascii_lower(item), std::string());
    } else {
      f.parsed.emplace_back(media::ascii_lower(trim(item.substr(0, eq))),
                            std::string(trim(item.substr(eq + 1))));
    }
  }
  return f;
}

std::optional<std::string_view> Fmtp::get(std::string_view key) const {
  for (const auto& [k, v] : parsed) {
    if (k == key) return std::string_view(v);
  }
  return std::nullopt;
}

std::optional<RtpMap> parse_rtpmap(std::string_view value) {
  std::string_view pt, rest;
  RtpMap r;
  if (!split_pt(value, pt, rest) || !to_pt(pt, r.pt)) return std::nullopt;
  const auto parts = split(rest, '/');
  if (parts.size() < 2 || parts.size() > 3 || parts[0].empty()) return std::nullopt;
  r.name = std::string(parts[0]);
  if (!media::parse_number(parts[1], r.clock_rate) || r.clock_rate == 0) return std::nullopt;
  if (parts.size() == 3) {
    unsigned ch = 0;
    if (!media::parse_number(parts[2], ch) || ch == 0 || ch > 255) return std::nullopt;
    r.channels = static_cast<uint8_t>(ch);
  }
  return r;
}

std::optional<RtcpFb> parse_rtcp_fb(std::string_view value) {
  std::string_view pt, rest;
  if (!split_pt(value, pt, rest)) return std::nullopt;
  RtcpFb fb;
  if (pt != "*") {
    uint8_t p = 0;
    if (!to_pt(pt, p)) return std::nullopt;
    fb.pt = p;
  }
  const auto t = tokens(rest);
  if (t.empty() || t.size() > 2) return std::nullopt;
  fb.type = std::string(t[0]);
  if (t.size() == 2) fb.param = std::string(t[1]);
  return fb;
}

std::optional<ExtMap> parse_extmap(std::string_view value) {
  const auto t = tokens(value);
  if (t.size() < 2) return std::nullopt;
  ExtMap e;
  const std::string_view idpart = t[0];
  const size_t slash = idpart.find('/');
  unsigned id = 0;
  if (!media::parse_number(idpart.substr(0, slash), id) || id == 0 || id > 255) return std::nullopt;
  e.id = static_cast<uint16_t>(id);
  if (slash != std::string_view::npos) {
    e.direction = direction_from_string(idpart.substr(slash + 1));
    if (!e.direction) return std::nullopt;
  }
  e.uri = std::string(t[1]);
  for (size_t i = 2; i < t.size(); ++i) {
    if (!e.attributes.empty()) e.attributes += ' ';
    e.attributes += t[i];
  }
  return e;
}

std::optional<Rid> parse_rid(std::string_view value) {
  const auto t = tokens(value);
  if (t.size() < 2 || t.size() > 3 || !valid_rid_id(t[0])) return std::nullopt;
  Rid r;
  r.id = std::string(t[0]);
  if (t[1] == "send") {
    r.direction = RidDirection::kSend;
  } else if (t[1] == "recv") {
    r.direction = RidDirection::kRecv;
  } else {
    return std::nullopt;
  }
  if (t.size() == 3) {
    for (auto item : split(t[2], ';')) {
      if (item.starts_with("pt=")) {
        for (auto p : split(item.substr(3), ',')) {
          uint8_t pt = 0;
          if (!to_pt(p, pt)) return std::nullopt;
          r.pts.push_back(pt);
        }
      } else if (!item.empty()) {
        if (!r.params.empty()) r.params += ';';
        r.params += item;
      }
    }
  }
  return r;
}

std::optional<Simulcast> parse_simulcast(std::string_view value) {
  const auto t = tokens(value);
  if (t.size() != 2 && t.size() != 4) return std::nullopt;
  Simulcast sc;
  bool seen_send = false, seen_recv = false;
  for (size_t i = 0; i < t.size(); i += 2) {
    std::vector<std::vector<SimulcastStream>>* list;
    if (t[i] == "send" && !seen_send) {
      list = &sc.send;
      seen_send = true;
    } else if (t[i] == "recv" && !seen_recv) {
      list = &sc.recv;
      seen_recv = true;
    } else {
      return std::nullopt;
    }
    std::string_view streams = t[i + 1];
    if (streams.starts_with("rid=")) streams.remove_prefix(4);  // the pre-RFC form some browsers sent
    for (auto alt : split(streams, ';')) {
      std::vector<SimulcastStream> alts;
      for (auto id : split(alt, ',')) {
        SimulcastStream s;
        if (id.starts_with('~')) {
          s.paused = true;
          id.remove_prefix(1);
        }
        if (!valid_rid_id(id)) return std::nullopt;
        s.rid = std::string(id);
        alts.push_back(std::move(s));
      }
      list->push_back(std::move(alts));
    }
  }
  return sc;
}

std::optional<IceCandidate> parse_candidate(std::string_view value) {
  const auto t = tokens(value);
  if (t.size() < 8 || t[6] != "typ") return std::nullopt;
  IceCandidate c;
  c.foundation = std::string(t[0]);
  unsigned comp = 0, port = 0;
  if (!media::parse_number(t[1], comp) || comp == 0 || comp > 256) return std::nullopt;
  c.component = static_cast<uint16_t>(comp);
  c.transport = media::ascii_lower(t[2]);
  if (!media::parse_number(t[3], c.priority)) return std::nullopt;
  c.address = std::string(t[4]);
  if (!media::parse_number(t[5], port) || port > 65535) return std::nullopt;
  c.port = static_cast<uint16_t>(port);
  c.type = std::string(t[7]);
  for (size_t i = 8; i + 1 < t.size(); i += 2) {
    if (t[i] == "raddr") {
      c.related_address = std::string(t[i + 1]);
    } else if (t[i] == "rport") {
      unsigned rp = 0;
      if (!media::parse_number(t[i + 1], rp) || rp > 65535) return std::nullopt;
      c.related_port = static_cast<uint16_t>(rp);
    } else if (t[i] == "tcptype") {
      c.tcp_type = std::string(t[i + 1]);
    }
  }
  return c;
}

std::string format_candidate(const IceCandidate& c) {
  std::string out = c.foundation + ' ' + std::to_string(c.component) + ' ' + c.transport + ' ' +
                    std::to_string(c.priority) + ' ' + c.address + ' ' + std::to_string(c.port) + " typ " +
                    c.type;
  if (!c.related_address.empty()) {
    out += " raddr " + c.related_address + " rport " + std::to_string(c.related_port);
  }
  if (!c.tcp_type.empty()) out += " tcptype " + c.tcp_type;
  return out;
}

std::optional<std::string_view> mid(const MediaSection& m) {
  return m.value("mid");
}

SdpDirection direction(const SessionDescription& s, const MediaSection& m) {
  for (const auto* list :
       {static_cast<const SdpAttributeList*>(&m), static_cast<const SdpAttributeList*>(&s)}) {
    for (const auto& a : list->attributes) {
      if (!a.has_value) {
        if (auto d = direction_from_string(a.name)) return *d;
      }
    }
  }
  return SdpDirection::kSendRecv;
}

std::optional<std::string_view> ice_ufrag(const SessionDescription& s, const MediaSection& m) {
  return with_fallback(s, m, "ice-ufrag");
}

std::optional<std::string_view> ice_pwd(const SessionDescription& s, const MediaSection& m) {
  return with_fallback(s, m, "ice-pwd");
}

std::vector<std::string> ice_options(const SessionDescription& s, const MediaSection& m) {
  std::vector<std::string> out;
  if (auto v = with_fallback(s, m, "ice-options")) {
    for (auto t : tokens(*v))
      out.emplace_back(t);
  }
  return out;
}

std::optional<SdpFingerprint> fingerprint(const SessionDescription& s, const MediaSection& m) {
  auto v = with_fallback(s, m, "fingerprint");
  if (!v) return std::nullopt;
  const auto t = tokens(*v);
  if (t.size() != 2) return std::nullopt;
  auto bytes = parse_fingerprint_hex(t[1]);
  if (!bytes) return std::nullopt;
  SdpFingerprint f;
  f.algorithm = media::ascii_lower(t[0]);
  f.bytes = std::move(*bytes);
  f.hex = format_fingerprint_hex(f.bytes);
  return f;
}

std::optional<SetupRole> setup(const SessionDescription& s, const MediaSection& m) {
  auto v = with_fallback(s, m, "setup");
  if (!v) return std::nullopt;
  if (*v == "actpass") return SetupRole::kActPass;
  if (*v == "active") return SetupRole::kActive;
  if (*v == "passive") return SetupRole::kPassive;
  if (*v == "holdconn") return SetupRole::kHoldConn;
  return std::nullopt;
}

bool rtcp_mux(const MediaSection& m) {
  return m.has("rtcp-mux");
}
bool rtcp_rsize(const MediaSection& m) {
  return m.has("rtcp-rsize");
}

std::vector<RtpMap> rtpmaps(const MediaSection& m) {
  std::vector<RtpMap> out;
  for (auto v : m.values("rtpmap")) {
    if (auto r = parse_rtpmap(v)) out.push_back(std::move(*r));
  }
  return out;
}

std::optional<RtpMap> rtpmap(const MediaSection& m, uint8_t pt) {
  for (auto v : m.values("rtpmap")) {
    auto r = parse_rtpmap(v);
    if (r && r->pt == pt) return r;
  }
  return std::nullopt;
}

std::vector<Fmtp> fmtps(const MediaSection& m) {
  std::vector<Fmtp> out;
  for (auto v : m.values("fmtp")) {
    if (auto f = parse_fmtp(v)) out.push_back(std::move(*f));
  }
  return out;
}

std::optional<Fmtp> fmtp(const MediaSection& m, uint8_t pt) {
  for (auto v : m.values("fmtp")) {
    auto f = parse_fmtp(v);
    if (f && f->pt == pt) return f;
  }
  return std::nullopt;
}

std::vector<RtcpFb> rtcp_fbs(const MediaSection& m) {
  std::vector<RtcpFb> out;
  for (auto v : m.values("rtcp-fb")) {
    if (auto f = parse_rtcp_fb(v)) out.push_back(std::move(*f));
  }
  return out;
}

std::vector<ExtMap> extmaps(const SessionDescription& s, const MediaSection& m) {
  std::vector<ExtMap> out;
  for (const auto* list :
       {static_cast<const SdpAttributeList*>(&m), static_cast<const SdpAttributeList*>(&s)}) {
    for (auto v : list->values("extmap")) {
      if (auto e = parse_extmap(v)) out.push_back(std::move(*e));
    }
  }
  return out;
}

std::vector<SsrcAttribute> ssrcs(const MediaSection& m) {
  std::vector<SsrcAttribute> out;
  for (auto v : m.values("ssrc")) {
    const size_t sp = v.find(' ');
    SsrcAttribute a;
    if (!media::parse_number(v.substr(0, sp), a.ssrc)) continue;
    if (sp != std::string_view::npos) {
      const std::string_view rest = trim(v.substr(sp + 1));
      const size_t colon = rest.find(':');
      a.attribute = std::string(rest.substr(0, colon));
      if (colon != std::string_view::npos) a.value = std::string(rest.substr(colon + 1));
    }
    out.push_back(std::move(a));
  }
  return out;
}

std::vector<SsrcGroup> ssrc_groups(const MediaSection& m) {
  std::vector<SsrcGroup> out;
  for (auto v : m.values("ssrc-group")) {
    const auto t = tokens(v);
    if (t.size() < 2) continue;
    SsrcGroup g;
    g.semantics = std::string(t[0]);
    bool ok = true;
    for (size_t i = 1; i < t.size(); ++i) {
      uint32_t ssrc = 0;
      ok = ok && media::parse_number(t[i], ssrc);
      g.ssrcs.push_back(ssrc);
    }
    if (ok) out.push_back(std::move(g));
  }
  return out;
}

std::vector<Rid> rids(const MediaSection& m) {
  std::vector<Rid> out;
  for (auto v : m.values("rid")) {
    if (auto r = parse_rid(v)) out.push_back(std::move(*r));
  }
  return out;
}

std::optional<Simulcast> simulcast(const MediaSection& m) {
  auto v = m.value("simulcast");
  if (!v) return std::nullopt;
  return parse_simulcast(*v);
}

std::vector<IceCandidate> candidates(const MediaSection& m) {
  std::vector<IceCandidate> out;
  for (auto v : m.values("candidate")) {
    if (auto c = parse_candidate(v)) out.push_back(std::move(*c));
  }
  return out;
}

std::vector<Msid> msids(const MediaSection& m) {
  std::vector<Msid> out;
  for (auto v : m.values("msid")) {
    const auto t = tokens(v);
    if (t.empty() || t.size() > 2) continue;
    Msid id;
    id.stream_id = std::string(t[0]);
    if (t.size() == 2) id.track_id = std::string(t[1]);
    out.push_back(std::move(id));
  }
  return out;
}

std::vector<SdpGroup> groups(const SessionDescription& s) {
  std::vector<SdpGroup> out;
  for (auto v : s.values("group")) {
    const auto t = tokens(v);
    if (t.empty()) continue;
    SdpGroup g;
    g.semantics = std::string(t[0]);
    for (size_t i = 1; i < t.size(); ++i)
      g.mids.emplace_back(t[i]);
    out.push_back(std::move(g));
  }
  return out;
}

std::optional<SdpGroup> bundle_group(const SessionDescription& s) {
  for (auto& g : groups(s)) {
    if (g.semantics == "BUNDLE") return g;
  }
  return std::nullopt;
}

}  // namespace atrium::webrtc
