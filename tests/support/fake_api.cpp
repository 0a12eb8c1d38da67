#include "support/fake_api.h"

#include <cctype>
#include <ctime>
#include <stdexcept>

#include "support/pki.h"
#include "support/temp_dir.h"

namespace ddnswatch::testing {

TestCertificates::TestCertificates() {
  // Leaked on purpose: fakes may outlive any test-scoped owner until the process exits.
  static TempDir* dir = new TempDir();
  dir_ = dir->path().string();
  Pki pki(dir->path());
  ready_ = pki.make();
  log_ = pki.log();
}

const TestCertificates& TestCertificates::get() {
  static const TestCertificates certificates;
  return certificates;
}

exporters::TlsFiles TestCertificates::server() const {
  return exporters::TlsFiles{dir_ + "/fullchain.pem", dir_ + "/server.key"};
}

std::string TestCertificates::ca_file() const { return dir_ + "/ca.pem"; }

std::unique_ptr<Receiver> https_receiver(std::vector<std::string> paths,
                                         std::vector<std::string> methods) {
  const auto& certificates = TestCertificates::get();
  if (!certificates.ready()) {
    throw std::runtime_error("test certificates: " + certificates.log());
  }
  return std::make_unique<Receiver>(
      ReceiverOptions{std::move(paths), std::move(methods), certificates.server()});
}

std::string http_date(std::chrono::system_clock::time_point t) {
  const std::time_t seconds = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char text[64];
  const size_t n = std::strftime(text, sizeof text, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  return std::string(text, n);
}

std::optional<std::string> percent_decode(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out += text[i];
      continue;
    }
    if (i + 2 >= text.size() || !std::isxdigit(static_cast<unsigned char>(text[i + 1])) ||
        !std::isxdigit(static_cast<unsigned char>(text[i + 2]))) {
      return std::nullopt;
    }
    out += static_cast<char>(std::stoi(std::string(text.substr(i + 1, 2)), nullptr, 16));
    i += 2;
  }
  return out;
}

std::optional<std::vector<std::pair<std::string, std::string>>> query_pairs(
    std::string_view query) {
  std::vector<std::pair<std::string, std::string>> out;
  size_t start = 0;
  while (start < query.size()) {
    size_t end = query.find('&', start);
    if (end == std::string_view::npos) end = query.size();
    const std::string_view pair = query.substr(start, end - start);
    const size_t eq = pair.find('=');
    auto name = percent_decode(pair.substr(0, eq));
    auto value = percent_decode(eq == std::string_view::npos ? "" : pair.substr(eq + 1));
    if (!name || !value) return std::nullopt;
    out.emplace_back(std::move(*name), std::move(*value));
    start = end + 1;
  }
  return out;
}

std::map<std::string, std::string> parse_query(std::string_view query) {
  std::map<std::string, std::string> out;
  if (auto pairs = query_pairs(query)) {
    for (auto& [name, value] : *pairs) out[name] = value;
  }
  return out;
}

}  // namespace ddnswatch::testing
