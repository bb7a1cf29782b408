// Writes STUN messages into a caller buffer: a generic attribute writer plus the three messages an ICE agent
// needs (binding request, success response, error response). No allocation. A write that does not fit (or
// a value that is out of range) makes the writer fail for good: every later call is a no-op and finish()
// returns 0, so callers check once at the end.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "media/stun/stun_message.h"

namespace atrium::media {

class StunWriter {
 public:
  StunWriter(std::span<uint8_t> out, uint16_t type, const StunTransactionId& transaction_id);

  bool add_attribute(uint16_t type, std::span<const uint8_t> value);  // zero-padded to 4 bytes
  bool add_string(uint16_t type, std::string_view value);             // at most 763 bytes
  bool add_username(std::string_view username) { return add_string(stun_attr::kUsername, username); }
  bool add_software(std::string_view software) { return add_string(stun_attr::kSoftware, software); }
  bool add_priority(uint32_t priority);
  bool add_use_candidate();
  bool add_ice_controlling(uint64_t tiebreaker);
  bool add_ice_controlled(uint64_t tiebreaker);
  bool add_xor_mapped_address(const StunAddress& address);
  bool add_error_code(uint16_t code, std::string_view reason);  // code 300..699, reason at most 763 bytes
  // HMAC-SHA1 over everything written so far; add only FINGERPRINT after it.
  bool add_message_integrity(std::span<const uint8_t> key);
  bool add_message_integrity(std::string_view key);
  bool add_fingerprint();  // the last attribute

  bool ok() const { return ok_; }
  size_t size() const { return ok_ ? pos_ : 0; }
  // The message size, or 0 when any step failed.
  size_t finish() const { return size(); }
  std::span<const uint8_t> bytes() const { return out_.first(size()); }

 private:
  std::span<uint8_t> reserve(uint16_t type, size_t len);  // writes the attribute header; empty on failure
  void set_length();

  std::span<uint8_t> out_;
  size_t pos_ = 0;
  bool ok_ = true;
};

struct StunBindingRequestParams {
  std::string_view username;  // "<remote ufrag>:<local ufrag>"
  std::string_view password;  // the remote's ice-pwd: the MESSAGE-INTEGRITY key
  uint32_t priority = 0;
  bool controlling = true;  // ICE-CONTROLLING, else ICE-CONTROLLED
  uint64_t tiebreaker = 0;
  bool use_candidate = false;
};

// Each returns the message size, or 0 when `out` is too small or a value is out of range.
size_t write_stun_binding_request(std::span<uint8_t> out, const StunTransactionId& tid,
                                  const StunBindingRequestParams& params);
// XOR-MAPPED-ADDRESS = where the request came from, MESSAGE-INTEGRITY with our ice-pwd, FINGERPRINT.
size_t write_stun_binding_success(std::span<uint8_t> out, const StunTransactionId& tid,
                                  const StunAddress& mapped, std::string_view password);
// ERROR-CODE (e.g. 400 Bad Request, 401 Unauthorized, 487 Role Conflict), MESSAGE-INTEGRITY when `password`
// is given (a 400/401 answers a request we could not authenticate, so it goes without), FINGERPRINT.
size_t write_stun_binding_error(std::span<uint8_t> out, const StunTransactionId& tid, uint16_t code,
                                std::string_view reason,
                                std::optional<std::string_view> password = std::nullopt);

}  // namespace atrium::media
