// TLS on the API: the fingerprint's spelling, the self-signed certificate, certificate files and their
// reload, and the HTTP server speaking TLS over loopback (a handshake, plain HTTP sent to it, a client that
// says nothing).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include "server/http/http_server.h"
#include "server/tls/certificate_fingerprint.h"
#include "server/tls/self_signed_certificate.h"
#include "server/tls/server_certificate.h"

namespace atrium::server {
namespace {
namespace asio = boost::asio;
namespace http = boost::beast::http;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

// The subjectAltName entries as "DNS:name" / "IP:address".
std::vector<std::string> alt_names(X509* certificate) {
  std::vector<std::string> out;
  auto* names =
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(certificate, NID_subject_alt_name, nullptr, nullptr));
  for (int i = 0; names != nullptr && i < sk_GENERAL_NAME_num(names); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names, i);
    if (name->type == GEN_DNS) {
      out.push_back("DNS:" +
                    std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(name->d.dNSName))));
    } else if (name->type == GEN_IPADD) {
      const unsigned char* bytes = ASN1_STRING_get0_data(name->d.iPAddress);
      if (ASN1_STRING_length(name->d.iPAddress) == 4) {
        asio::ip::address_v4::bytes_type v4;
        std::copy_n(bytes, v4.size(), v4.begin());
        out.push_back("IP:" + asio::ip::address_v4(v4).to_string());
      } else if (ASN1_STRING_length(name->d.iPAddress) == 16) {
        asio::ip::address_v6::bytes_type v6;
        std::copy_n(bytes, v6.size(), v6.begin());
        out.push_back("IP:" + asio::ip::address_v6(v6).to_string());
      }
    }
  }
  GENERAL_NAMES_free(names);
  return out;
}

// A directory of PEM files for one test, removed afterwards.
class PemFiles {
 public:
  PemFiles()
      : dir_(fs::temp_directory_path() /
             ("atrium-tls-" + std::to_string(::getpid()) + "-" + std::to_string(++n_))) {
    fs::create_directories(dir_);
  }
  ~PemFiles() { fs::remove_all(dir_); }

  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  // Writes `made` as cert.pem and key.pem (or the names given); returns its fingerprint.
  std::string write(const SelfSignedCertificate& made, const std::string& cert = "cert.pem",
                    const std::string& key = "key.pem") const {
    std::FILE* c = std::fopen(path(cert).c_str(), "w");
    PEM_write_X509(c, made.certificate.get());
    std::fclose(c);
    std::FILE* k = std::fopen(path(key).c_str(), "w");
    PEM_write_PrivateKey(k, made.key.get(), nullptr, nullptr, 0, nullptr, nullptr);
    std::fclose(k);
    return sha256_fingerprint(*made.certificate);
  }
  void write_text(const std::string& name, const std::string& text) const {
    std::ofstream(path(name)) << text;
  }

 private:
  static inline int n_ = 0;
  fs::path dir_;
};

TEST(CertificateFingerprint, IsUpperCaseHexBytesJoinedByColons) {
  const unsigned char digest[] = {0x00, 0xab, 0x0f, 0xf0};
  EXPECT_EQ(format_fingerprint(digest), "00:AB:0F:F0");
  EXPECT_EQ(format_fingerprint({}), "");
}

TEST(SelfSignedCertificate, KeyMatchesAndEveryNameIsInTheSubjectAltName) {
  const auto made = make_self_signed_certificate({"localhost", "127.0.0.1", "::1", "192.0.2.7"});
  ASSERT_TRUE(made.certificate && made.key);
  EXPECT_EQ(X509_check_private_key(made.certificate.get(), made.key.get()), 1);
  EXPECT_EQ(X509_verify(made.certificate.get(), made.key.get()), 1) << "self-signed: signed by its own key";
  EXPECT_EQ(alt_names(made.certificate.get()),
            (std::vector<std::string>{"DNS:localhost", "IP:127.0.0.1", "IP:::1", "IP:192.0.2.7"}));
  EXPECT_EQ(X509_check_host(made.certificate.get(), "localhost", 0, 0, nullptr), 1);
  EXPECT_EQ(X509_check_ip_asc(made.certificate.get(), "192.0.2.7", 0), 1);
  EXPECT_EQ(EVP_PKEY_get_bits(made.key.get()), 256);
  // Valid now, for a year.
  EXPECT_LT(X509_cmp_current_time(X509_get0_notBefore(made.certificate.get())), 0);
  EXPECT_GT(X509_cmp_current_time(X509_get0_notAfter(made.certificate.get())), 0);
  // Two are never the same certificate.
  const auto other = make_self_signed_certificate({"localhost"});
  EXPECT_NE(sha256_fingerprint(*made.certificate), sha256_fingerprint(*other.certificate));
  EXPECT_EQ(sha256_fingerprint(*made.certificate).size(), 32u * 3 - 1);
}

TEST(ServerCertificate, SelfSignedServesWhatItsFingerprintSays) {
  std::string error;
  auto certificate = ServerCertificate::self_signed({"localhost", "127.0.0.1"}, error);
  ASSERT_TRUE(certificate) << error;
  EXPECT_EQ(certificate->origin(), "a self-signed certificate for localhost, 127.0.0.1");
  X509* served = SSL_CTX_get0_certificate(certificate->context()->native_handle());
  ASSERT_NE(served, nullptr);
  EXPECT_EQ(certificate->fingerprint(), sha256_fingerprint(*served));
  EXPECT_FALSE(certificate->reloadable());
  EXPECT_NE(certificate->reload(), "");
}

TEST(ServerCertificate, FilesThatCannotServeAreOneSentenceNamingTheFile) {
  PemFiles files;
  files.write(make_self_signed_certificate({"localhost"}), "a.pem", "a.key");
  files.write(make_self_signed_certificate({"localhost"}), "b.pem", "b.key");
  files.write_text("junk.pem", "not a certificate\n");
  std::string error;
  EXPECT_FALSE(ServerCertificate::from_files(files.path("missing.pem"), files.path("a.key"), error));
  EXPECT_EQ(error, "cannot read --tls-cert " + files.path("missing.pem") + ": No such file or directory");
  EXPECT_FALSE(ServerCertificate::from_files(files.path("a.pem"), files.path("missing.key"), error));
  EXPECT_EQ(error, "cannot read --tls-key " + files.path("missing.key") + ": No such file or directory");
  EXPECT_FALSE(ServerCertificate::from_files(files.path("junk.pem"), files.path("a.key"), error));
  EXPECT_TRUE(error.starts_with("--tls-cert " + files.path("junk.pem") + " holds no PEM certificate ("))
      << error;
  EXPECT_FALSE(ServerCertificate::from_files(files.path("a.pem"), files.path("junk.pem"), error));
  EXPECT_TRUE(
      error.starts_with("--tls-key " + files.path("junk.pem") + " holds no unencrypted PEM private key"))
      << error;
  EXPECT_FALSE(ServerCertificate::from_files(files.path("a.pem"), files.path("b.key"), error));
  EXPECT_TRUE(error.starts_with("--tls-key " + files.path("b.key") +
                                " does not match the certificate in --tls-cert " + files.path("a.pem")))
      << error;
}

TEST(ServerCertificate, ReloadSwapsTheContextForNewConnectionsAndAFailedOneKeepsTheOld) {
  PemFiles files;
  const auto first = files.write(make_self_signed_certificate({"localhost"}));
  std::string error;
  auto certificate = ServerCertificate::from_files(files.path("cert.pem"), files.path("key.pem"), error);
  ASSERT_TRUE(certificate) << error;
  EXPECT_EQ(certificate->fingerprint(), first);
  const auto first_context = certificate->context();  // what a live connection holds

  const auto second = files.write(make_self_signed_certificate({"localhost"}));
  EXPECT_EQ(certificate->reload(), "");
  EXPECT_EQ(certificate->fingerprint(), second);
  EXPECT_NE(certificate->context(), first_context);
  EXPECT_EQ(sha256_fingerprint(*SSL_CTX_get0_certificate(first_context->native_handle())), first)
      << "the old context is untouched";

  files.write_text("cert.pem", "half-written\n");
  const auto why = certificate->reload();
  EXPECT_TRUE(why.starts_with("--tls-cert " + files.path("cert.pem") + " holds no PEM certificate")) << why;
  EXPECT_EQ(certificate->fingerprint(), second);
  EXPECT_EQ(sha256_fingerprint(*SSL_CTX_get0_certificate(certificate->context()->native_handle())), second);
}

class HttpsServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    router_.get("/hello",
                [](const HttpRequest&, Responder respond) { respond(HttpResponse::text(200, "hi\n")); });
    std::string error;
    certificate_ = ServerCertificate::self_signed({"localhost", "127.0.0.1"}, error);
    ASSERT_TRUE(certificate_) << error;
    server_.use_tls(certificate_);
    ASSERT_FALSE(server_.listen({asio::ip::make_address("127.0.0.1"), 0}));
    server_.start();
  }

  // One GET over TLS; returns the status and the fingerprint of the certificate the server sent.
  std::pair<unsigned, std::string> get_over_tls() {
    asio::io_context io;
    asio::ssl::context client(asio::ssl::context::tls_client);
    asio::ssl::stream<asio::ip::tcp::socket> stream(io, client);
    stream.next_layer().connect(server_.local_endpoint());
    stream.handshake(asio::ssl::stream_base::client);
    http::request<http::string_body> request{http::verb::get, "/hello", 11};
    request.set(http::field::host, "localhost");
    http::write(stream, request);
    boost::beast::flat_buffer buffer;
    http::response<http::string_body> response;
    http::read(stream, buffer, response);
    return {response.result_int(), sha256_fingerprint(*SSL_get0_peer_certificate(stream.native_handle()))};
  }

  // Connects, sends `bytes`, and reads until the server closes; how long that took.
  std::chrono::milliseconds closed_after_sending(const std::string& bytes) {
    asio::io_context io;
    asio::ip::tcp::socket socket(io);
    socket.connect(server_.local_endpoint());
    const auto start = std::chrono::steady_clock::now();
    if (!bytes.empty()) asio::write(socket, asio::buffer(bytes));
    char sink[4096];
    boost::system::error_code ec;
    std::string got;
    for (std::size_t n; (n = socket.read_some(asio::buffer(sink), ec)) > 0 || !ec;)
      got.append(sink, n);
    EXPECT_EQ(got.find("HTTP/1.1"), std::string::npos) << "no HTTP answer on the TLS port";
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
  }

  HttpRouter router_;
  HttpLimits limits_ = [] {
    HttpLimits limits;
    limits.tls_handshake_timeout = 300ms;
    return limits;
  }();
  std::shared_ptr<ServerCertificate> certificate_;
  HttpServer server_{router_, limits_};
};

TEST_F(HttpsServerTest, AnswersOverTlsWithItsCertificate) {
  EXPECT_TRUE(server_.tls());
  const auto [status, fingerprint] = get_over_tls();
  EXPECT_EQ(status, 200u);
  EXPECT_EQ(fingerprint, certificate_->fingerprint());
  EXPECT_EQ(server_.tls_handshake_failures(), 0u);
}

TEST_F(HttpsServerTest, PlainHttpAndSilenceAreClosedAndCountedAndTheServerStillServes) {
  EXPECT_LT(closed_after_sending("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n"), 250ms)
      << "closed at once, no timeout";
  EXPECT_EQ(server_.tls_handshake_failures(), 1u);
  const auto silent = closed_after_sending("");
  EXPECT_GE(silent, 250ms);
  EXPECT_LT(silent, 2000ms);
  // At the deadline the TCP stream closes the socket itself; the failed handshake is counted when its
  // completion runs on the HTTP thread, which may be just after the client saw the close.
  for (int i = 0; i < 100 && server_.tls_handshake_failures() < 2; ++i)
    std::this_thread::sleep_for(10ms);
  EXPECT_EQ(server_.tls_handshake_failures(), 2u);
  EXPECT_EQ(get_over_tls().first, 200u);
}

}  // namespace
}  // namespace atrium::server
