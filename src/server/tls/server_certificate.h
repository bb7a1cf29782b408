// The certificate the HTTP API presents when TLS is on (--tls-cert/--tls-key, or --tls-self-signed), as the
// OpenSSL context a new connection is made with. Reloading the files swaps in a new context for the
// connections accepted after it; a live connection keeps the context it was made with (its shared_ptr), so
// nothing in flight is cut off, and a reload that fails leaves the old context in place.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <boost/asio/ssl/context.hpp>

namespace atrium::server {

class ServerCertificate {
 public:
  // Reads a PEM certificate chain (the server's first) and its PEM private key. On failure returns null and
  // sets `error` to one sentence naming the file and what is wrong with it (unreadable, not PEM, key does not
  // match).
  static std::unique_ptr<ServerCertificate> from_files(std::string cert_path, std::string key_path,
                                                       std::string& error);
  // Generates a key and a self-signed certificate for `names` (host names and IP addresses) now.
  static std::unique_ptr<ServerCertificate> self_signed(const std::vector<std::string>& names,
                                                        std::string& error);

  // Any thread.
  std::shared_ptr<boost::asio::ssl::context> context() const;
  std::string fingerprint()
      const;  // SHA-256 of the current certificate, "AB:CD:..." (certificate_fingerprint.h)
  // Where the certificate comes from, for log lines: "the files cert.pem and key.pem" or "a self-signed
  // certificate for localhost, 127.0.0.1".
  const std::string& origin() const { return origin_; }
  bool reloadable() const { return !cert_path_.empty(); }

  // Reads the files again (any thread). "" when new connections now get the new certificate, otherwise why
  // not (nothing to reload, or what from_files would say); then the old certificate stays.
  std::string reload();

 private:
  struct Loaded {
    std::shared_ptr<boost::asio::ssl::context> context;
    std::string fingerprint;
  };
  static Loaded load(const std::string& cert_path, const std::string& key_path, std::string& error);

  ServerCertificate(Loaded loaded, std::string origin, std::string cert_path, std::string key_path);

  const std::string origin_;
  const std::string cert_path_, key_path_;  // empty when generated
  mutable std::mutex mutex_;
  Loaded current_;
};

}  // namespace atrium::server
