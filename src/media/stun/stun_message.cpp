#include "media/stun/stun_message.h"

#include <openssl/crypto.h>

#include <algorithm>

#include "media/rtp/bytes.h"
#include "media/stun/stun_hmac.h"

namespace atrium::media {

namespace {

constexpr size_t padded(size_t n) {
  return (n + 3) & ~size_t{3};
}

void set_error(std::string_view* error, std::string_view why) {
  if (error) *error = why;
}

}  // namespace

std::optional<StunAttribute> StunAttributeIterator::next() {
  if (pos_ + 4 > msg_.size()) return std::nullopt;
  StunAttribute a;
  a.type = bytes::read16(msg_, pos_);
  const size_t len = bytes::read16(msg_, pos_ + 2);
  if (pos_ + 4 + len > msg_.size()) return std::nullopt;  // parse() rules this out; stay safe anyway
  a.value = msg_.subspan(pos_ + 4, len);
  a.offset = pos_;
  pos_ += 4 + padded(len);
  return a;
}

bool StunMessage::looks_like_stun(std::span<const uint8_t> d) {
  return d.size() >= kStunHeaderSize && (d[0] & 0xC0) == 0 && bytes::read32(d, 4) == kStunMagicCookie;
}

std::optional<StunMessage> StunMessage::parse(std::span<const uint8_t> d, std::string_view* error) {
  if (d.size() < kStunHeaderSize) {
    set_error(error, "shorter than the 20-byte STUN header");
    return std::nullopt;
  }
  if ((d[0] & 0xC0) != 0) {
    set_error(error, "top two bits of the type are not zero");
    return std::nullopt;
  }
  if (bytes::read32(d, 4) != kStunMagicCookie) {
    set_error(error, "no magic cookie");
    return std::nullopt;
  }
  const size_t length = bytes::read16(d, 2);
  if (length % 4 != 0) {
    set_error(error, "length is not a multiple of 4");
    return std::nullopt;
  }
  if (kStunHeaderSize + length != d.size()) {
    set_error(error, "length field does not match the datagram size");
    return std::nullopt;
  }
  size_t pos = kStunHeaderSize;
  size_t count = 0;
  bool seen_fingerprint = false;
  while (pos < d.size()) {
    if (seen_fingerprint) {
      set_error(error, "attribute after FINGERPRINT");
      return std::nullopt;
    }
    if (++count > kStunMaxAttributes) {
      set_error(error, "too many attributes");
      return std::nullopt;
    }
    if (pos + 4 > d.size()) {
      set_error(error, "truncated attribute header");
      return std::nullopt;
    }
    const uint16_t type = bytes::read16(d, pos);
    const size_t len = bytes::read16(d, pos + 2);
    if (pos + 4 + padded(len) > d.size()) {
      set_error(error, "attribute runs past the end of the message");
      return std::nullopt;
    }
    if (type == stun_attr::kMessageIntegrity && len != kStunMessageIntegritySize) {
      set_error(error, "MESSAGE-INTEGRITY is not 20 bytes");
      return std::nullopt;
    }
    if (type == stun_attr::kFingerprint) {
      if (len != 4) {
        set_error(error, "FINGERPRINT is not 4 bytes");
        return std::nullopt;
      }
      seen_fingerprint = true;
    }
    pos += 4 + padded(len);
  }
  return StunMessage(d);
}

uint16_t StunMessage::type() const {
  return bytes::read16(msg_, 0);
}

uint16_t StunMessage::method() const {
  const uint16_t t = type();
  return static_cast<uint16_t>((t & 0x000F) | ((t & 0x00E0) >> 1) | ((t & 0x3E00) >> 2));
}

StunClass StunMessage::message_class() const {
  const uint16_t t = type();
  return static_cast<StunClass>(((t >> 4) & 0x1) | ((t >> 7) & 0x2));
}

StunTransactionId StunMessage::transaction_id_array() const {
  StunTransactionId id;
  std::copy_n(msg_.begin() + 8, 12, id.begin());
  return id;
}

std::optional<StunAttribute> StunMessage::find(uint16_t type) const {
  auto it = attributes();
  bool after_integrity = false;
  while (auto a = it.next()) {
    if (after_integrity && a->type != stun_attr::kFingerprint) continue;
    if (a->type == type) return a;
    if (a->type == stun_attr::kMessageIntegrity) after_integrity = true;
  }
  return std::nullopt;
}

std::optional<std::string_view> StunMessage::username() const {
  auto a = find(stun_attr::kUsername);
  if (!a || a->value.size() > 763) return std::nullopt;
  return std::string_view(reinterpret_cast<const char*>(a->value.data()), a->value.size());
}

std::optional<std::string_view> StunMessage::software() const {
  auto a = find(stun_attr::kSoftware);
  if (!a || a->value.size() > 763) return std::nullopt;
  return std::string_view(reinterpret_cast<const char*>(a->value.data()), a->value.size());
}

std::optional<uint32_t> StunMessage::priority() const {
  auto a = find(stun_attr::kPriority);
  if (!a || a->value.size() != 4) return std::nullopt;
  return bytes::read32(a->value, 0);
}

std::optional<uint64_t> StunMessage::ice_controlling() const {
  auto a = find(stun_attr::kIceControlling);
  if (!a || a->value.size() != 8) return std::nullopt;
  return bytes::read64(a->value, 0);
}

std::optional<uint64_t> StunMessage::ice_controlled() const {
  auto a = find(stun_attr::kIceControlled);
  if (!a || a->value.size() != 8) return std::nullopt;
  return bytes::read64(a->value, 0);
}

std::optional<StunErrorCode> StunMessage::error_code() const {
  auto a = find(stun_attr::kErrorCode);
  if (!a || a->value.size() < 4 || a->value.size() > 4 + 763) return std::nullopt;
  const uint8_t cls = a->value[2] & 0x07;
  const uint8_t number = a->value[3];
  if (cls < 3 || cls > 6 || number > 99) return std::nullopt;
  StunErrorCode e;
  e.code = static_cast<uint16_t>(cls * 100 + number);
  e.reason = std::string_view(reinterpret_cast<const char*>(a->value.data() + 4), a->value.size() - 4);
  return e;
}

std::optional<StunAddress> stun_decode_address(std::span<const uint8_t> v, std::span<const uint8_t> tid,
                                               bool xored) {
  if (v.size() < 4) return std::nullopt;
  const uint8_t family = v[1];
  StunAddress a;
  a.port = bytes::read16(v, 2);
  if (xored) a.port ^= static_cast<uint16_t>(kStunMagicCookie >> 16);
  uint8_t mask[16] = {0x21, 0x12, 0xA4, 0x42};
  if (xored) {
    if (tid.size() != 12) return std::nullopt;
    std::copy(tid.begin(), tid.end(), mask + 4);
  } else {
    std::fill(mask, mask + 16, uint8_t{0});
  }
  if (family == 0x01) {
    if (v.size() != 8) return std::nullopt;
    for (size_t i = 0; i < 4; ++i)
      a.ip[i] = v[4 + i] ^ mask[i];
  } else if (family == 0x02) {
    if (v.size() != 20) return std::nullopt;
    a.v6 = true;
    for (size_t i = 0; i < 16; ++i)
      a.ip[i] = v[4 + i] ^ mask[i];
  } else {
    return std::nullopt;
  }
  return a;
}

std::optional<StunAddress> StunMessage::xor_mapped_address() const {
  auto a = find(stun_attr::kXorMappedAddress);
  if (!a) return std::nullopt;
  return stun_decode_address(a->value, transaction_id(), true);
}

std::optional<StunAddress> StunMessage::mapped_address() const {
  auto a = find(stun_attr::kMappedAddress);
  if (!a) return std::nullopt;
  return stun_decode_address(a->value, {}, false);
}

bool StunMessage::verify_integrity(std::string_view key) const {
  return verify_integrity(std::span(reinterpret_cast<const uint8_t*>(key.data()), key.size()));
}

bool StunMessage::verify_integrity(std::span<const uint8_t> key) const {
  auto mi = find(stun_attr::kMessageIntegrity);
  if (!mi) return false;
  // The HMAC covers everything before the attribute, with the length field as if the message ended right
  // after MESSAGE-INTEGRITY.
  uint8_t header[kStunHeaderSize];
  std::copy_n(msg_.begin(), kStunHeaderSize, header);
  bytes::write16(header, 2,
                 static_cast<uint16_t>(mi->offset + 4 + kStunMessageIntegritySize - kStunHeaderSize));
  uint8_t mac[kStunMessageIntegritySize];
  if (!stun_hmac_sha1(key, header, msg_.subspan(kStunHeaderSize, mi->offset - kStunHeaderSize), mac)) {
    return false;
  }
  return CRYPTO_memcmp(mac, mi->value.data(), kStunMessageIntegritySize) == 0;
}

bool StunMessage::verify_fingerprint() const {
  auto fp = find(stun_attr::kFingerprint);
  if (!fp) return false;
  // parse() made sure FINGERPRINT is last, so the length field already counts it.
  const uint32_t crc = stun_crc32(msg_.first(fp->offset)) ^ kStunFingerprintXor;
  return crc == bytes::read32(fp->value, 0);
}

}  // namespace atrium::media
