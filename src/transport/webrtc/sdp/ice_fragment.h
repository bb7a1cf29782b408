// The trickle-ICE SDP fragments (RFC 8840, application/trickle-ice-sdpfrag) a WHIP/WHEP PATCH carries
// (RFC 9725 section 4.3): reading the client's, and writing the server's answer to an ICE restart. Sans-IO.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "transport/webrtc/sdp/negotiator.h"

namespace atrium::webrtc {

// The ICE credentials a client's fragment names (empty when it names none: a trickle of candidates only).
struct IceFragment {
  std::string ufrag;
  std::string pwd;
};
// nullopt when `body` is not SDP lines ("x=..." each; blank lines and \r\n or \n endings are fine). When a
// credential appears twice the last one counts.
std::optional<IceFragment> parse_ice_fragment(std::string_view body);

// The 200 answer to an ICE restart: a=ice-lite and our new credentials; then, when the session has accepted
// sections, its BUNDLE group and the first section's m= line (its payload types) with a=mid, our host
// candidates and a=end-of-candidates.
std::string write_ice_restart_fragment(std::string_view ufrag, std::string_view pwd,
                                       const std::vector<NegotiatedMedia>& media,
                                       const std::vector<HostCandidate>& candidates);

}  // namespace atrium::webrtc
