// Offer -> answer. Over 600 lines on purpose: one answer is one pipeline (check the offer, plan each section:
// codecs, extensions, streams; explain a refusal; write the answer), and its steps share SectionPlan, so the
// reader follows it top to bottom in one file. Each step is its own function of under 100 lines.
#include "transport/webrtc/sdp/negotiator.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <set>

#include "transport/webrtc/ice/candidate_priority.h"

namespace atrium::webrtc {

namespace {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

NegotiationError error(int status, std::string reason) {
  return NegotiationError{status, std::move(reason)};
}

std::string describe(const MediaSection& m, size_t index) {
  std::string s = "m-section " + std::to_string(index) + " (" + m.media;
  if (auto id = mid(m)) s += ", mid " + std::string(*id);
  s += ", line " + std::to_string(m.line_number) + ")";
  return s;
}

std::string describe_codec(const RtpMap& r) {
  std::string s = r.name + "/" + std::to_string(r.clock_rate);
  if (r.channels) s += "/" + std::to_string(r.channels);
  return s;
}

bool profile_is_zero(const std::optional<Fmtp>& f, std::string_view key) {
  if (!f) return true;
  auto v = f->get(key);
  return !v || *v == "0";
}

// Does the offered codec (rtpmap + fmtp) fit one of our capabilities?
bool fits(const CodecCapability& cap, const RtpMap& r, const std::optional<Fmtp>& f) {
  if (media::codec_from_name(r.name) != cap.codec || r.clock_rate != cap.clock_rate) return false;
  switch (cap.codec) {
    case media::Codec::kOpus:
      return cap.channels == 0 || r.channels == cap.channels;
    case media::Codec::kVP8:
      return true;
    case media::Codec::kVP9:
      return profile_is_zero(f, "profile-id");
    case media::Codec::kAV1:
      return profile_is_zero(f, "profile");
    case media::Codec::kH264: {
      if (!f) return false;  // packetization-mode defaults to 0, profile to 420010: neither is served
      auto mode = f->get("packetization-mode");
      auto profile = f->get("profile-level-id");
      if (!mode || *mode != "1" || !profile) return false;
      return std::any_of(cap.h264_profiles.begin(), cap.h264_profiles.end(),
                         [&](const std::string& p) { return iequals(p, *profile); });
    }
    case media::Codec::kPcmu:  // not among WebRTC's capabilities: the room's audio is Opus
    case media::Codec::kPcma:
    case media::Codec::kUnknown:
      return false;
  }
  return false;
}

std::string describe_caps(const ServerMediaCaps& caps) {
  std::string s;
  for (size_t i = 0; i < caps.codecs.size(); ++i) {
    const auto& c = caps.codecs[i];
    if (i) s += i + 1 == caps.codecs.size() ? " and " : ", ";
    s += media::to_string(c.codec);
    if (c.codec == media::Codec::kOpus) s += "/48000/2";
    if (c.codec == media::Codec::kVP9) s += " profile 0";
    if (c.codec == media::Codec::kAV1) s += " profile 0";
    if (c.codec == media::Codec::kH264) {
      s += " packetization-mode=1 (";
      for (size_t k = 0; k < c.h264_profiles.size(); ++k)
        s += (k ? ", " : "") + c.h264_profiles[k];
      s += ")";
    }
  }
  return s;
}

struct SectionPlan {
  bool accepted = false;
  std::string reject_reason;
  enum class Why { kNone, kOfferRejected, kData, kProto, kBundle, kDirection, kCodec } why = Why::kNone;
  NegotiatedMedia media;
  std::vector<std::string> rtpmap_lines, fmtp_lines, fb_lines;
  std::vector<std::string> formats;
  std::vector<ExtMap> extensions;
  std::vector<SimulcastStream> simulcast_rids;
};

std::optional<SdpDirection> answer_direction(SdpDirection offered, SessionKind kind) {
  switch (offered) {
    case SdpDirection::kInactive:
      return SdpDirection::kInactive;
    case SdpDirection::kSendOnly:
      if (kind == SessionKind::kSubscribe) return std::nullopt;
      return SdpDirection::kRecvOnly;
    case SdpDirection::kRecvOnly:
      if (kind == SessionKind::kPublish) return std::nullopt;
      return SdpDirection::kSendOnly;
    case SdpDirection::kSendRecv:
      if (kind == SessionKind::kPublish) return SdpDirection::kRecvOnly;
      if (kind == SessionKind::kSubscribe) return SdpDirection::kSendOnly;
      return SdpDirection::kSendRecv;
  }
  return std::nullopt;
}

bool receives(SdpDirection ours) {
  return ours == SdpDirection::kRecvOnly || ours == SdpDirection::kSendRecv;
}
bool sends(SdpDirection ours) {
  return ours == SdpDirection::kSendOnly || ours == SdpDirection::kSendRecv;
}

void pick_codecs(const MediaSection& m, media::MediaKind kind, const ServerMediaCaps& caps,
                 const AnswerParams& p, SectionPlan& plan) {
  const auto maps = rtpmaps(m);
  const auto fmts = fmtps(m);
  auto map_of = [&](uint8_t pt) -> const RtpMap* {
    for (const auto& r : maps) {
      if (r.pt == pt) return &r;
    }
    return nullptr;
  };
  auto fmtp_of = [&](uint8_t pt) -> std::optional<Fmtp> {
    for (const auto& f : fmts) {
      if (f.pt == pt) return f;
    }
    return std::nullopt;
  };
  const auto preferred = kind == media::MediaKind::kAudio ? p.preferred_audio : p.preferred_video;
  std::set<uint8_t> seen;
  for (const auto& fmt : m.formats) {
    unsigned v = 0;
    const auto [ptr, ec] = std::from_chars(fmt.data(), fmt.data() + fmt.size(), v);
    if (ec != std::errc() || ptr != fmt.data() + fmt.size() || v > 127) continue;
    const auto pt = static_cast<uint8_t>(v);
    if (!seen.insert(pt).second) continue;
    const RtpMap* r = map_of(pt);
    if (!r) continue;
    const media::Codec codec = media::codec_from_name(r->name);
    if (codec == media::Codec::kUnknown || media::kind_of(codec) != kind) continue;
    if (preferred && codec != *preferred) continue;
    const auto f = fmtp_of(pt);
    const bool ok = std::any_of(caps.codecs.begin(), caps.codecs.end(),
                                [&](const CodecCapability& c) { return fits(c, *r, f); });
    if (!ok) continue;
    NegotiatedCodec nc;
    nc.codec = codec;
    nc.pt = pt;
    nc.clock_rate = r->clock_rate;
    nc.channels = r->channels;
    if (f) nc.fmtp = f->params;
    plan.media.codecs.push_back(std::move(nc));
  }
  // RTX for the kept codecs (apt = the codec's pt), in the offer's order.
  for (const auto& r : maps) {
    if (!iequals(r.name, "rtx") || !seen.contains(r.pt)) continue;
    const auto f = fmtp_of(r.pt);
    if (!f) continue;
    auto apt = f->get("apt");
    if (!apt) continue;
    for (auto& c : plan.media.codecs) {
      if (!c.rtx_pt && std::to_string(c.pt) == *apt) c.rtx_pt = r.pt;
    }
  }
  // rtcp-fb we support, per kept codec.
  std::vector<std::pair<std::optional<uint8_t>, std::string>> fbs;
  for (const auto& fb : rtcp_fbs(m)) {
    const std::string name = fb.param.empty() ? fb.type : fb.type + " " + fb.param;
    if (std::find(caps.rtcp_fb.begin(), caps.rtcp_fb.end(), name) == caps.rtcp_fb.end()) continue;
    fbs.emplace_back(fb.pt, name);
  }
  for (size_t i = 0; i < plan.media.codecs.size(); ++i) {
    const auto& c = plan.media.codecs[i];
    plan.formats.push_back(std::to_string(c.pt));
    const RtpMap* r = map_of(c.pt);
    plan.rtpmap_lines.push_back(std::to_string(c.pt) + " " + describe_codec(*r));
    std::set<std::string> written;
    for (const auto& [pt, name] : fbs) {
      if (pt && *pt != c.pt) continue;
      if (!written.insert(name).second) continue;
      plan.fb_lines.push_back(std::to_string(c.pt) + " " + name);
      if (i == 0) {
        auto& fl = plan.media.feedback;
        fl.nack |= name == "nack";
        fl.pli |= name == "nack pli";
        fl.fir |= name == "ccm fir";
        fl.remb |= name == "goog-remb";
        fl.transport_cc |= name == "transport-cc";
      }
    }
    if (!c.fmtp.empty()) plan.fmtp_lines.push_back(std::to_string(c.pt) + " " + c.fmtp);
    if (c.rtx_pt) {
      plan.formats.push_back(std::to_string(*c.rtx_pt));
      plan.rtpmap_lines.push_back(std::to_string(*c.rtx_pt) + " " + describe_codec(*map_of(*c.rtx_pt)));
      plan.fmtp_lines.push_back(std::to_string(*c.rtx_pt) + " apt=" + std::to_string(c.pt));
    }
  }
}

void pick_extensions(const SessionDescription& offer, const MediaSection& m, const ServerMediaCaps& caps,
                     SectionPlan& plan) {
  std::set<uint16_t> ids;
  for (const auto& e : extmaps(offer, m)) {
    if (std::find(caps.header_extensions.begin(), caps.header_extensions.end(), e.uri) ==
        caps.header_extensions.end()) {
      continue;
    }
    if (!ids.insert(e.id).second) continue;  // an id used twice: keep the first
    ExtMap kept;
    kept.id = e.id;
    kept.uri = e.uri;
    plan.extensions.push_back(kept);
    auto& x = plan.media.extensions;
    const auto id = static_cast<uint8_t>(e.id);
    if (e.uri == kExtMid) x.mid = id;
    if (e.uri == kExtRid) x.rid = id;
    if (e.uri == kExtRepairedRid) x.repaired_rid = id;
    if (e.uri == kExtTransportCc) x.transport_cc = id;
    if (e.uri == kExtAudioLevel) x.audio_level = id;
  }
}

void remote_streams(const MediaSection& m, SectionPlan& plan) {
  auto& nm = plan.media;
  for (const auto& s : ssrcs(m)) {
    if (std::find(nm.remote_ssrcs.begin(), nm.remote_ssrcs.end(), s.ssrc) == nm.remote_ssrcs.end()) {
      nm.remote_ssrcs.push_back(s.ssrc);
    }
    if (!nm.remote_msid && s.attribute == "msid") {
      const size_t sp = s.value.find(' ');
      Msid id;
      id.stream_id = s.value.substr(0, sp);
      if (sp != std::string::npos) id.track_id = s.value.substr(sp + 1);
      nm.remote_msid = id;
    }
  }
  for (const auto& g : ssrc_groups(m)) {
    if (g.semantics == "FID" && g.ssrcs.size() == 2) nm.remote_rtx_pairs.emplace_back(g.ssrcs[0], g.ssrcs[1]);
  }
  const auto ms = msids(m);
  if (!ms.empty()) nm.remote_msid = ms.front();
  // Simulcast the client sends: rids listed in a=simulcast:send that have an a=rid:<id> send line.
  auto sc = simulcast(m);
  if (!sc || sc->send.empty() || !receives(nm.direction)) return;
  const auto offered_rids = rids(m);
  std::set<std::string> used;
  for (const auto& alternatives : sc->send) {
    for (const auto& stream : alternatives) {
      const bool declared = std::any_of(offered_rids.begin(), offered_rids.end(), [&](const Rid& r) {
        return r.id == stream.rid && r.direction == RidDirection::kSend;
      });
      if (!declared || !used.insert(stream.rid).second) continue;
      plan.simulcast_rids.push_back(stream);
      nm.remote_rids.push_back(stream.rid);
    }
  }
}

// What must hold before any section is looked at: our own parameters, and the offer's size.
std::optional<NegotiationError> check_offer(const SessionDescription& offer, const AnswerParams& params) {
  const auto our_fp = parse_fingerprint_hex(params.fingerprint_sha256);
  if (!our_fp || our_fp->size() != 32 || params.ice_ufrag.empty() || params.ice_pwd.empty()) {
    return error(400, "The server's answer parameters are incomplete (ICE credentials or DTLS fingerprint).");
  }
  if (offer.media.empty()) return error(400, "The offer has no media sections.");
  for (const char* kind : {"audio", "video"}) {
    const auto count = std::count_if(offer.media.begin(), offer.media.end(),
                                     [kind](const MediaSection& m) { return m.media == kind; });
    if (static_cast<size_t>(count) > kMaxSectionsPerKind)
      return error(400, "The offer has " + std::to_string(count) + " " + kind +
                            " sections; this server accepts at most " + std::to_string(kMaxSectionsPerKind) +
                            " audio and " + std::to_string(kMaxSectionsPerKind) + " video sections.");
  }
  return std::nullopt;
}

// Decides what to do with offered section i: accepted (codecs, extensions, streams picked into `plan`) or
// rejected with the reason kept in `plan`. An error is for an offer that cannot be answered at all.
std::optional<NegotiationError> plan_section(const SessionDescription& offer, size_t i,
                                             const SdpGroup& bundle, const ServerMediaCaps& caps,
                                             const AnswerParams& params, std::set<std::string>& mids,
                                             SectionPlan& plan) {
  const MediaSection& m = offer.media[i];
  const auto id = mid(m);
  if (!id || id->empty()) return error(400, "The offer's " + describe(m, i) + " has no a=mid line.");
  if (!mids.insert(std::string(*id)).second) {
    return error(400, "The offer uses mid " + std::string(*id) + " twice.");
  }
  plan.media.index = i;
  plan.media.mid = std::string(*id);
  using Why = SectionPlan::Why;
  if (m.port == 0 && !m.has("bundle-only")) {
    plan.why = Why::kOfferRejected;
    return std::nullopt;
  }
  if (m.media == "application") {
    plan.why = Why::kData;
    plan.reject_reason = "data channels are not supported yet";
    return std::nullopt;
  }
  if (m.media != "audio" && m.media != "video") {
    plan.why = Why::kProto;
    plan.reject_reason = "media type " + m.media + " is not served";
    return std::nullopt;
  }
  if (m.proto.find("RTP/SAVPF") == std::string::npos) {
    plan.why = Why::kProto;
    plan.reject_reason = "transport " + m.proto + " is not served (only UDP/TLS/RTP/SAVPF)";
    return std::nullopt;
  }
  if (std::find(bundle.mids.begin(), bundle.mids.end(), plan.media.mid) == bundle.mids.end()) {
    plan.why = Why::kBundle;
    plan.reject_reason = "it is not in the BUNDLE group";
    return std::nullopt;
  }
  const auto kind = m.media == "audio" ? media::MediaKind::kAudio : media::MediaKind::kVideo;
  plan.media.kind = kind;
  const auto dir = answer_direction(direction(offer, m), params.kind);
  if (!dir) {
    plan.why = Why::kDirection;
    plan.reject_reason = "its direction does not fit this session";
    return std::nullopt;
  }
  plan.media.direction = *dir;
  pick_codecs(m, kind, caps, params, plan);
  if (plan.media.codecs.empty()) {
    plan.why = Why::kCodec;
    return std::nullopt;
  }
  if (!rtcp_mux(m)) {
    return error(400, "The offer's " + describe(m, i) + " has no a=rtcp-mux; this server requires rtcp-mux.");
  }
  plan.media.rtcp_rsize = rtcp_rsize(m);
  pick_extensions(offer, m, caps, plan);
  remote_streams(m, plan);
  plan.accepted = true;
  return std::nullopt;
}

// Why an offer none of whose sections could be accepted is refused: codecs (406), directions (422), only
// data channels (422), else 406.
NegotiationError nothing_served(const SessionDescription& offer, const std::vector<SectionPlan>& plans,
                                const ServerMediaCaps& caps, const AnswerParams& params) {
  using Why = SectionPlan::Why;
  std::string offered;
  bool any_codec = false, any_direction = false, any_data = false;
  for (size_t i = 0; i < plans.size(); ++i) {
    const auto& m = offer.media[i];
    any_direction |= plans[i].why == Why::kDirection;
    any_data |= plans[i].why == Why::kData;
    if (plans[i].why != Why::kCodec) continue;
    any_codec = true;
    if (!offered.empty()) offered += "; ";
    offered += m.media + " offers ";
    std::string list;
    for (const auto& r : rtpmaps(m)) {
      if (!list.empty()) list += ", ";
      list += describe_codec(r);
      if (auto f = fmtp(m, r.pt); f && media::codec_from_name(r.name) == media::Codec::kH264) {
        list += " (" + f->params + ")";
      }
    }
    offered += list.empty() ? "no codec" : list;
  }
  if (any_codec) {
    std::string reason = "None of the offered codecs can be served (" + offered + "); this server supports " +
                         describe_caps(caps);
    const auto pref_a = params.preferred_audio, pref_v = params.preferred_video;
    if (pref_a || pref_v) {
      reason += ", and this session is limited to";
      if (pref_a) reason += " " + std::string(media::to_string(*pref_a)) + " audio";
      if (pref_a && pref_v) reason += " and";
      if (pref_v) reason += " " + std::string(media::to_string(*pref_v)) + " video";
    }
    return error(406, reason + ".");
  }
  if (any_direction) {
    return error(422, params.kind == SessionKind::kPublish
                          ? "A WHIP offer must send media, but every section of this one only receives."
                          : "A WHEP offer must receive media, but every section of this one only sends.");
  }
  if (any_data)
    return error(422, "The offer has only data channel sections, which this server does not serve yet.");
  return error(406, "The offer has no audio or video section this server can serve.");
}

// The client's ICE credentials, DTLS fingerprint and role, and candidates, from the BUNDLE tag section.
std::optional<NegotiationError> read_remote_transport(const SessionDescription& offer,
                                                      const MediaSection& tag, size_t index, Answer& answer) {
  const auto ufrag = ice_ufrag(offer, tag);
  const auto pwd = ice_pwd(offer, tag);
  if (!ufrag || !pwd || ufrag->empty() || pwd->empty()) {
    return error(400, "The offer has no a=ice-ufrag / a=ice-pwd for " + describe(tag, index) + ".");
  }
  answer.remote_ice_ufrag = std::string(*ufrag);
  answer.remote_ice_pwd = std::string(*pwd);
  const auto fp = fingerprint(offer, tag);
  if (!fp) {
    return error(400, "The offer has no usable a=fingerprint for " + describe(tag, index) + ".");
  }
  answer.remote_fingerprint = *fp;
  const auto role = setup(offer, tag).value_or(SetupRole::kActPass);
  if (role == SetupRole::kPassive || role == SetupRole::kHoldConn) {
    return error(
        422, "The offer says a=setup:" + std::string(to_string(role)) +
                 "; this server is always the DTLS server (a=setup:passive), so offer actpass or active.");
  }
  answer.remote_setup = role;
  answer.remote_candidates = candidates(tag);
  return std::nullopt;
}

// The answer's session part: origin, BUNDLE of the accepted sections, ice-lite and the flags that follow the
// offer's.
SessionDescription answer_session(const SessionDescription& offer, const std::vector<SectionPlan>& plans,
                                  const AnswerParams& params) {
  SessionDescription out;
  out.origin = "- " + std::to_string(params.session_id ? params.session_id : 4611731400430051336ull) +
               " 2 IN IP4 127.0.0.1";
  out.session_name = "-";
  out.lines.push_back({'t', "0 0"});
  std::string group = "BUNDLE";
  for (const auto& p : plans) {
    if (p.accepted) group += " " + p.media.mid;
  }
  out.add("group", group);
  out.add_flag("ice-lite");
  bool allow_mixed = offer.has("extmap-allow-mixed");
  for (const auto& m : offer.media)
    allow_mixed |= m.has("extmap-allow-mixed");
  if (allow_mixed) out.add_flag("extmap-allow-mixed");
  if (params.kind != SessionKind::kPublish) out.add("msid-semantic", " WMS *");
  return out;
}

// Our answer to one offered section. An accepted one takes the next SendStreamParams when we send on it,
// and the first accepted one carries our host candidates.
MediaSection answer_section(SectionPlan& plan, const MediaSection& om, const AnswerParams& params,
                            const std::string& our_fp_hex, size_t& next_send, bool& candidates_written) {
  MediaSection m;
  m.media = om.media;
  m.proto = om.proto;
  m.lines.push_back({'c', "IN IP4 0.0.0.0"});
  if (!plan.accepted) {
    m.port = 0;
    m.formats = {om.formats.empty() ? std::string("0") : om.formats.front()};
    m.add("mid", plan.media.mid);
    return m;
  }
  auto& nm = plan.media;
  m.port = 9;
  m.formats = plan.formats;
  m.add("mid", nm.mid);
  m.add("ice-ufrag", params.ice_ufrag);
  m.add("ice-pwd", params.ice_pwd);
  m.add("fingerprint", "sha-256 " + our_fp_hex);
  m.add("setup", "passive");
  m.add_flag(std::string(to_string(nm.direction)));
  m.add_flag("rtcp-mux");
  if (nm.rtcp_rsize) m.add_flag("rtcp-rsize");
  for (const auto& e : plan.extensions)
    m.add("extmap", std::to_string(e.id) + " " + e.uri);
  // rtpmap, then its rtcp-fb and fmtp lines, codec by codec (RTX lines right after their codec).
  {
    size_t fb = 0, fm = 0;
    for (const auto& line : plan.rtpmap_lines) {
      const std::string pt = line.substr(0, line.find(' ')) + " ";
      m.add("rtpmap", line);
      while (fb < plan.fb_lines.size() && plan.fb_lines[fb].starts_with(pt))
        m.add("rtcp-fb", plan.fb_lines[fb++]);
      while (fm < plan.fmtp_lines.size() && plan.fmtp_lines[fm].starts_with(pt))
        m.add("fmtp", plan.fmtp_lines[fm++]);
    }
  }
  if (!plan.simulcast_rids.empty()) {
    std::string list;
    for (const auto& r : plan.simulcast_rids) {
      m.add("rid", r.rid + " recv");
      if (!list.empty()) list += ';';
      list += (r.paused ? "~" : "") + r.rid;
    }
    m.add("simulcast", "recv " + list);
  }
  if (sends(nm.direction) && next_send < params.send_streams.size()) {
    const SendStreamParams& s = params.send_streams[next_send++];
    nm.send = s;
    const std::string msid = s.stream_id + " " + s.track_id;
    m.add("msid", msid);
    const bool rtx = s.rtx_ssrc != 0 && std::any_of(nm.codecs.begin(), nm.codecs.end(),
                                                    [](const NegotiatedCodec& c) { return c.rtx_pt; });
    if (rtx) m.add("ssrc-group", "FID " + std::to_string(s.ssrc) + " " + std::to_string(s.rtx_ssrc));
    for (uint32_t ssrc : {s.ssrc, rtx ? s.rtx_ssrc : 0u}) {
      if (!ssrc) continue;
      m.add("ssrc", std::to_string(ssrc) + " cname:" + s.cname);
      m.add("ssrc", std::to_string(ssrc) + " msid:" + msid);
    }
  }
  if (!candidates_written) {
    candidates_written = true;
    add_host_candidates(m, params.candidates);
  }
  return m;
}

}  // namespace

ServerMediaCaps ServerMediaCaps::defaults() {
  ServerMediaCaps c;
  c.codecs.push_back({media::Codec::kOpus, 48000, 2, {}});
  c.codecs.push_back({media::Codec::kVP8, 90000, 0, {}});
  c.codecs.push_back({media::Codec::kVP9, 90000, 0, {}});
  c.codecs.push_back({media::Codec::kH264, 90000, 0, {"42e01f", "42001f", "4d001f", "640c1f"}});
  c.codecs.push_back({media::Codec::kAV1, 90000, 0, {}});
  // Not abs-send-time: bandwidth is estimated from transport-cc in both directions, so it would only cost
  // three bytes in every packet.
  c.header_extensions = {std::string(kExtMid), std::string(kExtRid), std::string(kExtRepairedRid),
                         std::string(kExtTransportCc), std::string(kExtAudioLevel)};
  c.rtcp_fb = {"nack", "nack pli", "ccm fir", "goog-remb", "transport-cc"};
  return c;
}

SdpResult<SessionDescription, NegotiationError> parse_offer(std::string_view offer_sdp) {
  auto parsed = parse_sdp(offer_sdp);
  if (!parsed) {
    const auto& e = parsed.error();
    std::string reason = "The offer is not valid SDP";
    if (e.line) reason += " (line " + std::to_string(e.line) + ")";
    return error(400, reason + ": " + e.reason + ".");
  }
  return std::move(parsed).value();
}

SdpResult<Answer, NegotiationError> negotiate_answer(std::string_view offer_sdp, const ServerMediaCaps& caps,
                                                     const AnswerParams& params) {
  auto parsed = parse_offer(offer_sdp);
  if (!parsed) return parsed.error();
  return negotiate_answer(*parsed, caps, params);
}

size_t max_send_streams(const SessionDescription& offer, SessionKind kind) {
  size_t n = 0;
  for (const auto& m : offer.media) {
    if (m.media != "audio" && m.media != "video") continue;
    const auto ours = answer_direction(direction(offer, m), kind);
    if (ours && sends(*ours)) ++n;
  }
  return n;
}

void add_host_candidates(MediaSection& m, const std::vector<HostCandidate>& candidates) {
  for (size_t k = 0; k < candidates.size(); ++k) {
    const auto& hc = candidates[k];
    IceCandidate c;
    c.foundation = std::to_string(k + 1);
    c.component = 1;
    c.transport = hc.udp ? "udp" : "tcp";
    c.priority = hc.priority ? hc.priority : host_candidate_priority(k, hc.udp);
    c.address = hc.ip;
    c.port = hc.port;
    c.type = "host";
    if (!hc.udp) c.tcp_type = "passive";
    m.add("candidate", format_candidate(c));
  }
  m.add_flag("end-of-candidates");
}

SdpResult<Answer, NegotiationError> negotiate_answer(const SessionDescription& offer,
                                                     const ServerMediaCaps& caps,
                                                     const AnswerParams& params) {
  if (auto e = check_offer(offer, params)) return *e;
  const auto bundle = bundle_group(offer);
  if (!bundle) return error(400, "The offer has no a=group:BUNDLE line; this server requires BUNDLE.");

  std::vector<SectionPlan> plans(offer.media.size());
  std::set<std::string> mids;
  for (size_t i = 0; i < offer.media.size(); ++i)
    if (auto e = plan_section(offer, i, *bundle, caps, params, mids, plans[i])) return *e;
  const auto first =
      std::find_if(plans.begin(), plans.end(), [](const SectionPlan& p) { return p.accepted; });
  if (first == plans.end()) return nothing_served(offer, plans, caps, params);

  // Transport parameters come from the first accepted section (the BUNDLE tag for our purposes).
  Answer answer;
  if (auto e = read_remote_transport(offer, offer.media[first->media.index], first->media.index, answer))
    return *e;

  SessionDescription out = answer_session(offer, plans, params);
  const std::string our_fp_hex = format_fingerprint_hex(*parse_fingerprint_hex(params.fingerprint_sha256));
  size_t next_send = 0;
  bool candidates_written = false;
  for (size_t i = 0; i < plans.size(); ++i) {
    out.media.push_back(
        answer_section(plans[i], offer.media[i], params, our_fp_hex, next_send, candidates_written));
    if (plans[i].accepted) answer.media.push_back(std::move(plans[i].media));
  }
  answer.sdp = serialize_sdp(out);
  return answer;
}

}  // namespace atrium::webrtc
