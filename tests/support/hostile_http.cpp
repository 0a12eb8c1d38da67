#include "support/hostile_http.h"

#include <fmt/format.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>

#include "support/fake_api.h"

namespace ddnswatch::testing {
namespace {

constexpr int kPollMs = 20;

std::string response(const std::string& status, const std::string& type, const std::string& body,
                     const std::string& extra_headers = "") {
  return fmt::format(
      "HTTP/1.1 {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\n{}\r\n{}",
      status, type, body.size(), extra_headers, body);
}

}  // namespace

HostileHttpServer::HostileHttpServer() {
  listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
  if (listener_ < 0) return;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof addr;
  if (::bind(listener_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(listener_, 64) != 0 ||
      ::getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &length) != 0) {
    ::close(listener_);
    listener_ = -1;
    return;
  }
  port_ = ntohs(addr.sin_port);
  acceptor_ = std::thread([this] { accept_loop(); });
}

HostileHttpServer::~HostileHttpServer() {
  stop_ = true;
  if (acceptor_.joinable()) acceptor_.join();
  for (auto& t : connections_) t.join();
  if (listener_ >= 0) ::close(listener_);
}

std::string HostileHttpServer::url(const std::string& mode) const {
  return fmt::format("http://127.0.0.1:{}/{}", port_, mode);
}

int HostileHttpServer::requests(const std::string& mode) const {
  std::lock_guard lock(mutex_);
  auto it = requests_.find(mode);
  return it == requests_.end() ? 0 : it->second;
}

void HostileHttpServer::accept_loop() {
  while (!stop_) {
    pollfd p{listener_, POLLIN, 0};
    if (::poll(&p, 1, kPollMs) <= 0) continue;
    const int fd = ::accept(listener_, nullptr, nullptr);
    if (fd < 0) continue;
    std::lock_guard lock(mutex_);
    connections_.emplace_back([this, fd] {
      serve(fd);
      ::close(fd);
    });
  }
}

void HostileHttpServer::serve(int fd) {
  // Everything below gives up when the server stops or the peer goes away.
  auto send_all = [&](const std::string& data) {
    size_t sent = 0;
    while (sent < data.size() && !stop_) {
      pollfd p{fd, POLLOUT, 0};
      if (::poll(&p, 1, kPollMs) <= 0) continue;
      const ssize_t n =
          ::send(fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n <= 0) return false;
      sent += static_cast<size_t>(n);
    }
    return sent == data.size();
  };
  // Reads what arrives next; false once the peer closed or the server stops.
  std::string in;
  auto read_more = [&]() {
    while (!stop_) {
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, kPollMs) <= 0) continue;
      char buffer[4096];
      const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
      if (n <= 0) return false;
      in.append(buffer, static_cast<size_t>(n));
      return true;
    }
    return false;
  };
  auto hold = [&] {
    while (read_more()) {
    }
  };

  size_t header_end = std::string::npos;
  while ((header_end = in.find("\r\n\r\n")) == std::string::npos) {
    if (!read_more()) return;
  }
  // The body, so that closing does not reset the connection under an unread request.
  size_t body_length = 0;
  const std::string head = in.substr(0, header_end);
  for (const char* name : {"Content-Length: ", "content-length: "}) {
    if (const size_t at = head.find(name); at != std::string::npos) {
      body_length =
          std::strtoul(head.c_str() + at + std::char_traits<char>::length(name), nullptr, 10);
    }
  }
  while (in.size() < header_end + 4 + body_length) {
    if (!read_more()) return;
  }
  const size_t path_at = head.find(' ') + 1;
  const std::string path = head.substr(path_at, head.find(' ', path_at) - path_at);
  const size_t mode_end = path.find_first_of("/?", 1);
  const std::string mode = path.substr(1, mode_end == std::string::npos ? mode_end : mode_end - 1);
  {
    std::lock_guard lock(mutex_);
    ++requests_[mode];
  }

  if (mode == "ip") {
    send_all(response("200 OK", "text/plain", "198.51.100.7\n"));
  } else if (mode == "html") {
    send_all(response("200 OK", "text/html",
                      "<!DOCTYPE html><html><head><title>Site maintenance</title></head>"
                      "<body><h1>We'll be back soon</h1></body></html>"));
  } else if (mode == "half-json") {
    send_all(response("200 OK", "application/json",
                      R"({"success": true, "result": [{"id": "372e67954025e0ba6aaa6d586b9e0b59",)"
                      R"( "type": "A", "content": "19)"));
  } else if (mode == "503") {
    send_all(response("503 Service Unavailable", "text/plain", "upstream unavailable\n"));
  } else if (mode == "429-seconds") {
    send_all(
        response("429 Too Many Requests", "text/plain", "slow down\n", "Retry-After: 120\r\n"));
  } else if (mode == "429-date") {
    const auto when = std::chrono::system_clock::now() + std::chrono::minutes(2);
    send_all(response("429 Too Many Requests", "text/plain", "slow down\n",
                      "Retry-After: " + http_date(when) + "\r\n"));
  } else if (mode == "endless" || mode == "trickle") {
    if (!send_all("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                  "Transfer-Encoding: chunked\r\n\r\n")) {
      return;
    }
    const std::string chunk = mode == "endless"
                                  ? fmt::format("4000\r\n{}\r\n", std::string(0x4000, '7'))
                                  : std::string("1\r\n7\r\n");
    while (!stop_ && send_all(chunk)) {
      if (mode == "trickle") std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  } else if (mode == "unfulfilled") {
    if (send_all("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 1000\r\n\r\n"
                 "198.51.100")) {
      hold();
    }
  } else if (mode == "huge") {
    constexpr size_t kSize = 4 << 20;
    if (!send_all(fmt::format("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                              "Content-Length: {}\r\n\r\n",
                              kSize))) {
      return;
    }
    const std::string piece(1 << 16, '7');
    for (size_t sent = 0; sent < kSize && send_all(piece); sent += piece.size()) {
    }
  } else if (mode == "silent") {
    hold();
  } else {
    send_all(response("404 Not Found", "text/plain", "no such mode\n"));
  }
}

}  // namespace ddnswatch::testing
