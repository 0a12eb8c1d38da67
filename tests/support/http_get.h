// A minimal HTTP GET for tests (libcurl), with a timeout.
#pragma once

#include <chrono>
#include <map>
#include <string>

namespace ddnswatch::testing {

struct HttpResult {
  long status = 0;  // 0: no answer (connection refused, timeout)
  std::string body;
  std::map<std::string, std::string> headers;  // names in lower case
  std::string error;
};

/// With `gzip`, asks for a gzip body (Accept-Encoding: gzip) and decodes it; the headers
/// still say how it came (content-encoding). `user_password` ("user:password") sends HTTP
/// basic auth. For https:// URLs, `ca_file` (PEM) is the only trust anchor when given; the
/// server's certificate and name are always verified.
HttpResult http_get(const std::string& url,
                    std::chrono::milliseconds timeout = std::chrono::seconds(5), bool gzip = false,
                    const std::string& user_password = "", const std::string& ca_file = "");

}  // namespace ddnswatch::testing
