// RTCP common header (RFC 3550 section 6.4) and an iterator over a compound packet that never trusts a length
// field: every header is checked against the bytes left, and the first bad one stops the walk with a reason.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace atrium::media {

enum class RtcpType : uint8_t {
  kSr = 200,
  kRr = 201,
  kSdes = 202,
  kBye = 203,
  kApp = 204,
  kRtpfb = 205,  // RFC 4585 transport-layer feedback
  kPsfb = 206,   // RFC 4585 payload-specific feedback
  kXr = 207,
};

// Feedback message types (FMT) of RTPFB and PSFB.
inline constexpr uint8_t kRtpfbNack = 1;
inline constexpr uint8_t kRtpfbTwcc = 15;
inline constexpr uint8_t kPsfbPli = 1;
inline constexpr uint8_t kPsfbFir = 4;
inline constexpr uint8_t kPsfbAfb = 15;  // application layer feedback: REMB

inline constexpr size_t kRtcpHeaderSize = 4;

enum class RtcpError : uint8_t {
  kNone,
  kTruncatedHeader,  // fewer than 4 bytes left where a header should start
  kBadVersion,       // version is not 2
  kLengthOverrun,    // the length field claims more bytes than are left
  kBadPadding,       // padding count of 0 or larger than the packet body
};
std::string_view to_string(RtcpError e);

// One packet of a compound. `packet` covers header and body including any padding; `body` is what follows the
// 4-byte header with padding removed.
struct RtcpHeader {
  uint8_t count = 0;  // RC / SC / FMT (5 bits)
  uint8_t type = 0;   // packet type 0..255
  bool padding = false;
  std::span<const uint8_t> packet;
  std::span<const uint8_t> body;

  uint8_t fmt() const { return count; }
  bool is(RtcpType t) const { return type == static_cast<uint8_t>(t); }
};

// Parses one header at the start of `data` (which may be followed by more packets).
std::optional<RtcpHeader> parse_rtcp_header(std::span<const uint8_t> data, RtcpError* error = nullptr);

class RtcpCompoundIterator {
 public:
  explicit RtcpCompoundIterator(std::span<const uint8_t> compound) : rest_(compound) {}

  // The next packet, or nullopt at the end or at the first malformed header (error() tells which).
  std::optional<RtcpHeader> next();
  RtcpError error() const { return error_; }
  bool done() const { return rest_.empty() || error_ != RtcpError::kNone; }

 private:
  std::span<const uint8_t> rest_;
  RtcpError error_ = RtcpError::kNone;
};

// True when the whole datagram is a sequence of well-formed RTCP headers covering it exactly.
bool rtcp_compound_is_valid(std::span<const uint8_t> compound);

// Writes a header for a packet of `total_size` bytes (a multiple of 4, at least 4, at most 262144) at
// out[0..3]. Returns false if that is impossible.
bool write_rtcp_header(std::span<uint8_t> out, uint8_t count, RtcpType type, size_t total_size,
                       bool padding = false);

}  // namespace atrium::media
