#!/usr/bin/env bash
# A look at the propagation monitor without touching the internet: starts the DNS lab of the
# tests (BIND plus unbound caches on loopback), probes a name once, then runs the daemon on a
# config that watches it; /metrics is on 127.0.0.1:9877. In another shell, change the record
# with the command printed below and watch the caches go stale and match again.
# Ctrl-C stops the daemon and the lab.
set -euo pipefail

binary=${1:-build/ddnswatch}
here=$(cd "$(dirname "$0")/.." && pwd)
dir=$(mktemp -d /tmp/ddnswatch-demo.XXXXXX)
cleanup() {
  "$here/tests/lab/lab.sh" stop "$dir" >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap cleanup EXIT

"$here/tests/lab/lab.sh" start "$dir" >/dev/null
# shellcheck disable=SC1091
. "$dir/lab.env"

cat >"$dir/ddnswatch.json" <<JSON
{
  "listen": "127.0.0.1:9877",
  "state_dir": "$dir/state",
  "resolvers": {
    "bootstrap": "fast",
    "authoritative_port": $LAB_AUTH_PORT,
    "timeout": "1s",
    "tries": 1,
    "custom": [
      { "id": "fast", "address": "$LAB_FAST:$LAB_CACHE_PORT", "operator": "lab", "geo": "5s-cache" },
      { "id": "slow15", "address": "$LAB_SLOW15:$LAB_CACHE_PORT", "operator": "lab", "geo": "15s-cache" },
      { "id": "slow30", "address": "$LAB_SLOW30:$LAB_CACHE_PORT", "operator": "lab", "geo": "30s-cache" },
      { "id": "split", "address": "$LAB_SPLIT:$LAB_CACHE_PORT", "operator": "lab", "geo": "split-brain" },
      { "id": "servfail", "address": "$LAB_SERVFAIL:$LAB_CACHE_PORT", "operator": "lab", "geo": "broken" }
    ],
    "sets": { "lab": ["fast", "slow15", "slow30", "split", "servfail"] }
  },
  "watch": [
    { "name": "host1.ddnswatch.test", "type": "A", "expect": "authoritative",
      "resolvers": ["lab", "authoritative"], "interval": "10s", "fast_interval": "2s" }
  ]
}
JSON

"$binary" --config "$dir/ddnswatch.json" probe host1.ddnswatch.test -r lab,authoritative || true
echo
echo "Change the record:  $here/tests/lab/lab.sh update $dir host1.ddnswatch.test A 192.0.2.99"
echo "Watch the metrics:  curl -s 127.0.0.1:9877/metrics | grep dns_answer_state | grep ' 1$'"
echo
"$binary" run --config "$dir/ddnswatch.json"
