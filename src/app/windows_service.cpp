#include "app/windows_service.h"

#include <fmt/format.h>

#ifdef _WIN32
#include <spdlog/spdlog.h>
#include <windows.h>

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "core/win32.h"
#endif

namespace ddnswatch::app {

#ifndef _WIN32

bool windows_service_supported() { return false; }

int service_command(const std::string& action, const std::filesystem::path&) {
  fmt::print(stderr,
             "ddnswatch service {}: the service commands are for Windows only; on Linux, run "
             "ddnswatch under systemd (deploy/systemd/ddnswatch.service)\n",
             action);
  return 2;
}

int run_service(const DaemonOptions&) {
  fmt::print(stderr, "ddnswatch service-run: for the Windows Service Control Manager only\n");
  return 2;
}

#else

namespace {

using namespace std::chrono_literals;

constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;
// How long start and stop wait for the service to settle: the daemon stops in about 2 s and
// starts in well under a second; the rest is for a slow machine.
constexpr auto kSettleTimeout = 60s;
constexpr auto kPollInterval = 100ms;
// Recovery after a failure (crash or a stop with an error): restart after 5 s, 30 s, 60 s; the
// count starts over after a day without failures.
constexpr DWORD kRestartDelaysMs[] = {5'000, 30'000, 60'000};
constexpr DWORD kFailureResetSeconds = 24 * 60 * 60;

const wchar_t* const kServiceNameW = L"ddnswatch";
const wchar_t* const kDisplayName = L"ddnswatch (DDNS updater and DNS propagation monitor)";
const wchar_t* const kDescription =
    L"Keeps DNS names pointed at this network's public IP address and checks, resolver by "
    L"resolver, that the world sees the change; serves Prometheus metrics.";
const wchar_t* const kEventLogKey =
    L"SYSTEM\\CurrentControlSet\\Services\\EventLog\\Application\\ddnswatch";

std::string last_error() { return win32::error_text(GetLastError()); }

/// An SC_HANDLE closed on every path out.
class ScHandle {
 public:
  explicit ScHandle(SC_HANDLE h = nullptr) : h_(h) {}
  ~ScHandle() {
    if (h_) CloseServiceHandle(h_);
  }
  ScHandle(const ScHandle&) = delete;
  ScHandle& operator=(const ScHandle&) = delete;
  SC_HANDLE get() const { return h_; }
  void reset(SC_HANDLE h) {
    if (h_) CloseServiceHandle(h_);
    h_ = h;
  }
  explicit operator bool() const { return h_ != nullptr; }

 private:
  SC_HANDLE h_;
};

const char* state_name(DWORD state) {
  switch (state) {
    case SERVICE_STOPPED:
      return "STOPPED";
    case SERVICE_START_PENDING:
      return "START_PENDING";
    case SERVICE_STOP_PENDING:
      return "STOP_PENDING";
    case SERVICE_RUNNING:
      return "RUNNING";
    case SERVICE_CONTINUE_PENDING:
      return "CONTINUE_PENDING";
    case SERVICE_PAUSE_PENDING:
      return "PAUSE_PENDING";
    case SERVICE_PAUSED:
      return "PAUSED";
    default:
      return "UNKNOWN";
  }
}

std::optional<SERVICE_STATUS_PROCESS> query(SC_HANDLE service) {
  SERVICE_STATUS_PROCESS status{};
  DWORD needed = 0;
  if (!QueryServiceStatusEx(service, SC_STATUS_PROCESS_INFO, reinterpret_cast<BYTE*>(&status),
                            sizeof status, &needed)) {
    return std::nullopt;
  }
  return status;
}

/// Polls until the service reaches `wanted` or STOPPED, or the deadline passes; the last
/// status seen, nothing when it could not be queried.
std::optional<SERVICE_STATUS_PROCESS> wait_for_state(SC_HANDLE service, DWORD wanted) {
  const auto deadline = std::chrono::steady_clock::now() + kSettleTimeout;
  for (;;) {
    auto status = query(service);
    if (!status) return std::nullopt;
    if (status->dwCurrentState == wanted || status->dwCurrentState == SERVICE_STOPPED ||
        std::chrono::steady_clock::now() >= deadline) {
      return status;
    }
    std::this_thread::sleep_for(kPollInterval);
  }
}

std::wstring own_path() {
  std::wstring path(MAX_PATH, L'\0');
  for (;;) {
    const DWORD n = GetModuleFileNameW(nullptr, path.data(), static_cast<DWORD>(path.size()));
    if (n == 0) return {};
    if (n < path.size()) {
      path.resize(n);
      return path;
    }
    path.resize(path.size() * 2);
  }
}

// The Event Viewer shows a message only when the source names a message file: spdlog's event
// id 1000 in mscoree.dll is a bare "%1" (see spdlog/sinks/win_eventlog_sink.h).
void register_event_source() {
  HKEY key = nullptr;
  if (RegCreateKeyExW(HKEY_LOCAL_MACHINE, kEventLogKey, 0, nullptr, 0, KEY_SET_VALUE, nullptr, &key,
                      nullptr) != ERROR_SUCCESS) {
    fmt::print(stderr, "warning: cannot register the Event Log source: {}\n", last_error());
    return;
  }
  const std::wstring file = L"%SystemRoot%\\System32\\mscoree.dll";
  const DWORD types = EVENTLOG_ERROR_TYPE | EVENTLOG_WARNING_TYPE | EVENTLOG_INFORMATION_TYPE;
  RegSetValueExW(key, L"EventMessageFile", 0, REG_EXPAND_SZ,
                 reinterpret_cast<const BYTE*>(file.c_str()),
                 static_cast<DWORD>((file.size() + 1) * sizeof(wchar_t)));
  RegSetValueExW(key, L"TypesSupported", 0, REG_DWORD, reinterpret_cast<const BYTE*>(&types),
                 sizeof types);
  RegCloseKey(key);
}

int install(const std::filesystem::path& config) {
  const std::wstring exe = own_path();
  if (exe.empty()) {
    fmt::print(stderr, "cannot find the program's own path: {}\n", last_error());
    return kExitFailure;
  }
  // The absolute config path travels in the service's command line, so the service reads the
  // same file whatever its working folder.
  const std::wstring command =
      L"\"" + exe + L"\" service-run --config \"" + config.wstring() + L"\"";
  ScHandle scm(OpenSCManagerW(nullptr, nullptr, SC_MANAGER_CONNECT | SC_MANAGER_CREATE_SERVICE));
  if (!scm) {
    fmt::print(stderr, "cannot open the Service Control Manager: {} (run as administrator)\n",
               last_error());
    return kExitFailure;
  }
  const DWORD access = SERVICE_CHANGE_CONFIG | SERVICE_QUERY_STATUS | SERVICE_START;
  bool updated = false;
  ScHandle service(CreateServiceW(
      scm.get(), kServiceNameW, kDisplayName, access, SERVICE_WIN32_OWN_PROCESS, SERVICE_AUTO_START,
      SERVICE_ERROR_NORMAL, command.c_str(), nullptr, nullptr, nullptr, nullptr, nullptr));
  if (!service && GetLastError() == ERROR_SERVICE_EXISTS) {
    // Installing again updates the installed service: a moved config or program.
    service.reset(OpenServiceW(scm.get(), kServiceNameW, access));
    if (service &&
        !ChangeServiceConfigW(service.get(), SERVICE_WIN32_OWN_PROCESS, SERVICE_AUTO_START,
                              SERVICE_ERROR_NORMAL, command.c_str(), nullptr, nullptr, nullptr,
                              nullptr, nullptr, kDisplayName)) {
      fmt::print(stderr, "cannot update the service {}: {}\n", kServiceName, last_error());
      return kExitFailure;
    }
    updated = true;
  }
  if (!service) {
    fmt::print(stderr, "cannot create the service {}: {}\n", kServiceName, last_error());
    return kExitFailure;
  }

  SERVICE_DESCRIPTIONW description{const_cast<wchar_t*>(kDescription)};
  // Delayed: the network and the resolvers are up by then, and boot is not slowed.
  SERVICE_DELAYED_AUTO_START_INFO delayed{TRUE};
  std::vector<SC_ACTION> actions;
  for (DWORD delay : kRestartDelaysMs) actions.push_back({SC_ACTION_RESTART, delay});
  SERVICE_FAILURE_ACTIONSW failure{};
  failure.dwResetPeriod = kFailureResetSeconds;
  failure.cActions = static_cast<DWORD>(actions.size());
  failure.lpsaActions = actions.data();
  // A stop with an error (the daemon could not start: a port in use, a config gone bad) is a
  // failure too, not only a crash.
  SERVICE_FAILURE_ACTIONS_FLAG failure_flag{TRUE};
  struct Setting {
    DWORD level;
    void* info;
    const char* what;
    const char* summary;  // for the report, once set
  };
  std::string report;
  for (const Setting& s :
       {Setting{SERVICE_CONFIG_DESCRIPTION, &description, "description", nullptr},
        Setting{SERVICE_CONFIG_DELAYED_AUTO_START_INFO, &delayed, "delayed automatic start",
                "start: automatic, delayed"},
        Setting{SERVICE_CONFIG_FAILURE_ACTIONS, &failure, "recovery actions",
                "recovery: restart after 5 s, 30 s, 60 s; the count resets after a day"},
        Setting{SERVICE_CONFIG_FAILURE_ACTIONS_FLAG, &failure_flag, "recovery on errors",
                "recovery also when it stops with an error"}}) {
    if (ChangeServiceConfig2W(service.get(), s.level, s.info)) {
      if (s.summary) report += fmt::format("  {}\n", s.summary);
      continue;
    }
    // Every Windows since Vista knows these settings; Wine knows only some of them.
    if (GetLastError() == ERROR_INVALID_LEVEL) {
      fmt::print(stderr, "warning: this system cannot set a service's {}; installed without\n",
                 s.what);
      continue;
    }
    fmt::print(stderr, "cannot set the service's {}: {}\n", s.what, last_error());
    return kExitFailure;
  }
  register_event_source();
  fmt::print("{} the service {}\n  command: {}\n{}", updated ? "updated" : "installed",
             kServiceName, win32::narrow(command), report);
  return kExitOk;
}

// Stops the service if it runs and waits until it has; false when it did not stop in time.
bool stop_and_wait(SC_HANDLE service) {
  SERVICE_STATUS status{};
  if (!ControlService(service, SERVICE_CONTROL_STOP, &status)) {
    const DWORD err = GetLastError();
    if (err == ERROR_SERVICE_NOT_ACTIVE) return true;
    // A service still starting takes no controls: wait for it, then stop it.
    if (err != ERROR_SERVICE_CANNOT_ACCEPT_CTRL) {
      fmt::print(stderr, "cannot stop the service {}: {}\n", kServiceName, win32::error_text(err));
      return false;
    }
    auto settled = wait_for_state(service, SERVICE_RUNNING);
    if (settled && settled->dwCurrentState == SERVICE_RUNNING &&
        !ControlService(service, SERVICE_CONTROL_STOP, &status) &&
        GetLastError() != ERROR_SERVICE_NOT_ACTIVE) {
      fmt::print(stderr, "cannot stop the service {}: {}\n", kServiceName, last_error());
      return false;
    }
  }
  auto final_status = wait_for_state(service, SERVICE_STOPPED);
  if (!final_status || final_status->dwCurrentState != SERVICE_STOPPED) {
    fmt::print(stderr, "the service {} did not stop within {} s (state {})\n", kServiceName,
               std::chrono::duration_cast<std::chrono::seconds>(kSettleTimeout).count(),
               final_status ? state_name(final_status->dwCurrentState) : "unknown");
    return false;
  }
  return true;
}

int uninstall() {
  ScHandle scm(OpenSCManagerW(nullptr, nullptr, SC_MANAGER_CONNECT));
  if (!scm) {
    fmt::print(stderr, "cannot open the Service Control Manager: {}\n", last_error());
    return kExitFailure;
  }
  ScHandle service(
      OpenServiceW(scm.get(), kServiceNameW, DELETE | SERVICE_STOP | SERVICE_QUERY_STATUS));
  if (!service) {
    if (GetLastError() == ERROR_SERVICE_DOES_NOT_EXIST) {
      fmt::print("the service {} is not installed\n", kServiceName);
      return kExitOk;
    }
    fmt::print(stderr, "cannot open the service {}: {}\n", kServiceName, last_error());
    return kExitFailure;
  }
  if (!stop_and_wait(service.get())) return kExitFailure;
  if (!DeleteService(service.get()) && GetLastError() != ERROR_SERVICE_MARKED_FOR_DELETE) {
    fmt::print(stderr, "cannot delete the service {}: {}\n", kServiceName, last_error());
    return kExitFailure;
  }
  RegDeleteKeyW(HKEY_LOCAL_MACHINE, kEventLogKey);
  fmt::print("uninstalled the service {}\n", kServiceName);
  return kExitOk;
}

// PARAMCHANGE: the service reloads its config, as SIGHUP does on Linux.
int reload() {
  ScHandle scm(OpenSCManagerW(nullptr, nullptr, SC_MANAGER_CONNECT));
  if (!scm) {
    fmt::print(stderr, "cannot open the Service Control Manager: {}\n", last_error());
    return kExitFailure;
  }
  ScHandle service(OpenServiceW(scm.get(), kServiceNameW, SERVICE_PAUSE_CONTINUE));
  SERVICE_STATUS status{};
  if (!service || !ControlService(service.get(), SERVICE_CONTROL_PARAMCHANGE, &status)) {
    fmt::print(stderr, "cannot ask the service {} to reload: {}\n", kServiceName, last_error());
    return kExitFailure;
  }
  fmt::print("asked the service {} to reload its config\n", kServiceName);
  return kExitOk;
}

int start_or_stop(bool start) {
  ScHandle scm(OpenSCManagerW(nullptr, nullptr, SC_MANAGER_CONNECT));
  if (!scm) {
    fmt::print(stderr, "cannot open the Service Control Manager: {}\n", last_error());
    return kExitFailure;
  }
  ScHandle service(
      OpenServiceW(scm.get(), kServiceNameW, SERVICE_START | SERVICE_STOP | SERVICE_QUERY_STATUS));
  if (!service) {
    fmt::print(
        stderr, "cannot open the service {}: {}{}\n", kServiceName, last_error(),
        GetLastError() == ERROR_SERVICE_DOES_NOT_EXIST ? " (ddnswatch service install)" : "");
    return kExitFailure;
  }
  if (!start) {
    if (!stop_and_wait(service.get())) return kExitFailure;
    fmt::print("the service {} is stopped\n", kServiceName);
    return kExitOk;
  }
  if (!StartServiceW(service.get(), 0, nullptr) &&
      GetLastError() != ERROR_SERVICE_ALREADY_RUNNING) {
    fmt::print(stderr, "cannot start the service {}: {}\n", kServiceName, last_error());
    return kExitFailure;
  }
  auto status = wait_for_state(service.get(), SERVICE_RUNNING);
  if (!status || status->dwCurrentState != SERVICE_RUNNING) {
    fmt::print(stderr,
               "the service {} did not start (state {}, exit code {}); see ddnswatch.log "
               "beside the config and the Event Log\n",
               kServiceName, status ? state_name(status->dwCurrentState) : "unknown",
               status ? status->dwServiceSpecificExitCode : 0);
    return kExitFailure;
  }
  fmt::print("the service {} is running (process {})\n", kServiceName, status->dwProcessId);
  return kExitOk;
}

// ---- The service itself -------------------------------------------------------------------

/// What the service tells the SCM. The SCM's control handler and the service's main thread
/// both report; a ticker thread raises the checkpoint every second while a start or stop is
/// pending, so the SCM sees progress however long the step takes.
class StatusReporter {
 public:
  void attach(SERVICE_STATUS_HANDLE handle) {
    std::lock_guard lock(mutex_);
    handle_ = handle;
    status_.dwServiceType = SERVICE_WIN32_OWN_PROCESS;
  }

  /// START_PENDING, RUNNING or STOP_PENDING. A repeated pending state only advances the
  /// checkpoint: it must never go back.
  void set(DWORD state) {
    std::lock_guard lock(mutex_);
    if (status_.dwCurrentState == SERVICE_STOPPED && state != SERVICE_START_PENDING) return;
    const bool pending = state == SERVICE_START_PENDING || state == SERVICE_STOP_PENDING;
    status_.dwCheckPoint = pending && status_.dwCurrentState == state ? status_.dwCheckPoint + 1
                           : pending                                  ? 1
                                                                      : 0;
    status_.dwCurrentState = state;
    status_.dwWaitHint = pending ? kWaitHintMs : 0;
    status_.dwControlsAccepted =
        state == SERVICE_RUNNING
            ? SERVICE_ACCEPT_STOP | SERVICE_ACCEPT_SHUTDOWN | SERVICE_ACCEPT_PARAMCHANGE
            : 0;
    SetServiceStatus(handle_, &status_);
  }

  /// The ticker's body: returns once finish() is called.
  void tick_until_finished() {
    std::unique_lock lock(mutex_);
    while (!finished_) {
      ticks_.wait_for(lock, 1s);
      if (finished_) break;
      if (status_.dwCurrentState == SERVICE_START_PENDING ||
          status_.dwCurrentState == SERVICE_STOP_PENDING) {
        ++status_.dwCheckPoint;
        SetServiceStatus(handle_, &status_);
      }
    }
  }

  void finish() {
    std::lock_guard lock(mutex_);
    finished_ = true;
    ticks_.notify_all();
  }

  /// The last report: after it the SCM may end the process at any moment.
  void stopped(int exit_code) {
    std::lock_guard lock(mutex_);
    status_.dwCurrentState = SERVICE_STOPPED;
    status_.dwControlsAccepted = 0;
    status_.dwCheckPoint = 0;
    status_.dwWaitHint = 0;
    status_.dwWin32ExitCode = exit_code == 0 ? NO_ERROR : ERROR_SERVICE_SPECIFIC_ERROR;
    status_.dwServiceSpecificExitCode = static_cast<DWORD>(exit_code);
    SetServiceStatus(handle_, &status_);
  }

 private:
  static constexpr DWORD kWaitHintMs = 10'000;
  std::mutex mutex_;
  std::condition_variable ticks_;
  SERVICE_STATUS_HANDLE handle_ = nullptr;  // guarded by mutex_
  SERVICE_STATUS status_{};                 // guarded by mutex_
  bool finished_ = false;                   // guarded by mutex_
};

// The SCM calls the service's main and its control handler on threads of its own, with no
// context pointer for main: the state they share lives here.
struct ServiceContext {
  DaemonOptions options;
  StatusReporter reporter;
  std::mutex mutex;
  Daemon* daemon = nullptr;  // guarded by mutex; set while the daemon runs
  int exit_code = 0;
};
ServiceContext* context = nullptr;

DWORD WINAPI on_control(DWORD control, DWORD, void*, void*) {
  switch (control) {
    case SERVICE_CONTROL_STOP:
    case SERVICE_CONTROL_SHUTDOWN: {
      // Both take the same graceful path: the loop stops, run() returns, everything closes.
      context->reporter.set(SERVICE_STOP_PENDING);
      std::lock_guard lock(context->mutex);
      if (context->daemon) {
        spdlog::info("the Service Control Manager asks to {}, stopping",
                     control == SERVICE_CONTROL_STOP ? "stop" : "shut down");
        context->daemon->request_stop();
      }
      return NO_ERROR;
    }
    case SERVICE_CONTROL_PARAMCHANGE: {
      std::lock_guard lock(context->mutex);
      if (context->daemon) context->daemon->request_reload();
      return NO_ERROR;
    }
    case SERVICE_CONTROL_INTERROGATE:
      return NO_ERROR;
    default:
      return ERROR_CALL_NOT_IMPLEMENTED;
  }
}

// Loads the config, creates the daemon and runs it; reports RUNNING once it serves.
int serve(ServiceContext& ctx) {
  DaemonOptions options = ctx.options;
  options.console_events = false;
  options.log_console = false;  // a service's stderr goes nowhere
  options.log_event_log = true;
  options.log_file = options.config_path.parent_path() / "ddnswatch.log";
  LogOptions early;
  early.level = options.log_level.value_or("info");
  early.console = false;
  early.file = options.log_file;
  early.event_log = true;
  if (!setup_logging(early)) {
    // The folder may not be writable; the Event Log still is.
    options.log_file.clear();
    early.file.clear();
    (void)setup_logging(early);
  }
  spdlog::info("service starting with {}", options.config_path.string());
  auto loaded = load_and_check_config(options.config_path);
  if (!loaded) {
    for (const auto& d : loaded.error()) {
      spdlog::error("{}: {}", options.config_path.string(), d.to_string());
    }
    spdlog::error("{}: {} error{}; not starting", options.config_path.string(),
                  loaded.error().size(), loaded.error().size() == 1 ? "" : "s");
    return kExitFailure;
  }
  if (auto r = setup_logging(effective_log_options(options, loaded->config)); !r) {
    spdlog::error("{}", r.error().message);
  }
  static SystemClock clock;
  auto daemon = Daemon::create(options, std::move(*loaded), clock);
  if (!daemon) {
    spdlog::critical("cannot start: {}", daemon.error().message);
    return kExitFailure;
  }
  {
    std::lock_guard lock(ctx.mutex);
    ctx.daemon = daemon->get();
  }
  ctx.reporter.set(SERVICE_RUNNING);
  const int rc = (*daemon)->run();
  ctx.reporter.set(SERVICE_STOP_PENDING);
  {
    std::lock_guard lock(ctx.mutex);
    ctx.daemon = nullptr;
  }
  daemon->reset();
  return rc;
}

void WINAPI service_main(DWORD, LPWSTR*) {
  ServiceContext& ctx = *context;
  SERVICE_STATUS_HANDLE handle = RegisterServiceCtrlHandlerExW(kServiceNameW, on_control, nullptr);
  if (handle == nullptr) {
    ctx.exit_code = kExitFailure;
    return;
  }
  ctx.reporter.attach(handle);
  ctx.reporter.set(SERVICE_START_PENDING);
  std::thread ticker([&ctx] { ctx.reporter.tick_until_finished(); });
  int rc = kExitFailure;
  try {
    rc = serve(ctx);
  } catch (const std::exception& e) {
    spdlog::critical("service failed: {}", e.what());
  }
  spdlog::info("service stopped{}", rc == 0 ? "" : fmt::format(" with exit code {}", rc));
  spdlog::default_logger()->flush();
  ctx.reporter.finish();
  ticker.join();
  ctx.exit_code = rc;
  ctx.reporter.stopped(rc);
}

}  // namespace

bool windows_service_supported() { return true; }

int service_command(const std::string& action, const std::filesystem::path& config) {
  if (action == "install") return install(config);
  if (action == "uninstall") return uninstall();
  if (action == "start") return start_or_stop(true);
  if (action == "stop") return start_or_stop(false);
  if (action == "reload") return reload();
  fmt::print(stderr, "unknown service action \"{}\" (install, uninstall, start, stop, reload)\n",
             action);
  return 2;
}

int run_service(const DaemonOptions& options) {
  static ServiceContext ctx;
  ctx.options = options;
  context = &ctx;
  SERVICE_TABLE_ENTRYW table[] = {{const_cast<wchar_t*>(kServiceNameW), service_main},
                                  {nullptr, nullptr}};
  if (!StartServiceCtrlDispatcherW(table)) {
    if (GetLastError() == ERROR_FAILED_SERVICE_CONTROLLER_CONNECT) {
      fmt::print(stderr,
                 "service-run is the command the Service Control Manager starts; to run in this "
                 "console, use: ddnswatch run --config FILE\n");
    } else {
      fmt::print(stderr, "cannot connect to the Service Control Manager: {}\n", last_error());
    }
    return kExitFailure;
  }
  return ctx.exit_code;
}

#endif

}  // namespace ddnswatch::app
