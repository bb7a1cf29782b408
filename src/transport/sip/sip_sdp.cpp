#include "transport/sip/sip_sdp.h"

#include <algorithm>

#include "media/sdp/sdp.h"
#include "media/util/text.h"

namespace atrium::sip {

std::string_view to_string(Direction d) {
  switch (d) {
    case Direction::kSendRecv:
      return "sendrecv";
    case Direction::kSendOnly:
      return "sendonly";
    case Direction::kRecvOnly:
      return "recvonly";
    case Direction::kInactive:
      return "inactive";
  }
  return "sendrecv";
}

namespace {

// "IN IP4 192.0.2.1" -> "192.0.2.1"; empty for anything else.
std::string connection_address(const std::vector<sdp::SdpLine>& lines) {
  for (const auto& l : lines) {
    if (l.type != 'c') continue;
    std::string_view v = l.value;
    if (v.substr(0, 7) != "IN IP4 " && v.substr(0, 7) != "IN IP6 ") return {};
    v.remove_prefix(7);
    if (const auto slash = v.find('/'); slash != std::string_view::npos)
      v = v.substr(0, slash);  // multicast TTL
    return std::string(v);
  }
  return {};
}

std::optional<Direction> direction_of(const sdp::SdpAttributeList& attrs) {
  if (attrs.has("sendonly")) return Direction::kSendOnly;
  if (attrs.has("recvonly")) return Direction::kRecvOnly;
  if (attrs.has("inactive")) return Direction::kInactive;
  if (attrs.has("sendrecv")) return Direction::kSendRecv;
  return std::nullopt;
}

// The static payload types RFC 3551 names, for offers that leave out their rtpmap.
std::optional<OfferedPayload> static_payload(uint8_t pt) {
  if (pt == 0) return OfferedPayload{0, "PCMU", 8000, 1};
  if (pt == 8) return OfferedPayload{8, "PCMA", 8000, 1};
  return std::nullopt;
}

// "111 opus/48000/2" -> the payload.
std::optional<OfferedPayload> parse_rtpmap(std::string_view v) {
  const auto space = v.find(' ');
  if (space == std::string_view::npos) return std::nullopt;
  OfferedPayload p;
  unsigned pt = 0;
  if (!media::parse_number(v.substr(0, space), pt) || pt > 127) return std::nullopt;
  p.pt = static_cast<uint8_t>(pt);
  std::string_view enc = v.substr(space + 1);
  const auto s1 = enc.find('/');
  if (s1 == std::string_view::npos) return std::nullopt;
  p.name = std::string(enc.substr(0, s1));
  std::string_view rest = enc.substr(s1 + 1);
  const auto s2 = rest.find('/');
  if (!media::parse_number(rest.substr(0, s2), p.clock_rate) || p.clock_rate == 0) return std::nullopt;
  if (s2 != std::string_view::npos) {
    unsigned ch = 0;
    if (!media::parse_number(rest.substr(s2 + 1), ch) || ch == 0 || ch > 8) return std::nullopt;
    p.channels = static_cast<uint8_t>(ch);
  }
  return p;
}

bool named(const OfferedPayload& p, std::string_view name) {
  return media::ascii_lower(p.name) == media::ascii_lower(name);
}

}  // namespace

AudioOfferResult read_audio_offer(std::string_view text) {
  AudioOfferResult r;
  auto parsed = sdp::parse_sdp(text);
  if (!parsed) {
    r.error = "the SDP does not parse: " + parsed.error().reason +
              (parsed.error().line ? " (line " + std::to_string(parsed.error().line) + ")" : "");
    return r;
  }
  const sdp::SessionDescription& desc = *parsed;
  const auto section = std::find_if(desc.media.begin(), desc.media.end(),
                                    [](const sdp::MediaSection& m) { return m.media == "audio"; });
  if (section == desc.media.end()) {
    r.error = "the SDP has no audio section";
    return r;
  }
  AudioOffer o;
  o.address = connection_address(section->lines);
  if (o.address.empty()) o.address = connection_address(desc.lines);
  if (o.address.empty()) {
    r.error = "the SDP's audio section has no IN IP4/IP6 connection address (c=)";
    return r;
  }
  o.hold_address = o.address == "0.0.0.0";
  o.port = section->port;
  o.proto = section->proto;
  o.direction = direction_of(*section).value_or(direction_of(desc).value_or(Direction::kSendRecv));
  if (auto ptime = section->value("ptime")) {
    uint32_t v = 0;
    if (media::parse_number(*ptime, v) && v >= 10 && v <= 120) o.ptime_ms = v;
  }
  const auto maps = section->values("rtpmap");
  for (const auto& fmt : section->formats) {
    unsigned v = 0;
    if (!media::parse_number(fmt, v) || v > 127) continue;
    std::optional<OfferedPayload> p;
    for (auto m : maps) {
      auto candidate = parse_rtpmap(m);
      if (candidate && candidate->pt == v) {
        p = candidate;
        break;
      }
    }
    if (!p) p = static_payload(static_cast<uint8_t>(v));
    if (p) o.payloads.push_back(std::move(*p));
  }
  r.offer = std::move(o);
  return r;
}

std::optional<NegotiatedAudio> choose_audio(const AudioOffer& offer,
                                            const std::vector<media::Codec>& preference, std::string* why) {
  const auto fail = [&](std::string sentence) -> std::optional<NegotiatedAudio> {
    if (why) *why = std::move(sentence);
    return std::nullopt;
  };
  if (offer.proto != "RTP/AVP") return fail("only RTP/AVP is taken (plain RTP); the offer is " + offer.proto);
  if (offer.port == 0) return fail("the offer's audio section is disabled (port 0)");
  for (media::Codec want : preference) {
    for (const auto& p : offer.payloads) {
      const bool match = (want == media::Codec::kOpus && named(p, "opus") && p.clock_rate == 48000) ||
                         (want == media::Codec::kPcmu && named(p, "PCMU") && p.clock_rate == 8000) ||
                         (want == media::Codec::kPcma && named(p, "PCMA") && p.clock_rate == 8000);
      if (!match) continue;
      NegotiatedAudio n;
      n.codec = want;
      n.pt = p.pt;
      n.clock_rate = p.clock_rate;
      n.channels = p.channels;
      n.remote_address = offer.address;
      n.remote_port = offer.port;
      n.ptime_ms = offer.ptime_ms;
      // telephone-event at the voice codec's clock (RFC 4733 §2.1); else at 8 kHz, which many phones
      // (baresip among them) offer beside Opus too.
      for (const auto& e : offer.payloads) {
        if (named(e, "telephone-event") && e.clock_rate == p.clock_rate) {
          n.dtmf_pt = e.pt;
          n.dtmf_rate = e.clock_rate;
          break;
        }
      }
      for (const auto& e : offer.payloads) {
        if (!n.dtmf_pt && named(e, "telephone-event") && e.clock_rate == 8000) {
          n.dtmf_pt = e.pt;
          n.dtmf_rate = e.clock_rate;
        }
      }
      // RFC 3264 §6.1: the answer's direction mirrors the offer's.
      switch (offer.direction) {
        case Direction::kSendRecv:
          n.direction = offer.hold_address ? Direction::kInactive : Direction::kSendRecv;
          break;
        case Direction::kSendOnly:
          n.direction = Direction::kRecvOnly;
          break;
        case Direction::kRecvOnly:
          n.direction = Direction::kSendOnly;
          break;
        case Direction::kInactive:
          n.direction = Direction::kInactive;
          break;
      }
      return n;
    }
  }
  std::string offered;
  for (const auto& p : offer.payloads)
    offered += (offered.empty() ? "" : ", ") + p.name + "/" + std::to_string(p.clock_rate);
  return fail("none of the offered codecs (" + (offered.empty() ? std::string("none") : offered) +
              ") is taken: opus/48000, PCMU/8000 or PCMA/8000");
}

std::string write_audio_answer(const NegotiatedAudio& chosen, std::string_view local_address,
                               uint16_t local_port, uint64_t session_id, uint64_t version) {
  const std::string ip = std::string(local_address.find(':') != std::string_view::npos ? "IP6 " : "IP4 ");
  std::string s;
  s += "v=0\r\n";
  s += "o=atrium " + std::to_string(session_id) + " " + std::to_string(version) + " IN " + ip +
       std::string(local_address) + "\r\n";
  s += "s=atrium\r\n";
  s += "c=IN " + ip + std::string(local_address) + "\r\n";
  s += "t=0 0\r\n";
  s += "m=audio " + std::to_string(local_port) + " RTP/AVP " + std::to_string(chosen.pt);
  if (chosen.dtmf_pt) s += " " + std::to_string(*chosen.dtmf_pt);
  s += "\r\n";
  const char* name = chosen.codec == media::Codec::kOpus   ? "opus"
                     : chosen.codec == media::Codec::kPcmu ? "PCMU"
                                                           : "PCMA";
  s += "a=rtpmap:" + std::to_string(chosen.pt) + " " + name + "/" + std::to_string(chosen.clock_rate);
  if (chosen.codec == media::Codec::kOpus) s += "/2";
  s += "\r\n";
  if (chosen.codec == media::Codec::kOpus)
    s += "a=fmtp:" + std::to_string(chosen.pt) + " useinbandfec=1\r\n";  // we send mono; stereo=0 is default
  if (chosen.dtmf_pt) {
    s += "a=rtpmap:" + std::to_string(*chosen.dtmf_pt) + " telephone-event/" +
         std::to_string(chosen.dtmf_rate) + "\r\n";
    s += "a=fmtp:" + std::to_string(*chosen.dtmf_pt) + " 0-15\r\n";
  }
  s += "a=ptime:20\r\n";
  s += "a=" + std::string(to_string(chosen.direction)) + "\r\n";
  return s;
}

}  // namespace atrium::sip
