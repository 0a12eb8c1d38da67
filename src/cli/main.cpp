// The ddnswatch command line: parses arguments with CLI11, initialises the process-wide
// libraries once, and dispatches to run, check, probe, detect, once, service or version. Exit
// codes: 0 success, 1 failure (a bad config, a daemon that could not start), 2 usage errors.
#include <curl/curl.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <iostream>
#include <optional>
#include <string>

#include "app/daemon.h"
#include "app/detect.h"
#include "app/once.h"
#include "app/probe.h"
#include "app/windows_service.h"
#include "config/config_loader.h"
#include "core/logging.h"
#include "exporters/http_server.h"
#include "resolvers/cares_library.h"

namespace {

using namespace ddnswatch;

constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;

#ifdef _WIN32
constexpr const char* kDefaultConfigHelp = "%ProgramData%\\ddnswatch\\ddnswatch.json";
#else
constexpr const char* kDefaultConfigHelp = "/etc/ddnswatch/ddnswatch.json";
#endif

std::string default_config_path() {
  // Read once, before any thread exists.
  if (const char* env = std::getenv("DDNSWATCH_CONFIG"); env && *env) {  // NOLINT
    return env;
  }
#ifdef _WIN32
  const char* data = std::getenv("ProgramData");  // NOLINT: before any thread
  return std::string(data && *data ? data : "C:\\ProgramData") + "\\ddnswatch\\ddnswatch.json";
#else
  return kDefaultConfigHelp;
#endif
}

void print_diagnostics(const std::string& file, const std::vector<config::Diagnostic>& diags) {
  for (const auto& d : diags) {
    // A file that cannot be read already names itself in the message.
    if (d.path.empty() && d.message.rfind(file, 0) == 0) {
      fmt::print(stderr, "{}\n", d.message);
    } else {
      fmt::print(stderr, "{}: {}\n", file, d.to_string());
    }
  }
  fmt::print(stderr, "{}: {} error{}\n", file, diags.size(), diags.size() == 1 ? "" : "s");
}

}  // namespace

/// curl's and c-ares's library-wide state, set up once in main before any thread starts and
/// torn down when main returns. Every command that talks to the network holds one.
class NetworkLibraries {
 public:
  static std::optional<NetworkLibraries> init(std::string* error) {
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
      *error = "curl_global_init failed";
      return std::nullopt;
    }
    auto cares = resolvers::CaresLibrary::init();
    if (!cares) {
      curl_global_cleanup();
      *error = cares.error().message;
      return std::nullopt;
    }
    return NetworkLibraries(std::move(*cares));
  }
  NetworkLibraries(NetworkLibraries&& other) noexcept
      : cares_(std::move(other.cares_)), curl_(other.curl_) {
    other.curl_ = false;
  }
  NetworkLibraries& operator=(NetworkLibraries&&) = delete;
  NetworkLibraries(const NetworkLibraries&) = delete;
  ~NetworkLibraries() {
    if (curl_) curl_global_cleanup();
  }

 private:
  explicit NetworkLibraries(resolvers::CaresLibrary cares) : cares_(std::move(cares)) {}
  resolvers::CaresLibrary cares_;
  bool curl_ = true;
};

int main(int argc, char** argv) {
  CLI::App cli{
      "ddnswatch keeps a DNS name pointed at your public IP and checks, resolver by resolver,\n"
      "that the world sees the change. Documentation of the config: docs/config.md"};
  cli.require_subcommand(1);
  cli.fallthrough();

  std::string config_path = default_config_path();
  std::string log_format;
  std::string log_level;
  cli.add_option(
      "-c,--config", config_path,
      std::string("Config file (default: $DDNSWATCH_CONFIG or ") + kDefaultConfigHelp + ")");
  cli.add_option("--log-format", log_format,
                 "Log format: text or json (default: from the config, "
                 "else text)")
      ->check(CLI::IsMember({"text", "json"}));
  cli.add_option(
         "--log-level", log_level,
         std::string("Log level: ") + log_level_names() + " (default: from the config, else info)")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "critical", "off"}));

#ifdef _WIN32
  auto* run = cli.add_subcommand(
      "run", "Run the daemon in this console until Ctrl+C; a change of the config file reloads");
#else
  auto* run = cli.add_subcommand("run", "Run the daemon until SIGINT or SIGTERM; SIGHUP reloads");
#endif
  auto* check = cli.add_subcommand("check", "Validate the config; print ok or every error");
  auto* version = cli.add_subcommand("version", "Print the version and library versions");

  app::ProbeOptions probe_options;
  std::string probe_resolvers;
  std::string probe_expect;
  std::string probe_bootstrap;
  uint16_t probe_port = 0;
  auto* probe = cli.add_subcommand(
      "probe",
      "Ask resolvers for NAME once and judge each answer; exit 0 when every resolver matches");
  probe->add_option("name", probe_options.name, "The name to look up")->required();
  probe->add_option("-t,--type", probe_options.qtype, "A or AAAA (default A)")
      ->check(CLI::IsMember({"A", "AAAA", "a", "aaaa"}));
  probe->add_option("-r,--resolvers", probe_resolvers,
                    "Comma list of set names, resolver ids, \"authoritative\" and "
                    "ADDRESS[:PORT] entries (default: world)");
  probe->add_option("-e,--expect", probe_expect,
                    "Comma list of the expected addresses (default: what the zone's "
                    "authoritative servers answer)");
  probe->add_flag("--json", probe_options.json, "Print JSON instead of a table");
  probe->add_option("--bootstrap", probe_bootstrap,
                    "Recursive resolver for finding the authoritative servers: \"system\", a "
                    "resolver id or ADDRESS[:PORT] (default: the config's, else system)");
  probe
      ->add_option("--authoritative-port", probe_port,
                   "Port on which to ask the authoritative servers (default 53)")
      ->check(CLI::Range(1, 65535));

  app::DetectOptions detect_options;
  std::string detect_family;
  auto* detect = cli.add_subcommand(
      "detect",
      "Ask every IP source of the config once and show what each says; exit 0 when every "
      "family's sources reached their quorum");
  detect
      ->add_option("-f,--family", detect_family,
                   "ipv4 or ipv6 (default: every family the config has sources for)")
      ->check(CLI::IsMember({"ipv4", "ipv6"}));
  detect->add_flag("--json", detect_options.json, "Print JSON instead of a table");

  app::OnceOptions once_options;
  int once_verify_seconds = 30;
  bool once_no_verify = false;
  auto* once = cli.add_subcommand(
      "once",
      "One full cycle: detect the public addresses, update every record that differs, and "
      "verify at the zone's authoritative servers; exit 0 done and served, 1 failed, 3 updated "
      "but not yet served everywhere");
  once->add_flag("--json", once_options.json, "Print JSON instead of a table");
  once->add_flag("--no-verify", once_no_verify, "Skip the check at the authoritative servers");
  once->add_option("--verify-timeout", once_verify_seconds,
                   "Seconds to wait for every authoritative server to answer (default 30)")
      ->check(CLI::Range(1, 3600));

  std::string service_action;
  auto* service = cli.add_subcommand(
      "service",
      "Windows: install (or update), uninstall, start, stop or reload the ddnswatch service; "
      "install stores the absolute path of --config in the service's command line");
  service->add_option("action", service_action, "install, uninstall, start, stop or reload")
      ->required()
      ->check(CLI::IsMember({"install", "uninstall", "start", "stop", "reload"}));
  // Elsewhere the help lists only what works; the command itself says it is Windows-only.
  if (!app::windows_service_supported()) service->group("");
  // What the installed service's command line runs; not for people, so not in the help.
  auto* service_run =
      cli.add_subcommand("service-run", "Run as the Windows service (the SCM starts this)")
          ->group("");

  try {
    cli.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return cli.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return cli.exit(e);
  } catch (const CLI::ParseError& e) {
    cli.exit(e);
    return kExitUsage;
  }

  // The one-shot commands (probe, detect, once) print their report on stdout and log only
  // warnings to stderr, unless --log-level says otherwise.
  auto quiet_logging = [&]() {
    LogOptions quiet;
    quiet.level = log_level.empty() ? "warn" : log_level;
    quiet.format = log_format == "json" ? LogFormat::kJson : LogFormat::kText;
    if (auto r = setup_logging(quiet); !r) {
      fmt::print(stderr, "{}\n", r.error().message);
      return false;
    }
    return true;
  };

  // The one-shot commands need c-ares and curl set up while they run.
  auto with_network = [](const std::function<int()>& command) {
    std::string error;
    auto libraries = NetworkLibraries::init(&error);
    if (!libraries) {
      fmt::print(stderr, "{}\n", error);
      return kExitFailure;
    }
    return command();
  };

  if (version->parsed()) {
    fmt::print("ddnswatch {} (revision {})\nc-ares {}, libcurl {}\n", app::version(),
               app::revision(), resolvers::cares_version(),
               curl_version_info(CURLVERSION_NOW)->version);
    return kExitOk;
  }

  if (probe->parsed()) {
    if (!quiet_logging()) return kExitUsage;
    auto split = [](const std::string& text) {
      std::vector<std::string> out;
      size_t start = 0;
      while (start <= text.size()) {
        size_t end = text.find(',', start);
        if (end == std::string::npos) end = text.size();
        if (end > start) out.push_back(text.substr(start, end - start));
        start = end + 1;
      }
      return out;
    };
    probe_options.resolvers = split(probe_resolvers);
    probe_options.expect = split(probe_expect);
    if (!probe_bootstrap.empty()) probe_options.bootstrap = probe_bootstrap;
    if (probe_port != 0) probe_options.authoritative_port = probe_port;
    // A config is optional here: used when named (or present at the default path) for its
    // custom resolvers, sets and bootstrap.
    const bool named = cli.count("--config") > 0 || std::getenv("DDNSWATCH_CONFIG") != nullptr;
    std::error_code ec;
    auto checked = named || std::filesystem::exists(config_path, ec)
                       ? app::load_and_check_config(config_path)
                       : app::check_config(config::Config{});
    if (!checked) {
      print_diagnostics(config_path, checked.error());
      return kExitFailure;
    }
    return with_network(
        [&] { return app::run_probe(probe_options, checked->config, checked->directory); });
  }

  if (once->parsed()) {
    if (!quiet_logging()) return kExitUsage;
    once_options.verify = !once_no_verify;
    once_options.verify_timeout = std::chrono::seconds(once_verify_seconds);
    auto loaded = app::load_and_check_config(config_path);
    if (!loaded) {
      print_diagnostics(config_path, loaded.error());
      return kExitFailure;
    }
    return with_network(
        [&] { return app::run_once(once_options, loaded->config, loaded->directory); });
  }

  if (detect->parsed()) {
    if (!quiet_logging()) return kExitUsage;
    if (!detect_family.empty()) detect_options.family = detect_family;
    auto loaded = app::load_and_check_config(config_path);
    if (!loaded) {
      print_diagnostics(config_path, loaded.error());
      return kExitFailure;
    }
    return with_network([&] { return app::run_detect(detect_options, loaded->config); });
  }

  if (service->parsed()) {
    if (!app::windows_service_supported()) return app::service_command(service_action, {});
    std::filesystem::path absolute;
    if (service_action == "install") {
      // The service will read this very file: it must be there and valid now.
      std::error_code ec;
      absolute = std::filesystem::absolute(config_path, ec);
      if (ec) {
        fmt::print(stderr, "{}: {}\n", config_path, ec.message());
        return kExitFailure;
      }
      auto loaded = app::load_and_check_config(absolute);
      if (!loaded) {
        print_diagnostics(absolute.string(), loaded.error());
        return kExitFailure;
      }
    }
    return app::service_command(service_action, absolute);
  }

  if (service_run->parsed()) {
    if (!app::windows_service_supported()) return app::run_service({});
    std::string error;
    auto libraries = NetworkLibraries::init(&error);
    if (!libraries) {
      fmt::print(stderr, "{}\n", error);
      return kExitFailure;
    }
    exporters::HttpLibrary http_library;
    app::DaemonOptions options;
    std::error_code ec;
    options.config_path = std::filesystem::absolute(config_path, ec);
    if (!log_level.empty()) options.log_level = log_level;
    if (!log_format.empty()) options.log_format = log_format;
    return app::run_service(options);
  }

  if (check->parsed()) {
    auto loaded = app::load_and_check_config(config_path);
    if (!loaded) {
      print_diagnostics(config_path, loaded.error());
      return kExitFailure;
    }
    fmt::print("ok\n");
    return kExitOk;
  }

  if (run->parsed()) {
    // Logging first, with the command line's choices, so config errors are formatted as asked.
    LogOptions early;
    early.format = log_format == "json" ? LogFormat::kJson : LogFormat::kText;
    early.level = log_level.empty() ? "info" : log_level;
    if (auto r = setup_logging(early); !r) {
      fmt::print(stderr, "{}\n", r.error().message);
      return kExitUsage;
    }
    auto loaded = app::load_and_check_config(config_path);
    if (!loaded) {
      for (const auto& d : loaded.error()) spdlog::error("{}: {}", config_path, d.to_string());
      spdlog::error("{}: {} error{}; not starting", config_path, loaded.error().size(),
                    loaded.error().size() == 1 ? "" : "s");
      return kExitFailure;
    }
    app::DaemonOptions options;
    options.config_path = config_path;
    if (!log_level.empty()) options.log_level = log_level;
    if (!log_format.empty()) options.log_format = log_format;
    if (auto r = setup_logging(app::effective_log_options(options, loaded->config)); !r) {
      spdlog::error("{}", r.error().message);
      return kExitFailure;
    }

    std::string error;
    auto libraries = NetworkLibraries::init(&error);
    if (!libraries) {
      spdlog::critical("{}", error);
      return kExitFailure;
    }
    exporters::HttpLibrary http_library;
    static SystemClock clock;
    auto daemon = app::Daemon::create(options, std::move(*loaded), clock);
    if (!daemon) {
      spdlog::critical("cannot start: {}", daemon.error().message);
      return kExitFailure;
    }
    return (*daemon)->run();
  }
  return kExitUsage;
}
