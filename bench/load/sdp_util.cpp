#include "load/sdp_util.h"

#include <sstream>
#include <stdexcept>

#include "media/sdp/sdp.h"

namespace atrium::load {

namespace {

std::string transport_lines(const LocalDescription& l) {
  std::string s;
  s += "c=IN IP4 " + l.ip + "\r\n";
  s += "a=rtcp:9 IN IP4 0.0.0.0\r\n";
  s += "a=ice-ufrag:" + l.ufrag + "\r\n";
  s += "a=ice-pwd:" + l.pwd + "\r\n";
  s += "a=fingerprint:sha-256 " + l.fingerprint_sha256 + "\r\n";
  s += "a=setup:active\r\n";
  s += "a=candidate:1 1 udp 2130706431 " + l.ip + " " + std::to_string(l.port) + " typ host\r\n";
  s += "a=end-of-candidates\r\n";
  s += "a=rtcp-mux\r\n";
  return s;
}

std::string session_head(const char* group) {
  return std::string("v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE ") +
         group + "\r\na=msid-semantic: WMS load\r\n";
}

std::string audio_lines(const char* dir) {
  return std::string("a=") + dir +
         "\r\n"
         "a=rtpmap:111 opus/48000/2\r\n"
         "a=fmtp:111 minptime=10;useinbandfec=1\r\n";
}

std::string video_lines(const char* dir) {
  return std::string("a=") + dir +
         "\r\n"
         "a=rtpmap:96 VP8/90000\r\n"
         "a=rtcp-fb:96 nack\r\n"
         "a=rtcp-fb:96 nack pli\r\n"
         "a=rtcp-fb:96 ccm fir\r\n";
}

// Picks the first payload type of a section whose rtpmap names `codec` (case-insensitive).
int find_pt(const sdp::MediaSection& m, std::string_view codec) {
  for (auto v : m.values("rtpmap")) {
    const auto sp = v.find(' ');
    if (sp == std::string_view::npos) continue;
    auto name = v.substr(sp + 1);
    name = name.substr(0, name.find('/'));
    if (name.size() != codec.size()) continue;
    bool same = true;
    for (size_t i = 0; i < name.size(); ++i)
      same = same && std::tolower(static_cast<unsigned char>(name[i])) ==
                         std::tolower(static_cast<unsigned char>(codec[i]));
    if (same) return std::stoi(std::string(v.substr(0, sp)));
  }
  return -1;
}

std::string value_or(const sdp::SessionDescription& s, const sdp::MediaSection* m,
                     std::string_view name) {
  if (m)
    if (auto v = m->value(name)) return std::string(*v);
  if (auto v = s.value(name)) return std::string(*v);
  return {};
}

sdp::SessionDescription parse_or_throw(const std::string& sdp) {
  auto parsed = sdp::parse_sdp(sdp);
  if (!parsed)
    throw std::runtime_error("the server's SDP does not parse (line " + std::to_string(parsed.error().line) +
                             ": " + parsed.error().reason + ")");
  return std::move(parsed.value());
}

}  // namespace

std::string publish_offer(const LocalDescription& l, bool audio) {
  std::string s = session_head(audio ? "0 1" : "1");
  if (audio) {
    s += "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n" + transport_lines(l) + "a=mid:0\r\na=msid:load audio\r\n" +
         audio_lines("sendonly") + "a=ssrc:" + std::to_string(kAudioSsrc) + " cname:load\r\n";
  }
  s += "m=video 9 UDP/TLS/RTP/SAVPF 96\r\n" + transport_lines(l) + "a=mid:1\r\na=msid:load video\r\n" +
       video_lines("sendonly") + "a=ssrc:" + std::to_string(kVideoSsrc) + " cname:load\r\n";
  return s;
}

std::string subscribe_offer(const LocalDescription& l) {
  std::string s = session_head("0 1");
  s += "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n" + transport_lines(l) + "a=mid:0\r\n" + audio_lines("recvonly");
  s += "m=video 9 UDP/TLS/RTP/SAVPF 96\r\n" + transport_lines(l) + "a=mid:1\r\n" + video_lines("recvonly");
  return s;
}

std::string answer_offer(const std::string& offer, const LocalDescription& l) {
  const auto sdp = parse_or_throw(offer);
  std::string body;
  std::string group;
  for (const auto& m : sdp.media) {
    const std::string mid = value_or(sdp, &m, "mid");
    const bool audio = m.media == "audio";
    const bool video = m.media == "video";
    const int pt = audio ? find_pt(m, "opus") : video ? find_pt(m, "VP8") : -1;
    if (pt < 0 || m.port == 0) {
      body += "m=" + m.media + " 0 " + m.proto;
      for (const auto& f : m.formats)
        body += " " + f;
      body += "\r\nc=IN IP4 0.0.0.0\r\na=mid:" + mid + "\r\na=inactive\r\n";
      continue;
    }
    group += (group.empty() ? "" : " ") + mid;
    body += "m=" + m.media + " 9 UDP/TLS/RTP/SAVPF " + std::to_string(pt) + "\r\n" + transport_lines(l) +
            "a=mid:" + mid + "\r\na=recvonly\r\n";
    for (auto v : m.values("rtpmap"))
      if (v.starts_with(std::to_string(pt) + " ")) body += "a=rtpmap:" + std::string(v) + "\r\n";
    if (video) {
      const std::string p = std::to_string(pt);
      body += "a=rtcp-fb:" + p + " nack\r\na=rtcp-fb:" + p + " nack pli\r\na=rtcp-fb:" + p + " ccm fir\r\n";
    }
  }
  if (group.empty()) throw std::runtime_error("the server's offer has no opus or VP8 section to receive");
  return session_head(group.c_str()) + body;
}

RemoteDescription parse_remote(const std::string& text) {
  const auto sdp = parse_or_throw(text);
  RemoteDescription r;
  const sdp::MediaSection* first = nullptr;
  for (const auto& m : sdp.media) {
    if (m.port == 0) continue;
    if (!first) first = &m;
    if (m.media == "audio") {
      r.has_audio = true;
      if (int pt = find_pt(m, "opus"); pt >= 0) r.audio_pt = static_cast<uint8_t>(pt);
    }
    if (m.media == "video") {
      r.has_video = true;
      if (int pt = find_pt(m, "VP8"); pt >= 0) r.video_pt = static_cast<uint8_t>(pt);
    }
    for (auto c : m.values("candidate")) {
      // foundation component transport priority address port typ host [tcptype passive] ...
      std::istringstream in{std::string(c)};
      std::string foundation, component, transport, priority, address;
      unsigned port = 0;
      in >> foundation >> component >> transport >> priority >> address >> port;
      if (!in || component != "1") continue;
      const bool udp = transport == "udp" || transport == "UDP";
      const bool tcp =
          (transport == "tcp" || transport == "TCP") && c.find("tcptype passive") != std::string_view::npos;
      auto& slot = udp ? r.candidate : r.tcp_candidate;
      if ((!udp && !tcp) || slot.port() != 0) continue;
      boost::system::error_code ec;
      const auto ip = boost::asio::ip::make_address(address, ec);
      if (ec || !ip.is_v4()) continue;
      slot = {ip, static_cast<uint16_t>(port)};
    }
  }
  if (!first) throw std::runtime_error("the server's SDP has no accepted media section");
  r.ufrag = value_or(sdp, first, "ice-ufrag");
  r.pwd = value_or(sdp, first, "ice-pwd");
  r.setup = value_or(sdp, first, "setup");
  const std::string fp = value_or(sdp, first, "fingerprint");
  if (const auto sp = fp.find(' '); sp != std::string::npos) {
    r.fingerprint_algorithm = fp.substr(0, sp);
    r.fingerprint = fp.substr(sp + 1);
  }
  if (r.ufrag.empty() || r.pwd.empty())
    throw std::runtime_error("the server's SDP has no a=ice-ufrag/ice-pwd");
  if (r.fingerprint.empty()) throw std::runtime_error("the server's SDP has no a=fingerprint");
  if (r.candidate.port() == 0) throw std::runtime_error("the server's SDP has no IPv4 UDP candidate");
  if (r.setup == "active")
    throw std::runtime_error(
        "the server wants to be the DTLS client (a=setup:active); the load tool is always "
        "the client");
  return r;
}

}  // namespace atrium::load
