# Sourced by scripts/demo.sh and scripts/soak.sh: the full lab of tests/lab/lab.sh in a fresh
# folder and ddnswatch on the lab's own config, both stopped (by PID) when the script exits.
#
#   start_lab_and_daemon NAME BINARY LOG [LAB_OPTION...]
#
# NAME names the folder (/tmp/ddnswatch-NAME.XXXXXX) and the messages; LOG is the file in that
# folder that gets the daemon's output, or "-" for the terminal. Afterwards $lab is lab.sh,
# $dir the lab's folder, $daemon the daemon's PID, and the variables of lab.env are set.
# KEEP_LAB=1 keeps the folder at the end.
# shellcheck shell=bash

lab=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/tests/lab/lab.sh
dir=""
daemon=""

stop_lab_and_daemon() {
  trap - EXIT INT TERM
  if [[ -n $daemon ]] && kill -0 "$daemon" 2>/dev/null; then
    kill -TERM "$daemon" 2>/dev/null || true
    wait "$daemon" 2>/dev/null || true
  fi
  [[ -n $dir ]] || return 0
  "$lab" stop "$dir" >/dev/null 2>&1 || true
  if [[ -n ${KEEP_LAB:-} ]]; then echo "kept $dir"; else rm -rf "$dir"; fi
}

start_lab_and_daemon() {
  local name=$1 binary=$2 log=$3
  shift 3
  dir=$(mktemp -d "/tmp/ddnswatch-$name.XXXXXX")
  trap stop_lab_and_daemon EXIT
  trap 'exit 130' INT TERM
  "$lab" start "$dir" --full "$@" >/dev/null
  # shellcheck disable=SC1091
  . "$dir/lab.env"
  if [[ $log == - ]]; then
    "$binary" run --config "$LAB_DDNSWATCH_CONFIG" &
  else
    "$binary" run --config "$LAB_DDNSWATCH_CONFIG" >"$dir/$log" 2>&1 &
  fi
  daemon=$!
  local deadline=$((SECONDS + 15))
  until curl -sf "$LAB_DDNSWATCH/healthz" >/dev/null 2>&1; do
    if ! kill -0 "$daemon" 2>/dev/null; then
      echo "$name: ddnswatch exited" >&2
      [[ $log == - ]] || tail -n 20 "$dir/$log" >&2
      exit 1
    fi
    ((SECONDS < deadline)) || { echo "$name: ddnswatch did not answer within 15 s" >&2; exit 1; }
    sleep 0.2
  done
}
