#include "media/stun/stun_writer.h"

#include <algorithm>

#include "media/rtp/bytes.h"
#include "media/stun/stun_hmac.h"

namespace atrium::media {

namespace {

constexpr size_t padded(size_t n) {
  return (n + 3) & ~size_t{3};
}
constexpr size_t kMaxStringSize = 763;

std::span<const uint8_t> as_bytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

}  // namespace

StunWriter::StunWriter(std::span<uint8_t> out, uint16_t type, const StunTransactionId& tid) : out_(out) {
  if (out_.size() < kStunHeaderSize || (type & 0xC000) != 0) {
    ok_ = false;
    return;
  }
  bytes::write16(out_, 0, type);
  bytes::write16(out_, 2, 0);
  bytes::write32(out_, 4, kStunMagicCookie);
  std::copy(tid.begin(), tid.end(), out_.begin() + 8);
  pos_ = kStunHeaderSize;
}

void StunWriter::set_length() {
  bytes::write16(out_, 2, static_cast<uint16_t>(pos_ - kStunHeaderSize));
}

std::span<uint8_t> StunWriter::reserve(uint16_t type, size_t len) {
  if (!ok_) return {};
  const size_t total = 4 + padded(len);
  // The length field is 16 bits; the message must stay within it.
  if (len > 0xFFFF || pos_ + total > out_.size() || pos_ + total - kStunHeaderSize > 0xFFFC) {
    ok_ = false;
    return {};
  }
  bytes::write16(out_, pos_, type);
  bytes::write16(out_, pos_ + 2, static_cast<uint16_t>(len));
  std::fill(out_.begin() + static_cast<std::ptrdiff_t>(pos_ + 4 + len),
            out_.begin() + static_cast<std::ptrdiff_t>(pos_ + total), uint8_t{0});
  auto value = out_.subspan(pos_ + 4, len);
  pos_ += total;
  set_length();
  return value;  // empty for a zero-length attribute: callers tell success by ok_
}

bool StunWriter::add_attribute(uint16_t type, std::span<const uint8_t> value) {
  auto v = reserve(type, value.size());
  if (!ok_) return false;
  std::copy(value.begin(), value.end(), v.begin());
  return true;
}

bool StunWriter::add_string(uint16_t type, std::string_view value) {
  if (value.size() > kMaxStringSize) ok_ = false;
  return add_attribute(type, as_bytes(value));
}

bool StunWriter::add_priority(uint32_t priority) {
  auto v = reserve(stun_attr::kPriority, 4);
  if (!ok_) return false;
  bytes::write32(v, 0, priority);
  return true;
}

bool StunWriter::add_use_candidate() {
  reserve(stun_attr::kUseCandidate, 0);
  return ok_;
}

bool StunWriter::add_ice_controlling(uint64_t tiebreaker) {
  auto v = reserve(stun_attr::kIceControlling, 8);
  if (!ok_) return false;
  bytes::write64(v, 0, tiebreaker);
  return true;
}

bool StunWriter::add_ice_controlled(uint64_t tiebreaker) {
  auto v = reserve(stun_attr::kIceControlled, 8);
  if (!ok_) return false;
  bytes::write64(v, 0, tiebreaker);
  return true;
}

bool StunWriter::add_xor_mapped_address(const StunAddress& a) {
  auto v = reserve(stun_attr::kXorMappedAddress, a.v6 ? 20 : 8);
  if (!ok_) return false;
  v[0] = 0;
  v[1] = a.v6 ? 0x02 : 0x01;
  bytes::write16(v, 2, static_cast<uint16_t>(a.port ^ (kStunMagicCookie >> 16)));
  uint8_t mask[16] = {0x21, 0x12, 0xA4, 0x42};
  std::copy_n(out_.begin() + 8, 12, mask + 4);  // the transaction id
  const size_t n = a.v6 ? 16 : 4;
  for (size_t i = 0; i < n; ++i)
    v[4 + i] = a.ip[i] ^ mask[i];
  return true;
}

bool StunWriter::add_error_code(uint16_t code, std::string_view reason) {
  if (code < 300 || code > 699 || reason.size() > kMaxStringSize) ok_ = false;
  auto v = reserve(stun_attr::kErrorCode, 4 + reason.size());
  if (!ok_) return false;
  v[0] = 0;
  v[1] = 0;
  v[2] = static_cast<uint8_t>(code / 100);
  v[3] = static_cast<uint8_t>(code % 100);
  std::copy(reason.begin(), reason.end(), v.begin() + 4);
  return true;
}

bool StunWriter::add_message_integrity(std::string_view key) {
  return add_message_integrity(as_bytes(key));
}

bool StunWriter::add_message_integrity(std::span<const uint8_t> key) {
  const size_t start = pos_;
  auto v = reserve(stun_attr::kMessageIntegrity, kStunMessageIntegritySize);
  if (!ok_) return false;
  // reserve() already set the length field to include this attribute, which is what the HMAC wants.
  auto msg = std::span<const uint8_t>(out_);
  if (!stun_hmac_sha1(key, msg.first(kStunHeaderSize), msg.subspan(kStunHeaderSize, start - kStunHeaderSize),
                      v.data())) {
    ok_ = false;
  }
  return ok_;
}

bool StunWriter::add_fingerprint() {
  const size_t start = pos_;
  auto v = reserve(stun_attr::kFingerprint, 4);
  if (!ok_) return false;
  bytes::write32(v, 0, stun_crc32(std::span<const uint8_t>(out_).first(start)) ^ kStunFingerprintXor);
  return true;
}

size_t write_stun_binding_request(std::span<uint8_t> out, const StunTransactionId& tid,
                                  const StunBindingRequestParams& p) {
  StunWriter w(out, kStunBindingRequest, tid);
  w.add_username(p.username);
  w.add_priority(p.priority);
  if (p.controlling) {
    w.add_ice_controlling(p.tiebreaker);
  } else {
    w.add_ice_controlled(p.tiebreaker);
  }
  if (p.use_candidate) w.add_use_candidate();
  w.add_message_integrity(p.password);
  w.add_fingerprint();
  return w.finish();
}

size_t write_stun_binding_success(std::span<uint8_t> out, const StunTransactionId& tid,
                                  const StunAddress& mapped, std::string_view password) {
  StunWriter w(out, kStunBindingSuccess, tid);
  w.add_xor_mapped_address(mapped);
  w.add_message_integrity(password);
  w.add_fingerprint();
  return w.finish();
}

size_t write_stun_binding_error(std::span<uint8_t> out, const StunTransactionId& tid, uint16_t code,
                                std::string_view reason, std::optional<std::string_view> password) {
  StunWriter w(out, kStunBindingError, tid);
  w.add_error_code(code, reason);
  if (password) w.add_message_integrity(*password);
  w.add_fingerprint();
  return w.finish();
}

}  // namespace atrium::media
