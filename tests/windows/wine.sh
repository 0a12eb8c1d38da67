# Sourced by the Windows test scripts: Wine in a private prefix of the build folder, with no
# display, and helpers to start and end its server. Needs $build.

export WINEPREFIX=$build/wine WINEARCH=win64 WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="
unset DISPLAY WAYLAND_DISPLAY
wine_server_log=$build/wineserver.log

# What Wine 8.0's wineserver prints when it aborts under many polled sockets (server/sock.c).
# Its fault, not the program's: the scripts retry what it broke.
wine_crash_text='complete_async_poll: Assertion'

wine_crashed() { grep -q "$wine_crash_text" "$wine_server_log" 2>/dev/null; }

# Ends the prefix's server and every process of the prefix: after a server abort, Wine's own
# background processes (services.exe and the like) linger without it. Only Wine's programs
# whose environment names this very prefix are touched.
wine_stop() {
  timeout 30 wineserver -k 2>/dev/null || true
  local pid exe pids=()
  for pid in /proc/[0-9]*; do
    pid=${pid#/proc/}
    exe=$(readlink "/proc/$pid/exe" 2>/dev/null) || continue
    case $exe in */wine/*) ;; *) continue ;; esac
    if tr '\0' '\n' 2>/dev/null <"/proc/$pid/environ" | grep -qxF "WINEPREFIX=$WINEPREFIX"; then
      pids+=("$pid")
    fi
  done
  [ ${#pids[@]} -eq 0 ] || kill -9 "${pids[@]}" 2>/dev/null || true
}

# A fresh persistent server (it keeps services alive between commands), and Wine's background
# processes started now with their output in a file: they keep the stdio of whatever starts
# them, and a caller reading a pipe from them would wait for as long as they run.
wine_start() {
  wine_stop
  if [ ! -f "$WINEPREFIX/system.reg" ]; then
    echo "creating the Wine prefix $WINEPREFIX" >&2
    timeout 300 wineboot --init >/dev/null 2>&1 </dev/null
    # wineboot leaves its server running for a while; the persistent one replaces it.
    timeout 30 wineserver -k 2>/dev/null || true
  fi
  wineserver -p >"$wine_server_log" 2>&1 </dev/null
  timeout 120 wine cmd /c exit >"$build/wine-boot.log" 2>&1 </dev/null || true
}
