#include "transport/webrtc/dtls/dtls_transport.h"

#include <gtest/gtest.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <chrono>
#include <regex>
#include <thread>

#include "transport/webrtc/srtp/srtp_session.h"

namespace atrium::webrtc {
namespace {

using Datagram = std::vector<uint8_t>;
using media::Micros;

std::vector<Datagram> drain(DtlsTransport& t) {
  std::vector<Datagram> out;
  while (auto d = t.pop_outgoing())
    out.push_back(std::move(*d));
  return out;
}

bool is_handshake_message(const Datagram& d, uint8_t msg_type) {
  // Plaintext (epoch 0) handshake record: content type 22, and the handshake header's type after the 13
  // bytes.
  return d.size() > 13 && d[0] == 22 && d[3] == 0 && d[4] == 0 && d[13] == msg_type;
}

struct Link {
  std::vector<Datagram> client_to_server;  // every datagram delivered, for replays
  std::vector<Datagram> server_to_client;
  size_t largest = 0;
};

// Delivers datagrams both ways until neither side has anything to say.
void pump(DtlsTransport& client, DtlsTransport& server, Micros now, Link* link = nullptr) {
  for (int round = 0; round < 50; ++round) {
    bool moved = false;
    for (auto& d : drain(client)) {
      moved = true;
      if (link != nullptr) {
        link->largest = std::max(link->largest, d.size());
        link->client_to_server.push_back(d);
      }
      server.on_datagram(now, d);
    }
    for (auto& d : drain(server)) {
      moved = true;
      if (link != nullptr) {
        link->largest = std::max(link->largest, d.size());
        link->server_to_client.push_back(d);
      }
      client.on_datagram(now, d);
    }
    if (!moved) return;
  }
}

class DtlsTransportTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    client_cert_ = DtlsCertificate::generate();
    server_cert_ = DtlsCertificate::generate();
    client_ctx_ = DtlsContext::create(client_cert_);
    server_ctx_ = DtlsContext::create(server_cert_);
  }
  static void TearDownTestSuite() {
    client_ctx_.reset();
    server_ctx_.reset();
    client_cert_.reset();
    server_cert_.reset();
  }

  static DtlsConfig client_config() {
    DtlsConfig c;
    c.role = DtlsRole::kClient;
    c.remote_fingerprint = {"sha-256", server_cert_->fingerprint_sha256()};
    return c;
  }
  static DtlsConfig server_config() {
    DtlsConfig c;
    c.role = DtlsRole::kServer;
    c.remote_fingerprint = {"sha-256", client_cert_->fingerprint_sha256()};
    return c;
  }

  static inline std::shared_ptr<const DtlsCertificate> client_cert_;
  static inline std::shared_ptr<const DtlsCertificate> server_cert_;
  static inline std::shared_ptr<DtlsContext> client_ctx_;
  static inline std::shared_ptr<DtlsContext> server_ctx_;
};

TEST_F(DtlsTransportTest, CertificateIsSelfSignedP256WithSdpFingerprint) {
  const std::string pem = server_cert_->pem();
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  ASSERT_NE(bio, nullptr);
  X509* x = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  ASSERT_NE(x, nullptr);

  char cn[64] = {};
  EXPECT_GT(X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, cn, sizeof cn), 0);
  EXPECT_STREQ(cn, "atrium");
  EXPECT_EQ(X509_NAME_cmp(X509_get_subject_name(x), X509_get_issuer_name(x)), 0);
  EVP_PKEY* key = X509_get0_pubkey(x);
  ASSERT_NE(key, nullptr);
  EXPECT_EQ(EVP_PKEY_get_base_id(key), EVP_PKEY_EC);
  char group[32] = {};
  size_t group_len = 0;
  ASSERT_EQ(EVP_PKEY_get_group_name(key, group, sizeof group, &group_len), 1);
  EXPECT_STREQ(group, "prime256v1");
  EXPECT_EQ(X509_verify(x, key), 1);  // signed by its own key
  EXPECT_LT(X509_cmp_current_time(X509_get0_notBefore(x)), 0);
  EXPECT_GT(X509_cmp_current_time(X509_get0_notAfter(x)), 0);
  int days = 0, secs = 0;
  ASSERT_EQ(ASN1_TIME_diff(&days, &secs, X509_get0_notBefore(x), X509_get0_notAfter(x)), 1);
  EXPECT_EQ(days, 60);

  // The fingerprint is SHA-256 over the DER encoding, as uppercase hex pairs joined by colons.
  unsigned char* der = nullptr;
  const int der_len = i2d_X509(x, &der);
  ASSERT_GT(der_len, 0);
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int md_len = 0;
  ASSERT_EQ(EVP_Digest(der, static_cast<size_t>(der_len), md, &md_len, EVP_sha256(), nullptr), 1);
  OPENSSL_free(der);
  X509_free(x);
  std::string expected;
  char hex[4];
  for (unsigned int i = 0; i < md_len; ++i) {
    std::snprintf(hex, sizeof hex, i == 0 ? "%02X" : ":%02X", md[i]);
    expected += hex;
  }
  EXPECT_EQ(server_cert_->fingerprint_sha256(), expected);
  EXPECT_TRUE(
      std::regex_match(server_cert_->fingerprint_sha256(), std::regex("([0-9A-F]{2}:){31}[0-9A-F]{2}")));
  EXPECT_NE(server_cert_->fingerprint_sha256(), client_cert_->fingerprint_sha256());
}

TEST_F(DtlsTransportTest, HandshakeConnectsAndDerivesMatchingSrtpKeys) {
  DtlsTransport client(client_ctx_, client_config());
  DtlsTransport server(server_ctx_, server_config());
  EXPECT_EQ(client.state(), DtlsState::kNew) << client.failure_reason();
  EXPECT_FALSE(client.srtp_keys());

  client.start(0);
  EXPECT_EQ(client.state(), DtlsState::kConnecting);
  auto hello = drain(client);
  ASSERT_EQ(hello.size(), 1u);
  EXPECT_TRUE(is_handshake_message(hello[0], 1));  // ClientHello
  server.on_datagram(0, hello[0]);
  EXPECT_EQ(server.state(), DtlsState::kConnecting);
  Link link;
  pump(client, server, 1000, &link);

  ASSERT_EQ(client.state(), DtlsState::kConnected) << client.failure_reason();
  ASSERT_EQ(server.state(), DtlsState::kConnected) << server.failure_reason();
  EXPECT_LE(link.largest, 1200u);
  EXPECT_EQ(client.remote_fingerprint(), server_cert_->fingerprint_sha256());
  EXPECT_EQ(server.remote_fingerprint(), client_cert_->fingerprint_sha256());

  const auto& ck = client.srtp_keys();
  const auto& sk = server.srtp_keys();
  ASSERT_TRUE(ck && sk);
  EXPECT_EQ(ck->profile, SrtpProfile::kAeadAes128Gcm);  // preferred over AES-CM
  EXPECT_EQ(sk->profile, SrtpProfile::kAeadAes128Gcm);
  EXPECT_EQ(ck->local.key.size(), 16u);
  EXPECT_EQ(ck->local.salt.size(), 12u);
  EXPECT_EQ(ck->local, sk->remote);
  EXPECT_EQ(ck->remote, sk->local);
  EXPECT_NE(ck->local.key, ck->remote.key);
  EXPECT_NE(ck->local.salt, ck->remote.salt);
  EXPECT_FALSE(client.next_timeout() && server.next_timeout() && *client.next_timeout() < 1000);
}

TEST_F(DtlsTransportTest, NegotiatesAesCmWhenThatIsAllTheClientOffers) {
  auto cm_only = DtlsContext::create(client_cert_, DtlsContextOptions{{SrtpProfile::kAes128CmSha1_80}});
  DtlsTransport client(cm_only, client_config());
  DtlsTransport server(server_ctx_, server_config());
  client.start(0);
  pump(client, server, 0);
  ASSERT_EQ(client.state(), DtlsState::kConnected) << client.failure_reason();
  ASSERT_EQ(server.state(), DtlsState::kConnected) << server.failure_reason();
  ASSERT_TRUE(server.srtp_keys());
  EXPECT_EQ(server.srtp_keys()->profile, SrtpProfile::kAes128CmSha1_80);
  EXPECT_EQ(server.srtp_keys()->local.salt.size(), 14u);
  EXPECT_EQ(client.srtp_keys()->local, server.srtp_keys()->remote);
  EXPECT_EQ(client.srtp_keys()->remote, server.srtp_keys()->local);
}

TEST_F(DtlsTransportTest, KeysDriveSrtpSessionsBothWays) {
  DtlsTransport client(client_ctx_, client_config());
  DtlsTransport server(server_ctx_, server_config());
  client.start(0);
  pump(client, server, 0);
  ASSERT_TRUE(client.srtp_keys() && server.srtp_keys());
  auto c = SrtpSession::create(*client.srtp_keys());
  auto s = SrtpSession::create(*server.srtp_keys());
  ASSERT_TRUE(c && s);
  std::vector<uint8_t> pkt(100 + SrtpSession::kMaxTrailer, 0xAB);
  pkt[0] = 0x80;
  pkt[1] = 111;
  const std::vector<uint8_t> plain(pkt.begin(), pkt.begin() + 100);
  auto n = c->protect_rtp(pkt, 100);
  ASSERT_TRUE(n);
  auto m = s->unprotect_rtp(pkt, *n);
  ASSERT_TRUE(m);
  EXPECT_TRUE(std::equal(plain.begin(), plain.end(), pkt.begin()));
  n = s->protect_rtp(pkt, 100);
  ASSERT_TRUE(n);
  EXPECT_TRUE(c->unprotect_rtp(pkt, *n));
}

TEST_F(DtlsTransportTest, ServerRejectsClientCertificateWithWrongFingerprint) {
  DtlsConfig sc = server_config();
  sc.remote_fingerprint.value = server_cert_->fingerprint_sha256();  // not the client's
  DtlsTransport client(client_ctx_, client_config());
  DtlsTransport server(server_ctx_, sc);
  client.start(0);
  pump(client, server, 0);
  EXPECT_EQ(server.state(), DtlsState::kFailed);
  EXPECT_NE(server.failure_reason().find("fingerprint mismatch"), std::string::npos)
      << server.failure_reason();
  EXPECT_FALSE(server.srtp_keys());
  // The server's alert tells the client.
  EXPECT_EQ(client.state(), DtlsState::kFailed);
  EXPECT_NE(client.failure_reason().find("bad certificate"), std::string::npos) << client.failure_reason();
  EXPECT_FALSE(client.srtp_keys());
  EXPECT_FALSE(server.next_timeout());
}

TEST_F(DtlsTransportTest, ClientRejectsServerCertificateWithWrongFingerprint) {
  DtlsConfig cc = client_config();
  std::string fp = server_cert_->fingerprint_sha256();
  fp[0] = fp[0] == 'A' ? 'B' : 'A';
  cc.remote_fingerprint.value = fp;
  DtlsTransport client(client_ctx_, cc);
  DtlsTransport server(server_ctx_, server_config());
  client.start(0);
  pump(client, server, 0);
  EXPECT_EQ(client.state(), DtlsState::kFailed);
  EXPECT_NE(client.failure_reason().find("fingerprint mismatch"), std::string::npos)
      << client.failure_reason();
  EXPECT_EQ(server.state(), DtlsState::kFailed);
  EXPECT_NE(server.failure_reason().find("peer sent alert"), std::string::npos) << server.failure_reason();
}

TEST_F(DtlsTransportTest, FingerprintComparisonIgnoresCaseAndAcceptsOtherAlgorithms) {
  DtlsConfig cc = client_config();
  for (char& ch : cc.remote_fingerprint.value)
    ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  cc.remote_fingerprint.algorithm = "SHA-256";
  // The server checks the client's certificate with sha-1: compute it with OpenSSL from the PEM.
  const std::string pem = client_cert_->pem();
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  X509* x = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  ASSERT_NE(x, nullptr);
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int md_len = 0;
  ASSERT_EQ(X509_digest(x, EVP_sha1(), md, &md_len), 1);
  X509_free(x);
  ASSERT_EQ(md_len, 20u);
  std::string sha1;
  char hex[4];
  for (unsigned int i = 0; i < md_len; ++i) {
    std::snprintf(hex, sizeof hex, i == 0 ? "%02x" : ":%02x", md[i]);
    sha1 += hex;
  }
  DtlsConfig sc = server_config();
  sc.remote_fingerprint = {"sha-1", sha1};
  DtlsTransport client(client_ctx_, cc);
  DtlsTransport server(server_ctx_, sc);
  client.start(0);
  pump(client, server, 0);
  EXPECT_EQ(client.state(), DtlsState::kConnected) << client.failure_reason();
  EXPECT_EQ(server.state(), DtlsState::kConnected) << server.failure_reason();
}

TEST_F(DtlsTransportTest, BadConfigurationFailsAtOnce) {
  DtlsConfig a = server_config();
  a.remote_fingerprint.algorithm = "md5";
  DtlsTransport t1(server_ctx_, a);
  EXPECT_EQ(t1.state(), DtlsState::kFailed);
  EXPECT_NE(t1.failure_reason().find("md5"), std::string::npos);

  DtlsConfig b = server_config();
  b.remote_fingerprint.value.clear();
  DtlsTransport t2(server_ctx_, b);
  EXPECT_EQ(t2.state(), DtlsState::kFailed);
  EXPECT_NE(t2.failure_reason().find("no remote fingerprint"), std::string::npos);

  // Inputs to a failed transport are counted and ignored.
  t2.start(0);
  const uint8_t bytes[] = {22, 0xFE, 0xFD, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
  t2.on_datagram(0, bytes);
  t2.on_tick(100'000'000);
  EXPECT_EQ(t2.stats().ignored_dropped, 1u);
  EXPECT_FALSE(t2.pop_outgoing());
}

// OpenSSL 3.0's DTLS timer runs on gettimeofday() (see dtls_transport.h): a retransmission needs the interval
// to pass in `now` AND in real time. So these tests configure a 200 ms interval and really sleep 250 ms.
constexpr Micros kShortRetransmit = 200'000;
void sleep_past_retransmit() {
  std::this_thread::sleep_for(std::chrono::milliseconds(250));
}

TEST_F(DtlsTransportTest, LostClientHelloIsRetransmittedOnTick) {
  DtlsConfig cc = client_config();
  cc.initial_retransmit = kShortRetransmit;
  DtlsTransport client(client_ctx_, cc);
  DtlsTransport server(server_ctx_, server_config());
  client.start(0);
  auto lost = drain(client);
  ASSERT_EQ(lost.size(), 1u);
  ASSERT_TRUE(client.next_timeout());
  EXPECT_GT(*client.next_timeout(), 0);
  EXPECT_LE(*client.next_timeout(), kShortRetransmit);

  client.on_tick(1'000);  // too early in both clocks: nothing
  EXPECT_TRUE(drain(client).empty());
  EXPECT_EQ(client.stats().retransmit_timeouts, 0u);

  sleep_past_retransmit();
  client.on_tick(250'000);
  auto resent = drain(client);
  ASSERT_EQ(resent.size(), 1u);
  EXPECT_TRUE(is_handshake_message(resent[0], 1));
  EXPECT_EQ(client.stats().retransmit_timeouts, 1u);
  // Back-off: the next deadline is about twice the first interval away.
  ASSERT_TRUE(client.next_timeout());
  EXPECT_GT(*client.next_timeout(), 250'000 + kShortRetransmit);
  EXPECT_LE(*client.next_timeout(), 250'000 + 2 * kShortRetransmit);

  server.on_datagram(250'000, resent[0]);
  pump(client, server, 250'000);
  EXPECT_EQ(client.state(), DtlsState::kConnected) << client.failure_reason();
  EXPECT_EQ(server.state(), DtlsState::kConnected) << server.failure_reason();
}

TEST_F(DtlsTransportTest, LostServerFlightIsRetransmittedOnTick) {
  DtlsConfig sc = server_config();
  sc.initial_retransmit = kShortRetransmit;
  DtlsTransport client(client_ctx_, client_config());  // 1 s: the client stays quiet meanwhile
  DtlsTransport server(server_ctx_, sc);
  client.start(0);
  for (auto& d : drain(client))
    server.on_datagram(0, d);
  auto lost = drain(server);
  ASSERT_FALSE(lost.empty());
  EXPECT_TRUE(is_handshake_message(lost[0], 2));  // ServerHello
  ASSERT_TRUE(server.next_timeout());
  EXPECT_LE(*server.next_timeout(), kShortRetransmit);

  sleep_past_retransmit();
  server.on_tick(250'000);
  auto resent = drain(server);
  ASSERT_FALSE(resent.empty());
  EXPECT_TRUE(is_handshake_message(resent[0], 2));
  EXPECT_EQ(server.stats().retransmit_timeouts, 1u);
  for (auto& d : resent)
    client.on_datagram(250'000, d);
  pump(client, server, 250'000);
  EXPECT_EQ(client.state(), DtlsState::kConnected) << client.failure_reason();
  EXPECT_EQ(server.state(), DtlsState::kConnected) << server.failure_reason();
  EXPECT_EQ(client.stats().retransmit_timeouts, 0u);
}

TEST_F(DtlsTransportTest, LostFinalFlightIsRecoveredByTheClientsRetransmission) {
  // The server's ChangeCipherSpec+Finished ends the handshake; the server is connected and runs no timer, so
  // when that flight is lost it is the client's resent flight that makes the (connected) server send it
  // again.
  DtlsConfig cc = client_config();
  cc.initial_retransmit = kShortRetransmit;
  DtlsTransport client(client_ctx_, cc);
  DtlsTransport server(server_ctx_, server_config());
  client.start(0);
  for (auto& d : drain(client))
    server.on_datagram(0, d);  // ClientHello
  for (auto& d : drain(server))
    client.on_datagram(0, d);  // ServerHello .. ServerHelloDone
  for (auto& d : drain(client))
    server.on_datagram(0, d);  // Certificate .. Finished
  ASSERT_EQ(server.state(), DtlsState::kConnected) << server.failure_reason();
  auto lost = drain(server);
  ASSERT_FALSE(lost.empty());
  EXPECT_EQ(client.state(), DtlsState::kConnecting);

  sleep_past_retransmit();
  client.on_tick(250'000);
  EXPECT_EQ(client.stats().retransmit_timeouts, 1u);
  pump(client, server, 250'000);
  EXPECT_EQ(client.state(), DtlsState::kConnected) << client.failure_reason();
  EXPECT_EQ(server.state(), DtlsState::kConnected) << server.failure_reason();
  ASSERT_TRUE(client.srtp_keys() && server.srtp_keys());
  EXPECT_EQ(client.srtp_keys()->local, server.srtp_keys()->remote);
}

TEST_F(DtlsTransportTest, HandshakeTimesOutWithAReason) {
  DtlsTransport client(client_ctx_, client_config());
  client.start(5'000'000);
  drain(client);
  ASSERT_TRUE(client.next_timeout());
  EXPECT_LE(*client.next_timeout(), 5'000'000 + 30'000'000);
  client.on_tick(34'999'999);
  EXPECT_EQ(client.state(), DtlsState::kConnecting);
  client.on_tick(35'000'000);
  EXPECT_EQ(client.state(), DtlsState::kFailed);
  EXPECT_NE(client.failure_reason().find("timed out"), std::string::npos) << client.failure_reason();
  EXPECT_FALSE(client.next_timeout());
}

TEST_F(DtlsTransportTest, SmallMtuFragmentsFlightsIntoSmallDatagrams) {
  DtlsConfig cc = client_config();
  DtlsConfig sc = server_config();
  cc.mtu = 300;
  sc.mtu = 300;
  DtlsTransport client(client_ctx_, cc);
  DtlsTransport server(server_ctx_, sc);
  client.start(0);
  Link link;
  pump(client, server, 0, &link);
  ASSERT_EQ(client.state(), DtlsState::kConnected) << client.failure_reason();
  ASSERT_EQ(server.state(), DtlsState::kConnected) << server.failure_reason();
  EXPECT_LE(link.largest, 300u);
  EXPECT_GT(link.server_to_client.size(), 2u);  // the certificate alone needs more than one datagram
}

TEST_F(DtlsTransportTest, GarbageDoesNotBreakAConnectedSession) {
  DtlsTransport client(client_ctx_, client_config());
  DtlsTransport server(server_ctx_, server_config());
  client.start(0);
  Link link;
  pump(client, server, 0, &link);
  ASSERT_EQ(server.state(), DtlsState::kConnected) << server.failure_reason();
  const SrtpKeys keys = *server.srtp_keys();

  std::vector<Datagram> garbage;
  garbage.push_back({});                                                        // empty
  garbage.push_back(Datagram(100, 0x00));                                       // not DTLS at all
  garbage.push_back({22, 0xFE, 0xFD, 0, 0});                                    // truncated header
  garbage.push_back({22, 0xFE, 0xFD, 0, 0, 0, 0, 0, 0, 0, 9, 0, 50, 1, 2, 3});  // truncated body
  garbage.push_back({30, 0xFE, 0xFD, 0, 1, 0, 0, 0, 0, 0, 9, 0, 1, 0});         // unknown content type
  Datagram app(13 + 64, 0x5C);  // epoch 1 application data that does not decrypt
  app[0] = 23;
  app[1] = 0xFE;
  app[2] = 0xFD;
  app[3] = 0;
  app[4] = 1;
  app[11] = 0;
  app[12] = 64;
  garbage.push_back(app);
  Datagram alert = {21, 0xFE, 0xFD, 0, 0, 0, 0, 0, 0, 0, 99, 0, 2, 2, 40};  // plaintext fatal alert, epoch 0
  garbage.push_back(alert);
  Datagram hello = link.client_to_server.front();  // the ClientHello again, long after the handshake
  garbage.push_back(hello);
  Datagram junk_hs(13 + 40, 0xEE);  // epoch 0 handshake record full of junk
  junk_hs[0] = 22;
  junk_hs[1] = 0xFE;
  junk_hs[2] = 0xFD;
  junk_hs[3] = 0;
  junk_hs[4] = 0;
  junk_hs[11] = 0;
  junk_hs[12] = 40;
  garbage.push_back(junk_hs);
  for (const auto& d : link.client_to_server)
    garbage.push_back(d);  // replay of the whole handshake
  uint32_t x = 12345;
  for (int i = 0; i < 200; ++i) {  // random bytes behind a plausible record header
    Datagram r(13 + (i % 90), 0);
    for (auto& b : r) {
      x = x * 1103515245 + 12345;
      b = static_cast<uint8_t>(x >> 16);
    }
    r[0] = static_cast<uint8_t>(20 + i % 5);
    r[1] = 0xFE;
    r[2] = 0xFD;
    r[11] = 0;
    r[12] = static_cast<uint8_t>(i % 90);
    garbage.push_back(r);
  }
  for (const auto& d : garbage)
    server.on_datagram(1000, d);
  drain(server);  // whatever it answers (e.g. a resent last flight) is not our concern here

  EXPECT_EQ(server.state(), DtlsState::kConnected) << server.failure_reason();
  EXPECT_EQ(server.stats().malformed_dropped, 5u);
  ASSERT_TRUE(server.srtp_keys());
  EXPECT_EQ(server.srtp_keys()->local, keys.local);
  EXPECT_EQ(server.srtp_keys()->remote, keys.remote);

  // The session still reads authentic records: the client's close_notify closes it.
  client.close();
  EXPECT_EQ(client.state(), DtlsState::kClosed);
  auto bye = drain(client);
  ASSERT_EQ(bye.size(), 1u);
  EXPECT_EQ(bye[0][0], 21);  // alert record (encrypted: epoch 1)
  EXPECT_EQ(bye[0][4], 1);
  server.on_datagram(2000, bye[0]);
  EXPECT_EQ(server.state(), DtlsState::kClosed);
  EXPECT_EQ(server.failure_reason(), "peer sent close_notify");
  ASSERT_TRUE(server.srtp_keys());  // kept for SRTP packets still in flight
}

TEST_F(DtlsTransportTest, GarbageDuringTheHandshakeIsDropped) {
  DtlsTransport client(client_ctx_, client_config());
  DtlsTransport server(server_ctx_, server_config());
  client.start(0);
  const Datagram junk1(50, 0x01);
  const Datagram junk2 = {23, 0xFE, 0xFD, 0, 0, 0, 0, 0, 0, 0, 0, 0, 200};
  for (int round = 0; round < 10; ++round) {
    server.on_datagram(0, junk1);
    client.on_datagram(0, junk2);
    for (auto& d : drain(client))
      server.on_datagram(0, d);
    for (auto& d : drain(server))
      client.on_datagram(0, d);
  }
  EXPECT_EQ(client.state(), DtlsState::kConnected) << client.failure_reason();
  EXPECT_EQ(server.state(), DtlsState::kConnected) << server.failure_reason();
  EXPECT_EQ(server.stats().malformed_dropped, 10u);
  EXPECT_EQ(client.stats().malformed_dropped, 10u);
}

TEST_F(DtlsTransportTest, ServerCloseReachesClient) {
  DtlsTransport client(client_ctx_, client_config());
  DtlsTransport server(server_ctx_, server_config());
  client.start(0);
  pump(client, server, 0);
  ASSERT_EQ(client.state(), DtlsState::kConnected);
  server.close();
  EXPECT_EQ(server.state(), DtlsState::kClosed);
  pump(client, server, 10);
  EXPECT_EQ(client.state(), DtlsState::kClosed);
  EXPECT_EQ(client.failure_reason(), "peer sent close_notify");
  // Closed transports ignore further input and stay quiet.
  client.on_datagram(20, Datagram{23, 0xFE, 0xFD, 0, 1, 0, 0, 0, 0, 0, 5, 0, 1, 0});
  EXPECT_EQ(client.stats().ignored_dropped, 1u);
  EXPECT_FALSE(client.pop_outgoing());
  EXPECT_FALSE(client.next_timeout());
}

TEST_F(DtlsTransportTest, ClosingBeforeConnectingSendsNothing) {
  DtlsTransport server(server_ctx_, server_config());
  server.close();
  EXPECT_EQ(server.state(), DtlsState::kClosed);
  EXPECT_FALSE(server.pop_outgoing());
}

}  // namespace
}  // namespace atrium::webrtc
