#include "server/tls/server_certificate.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <stdexcept>

#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <boost/asio/buffer.hpp>

#include "server/tls/certificate_fingerprint.h"
#include "server/tls/openssl_error.h"
#include "server/tls/self_signed_certificate.h"

namespace atrium::server {
namespace ssl = boost::asio::ssl;

namespace {

// TLS 1.2 and 1.3 only (every browser that has WebRTC has them); OpenSSL's default suites and groups.
std::shared_ptr<ssl::context> new_server_context() {
  auto context = std::make_shared<ssl::context>(ssl::context::tls_server);
  context->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                       ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 | ssl::context::single_dh_use);
  SSL_CTX_set_min_proto_version(context->native_handle(), TLS1_2_VERSION);
  return context;
}

// The whole file, or false with errno's sentence in `error`.
bool read_file(const std::string& path, std::string& contents, std::string& error) {
  std::ifstream file(path, std::ios::binary);
  if (file) contents.assign(std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>());
  if (file.bad() || !file.is_open()) {
    error = std::strerror(errno);
    return false;
  }
  return true;
}

// An encrypted key would make OpenSSL ask for its pass phrase on the terminal; answering nothing makes it
// fail.
int no_pass_phrase(char*, int, int, void*) {
  return 0;
}

}  // namespace

ServerCertificate::ServerCertificate(Loaded loaded, std::string origin, std::string cert_path,
                                     std::string key_path)
    : origin_(std::move(origin)),
      cert_path_(std::move(cert_path)),
      key_path_(std::move(key_path)),
      current_(std::move(loaded)) {}

ServerCertificate::Loaded ServerCertificate::load(const std::string& cert_path, const std::string& key_path,
                                                  std::string& error) {
  std::string cert_pem, key_pem, why;
  if (!read_file(cert_path, cert_pem, why)) {
    error = "cannot read --tls-cert " + cert_path + ": " + why;
    return {};
  }
  if (!read_file(key_path, key_pem, why)) {
    error = "cannot read --tls-key " + key_path + ": " + why;
    return {};
  }
  auto context = new_server_context();
  boost::system::error_code ec;
  context->use_certificate_chain(boost::asio::buffer(cert_pem), ec);
  if (ec) {
    error = "--tls-cert " + cert_path + " holds no PEM certificate (" +
            take_openssl_reason(ec.message().c_str()) + ")";
    return {};
  }
  BIO* bio = BIO_new_mem_buf(key_pem.data(), static_cast<int>(key_pem.size()));
  std::unique_ptr<EVP_PKEY, EvpPkeyFree> key(
      bio != nullptr ? PEM_read_bio_PrivateKey(bio, nullptr, no_pass_phrase, nullptr) : nullptr);
  BIO_free(bio);
  if (!key) {
    error = "--tls-key " + key_path + " holds no unencrypted PEM private key (" + take_openssl_reason() + ")";
    return {};
  }
  if (SSL_CTX_use_PrivateKey(context->native_handle(), key.get()) != 1 ||
      SSL_CTX_check_private_key(context->native_handle()) != 1) {
    error = "--tls-key " + key_path + " does not match the certificate in --tls-cert " + cert_path + " (" +
            take_openssl_reason() + ")";
    return {};
  }
  return {context, sha256_fingerprint(*SSL_CTX_get0_certificate(context->native_handle()))};
}

std::unique_ptr<ServerCertificate> ServerCertificate::from_files(std::string cert_path, std::string key_path,
                                                                 std::string& error) {
  auto loaded = load(cert_path, key_path, error);
  if (!loaded.context) return nullptr;
  std::string origin = "the files " + cert_path + " and " + key_path;
  return std::unique_ptr<ServerCertificate>(
      new ServerCertificate(std::move(loaded), std::move(origin), std::move(cert_path), std::move(key_path)));
}

std::unique_ptr<ServerCertificate> ServerCertificate::self_signed(const std::vector<std::string>& names,
                                                                  std::string& error) {
  try {
    const auto made = make_self_signed_certificate(names);
    auto context = new_server_context();
    if (SSL_CTX_use_certificate(context->native_handle(), made.certificate.get()) != 1 ||
        SSL_CTX_use_PrivateKey(context->native_handle(), made.key.get()) != 1)
      throw std::runtime_error("cannot use the self-signed certificate: " + take_openssl_reason());
    std::string origin = "a self-signed certificate for ";
    for (std::size_t i = 0; i < names.size(); ++i)
      origin += (i == 0 ? "" : ", ") + names[i];
    Loaded loaded{context, sha256_fingerprint(*made.certificate)};
    return std::unique_ptr<ServerCertificate>(
        new ServerCertificate(std::move(loaded), std::move(origin), {}, {}));
  } catch (const std::exception& e) {
    error = e.what();
    return nullptr;
  }
}

std::shared_ptr<ssl::context> ServerCertificate::context() const {
  std::lock_guard lock(mutex_);
  return current_.context;
}

std::string ServerCertificate::fingerprint() const {
  std::lock_guard lock(mutex_);
  return current_.fingerprint;
}

std::string ServerCertificate::reload() {
  if (!reloadable()) return "the certificate was generated at start (--tls-self-signed): nothing to reload";
  std::string error;
  auto loaded = load(cert_path_, key_path_, error);
  if (!loaded.context) return error;
  std::lock_guard lock(mutex_);
  current_ = std::move(loaded);
  return {};
}

}  // namespace atrium::server
