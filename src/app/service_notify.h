// Telling systemd how the service is doing, by its notification protocol (sd_notify(3)): one
// datagram per message to the AF_UNIX socket named in $NOTIFY_SOCKET. The protocol is small and
// stable, so it is spoken here rather than linking libsystemd for it. Without $NOTIFY_SOCKET
// (not started by systemd with Type=notify, or not on Linux) every call does nothing.
#pragma once

#include <optional>
#include <string>

#include "core/clock.h"

namespace ddnswatch::app {

class ServiceNotifier {
 public:
  /// Reads $NOTIFY_SOCKET, $WATCHDOG_USEC and $WATCHDOG_PID once.
  ServiceNotifier();

  bool enabled() const { return !socket_.empty(); }

  /// Start-up done, or a reload ended (either way): READY=1 with a STATUS line.
  void ready(const std::string& status);
  /// A reload begins: RELOADING=1 with MONOTONIC_USEC, as systemd 253's Type=notify-reload
  /// requires (older versions accept and ignore it).
  void reloading();
  /// A stop begins: STOPPING=1.
  void stopping();
  /// WATCHDOG=1: the event loop is alive.
  void watchdog();

  /// How often to call watchdog(): half of WatchdogSec, when systemd asked for it.
  std::optional<Duration> watchdog_interval() const { return watchdog_interval_; }

  /// Sends one message as is; false when there is no socket or sending failed.
  bool send(const std::string& message) const;

 private:
  std::string socket_;
  std::optional<Duration> watchdog_interval_;
};

}  // namespace ddnswatch::app
