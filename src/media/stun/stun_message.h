// STUN messages (RFC 8489) as ICE uses them (RFC 8445): a bounds-checked view over one datagram, attribute
// lookup, the ICE attributes, MESSAGE-INTEGRITY (HMAC-SHA1) and FINGERPRINT (CRC-32) checks. No allocation;
// every span points into the caller's buffer.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace atrium::media {

inline constexpr size_t kStunHeaderSize = 20;
inline constexpr uint32_t kStunMagicCookie = 0x2112A442;
inline constexpr uint32_t kStunFingerprintXor = 0x5354554E;
inline constexpr size_t kStunMessageIntegritySize = 20;  // HMAC-SHA1
inline constexpr size_t kStunMaxAttributes = 64;         // more is not a message any ICE agent sends

using StunTransactionId = std::array<uint8_t, 12>;

enum class StunClass : uint8_t { kRequest = 0, kIndication = 1, kSuccessResponse = 2, kErrorResponse = 3 };

inline constexpr uint16_t kStunMethodBinding = 0x001;

// The 14-bit type field interleaves the 2 class bits (C1 at bit 8, C0 at bit 4) with the 12 method bits.
constexpr uint16_t stun_message_type(uint16_t method, StunClass cls) {
  const auto c = static_cast<uint16_t>(cls);
  return static_cast<uint16_t>((method & 0x000F) | ((method & 0x0070) << 1) | ((method & 0x0F80) << 2) |
                               ((c & 0x1) << 4) | ((c & 0x2) << 7));
}
inline constexpr uint16_t kStunBindingRequest = stun_message_type(kStunMethodBinding, StunClass::kRequest);
inline constexpr uint16_t kStunBindingSuccess =
    stun_message_type(kStunMethodBinding, StunClass::kSuccessResponse);
inline constexpr uint16_t kStunBindingError =
    stun_message_type(kStunMethodBinding, StunClass::kErrorResponse);
inline constexpr uint16_t kStunBindingIndication =
    stun_message_type(kStunMethodBinding, StunClass::kIndication);

namespace stun_attr {
inline constexpr uint16_t kMappedAddress = 0x0001;
inline constexpr uint16_t kUsername = 0x0006;
inline constexpr uint16_t kMessageIntegrity = 0x0008;
inline constexpr uint16_t kErrorCode = 0x0009;
inline constexpr uint16_t kUnknownAttributes = 0x000A;
inline constexpr uint16_t kRealm = 0x0014;
inline constexpr uint16_t kNonce = 0x0015;
inline constexpr uint16_t kMessageIntegritySha256 = 0x001C;
inline constexpr uint16_t kXorMappedAddress = 0x0020;
inline constexpr uint16_t kPriority = 0x0024;
inline constexpr uint16_t kUseCandidate = 0x0025;
inline constexpr uint16_t kSoftware = 0x8022;
inline constexpr uint16_t kFingerprint = 0x8028;
inline constexpr uint16_t kIceControlled = 0x8029;
inline constexpr uint16_t kIceControlling = 0x802A;
}  // namespace stun_attr

// An address as STUN carries it: 4 or 16 bytes of IP (IPv4 in the first 4) and a port.
struct StunAddress {
  bool v6 = false;
  std::array<uint8_t, 16> ip{};
  uint16_t port = 0;
  bool operator==(const StunAddress&) const = default;
};

struct StunAttribute {
  uint16_t type = 0;
  std::span<const uint8_t> value;  // without padding
  size_t offset = 0;               // of the attribute header, from the start of the message
};

struct StunErrorCode {
  uint16_t code = 0;        // 300..699
  std::string_view reason;  // UTF-8 as sent, not validated
};

// Walks the attributes of a message that parse() accepted (so every header and length is in bounds).
class StunAttributeIterator {
 public:
  explicit StunAttributeIterator(std::span<const uint8_t> message) : msg_(message) {}
  std::optional<StunAttribute> next();

 private:
  std::span<const uint8_t> msg_;
  size_t pos_ = kStunHeaderSize;
};

class StunMessage {
 public:
  // Checks: at least 20 bytes, the two top bits zero, the magic cookie, the length field a multiple of 4 and
  // exactly the rest of the datagram, every attribute (with its padding) inside the message, at most
  // kStunMaxAttributes of them, MESSAGE-INTEGRITY 20 bytes long, FINGERPRINT 4 bytes long and the last
  // attribute. On failure returns nullopt and, when `error` is given, a short reason in it.
  static std::optional<StunMessage> parse(std::span<const uint8_t> datagram,
                                          std::string_view* error = nullptr);

  // A quick test for the demultiplexer: 20+ bytes, top bits zero, magic cookie. parse() still decides.
  static bool looks_like_stun(std::span<const uint8_t> datagram);

  uint16_t type() const;
  uint16_t method() const;
  StunClass message_class() const;
  std::span<const uint8_t, 12> transaction_id() const { return msg_.subspan<8, 12>(); }
  StunTransactionId transaction_id_array() const;
  std::span<const uint8_t> data() const { return msg_; }
  size_t size() const { return msg_.size(); }

  StunAttributeIterator attributes() const { return StunAttributeIterator(msg_); }
  // The first attribute of `type`. Attributes after MESSAGE-INTEGRITY other than FINGERPRINT are ignored, as
  // RFC 8489 section 14.5 requires.
  std::optional<StunAttribute> find(uint16_t type) const;
  bool has(uint16_t type) const { return find(type).has_value(); }

  // Typed accessors: nullopt when absent or malformed (wrong size, bad family, ...).
  std::optional<std::string_view> username() const;  // at most 763 bytes (RFC 8489 section 14.3)
  std::optional<uint32_t> priority() const;
  bool use_candidate() const { return has(stun_attr::kUseCandidate); }
  std::optional<uint64_t> ice_controlling() const;  // the tiebreaker
  std::optional<uint64_t> ice_controlled() const;
  std::optional<StunErrorCode> error_code() const;
  std::optional<StunAddress> xor_mapped_address() const;
  std::optional<StunAddress> mapped_address() const;
  std::optional<std::string_view> software() const;

  // MESSAGE-INTEGRITY (HMAC-SHA1) with `key` (ICE: the peer's password bytes). False when absent or wrong.
  bool verify_integrity(std::span<const uint8_t> key) const;
  bool verify_integrity(std::string_view key) const;
  // FINGERPRINT: false when absent or wrong.
  bool verify_fingerprint() const;

 private:
  explicit StunMessage(std::span<const uint8_t> msg) : msg_(msg) {}
  std::span<const uint8_t> msg_;
};

// CRC-32 (ISO-HDLC, the one of zlib and Ethernet), table driven.
uint32_t stun_crc32(std::span<const uint8_t> data);

// Decodes a MAPPED-ADDRESS (xored = false) or XOR-MAPPED-ADDRESS value; the XOR form needs the transaction
// id.
std::optional<StunAddress> stun_decode_address(std::span<const uint8_t> value,
                                               std::span<const uint8_t> transaction_id, bool xored);

}  // namespace atrium::media
