// The only file that talks to libsrtp2. Outbound RTP with AEAD_AES_128_GCM, the fan-out path, goes through
// SrtpGcmSender (OpenSSL) instead; everything else through libsrtp2.
#include "transport/webrtc/srtp/srtp_session.h"

#include <srtp2/srtp.h>

#include <array>
#include <climits>
#include <cstring>
#include <mutex>

#include "transport/webrtc/srtp/srtp_gcm_sender.h"

namespace atrium::webrtc {
namespace {

// srtp_init() registers the crypto kernel's ciphers; it is not reference counted, so it runs exactly once per
// process and srtp_shutdown() is never called (sessions may outlive any owner we could pick).
srtp_err_status_t init_once() {
  static std::once_flag once;
  static srtp_err_status_t status = srtp_err_status_ok;
  std::call_once(once, [] { status = srtp_init(); });
  return status;
}

bool set_crypto_policy(SrtpProfile profile, srtp_policy_t& p) {
  switch (profile) {
    case SrtpProfile::kAeadAes128Gcm:
      srtp_crypto_policy_set_aes_gcm_128_16_auth(&p.rtp);
      srtp_crypto_policy_set_aes_gcm_128_16_auth(&p.rtcp);
      return true;
    case SrtpProfile::kAes128CmSha1_80:
      srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&p.rtp);
      srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&p.rtcp);
      return true;
  }
  return false;
}

// The RTP header the packet claims (fixed part, CSRCs, extension) must fit before the trailer; its size, or
// 0.
size_t rtp_header_size(const uint8_t* p, size_t len, size_t trailer) {
  if (len < 12 + trailer || (p[0] >> 6) != 2) return 0;
  size_t header = 12 + 4 * size_t{p[0] & 0x0Fu};
  if ((p[0] & 0x10u) != 0) {
    if (len < header + 4 + trailer) return 0;
    size_t words = (size_t{p[header + 2]} << 8) | p[header + 3];
    header += 4 + 4 * words;
  }
  return header <= len - trailer ? header : 0;
}
bool plausible_rtp(const uint8_t* p, size_t len, size_t trailer) {
  return rtp_header_size(p, len, trailer) != 0;
}

bool plausible_rtcp(const uint8_t* p, size_t len, size_t trailer) {
  return len >= 8 + trailer && (p[0] >> 6) == 2;
}

}  // namespace

struct SrtpSession::Contexts {
  srtp_t inbound = nullptr;
  srtp_t outbound = nullptr;
  std::unique_ptr<SrtpGcmSender> gcm_out;  // outbound RTP when the profile is AEAD_AES_128_GCM
  ~Contexts() {
    if (inbound != nullptr) srtp_dealloc(inbound);
    if (outbound != nullptr) srtp_dealloc(outbound);
  }
};

std::unique_ptr<SrtpSession> SrtpSession::create(const SrtpKeys& keys, std::string* error) {
  auto fail = [&](std::string why) -> std::unique_ptr<SrtpSession> {
    if (error != nullptr) *error = std::move(why);
    return nullptr;
  };
  if (srtp_err_status_t st = init_once(); st != srtp_err_status_ok) {
    return fail("srtp_init failed with status " + std::to_string(static_cast<int>(st)));
  }
  const size_t key_len = srtp_master_key_len(keys.profile);
  const size_t salt_len = srtp_master_salt_len(keys.profile);
  for (const SrtpMasterKey* k : {&keys.local, &keys.remote}) {
    if (k->key.size() != key_len || k->salt.size() != salt_len) {
      return fail("SRTP master key/salt length does not match " + std::string(to_string(keys.profile)));
    }
  }

  auto contexts = std::make_unique<Contexts>();
  // One libsrtp session per direction: a session holds a single wildcard template, and inbound/outbound need
  // one each (ssrc_any_inbound with the remote key, ssrc_any_outbound with the local key).
  auto make = [&](const SrtpMasterKey& k, srtp_ssrc_type_t type, srtp_t* out) -> srtp_err_status_t {
    std::array<unsigned char, 32> key_salt{};  // key || salt, as libsrtp wants it
    std::memcpy(key_salt.data(), k.key.data(), key_len);
    std::memcpy(key_salt.data() + key_len, k.salt.data(), salt_len);
    srtp_policy_t policy;
    std::memset(&policy, 0, sizeof policy);
    if (!set_crypto_policy(keys.profile, policy)) return srtp_err_status_bad_param;
    policy.ssrc.type = type;
    policy.ssrc.value = 0;
    policy.key = key_salt.data();
    policy.window_size = kReplayWindow;
    policy.allow_repeat_tx = 1;  // RTX/NACK answers resend packets already protected once
    policy.next = nullptr;
    srtp_err_status_t st = srtp_create(out, &policy);
    std::memset(key_salt.data(), 0, key_salt.size());
    return st;
  };
  if (srtp_err_status_t st = make(keys.remote, ssrc_any_inbound, &contexts->inbound);
      st != srtp_err_status_ok) {
    contexts->inbound = nullptr;
    return fail("srtp_create (inbound, " + std::string(to_string(keys.profile)) + ") failed with status " +
                std::to_string(static_cast<int>(st)));
  }
  if (srtp_err_status_t st = make(keys.local, ssrc_any_outbound, &contexts->outbound);
      st != srtp_err_status_ok) {
    contexts->outbound = nullptr;
    return fail("srtp_create (outbound, " + std::string(to_string(keys.profile)) + ") failed with status " +
                std::to_string(static_cast<int>(st)));
  }
  if (keys.profile == SrtpProfile::kAeadAes128Gcm) {
    contexts->gcm_out = SrtpGcmSender::create(keys.local);
    if (!contexts->gcm_out) return fail("OpenSSL AES-128-GCM setup for SRTP failed");
  }
  return std::unique_ptr<SrtpSession>(new SrtpSession(keys.profile, std::move(contexts)));
}

SrtpSession::SrtpSession(SrtpProfile profile, std::unique_ptr<Contexts> contexts)
    : profile_(profile), contexts_(std::move(contexts)) {}

SrtpSession::~SrtpSession() = default;

std::optional<size_t> SrtpSession::protect_rtp(std::span<uint8_t> buf, size_t len) {
  const size_t trailer = srtp_rtp_trailer_len(profile_);
  const size_t header = len <= buf.size() ? rtp_header_size(buf.data(), len, 0) : 0;
  if (len > buf.size() || buf.size() - len < trailer || len > INT_MAX - trailer || header == 0) {
    ++stats_.protect_fail;
    return std::nullopt;
  }
  if (contexts_->gcm_out) {
    auto n = contexts_->gcm_out->protect(buf, len, header);
    if (!n) {
      ++stats_.protect_fail;
      return std::nullopt;
    }
    ++stats_.rtp_protected;
    return n;
  }
  int n = static_cast<int>(len);
  if (srtp_protect(contexts_->outbound, buf.data(), &n) != srtp_err_status_ok) {
    ++stats_.protect_fail;
    return std::nullopt;
  }
  ++stats_.rtp_protected;
  return static_cast<size_t>(n);
}

std::optional<size_t> SrtpSession::protect_rtcp(std::span<uint8_t> buf, size_t len) {
  const size_t trailer = srtp_rtcp_trailer_len(profile_);
  if (len > buf.size() || buf.size() - len < trailer || len > INT_MAX - trailer ||
      !plausible_rtcp(buf.data(), len, 0)) {
    ++stats_.protect_fail;
    return std::nullopt;
  }
  int n = static_cast<int>(len);
  if (srtp_protect_rtcp(contexts_->outbound, buf.data(), &n) != srtp_err_status_ok) {
    ++stats_.protect_fail;
    return std::nullopt;
  }
  ++stats_.rtcp_protected;
  return static_cast<size_t>(n);
}

namespace {
void count_inbound_failure(srtp_err_status_t st, SrtpStats& stats) {
  switch (st) {
    case srtp_err_status_auth_fail:
      ++stats.auth_fail;
      break;
    case srtp_err_status_replay_fail:
    case srtp_err_status_replay_old:
      ++stats.replay_fail;
      break;
    default:
      ++stats.other_fail;
      break;
  }
}
}  // namespace

std::optional<size_t> SrtpSession::unprotect_rtp(std::span<uint8_t> buf, size_t len) {
  if (len > buf.size() || len > INT_MAX || !plausible_rtp(buf.data(), len, srtp_rtp_trailer_len(profile_))) {
    ++stats_.other_fail;
    return std::nullopt;
  }
  int n = static_cast<int>(len);
  if (srtp_err_status_t st = srtp_unprotect(contexts_->inbound, buf.data(), &n); st != srtp_err_status_ok) {
    count_inbound_failure(st, stats_);
    return std::nullopt;
  }
  ++stats_.rtp_unprotected;
  return static_cast<size_t>(n);
}

std::optional<size_t> SrtpSession::unprotect_rtcp(std::span<uint8_t> buf, size_t len) {
  if (len > buf.size() || len > INT_MAX ||
      !plausible_rtcp(buf.data(), len, srtp_rtcp_trailer_len(profile_))) {
    ++stats_.other_fail;
    return std::nullopt;
  }
  int n = static_cast<int>(len);
  if (srtp_err_status_t st = srtp_unprotect_rtcp(contexts_->inbound, buf.data(), &n);
      st != srtp_err_status_ok) {
    count_inbound_failure(st, stats_);
    return std::nullopt;
  }
  ++stats_.rtcp_unprotected;
  return static_cast<size_t>(n);
}

}  // namespace atrium::webrtc
