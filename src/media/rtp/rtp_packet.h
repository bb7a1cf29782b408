// RTP packet view (RFC 3550) with RFC 8285 header extensions, a header writer, and in-place header setters
// for the forwarding path. Nothing here allocates; every view points into the caller's buffer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

namespace atrium::media {

inline constexpr size_t kRtpFixedHeaderSize = 12;
inline constexpr uint16_t kOneByteExtensionProfile = 0xBEDE;
inline constexpr uint16_t kTwoByteExtensionProfileMask = 0xFFF0;  // 0x100X, X = appbits
inline constexpr uint16_t kTwoByteExtensionProfile = 0x1000;

enum class RtpExtensionForm : uint8_t { kNone, kOneByte, kTwoByte, kOther };

// Walks the elements of an RFC 8285 extension block. Padding is skipped; ID 15 in the one-byte form ends the
// walk; an element that would run past the block ends it too (malformed() then says so).
class RtpExtensionIterator {
 public:
  struct Element {
    uint8_t id = 0;
    std::span<const uint8_t> data;
  };

  RtpExtensionIterator(RtpExtensionForm form, std::span<const uint8_t> block) : form_(form), block_(block) {}
  std::optional<Element> next();
  bool malformed() const { return malformed_; }

 private:
  RtpExtensionForm form_;
  std::span<const uint8_t> block_;
  size_t pos_ = 0;
  bool malformed_ = false;
};

class RtpPacket {
 public:
  // Validates the fixed header (version 2), the CSRC list, the extension block length and the padding (count
  // byte >= 1 and not past the end of the header). Extension elements are checked lazily by find_extension().
  static std::optional<RtpPacket> parse(std::span<const uint8_t> packet);

  bool marker() const { return (data_[1] & 0x80) != 0; }
  uint8_t payload_type() const { return data_[1] & 0x7F; }
  uint16_t sequence_number() const;
  uint32_t timestamp() const;
  uint32_t ssrc() const;
  size_t csrc_count() const { return data_[0] & 0x0F; }
  uint32_t csrc(size_t i) const;  // i < csrc_count()

  bool has_extension() const { return (data_[0] & 0x10) != 0; }
  uint16_t extension_profile() const { return ext_profile_; }  // 0 without extension
  RtpExtensionForm extension_form() const;
  std::span<const uint8_t> extension_block() const {
    return ext_block_;
  }  // the elements, without the 4-byte head
  RtpExtensionIterator extensions() const { return {extension_form(), ext_block_}; }

  // The value of extension `id` (1..14 one-byte, 1..255 two-byte), or an empty span when absent or malformed.
  // A present two-byte extension with zero length also gives an empty span: use has_extension_id() to tell.
  std::span<const uint8_t> find_extension(uint8_t id) const;
  bool has_extension_id(uint8_t id) const;

  size_t header_size() const { return header_size_; }
  size_t padding_size() const { return padding_size_; }
  std::span<const uint8_t> payload() const { return data_.subspan(header_size_, payload_size_); }
  std::span<const uint8_t> data() const { return data_; }  // the whole packet, padding included

 private:
  std::optional<RtpExtensionIterator::Element> find(uint8_t id) const;

  std::span<const uint8_t> data_;
  std::span<const uint8_t> ext_block_;
  uint16_t ext_profile_ = 0;
  size_t header_size_ = 0;
  size_t payload_size_ = 0;
  size_t padding_size_ = 0;
};

struct RtpHeaderFields {
  bool marker = false;
  uint8_t payload_type = 0;  // 0..127
  uint16_t sequence_number = 0;
  uint32_t timestamp = 0;
  uint32_t ssrc = 0;
  std::span<const uint32_t> csrcs;  // at most 15
};

struct RtpExtension {
  uint8_t id = 0;
  std::span<const uint8_t> data;
};

// Writes the RTP header and the extensions into `out` and returns the header size (the payload goes right
// after). Uses the one-byte form (0xBEDE) when every id is 1..14 and every value 1..16 bytes, else the
// two-byte form (ids 1..255, values 0..255 bytes). The block is zero-padded to a 32-bit boundary. Returns 0
// when `out` is too small or a field is out of range (pt > 127, more than 15 CSRCs, id 0, a value over 255
// bytes).
size_t write_rtp_header(std::span<uint8_t> out, const RtpHeaderFields& fields,
                        std::span<const RtpExtension> extensions = {});

// In-place setters for the forwarding path. Each returns false (and writes nothing) when the buffer is
// shorter than the fixed header or is not RTP version 2.
bool rtp_set_sequence_number(std::span<uint8_t> packet, uint16_t seq);
bool rtp_set_timestamp(std::span<uint8_t> packet, uint32_t ts);
bool rtp_set_ssrc(std::span<uint8_t> packet, uint32_t ssrc);
bool rtp_set_payload_type(std::span<uint8_t> packet, uint8_t pt);  // pt <= 127
bool rtp_set_marker(std::span<uint8_t> packet, bool marker);

// A writable view of extension `id`'s value in a packet (e.g. to restamp the transport-wide sequence number
// or abs-send-time before sending); empty when the packet does not parse or has no such extension.
std::span<uint8_t> rtp_find_extension_mut(std::span<uint8_t> packet, uint8_t id);

}  // namespace atrium::media
