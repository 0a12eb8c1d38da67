// The Windows service: `ddnswatch service install|uninstall|start|stop|reload` talks to the Service
// Control Manager (SCM), and `ddnswatch service-run --config FILE` is the command line the SCM
// starts, which runs the daemon as the service. Elsewhere both say that they are Windows-only.
#pragma once

#include <filesystem>
#include <string>

#include "app/daemon.h"

namespace ddnswatch::app {

/// The service's name in the SCM, and the Event Log source it writes as.
inline constexpr const char* kServiceName = "ddnswatch";

/// True on Windows, where the commands below do something.
bool windows_service_supported();

/// "install" (or update an installed one), "uninstall", "start", "stop" or "reload"
/// (PARAMCHANGE: the service reloads its config). `config` must be
/// absolute and checked already: install writes it into the service's command line. Prints
/// what happened; returns the process exit code. Every wait is bounded. Main thread.
int service_command(const std::string& action, const std::filesystem::path& config);

/// The body of `service-run`: hands the main thread to the SCM and runs the daemon as the
/// service until the SCM stops it (STOP and SHUTDOWN alike; PARAMCHANGE reloads). Logs to
/// ddnswatch.log beside the config and to the Event Log. curl, c-ares and civetweb must be
/// initialised already (main). Returns the process exit code.
int run_service(const DaemonOptions& options);

}  // namespace ddnswatch::app
