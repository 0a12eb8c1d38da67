#include "app/daemon.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#ifdef _WIN32
#include <winsock2.h>  // gethostname
#else
#include <unistd.h>
#endif

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <functional>
#include <mutex>
#include <optional>

#include "app/service_notify.h"
#include "config/config_loader.h"
#include "core/atomic_file.h"
#include "core/crypto.h"
#include "core/event_loop.h"
#include "core/logging.h"
#include "core/state_store.h"
#include "exporters/http_server.h"
#include "exporters/metrics.h"
#include "exporters/notifier.h"
#include "exporters/status_page.h"
#include "ipdetect/ip_detector.h"
#include "monitor/monitor.h"
#include "net/http_client.h"
#include "providers/provider.h"
#include "resolvers/directory.h"
#include "resolvers/dns_engine.h"
#include "updater/updater.h"

#ifndef DDNSWATCH_VERSION
#define DDNSWATCH_VERSION "0.0.0"
#endif
#ifndef DDNSWATCH_REVISION
#define DDNSWATCH_REVISION "unknown"
#endif

namespace ddnswatch::app {

const char* version() { return DDNSWATCH_VERSION; }
const char* revision() { return DDNSWATCH_REVISION; }

namespace {

// /healthz fails when the loop has not ticked for this long.
constexpr auto kHeartbeatInterval = std::chrono::seconds(1);
// Editors and Kubernetes change a config in several steps (write, rename, symlink swap): wait
// for the burst to end before reading it.
constexpr auto kConfigSettle = std::chrono::milliseconds(500);
constexpr auto kHeartbeatStale = std::chrono::seconds(10);
// While the state file cannot be saved (state_dir full or read-only), the save is tried again
// this often, so that the file catches up as soon as the folder is writable, change or not.
constexpr auto kStateRetry = std::chrono::seconds(5);

}  // namespace

CheckResult check_config(config::Config cfg) {
  auto directory = resolvers::ResolverDirectory::build(cfg);
  std::vector<config::Diagnostic> problems;
  if (!directory) problems = directory.error();
  // The loader saw that the files are readable; this sees that they are a certificate and
  // its key, so that a reload with a wrong pair is rejected before the server is touched.
  if (cfg.web.tls) {
    auto tls = exporters::check_tls_files({cfg.web.tls->cert_file, cfg.web.tls->key_file});
    if (!tls) problems.push_back({"/web/tls", tls.error().message});
  }
  if (!problems.empty()) return tl::unexpected(std::move(problems));
  return CheckedConfig{std::move(cfg), std::move(*directory)};
}

CheckResult load_and_check_config(const std::filesystem::path& path) {
  auto loaded = config::load_config(path);
  if (!loaded) return tl::unexpected(loaded.error());
  return check_config(std::move(*loaded));
}

// Names this ddnswatch in notifications ({{instance}}, the alerts' instance label).
std::string host_name() {
  char buf[256] = {};
  if (gethostname(buf, sizeof buf - 1) != 0 || buf[0] == '\0') return "ddnswatch";
  return buf;
}

LogOptions effective_log_options(const DaemonOptions& options, const config::Config& cfg) {
  LogOptions lo;
  lo.console = options.log_console;
  lo.file = options.log_file;
  lo.event_log = options.log_event_log;
  lo.level = options.log_level.value_or(cfg.log.level);
  lo.format =
      options.log_format.value_or(cfg.log.format) == "json" ? LogFormat::kJson : LogFormat::kText;
  return lo;
}

struct Daemon::Impl {
  DaemonOptions options;
  config::Config cfg;
  const Clock& clock;
  std::unique_ptr<EventLoop> loop;
  exporters::Metrics metrics{exporters::BuildInfo{version(), revision()}};
  std::unique_ptr<exporters::HttpServer> http;
  std::unique_ptr<Timer> heartbeat_timer;
  std::atomic<int64_t> heartbeat_ms{0};  // steady time of the loop's last tick
  // The config file's folder is watched; a change reloads once the burst of events settles
  // and only when the file's bytes differ from those last loaded (or last rejected).
  ServiceNotifier service;  // systemd's READY=1 / RELOADING=1 / STOPPING=1 / WATCHDOG=1
  std::unique_ptr<Timer> watchdog_timer;
  std::unique_ptr<FolderWatch> config_watch;
  std::unique_ptr<Timer> config_settle;
  std::string config_digest;
  std::unique_ptr<StateStore> state;
  nlohmann::json state_data = nlohmann::json::object();
  std::unique_ptr<Timer> state_retry;  // armed while the last save failed
  std::string state_error;             // why the last save failed; empty after a success
  int state_failures = 0;              // failed saves since the last success
  std::optional<WallTime> state_saved_at;
  mutable std::mutex state_status_mutex;
  std::string state_status = "null";  // the "state" member of /status
  std::unique_ptr<resolvers::DnsEngine> engine;
  /// The DNS echo sources of address detection: an engine of their own, so that they are not
  /// counted as watched resolvers (ddnswatch_ip_source_up reports on them).
  std::unique_ptr<resolvers::DnsEngine> detect_engine;
  std::unique_ptr<monitor::Monitor> monitor;
  std::unique_ptr<net::HttpClient> http_client;
  std::unique_ptr<exporters::Notifier> notifier;
  std::unique_ptr<updater::Updater> updater;
  std::unique_ptr<ipdetect::IpDetector> detector;
  std::unique_ptr<Timer> detect_timer;
  std::map<std::string, std::string> public_ips;     // family -> the trusted address
  std::map<std::string, std::string> last_verdicts;  // family -> the last verdict logged
  /// "ipv4 SOURCE" -> why that source last failed, while it fails: logged when it changes.
  std::map<std::string, std::string> failing_sources;

  Impl(DaemonOptions o, config::Config c, const Clock& clk)
      : options(std::move(o)), cfg(std::move(c)), clock(clk) {}

  int64_t steady_ms() const {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               clock.steady_now().time_since_epoch())
        .count();
  }

  std::map<std::string, exporters::HttpHandler> routes() {
    std::map<std::string, exporters::HttpHandler> r;
    r["/metrics"] = [this](const exporters::HttpRequest&) {
      return exporters::HttpResponse{
          200, "text/plain; version=0.0.4; charset=utf-8", metrics.render(), {}};
    };
    r["/healthz"] = [this](const exporters::HttpRequest&) {
      int64_t age = steady_ms() - heartbeat_ms.load();
      if (age > std::chrono::duration_cast<std::chrono::milliseconds>(kHeartbeatStale).count()) {
        return exporters::HttpResponse{
            503,
            "text/plain; charset=utf-8",
            fmt::format("event loop stalled: last tick {} ms ago\n", age),
            {}};
      }
      return exporters::HttpResponse{200, "text/plain; charset=utf-8", "ok\n", {}};
    };
    // Ready once every watched name has been checked (monitor->ready() is thread-safe).
    r["/readyz"] = [this](const exporters::HttpRequest&) {
      if (!monitor || !monitor->ready()) {
        return exporters::HttpResponse{
            503, "text/plain; charset=utf-8", "not ready: first check still running\n", {}};
      }
      return exporters::HttpResponse{200, "text/plain; charset=utf-8", "ready\n", {}};
    };
    r["/"] = [](const exporters::HttpRequest&) {
      return exporters::HttpResponse{
          200, "text/html; charset=utf-8", exporters::status_page_html(), {}};
    };
    r["/status"] = [this](const exporters::HttpRequest&) {
      return exporters::HttpResponse{200, "application/json", status_document(), {}};
    };
    return r;
  }

  // Any thread: the monitor's document with the updater's "records" and the "state" file's
  // health added.
  std::string status_document() const {
    std::string doc = monitor ? monitor->status_json() : "{}";
    const std::string records = updater ? updater->status_json() : "[]";
    std::string state_member;
    {
      std::lock_guard lock(state_status_mutex);
      state_member = state_status;
    }
    const size_t close = doc.rfind('}');
    if (close == std::string::npos) return doc;
    const bool empty = doc.find_first_not_of(" \n{") == close;
    doc.insert(close, std::string(empty ? "" : ",") + "\"records\":" + records +
                          ",\"state\":" + state_member);
    return doc;
  }

  Result<std::unique_ptr<exporters::HttpServer>> start_http(const config::Config& c) {
    const config::ListenAddress& l = c.listen;
    exporters::HttpServerOptions o;
    o.host = l.host;
    o.port = l.port;
    if (c.web.tls) o.tls = exporters::TlsFiles{c.web.tls->cert_file, c.web.tls->key_file};
    if (c.web.basic_auth) {
      o.basic_auth = {c.web.basic_auth->username, c.web.basic_auth->password.reveal()};
    }
    auto server = exporters::HttpServer::start(o, routes());
    if (server)
      spdlog::info("serving /metrics, /healthz, /readyz and /status on {}://{}:{}",
                   c.web.tls ? "https" : "http", l.host, (*server)->port());
    return server;
  }

  // Loads state_dir's file, reporting a corrupt one, and records this start in it. A state
  // folder that cannot be written is logged, not fatal: monitoring goes on without it. A file
  // that could not be read (a newer format, a folder that cannot be created or read) is never
  // overwritten: this run keeps no state rather than replace what it could not see.
  void open_state(const std::filesystem::path& dir) {
    state = std::make_unique<StateStore>(dir, clock);
    state_retry->stop();
    state_error.clear();
    state_failures = 0;
    state_saved_at.reset();
    auto loaded = state->load();
    if (!loaded) {
      spdlog::error("state: {}; running without a state file, nothing is saved until a restart",
                    loaded.error().message);
      state_error = loaded.error().message;
      state.reset();
      metrics.state_saved(false, clock.wall_now());
      publish_state_status(dir);
      return;
    }
    if (loaded->moved_aside) {
      spdlog::error("state: {} ({}); moved it to {} and started with an empty state",
                    state->file().string(), loaded->problem, loaded->moved_aside->string());
    }
    state_data = std::move(loaded->data);
    state_data["daemon"]["last_start"] = format_utc(clock.wall_now());
    save_state();
  }

  // A failed save leaves the previous file in place (it is replaced atomically) and is tried
  // again every kStateRetry; monitoring and updating go on. Logged when the cause changes and
  // when saving works again, not at every attempt.
  void save_state() {
    if (!state) return;
    const WallTime now = clock.wall_now();
    auto saved = state->save(state_data);
    metrics.state_saved(saved.has_value(), now);
    const std::filesystem::path dir = state->file().parent_path();
    if (saved) {
      if (state_failures > 0) {
        spdlog::info("state: saved {} again after {} failed attempt{}", state->file().string(),
                     state_failures, state_failures == 1 ? "" : "s");
      }
      state_retry->stop();
      state_error.clear();
      state_failures = 0;
      state_saved_at = now;
      publish_state_status(dir);
      return;
    }
    ++state_failures;
    if (saved.error().message != state_error) {
      spdlog::error(
          "state: cannot save the state in {}: {}; the previous {} is kept, monitoring and "
          "updates go on, retrying every {} s",
          dir.string(), saved.error().message, StateStore::kFileName,
          std::chrono::duration_cast<std::chrono::seconds>(kStateRetry).count());
      state_error = saved.error().message;
    }
    if (!state_retry->active()) state_retry->start(kStateRetry);
    publish_state_status(dir);
  }

  // The "state" member of /status: where the file is and whether the last save worked.
  void publish_state_status(const std::filesystem::path& dir) {
    nlohmann::json j = {
        {"dir", dir.string()},
        {"last_write_successful", state_error.empty()},
        {"error", state_error.empty() ? nlohmann::json(nullptr) : nlohmann::json(state_error)},
        {"failed_writes", state_failures},
        {"last_write",
         state_saved_at ? nlohmann::json(format_utc(*state_saved_at)) : nlohmann::json(nullptr)}};
    std::lock_guard lock(state_status_mutex);
    state_status = j.dump();
  }

  // Hands the watch list, resolvers and bootstrap of `c` to the monitor.
  void configure_monitor(const config::Config& c, const resolvers::ResolverDirectory& directory) {
    monitor::MonitorOptions mo;
    mo.authoritative_port = c.resolvers.authoritative_port;
    if (auto b = directory.bootstrap(c.resolvers.bootstrap)) {
      mo.bootstrap = *b;
    } else {
      const bool needed = std::any_of(c.watch.begin(), c.watch.end(), [](const auto& w) {
        return w.expect != config::WatchConfig::Expect::kFixed ||
               std::find(w.resolvers.begin(), w.resolvers.end(), "authoritative") !=
                   w.resolvers.end();
      });
      if (needed) {
        spdlog::error("bootstrap resolver: {}; authoritative servers cannot be found",
                      b.error().message);
      }
      mo.bootstrap.id = "bootstrap";
      mo.bootstrap.address = "127.0.0.1";
    }
    monitor->configure(c, directory, mo);
  }

  void configure_notifier(const config::Config& c, const resolvers::ResolverDirectory& directory) {
    std::vector<WatchedName> watched;
    for (const auto& w : c.watch) {
      WatchedName wn{w.name, config::to_string(w.type), {}};
      if (auto sel = directory.select(w.resolvers, false)) {
        for (const auto& r : sel->resolvers) wn.resolvers.push_back(r.spec.id);
        if (sel->authoritative) wn.resolvers.push_back("authoritative");
      }
      watched.push_back(std::move(wn));
    }
    notifier->configure(c.notify, watched);
  }

  // Detection runs at once, then every detect.interval; each family on its own.
  void configure_detection(const config::Config& c) {
    detector->configure(c.detect);
    if (!c.detect.ipv4 && !c.detect.ipv6) {
      detect_timer->stop();
      return;
    }
    detect_timer->start(Duration::zero(), c.detect.interval);
  }

  void run_detection() {
    for (auto [family, wanted] :
         {std::pair{ipdetect::Family::kIpv4, cfg.detect.ipv4.has_value()},
          std::pair{ipdetect::Family::kIpv6, cfg.detect.ipv6.has_value()}}) {
      if (!wanted) continue;
      detector->detect(family, [this](ipdetect::Detection d) { detected(d); });
    }
  }

  // A failed detection leaves everything as it is: no address is never an address.
  void detected(const ipdetect::Detection& d) {
    const std::string family = ipdetect::to_string(d.family);
    for (const ipdetect::SourceAnswer& a : d.answers) {
      if (a.skipped) continue;
      const std::string key = family + " " + a.source;
      auto it = failing_sources.find(key);
      if (a.address) {
        if (it == failing_sources.end()) continue;
        spdlog::info("detect {}: source {} answers again", family, a.source);
        failing_sources.erase(it);
        continue;
      }
      // The reason without the rest it starts, which differs each time.
      const std::string why = a.error.substr(0, a.error.find(", backing off "));
      if (it != failing_sources.end() && it->second == why) continue;
      spdlog::warn("detect {}: source {} failed: {}", family, a.source, a.error);
      failing_sources[key] = why;
    }
    if (last_verdicts[family] != d.verdict) {
      // The verdict is logged when it changes, not at every interval.
      spdlog::log(d.address ? spdlog::level::info : spdlog::level::warn, "detect {}", d.verdict);
      last_verdicts[family] = d.verdict;
    }
    if (!d.address) return;
    const WallTime now = clock.wall_now();
    const std::string previous = public_ips[family];
    const bool changed = !previous.empty() && previous != *d.address;
    if (previous != *d.address) {
      public_ips[family] = *d.address;
      state_data["detect"][family] = {{"address", *d.address}, {"since", format_utc(now)}};
      save_state();
    }
    metrics.public_ip(family, *d.address, changed, now);
    const auto type =
        d.family == ipdetect::Family::kIpv4 ? config::RecordType::kA : config::RecordType::kAAAA;
    if (changed) {
      spdlog::info("public {} address changed from {} to {}", ipdetect::display_name(d.family),
                   previous, *d.address);
      notifier->publish(exporters::Notification{"ip_changed", "", config::to_string(type), "",
                                                *d.address + " (was " + previous + ")", now});
    }
    updater->set_address(type, *d.address);
  }

  /// A digest of the config file as it is now; "" when it cannot be read.
  std::string config_file_digest() const {
    auto text = read_file(options.config_path);
    return text ? hex_encode(sha256(*text)) : std::string();
  }

  void watch_config() {
    config_digest = config_file_digest();
    config_settle = loop->make_timer([this] {
      const std::string now = config_file_digest();
      // Unreadable (mid-replace) or unchanged (an unrelated file in the folder): nothing to do.
      if (now.empty() || now == config_digest) return;
      spdlog::info("{} changed", options.config_path.string());
      reload();
    });
    std::filesystem::path folder = options.config_path.parent_path();
    if (folder.empty()) folder = ".";
    auto watch = loop->watch_folder(folder, [this] { config_settle->start(kConfigSettle); });
    if (!watch) {
      spdlog::warn("{}; reload with SIGHUP after editing the config", watch.error().message);
      return;
    }
    config_watch = std::move(*watch);
  }

  /// SIGHUP is an operator's word: besides reloading, records refused by their provider are
  /// tried again (the cause may have been fixed at the provider, not in the config).
  void operator_reload() {
    reload();
    updater->retry_refused();
  }

  /// Reloads, telling systemd (RELOADING=1, then READY=1 whatever the result).
  void reload() {
    service.reloading();
    service.ready(reload_config() ? running_status()
                                  : "reload rejected; the previous configuration stays in effect");
  }

  std::string running_status() const {
    return fmt::format("serving on {}; watching {} names, updating {} records",
                       cfg.listen.to_string(), cfg.watch.size(), cfg.records.size());
  }

  /// False when the new config was rejected (the old one stays).
  bool reload_config() {
    spdlog::info("reloading {}", options.config_path.string());
    config_digest = config_file_digest();
    auto loaded = load_and_check_config(options.config_path);
    if (!loaded) {
      for (const auto& d : loaded.error()) {
        spdlog::error("config reload rejected: {}: {}", options.config_path.string(),
                      d.to_string());
      }
      spdlog::error("config reload rejected; the previous configuration stays in effect");
      metrics.config_loaded(false, clock.wall_now());
      return false;
    }
    config::Config next = std::move(loaded->config);
    auto credentials = [](const config::Config& c) {
      return c.web.basic_auth
                 ? c.web.basic_auth->username + ":" + c.web.basic_auth->password.reveal()
                 : std::string();
    };
    // With TLS every reload restarts the server: that is how a certificate renewed in place
    // (certbot) is read again. check_config above has loaded the new pair already.
    if (next.listen.to_string() != cfg.listen.to_string() ||
        credentials(next) != credentials(cfg) || next.web.tls || cfg.web.tls) {
      // Stop the old listener first: the new address may share its port.
      http.reset();
      auto server = start_http(next);
      if (!server) {
        spdlog::error("config reload rejected: {}", server.error().message);
        if (auto old = start_http(cfg)) {
          http = std::move(*old);
        } else {
          spdlog::critical("cannot listen on the previous address either: {}", old.error().message);
        }
        metrics.config_loaded(false, clock.wall_now());
        return false;
      }
      http = std::move(*server);
    }
    if (next.state_dir != cfg.state_dir) open_state(next.state_dir);
    if (auto r = setup_logging(effective_log_options(options, next)); !r)
      spdlog::error("{}", r.error().message);
    cfg = std::move(next);
    configure_monitor(cfg, loaded->directory);
    configure_notifier(cfg, loaded->directory);
    updater->configure(cfg);
    configure_detection(cfg);
    metrics.config_loaded(true, clock.wall_now());
    spdlog::info("configuration reloaded");
    return true;
  }
};

#ifdef _WIN32
namespace {

// The console's events arrive on a thread the system starts for each; they reach the daemon
// through its loop, as the signals do on Linux.
std::mutex console_mutex;
std::function<void(const char*)> console_stop;  // guarded by console_mutex; posts the stop
bool console_stopped = false;                   // guarded by console_mutex: the loop has returned
std::condition_variable console_stopped_cv;

BOOL WINAPI on_console_event(DWORD event) {
  const char* name = nullptr;
  switch (event) {
    case CTRL_C_EVENT:
      name = "Ctrl+C";
      break;
    case CTRL_BREAK_EVENT:
      name = "Ctrl+Break";
      break;
    case CTRL_CLOSE_EVENT:
      name = "the console's close";
      break;
    case CTRL_SHUTDOWN_EVENT:
      name = "the system's shutdown";
      break;
    default:
      return FALSE;  // CTRL_LOGOFF_EVENT: someone's session ends, not the system
  }
  std::unique_lock lock(console_mutex);
  if (!console_stop) return FALSE;
  console_stop(name);
  // Windows ends the process when the handler of a close or shutdown returns: give the loop a
  // few seconds to finish (the system allows about five).
  if (event == CTRL_CLOSE_EVENT || event == CTRL_SHUTDOWN_EVENT) {
    console_stopped_cv.wait_for(lock, std::chrono::seconds(4), [] { return console_stopped; });
  }
  return TRUE;
}

// Routes the console's events to `stop`; an empty function unhooks them.
void console_events_to(std::function<void(const char*)> stop) {
  std::lock_guard lock(console_mutex);
  if (stop && !console_stop) {
    SetConsoleCtrlHandler(on_console_event, TRUE);
  } else if (!stop && console_stop) {
    SetConsoleCtrlHandler(on_console_event, FALSE);
  }
  console_stop = std::move(stop);
  console_stopped = false;
}

void console_loop_returned() {
  std::lock_guard lock(console_mutex);
  console_stopped = true;
  console_stopped_cv.notify_all();
}

}  // namespace
#endif

Result<std::unique_ptr<Daemon>> Daemon::create(const DaemonOptions& options, CheckedConfig checked,
                                               const Clock& clock) {
  auto impl = std::make_unique<Impl>(options, std::move(checked.config), clock);
  auto loop = EventLoop::create();
  if (!loop) return tl::unexpected(loop.error());
  impl->loop = std::move(*loop);
  Impl* self = impl.get();

#ifdef _WIN32
  // Windows has no SIGTERM; the console's events stand in for the signals.
  if (options.console_events) {
    console_events_to([self](const char* name) {
      self->loop->post([self, name] {
        spdlog::info("received {}, stopping", name);
        self->loop->stop();
      });
    });
  }
#else
  for (int sig : {SIGINT, SIGTERM}) {
    auto r = impl->loop->on_signal(sig, [self, sig] {
      spdlog::info("received {}, stopping", sig == SIGINT ? "SIGINT" : "SIGTERM");
      self->service.stopping();
      self->loop->stop();
    });
    if (!r) return tl::unexpected(r.error());
  }
#endif
#ifdef SIGHUP
  if (auto r = impl->loop->on_signal(SIGHUP, [self] { self->operator_reload(); }); !r) {
    return tl::unexpected(r.error());
  }
#endif

  impl->heartbeat_ms = impl->steady_ms();
  impl->heartbeat_timer =
      impl->loop->make_timer([self] { self->heartbeat_ms = self->steady_ms(); });
  impl->heartbeat_timer->start(kHeartbeatInterval, kHeartbeatInterval);
  impl->watch_config();
  if (auto every = impl->service.watchdog_interval()) {
    // Sent from a loop timer: a stuck loop stops the messages and systemd restarts us.
    impl->watchdog_timer = impl->loop->make_timer([self] { self->service.watchdog(); });
    impl->watchdog_timer->start(*every, *every);
  }

  impl->state_retry = impl->loop->make_timer([self] { self->save_state(); });
  impl->open_state(impl->cfg.state_dir);
  auto engine = resolvers::DnsEngine::create(*impl->loop, clock, &impl->metrics);
  if (!engine) return tl::unexpected(engine.error());
  impl->engine = std::move(*engine);
  auto http_client = net::HttpClient::create(*impl->loop);
  if (!http_client) return tl::unexpected(http_client.error());
  impl->http_client = std::move(*http_client);
  exporters::NotifierOptions no;
  no.instance = host_name();
  impl->notifier = std::make_unique<exporters::Notifier>(*impl->loop, *impl->http_client, clock,
                                                         &impl->metrics, no);
  impl->configure_notifier(impl->cfg, checked.directory);
  impl->monitor = std::make_unique<monitor::Monitor>(
      *impl->loop, *impl->engine, clock, &impl->metrics,
      [self](const nlohmann::json& saved) {
        self->state_data["monitor"] = saved;
        self->save_state();
      },
      [self](const monitor::NameEvent& e) {
        self->notifier->publish(exporters::Notification{monitor::to_string(e.event.kind), e.name,
                                                        e.qtype, e.event.resolver, e.event.detail,
                                                        self->clock.wall_now()});
      });
  if (impl->state_data.contains("monitor")) impl->monitor->restore(impl->state_data["monitor"]);
  impl->updater = std::make_unique<updater::Updater>(
      *impl->loop, clock,
      [self](const config::ProviderConfig& pc) {
        return providers::make_provider(pc, {*self->loop, *self->http_client, self->clock});
      },
      &impl->metrics,
      [self](const nlohmann::json& saved) {
        self->state_data["updater"] = saved;
        self->save_state();
      },
      [self](const updater::RecordEvent& e) {
        self->notifier->publish(exporters::Notification{e.event, e.name, e.qtype, "", e.detail,
                                                        self->clock.wall_now()});
      },
      [self](const std::string& name, config::RecordType type, const updater::Addresses& held) {
        self->monitor->record_held(name, type, held);
      });
  if (impl->state_data.contains("updater")) impl->updater->restore(impl->state_data["updater"]);
  impl->configure_monitor(impl->cfg, checked.directory);
  impl->updater->configure(impl->cfg);
  // The addresses trusted before a restart: a restart is not a change.
  if (impl->state_data.contains("detect") && impl->state_data["detect"].is_object()) {
    for (const auto& [family, j] : impl->state_data["detect"].items()) {
      if (j.is_object() && j.contains("address") && j["address"].is_string()) {
        impl->public_ips[family] = j["address"].get<std::string>();
      }
    }
  }
  auto detect_engine = resolvers::DnsEngine::create(*impl->loop, clock);
  if (!detect_engine) return tl::unexpected(detect_engine.error());
  impl->detect_engine = std::move(*detect_engine);
  impl->detector = std::make_unique<ipdetect::IpDetector>(
      *impl->loop, *impl->http_client, *impl->detect_engine, clock, &impl->metrics);
  impl->detect_timer = impl->loop->make_timer([self] { self->run_detection(); });
  impl->configure_detection(impl->cfg);
  auto server = impl->start_http(impl->cfg);
  if (!server) return tl::unexpected(server.error());
  impl->http = std::move(*server);
  impl->metrics.config_loaded(true, clock.wall_now());
  return std::unique_ptr<Daemon>(new Daemon(std::move(impl)));
}

Daemon::Daemon(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Daemon::~Daemon() {
#ifdef _WIN32
  console_events_to({});
#endif
  // Handles on the loop go before the loop itself.
  impl_->http.reset();
  impl_->detect_timer.reset();
  impl_->detector.reset();
  impl_->updater.reset();
  impl_->monitor.reset();
  impl_->notifier.reset();
  impl_->http_client.reset();
  impl_->detect_engine.reset();
  impl_->engine.reset();
  impl_->heartbeat_timer.reset();
  impl_->config_watch.reset();
  impl_->watchdog_timer.reset();
  impl_->config_settle.reset();
  impl_->state_retry.reset();
  impl_->loop.reset();
}

int Daemon::run() {
  spdlog::info("ddnswatch {} started with {}", version(), impl_->cfg.source.string());
  impl_->service.ready(impl_->running_status());
  impl_->loop->run();
#ifdef _WIN32
  console_loop_returned();
#endif
  auto started = impl_->clock.steady_now();
  impl_->http.reset();
  spdlog::info("stopped in {} ms", std::chrono::duration_cast<std::chrono::milliseconds>(
                                       impl_->clock.steady_now() - started)
                                       .count());
  return 0;
}

void Daemon::request_stop() { impl_->loop->stop(); }

void Daemon::request_reload() {
  Impl* self = impl_.get();
  impl_->loop->post([self] { self->operator_reload(); });
}

}  // namespace ddnswatch::app
