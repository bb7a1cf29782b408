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

}  // namespace atrium::webrtc
