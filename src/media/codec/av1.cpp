#include "media/codec/av1.h"

namespace atrium::media {

std::optional<Av1AggregationHeader> parse_av1_aggregation_header(std::span<const uint8_t> payload) {
  if (payload.size() < 2) return std::nullopt;  // the header and at least one byte of OBU data
  const uint8_t b = payload[0];
  Av1AggregationHeader h;
  h.continuation = (b & 0x80) != 0;
  h.continues_next = (b & 0x40) != 0;
  h.obu_count = static_cast<uint8_t>((b >> 4) & 0x03);
  h.new_coded_video_sequence = (b & 0x08) != 0;
  return h;
}

bool av1_is_keyframe(std::span<const uint8_t> payload) {
  auto h = parse_av1_aggregation_header(payload);
  // N=1 together with Z=1 would be contradictory (a sequence cannot start mid-OBU): not a key frame.
  return h && h->new_coded_video_sequence && !h->continuation;
}

std::optional<Av1ObuLayer> av1_first_obu_layer(std::span<const uint8_t> payload) {
  auto h = parse_av1_aggregation_header(payload);
  if (!h || h->continuation) return std::nullopt;
  size_t pos = 1;
  if (h->obu_count != 1) {
    // The first element carries a leb128 length (W=0, or W=2..3 where only the last element lacks one).
    uint64_t len = 0;
    for (unsigned i = 0;; ++i) {
      if (i == 8 || pos >= payload.size()) return std::nullopt;
      const uint8_t b = payload[pos++];
      len |= uint64_t{b & 0x7Fu} << (7 * i);
      if ((b & 0x80) == 0) break;
    }
    if (len < 2 || len > payload.size() - pos) return std::nullopt;
  }
  if (payload.size() - pos < 2) return std::nullopt;
  const uint8_t obu_header = payload[pos];
  if (obu_header & 0x80) return std::nullopt;         // forbidden bit
  if ((obu_header & 0x04) == 0) return std::nullopt;  // no extension header
  const uint8_t ext = payload[pos + 1];
  return Av1ObuLayer{static_cast<uint8_t>(ext >> 5), static_cast<uint8_t>((ext >> 3) & 0x03)};
}

}  // namespace atrium::media
