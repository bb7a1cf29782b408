// The only file that talks to OpenSSL's libssl/libcrypto: certificate generation, the DTLS SSL_CTX, and one
// SSL per DtlsTransport driven over a memory BIO (input) and a datagram-collecting BIO (output). Over 600
// lines on purpose: keeping libssl behind this one file (as mediasoup keeps each library behind one) is worth
// more than splitting the certificate, the context and the transport apart.
#include "transport/webrtc/dtls/dtls_transport.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <sys/time.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <deque>
#include <stdexcept>

namespace atrium::webrtc {
namespace {

constexpr int kAppDataIndex = 0;  // SSL ex_data slot 0 is SSL_set_app_data's: our DtlsTransport::Impl
constexpr std::string_view kSrtpExporterLabel = "EXTRACTOR-dtls_srtp";  // RFC 5764 section 4.2
// DTLS 1.2 with ephemeral ECDH and our ECDSA key: AEAD suites first, CBC ones for old peers.
constexpr const char* kCipherList =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:"
    "ECDHE-ECDSA-AES128-SHA:ECDHE-ECDSA-AES256-SHA";
constexpr const char* kGroups = "X25519:P-256:P-384";
constexpr size_t kRecordHeader = 13;      // type, version(2), epoch(2), sequence(6), length(2)
constexpr size_t kMaxRecordBody = 18432;  // 2^14 + 2048 (RFC 6347 section 4.1)
constexpr size_t kMinMtu = 256;

std::string hex_with_colons(const unsigned char* p, size_t n) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(n * 3);
  for (size_t i = 0; i < n; ++i) {
    if (i != 0) out.push_back(':');
    out.push_back(kHex[p[i] >> 4]);
    out.push_back(kHex[p[i] & 0x0F]);
  }
  return out;
}

// Uppercase, colons removed: "ab:CD" and "ABCD" compare equal.
std::string normalize_fingerprint(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == ':') continue;
    out.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  }
  return out;
}

const EVP_MD* digest_for(std::string_view algorithm) {
  std::string a;
  for (char c : algorithm)
    a.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  if (a == "sha-256") return EVP_sha256();
  if (a == "sha-1") return EVP_sha1();
  if (a == "sha-224") return EVP_sha224();
  if (a == "sha-384") return EVP_sha384();
  if (a == "sha-512") return EVP_sha512();
  return nullptr;
}

std::optional<std::string> cert_fingerprint(X509* cert, const EVP_MD* md) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> buf{};
  unsigned int n = 0;
  if (X509_digest(cert, md, buf.data(), &n) != 1) return std::nullopt;
  return hex_with_colons(buf.data(), n);
}

// The queued OpenSSL error, or a fallback, as one line; clears the queue.
std::string take_openssl_error(std::string_view fallback) {
  unsigned long e = ERR_peek_last_error();
  std::string out;
  if (e != 0) {
    const char* reason = ERR_reason_error_string(e);
    out = reason != nullptr ? reason : "openssl error " + std::to_string(e);
  } else {
    out = fallback;
  }
  ERR_clear_error();
  return out;
}

// A datagram must be a sequence of whole DTLS 1.x records (RFC 6347 section 4.1) of a defined content type
// (20 change_cipher_spec .. 24 heartbeat, 25 tls12_cid): anything else is dropped before OpenSSL parses it.
bool well_formed_records(std::span<const uint8_t> d) {
  if (d.empty()) return false;
  size_t off = 0;
  while (off < d.size()) {
    if (d.size() - off < kRecordHeader) return false;
    const uint8_t type = d[off];
    if (type < 20 || type > 25 || d[off + 1] != 0xFE) return false;
    const size_t len = (size_t{d[off + 11]} << 8) | d[off + 12];
    if (len > kMaxRecordBody || d.size() - off - kRecordHeader < len) return false;
    off += kRecordHeader + len;
  }
  return true;
}

struct SslCtxDeleter {
  void operator()(SSL_CTX* c) const { SSL_CTX_free(c); }
};

}  // namespace

// ---------------------------------------------------------------------------------------------------------------
// DtlsCertificate

struct DtlsCertificate::Impl {
  EVP_PKEY* key = nullptr;
  X509* cert = nullptr;
  ~Impl() {
    X509_free(cert);
    EVP_PKEY_free(key);
  }
};

DtlsCertificate::DtlsCertificate(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {
  auto fp = cert_fingerprint(impl_->cert, EVP_sha256());
  if (!fp) throw std::runtime_error("DtlsCertificate: X509_digest failed");
  fingerprint_sha256_ = std::move(*fp);
}

DtlsCertificate::~DtlsCertificate() = default;

std::shared_ptr<const DtlsCertificate> DtlsCertificate::generate() {
  auto fail = [](std::string_view what) {
    throw std::runtime_error("DtlsCertificate: " + std::string(what) + ": " + take_openssl_error("failed"));
  };
  auto impl = std::make_unique<Impl>();
  impl->key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
  if (impl->key == nullptr) fail("P-256 key generation");
  impl->cert = X509_new();
  if (impl->cert == nullptr) fail("X509_new");
  X509* x = impl->cert;
  if (X509_set_version(x, X509_VERSION_3) != 1) fail("X509_set_version");

  // A random positive 63-bit serial: browsers do not care, but two of our certificates should never share
  // one.
  std::array<unsigned char, 8> serial{};
  if (RAND_bytes(serial.data(), static_cast<int>(serial.size())) != 1) fail("RAND_bytes");
  serial[0] &= 0x7F;
  serial[0] |= 0x01;  // never zero, never negative
  BIGNUM* bn = BN_bin2bn(serial.data(), static_cast<int>(serial.size()), nullptr);
  const bool serial_ok = bn != nullptr && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) != nullptr;
  BN_free(bn);
  if (!serial_ok) fail("serial number");

  constexpr long kThirtyDays = 30L * 24 * 3600;
  if (X509_gmtime_adj(X509_getm_notBefore(x), -kThirtyDays) == nullptr ||
      X509_gmtime_adj(X509_getm_notAfter(x), kThirtyDays) == nullptr) {
    fail("validity");
  }
  X509_NAME* name = X509_get_subject_name(x);
  static constexpr unsigned char kCn[] = "atrium";
  if (X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, kCn, -1, -1, 0) != 1 ||
      X509_set_issuer_name(x, name) != 1) {
    fail("subject name");
  }
  if (X509_set_pubkey(x, impl->key) != 1) fail("X509_set_pubkey");
  if (X509_sign(x, impl->key, EVP_sha256()) <= 0) fail("X509_sign");
  return std::shared_ptr<const DtlsCertificate>(new DtlsCertificate(std::move(impl)));
}

std::string DtlsCertificate::pem() const {
  BIO* bio = BIO_new(BIO_s_mem());
  if (bio == nullptr) return {};
  std::string out;
  if (PEM_write_bio_X509(bio, impl_->cert) == 1) {
    char* data = nullptr;
    long n = BIO_get_mem_data(bio, &data);
    if (n > 0 && data != nullptr) out.assign(data, static_cast<size_t>(n));
  }
  BIO_free(bio);
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// DtlsTransport::Impl (declared here so the context's callbacks can reach it)

struct DtlsTransport::Impl {
  SSL* ssl = nullptr;  // owns both BIOs
  BIO* rbio = nullptr;
  size_t mtu = 1200;
  unsigned int initial_retransmit_us = 1'000'000;
  unsigned int max_retransmit_us = 8'000'000;

  // Fingerprint check (in the certificate verify callback).
  const EVP_MD* md = nullptr;
  std::string expected_fingerprint;  // normalized
  std::string verified_fingerprint;  // as computed, with colons
  std::string verify_error;

  // Alerts seen by the info callback.
  std::string alert_received;  // e.g. "fatal bad certificate"
  bool close_notify_received = false;

  // Output: the datagram being assembled (records since the last flush) and the finished ones.
  std::vector<uint8_t> current;
  std::deque<std::vector<uint8_t>> outgoing;
  DtlsStats* stats = nullptr;

  void finish_datagram() {
    if (current.empty()) return;
    if (outgoing.size() >= kMaxQueuedDatagrams) {
      outgoing.pop_front();
      ++stats->outgoing_dropped;
    }
    outgoing.push_back(std::move(current));
    current.clear();
  }
  void append(const uint8_t* p, size_t n) {
    if (!current.empty() && current.size() + n > mtu) finish_datagram();
    current.insert(current.end(), p, p + n);
  }

  ~Impl() { SSL_free(ssl); }
};

namespace {

DtlsTransport::Impl* impl_of(const SSL* ssl) {
  return static_cast<DtlsTransport::Impl*>(SSL_get_ex_data(ssl, kAppDataIndex));
}

// The write side: OpenSSL writes records and calls BIO_flush at the end of each datagram it has planned (it
// sizes handshake fragments from BIO_wpending against the MTU, so that must report the datagram being
// assembled).
int out_bio_write(BIO* bio, const char* data, int len) {
  BIO_clear_retry_flags(bio);
  auto* impl = static_cast<DtlsTransport::Impl*>(BIO_get_data(bio));
  if (impl == nullptr || len < 0) return -1;
  impl->append(reinterpret_cast<const uint8_t*>(data), static_cast<size_t>(len));
  return len;
}

long out_bio_ctrl(BIO* bio, int cmd, long /*num*/, void* /*ptr*/) {
  auto* impl = static_cast<DtlsTransport::Impl*>(BIO_get_data(bio));
  switch (cmd) {
    case BIO_CTRL_FLUSH:
      if (impl != nullptr) impl->finish_datagram();
      return 1;
    case BIO_CTRL_WPENDING:
      return impl != nullptr ? static_cast<long>(impl->current.size()) : 0;
    case BIO_CTRL_PENDING:
      return 0;
    case BIO_CTRL_DGRAM_GET_MTU_OVERHEAD:
      return 0;  // config.mtu is already the UDP payload size
    default:
      return 0;  // not a socket: no MTU queries, no peer address, no timeouts
  }
}

int out_bio_create(BIO* bio) {
  BIO_set_init(bio, 1);
  return 1;
}

const BIO_METHOD* out_bio_method() {
  static const BIO_METHOD* method = [] {
    BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "atrium dtls datagrams");
    if (m == nullptr) throw std::runtime_error("BIO_meth_new failed");
    BIO_meth_set_write(m, out_bio_write);
    BIO_meth_set_ctrl(m, out_bio_ctrl);
    BIO_meth_set_create(m, out_bio_create);
    return m;
  }();
  return method;
}

// Peer certificates are self-signed: no chain to build, the only check is the SDP fingerprint (RFC 8122
// section 5, RFC 8827 section 6.5). Rejecting here aborts the handshake with a bad_certificate alert.
int verify_certificate(X509_STORE_CTX* store, void* /*arg*/) {
  auto* ssl = static_cast<SSL*>(X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx()));
  DtlsTransport::Impl* impl = ssl != nullptr ? impl_of(ssl) : nullptr;
  X509* cert = X509_STORE_CTX_get0_cert(store);
  if (impl == nullptr || cert == nullptr || impl->md == nullptr) {
    X509_STORE_CTX_set_error(store, X509_V_ERR_UNSPECIFIED);
    return 0;
  }
  auto fp = cert_fingerprint(cert, impl->md);
  if (!fp) {
    impl->verify_error = "could not hash the remote certificate";
    X509_STORE_CTX_set_error(store, X509_V_ERR_UNSPECIFIED);
    return 0;
  }
  if (normalize_fingerprint(*fp) != impl->expected_fingerprint) {
    impl->verify_error = "remote certificate fingerprint mismatch: the SDP says " +
                         impl->expected_fingerprint + ", the certificate hashes to " +
                         normalize_fingerprint(*fp);
    X509_STORE_CTX_set_error(store, X509_V_ERR_CERT_REJECTED);
    return 0;
  }
  impl->verified_fingerprint = std::move(*fp);
  X509_STORE_CTX_set_error(store, X509_V_OK);
  return 1;
}

void info_callback(const SSL* ssl, int where, int ret) {
  if ((where & SSL_CB_ALERT) == 0 || (where & SSL_CB_READ) == 0) return;
  DtlsTransport::Impl* impl = impl_of(ssl);
  if (impl == nullptr) return;
  if ((ret & 0xFF) == SSL3_AD_CLOSE_NOTIFY) {
    impl->close_notify_received = true;
    return;
  }
  impl->alert_received = std::string(SSL_alert_type_string_long(ret)) + " " + SSL_alert_desc_string_long(ret);
}

// OpenSSL asks for the next retransmission interval: 0 when a flight starts, the previous one when it fires.
unsigned int timer_callback(SSL* ssl, unsigned int previous_us) {
  DtlsTransport::Impl* impl = impl_of(ssl);
  if (impl == nullptr) return 1'000'000;
  if (previous_us == 0) return impl->initial_retransmit_us;
  ++impl->stats->retransmit_timeouts;
  const uint64_t doubled = uint64_t{previous_us} * 2;
  return static_cast<unsigned int>(std::min<uint64_t>(doubled, impl->max_retransmit_us));
}

unsigned int clamp_us(media::Micros v) {
  return static_cast<unsigned int>(std::clamp<media::Micros>(v, 1000, 3'600'000'000));
}

}  // namespace

// ---------------------------------------------------------------------------------------------------------------
// DtlsContext

struct DtlsContext::Impl {
  std::unique_ptr<SSL_CTX, SslCtxDeleter> ctx;
};

DtlsContext::DtlsContext(std::shared_ptr<const DtlsCertificate> certificate, std::unique_ptr<Impl> impl)
    : certificate_(std::move(certificate)), impl_(std::move(impl)) {}

DtlsContext::~DtlsContext() = default;

std::shared_ptr<DtlsContext> DtlsContext::create(std::shared_ptr<const DtlsCertificate> certificate,
                                                 DtlsContextOptions options) {
  if (!certificate) throw std::invalid_argument("DtlsContext: no certificate");
  auto fail = [](std::string_view what) {
    throw std::runtime_error("DtlsContext: " + std::string(what) + ": " + take_openssl_error("failed"));
  };
  auto impl = std::make_unique<Impl>();
  impl->ctx.reset(SSL_CTX_new(DTLS_method()));
  SSL_CTX* ctx = impl->ctx.get();
  if (ctx == nullptr) fail("SSL_CTX_new");
  if (SSL_CTX_set_min_proto_version(ctx, DTLS1_2_VERSION) != 1 ||
      SSL_CTX_set_max_proto_version(ctx, DTLS1_2_VERSION) != 1) {
    fail("DTLS 1.2 only");
  }
  if (SSL_CTX_use_certificate(ctx, certificate->impl_->cert) != 1 ||
      SSL_CTX_use_PrivateKey(ctx, certificate->impl_->key) != 1 || SSL_CTX_check_private_key(ctx) != 1) {
    fail("certificate");
  }
  if (SSL_CTX_set_cipher_list(ctx, kCipherList) != 1) fail("cipher list");
  if (SSL_CTX_set1_groups_list(ctx, kGroups) != 1) fail("groups");

  std::string profiles;
  for (SrtpProfile p : options.srtp_profiles) {
    if (!profiles.empty()) profiles += ':';
    profiles += to_string(p);
  }
  if (profiles.empty()) throw std::invalid_argument("DtlsContext: no SRTP profile");
  if (SSL_CTX_set_tlsext_use_srtp(ctx, profiles.c_str()) != 0) fail("use_srtp");  // 0 means success here

  // Ask for (server) and insist on (both) a peer certificate; verify_certificate decides.
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  SSL_CTX_set_cert_verify_callback(ctx, verify_certificate, nullptr);
  SSL_CTX_set_options(ctx, SSL_OP_NO_QUERY_MTU | SSL_OP_NO_TICKET | SSL_OP_NO_RENEGOTIATION |
                               SSL_OP_CIPHER_SERVER_PREFERENCE);
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_read_ahead(ctx, 1);
  return std::shared_ptr<DtlsContext>(new DtlsContext(std::move(certificate), std::move(impl)));
}

// ---------------------------------------------------------------------------------------------------------------
// DtlsTransport

std::string_view to_string(DtlsState s) {
  switch (s) {
    case DtlsState::kNew:
      return "new";
    case DtlsState::kConnecting:
      return "connecting";
    case DtlsState::kConnected:
      return "connected";
    case DtlsState::kFailed:
      return "failed";
    case DtlsState::kClosed:
      return "closed";
  }
  return "unknown";
}

DtlsTransport::DtlsTransport(std::shared_ptr<DtlsContext> context, DtlsConfig config)
    : context_(std::move(context)), config_(std::move(config)), impl_(std::make_unique<Impl>()) {
  impl_->stats = &stats_;
  impl_->mtu = config_.mtu;
  impl_->initial_retransmit_us = clamp_us(config_.initial_retransmit);
  impl_->max_retransmit_us = std::max(impl_->initial_retransmit_us, clamp_us(config_.max_retransmit));
  impl_->md = digest_for(config_.remote_fingerprint.algorithm);
  impl_->expected_fingerprint = normalize_fingerprint(config_.remote_fingerprint.value);

  if (!context_) {
    fail("no DTLS context");
    return;
  }
  if (impl_->md == nullptr) {
    fail("unsupported remote fingerprint algorithm \"" + config_.remote_fingerprint.algorithm + "\"");
    return;
  }
  if (impl_->expected_fingerprint.empty()) {
    fail("no remote fingerprint");
    return;
  }
  if (config_.mtu < kMinMtu) {
    fail("MTU " + std::to_string(config_.mtu) + " is below " + std::to_string(kMinMtu));
    return;
  }
  ERR_clear_error();
  SSL* ssl = SSL_new(context_->impl_->ctx.get());
  if (ssl == nullptr) {
    fail("SSL_new: " + take_openssl_error("failed"));
    return;
  }
  impl_->ssl = ssl;
  SSL_set_ex_data(ssl, kAppDataIndex, impl_.get());
  BIO* rbio = BIO_new(BIO_s_mem());
  BIO* wbio = BIO_new(out_bio_method());
  if (rbio == nullptr || wbio == nullptr) {
    BIO_free(rbio);
    BIO_free(wbio);
    fail("BIO_new: " + take_openssl_error("failed"));
    return;
  }
  BIO_set_mem_eof_return(rbio, -1);  // empty means "retry later", not end of stream
  BIO_set_data(wbio, impl_.get());
  SSL_set_bio(ssl, rbio, wbio);
  impl_->rbio = rbio;
  SSL_set_options(ssl, SSL_OP_NO_QUERY_MTU);
  if (SSL_set_mtu(ssl, static_cast<long>(config_.mtu)) <= 0) {  // returns the MTU it took
    fail("SSL_set_mtu: " + take_openssl_error("refused"));
    return;
  }
  DTLS_set_timer_cb(ssl, timer_callback);
  SSL_set_info_callback(ssl, info_callback);
  if (config_.role == DtlsRole::kClient) {
    SSL_set_connect_state(ssl);
  } else {
    SSL_set_accept_state(ssl);
  }
}

DtlsTransport::~DtlsTransport() = default;

void DtlsTransport::fail(std::string reason) {
  if (state_ == DtlsState::kFailed || state_ == DtlsState::kClosed) return;
  state_ = DtlsState::kFailed;
  failure_reason_ = std::move(reason);
  retransmit_at_.reset();
}

std::string DtlsTransport::openssl_failure(std::string_view what) const {
  if (!impl_->verify_error.empty()) return impl_->verify_error;
  if (!impl_->alert_received.empty()) {
    ERR_clear_error();
    return std::string(what) + ": peer sent alert: " + impl_->alert_received;
  }
  return std::string(what) + ": " + take_openssl_error("unknown OpenSSL error");
}

void DtlsTransport::start(media::Micros now) {
  if (state_ != DtlsState::kNew) return;
  state_ = DtlsState::kConnecting;
  started_at_ = now;
  drive();  // a client writes its ClientHello; a server finds nothing to read yet
  update_timer(now);
}

void DtlsTransport::on_datagram(media::Micros now, std::span<const uint8_t> datagram) {
  ++stats_.datagrams_in;
  stats_.bytes_in += datagram.size();
  if (state_ == DtlsState::kFailed || state_ == DtlsState::kClosed) {
    ++stats_.ignored_dropped;
    return;
  }
  if (!well_formed_records(datagram)) {
    ++stats_.malformed_dropped;
    return;
  }
  if (state_ == DtlsState::kNew) start(now);
  if (state_ != DtlsState::kConnecting && state_ != DtlsState::kConnected) return;
  // drive() consumes everything it is given, so the memory BIO holds exactly this datagram (DTLS reads a
  // whole datagram per BIO_read); leftovers from a failed parse would otherwise glue onto the next one.
  if (BIO_ctrl_pending(impl_->rbio) != 0) (void)BIO_reset(impl_->rbio);
  if (BIO_write(impl_->rbio, datagram.data(), static_cast<int>(datagram.size())) !=
      static_cast<int>(datagram.size())) {
    fail("BIO_write failed");
    return;
  }
  drive();
  update_timer(now);
}

void DtlsTransport::drive() {
  SSL* ssl = impl_->ssl;
  ERR_clear_error();
  if (state_ == DtlsState::kConnecting) {
    const int r = SSL_do_handshake(ssl);
    if (r == 1) {
      on_connected();
    } else {
      const int err = SSL_get_error(ssl, r);
      if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE) {
        fail(openssl_failure("DTLS handshake failed"));
      }
    }
  }
  if (state_ == DtlsState::kConnected) {
    // Application data (SCTP) is not wired yet: read and discard it so records never pile up in OpenSSL.
    std::array<uint8_t, 2048> buf;
    for (;;) {
      const int n = SSL_read(ssl, buf.data(), static_cast<int>(buf.size()));
      if (n > 0) {
        stats_.app_data_bytes_in += static_cast<uint64_t>(n);
        continue;
      }
      const int err = SSL_get_error(ssl, n);
      if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) break;
      if (err == SSL_ERROR_ZERO_RETURN || impl_->close_notify_received) {
        state_ = DtlsState::kClosed;
        failure_reason_ = "peer sent close_notify";
        retransmit_at_.reset();
        ERR_clear_error();
        break;
      }
      fail(openssl_failure("DTLS session failed"));
      break;
    }
  }
  impl_->finish_datagram();
  ERR_clear_error();
}

void DtlsTransport::on_connected() {
  SSL* ssl = impl_->ssl;
  if (impl_->verified_fingerprint.empty() || SSL_get0_peer_certificate(ssl) == nullptr) {
    fail("DTLS handshake completed without a verified peer certificate");
    return;
  }
  const SRTP_PROTECTION_PROFILE* selected = SSL_get_selected_srtp_profile(ssl);
  if (selected == nullptr) {
    fail("the peer did not negotiate use_srtp");
    return;
  }
  SrtpProfile profile;
  if (selected->id == SRTP_AEAD_AES_128_GCM) {
    profile = SrtpProfile::kAeadAes128Gcm;
  } else if (selected->id == SRTP_AES128_CM_SHA1_80) {
    profile = SrtpProfile::kAes128CmSha1_80;
  } else {
    fail("unsupported SRTP profile " + std::string(selected->name != nullptr ? selected->name : "?"));
    return;
  }
  // RFC 5764 section 4.2: client_write_key | server_write_key | client_write_salt | server_write_salt.
  const size_t k = srtp_master_key_len(profile);
  const size_t s = srtp_master_salt_len(profile);
  std::array<unsigned char, 2 * (16 + 14)> material{};
  const size_t total = 2 * (k + s);
  if (SSL_export_keying_material(ssl, material.data(), total, kSrtpExporterLabel.data(),
                                 kSrtpExporterLabel.size(), nullptr, 0, 0) != 1) {
    fail("SSL_export_keying_material: " + take_openssl_error("failed"));
    return;
  }
  const unsigned char* m = material.data();
  SrtpMasterKey client{{m, m + k}, {m + 2 * k, m + 2 * k + s}};
  SrtpMasterKey server{{m + k, m + 2 * k}, {m + 2 * k + s, m + 2 * k + 2 * s}};
  OPENSSL_cleanse(material.data(), material.size());
  const bool we_are_client = config_.role == DtlsRole::kClient;
  srtp_keys_ = SrtpKeys{profile, we_are_client ? client : server, we_are_client ? server : client};
  verified_fingerprint_ = impl_->verified_fingerprint;
  state_ = DtlsState::kConnected;
}

void DtlsTransport::update_timer(media::Micros now) {
  retransmit_at_.reset();
  if (impl_->ssl == nullptr || (state_ != DtlsState::kConnecting && state_ != DtlsState::kConnected)) return;
  timeval left{};
  // DTLSv1_get_timeout without its C cast: 1 while OpenSSL's retransmission timer runs, with the time left.
  if (SSL_ctrl(impl_->ssl, DTLS_CTRL_GET_TIMEOUT, 0, &left) == 1) {
    retransmit_at_ = now + media::Micros{left.tv_sec} * 1'000'000 + media::Micros{left.tv_usec};
  }
}

void DtlsTransport::on_tick(media::Micros now) {
  if (state_ == DtlsState::kConnecting && now - started_at_ >= config_.handshake_timeout) {
    fail("DTLS handshake timed out after " + std::to_string((now - started_at_) / 1000) + " ms");
    return;
  }
  if (!retransmit_at_ || now < *retransmit_at_) return;
  ERR_clear_error();
  // DTLSv1_handle_timeout: resends the last flight if OpenSSL's timer expired; < 0 when it gave up.
  if (SSL_ctrl(impl_->ssl, DTLS_CTRL_HANDLE_TIMEOUT, 0, nullptr) < 0) {
    fail(openssl_failure("DTLS retransmission failed"));
  }
  impl_->finish_datagram();
  ERR_clear_error();
  update_timer(now);
}

std::optional<media::Micros> DtlsTransport::next_timeout() const {
  std::optional<media::Micros> t = retransmit_at_;
  if (state_ == DtlsState::kConnecting) {
    const media::Micros deadline = started_at_ + config_.handshake_timeout;
    t = t ? std::min(*t, deadline) : deadline;
  }
  return t;
}

std::optional<std::vector<uint8_t>> DtlsTransport::pop_outgoing() {
  if (impl_->outgoing.empty()) return std::nullopt;
  std::vector<uint8_t> d = std::move(impl_->outgoing.front());
  impl_->outgoing.pop_front();
  ++stats_.datagrams_out;
  stats_.bytes_out += d.size();
  return d;
}

void DtlsTransport::close() {
  if (state_ == DtlsState::kClosed || state_ == DtlsState::kFailed) return;
  if (state_ == DtlsState::kConnected) {
    ERR_clear_error();
    (void)SSL_shutdown(impl_->ssl);  // queues close_notify; we do not wait for the peer's
    impl_->finish_datagram();
    ERR_clear_error();
  }
  state_ = DtlsState::kClosed;
  failure_reason_ = "closed locally";
  retransmit_at_.reset();
}

}  // namespace atrium::webrtc
