// DTLS 1.2 for DTLS-SRTP (RFC 5764, RFC 8827), sans-IO over memory BIOs. All of OpenSSL lives in
// dtls_transport.cpp: the certificate, the shared SSL_CTX and the per-session SSL.
//
// Usage: one DtlsCertificate per process, one DtlsContext per process or per worker (sessions only read it),
// one DtlsTransport per peer connection. Feed every datagram the demux classified as DTLS to on_datagram(),
// then send what pop_outgoing() returns; call on_tick() when next_timeout() is due. Once state() is
// kConnected, srtp_keys() gives the keys for SrtpSession.
//
// Time: next_timeout()/on_tick() carry the retransmission schedule, but OpenSSL 3.0 keeps its DTLS timer on
// gettimeofday() and has no way to inject a clock (DTLS_set_timer_cb only chooses the durations). So we
// install a timer callback with our own back-off (DtlsConfig::initial_retransmit, doubling up to
// max_retransmit), next_timeout() is `now` of the last call plus OpenSSL's remaining time, and on_tick() lets
// OpenSSL retransmit when its own timer has expired. The runtime's `now` is the wall clock, so both agree in
// production; a test that wants a retransmission must let the configured (small) interval pass in real time
// as well as in `now`. The overall handshake deadline (DtlsConfig::handshake_timeout) is pure `now`
// arithmetic.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "media/media_packet.h"
#include "transport/webrtc/srtp/srtp_keys.h"

namespace atrium::webrtc {

// An ECDSA P-256 key and a self-signed X.509 certificate (CN "atrium", random serial, valid 30 days either
// side of its creation), made once at start and shared by every session.
class DtlsCertificate {
 public:
  // Throws std::runtime_error if OpenSSL cannot make a key or certificate (a start-up failure, not per peer).
  static std::shared_ptr<const DtlsCertificate> generate();
  ~DtlsCertificate();
  DtlsCertificate(const DtlsCertificate&) = delete;
  DtlsCertificate& operator=(const DtlsCertificate&) = delete;

  // For a=fingerprint: "sha-256 " + this, e.g. "AB:CD:...:EF" (32 uppercase hex bytes joined by colons).
  const std::string& fingerprint_sha256() const { return fingerprint_sha256_; }
  std::string pem() const;  // the certificate, PEM-encoded (for logs/debugging)

  struct Impl;  // OpenSSL objects; defined in dtls_transport.cpp

 private:
  explicit DtlsCertificate(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
  std::string fingerprint_sha256_;
  friend class DtlsContext;
};

struct DtlsContextOptions {
  // Offered (client) or accepted (server) in this order of preference.
  std::vector<SrtpProfile> srtp_profiles = {SrtpProfile::kAeadAes128Gcm, SrtpProfile::kAes128CmSha1_80};
};

// The SSL_CTX: DTLS 1.2 only, ECDHE-ECDSA suites, use_srtp, our certificate, peer certificates accepted by
// fingerprint only. Immutable once made; SSL_new from several threads on one context is safe.
class DtlsContext {
 public:
  static std::shared_ptr<DtlsContext> create(std::shared_ptr<const DtlsCertificate> certificate,
                                             DtlsContextOptions options = {});
  ~DtlsContext();
  DtlsContext(const DtlsContext&) = delete;
  DtlsContext& operator=(const DtlsContext&) = delete;

  const DtlsCertificate& certificate() const { return *certificate_; }

  struct Impl;

 private:
  DtlsContext(std::shared_ptr<const DtlsCertificate> certificate, std::unique_ptr<Impl> impl);
  std::shared_ptr<const DtlsCertificate> certificate_;
  std::unique_ptr<Impl> impl_;
  friend class DtlsTransport;
};

// The remote a=fingerprint. Algorithm as in RFC 8122 ("sha-256"; also sha-1, sha-224, sha-384, sha-512),
// value as hex bytes joined by colons, case-insensitive.
struct DtlsFingerprint {
  std::string algorithm = "sha-256";
  std::string value;
};

enum class DtlsRole : uint8_t {
  kClient,  // we send the ClientHello (remote a=setup:passive)
  kServer,  // the browser connects (we answer a=setup:passive)
};

enum class DtlsState : uint8_t { kNew, kConnecting, kConnected, kFailed, kClosed };
std::string_view to_string(DtlsState s);

struct DtlsConfig {
  DtlsRole role = DtlsRole::kServer;
  DtlsFingerprint remote_fingerprint;
  size_t mtu = 1200;                             // largest datagram pop_outgoing() returns
  media::Micros initial_retransmit = 1'000'000;  // RFC 6347 section 4.2.4.1: 1 s, doubling
  media::Micros max_retransmit = 8'000'000;      // back-off cap
  media::Micros handshake_timeout = 30'000'000;  // from the first start()/on_datagram(): then kFailed
};

struct DtlsStats {
  uint64_t datagrams_in = 0;
  uint64_t datagrams_out = 0;
  uint64_t bytes_in = 0;
  uint64_t bytes_out = 0;
  uint64_t malformed_dropped = 0;    // not a sequence of whole DTLS records: dropped before OpenSSL saw it
  uint64_t ignored_dropped = 0;      // arrived while failed/closed
  uint64_t retransmit_timeouts = 0;  // times OpenSSL's timer fired and a flight was resent
  uint64_t app_data_bytes_in = 0;    // application data (SCTP, later) received and discarded for now
  uint64_t outgoing_dropped = 0;     // datagrams dropped because nobody popped them (queue full)
};

class DtlsTransport {
 public:
  static constexpr size_t kMaxQueuedDatagrams = 64;  // outgoing; beyond this the oldest are dropped

  DtlsTransport(std::shared_ptr<DtlsContext> context, DtlsConfig config);
  ~DtlsTransport();
  DtlsTransport(const DtlsTransport&) = delete;
  DtlsTransport& operator=(const DtlsTransport&) = delete;

  // kNew -> kConnecting. A client queues its ClientHello. Implied by the first on_datagram() if not called.
  void start(media::Micros now);
  // One UDP datagram (one or more DTLS records). Untrusted: malformed input is counted and dropped.
  void on_datagram(media::Micros now, std::span<const uint8_t> datagram);
  // Datagrams to send, oldest first, each at most config.mtu bytes.
  std::optional<std::vector<uint8_t>> pop_outgoing();
  // Retransmissions and the handshake deadline.
  void on_tick(media::Micros now);
  std::optional<media::Micros> next_timeout() const;
  // Sends close_notify (if a session was up) and moves to kClosed.
  void close();

  DtlsRole role() const { return config_.role; }
  DtlsState state() const { return state_; }
  const std::string& failure_reason() const { return failure_reason_; }  // empty unless kFailed / kClosed
  // The negotiated profile and keys (RFC 5764 section 4.2); set once kConnected, and kept after a close.
  const std::optional<SrtpKeys>& srtp_keys() const { return srtp_keys_; }
  // The peer certificate's fingerprint in the algorithm of the remote a=fingerprint, once verified.
  const std::string& remote_fingerprint() const { return verified_fingerprint_; }
  const DtlsStats& stats() const { return stats_; }

  struct Impl;

 private:
  void drive();  // run the handshake / read loop after an input
  void update_timer(media::Micros now);
  void fail(std::string reason);
  void on_connected();
  std::string openssl_failure(std::string_view what) const;

  std::shared_ptr<DtlsContext> context_;
  DtlsConfig config_;
  std::unique_ptr<Impl> impl_;
  DtlsState state_ = DtlsState::kNew;
  std::string failure_reason_;
  std::string verified_fingerprint_;
  std::optional<SrtpKeys> srtp_keys_;
  media::Micros started_at_ = 0;
  std::optional<media::Micros> retransmit_at_;
  DtlsStats stats_;
};

}  // namespace atrium::webrtc
