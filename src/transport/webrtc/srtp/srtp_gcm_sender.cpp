#include "transport/webrtc/srtp/srtp_gcm_sender.h"

#include <openssl/evp.h>

#include <climits>
#include <cstring>

namespace atrium::webrtc {

namespace {

constexpr size_t kTagLen = 16;

// RFC 3711 section 4.3 key derivation with AES-128 in counter mode, as libsrtp2 runs it: the counter block is
// the master salt (zero-padded to 14 bytes) with the label XORed into byte 7, then a 16-bit block counter.
bool derive(const SrtpMasterKey& master, uint8_t label, std::span<uint8_t> out) {
  std::array<uint8_t, 16> iv{};
  std::memcpy(iv.data(), master.salt.data(), master.salt.size());
  iv[7] ^= label;
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  if (ctx == nullptr) return false;
  std::array<uint8_t, 32> zeros{};
  int n = 0;
  const bool ok = EVP_EncryptInit_ex(ctx, EVP_aes_128_ctr(), nullptr, master.key.data(), iv.data()) == 1 &&
                  out.size() <= zeros.size() &&
                  EVP_EncryptUpdate(ctx, out.data(), &n, zeros.data(), static_cast<int>(out.size())) == 1 &&
                  static_cast<size_t>(n) == out.size();
  EVP_CIPHER_CTX_free(ctx);
  return ok;
}

void put32(uint8_t* p, uint32_t v) {
  p[0] = static_cast<uint8_t>(v >> 24);
  p[1] = static_cast<uint8_t>(v >> 16);
  p[2] = static_cast<uint8_t>(v >> 8);
  p[3] = static_cast<uint8_t>(v);
}

}  // namespace

struct SrtpGcmSender::Cipher {
  EVP_CIPHER_CTX* ctx = nullptr;
  ~Cipher() { EVP_CIPHER_CTX_free(ctx); }
};

SrtpGcmSender::SrtpGcmSender() : cipher_(std::make_unique<Cipher>()) {
  streams_.reserve(16);
}

SrtpGcmSender::~SrtpGcmSender() {
  OPENSSL_cleanse(key_.data(), key_.size());
}

std::unique_ptr<SrtpGcmSender> SrtpGcmSender::create(const SrtpMasterKey& local) {
  if (local.key.size() != 16 || local.salt.size() != 12) return nullptr;
  std::unique_ptr<SrtpGcmSender> s(new SrtpGcmSender());
  if (!derive(local, 0x00, s->key_) || !derive(local, 0x02, s->salt_)) return nullptr;
  s->cipher_->ctx = EVP_CIPHER_CTX_new();
  if (s->cipher_->ctx == nullptr ||
      EVP_EncryptInit_ex(s->cipher_->ctx, EVP_aes_128_gcm(), nullptr, s->key_.data(), nullptr) != 1)
    return nullptr;
  return s;
}

// libsrtp2's srtp_rdbx_estimate_index + srtp_index_guess for a sender: the index nearest the highest one sent
// so far (ROC starting at 0); a later sequence number moves the highest, an earlier one (a resend) does not.
uint64_t SrtpGcmSender::packet_index(uint32_t ssrc, uint16_t seq) {
  Stream* st = nullptr;
  if (last_ < streams_.size() && streams_[last_].ssrc == ssrc) {
    st = &streams_[last_];
  } else {
    for (size_t i = 0; i < streams_.size(); ++i) {
      if (streams_[i].ssrc == ssrc) {
        st = &streams_[i];
        last_ = i;
        break;
      }
    }
    if (st == nullptr) {
      streams_.push_back({ssrc, 0});
      last_ = streams_.size() - 1;
      st = &streams_.back();
    }
  }
  constexpr uint32_t kMedian = 1u << 15;
  constexpr int64_t kMax = 1 << 16;
  uint64_t guess = seq;
  int64_t delta = 0;
  if (st->index > kMedian) {
    const auto local_roc = static_cast<uint32_t>(st->index >> 16);
    const auto local_seq = static_cast<uint16_t>(st->index);
    uint32_t roc = local_roc;
    if (local_seq < kMedian) {
      if (seq - local_seq > static_cast<int>(kMedian)) {
        roc = local_roc - 1;
        delta = int64_t{seq} - local_seq - kMax;
      } else {
        delta = int64_t{seq} - local_seq;
      }
    } else {
      if (local_seq - kMedian > seq) {
        roc = local_roc + 1;
        delta = int64_t{seq} - local_seq + kMax;
      } else {
        delta = int64_t{seq} - local_seq;
      }
    }
    guess = (uint64_t{roc} << 16) | seq;
  } else {
    delta = static_cast<int64_t>(seq) - static_cast<int64_t>(st->index);
  }
  if (delta > 0) st->index = guess;
  return guess;
}

std::optional<size_t> SrtpGcmSender::protect(std::span<uint8_t> buf, size_t len, size_t header_len) {
  if (header_len < 12 || header_len > len || len > buf.size() || buf.size() - len < kTagLen ||
      len > INT_MAX - kTagLen)
    return std::nullopt;
  uint8_t* p = buf.data();
  const uint32_t ssrc = (uint32_t{p[8]} << 24) | (uint32_t{p[9]} << 16) | (uint32_t{p[10]} << 8) | p[11];
  const auto seq = static_cast<uint16_t>((p[2] << 8) | p[3]);
  const uint64_t index = packet_index(ssrc, seq);

  // RFC 7714 section 8.1: 00 00 || SSRC || ROC || SEQ, XOR the session salt.
  std::array<uint8_t, 12> iv{};
  put32(&iv[2], ssrc);
  put32(&iv[6], static_cast<uint32_t>(index >> 16));
  iv[10] = static_cast<uint8_t>(seq >> 8);
  iv[11] = static_cast<uint8_t>(seq);
  for (size_t i = 0; i < iv.size(); ++i)
    iv[i] ^= salt_[i];

  EVP_CIPHER_CTX* ctx = cipher_->ctx;
  int n = 0;
  const int body = static_cast<int>(len - header_len);
  if (EVP_EncryptInit_ex(ctx, nullptr, nullptr, nullptr, iv.data()) != 1 ||
      EVP_EncryptUpdate(ctx, nullptr, &n, p, static_cast<int>(header_len)) != 1)
    return std::nullopt;
  if (body > 0 && EVP_EncryptUpdate(ctx, p + header_len, &n, p + header_len, body) != 1) return std::nullopt;
  int fin = 0;
  if (EVP_EncryptFinal_ex(ctx, p + len, &fin) != 1 || fin != 0) return std::nullopt;
  if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, static_cast<int>(kTagLen), p + len) != 1)
    return std::nullopt;
  return len + kTagLen;
}

}  // namespace atrium::webrtc
