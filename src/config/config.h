// The configuration as the rest of the program sees it: plain structs, already validated.
// Parsing (strict JSON with paths in every error) lives in config_loader; the format is
// documented in docs/config.md and described by config/ddnswatch.schema.json.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <tl/expected.hpp>
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
  /// As written: "cloudflare-trace", "url:...", "dns:...", "interface:eth0", "static:IP". Each
  /// text is also the source's `source` metric label; parse_ip_source reads it.
  std::vector<std::string> sources;
  int quorum = 1;
};

struct DetectConfig {
  Duration interval = std::chrono::minutes(5);
  Duration timeout = std::chrono::seconds(10);  // one source's request (HTTP or DNS, all tries)
  /// Ranges accepted despite the bogon filter ("100.64.0.0/10" for CGNAT, a lab's range);
  /// each checked by parse_ip_range.
  std::vector<std::string> allow;
  std::optional<std::filesystem::path> ca_file;  // extra trust anchors for https echo sources
  std::optional<FamilyDetect> ipv4;
  std::optional<FamilyDetect> ipv6;
};

/// One entry of detect.ipv4/ipv6.sources, parsed. Named sources become the URL or the DNS
/// question they stand for, so the IP detector only knows the generic kinds.
struct IpSourceSpec {
  enum class Kind { kHttp, kDns, kInterface, kStatic };
  /// How an HTTP answer is read: kAuto is JSON when the Content-Type says so, else text.
  enum class Format { kAuto, kText, kTrace, kJson };
  /// Which IPv6 address of an interface: non-temporary (stable) or a privacy address.
  enum class Policy { kStable, kTemporary };

  Kind kind = Kind::kStatic;
  std::string url;  // kHttp, without the "#format" fragment
  Format format = Format::kAuto;
  std::string dns_name;    // kDns, without the final dot
  std::string dns_server;  // an IP literal
  uint16_t dns_port = 53;
  std::string dns_type;  // "A", "AAAA" or "TXT"
  bool dns_chaos = false;
  bool dns_recursion = true;
  std::string interface;  // kInterface
  Policy policy = Policy::kStable;
  std::optional<std::string> suffix;  // IPv6 host part put after the interface's prefix
  int prefix_length = 64;             // where the prefix ends when `suffix` is set
  std::string address;                // kStatic, canonical
};

/// Parses one source as written in the config for the IPv4 (`ipv6` false) or IPv6 family. The
/// error is a sentence for people, e.g. "aws-checkip has no IPv6 endpoint".
tl::expected<IpSourceSpec, std::string> parse_ip_source(const std::string& text, bool ipv6);

/// An address range of detect.allow: "100.64.0.0/10"; a bare address is a /32 or /128.
struct IpRange {
  bool ipv6 = false;
  std::array<uint8_t, 16> bytes{};  // the network address; IPv4 uses the first 4 bytes
  int prefix_length = 0;
  /// `address` in the same layout (IPv4 in the first 4 bytes).
  bool contains(bool address_is_ipv6, const std::array<uint8_t, 16>& address) const;
  std::string to_string() const;  // "100.64.0.0/10"
};
/// The error says what is wrong: a missing or too long prefix, bits set after the prefix.
tl::expected<IpRange, std::string> parse_ip_range(const std::string& text);

/// How often the updater talks to providers (see docs/config.md, `update`).
struct UpdateConfig {
  Duration min_interval = std::chrono::seconds(30);   // between two attempts on a record
  Duration cooldown = std::chrono::minutes(2);        // after a write, before the next write
  Duration max_interval = std::chrono::hours(1);      // re-read a record that is in sync
  Duration error_interval = std::chrono::minutes(1);  // first wait after a failure; doubles
  Duration max_backoff = std::chrono::minutes(30);
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

/// The entry of a record's "addresses" that stands for the trusted public address.
inline constexpr char kDetectedAddress[] = "detected";

struct RecordConfig {
  std::string name;  // fully qualified, without the final dot
  RecordType type = RecordType::kA;
  std::optional<int> ttl;  // unset: keep the provider's
  /// What the record holds: the trusted public address of its family (unless "addresses"
  /// leaves "detected" out), plus these fixed ones (canonical text, sorted): a second uplink
  /// with a static address, say.
  bool use_detected = true;
  std::vector<std::string> fixed_addresses;
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
#ifdef _WIN32
  std::filesystem::path state_dir = "C:\\ProgramData\\ddnswatch";  // beside the default config
#else
  std::filesystem::path state_dir = "/var/lib/ddnswatch";
#endif
  LogConfig log;
  DetectConfig detect;
  UpdateConfig update;
  std::vector<RecordConfig> records;
  ResolversConfig resolvers;
  std::vector<WatchConfig> watch;
  NotifyConfig notify;
  WebConfig web;
};

}  // namespace ddnswatch::config
