#!/usr/bin/env bash
# The benchmarks and the performance table (bench/README.md): a local Knot DNS serves 10,000 A
# names; dnsperf and `engine_bench qps` query it in turn, round after round, each at its full
# rate for the same time (server pinned to core 0, client to core 1), then one sweep of 1000 names x 20 resolvers
# measures the time and the peak RSS of 20,000 (name, resolver) pairs, and the same sweep runs
# behind delay_proxy's 50 ms; prometheus-blackbox-exporter probes the same server as fast as
# wrk can make it; the daemon is measured with 20,000 pairs (memory), with ~50,000 series
# (/metrics scrapes) and with a minimal config (start-up time, idle memory).
#
# usage: bench/run.sh [PATH/TO/engine_bench]
#   without a path: ./build-bench/bench/engine_bench or ./build/bench/engine_bench, looked up
#   from the current folder and from the repository root.
# environment: BENCH_ROUNDS (10) rounds of dnsperf then the engine, BENCH_ROUND_SECONDS (2)
#   each; BENCH_SECONDS (10) for the other rate runs (bare c-ares, blackbox exporter),
#   BENCH_IN_FLIGHT (100) queries outstanding for every client, BENCH_SERVER_CPU (0),
#   BENCH_CLIENT_CPU (1),
#   BENCH_CARES (1): also run the bare c-ares loop (engine_bench cares-qps) as a reference;
#   BENCH_DELAY_MS (50), BENCH_DELAY_IN_FLIGHT (100), BENCH_DELAY_RATE_LIMIT (0),
#   BENCH_HTTP_CLIENTS (32), BENCH_PAIRS (20000), BENCH_SERIES (50000), BENCH_SCRAPES (20),
#   BENCH_STARTS (7), BENCH_DDNSWATCH (the daemon; default ../ddnswatch from engine_bench).
# A rate is only meaningful when its client kept its core busy: on a machine busy with other
# work the clients wait for the scheduler, not for themselves, and a warning says so.
# It ends with `engine/dnsperf qps ratio: X.XX` and the performance table (markdown).
set -euo pipefail
export LC_ALL=C  # decimal points in printf and awk

seconds=${BENCH_SECONDS:-10}
in_flight=${BENCH_IN_FLIGHT:-100}
rounds=${BENCH_ROUNDS:-10}
round_seconds=${BENCH_ROUND_SECONDS:-2}
with_cares=${BENCH_CARES:-1}
server_cpu=${BENCH_SERVER_CPU:-0}
client_cpu=${BENCH_CLIENT_CPU:-1}
delay_ms=${BENCH_DELAY_MS:-50}
delay_in_flight=${BENCH_DELAY_IN_FLIGHT:-100}
delay_rate=${BENCH_DELAY_RATE_LIMIT:-0}
http_clients=${BENCH_HTTP_CLIENTS:-32}
pairs_target=${BENCH_PAIRS:-20000}
series_target=${BENCH_SERIES:-50000}
scrapes=${BENCH_SCRAPES:-20}
starts=${BENCH_STARTS:-7}
names=10000
sweep_names=1000
sweep_resolvers=20

die() {
  echo "run.sh: $*" >&2
  exit 1
}

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bench=${1:-}
if [[ -z $bench ]]; then
  for candidate in ./build-bench/bench/engine_bench ./build/bench/engine_bench \
    "$root/build-bench/bench/engine_bench" "$root/build/bench/engine_bench"; do
    if [[ -x $candidate ]]; then
      bench=$candidate
      break
    fi
  done
  [[ -n $bench ]] || die "no engine_bench found; build it (cmake --build build --target engine_bench) or pass its path"
fi
[[ -x $bench ]] || die "$bench is not an executable"
# The other programs are built beside engine_bench (the daemon one folder up).
delay_proxy=$(dirname "$bench")/delay_proxy
startup_bench=$(dirname "$bench")/startup_bench
ddnswatch=${BENCH_DDNSWATCH:-$(dirname "$bench")/../ddnswatch}
for program in "$delay_proxy" "$startup_bench" "$ddnswatch"; do
  [[ -x $program ]] || die "$program is missing; build it (see bench/README.md) or set BENCH_DDNSWATCH"
done
for tool in knotd dnsperf dig taskset ss awk curl wrk prometheus-blackbox-exporter; do
  command -v "$tool" >/dev/null ||
    die "$tool is missing (apt-get install -y knot dnsperf bind9-dnsutils curl wrk prometheus-blackbox-exporter)"
done

load_at_start=$(cut -d' ' -f1-3 /proc/loadavg)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/ddnswatch-bench.XXXXXX")
knot_pid=""
servers=()  # PIDs of everything started here, stopped on exit
stop_pid() {  # stop_pid PID: SIGTERM, and wait for it
  if [[ -n $1 ]] && kill -0 "$1" 2>/dev/null; then
    kill "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
  fi
}
cleanup() {
  for pid in "${servers[@]}"; do
    stop_pid "$pid"
  done
  stop_pid "$knot_pid"
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

wait_for() {  # wait_for SECONDS WHAT COMMAND...: polls COMMAND every 50 ms until it succeeds
  local deadline=$((SECONDS + $1)) what=$2
  shift 2
  until "$@"; do
    ((SECONDS < deadline)) || die "timed out waiting for $what"
    sleep 0.05
  done
}
proc_cpu_seconds() {  # proc_cpu_seconds PID: user + system CPU time of a process so far
  awk -v tick="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); print ($12 + $13) / tick }' "/proc/$1/stat"
}
# A config for the daemon: NAMES names of the zone, each watched at the 20 resolvers of
# 127.0.1.1-20 (custom resolvers: 100 in flight, no rate limit) with its expected address,
# every 10 minutes.
daemon_config() {  # daemon_config FILE HTTP_PORT NAMES STATE_DIR
  awk -v names="$3" -v resolvers="$sweep_resolvers" -v dns_port="$port" -v http_port="$2" \
    -v state="$4" 'BEGIN {
    printf "{\n  \"listen\": \"127.0.0.1:%d\",\n  \"state_dir\": \"%s\",\n", http_port, state
    printf "  \"log\": { \"level\": \"warn\" },\n  \"resolvers\": {\n    \"custom\": [\n"
    for (r = 1; r <= resolvers; r++)
      printf "      { \"id\": \"r%02d\", \"address\": \"127.0.1.%d:%d\", \"recursion\": false }%s\n",
        r, r, dns_port, (r < resolvers ? "," : "")
    printf "    ],\n    \"sets\": { \"bench\": ["
    for (r = 1; r <= resolvers; r++) printf "%s\"r%02d\"", (r > 1 ? ", " : ""), r
    printf "] }\n  },\n  \"watch\": [\n"
    for (i = 0; i < names; i++)
      printf "    { \"name\": \"n%05d.bench.test\", \"type\": \"A\", \"expect\": [\"10.%d.%d.%d\"], \"resolvers\": [\"bench\"], \"interval\": \"10m\" }%s\n",
        i, int(i / 65536) % 256, int(i / 256) % 256, i % 256, (i < names - 1 ? "," : "")
    printf "  ]\n}\n"
  }' >"$1"
}
start_daemon() {  # start_daemon CONFIG: sets daemon_pid and daemon_started_ns
  daemon_started_ns=$(date +%s%N)
  taskset -c "$client_cpu" "$ddnswatch" run --config "$1" >>"$tmp/daemon.log" 2>&1 &
  daemon_pid=$!
  servers+=("$daemon_pid")
}
daemon_ready() {  # daemon_ready PORT: true once /readyz says every name was checked
  kill -0 "$daemon_pid" 2>/dev/null || {
    cat "$tmp/daemon.log" >&2
    die "ddnswatch exited"
  }
  curl -sf --max-time 2 -o /dev/null "http://127.0.0.1:$1/readyz"
}
memory() {  # memory PID: "VmRSS VmHWM" in MB
  awk '/^VmRSS:/ { rss = $2 } /^VmHWM:/ { hwm = $2 } END { printf "%.1f %.1f\n", rss / 1024, hwm / 1024 }' \
    "/proc/$1/status"
}
series() {  # series PORT: the number of samples in one scrape
  curl -sf --max-time 10 "http://127.0.0.1:$1/metrics" | grep -vc '^#'
}
scrape() {  # scrape PORT [CURL_OPTIONS...]: "seconds bytes" of each of BENCH_SCRAPES scrapes
  local to=$1
  shift
  for _ in $(seq 1 "$scrapes"); do
    taskset -c "$server_cpu" curl -sf --max-time 10 -o /dev/null \
      -w '%{time_total} %{size_download}\n' "$@" "http://127.0.0.1:$to/metrics"
  done
}
scrape_stats() {  # scrape_stats FILE: "median_ms p95_ms bytes" of scrape's lines
  sort -n "$1" | awk '{ t[NR] = $1; b = $2 } END {
    p = int(0.95 * NR + 0.999)
    m = (NR % 2 ? t[(NR + 1) / 2] : (t[NR / 2] + t[NR / 2 + 1]) / 2)
    printf "%.1f %.1f %d\n", 1000 * m, 1000 * t[p], b
  }'
}

# (a) The zone: n00000.bench.test. ... n09999.bench.test., one A record each; the same names
# as a dnsperf query file and as engine_bench's name list.
awk -v n="$names" 'BEGIN {
  print "$ORIGIN bench.test."
  print "$TTL 3600"
  print "@ SOA ns.bench.test. hostmaster.bench.test. 1 3600 900 604800 300"
  print "@ NS ns.bench.test."
  print "ns A 127.0.0.1"
  for (i = 0; i < n; i++) printf "n%05d A 10.%d.%d.%d\n", i, int(i / 65536) % 256, int(i / 256) % 256, i % 256
}' >"$tmp/bench.test.zone"
awk -v n="$names" 'BEGIN { for (i = 0; i < n; i++) printf "n%05d.bench.test A\n", i }' >"$tmp/queries"

# (b) Knot DNS on a free port of 127.0.0.1 and of 127.0.1.1-127.0.1.20 (the sweep's resolvers;
# all of 127.0.0.0/8 is local on Linux, no address to add).
port_free() {  # no socket of any state on the port (a client's TIME_WAIT blocks a bind too)
  [[ -z $(ss -Hanu "sport = :$1") && -z $(ss -Hant "sport = :$1") ]]
}
pick_port() {  # a port free on UDP and TCP, other than the ones given; below Linux's
  local candidate  # ephemeral range (32768-60999), so no client takes it in the meantime
  for _ in $(seq 1 50); do
    candidate=$((20000 + RANDOM % 12768))
    if port_free "$candidate" && [[ " $* " != *" $candidate "* ]]; then
      echo "$candidate"
      return
    fi
  done
  die "no free port found"
}
port=$(pick_port)

sweep_servers=""
listen="127.0.0.1@$port"
for i in $(seq 1 "$sweep_resolvers"); do
  listen+=", 127.0.1.$i@$port"
  sweep_servers+="${sweep_servers:+,}127.0.1.$i:$port"
done
mkdir -p "$tmp/db"
cat >"$tmp/knot.conf" <<EOF
server:
    rundir: "$tmp"
    listen: [ $listen ]
    udp-workers: 1
    tcp-workers: 1
    background-workers: 1
database:
    storage: "$tmp/db"
log:
  - target: stderr
    any: warning
template:
  - id: default
    semantic-checks: off
    journal-content: none
    zonefile-sync: -1
    zonefile-load: whole
zone:
  - domain: bench.test.
    file: "$tmp/bench.test.zone"
EOF
taskset -c "$server_cpu" knotd -c "$tmp/knot.conf" >"$tmp/knot.log" 2>&1 &
knot_pid=$!

answers() {  # answers ADDRESS [PORT]: true once the server there answers with the zone's data
  [[ $(dig +short +tries=1 +time=1 -p "${2:-$port}" "@$1" n09999.bench.test A 2>/dev/null) == 10.0.39.15 ]]
}
ready=""
for _ in $(seq 1 100); do
  if ! kill -0 "$knot_pid" 2>/dev/null; then
    cat "$tmp/knot.log" >&2
    die "knotd exited"
  fi
  if answers 127.0.0.1 && answers "127.0.1.$sweep_resolvers"; then
    ready=yes
    break
  fi
  sleep 0.1
done
if [[ -z $ready ]]; then
  cat "$tmp/knot.log" >&2
  die "knotd does not answer on port $port"
fi
echo "knotd $(knotd --version | awk '{print $NF}') on 127.0.0.1:$port (CPU $server_cpu), $names A names;" \
  "clients on CPU $client_cpu, ${seconds}s each, $in_flight queries outstanding"

# (c, d) dnsperf and the engine in turn against the same server, same core, same queries
# outstanding: BENCH_ROUNDS rounds of BENCH_ROUND_SECONDS each, dnsperf then the engine in
# every round. A shared machine's drift (its neighbours, its clock speed) changes rates by
# 20-30 % from one 10 s run to the next; alternating short runs puts the same drift on both,
# and every round gives its own ratio. The figure is the median round; the range is printed.
# dnsperf: one client (one socket, as the engine has one per channel) and one thread; -T 2
# only helps with -c 2 and two cores, and the second core is the server's. EDNS on (-e) as
# the engine sends it. Its CPU time comes from bash's `time`.
TIMEFORMAT='%U %S'
run_client() {
  taskset -c "$client_cpu" "$bench" "$@"
}
# A client that did not keep its core busy measured the scheduler, not itself.
busy_check() {  # busy_check WHO CPU_SECONDS [SECONDS]
  awk -v who="$1" -v cpu="$2" -v s="${3:-$seconds}" 'BEGIN {
    if (cpu < 0.9 * s) printf "warning: %s used %.0f%% of its core: the machine is busy, its rate is not its own\n", who, 100 * cpu / s
  }'
}
: >"$tmp/rounds"
for round in $(seq 1 "$rounds"); do
  { time taskset -c "$client_cpu" dnsperf -s 127.0.0.1 -p "$port" -d "$tmp/queries" \
    -l "$round_seconds" -c 1 -T 1 -q "$in_flight" -t 2 -e >"$tmp/dnsperf.out" 2>&1; } 2>"$tmp/dnsperf.cpu" || {
    cat "$tmp/dnsperf.out" >&2
    die "dnsperf failed"
  }
  d_qps=$(awk '/Queries per second:/ { print $4 }' "$tmp/dnsperf.out")
  d_completed=$(awk '/Queries completed:/ { print $3 }' "$tmp/dnsperf.out")
  d_lost=$(awk '/Queries lost:/ { print $3 }' "$tmp/dnsperf.out")
  [[ -n $d_qps && -n $d_completed ]] || {
    cat "$tmp/dnsperf.out" >&2
    die "no rate in dnsperf's output"
  }
  read -r d_cpu d_user_us d_system_us < <(awk -v n="$d_completed" \
    '{ printf "%.2f %.2f %.2f\n", $1 + $2, $1 * 1e6 / n, $2 * 1e6 / n }' "$tmp/dnsperf.cpu")
  run_client qps --server "127.0.0.1:$port" --names "$tmp/queries" \
    --seconds "$round_seconds" --in-flight "$in_flight" >"$tmp/engine.out" 2>&1 || {
    cat "$tmp/engine.out" >&2
    die "engine_bench qps failed"
  }
  e_qps=$(awk '/^engine: .* queries\/s/ { print $4 }' "$tmp/engine.out")
  [[ -n $e_qps ]] || die "no rate in engine_bench's output"
  # "engine: CPU 9.96 s (user 3.61, system 6.35), 6.81 us of CPU per query (user 2.47, system 4.34)"
  read -r e_cpu e_us e_user_us e_system_us < <(awk '/^engine: CPU/ {
    gsub(/[(),]/, ""); print $3, $9, $16, $18 }' "$tmp/engine.out")
  d_us=$(awk -v a="$d_user_us" -v b="$d_system_us" 'BEGIN { printf "%.2f", a + b }')
  echo "$round $d_qps $e_qps $d_us $e_us $d_user_us $d_system_us $e_user_us $e_system_us $d_lost" >>"$tmp/rounds"
  awk -v r="$round" -v n="$rounds" -v d="$d_qps" -v e="$e_qps" -v du="$d_us" -v eu="$e_us" \
    -v dl="$d_lost" -v s="$round_seconds" 'BEGIN {
    printf "round %d/%d (%d s each): dnsperf %.0f q/s (%s lost), %.2f us of CPU per query; engine %.0f q/s, %.2f us of CPU per query; ratio %.2f\n",
      r, n, s, d, dl, du, e, eu, e / d
  }'
  busy_check "dnsperf (round $round)" "$d_cpu" "$round_seconds"
  busy_check "engine (round $round)" "$e_cpu" "$round_seconds"
done
engine_rss=$(awk '/^engine peak RSS:/ { print $4 }' "$tmp/engine.out")
median() {  # median COLUMN: the median of a column of the rounds ("ratio": engine/dnsperf)
  awk -v c="$1" '{ printf "%.6f\n", (c == "ratio" ? $3 / $2 : $c) }' "$tmp/rounds" | sort -g |
    awk '{ v[NR] = $1 } END { printf "%.4f\n", (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'
}
dnsperf_qps=$(median 2)
engine_qps=$(median 3)
dnsperf_us=$(median 4)
engine_us=$(median 5)
qps_ratio=$(median ratio)
read -r ratio_min ratio_max < <(awk '{ r = $3 / $2; if (NR == 1 || r < lo) lo = r; if (NR == 1 || r > hi) hi = r }
  END { printf "%.2f %.2f\n", lo, hi }' "$tmp/rounds")
awk -v n="$rounds" -v d="$dnsperf_qps" -v e="$engine_qps" -v du="$dnsperf_us" -v eu="$engine_us" \
  -v r="$qps_ratio" -v lo="$ratio_min" -v hi="$ratio_max" -f /dev/stdin "$tmp/rounds" <<'AWK'
{ dus += $6; dss += $7; eus += $8; ess += $9 }
END {
  printf "dnsperf: median %.0f queries/s, %.2f us of CPU per query (user %.2f, system %.2f, means)\n", d, du, dus / NR, dss / NR
  printf "engine: median %.0f queries/s, %.2f us of CPU per query (user %.2f, system %.2f, means)\n", e, eu, eus / NR, ess / NR
  printf "engine/dnsperf: median of %d rounds %.2f (range %.2f-%.2f)\n", n, r, lo, hi
}
AWK

# The floor: the same queries through a bare c-ares channel on epoll, without the engine.
cares_qps=""
if [[ $with_cares == 1 ]]; then
  run_client cares-qps --server "127.0.0.1:$port" --names "$tmp/queries" \
    --seconds "$seconds" --in-flight "$in_flight" >"$tmp/cares.out" 2>&1 || {
    cat "$tmp/cares.out" >&2
    die "engine_bench cares-qps failed"
  }
  cat "$tmp/cares.out"
  cares_qps=$(awk '/^cares: .* queries\/s/ { print $4 }' "$tmp/cares.out")
fi


# (f) One sweep: 1000 names x 20 resolvers (one channel each), all queued at once.
run_client sweep --servers "$sweep_servers" --names "$tmp/queries" \
  --count "$sweep_names" >"$tmp/sweep.out" 2>&1 || {
  cat "$tmp/sweep.out" >&2
  die "engine_bench sweep failed"
}
cat "$tmp/sweep.out"
sweep_seconds=$(awk '/^sweep [0-9]+ names/ { print $7 }' "$tmp/sweep.out")
sweep_rss=$(awk '/^sweep peak RSS:/ { print $4 }' "$tmp/sweep.out")

# (g) The same sweep behind an artificial round trip: delay_proxy holds every query for
# BENCH_DELAY_MS before it passes it on to knotd; it listens on 127.0.2.1-20 (one address, so
# one resolver and one channel, each) and forwards 127.0.2.N's queries to 127.0.1.N. The politeness limits are those of a custom resolver by
# default (100 in flight, no rate limit; docs/config.md).
proxy_port=$(pick_port "$port")
delayed_servers=""
for i in $(seq 1 "$sweep_resolvers"); do
  delayed_servers+="${delayed_servers:+,}127.0.2.$i:$proxy_port"
done
taskset -c "$server_cpu" "$delay_proxy" --listen "$delayed_servers" --upstream "$sweep_servers" \
  --delay-ms "$delay_ms" >"$tmp/proxy.log" 2>&1 &
proxy_pid=$!
servers+=("$proxy_pid")
wait_for 10 "delay_proxy to answer on 127.0.2.$sweep_resolvers:$proxy_port" \
  answers "127.0.2.$sweep_resolvers" "$proxy_port"
run_client sweep --servers "$delayed_servers" --names "$tmp/queries" --count "$sweep_names" \
  --in-flight "$delay_in_flight" --rate-limit "$delay_rate" >"$tmp/delayed.out" 2>&1 || true
grep -q '^sweep [0-9]* names' "$tmp/delayed.out" || {
  cat "$tmp/delayed.out" >&2
  die "engine_bench sweep behind delay_proxy failed"
}
stop_pid "$proxy_pid"
sed 's/^sweep/delayed sweep/' "$tmp/delayed.out"
grep '^delay_proxy: [0-9]' "$tmp/proxy.log" || true
read -r delayed_seconds delayed_timeouts < <(awk '/^sweep [0-9]+ names/ { print $7, $11 }' "$tmp/delayed.out")

# (h) prometheus-blackbox-exporter's DNS probe of the same server: the exporter on the
# client's core (as the engine was), wrk on the server's core driving /probe with
# BENCH_HTTP_CLIENTS connections; a probe counts when its answer says probe_success 1.
bb_port=$(pick_port "$port" "$proxy_port")
cat >"$tmp/blackbox.yml" <<END
modules:
  bench_a:
    prober: dns
    timeout: 2s
    dns:
      transport_protocol: udp
      preferred_ip_protocol: ip4
      ip_protocol_fallback: false
      query_name: n09999.bench.test
      query_type: A
      recursion_desired: false
      valid_rcodes: [NOERROR]
END
taskset -c "$client_cpu" prometheus-blackbox-exporter --config.file="$tmp/blackbox.yml" \
  --web.listen-address="127.0.0.1:$bb_port" --log.level=warn >"$tmp/blackbox.log" 2>&1 &
bb_pid=$!
servers+=("$bb_pid")
probe_url="http://127.0.0.1:$bb_port/probe?module=bench_a&target=127.0.0.1:$port"
probe_ok() { curl -sf --max-time 2 "$probe_url" | grep -q '^probe_success 1'; }
wait_for 10 "blackbox_exporter to probe successfully" probe_ok
bb_cpu_before=$(proc_cpu_seconds "$bb_pid")
taskset -c "$server_cpu" wrk -t 1 -c "$http_clients" -d "${seconds}s" \
  -s "$root/bench/probe_count.lua" "$probe_url" >"$tmp/wrk.out" 2>&1 || {
  cat "$tmp/wrk.out" >&2
  die "wrk failed"
}
bb_cpu=$(awk -v a="$bb_cpu_before" -v b="$(proc_cpu_seconds "$bb_pid")" 'BEGIN { print b - a }')
stop_pid "$bb_pid"
read -r bb_ok bb_failed bb_seconds < <(awk '/^probes:/ { print $2, $4, $6 }' "$tmp/wrk.out")
[[ -n $bb_ok ]] || {
  cat "$tmp/wrk.out" >&2
  die "no probe count in wrk's output"
}
bb_rate=$(awk -v n="$bb_ok" -v s="$bb_seconds" 'BEGIN { printf "%.0f", n / s }')
awk -v n="$bb_ok" -v f="$bb_failed" -v s="$bb_seconds" -v r="$bb_rate" -v cpu="$bb_cpu" \
  -v c="$http_clients" 'BEGIN {
  printf "blackbox_exporter: %d probes successful, %d failed, in %.2f s with %d HTTP clients: %d probes/s\n",
    n, f, s, c, r
  printf "blackbox_exporter: CPU %.2f s, %.0f us of CPU per probe\n", cpu, (n > 0 ? cpu * 1e6 / n : 0)
}'
busy_check blackbox_exporter "$bb_cpu"
# CPU per query (probe), which a busy machine disturbs less than the rates.
bb_us=$(awk -v n="$bb_ok" -v cpu="$bb_cpu" 'BEGIN { printf "%.1f", (n > 0 ? cpu * 1e6 / n : 0) }')

# (i) The daemon, watching names x the 20 resolvers of 127.0.1.1-20 directly (no delay), each
# name every 10 minutes so that nothing but the first sweep runs while it is measured.
# First BENCH_PAIRS pairs (1000 names): its memory once every name was checked (/readyz), and
# its series count, from which the number of names for ~BENCH_SERIES series follows.
pairs_names=$((pairs_target / sweep_resolvers))
http_port=$(pick_port "$port")
daemon_config "$tmp/pairs.json" "$http_port" "$pairs_names" "$tmp/state-pairs"
start_daemon "$tmp/pairs.json"
wait_for 300 "ddnswatch to check $pairs_names names (/readyz)" daemon_ready "$http_port"
pairs_ready_s=$(awk -v a="$daemon_started_ns" -v b="$(date +%s%N)" 'BEGIN { printf "%.2f", (b - a) / 1e9 }')
pairs_cpu=$(proc_cpu_seconds "$daemon_pid")
read -r pairs_rss pairs_hwm < <(memory "$daemon_pid")
curl -sf --max-time 10 "http://127.0.0.1:$http_port/metrics" >"$tmp/pairs.metrics"
pairs_series=$(grep -vc '^#' "$tmp/pairs.metrics")
pairs_match=$(grep -c '^ddnswatch_dns_answer_state{.*state="match"} 1$' "$tmp/pairs.metrics" || true)
stop_pid "$daemon_pid"
echo "daemon, $pairs_names names x $sweep_resolvers resolvers ($((pairs_names * sweep_resolvers)) pairs):" \
  "ready (every name checked) ${pairs_ready_s} s after exec (CPU $pairs_cpu s), $pairs_match pairs match;" \
  "VmRSS $pairs_rss MB, VmHWM $pairs_hwm MB; $pairs_series series"

# (j) /metrics with ~BENCH_SERIES series: BENCH_SCRAPES scrapes in a row by curl (on the
# server's core), plain and with Accept-Encoding: gzip, after one round to warm up.
metrics_names=$(awk -v t="$series_target" -v s="$pairs_series" -v n="$pairs_names" \
  'BEGIN { printf "%d", t * n / s + 0.5 }')
http_port=$(pick_port "$port" "$http_port")
daemon_config "$tmp/series.json" "$http_port" "$metrics_names" "$tmp/state-series"
start_daemon "$tmp/series.json"
wait_for 300 "ddnswatch to check $metrics_names names (/readyz)" daemon_ready "$http_port"
metrics_series=$(series "$http_port")
scrape "$http_port" >/dev/null
scrape "$http_port" >"$tmp/scrape.plain"
scrape "$http_port" -H 'Accept-Encoding: gzip' >"$tmp/scrape.gzip"
stop_pid "$daemon_pid"
read -r plain_median plain_p95 plain_bytes < <(scrape_stats "$tmp/scrape.plain")
read -r gzip_median gzip_p95 gzip_bytes < <(scrape_stats "$tmp/scrape.gzip")
echo "/metrics, $metrics_names names x $sweep_resolvers resolvers, $metrics_series series," \
  "$scrapes scrapes each: plain $plain_bytes bytes, median $plain_median ms, p95 $plain_p95 ms;" \
  "gzip $gzip_bytes bytes, median $gzip_median ms, p95 $gzip_p95 ms"

# (k) Start-up and idle memory: the daemon with a minimal config (listen, state_dir, log; no
# resolver, no watch), BENCH_STARTS times, from exec to /healthz answering and to READY=1.
http_port=$(pick_port "$port" "$http_port")
cat >"$tmp/idle.json" <<END
{ "listen": "127.0.0.1:$http_port", "state_dir": "$tmp/state-idle", "log": { "level": "warn" } }
END
taskset -c "$client_cpu" "$startup_bench" --port "$http_port" --runs "$starts" -- \
  "$ddnswatch" run --config "$tmp/idle.json" >"$tmp/startup.out" 2>&1 || {
  cat "$tmp/startup.out" >&2
  die "startup_bench failed"
}
cat "$tmp/startup.out"
read -r start_healthz start_ready < <(awk '/^startup median:/ { print $4, $7 }' "$tmp/startup.out")
read -r idle_rss idle_hwm < <(awk '/^idle RSS:/ { print $4, $7 }' "$tmp/startup.out")

# (e) The figures, the ratio, then the table.
echo "---"
printf 'dnsperf: %.0f queries/s\n' "$dnsperf_qps"
printf 'engine: %.0f queries/s, peak RSS %s MB\n' "$engine_qps" "$engine_rss"
if [[ -n $cares_qps ]]; then
  awk -v c="$cares_qps" -v e="$engine_qps" -v d="$dnsperf_qps" 'BEGIN {
    printf "bare c-ares: %.0f queries/s (engine/c-ares %.2f, c-ares/dnsperf %.2f)\n", c, e / c, c / d
  }'
fi
echo "sweep $sweep_names names x $sweep_resolvers resolvers: $sweep_seconds s, peak RSS $sweep_rss MB"
awk -v r="$qps_ratio" -v rss="$sweep_rss" 'BEGIN {
  printf "targets: engine >= 1.20 x dnsperf: %s; sweep peak RSS <= 30 MB: %s\n",
    (r >= 1.2 ? "met" : "missed"), (rss <= 30 ? "met" : "missed")
  printf "engine/dnsperf qps ratio: %.2f\n", r
}'
echo "load average now: $(cut -d' ' -f1-3 /proc/loadavg) (at the start: $load_at_start)"
echo
awk -v e="$engine_qps" -v d="$dnsperf_qps" -v bb="$bb_rate" -v ds="$delayed_seconds" -v dt="$delayed_timeouts" \
  -v dms="$delay_ms" -v dif="$delay_in_flight" -v drl="$delay_rate" -v sn="$sweep_names" \
  -v sr="$sweep_resolvers" -v ms="$metrics_series" -v pm="$plain_median" -v pp="$plain_p95" \
  -v pb="$plain_bytes" -v gm="$gzip_median" -v gp="$gzip_p95" -v gb="$gzip_bytes" \
  -v ir="$idle_rss" -v ih="$idle_hwm" -v pairs="$((pairs_names * sweep_resolvers))" \
  -v pr="$pairs_rss" -v ph="$pairs_hwm" -v sh="$start_healthz" -v sre="$start_ready" \
  -v starts="$starts" -v scrapes="$scrapes" -v du="$dnsperf_us" -v eu="$engine_us" -v bu="$bb_us" \
  -v r="$qps_ratio" -v rounds="$rounds" -v lo="$ratio_min" -v hi="$ratio_max" \
  'BEGIN {
  row = "| %d | %s | %s | %s | %s |\n"
  print "| # | measure | figure (this run) | target | result |"
  print "|---|---|---|---|---|"
  printf row, 1, "engine queries/s vs dnsperf, same server",
    sprintf("%.2fx, median of %d rounds (range %.2f-%.2f; medians %.0f vs %.0f q/s); CPU per query %.2f vs %.2f us (%.2fx)",
      r, rounds, lo, hi, e, d, eu, du, du / eu), ">= 1.20x", (r >= 1.2 ? "met" : "missed")
  printf row, 2, "engine queries/s vs blackbox_exporter DNS probes/s, same server",
    sprintf("%.1fx (%.0f q/s vs %.0f probes/s); CPU per query/probe %.2f vs %.0f us (%.0fx)",
      (bb > 0 ? e / bb : 0), e, bb, eu, bu, bu / eu), ">= 50x",
    (e >= 50 * bb ? "met" : "missed")
  printf row, 3, sprintf("sweep %d names x %d resolvers behind a %d ms round trip", sn, sr, dms),
    sprintf("%.3f s, %d timeouts (per resolver: %d in flight, %s)", ds, dt, dif,
      (drl > 0 ? drl " queries/s" : "no rate limit")), "< 1 s, every answer",
    ((ds < 1 && dt == 0) ? "met" : "missed")
  printf row, 4, sprintf("/metrics scrape, %d series (%d scrapes)", ms, scrapes),
    sprintf("plain: median %.1f ms, p95 %.1f ms, %.1f MB; gzip: median %.1f ms, p95 %.1f ms, %.2f MB",
      pm, pp, pb / 1e6, gm, gp, gb / 1e6), "< 50 ms", ((pp < 50 && gp < 50) ? "met" : "missed")
  printf row, 5, sprintf("daemon RSS idle / %d pairs after the first sweep", pairs),
    sprintf("idle: VmRSS %.1f MB (VmHWM %.1f); %d pairs: VmRSS %.1f MB (VmHWM %.1f)",
      ir, ih, pairs, pr, ph), "none set", "-"
  printf row, 6, sprintf("start-up, exec to /healthz 200 (median of %d)", starts),
    sprintf("%.1f ms (READY=1: %.1f ms)", sh, sre), "none set", "-"
}'
