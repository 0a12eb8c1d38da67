// The configuration as the rest of the program sees it: plain structs, already validated.
// Parsing (strict JSON with paths in every error) lives in config_loader; the format is
// documented in docs/config.md and described by config/ddnswatch.schema.json.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "core/clock.h"
#include "core/secret.h"

namespace ddnswatch::config {

enum class RecordType { kA, kAAAA };
const char* to_string(RecordType type);

struct ListenAddress {
  std::string host = "127.0.0.1";  // an IPv4 or IPv6 literal, or a host name
  uint16_t port = 9877;
  std::string to_string() const;  // "127.0.0.1:9877", "[::1]:9877"
};

struct LogConfig {
  std::string level = "info";
  std::string format = "text";
};

struct FamilyDetect {
  std::vector<std::string> sources;  // "cloudflare-trace", "interface:eth0", "static:IP", ...
  int quorum = 1;
};

struct DetectConfig {
  Duration interval = std::chrono::minutes(5);
  std::optional<FamilyDetect> ipv4;
  std::optional<FamilyDetect> ipv6;
};

struct CloudflareProvider {
  std::string zone;
  Secret token;
};
struct AlidnsProvider {
  std::string zone;
  std::string access_key_id;
  Secret access_key_secret;
};
struct DnspodProvider {
  std::string zone;
  std::string secret_id;
  Secret secret_key;
};
struct Dyndns2Provider {
  std::string server;  // base URL, e.g. "https://members.dyndns.org"
  std::string username;
  Secret password;
};
struct Rfc2136Provider {
  std::string zone;
  std::string server;  // "IP[:PORT]"
  std::string key_name;
  std::string key_algorithm = "hmac-sha256";
  Secret key_secret;  // base64, as tsig-keygen prints it
};
struct PowerdnsProvider {
  std::string zone;
  std::string url;  // API base, e.g. "http://127.0.0.1:8081"
  std::string server_id = "localhost";
  Secret api_key;
};

struct ProviderConfig {
  std::variant<CloudflareProvider, AlidnsProvider, DnspodProvider, Dyndns2Provider, Rfc2136Provider,
               PowerdnsProvider>
      settings;
  std::optional<std::string> endpoint;  // API base URL override (private deployments, tests)
  std::optional<std::filesystem::path> ca_file;  // extra trust anchors for HTTPS
  std::string kind() const;
};

struct RecordConfig {
  std::string name;  // fully qualified, without the final dot
  RecordType type = RecordType::kA;
  std::optional<int> ttl;  // unset: keep the provider's
  ProviderConfig provider;
  std::string id() const { return name + "/" + to_string(type); }
};

struct CustomResolver {
  std::string id;
  std::string address;  // "IP" or "IP:PORT" or "[IPv6]:PORT"
  std::string name;
  std::string operator_name;
  std::string geo;
  std::string transport = "udp";  // udp (TCP on truncation), udp-only, tcp
  bool recursion = true;
  int rate_limit = 0;  // queries per second; 0: unlimited (it is the user's own server)
  int max_in_flight = 100;
};

struct ResolversConfig {
  std::filesystem::path catalog;  // absolute after loading; empty: the built-in catalog only
  Duration timeout = std::chrono::seconds(2);  // per try
  int tries = 2;
  int rate_limit = 20;  // queries per second to each catalog resolver (public servers)
  // Recursive resolver for finding zones' authoritative servers: "system" (the host's
  // resolver), a resolver id, or "ADDRESS[:PORT]".
  std::string bootstrap = "system";
  uint16_t authoritative_port = 53;  // where authoritative servers are asked (labs use others)
  std::map<std::string, std::vector<std::string>> sets;
  std::vector<CustomResolver> custom;
};

struct WatchConfig {
  std::string name;
  RecordType type = RecordType::kA;
  // "record": what the updater last set; "authoritative": what the zone's servers answer;
  // otherwise the fixed list in expected_addresses.
  enum class Expect { kRecord, kAuthoritative, kFixed } expect = Expect::kAuthoritative;
  std::vector<std::string> expected_addresses;
  std::vector<std::string> resolvers;  // set names, resolver ids, "authoritative"
  Duration interval = std::chrono::seconds(30);
  Duration fast_interval = std::chrono::seconds(5);  // after the expected answer changed
};

struct WebhookConfig {
  std::string name;  // the sink label in metrics and logs; default "webhook-INDEX"
  Secret url;        // webhook URLs often carry a token (Slack, DingTalk): treated as a secret
  std::string preset = "plain";
  /// A JSON document (serialized) whose strings may hold {{placeholders}}; empty: the
  /// preset's own body.
  std::string body_template;
  std::vector<std::string> events;  // empty: every event
  std::map<std::string, Secret> headers;
  /// The signing secret of a DingTalk or Feishu bot with signature verification on.
  std::optional<Secret> secret;
};

/// The placeholders a webhook body template may use.
const std::vector<std::string>& notification_fields();
/// Every event name a webhook may subscribe to.
const std::vector<std::string>& notification_events();

struct BasicAuthConfig {
  std::string username;
  Secret password;
};

/// HTTPS for the endpoint: two PEM files, absolute after loading, readable when checked.
struct TlsConfig {
  std::filesystem::path cert_file;  // the certificate, then any intermediates
  std::filesystem::path key_file;   // its unencrypted private key
};

/// The HTTP endpoint's protection. /healthz and /readyz stay open for liveness probes.
struct WebConfig {
  std::optional<BasicAuthConfig> basic_auth;
  std::optional<TlsConfig> tls;
};

struct NotifyConfig {
  std::vector<WebhookConfig> webhooks;
  std::optional<std::string> alertmanager;       // base URL
  std::optional<std::filesystem::path> ca_file;  // extra trust anchors for HTTPS sinks
};

struct Config {
  std::filesystem::path source;  // the file it came from (absolute)
  ListenAddress listen;
  std::filesystem::path state_dir = "/var/lib/ddnswatch";
  LogConfig log;
  DetectConfig detect;
  std::vector<RecordConfig> records;
  ResolversConfig resolvers;
  std::vector<WatchConfig> watch;
  NotifyConfig notify;
  WebConfig web;
};

}  // namespace ddnswatch::config
