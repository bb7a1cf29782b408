#include "transport/webrtc/sdp/ice_fragment.h"

namespace atrium::webrtc {

std::optional<IceFragment> parse_ice_fragment(std::string_view body) {
  IceFragment f;
  while (!body.empty()) {
    const auto end = body.find('\n');
    std::string_view line = body.substr(0, end);
    body = end == std::string_view::npos ? std::string_view() : body.substr(end + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) continue;
    if (line.size() < 2 || line[1] != '=') return std::nullopt;
    if (line.starts_with("a=ice-ufrag:")) f.ufrag = std::string(line.substr(12));
    if (line.starts_with("a=ice-pwd:")) f.pwd = std::string(line.substr(10));
  }
  return f;
}

std::string write_ice_restart_fragment(std::string_view ufrag, std::string_view pwd,
                                       const std::vector<NegotiatedMedia>& media,
                                       const std::vector<HostCandidate>& candidates) {
  SessionDescription f;
  f.add_flag("ice-lite");
  f.add("ice-ufrag", std::string(ufrag));
  f.add("ice-pwd", std::string(pwd));
  if (!media.empty()) {
    std::string group = "BUNDLE";
    for (const auto& m : media)
      group += " " + m.mid;
    f.add("group", group);
    const auto& first = media.front();
    MediaSection m;
    m.media = std::string(media::to_string(first.kind));
    m.port = 9;
    m.proto = "UDP/TLS/RTP/SAVPF";
    for (const auto& c : first.codecs)
      m.formats.push_back(std::to_string(c.pt));
    m.add("mid", first.mid);
    add_host_candidates(m, candidates);
    f.media.push_back(std::move(m));
  }
  return serialize_sdp_fragment(f);
}

}  // namespace atrium::webrtc
