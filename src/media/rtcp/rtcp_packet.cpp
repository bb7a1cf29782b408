#include "media/rtcp/rtcp_packet.h"

#include "media/rtp/bytes.h"

namespace atrium::media {

std::string_view to_string(RtcpError e) {
  switch (e) {
    case RtcpError::kNone:
      return "none";
    case RtcpError::kTruncatedHeader:
      return "truncated header";
    case RtcpError::kBadVersion:
      return "bad version";
    case RtcpError::kLengthOverrun:
      return "length overrun";
    case RtcpError::kBadPadding:
      return "bad padding";
  }
  return "unknown";
}

std::optional<RtcpHeader> parse_rtcp_header(std::span<const uint8_t> data, RtcpError* error) {
  auto fail = [&](RtcpError e) -> std::optional<RtcpHeader> {
    if (error) *error = e;
    return std::nullopt;
  };
  if (data.size() < kRtcpHeaderSize) return fail(RtcpError::kTruncatedHeader);
  if ((data[0] >> 6) != 2) return fail(RtcpError::kBadVersion);
  const size_t size = 4 * (static_cast<size_t>(bytes::read16(data, 2)) + 1);
  if (size > data.size()) return fail(RtcpError::kLengthOverrun);
  RtcpHeader h;
  h.count = data[0] & 0x1F;
  h.type = data[1];
  h.padding = (data[0] & 0x20) != 0;
  h.packet = data.first(size);
  size_t body_size = size - kRtcpHeaderSize;
  if (h.padding) {
    const size_t pad = h.packet.back();
    if (pad == 0 || pad > body_size) return fail(RtcpError::kBadPadding);
    body_size -= pad;
  }
  h.body = h.packet.subspan(kRtcpHeaderSize, body_size);
  if (error) *error = RtcpError::kNone;
  return h;
}

std::optional<RtcpHeader> RtcpCompoundIterator::next() {
  if (done()) return std::nullopt;
  RtcpError e = RtcpError::kNone;
  auto h = parse_rtcp_header(rest_, &e);
  if (!h) {
    error_ = e;
    return std::nullopt;
  }
  rest_ = rest_.subspan(h->packet.size());
  return h;
}

bool rtcp_compound_is_valid(std::span<const uint8_t> compound) {
  if (compound.empty()) return false;
  RtcpCompoundIterator it(compound);
  while (it.next()) {
  }
  return it.error() == RtcpError::kNone;
}

bool write_rtcp_header(std::span<uint8_t> out, uint8_t count, RtcpType type, size_t total_size,
                       bool padding) {
  if (out.size() < kRtcpHeaderSize || count > 31 || total_size < 4 || total_size % 4 != 0 ||
      total_size / 4 - 1 > 0xFFFF)
    return false;
  out[0] = static_cast<uint8_t>(0x80 | (padding ? 0x20 : 0) | count);
  out[1] = static_cast<uint8_t>(type);
  bytes::write16(out, 2, static_cast<uint16_t>(total_size / 4 - 1));
  return true;
}

}  // namespace atrium::media
