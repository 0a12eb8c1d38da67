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

HttpResult http_get(const std::string& url,
                    std::chrono::milliseconds timeout = std::chrono::seconds(5));

}  // namespace ddnswatch::testing
