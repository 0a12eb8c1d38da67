#!/usr/bin/env bash
# The Windows service under Wine, end to end:
#   ddnswatch.exe service install --config ... ; service start ; /metrics scraped from Linux
#   (tests/windows/http_get.py) ; service reload (PARAMCHANGE) ; service stop ; sc query says
#   STOPPED ; 20 start/stop cycles ; service uninstall ; sc query says it is gone.
#
#   tests/windows/service_test.sh [BUILD_DIR]     (default build-windows; make test-windows)
#
# Wine runs in a private prefix inside the build folder. Services die when the last ordinary
# Wine process exits, so a persistent wineserver (-p) holds them, and -k ends everything at the
# end. Every wait is bounded. What Wine cannot show: SERVICE_CONTROL_SHUTDOWN at a real system
# shutdown (it takes the STOP path, tested here), the Event Log (ReportEvent is a stub there),
# recovery after a crash, service accounts.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
build=$(realpath "${1:-$root/build-windows}")
exe=$build/ddnswatch.exe
cycles=${CYCLES:-20}
[ -x "$exe" ] || { echo "service_test: $exe is missing (make windows)" >&2; exit 1; }

source "$root/tests/windows/wine.sh"
work=$build/service-test

say() { echo "service_test: $*" >&2; }
fail() {
  say "FAIL: $*"
  if [ -f "$work/ddnswatch.log" ]; then
    say "service log (last lines):"
    tail -n 20 "$work/ddnswatch.log" >&2
  fi
  exit 1
}

# wine with a hard time limit and stdin closed. A wineserver abort leaves every Wine client
# hanging: then the command is ended at once (timeout leads a process group of its own).
w() {
  timeout 120 wine "$@" </dev/null &
  local pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    if wine_crashed; then
      kill -- -"$pid" 2>/dev/null || true
      wait "$pid" 2>/dev/null || true
      return 125
    fi
    sleep 0.05
  done
  wait "$pid"
}

# The service's state as Wine's sc prints it (CRLF line ends), e.g. RUNNING; "" if unknown.
state() {
  w sc query ddnswatch 2>/dev/null | tr -d '\r' | sed -n 's/.*STATE *: *[0-9]* *\([A-Z_]*\).*/\1/p'
}

# Polls `cmd` every 0.1 s until it succeeds or `seconds` pass.
wait_for() {
  local seconds=$1
  shift
  local deadline=$((SECONDS + seconds))
  until "$@"; do
    [ $SECONDS -lt $deadline ] || return 1
    sleep 0.1
  done
}

stopped() { [ "$(state)" = STOPPED ]; }
# GET PATH from the service, body to stdout. Not curl: http_get.py says why (a Wine 8.0
# fault that curl's way of closing sets off).
get() { "$root/tests/windows/http_get.py" "$port" "$1" 2>/dev/null; }
scrape() { get /metrics >"$work/metrics.txt"; }
healthy() { get /healthz >/dev/null; }

# A TCP port on 127.0.0.1 that nobody listens on now.
pick_port() {
  local p
  for _ in $(seq 1 50); do
    p=$((20000 + RANDOM % 40000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
      echo "$p"
      return
    fi
  done
  return 1
}

cleanup() {
  wine_crashed || w "$exe" service uninstall >/dev/null 2>&1 || true
  wine_stop
}

run_once() {
  rm -rf "$work"
  mkdir -p "$work/state"
  # A persistent server: the services outlive every wine command below. services.exe starts
  # here with its output in a file, never this script's pipes (services inherit its stdio).
  wine_start
  w "$exe" service uninstall >/dev/null 2>&1 || true

  port=$(pick_port) || fail "no free port"
  local state_dir config
  state_dir=$(winepath -w "$work/state")
  cat >"$work/ddnswatch.json" <<EOF
{
  "listen": "127.0.0.1:$port",
  "state_dir": "${state_dir//\\/\\\\}",
  "log": { "level": "info", "format": "text" }
}
EOF
  config=$(winepath -w "$work/ddnswatch.json")

  local t0=$SECONDS
  w "$exe" service install --config "$config" || fail "service install"
  [ "$(state)" = STOPPED ] || fail "installed service is in state '$(state)', not STOPPED"
  w "$exe" service start || fail "service start"
  [ "$(state)" = RUNNING ] || fail "started service is in state '$(state)'"
  wait_for 30 scrape || fail "no /metrics on 127.0.0.1:$port"
  grep -q '^ddnswatch_build_info{' "$work/metrics.txt" || fail "/metrics lacks ddnswatch_build_info"
  say "service runs; /metrics on 127.0.0.1:$port answers ($(wc -l <"$work/metrics.txt") lines)"

  # PARAMCHANGE reloads: the log says so and the reload metric stays 1.
  w "$exe" service reload || fail "service reload"
  wait_for 10 grep -q 'configuration reloaded' "$work/ddnswatch.log" ||
    fail "no reload after PARAMCHANGE"
  scrape && grep -q '^ddnswatch_config_last_reload_successful 1' "$work/metrics.txt" ||
    fail "reload not successful"
  say "PARAMCHANGE reloaded the config"

  w "$exe" service stop || fail "service stop"
  [ "$(state)" = STOPPED ] || fail "stopped service is in state '$(state)'"
  healthy && fail "/healthz still answers after stop"
  say "stopped: sc query says STOPPED"

  local i started
  for i in $(seq 1 "$cycles"); do
    started=$SECONDS
    w "$exe" service start >/dev/null || fail "cycle $i: start"
    wait_for 30 healthy || fail "cycle $i: /healthz does not answer"
    w "$exe" service stop >/dev/null || fail "cycle $i: stop (state '$(state)')"
    wait_for 30 stopped || fail "cycle $i: state '$(state)' after stop"
    say "cycle $i/$cycles: start, /healthz, stop in $((SECONDS - started)) s"
  done

  grep -q 'service starting with' "$work/ddnswatch.log" || fail "the log file lacks the start"
  grep -q 'service stopped' "$work/ddnswatch.log" || fail "the log file lacks the stop"
  w "$exe" service uninstall || fail "service uninstall"
  w sc query ddnswatch >"$work/query.out" 2>&1 && fail "the service still exists after uninstall"
  say "PASS in $((SECONDS - t0)) s: install, start, scrape, reload, stop, $cycles cycles, uninstall"
}

trap cleanup EXIT
# Wine 8.0's wineserver sometimes aborts under poll()-heavy socket servers; that is Wine's
# fault, not the program's. http_get.py keeps clear of the one trigger found in this test;
# for any other, at most two more tries, and only for that exact failure.
(run_once) && exit 0
for attempt in 2 3; do
  wine_crashed || exit 1
  say "the wineserver aborted ($wine_crash_text); attempt $attempt"
  (run_once) && exit 0
done
exit 1
