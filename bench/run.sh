#!/usr/bin/env bash
# The DNS engine benchmarks (bench/README.md): a local Knot DNS serves 10,000 A names; dnsperf
# and `engine_bench qps` each query it at their full rate for the same time (server pinned to
# core 0, client to core 1), then one sweep of 1000 names x 20 resolvers measures the time and
# the peak RSS of 20,000 (name, resolver) pairs.
#
# usage: bench/run.sh [PATH/TO/engine_bench]
#   without a path: ./build-bench/bench/engine_bench or ./build/bench/engine_bench, looked up
#   from the current folder and from the repository root.
# environment: BENCH_SECONDS (10) for each rate run, BENCH_IN_FLIGHT (100) queries
#   outstanding for every client, BENCH_SERVER_CPU (0), BENCH_CLIENT_CPU (1),
#   BENCH_CARES (1): also run the bare c-ares loop (engine_bench cares-qps) as a reference.
# A rate is only meaningful when its client kept its core busy: on a machine busy with other
# work the clients wait for the scheduler, not for themselves, and a warning says so.
# The last line is `engine/dnsperf qps ratio: X.XX`.
set -euo pipefail
export LC_ALL=C  # decimal points in printf and awk

seconds=${BENCH_SECONDS:-10}
in_flight=${BENCH_IN_FLIGHT:-100}
with_cares=${BENCH_CARES:-1}
server_cpu=${BENCH_SERVER_CPU:-0}
client_cpu=${BENCH_CLIENT_CPU:-1}
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
for tool in knotd dnsperf dig taskset ss awk; do
  command -v "$tool" >/dev/null || die "$tool is missing (apt-get install -y knot dnsperf bind9-dnsutils)"
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ddnswatch-bench.XXXXXX")
knot_pid=""
cleanup() {
  if [[ -n $knot_pid ]] && kill -0 "$knot_pid" 2>/dev/null; then
    kill "$knot_pid" 2>/dev/null || true
    wait "$knot_pid" 2>/dev/null || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

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
port_free() {
  [[ -z $(ss -Hlnu "sport = :$1") && -z $(ss -Hlnt "sport = :$1") ]]
}
port=""
for _ in $(seq 1 50); do
  candidate=$((20000 + RANDOM % 40000))
  if port_free "$candidate"; then
    port=$candidate
    break
  fi
done
[[ -n $port ]] || die "no free port found"

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

answers() {  # answers ADDRESS: true once the server there answers with the zone's data
  [[ $(dig +short +tries=1 +time=1 -p "$port" "@$1" n09999.bench.test A 2>/dev/null) == 10.0.39.15 ]]
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

# (c) dnsperf at its full rate: one client (one socket, as the engine has one per channel) and
# one thread; -T 2 only helps with -c 2 and two cores, and the second core is the server's.
# EDNS on (-e) as the engine sends it. Its CPU time comes from bash's `time`.
TIMEFORMAT='%U %S'
{ time taskset -c "$client_cpu" dnsperf -s 127.0.0.1 -p "$port" -d "$tmp/queries" \
  -l "$seconds" -c 1 -T 1 -q "$in_flight" -t 2 -e >"$tmp/dnsperf.out" 2>&1; } 2>"$tmp/dnsperf.cpu" || {
  cat "$tmp/dnsperf.out" >&2
  die "dnsperf failed"
}
dnsperf_qps=$(awk '/Queries per second:/ { print $4 }' "$tmp/dnsperf.out")
dnsperf_completed=$(awk '/Queries completed:/ { print $3 }' "$tmp/dnsperf.out")
dnsperf_lost=$(awk '/Queries lost:/ { print $3 }' "$tmp/dnsperf.out")
[[ -n $dnsperf_qps ]] || {
  cat "$tmp/dnsperf.out" >&2
  die "no rate in dnsperf's output"
}
printf 'dnsperf: %s queries, %.0f queries/s, %s lost\n' "$dnsperf_completed" "$dnsperf_qps" "$dnsperf_lost"
awk -v n="$dnsperf_completed" '{
  printf "dnsperf: CPU %.2f s (user %.2f, system %.2f), %.2f us of CPU per query (user %.2f, system %.2f)\n",
    $1 + $2, $1, $2, ($1 + $2) * 1e6 / n, $1 * 1e6 / n, $2 * 1e6 / n
}' "$tmp/dnsperf.cpu"

# (d) The engine against the same server, same core, same time, same queries outstanding.
run_client() {
  taskset -c "$client_cpu" "$bench" "$@"
}
run_client qps --server "127.0.0.1:$port" --names "$tmp/queries" \
  --seconds "$seconds" --in-flight "$in_flight" >"$tmp/engine.out" 2>&1 || {
  cat "$tmp/engine.out" >&2
  die "engine_bench qps failed"
}
cat "$tmp/engine.out"
engine_qps=$(awk '/^engine: .* queries\/s/ { print $4 }' "$tmp/engine.out")
engine_rss=$(awk '/^engine peak RSS:/ { print $4 }' "$tmp/engine.out")
[[ -n $engine_qps ]] || die "no rate in engine_bench's output"

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

# A client that did not keep its core busy measured the scheduler, not itself.
busy_check() {  # busy_check WHO CPU_SECONDS
  awk -v who="$1" -v cpu="$2" -v s="$seconds" 'BEGIN {
    if (cpu < 0.9 * s) printf "warning: %s used %.0f%% of its core: the machine is busy, its rate is not its own\n", who, 100 * cpu / s
  }'
}
busy_check dnsperf "$(awk '{ print $1 + $2 }' "$tmp/dnsperf.cpu")"
busy_check engine "$(awk '/^engine: CPU/ { print $3 }' "$tmp/engine.out")"

# (f) One sweep: 1000 names x 20 resolvers (one channel each), all queued at once.
run_client sweep --servers "$sweep_servers" --names "$tmp/queries" \
  --count "$sweep_names" >"$tmp/sweep.out" 2>&1 || {
  cat "$tmp/sweep.out" >&2
  die "engine_bench sweep failed"
}
cat "$tmp/sweep.out"
sweep_seconds=$(awk '/^sweep [0-9]+ names/ { print $7 }' "$tmp/sweep.out")
sweep_rss=$(awk '/^sweep peak RSS:/ { print $4 }' "$tmp/sweep.out")

# (e) The figures, the ratio last.
echo "---"
printf 'dnsperf: %.0f queries/s\n' "$dnsperf_qps"
printf 'engine: %.0f queries/s, peak RSS %s MB\n' "$engine_qps" "$engine_rss"
if [[ -n $cares_qps ]]; then
  awk -v c="$cares_qps" -v e="$engine_qps" -v d="$dnsperf_qps" 'BEGIN {
    printf "bare c-ares: %.0f queries/s (engine/c-ares %.2f, c-ares/dnsperf %.2f)\n", c, e / c, c / d
  }'
fi
echo "sweep $sweep_names names x $sweep_resolvers resolvers: $sweep_seconds s, peak RSS $sweep_rss MB"
awk -v e="$engine_qps" -v d="$dnsperf_qps" -v rss="$sweep_rss" 'BEGIN {
  printf "targets: engine >= 1.20 x dnsperf: %s; sweep peak RSS <= 30 MB: %s\n",
    (e >= 1.2 * d ? "met" : "missed"), (rss <= 30 ? "met" : "missed")
  printf "engine/dnsperf qps ratio: %.2f\n", e / d
}'
