// AV1 RTP payload (AV1 RTP specification, section 4.4): the one-byte aggregation header Z Y W(2) N - - -,
// then OBU elements (each but the last length-prefixed by leb128 when W=0; W=1..3 gives the element count,
// the last one without a length).
#pragma once

#include <cstdint>
#include <optional>
#include <span>

namespace atrium::media {

struct Av1AggregationHeader {
  bool continuation = false;              // Z: the first element continues an OBU from the previous packet
  bool continues_next = false;            // Y: the last element continues in the next packet
  uint8_t obu_count = 0;                  // W: 0 = every element has a length field
  bool new_coded_video_sequence = false;  // N
};

std::optional<Av1AggregationHeader> parse_av1_aggregation_header(std::span<const uint8_t> payload);

// N=1: the first packet of a coded video sequence, which starts with a key frame.
bool av1_is_keyframe(std::span<const uint8_t> payload);

struct Av1ObuLayer {
  uint8_t temporal_id = 0;
  uint8_t spatial_id = 0;
};
// Temporal and spatial id from the OBU extension header of the first OBU that starts in this packet; nullopt
// when the packet starts with a continuation, the first OBU has no extension header, or the packet is
// malformed.
std::optional<Av1ObuLayer> av1_first_obu_layer(std::span<const uint8_t> payload);

}  // namespace atrium::media
