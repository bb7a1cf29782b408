// Feeds arbitrary text to the SDP parser, every WebRTC accessor, the serializer (whose output must parse
// again to the same text) and the negotiator with the default capabilities, in all three session kinds.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "transport/webrtc/sdp/negotiator.h"
#include "media/sdp/sdp.h"
#include "transport/webrtc/sdp/webrtc_sdp.h"

using namespace atrium::webrtc;

namespace {

volatile uint64_t g_sink = 0;

void sink(uint64_t v) {
  g_sink = g_sink + v;
}

void accessors(const SessionDescription& s) {
  for (const auto& g : groups(s))
    sink(g.mids.size());
  if (auto b = bundle_group(s)) sink(b->mids.size());
  for (const auto& m : s.media) {
    if (auto v = mid(m)) sink(v->size());
    sink(static_cast<uint64_t>(direction(s, m)));
    if (auto v = ice_ufrag(s, m)) sink(v->size());
    if (auto v = ice_pwd(s, m)) sink(v->size());
    sink(ice_options(s, m).size());
    if (auto f = fingerprint(s, m)) sink(f->bytes.size());
    if (auto r = setup(s, m)) sink(static_cast<uint64_t>(*r));
    sink(rtcp_mux(m) + rtcp_rsize(m));
    for (const auto& r : rtpmaps(m))
      sink(r.pt + r.clock_rate + r.channels);
    for (const auto& f : fmtps(m))
      sink(f.parsed.size() + f.get("apt").has_value());
    for (const auto& f : rtcp_fbs(m))
      sink(f.type.size());
    for (const auto& e : extmaps(s, m))
      sink(e.id);
    for (const auto& x : ssrcs(m))
      sink(x.ssrc);
    for (const auto& g : ssrc_groups(m))
      sink(g.ssrcs.size());
    for (const auto& r : rids(m))
      sink(r.pts.size());
    if (auto sc = simulcast(m)) sink(sc->send.size() + sc->recv.size());
    for (const auto& c : candidates(m))
      sink(c.port + format_candidate(c).size());
    for (const auto& id : msids(m))
      sink(id.stream_id.size());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto parsed = parse_sdp(text);
  if (!parsed) {
    sink(parsed.error().line + parsed.error().reason.size());
    return 0;
  }
  accessors(*parsed);
  const std::string once = serialize_sdp(*parsed);
  auto again = parse_sdp(once);
  if (!again || serialize_sdp(*again) != once) std::abort();

  AnswerParams p;
  p.ice_ufrag = "fUzZ";
  p.ice_pwd = "fuzz-password-0123456789";
  p.fingerprint_sha256 = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
  p.candidates = {{"192.0.2.1", 40000, true, 0}};
  p.send_streams = {{1, 2, "c", "s", "t"}, {3, 0, "c", "s", "u"}};
  const auto caps = ServerMediaCaps::defaults();
  for (auto kind : {SessionKind::kPublish, SessionKind::kSubscribe, SessionKind::kPeer}) {
    p.kind = kind;
    auto r = negotiate_answer(*parsed, caps, p);
    if (!r) {
      const int st = r.error().http_status;
      if ((st != 400 && st != 406 && st != 422) || r.error().reason.empty()) std::abort();
      continue;
    }
    // Our own answer must parse, and must not reject its own accepted sections.
    auto ans = parse_sdp(r->sdp);
    if (!ans || r->media.empty()) std::abort();
    for (const auto& m : r->media) {
      if (m.codecs.empty() || m.index >= ans->media.size() || ans->media[m.index].port == 0) std::abort();
    }
    accessors(*ans);
  }
  return 0;
}
