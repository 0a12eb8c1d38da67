#include "support/pki.h"

#include <fstream>
#include <sstream>

#include "support/lab.h"
#include "support/process.h"

namespace ddnswatch::testing {

Pki::Pki(std::filesystem::path dir) : dir_(std::move(dir)) {
  std::filesystem::create_directories(dir_);
}

std::string Pki::at(const std::string& name) const { return (dir_ / name).string(); }

bool Pki::openssl(std::vector<std::string> args) {
  static const std::filesystem::path program = find_program("openssl");
  if (program.empty()) {
    log_ += "openssl is not on $PATH: scripts/install-deps.sh installs it\n";
    return false;
  }
  args.insert(args.begin(), program.string());
  auto r = run_command(args, dir_, std::chrono::seconds(30));
  if (r.code != 0) log_ += r.out + r.err;
  return r.code == 0;
}

bool Pki::make_key(const std::string& name) {
  return openssl(
      {"genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", at(name)});
}

void Pki::write(const std::string& name, const std::string& text) {
  std::filesystem::create_directories(std::filesystem::path(at(name)).parent_path());
  std::ofstream(at(name), std::ios::binary) << text;
}

bool Pki::concatenate(const std::vector<std::string>& parts, const std::string& target) {
  std::string all;
  for (const auto& part : parts) {
    std::ifstream in(at(part), std::ios::binary);
    if (!in) {
      log_ += "cannot read " + part + "\n";
      return false;
    }
    std::ostringstream text;
    text << in.rdbuf();
    all += text.str();
  }
  write(target, all);
  return true;
}

bool Pki::make(const std::string& prefix, const std::string& name) {
  const std::string p = at(prefix);
  write(prefix + "ca.ext", "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign\n");
  write(prefix + "server.ext",
        "basicConstraints=CA:FALSE\nsubjectAltName=IP:127.0.0.1\n"
        "extendedKeyUsage=serverAuth\n");
  return make_key(prefix + name + ".key") &&
         openssl({"req", "-x509", "-new", "-key", p + name + ".key", "-subj",
                  "/CN=ddnswatch test " + name, "-days", "2", "-out", p + name + ".pem"}) &&
         make_key(prefix + "intermediate.key") &&
         openssl({"req", "-new", "-key", p + "intermediate.key", "-subj",
                  "/CN=ddnswatch test intermediate", "-out", p + "intermediate.csr"}) &&
         openssl({"x509", "-req", "-in", p + "intermediate.csr", "-CA", p + name + ".pem", "-CAkey",
                  p + name + ".key", "-CAcreateserial", "-days", "2", "-extfile", p + "ca.ext",
                  "-out", p + "intermediate.pem"}) &&
         make_key(prefix + "server.key") &&
         openssl({"req", "-new", "-key", p + "server.key", "-subj", "/CN=127.0.0.1", "-out",
                  p + "server.csr"}) &&
         openssl({"x509", "-req", "-in", p + "server.csr", "-CA", p + "intermediate.pem", "-CAkey",
                  p + "intermediate.key", "-CAcreateserial", "-days", "2", "-extfile",
                  p + "server.ext", "-out", p + "server.pem"}) &&
         concatenate({prefix + "server.pem", prefix + "intermediate.pem"},
                     prefix + "fullchain.pem");
}

bool Pki::make_bad_servers(const std::string& prefix, const std::string& name) {
  const std::string p = at(prefix);
  // `openssl ca` is the command line's only way to a validity period in the past.
  write(prefix + "expired.cnf",
        "[ca]\ndefault_ca = ca_section\n[ca_section]\ndatabase = " + p +
            "index.txt\nnew_certs_dir = " + p + ".\nserial = " + p +
            "serial\ndefault_md = sha256\npolicy = policy_any\n"
            "copy_extensions = copy\n[policy_any]\ncommonName = supplied\n");
  write(prefix + "index.txt", "");
  write(prefix + "serial", "1000\n");
  write(prefix + "wrong-host.ext",
        "basicConstraints=CA:FALSE\nsubjectAltName=DNS:elsewhere.invalid\n"
        "extendedKeyUsage=serverAuth\n");
  return openssl({"req", "-new", "-key", p + "server.key", "-subj", "/CN=127.0.0.1", "-addext",
                  "subjectAltName=IP:127.0.0.1", "-out", p + "expired.csr"}) &&
         openssl({"ca", "-batch", "-notext", "-config", p + "expired.cnf", "-cert",
                  p + name + ".pem", "-keyfile", p + name + ".key", "-startdate", "20200101000000Z",
                  "-enddate", "20200102000000Z", "-in", p + "expired.csr", "-out",
                  p + "expired.pem"}) &&
         openssl({"req", "-new", "-key", p + "server.key", "-subj", "/CN=elsewhere.invalid", "-out",
                  p + "wrong-host.csr"}) &&
         openssl({"x509", "-req", "-in", p + "wrong-host.csr", "-CA", p + name + ".pem", "-CAkey",
                  p + name + ".key", "-CAcreateserial", "-days", "2", "-extfile",
                  p + "wrong-host.ext", "-out", p + "wrong-host.pem"}) &&
         openssl({"req", "-x509", "-new", "-key", p + "server.key", "-subj", "/CN=127.0.0.1",
                  "-addext", "subjectAltName=IP:127.0.0.1", "-days", "2", "-out",
                  p + "self-signed.pem"});
}

}  // namespace ddnswatch::testing
