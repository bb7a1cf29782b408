#include "transport/webrtc/ice/ice_lite_agent.h"

#include <openssl/rand.h>

#include <algorithm>
#include <cstdlib>

namespace atrium::webrtc {

namespace {
std::string random_ice_chars(size_t n) {
  // ice-char = ALPHA / DIGIT / "+" / "/" (RFC 8839); 64 symbols, so a byte's low 6 bits pick one without
  // bias.
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::vector<unsigned char> bytes(n);
  // The password is what keeps others' checks off a session: with a failing CSPRNG there is no safe one.
  if (RAND_bytes(bytes.data(), static_cast<int>(n)) != 1) std::abort();
  std::string out(n, 'A');
  for (size_t i = 0; i < n; ++i)
    out[i] = kAlphabet[bytes[i] & 63];
  return out;
}
}  // namespace

IceCredentials IceCredentials::random() {
  return {random_ice_chars(8), random_ice_chars(24)};
}

bool IceLiteAgent::on_valid_check(media::Micros now, const SocketAddress& from, bool use_candidate,
                                  std::optional<uint32_t> priority) {
  if (!validated(from)) {
    if (validated_.size() >= kMaxCandidatePairs) return false;
    validated_.push_back(from);
  }
  last_check_ = now;
  any_check_ = true;
  latest_ = from;
  if (use_candidate) {
    nominated_ = from;
    nominated_priority_ = priority;
  }
  return true;
}

bool IceLiteAgent::validated(const SocketAddress& a) const {
  return std::find(validated_.begin(), validated_.end(), a) != validated_.end();
}

std::optional<SocketAddress> IceLiteAgent::send_address() const {
  return nominated_ ? nominated_ : latest_;
}

IceState IceLiteAgent::state(media::Micros now) const {
  if (!any_check_) return IceState::kNew;
  return now - last_check_ > kConsentTimeout ? IceState::kFailed : IceState::kConnected;
}

}  // namespace atrium::webrtc
