// The DynDNS2 provider against a fake service on loopback, over HTTPS with a test CA. The fake
// checks what services check (the path, Basic auth, a User-Agent of the "Company - Model -
// Version" form, hostname and myip) and answers with the protocol's status lines, as a script
// says, or by keeping the address it was last given.
#include "providers/dyndns2.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include "core/crypto.h"
#include "support/fake_api.h"
#include "support/provider_harness.h"
#include "support/receiver.h"
#include "support/temp_dir.h"

namespace ddnswatch {
namespace {

using exporters::HttpRequest;
using exporters::HttpResponse;
using providers::Outcome;
using std::chrono::minutes;
using std::chrono::seconds;
using testing::contains;
using testing::describe;
using testing::desired;

constexpr char kUser[] = "home-router";
constexpr char kPassword[] = "dyn-pass-Zr4wQ9tL";
constexpr char kHost[] = "home.dyn.example.net";

bool is_address(const std::string& text) {
  unsigned char raw[16];
  return inet_pton(AF_INET, text.c_str(), raw) == 1 || inet_pton(AF_INET6, text.c_str(), raw) == 1;
}

HttpResponse text(int status, std::string body) {
  return HttpResponse{status, "text/plain", std::move(body), {}};
}

/// A DynDNS2 service with one account and one host. Requests arrive on the receiver's threads.
class FakeDyndns2 {
 public:
  /// Answers in place of the service's logic once the checks pass (a status line to script).
  void answer_with(std::function<HttpResponse(const std::string& myip)> answer) {
    std::lock_guard lock(mutex_);
    answer_ = std::move(answer);
  }
  std::optional<std::string> held() const {
    std::lock_guard lock(mutex_);
    return held_;
  }

  HttpResponse handle(const HttpRequest& req) {
    std::lock_guard lock(mutex_);
    if (req.method != "GET" || req.path != "/nic/update") return text(404, "not found\n");
    auto auth = req.headers.find("authorization");
    const std::string expected = "Basic " + base64_encode(std::string(kUser) + ":" + kPassword);
    if (auth == req.headers.end() || auth->second != expected) {
      return HttpResponse{401,
                          "text/plain",
                          "badauth\n",
                          {{"WWW-Authenticate", "Basic realm=\"DynDNS API Access\""}}};
    }
    auto agent = req.headers.find("user-agent");
    static const std::regex kAgentForm(R"(^[^-\s][^-]* - [^-]+ - [^-]*[^-\s]$)");
    if (agent == req.headers.end() || !std::regex_match(agent->second, kAgentForm)) {
      return text(200, "badagent\n");
    }
    auto query = testing::parse_query(req.query);
    if (!query.count("hostname") || query["hostname"].empty()) return text(200, "notfqdn\n");
    if (query["hostname"] != kHost) return text(200, "nohost\n");
    if (!query.count("myip") || !is_address(query["myip"])) return text(200, "dnserr\n");
    const std::string ip = query["myip"];
    if (answer_) return answer_(ip);
    const bool same = held_ && *held_ == ip;
    held_ = ip;
    return text(200, (same ? "nochg " : "good ") + ip + "\r\n");
  }

 private:
  mutable std::mutex mutex_;
  std::optional<std::string> held_;
  std::function<HttpResponse(const std::string&)> answer_;
};

class Dyndns2Test : public ::testing::Test {
 protected:
  void SetUp() override {
    receiver_ = testing::https_receiver({"/**"}, {"GET"});
    receiver_->set_handler([this](const HttpRequest& req) { return fake_.handle(req); });
  }

  config::ProviderConfig config(const std::string& password = kPassword) const {
    config::ProviderConfig c;
    c.settings = config::Dyndns2Provider{receiver_->url("/"), kUser, Secret(password)};
    c.ca_file = testing::TestCertificates::get().ca_file();
    return c;
  }

  static bool make(testing::ProviderHarness& h, const config::ProviderConfig& c) {
    return h.make_with([&](providers::ProviderContext context) {
      return providers::make_dyndns2_provider(std::get<config::Dyndns2Provider>(c.settings), c,
                                              context);
    });
  }

  /// One reconcile with a fresh provider; the password is never in the message.
  std::optional<providers::Reconciliation> run(const providers::Desired& d,
                                               const config::ProviderConfig& c) {
    testing::ProviderHarness h;
    if (!make(h, c)) {
      ADD_FAILURE() << h.error;
      return std::nullopt;
    }
    auto r = h.reconcile(d);
    if (r) {
      EXPECT_FALSE(contains(r->message, kPassword)) << "the password must never be shown";
    }
    return r;
  }
  std::optional<providers::Reconciliation> run(const providers::Desired& d) {
    return run(d, config());
  }

  static providers::Desired held(providers::Desired d, std::vector<std::string> addresses) {
    d.held = std::move(addresses);
    return d;
  }

  FakeDyndns2 fake_;
  std::unique_ptr<testing::Receiver> receiver_;
};

TEST_F(Dyndns2Test, GoodIsAnUpdateAndTheRequestHasTheProtocolsForm) {
  auto r = run(desired(kHost, {"192.0.2.1"}, config::RecordType::kA, 300));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->outcome, Outcome::kUpdated) << describe(r);
  EXPECT_EQ(fake_.held(), "192.0.2.1");
  auto requests = receiver_->requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].path, "/nic/update");
  EXPECT_EQ(requests[0].query, "hostname=home.dyn.example.net&myip=192.0.2.1");
  EXPECT_EQ(requests[0].headers.at("authorization"),
            "Basic " + base64_encode(std::string(kUser) + ":" + kPassword));
  EXPECT_TRUE(std::regex_match(requests[0].headers.at("user-agent"),
                               std::regex(R"(ddnswatch - ddnswatch - \d+\.\d+\.\d+.*)")))
      << requests[0].headers.at("user-agent");
}

TEST_F(Dyndns2Test, AnIpv6AddressIsSentAsMyip) {
  auto r = run(desired(kHost, {"2001:DB8:0::7"}, config::RecordType::kAAAA));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->outcome, Outcome::kUpdated) << describe(r);
  EXPECT_EQ(fake_.held(), "2001:db8::7");
}

TEST_F(Dyndns2Test, WhatWasLastSetIsNotSentAgain) {
  auto r = run(held(desired(kHost, {"192.0.2.2"}), {"192.0.2.2"}));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->outcome, Outcome::kUnchanged) << describe(r);
  EXPECT_EQ(r->before, std::vector<std::string>{"192.0.2.2"});
  EXPECT_TRUE(contains(r->message, "not sent again")) << r->message;
  EXPECT_TRUE(receiver_->requests().empty()) << "a repeated nochg gets accounts blocked";
}

TEST_F(Dyndns2Test, ANewAddressIsSentAndTheOldOneReported) {
  auto r = run(held(desired(kHost, {"192.0.2.3"}), {"198.51.100.3"}));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->outcome, Outcome::kUpdated) << describe(r);
  EXPECT_EQ(r->before, std::vector<std::string>{"198.51.100.3"});
  EXPECT_EQ(receiver_->requests().size(), 1u);
}

TEST_F(Dyndns2Test, NochgIsUnchanged) {
  ASSERT_EQ(run(desired(kHost, {"192.0.2.4"}))->outcome, Outcome::kUpdated);
  // The state file was lost: nothing known, so it is sent, and the service says nochg.
  auto r = run(desired(kHost, {"192.0.2.4"}));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->outcome, Outcome::kUnchanged) << describe(r);
  EXPECT_EQ(r->before, std::vector<std::string>{"192.0.2.4"});
  EXPECT_TRUE(contains(r->message, "nochg")) << r->message;
}

TEST_F(Dyndns2Test, SeveralAddressesAreRejectedBeforeAnyRequest) {
  auto r = run(desired(kHost, {"192.0.2.5", "192.0.2.6"}));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->outcome, Outcome::kRejected) << describe(r);
  EXPECT_TRUE(contains(r->message, "DynDNS2 takes one address per record type")) << r->message;
  EXPECT_TRUE(receiver_->requests().empty());
}

TEST_F(Dyndns2Test, RefusalsAreRejectedWithAPlainReason) {
  const std::vector<std::pair<std::string, std::string>> codes = {
      {"badauth", "user name or password"},
      {"!donator", "does not include"},
      {"notfqdn", "not a fully qualified"},
      {"nohost", "does not exist in this account"},
      {"numhost", "too many hosts"},
      {"abuse", "blocked home.dyn.example.net for abuse"},
      {"badagent", "User-Agent"},
      {"!yours", "belongs to another account"},
      {"!active", "not active"},
  };
  for (const auto& [code, reason] : codes) {
    fake_.answer_with([code = code](const std::string&) { return text(200, code + "\n"); });
    auto r = run(desired(kHost, {"192.0.2.7"}));
    ASSERT_TRUE(r) << code;
    EXPECT_EQ(r->outcome, Outcome::kRejected) << code << ": " << describe(r);
    EXPECT_TRUE(contains(r->message, reason)) << code << ": " << r->message;
    EXPECT_TRUE(contains(r->message, "(" + code + ")")) << code << ": " << r->message;
  }
}

TEST_F(Dyndns2Test, AWrongPasswordIsBadauth) {
  // The fake answers 401, as several services do.
  auto r = run(desired(kHost, {"192.0.2.8"}), config("not-the-password"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->outcome, Outcome::kRejected) << describe(r);
  EXPECT_TRUE(contains(r->message, "badauth")) << r->message;
  EXPECT_FALSE(contains(r->message, "not-the-password"));
  EXPECT_FALSE(fake_.held());
}

TEST_F(Dyndns2Test, ServerTroubleWaitsTenMinutes) {
  for (const std::string code : {"dnserr", "911"}) {
    fake_.answer_with([code](const std::string&) { return text(200, code + "\r\n"); });
    auto r = run(desired(kHost, {"192.0.2.9"}));
    ASSERT_TRUE(r) << code;
    EXPECT_EQ(r->outcome, Outcome::kFailed) << code << ": " << describe(r);
    ASSERT_TRUE(r->retry_after) << code;
    EXPECT_GE(*r->retry_after, minutes(10)) << code;
  }
}

TEST_F(Dyndns2Test, A5xxFails) {
  fake_.answer_with([](const std::string&) {
    return HttpResponse{503, "text/html", "<html><body>Service Unavailable</body></html>", {}};
  });
  auto r = run(desired(kHost, {"192.0.2.10"}));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->outcome, Outcome::kFailed) << describe(r);
  EXPECT_TRUE(contains(r->message, "HTTP 503")) << r->message;
}

TEST_F(Dyndns2Test, TooManyRequestsIsRateLimited) {
  fake_.answer_with([](const std::string&) {
    return HttpResponse{429, "text/plain", "slow down\n", {{"Retry-After", "120"}}};
  });
  auto r = run(desired(kHost, {"192.0.2.11"}));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->outcome, Outcome::kRateLimited) << describe(r);
  ASSERT_TRUE(r->retry_after);
  EXPECT_EQ(*r->retry_after, seconds(120));
}

TEST_F(Dyndns2Test, AnythingElseFailsWithAnExcerpt) {
  fake_.answer_with([](const std::string&) {
    return HttpResponse{
        200, "text/html", "<html><body>Welcome to the hotel network</body></html>", {}};
  });
  auto r = run(desired(kHost, {"192.0.2.12"}));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->outcome, Outcome::kFailed) << describe(r);
  EXPECT_TRUE(contains(r->message, "Welcome to the hotel network")) << r->message;
}

TEST_F(Dyndns2Test, AServiceThatSetsAnotherAddressFails) {
  fake_.answer_with([](const std::string&) { return text(200, "good 203.0.113.50\n"); });
  auto r = run(desired(kHost, {"192.0.2.13"}));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->outcome, Outcome::kFailed) << describe(r);
  EXPECT_TRUE(contains(r->message, "203.0.113.50")) << r->message;
  ASSERT_TRUE(r->retry_after);
  EXPECT_GE(*r->retry_after, minutes(10)) << "each try is one more update";
}

TEST_F(Dyndns2Test, WithoutTheCaFileTheCertificateIsRefused) {
  auto c = config();
  c.ca_file.reset();
  auto r = run(desired(kHost, {"192.0.2.14"}), c);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->outcome, Outcome::kFailed) << describe(r);
  EXPECT_TRUE(contains(r->message, "certificate did not verify")) << r->message;
  EXPECT_FALSE(fake_.held());
}

}  // namespace
}  // namespace ddnswatch
