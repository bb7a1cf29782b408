// ICE candidate priorities (RFC 8445 section 5.1.2.1), in one place for every candidate the server
// advertises: the SDP answer's and the ICE-restart fragment's.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>

namespace atrium::webrtc {

inline constexpr uint32_t kHostTypePreference = 126;  // RFC 8445 section 5.1.2.2: host candidates

// (2^24) * type preference + (2^8) * local preference + (256 - component id).
constexpr uint32_t candidate_priority(uint32_t type_preference, uint32_t local_preference,
                                      uint32_t component = 1) {
  return (type_preference << 24) + (local_preference << 8) + (256u - component);
}

// The server's host candidate number `index` in its list: the local preference falls in list order, and TCP
// candidates rank below every UDP one.
constexpr uint32_t host_candidate_priority(size_t index, bool udp, uint32_t component = 1) {
  const uint32_t local = (udp ? 65535u : 32767u) - static_cast<uint32_t>(std::min<size_t>(index, 1000));
  return candidate_priority(kHostTypePreference, local, component);
}

// What the type preference (the top 8 bits of a priority) says about a candidate: RFC 8445 section 5.1.2.2
// recommends host 126, peer-reflexive 110, server-reflexive 100, relayed 0; libwebrtc uses those, plus 90
// host TCP, 80 peer-reflexive TCP, and 0-2 for relayed over TLS, TCP and UDP. Caution for a server reading
// the PRIORITY attribute of a check: RFC 8445 section 7.1.1 has the client put the peer-reflexive type
// preference there, whatever its local candidate is (libwebrtc does: 110, or 80 over TCP), so a conforming
// client's checks decode as kPeerReflexive and only a client that sends its candidate's own priority reveals
// a relay this way. The runtime therefore also compares the check's source with the TURN servers' addresses.
enum class CandidateType { kHost, kPeerReflexive, kServerReflexive, kRelay, kUnknown };

constexpr CandidateType candidate_type_of_priority(uint32_t priority) {
  const uint32_t type = priority >> 24;
  if (type == kHostTypePreference || type == 90) return CandidateType::kHost;
  if (type == 110 || type == 80) return CandidateType::kPeerReflexive;
  if (type == 100) return CandidateType::kServerReflexive;
  if (type <= 2) return CandidateType::kRelay;
  return CandidateType::kUnknown;
}

constexpr const char* candidate_type_name(CandidateType t) {
  switch (t) {
    case CandidateType::kHost:
      return "host";
    case CandidateType::kPeerReflexive:
      return "prflx";
    case CandidateType::kServerReflexive:
      return "srflx";
    case CandidateType::kRelay:
      return "relay";
    case CandidateType::kUnknown:
      break;
  }
  return "unknown";
}

}  // namespace atrium::webrtc
