// Which simulcast stream is which layer. The SDP lists rids (RFC 8851) in a=simulcast in the client's order,
// which says nothing about resolution; the core wants spatial layer 0 to be the smallest. Browsers and the
// SDKs people use name them by one of a few conventions, so those are recognised; anything else keeps the
// SDP order, which is what our own SDK and pages send (lowest first).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace atrium::webrtc {

// For each rid, in the given order, its spatial layer (0 = lowest). Recognised sets, lowest first:
// q/h/f (quarter, half, full), l/m/h, low/mid/high, and decimal numbers.
std::vector<uint8_t> simulcast_layer_order(const std::vector<std::string>& rids);

}  // namespace atrium::webrtc
