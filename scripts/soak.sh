#!/usr/bin/env bash
# The soak test (`make soak`): ddnswatch runs for SOAK_MINUTES (default 10) against the full
# lab of tests/lab/lab.sh while one cache after another goes down and comes back (every 20 to
# 40 s) and the public address changes every minute. Every 10 s it samples the daemon's
# resident memory (VmRSS) and its open file descriptors (/proc/PID/fd). Both must stay flat:
# over the second half of the samples (the first half is warm-up), the least-squares slope of
# RSS must stay under SOAK_MAX_RSS_MB (default 1) MB per 10 minutes, and the descriptors
# (the fewest of five looks 0.2 s apart) must not grow: their fitted trend line must gain
# less than one descriptor over that second half (a descriptor opened while a resolver is
# down and closed when it is back is noise of +-1, not growth). It prints the samples and the verdict and
# exits 1 on a failed verdict (or if the daemon dies).
#
#   scripts/soak.sh [BINARY]          BINARY defaults to build/ddnswatch
set -euo pipefail

binary=$(realpath "${1:-build/ddnswatch}")
minutes=${SOAK_MINUTES:-10}
max_rss_mb=${SOAK_MAX_RSS_MB:-1}
if ! [[ $minutes =~ ^[0-9]+$ ]] || ((minutes < 1)); then
  echo "soak: SOAK_MINUTES must be a whole number of minutes, at least 1" >&2
  exit 2
fi
# shellcheck source=scripts/lab-daemon.sh
. "$(dirname "$0")/lab-daemon.sh"
start_lab_and_daemon soak "$binary" ddnswatch.log

rss_kb() { sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$daemon/status"; }
# The descriptors that persist: the fewest of five looks 0.2 s apart, so the sockets of
# queries and requests in flight at one instant do not count as growth.
fds() {
  local least="" n i
  for i in 1 2 3 4 5; do
    n=$(find "/proc/$daemon/fd" -mindepth 1 -maxdepth 1 | wc -l)
    if [[ -z $least ]] || ((n < least)); then least=$n; fi
    ((i == 5)) || sleep 0.2
  done
  echo "$least"
}

caches=(fast slow15 slow30 split servfail drop)
down=""            # the cache that is down now, if any
next_flap=$((20 + RANDOM % 21))
next_ip=60
next_sample=0
changes=0 flaps=0
start=$SECONDS
end=$((start + minutes * 60))
samples=$dir/samples.tsv
echo "soak: $minutes min against the lab in $dir (ddnswatch PID $daemon)"
printf '%8s %10s %5s  %s\n' "t (s)" "RSS (kB)" "fds" "what happened since the last sample"
events=""
while ((SECONDS < end)); do
  now=$((SECONDS - start))
  if ! kill -0 "$daemon" 2>/dev/null; then
    echo "soak: FAIL: ddnswatch exited; last lines of its log:" >&2
    tail -n 20 "$dir/ddnswatch.log" >&2
    exit 1
  fi
  if ((now >= next_flap)); then
    if [[ -n $down ]]; then
      "$lab" resume "$dir" "$down" >/dev/null
      events+=" up:$down"
      down=""
    else
      # Each cache in turn (bash's RANDOM modulo a small number repeats itself here).
      down=${caches[(flaps / 2) % ${#caches[@]}]}
      "$lab" pause "$dir" "$down" >/dev/null
      events+=" down:$down"
    fi
    flaps=$((flaps + 1))
    next_flap=$((now + 20 + RANDOM % 21))
  fi
  if ((now >= next_ip)); then
    changes=$((changes + 1))
    "$lab" ip "$dir" "203.0.113.$((20 + changes % 200))"
    events+=" ip:203.0.113.$((20 + changes % 200))"
    next_ip=$((next_ip + 60))
  fi
  if ((now >= next_sample)); then
    rss=$(rss_kb) fd=$(fds)
    printf '%s\t%s\t%s\n' "$now" "$rss" "$fd" >>"$samples"
    printf '%8d %10d %5d %s\n' "$now" "$rss" "$fd" "$events"
    events=""
    next_sample=$((next_sample + 10))
  fi
  sleep 1
done
[[ -z $down ]] || "$lab" resume "$dir" "$down" >/dev/null

updated=$(curl -sf "$LAB_DDNSWATCH/metrics" |
  awk '/^ddnswatch_record_updates_total\{.*outcome="updated"/ { n += $NF } END { print n + 0 }')
echo "soak: $changes address changes, $flaps resolver stops/starts, $updated record updates"

# The verdict: least-squares slopes over the second half of the samples.
/usr/bin/python3 - "$samples" "$max_rss_mb" <<'EOF'
import sys

rows = [tuple(float(x) for x in line.split("\t")) for line in open(sys.argv[1]) if line.strip()]
max_rss_mb = float(sys.argv[2])
half = rows[len(rows) // 2:]
if len(half) < 3:
    sys.exit("soak: FAIL: too few samples for a verdict")


def slope(points):
    n = len(points)
    mx = sum(x for x, _ in points) / n
    my = sum(y for _, y in points) / n
    sxx = sum((x - mx) ** 2 for x, _ in points)
    return sum((x - mx) * (y - my) for x, y in points) / sxx


ten_minutes = 600.0
rss_growth = slope([(t, rss) for t, rss, _ in half]) * ten_minutes / 1024.0  # MB / 10 min
window = half[-1][0] - half[0][0]
fd_gain = slope([(t, fd) for t, _, fd in half]) * window  # fds over the window
ok_rss = rss_growth < max_rss_mb
ok_fd = fd_gain < 1.0
print(f"soak: second half ({len(half)} samples from t={half[0][0]:.0f} s): "
      f"RSS {half[0][1]:.0f} -> {half[-1][1]:.0f} kB, slope {rss_growth:+.3f} MB per 10 min "
      f"(limit {max_rss_mb:g}) {'ok' if ok_rss else 'FAIL'}; "
      f"fds {half[0][2]:.0f} -> {half[-1][2]:.0f}, trend {fd_gain:+.2f} over those {window:.0f} s "
      f"(limit: less than 1) {'ok' if ok_fd else 'FAIL'}")
print("soak: PASS" if ok_rss and ok_fd else "soak: FAIL")
sys.exit(0 if ok_rss and ok_fd else 1)
EOF
