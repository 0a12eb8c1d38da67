// Test certificates made at run time with the openssl command line: a root CA, an
// intermediate and a server certificate for IP 127.0.0.1, as an operator's PKI would be. Tests
// hand the root to the client side (ca_file) and the chain and key to the server side.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace ddnswatch::testing {

class Pki {
 public:
  /// Works in `dir` (created if missing); nothing is made until make() or make_key().
  explicit Pki(std::filesystem::path dir);

  /// Under `prefix` (relative to the folder): NAME.pem (a root CA), intermediate.pem,
  /// server.key, server.pem and fullchain.pem (the server certificate for IP 127.0.0.1, then
  /// the intermediate that signed it). False on failure; log() says why.
  bool make(const std::string& prefix = "", const std::string& name = "ca");

  /// Server certificates that fail verification, for server.key, after make(prefix, name):
  /// expired.pem (signed by the CA, valid for one day in 2020), wrong-host.pem (signed by the
  /// CA, for the DNS name elsewhere.invalid only) and self-signed.pem (for IP 127.0.0.1).
  bool make_bad_servers(const std::string& prefix = "", const std::string& name = "ca");

  /// A P-256 key at `name`.
  bool make_key(const std::string& name);

  /// Runs the openssl command line; false (with the output in log()) if it fails.
  bool openssl(std::vector<std::string> args);

  /// The absolute path of `name` in the folder.
  std::string at(const std::string& name) const;

  const std::string& log() const { return log_; }

 private:
  bool concatenate(const std::vector<std::string>& parts, const std::string& target);
  void write(const std::string& name, const std::string& text);

  std::filesystem::path dir_;
  std::string log_;
};

}  // namespace ddnswatch::testing
