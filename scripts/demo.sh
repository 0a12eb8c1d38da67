#!/usr/bin/env bash
# ddnswatch end to end without touching the internet: starts the full lab of the tests on
# loopback (tests/lab/lab.sh start DIR --full) and runs the daemon against it.
#
#   - BIND, the RFC 2136 target for home.ddnswatch.test, with a secondary that follows it
#   - PowerDNS, updated through its HTTP API, for home.ddnswatch-pdns.test
#   - six unbound caches as resolvers in "regions": fast, lagging 15 s, lagging 30 s,
#     split-brain (answers a foreign address), SERVFAIL, black hole; and a dead address
#   - an echo service telling the "public address" three ways (text, JSON, trace), of which
#     two must agree (quorum)
#   - Prometheus with dashboards/prometheus/alerts.yml, Alertmanager, a webhook receiver
#
# The daemon detects the address, keeps both records at it, watches both names everywhere and
# sends its events to the receiver and to Alertmanager. Ctrl-C stops everything.
# DEMO_ALERT_FOR (default 1m) replaces the alert rules' `for:` durations (10m and more as
# shipped), so that an alert shows within minutes.
set -euo pipefail

binary=$(realpath "${1:-build/ddnswatch}")
# shellcheck source=scripts/lab-daemon.sh
. "$(dirname "$0")/lab-daemon.sh"

echo "Starting the lab ..."
start_lab_and_daemon demo "$binary" - --alert-for "${DEMO_ALERT_FOR:-1m}"

cat <<EOF

ddnswatch is running against the lab; its log follows below. Where to look:

  status page      $LAB_DDNSWATCH/          (JSON: $LAB_DDNSWATCH/status)
  metrics          $LAB_DDNSWATCH/metrics
  Prometheus       $LAB_PROMETHEUS/alerts   (rules: alerts.yml, every for: ${DEMO_ALERT_FOR:-1m})
  Alertmanager     $LAB_ALERTMANAGER/
  webhook log      tail -f $LAB_WEBHOOK_LOG
  config           $LAB_DDNSWATCH_CONFIG
  resolvers        dig @$LAB_SLOW30 -p $LAB_CACHE_PORT $LAB_HOME_NAME   (caches: $LAB_FAST .. $LAB_DROP)

The public address is $LAB_INITIAL_IP. Change it (any address in 203.0.113.0/24), then watch
the records being updated, the caches going stale and matching again at 5, 15 and 30 s,
the split-brain resolver staying foreign, and the alerts and events arriving:

  $lab ip $dir 203.0.113.20

Take a resolver down and up again:  $lab down $dir slow15 ; $lab up $dir slow15
Ctrl-C stops ddnswatch and the lab.

EOF
wait "$daemon"
