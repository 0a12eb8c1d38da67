// An HTTP/1.1 server for tests that misbehaves on purpose, on 127.0.0.1 and a run-time port:
// each request is answered as its path's first segment says ("/endless/client/v4/zones" streams
// a body that never ends), so an API base URL of "http://127.0.0.1:PORT/MODE" makes every call
// of a provider or an IP source meet that misbehaviour. One thread per connection; the
// destructor ends them all.
#pragma once

#include <atomic>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace ddnswatch::testing {

/// The path segments the server knows. Anything else gets 404.
///   ip           200 text/plain "198.51.100.7": the one honest answer
///   html         200 text/html: an error page where JSON or an address was expected
///   half-json    200 application/json: the first half of a JSON document
///   503          503 with a text body
///   429-seconds  429 with "Retry-After: 120"
///   429-date     429 with Retry-After as an HTTP-date two minutes ahead
///   endless      200 with a chunked body that never ends (as fast as the client reads)
///   trickle      200 with a chunked body of one byte every 50 ms, forever
///   unfulfilled  Content-Length: 1000, then 10 bytes and silence
///   huge         a 4 MiB body with its Content-Length
///   silent       accepts, reads the request, never answers
class HostileHttpServer {
 public:
  HostileHttpServer();
  ~HostileHttpServer();
  HostileHttpServer(const HostileHttpServer&) = delete;
  HostileHttpServer& operator=(const HostileHttpServer&) = delete;

  bool ok() const { return listener_ >= 0; }
  uint16_t port() const { return port_; }
  /// "http://127.0.0.1:PORT/MODE".
  std::string url(const std::string& mode) const;
  /// Requests received whose path starts with "/MODE".
  int requests(const std::string& mode) const;

 private:
  void accept_loop();
  void serve(int fd);

  int listener_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread acceptor_;
  mutable std::mutex mutex_;
  std::vector<std::thread> connections_;
  std::map<std::string, int> requests_;
};

}  // namespace ddnswatch::testing
