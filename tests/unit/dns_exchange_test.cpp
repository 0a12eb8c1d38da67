// The DNS exchange and the RFC 2136 provider against a scripted fake server on loopback (UDP and
// TCP on one port), for what real servers will not do on demand: answers that are truncated,
// unsigned, tampered with, or meant for another query. Run under ASan in CI: the exchange's
// libuv handles must be closed and freed whatever way it ends.
#include "providers/dns_exchange.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/event_loop.h"
#include "net/http_client.h"
#include "providers/dns_wire.h"
#include "providers/provider.h"
#include "providers/rfc2136.h"
#include "providers/tsig.h"
#include "support/loop_runner.h"
#include "support/sockets.h"

namespace ddnswatch::providers {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using testing::kNoSocket;
using testing::Socket;

constexpr char kKeyName[] = "fake-key";
constexpr char kSecret[] = "c2VjcmV0LWtleS1mb3ItdGhlLXRzaWctdW5pdC10ZXN0cw==";
constexpr char kZone[] = "fake.test";

tsig::Key key() { return *tsig::Key::create(kKeyName, "hmac-sha256", kSecret); }

uint64_t now_unix() {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<seconds>(std::chrono::system_clock::now().time_since_epoch())
          .count());
}

/// A DNS server on 127.0.0.1 (UDP and TCP, one port) whose answers a test scripts: the handler
/// gets each request and returns the messages to send back (none: stay silent).
class FakeServer {
 public:
  using Handler = std::function<std::vector<std::string>(const std::string& request, bool tcp)>;

  explicit FakeServer(Handler handler) : handler_(std::move(handler)) {
    for (int attempt = 0; attempt < 20 && port_ == 0; ++attempt) bind_both();
    if (port_ != 0) thread_ = std::thread([this] { serve(); });
  }
  ~FakeServer() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    if (udp_ != kNoSocket) testing::close_socket(udp_);
    if (tcp_ != kNoSocket) testing::close_socket(tcp_);
  }
  FakeServer(const FakeServer&) = delete;
  FakeServer& operator=(const FakeServer&) = delete;

  uint16_t port() const { return port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  int udp_requests() const { return udp_requests_; }
  int tcp_requests() const { return tcp_requests_; }

 private:
  void bind_both() {
    Socket udp = testing::open_socket(SOCK_DGRAM);
    Socket tcp = testing::open_socket(SOCK_STREAM);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    auto* sa = reinterpret_cast<sockaddr*>(&addr);
    if (udp != kNoSocket && tcp != kNoSocket && ::bind(udp, sa, len) == 0 &&
        ::getsockname(udp, sa, &len) == 0 && ::bind(tcp, sa, len) == 0 && ::listen(tcp, 8) == 0) {
      udp_ = udp;
      tcp_ = tcp;
      port_ = ntohs(addr.sin_port);
      return;
    }
    if (udp != kNoSocket) testing::close_socket(udp);
    if (tcp != kNoSocket) testing::close_socket(tcp);
  }

  // Polls with a short timeout so the destructor's stop flag is seen promptly.
  void serve() {
    while (!stop_) {
      pollfd fds[2] = {{udp_, POLLIN, 0}, {tcp_, POLLIN, 0}};
      if (testing::poll_sockets(fds, 2, 20) <= 0) continue;
      if (fds[0].revents & POLLIN) serve_udp();
      if (fds[1].revents & POLLIN) serve_tcp();
    }
  }

  void serve_udp() {
    char buf[65536];
    sockaddr_in from{};
    socklen_t len = sizeof from;
    long n = testing::receive_from(udp_, buf, sizeof buf, &from, &len);
    if (n <= 0) return;
    ++udp_requests_;
    for (const std::string& reply : handler_(std::string(buf, static_cast<size_t>(n)), false)) {
      testing::send_to(udp_, reply, from, len);
    }
  }

  void serve_tcp() {
    Socket conn = ::accept(tcp_, nullptr, nullptr);
    if (conn == kNoSocket) return;
    testing::set_receive_timeout(conn, 2);
    std::string in;
    char buf[4096];
    auto framed_size = [&] {
      return 2 + ((static_cast<size_t>(static_cast<uint8_t>(in[0])) << 8) |
                  static_cast<uint8_t>(in[1]));
    };
    while (in.size() < 2 || in.size() < framed_size()) {
      long n = testing::receive(conn, buf, sizeof buf);
      if (n <= 0) {
        testing::close_socket(conn);
        return;
      }
      in.append(buf, static_cast<size_t>(n));
    }
    ++tcp_requests_;
    for (const std::string& reply : handler_(in.substr(2), true)) {
      std::string framed;
      dns::put16(framed, static_cast<uint16_t>(reply.size()));
      framed += reply;
      testing::send_bytes(conn, framed);
    }
    testing::close_socket(conn);
  }

  Handler handler_;
  Socket udp_ = kNoSocket;
  Socket tcp_ = kNoSocket;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> udp_requests_{0};
  std::atomic<int> tcp_requests_{0};
  std::thread thread_;
};

/// The answer a primary gives: the request's header and question, QR and AA set, `rcode`,
/// one A record per address; signed with `signer` (when given) over the request's MAC.
std::string answer(const std::string& request, std::vector<std::string> addresses,
                   uint16_t rcode = dns::kNoError, const tsig::Key* signer = nullptr) {
  auto found = tsig::find(request);
  // The header and the question (or zone) section; our requests never compress it.
  size_t end = dns::kHeaderSize;
  while (end < request.size() && request[end] != 0) end += 1 + static_cast<uint8_t>(request[end]);
  std::string out = request.substr(0, end + 5);
  out[2] = static_cast<char>(0x84 | (static_cast<uint8_t>(out[2]) & 0x78));  // QR, opcode, AA
  out[3] = static_cast<char>(rcode & 0xf);
  out[6] = 0;
  out[7] = static_cast<char>(addresses.size());
  out[8] = 0;
  out[9] = 0;
  out[10] = 0;
  out[11] = 0;
  for (const std::string& a : addresses) {
    out += std::string("\xc0\x0c", 2);
    dns::put16(out, dns::kTypeA);
    dns::put16(out, dns::kClassIn);
    dns::put32(out, 60);
    dns::put16(out, 4);
    unsigned char raw[4];
    inet_pton(AF_INET, a.c_str(), raw);
    out.append(reinterpret_cast<const char*>(raw), 4);
  }
  if (signer != nullptr && found && *found) {
    out = tsig::sign_response(out, *signer, (*found)->mac, now_unix()).message;
  }
  return out;
}

bool is_update(const std::string& request) {
  auto h = dns::parse_header(request);
  return h && h->opcode == dns::kOpcodeUpdate;
}

class FakeServerTest : public ::testing::Test {
 protected:
  FakeServerTest()
      : loop_(std::move(*EventLoop::create())),
        http_(std::move(*net::HttpClient::create(*loop_))) {}

  std::unique_ptr<Provider> provider(const FakeServer& server,
                                     ExchangeOptions options = {milliseconds(500), 2}) {
    config::Rfc2136Provider c;
    c.zone = kZone;
    c.server = server.address();
    c.key_name = kKeyName;
    c.key_algorithm = "hmac-sha256";
    c.key_secret = Secret(kSecret);
    auto p = make_rfc2136_provider(c, ProviderContext{*loop_, *http_, clock_}, options);
    EXPECT_TRUE(p) << p.error().message;
    return p ? std::move(*p) : nullptr;
  }

  std::optional<Reconciliation> reconcile(Provider& p, std::vector<std::string> addresses) {
    Desired d;
    d.name = std::string("host.") + kZone;
    d.addresses = std::move(addresses);
    std::optional<Reconciliation> result;
    p.reconcile(d, [&](Reconciliation r) { result = std::move(r); });
    testing::run_loop_until(
        *loop_, [&] { return result.has_value(); }, seconds(10));
    return result;
  }

  std::optional<Result<ExchangeReply>> exchange(const FakeServer& server, std::string request,
                                                ExchangeOptions options = {milliseconds(300), 2}) {
    std::optional<Result<ExchangeReply>> result;
    auto address = *parse_server_address(server.address());
    auto x = DnsExchange::start(*loop_, address, std::move(request), options,
                                [&](Result<ExchangeReply> r) { result = std::move(r); });
    testing::run_loop_until(
        *loop_, [&] { return result.has_value(); }, seconds(10));
    return result;
  }

  SystemClock clock_;
  std::unique_ptr<EventLoop> loop_;
  std::unique_ptr<net::HttpClient> http_;
};

// --- the exchange ---

TEST(ServerAddressTest, Parses) {
  EXPECT_EQ(parse_server_address("127.0.0.1")->to_string(), "127.0.0.1:53");
  EXPECT_EQ(parse_server_address("127.0.0.1:5353")->port, 5353);
  EXPECT_EQ(parse_server_address("::1")->to_string(), "[::1]:53");
  EXPECT_EQ(parse_server_address("[2001:db8::1]:99")->to_string(), "[2001:db8::1]:99");
  EXPECT_FALSE(parse_server_address("ns1.example.com"));
  EXPECT_FALSE(parse_server_address("127.0.0.1:0"));
  EXPECT_FALSE(parse_server_address("127.0.0.1:70000"));
  EXPECT_FALSE(parse_server_address("127.0.0.1:"));
  EXPECT_FALSE(parse_server_address("[::1"));
}

TEST_F(FakeServerTest, FallsBackToTcpWhenTruncated) {
  FakeServer server([](const std::string& request, bool tcp) {
    std::string reply = answer(request, {"192.0.2.1"});
    if (!tcp) reply[2] = static_cast<char>(reply[2] | 0x02);  // TC
    return std::vector<std::string>{reply};
  });
  ASSERT_NE(server.port(), 0);
  auto r = exchange(server, *dns::build_query(42, "host.fake.test", dns::kTypeA));
  ASSERT_TRUE(r && *r) << (r ? (*r).error().message : "no result");
  EXPECT_TRUE((*r)->tcp);
  EXPECT_EQ(server.tcp_requests(), 1);
  auto parsed = dns::parse_message((*r)->message);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->answers.size(), 1u);
}

TEST_F(FakeServerTest, IgnoresAnswersToOtherQueries) {
  FakeServer server([](const std::string& request, bool) {
    std::string stray = answer(request, {"198.51.100.66"});
    stray[1] = static_cast<char>(stray[1] ^ 0x55);  // another id
    return std::vector<std::string>{stray, answer(request, {"192.0.2.1"})};
  });
  auto r = exchange(server, *dns::build_query(42, "host.fake.test", dns::kTypeA));
  ASSERT_TRUE(r && *r) << (r ? (*r).error().message : "no result");
  auto parsed = dns::parse_message((*r)->message);
  ASSERT_TRUE(parsed && parsed->answers.size() == 1);
  EXPECT_EQ(parsed->answers[0].rdata, std::string("\xc0\x00\x02\x01", 4));
}

TEST_F(FakeServerTest, RetriesThenGivesUp) {
  FakeServer server([](const std::string&, bool) { return std::vector<std::string>{}; });
  auto started = std::chrono::steady_clock::now();
  auto r = exchange(server, *dns::build_query(42, "host.fake.test", dns::kTypeA),
                    {milliseconds(100), 3});
  ASSERT_TRUE(r);
  ASSERT_FALSE(*r);
  EXPECT_NE(r->error().message.find("3 tries"), std::string::npos) << r->error().message;
  EXPECT_GE(std::chrono::steady_clock::now() - started, milliseconds(290));
  EXPECT_TRUE(testing::run_loop_until(
      *loop_, [&] { return server.udp_requests() == 3; }, seconds(2)));
}

TEST_F(FakeServerTest, SecondTryIsAnswered) {
  std::atomic<int> seen{0};
  FakeServer server([&](const std::string& request, bool) {
    if (++seen == 1) return std::vector<std::string>{};  // the first datagram is "lost"
    return std::vector<std::string>{answer(request, {"192.0.2.1"})};
  });
  auto r = exchange(server, *dns::build_query(42, "host.fake.test", dns::kTypeA),
                    {milliseconds(200), 2});
  ASSERT_TRUE(r && *r) << (r ? (*r).error().message : "no result");
  EXPECT_EQ(server.udp_requests(), 2);
}

TEST_F(FakeServerTest, DestroyedInsideItsOwnCallback) {
  FakeServer server([](const std::string& request, bool) {
    return std::vector<std::string>{answer(request, {})};
  });
  std::unique_ptr<DnsExchange> x;
  bool called = false;
  x = DnsExchange::start(*loop_, *parse_server_address(server.address()),
                         *dns::build_query(1, "a.fake.test", dns::kTypeA), {seconds(1), 1},
                         [&](Result<ExchangeReply>) {
                           called = true;
                           x.reset();
                         });
  EXPECT_TRUE(testing::run_loop_until(
      *loop_, [&] { return called; }, seconds(5)));
  EXPECT_EQ(x, nullptr);
}

// --- the provider's checks of what comes back ---

TEST_F(FakeServerTest, SignedAnswerWithTheAddressIsUnchanged) {
  tsig::Key k = key();
  FakeServer server([&](const std::string& request, bool) {
    return std::vector<std::string>{answer(request, {"192.0.2.1"}, dns::kNoError, &k)};
  });
  auto p = provider(server);
  auto r = reconcile(*p, {"192.0.2.1"});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->outcome, Outcome::kUnchanged) << r->message;
}

TEST_F(FakeServerTest, UnsignedAnswerIsNotBelieved) {
  FakeServer server([](const std::string& request, bool) {
    return std::vector<std::string>{answer(request, {"192.0.2.1"})};
  });
  auto p = provider(server);
  auto r = reconcile(*p, {"192.0.2.1"});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->outcome, Outcome::kRejected) << r->message;
  EXPECT_NE(r->message.find("not signed with our key"), std::string::npos) << r->message;
}

TEST_F(FakeServerTest, TamperedAnswerIsNotBelieved) {
  tsig::Key k = key();
  FakeServer server([&](const std::string& request, bool) {
    std::string reply = answer(request, {"192.0.2.1"}, dns::kNoError, &k);
    // The address in the answer, changed after signing.
    size_t at = reply.find(std::string("\xc0\x00\x02\x01", 4));
    reply[at + 3] = 2;
    return std::vector<std::string>{reply};
  });
  auto p = provider(server);
  auto r = reconcile(*p, {"192.0.2.2"});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->outcome, Outcome::kRejected) << r->message;
  EXPECT_NE(r->message.find("not signed with our key"), std::string::npos) << r->message;
}

TEST_F(FakeServerTest, UnsignedUpdateSuccessIsNotSuccess) {
  // The read is answered properly; the update's NOERROR comes back without a signature.
  tsig::Key k = key();
  FakeServer server([&](const std::string& request, bool) {
    if (is_update(request)) return std::vector<std::string>{answer(request, {})};
    return std::vector<std::string>{answer(request, {"192.0.2.1"}, dns::kNoError, &k)};
  });
  auto p = provider(server);
  auto r = reconcile(*p, {"192.0.2.9"});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->outcome, Outcome::kRejected) << r->message;
  EXPECT_NE(r->message.find("not signed with our key"), std::string::npos) << r->message;
  EXPECT_EQ(r->before, std::vector<std::string>{"192.0.2.1"});
}

TEST_F(FakeServerTest, SignedUpdateIsUpdated) {
  tsig::Key k = key();
  std::atomic<int> updates{0};
  FakeServer server([&](const std::string& request, bool) {
    if (is_update(request)) {
      ++updates;
      return std::vector<std::string>{answer(request, {}, dns::kNoError, &k)};
    }
    return std::vector<std::string>{answer(request, {}, dns::kNxDomain, &k)};
  });
  auto p = provider(server);
  auto r = reconcile(*p, {"192.0.2.9"});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->outcome, Outcome::kUpdated) << r->message;
  EXPECT_TRUE(r->before.empty());
  EXPECT_EQ(updates, 1);
}

TEST_F(FakeServerTest, ServfailIsAFailureToRetry) {
  tsig::Key k = key();
  FakeServer server([&](const std::string& request, bool) {
    if (is_update(request)) {
      return std::vector<std::string>{answer(request, {}, dns::kServFail, &k)};
    }
    return std::vector<std::string>{answer(request, {}, dns::kNxDomain, &k)};
  });
  auto p = provider(server);
  auto r = reconcile(*p, {"192.0.2.9"});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->outcome, Outcome::kFailed) << r->message;
}

TEST_F(FakeServerTest, BadConfigIsAnErrorNotAProvider) {
  config::Rfc2136Provider c;
  c.zone = kZone;
  c.server = "ns1.example.com";
  c.key_name = kKeyName;
  c.key_secret = Secret(kSecret);
  SystemClock clock;
  EXPECT_FALSE(make_rfc2136_provider(c, ProviderContext{*loop_, *http_, clock}));
  c.server = "127.0.0.1";
  c.key_secret = Secret("s3cr3t!value");
  auto bad = make_rfc2136_provider(c, ProviderContext{*loop_, *http_, clock});
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message.find("s3cr3t"), std::string::npos) << "the secret leaked";
  c.key_secret = Secret(kSecret);
  c.key_algorithm = "hmac-md5";
  EXPECT_FALSE(make_rfc2136_provider(c, ProviderContext{*loop_, *http_, clock}));
}

TEST_F(FakeServerTest, NameOutsideTheZoneIsRejectedLater) {
  FakeServer server([](const std::string&, bool) { return std::vector<std::string>{}; });
  auto p = provider(server);
  Desired d;
  d.name = "host.elsewhere.test";
  d.addresses = {"192.0.2.1"};
  std::optional<Reconciliation> result;
  bool inside = true;
  bool inline_call = false;
  p->reconcile(d, [&](Reconciliation r) {
    inline_call = inside;
    result = std::move(r);
  });
  inside = false;
  testing::run_loop_until(
      *loop_, [&] { return result.has_value(); }, seconds(5));
  ASSERT_TRUE(result);
  EXPECT_FALSE(inline_call);
  EXPECT_EQ(result->outcome, Outcome::kRejected);
  EXPECT_EQ(server.udp_requests(), 0);
}

TEST(MakeProviderTest, MakesEveryKind) {
  auto loop = std::move(*EventLoop::create());
  auto http = std::move(*net::HttpClient::create(*loop));
  SystemClock clock;
  config::ProviderConfig c;
  c.settings = config::CloudflareProvider{"example.com", Secret("token")};
  auto cloudflare = make_provider(c, ProviderContext{*loop, *http, clock});
  ASSERT_TRUE(cloudflare) << cloudflare.error().message;
  EXPECT_EQ((*cloudflare)->kind(), "cloudflare");
  c.settings = config::CloudflareProvider{};
  auto no_zone = make_provider(c, ProviderContext{*loop, *http, clock});
  ASSERT_FALSE(no_zone);
  EXPECT_EQ(no_zone.error().message, "zone \"\" is not a DNS name");
  c.settings = config::Dyndns2Provider{"https://members.example.net", "user", Secret("pw")};
  auto dyndns2 = make_provider(c, ProviderContext{*loop, *http, clock});
  ASSERT_TRUE(dyndns2) << dyndns2.error().message;
  EXPECT_EQ((*dyndns2)->kind(), "dyndns2");
  c.settings = config::Dyndns2Provider{"https://members.example.net", "us:er", Secret("pw")};
  EXPECT_FALSE(make_provider(c, ProviderContext{*loop, *http, clock}));
  c.settings = config::AlidnsProvider{"example.com", "id", Secret("secret")};
  auto alidns = make_provider(c, ProviderContext{*loop, *http, clock});
  ASSERT_TRUE(alidns) << alidns.error().message;
  EXPECT_EQ((*alidns)->kind(), "alidns");
  c.settings = config::DnspodProvider{"example.com", "id", Secret("secret")};
  auto dnspod = make_provider(c, ProviderContext{*loop, *http, clock});
  ASSERT_TRUE(dnspod) << dnspod.error().message;
  EXPECT_EQ((*dnspod)->kind(), "dnspod");
  c.settings =
      config::PowerdnsProvider{"example.com", "http://127.0.0.1:8081", "localhost", Secret("k")};
  auto powerdns = make_provider(c, ProviderContext{*loop, *http, clock});
  ASSERT_TRUE(powerdns) << powerdns.error().message;
  EXPECT_EQ((*powerdns)->kind(), "powerdns");
  EXPECT_STREQ(to_string(Outcome::kRateLimited), "rate_limited");
}

}  // namespace
}  // namespace ddnswatch::providers
