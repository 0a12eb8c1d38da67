#!/usr/bin/env bash
# Runs every fuzz target in BIN_DIR (fuzz_<name>, built by `make fuzz`) for SECONDS seconds
# each, from its seed corpus tests/fuzz/corpus/<name> and its dictionary (dict/<name>.dict,
# or dict/dns.dict for the DNS targets). New inputs go to BIN_DIR/corpus/<name>, never into
# the repository; a crash is saved as BIN_DIR/crashes/<name>-crash-* and fails the run.
# Prints, per target, the executions, their rate and the coverage reached.
# Usage: tests/fuzz/run.sh BIN_DIR SECONDS [NAME...]
set -euo pipefail

bin_dir=${1:?usage: run.sh BIN_DIR SECONDS [NAME...]}
seconds=${2:?usage: run.sh BIN_DIR SECONDS [NAME...]}
shift 2
here=$(cd "$(dirname "$0")" && pwd)

names=("$@")
if [ ${#names[@]} -eq 0 ]; then
  for seeds in "$here"/corpus/*/; do names+=("$(basename "$seeds")"); done
fi

mkdir -p "$bin_dir/crashes"
summary=()
failed=()
for name in "${names[@]}"; do
  binary="$bin_dir/fuzz_$name"
  [ -x "$binary" ] || { echo "fuzz: no target $binary" >&2; exit 1; }
  mkdir -p "$bin_dir/corpus/$name"
  log="$bin_dir/$name.log"
  args=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=16384
        -print_final_stats=1 -artifact_prefix="$bin_dir/crashes/$name-")
  dict="$here/dict/$name.dict"
  case $name in dns_response | dns_wire | ip_answer) dict="$here/dict/dns.dict" ;; esac
  [ -f "$dict" ] && args+=(-dict="$dict")
  echo "== fuzz_$name (${seconds} s)"
  if "$binary" "${args[@]}" "$bin_dir/corpus/$name" "$here/corpus/$name" </dev/null >"$log" 2>&1; then
    status=ok
  else
    status=CRASH
    failed+=("$name")
    grep -E -A30 '==ERROR|runtime error|invariant broken|deadly signal|uncaught exception|Test unit written' "$log" | head -60 || tail -40 "$log"
  fi
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  cov=$(grep -oE 'cov: [0-9]+ ft: [0-9]+ corp: [0-9]+' "$log" | tail -1)
  summary+=("$(printf '%-13s %-6s %10s execs %7s/s  %s' "$name" "$status" "${runs:-?}" "${rate:-?}" "${cov:-cov: ?}")")
done

echo
echo "fuzz summary (cov: edges covered, ft: features, corp: corpus entries)"
printf '  %s\n' "${summary[@]}"
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: crashes in ${failed[*]} (inputs in $bin_dir/crashes; logs in $bin_dir/<name>.log)" >&2
  exit 1
fi
