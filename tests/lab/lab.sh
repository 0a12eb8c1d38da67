#!/usr/bin/env bash
# The DNS lab for integration tests: two authoritatives and six unbound caches on loopback
# addresses, started as plain child processes (never through systemd) so a test can own them.
#
#   lab.sh start DIR [--full [--alert-for DURATION]]
#                                             configs, logs and pid files go into DIR
#   lab.sh update DIR NAME TYPE ADDRESS [TTL] replace NAME/TYPE at auth1 (TSIG-signed nsupdate)
#   lab.sh pause DIR NAME                     stop one server (auth1, auth2, fast, slow15, ...):
#                                             its address and port go unanswered
#   lab.sh resume DIR NAME [refuse|servfail]  start it again on the same address and port;
#                                             a cache can come back answering REFUSED or
#                                             SERVFAIL for the zone (a failing resolver)
#   lab.sh ip DIR ADDRESS                     the public address the echo service reports (--full)
#   lab.sh stop DIR                           stop what start started; safe to call twice
#
# `start` prints the lab's interface (the lines of DIR/lab.env) on stdout.
#
# --full adds what `make demo` and the end-to-end test need around the DNS servers: auth2
# becomes a real secondary of auth1 (NOTIFY and zone transfer), PowerDNS serves a second zone
# with its HTTP API, an HTTP echo service reports a public address that `lab.sh ip` changes,
# a webhook receiver logs what it gets to DIR/webhook.log, Prometheus evaluates
# dashboards/prometheus/alerts.yml every second (every `for:` set to DURATION when given) and
# sends to Alertmanager, which routes every alert to the receiver. DIR/ddnswatch.json is a
# ready config for all of it; the lab never starts ddnswatch itself.
set -euo pipefail

readonly ZONE=ddnswatch.test
readonly AUTH1=127.0.0.1
readonly AUTH2=127.0.0.2
# PowerDNS (--full): answers for PDNS_ZONE on the authoritatives' port.
readonly PDNS=127.0.0.3
readonly PDNS_ZONE=ddnswatch-pdns.test
readonly FAST=127.0.0.11
readonly SLOW15=127.0.0.12
readonly SLOW30=127.0.0.13
readonly SPLIT=127.0.0.14
readonly SERVFAIL=127.0.0.15
readonly DROP=127.0.0.16
readonly DEAD=127.0.0.19
readonly FOREIGN=198.51.100.66
# The name a DDNS user would update (home.ZONE, also home.PDNS_ZONE) and the public address
# the echo service reports at first; both zones start with it, so nothing is written at start.
readonly HOME_LABEL=home
readonly INITIAL_IP=203.0.113.10
readonly KEY_NAME=ddnswatch-lab
readonly KEY_ALGORITHM=hmac-sha256
# A pyenv python may come first on PATH; the system one is always there on Debian.
readonly PYTHON=/usr/bin/python3
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
readonly HERE
readonly ALERTS=$HERE/../../dashboards/prometheus/alerts.yml
readonly START_DEADLINE_US=15000000
readonly STOP_DEADLINE_US=5000000

usage() {
  cat >&2 <<'EOF'
usage: lab.sh start DIR [--full [--alert-for DURATION]]
       lab.sh update DIR NAME TYPE ADDRESS [TTL]
       lab.sh pause DIR NAME
       lab.sh resume DIR NAME [refuse|servfail]
       lab.sh ip DIR ADDRESS
       lab.sh stop DIR
EOF
  exit 2
}

now_us() {
  # EPOCHREALTIME uses the locale's decimal point; strip either kind.
  echo "${EPOCHREALTIME//[.,]/}"
}

# True if PID runs and is not a zombie (PID 1 here reaps orphans only every second or so).
alive() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  stat=${stat##*) }
  [[ ${stat%% *} != Z ]]
}

# True if PID is a server of the lab in DIR, so a recycled PID is never signalled.
ours() {
  local cmdline
  cmdline=$(tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null) || return 1
  [[ $cmdline == *" $2/"* || $cmdline == *"=$2/"* ]]
}

# One port per group given ("ADDRESS,ADDRESS,..."), each free on TCP and UDP on every address
# of its group. All sockets stay bound until every port is chosen, so they all differ.
pick_ports() {
  "$PYTHON" -c '
import socket, sys
held, ports = [], []
for group in sys.argv[1:]:
    addrs = group.split(",")
    for _ in range(200):
        probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        probe.bind((addrs[0], 0))
        port = probe.getsockname()[1]
        probe.close()
        if port in ports:
            continue
        socks = []
        try:
            for addr in addrs:
                for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
                    s = socket.socket(socket.AF_INET, kind)
                    socks.append(s)
                    s.bind((addr, port))
        except OSError:
            for s in socks:
                s.close()
            continue
        held += socks
        ports.append(port)
        break
    else:
        sys.exit("no free port on " + group)
print(*ports)
' "$@"
}

# write_zone FILE SERIAL
write_zone() {
  {
    cat <<EOF
\$ORIGIN $ZONE.
\$TTL 5
@       5 IN SOA ns1.$ZONE. hostmaster.$ZONE. ( $2 60 30 600 5 )
@       5 IN NS ns1.$ZONE.
@       5 IN NS ns2.$ZONE.
ns1     5 IN A 127.0.0.1
ns2     5 IN A 127.0.0.2
fixed   5 IN A 192.0.2.10
www     5 IN CNAME fixed.$ZONE.
txt     5 IN TXT "hello"
v6      5 IN AAAA 2001:db8::10
; What a DNS "what is my IP" service would answer (IP detection tests).
myip    5 IN A 198.51.100.7
myip    5 IN AAAA 2001:db8::7
myip    5 IN TXT "198.51.100.7"
$HOME_LABEL    5 IN A $INITIAL_IP
EOF
    local i
    for i in 1 2 3 4 5 6 7 8 9; do
      echo "host$i   5 IN A 192.0.2.1"
    done
  } >"$1"
}

# write_named DIR NAME ADDRESS PORT SERIAL [SECONDARY] : a primary that takes TSIG-signed
# updates; with SECONDARY ("ADDRESS port PORT"), it sends that server a NOTIFY after each
# change and lets it transfer the zone.
write_named() {
  local dir=$1 name=$2 addr=$3 port=$4 serial=$5 secondary=${6:-}
  local zone_notify=""
  if [[ -n $secondary ]]; then
    zone_notify="  notify explicit;
  also-notify { $secondary; };
  allow-transfer { 127.0.0.0/8; };"
  fi
  local home=$dir/$name
  mkdir -p "$home/zones"
  # The zone lives in a writable folder of its own: the journal (.jnl) goes beside it.
  write_zone "$home/zones/$ZONE.db" "$serial"
  cat >"$home/named.conf" <<EOF
include "$dir/tsig.key";
options {
  directory "$home";
  pid-file none;
  session-keyfile none;
  listen-on port $port { $addr; };
  listen-on-v6 { none; };
  recursion no;
  notify no;
  allow-query { any; };
  // No trust anchors to manage: these servers never recurse.
  dnssec-validation no;
};
controls { };
zone "$ZONE." {
  type primary;
  file "$home/zones/$ZONE.db";
  update-policy { grant $KEY_NAME zonesub ANY; };
$zone_notify
};
EOF
}

# unbound_server HOME ADDRESS PORT : the "server:" settings every lab unbound shares.
unbound_server() {
  local home=$1 addr=$2 port=$3
  cat <<EOF
server:
  do-daemonize: no
  username: ""
  chroot: ""
  directory: "$home"
  pidfile: "$home/unbound.pid"
  interface: $addr
  port: $port
  # Without this, a second process on the same port could share it silently.
  so-reuseport: no
  do-ip6: no
  access-control: 127.0.0.0/8 allow
  # test. is a blocked special-use zone by default (RFC 6761).
  local-zone: "test." nodefault
  module-config: "iterator"
  num-threads: 1
  verbosity: 0
  use-syslog: no
  logfile: ""
EOF
}

# write_auth_unbound DIR NAME ADDRESS PORT SERIAL [PRIMARY] : an authoritative copy of the
# zone. named only listens on addresses configured on an interface, and lo has just
# 127.0.0.1/8, so named cannot serve 127.0.0.2 without changing the host's network. unbound
# binds any 127/8 address, and its auth-zone answers with the AA flag like a primary. Without
# PRIMARY the copy is read-only and stays at SERIAL (an old secondary); with PRIMARY
# ("ADDRESS@PORT") it is a secondary that transfers the zone when the primary sends a NOTIFY.
write_auth_unbound() {
  local dir=$1 name=$2 addr=$3 port=$4 serial=$5 primary=${6:-}
  local home=$dir/$name transfer=""
  if [[ -n $primary ]]; then
    transfer="  primary: $primary
  allow-notify: ${primary%@*}"
  fi
  mkdir -p "$home/zones"
  write_zone "$home/zones/$ZONE.db" "$serial"
  {
    unbound_server "$home" "$addr" "$port"
    cat <<EOF
  # Like named with recursion off: REFUSED outside the zone, never a query upstream.
  local-zone: "." refuse
  local-zone: "$ZONE." transparent
remote-control:
  control-enable: no

auth-zone:
  name: "$ZONE."
  zonefile: "$home/zones/$ZONE.db"
  for-downstream: yes
  for-upstream: no
$transfer
EOF
  } >"$home/unbound.conf"
}

# write_unbound DIR NAME ADDRESS PORT STUB_PORT EXTRA_SERVER_LINES [EXTRA_STUBS]
write_unbound() {
  local dir=$1 name=$2 addr=$3 port=$4 stub_port=$5 extra=$6 stubs=${7:-}
  local home=$dir/$name
  mkdir -p "$home"
  {
    unbound_server "$home" "$addr" "$port"
    cat <<EOF
  do-not-query-localhost: no
  prefetch: no
  serve-expired: no
$extra
remote-control:
  control-enable: no

stub-zone:
  name: "$ZONE."
  stub-addr: $AUTH1@$stub_port
$stubs
EOF
  } >"$home/unbound.conf"
}

# launch DIR NAME COMMAND... : runs a server in the background, logs and PID in DIR.
launch() {
  local dir=$1 name=$2
  shift 2
  "$@" </dev/null >"$dir/$name.log" 2>&1 &
  echo "$!" >"$dir/$name.pid"
}

# lab_value DIR KEY : a value from DIR/lab.env.
lab_value() {
  sed -n "s/^$2=//p" "$1/lab.env"
}

# The address and port a server of the lab answers on (after start has written lab.env, or
# from the variables start_lab sets).
server_address() {
  case $1 in
    auth1) echo "$AUTH1" ;;
    auth2) echo "$AUTH2" ;;
    pdns) echo "$PDNS" ;;
    fast) echo "$FAST" ;;
    slow15) echo "$SLOW15" ;;
    slow30) echo "$SLOW30" ;;
    split) echo "$SPLIT" ;;
    servfail) echo "$SERVFAIL" ;;
    drop) echo "$DROP" ;;
    *) echo "$AUTH1" ;;
  esac
}

# launch_server DIR NAME : starts one server of the lab from the files start_lab wrote.
launch_server() {
  local dir=$1 name=$2
  case $name in
    auth1) launch "$dir" "$name" named -g -c "$dir/$name/named.conf" ;;
    pdns) launch "$dir" "$name" pdns_server "--config-dir=$dir/pdns" ;;
    http) launch "$dir" "$name" "$PYTHON" "$HERE/lab_http.py" "$dir/" "$AUTH1" "$HTTP_PORT" ;;
    prometheus)
      launch "$dir" "$name" prometheus "--config.file=$dir/prometheus/prometheus.yml" \
        "--storage.tsdb.path=$dir/prometheus/data" \
        "--web.listen-address=$AUTH1:$PROMETHEUS_PORT" --web.enable-lifecycle
      ;;
    alertmanager)
      launch "$dir" "$name" prometheus-alertmanager \
        "--config.file=$dir/alertmanager/alertmanager.yml" \
        "--storage.path=$dir/alertmanager/data" \
        "--web.listen-address=$AUTH1:$ALERTMANAGER_PORT" --cluster.listen-address=
      ;;
    *) launch "$dir" "$name" unbound -d -c "$dir/$name/unbound.conf" ;;
  esac
}

# check_once NAME : one request that the server answers once it serves.
check_once() {
  local name=$1 addr out
  addr=$(server_address "$name")
  case $name in
    auth*) out=$(dig +short +tries=1 +time=1 @"$addr" -p "$AUTH_PORT" "$ZONE." SOA 2>/dev/null) ;;
    pdns) out=$(dig +short +tries=1 +time=1 @"$addr" -p "$AUTH_PORT" "$PDNS_ZONE." SOA 2>/dev/null) ;;
    http) out=$(curl -sf --max-time 1 "http://$AUTH1:$HTTP_PORT/ip" 2>/dev/null) ;;
    prometheus) out=$(curl -sf --max-time 1 "http://$AUTH1:$PROMETHEUS_PORT/-/ready" 2>/dev/null) ;;
    alertmanager)
      out=$(curl -sf --max-time 1 "http://$AUTH1:$ALERTMANAGER_PORT/-/ready" 2>/dev/null)
      ;;
    # Unbound answers version.server itself: no cache entry, no upstream, works for drop too.
    *) out=$(dig +short +tries=1 +time=1 @"$addr" -p "$CACHE_PORT" version.server CH TXT 2>/dev/null) ;;
  esac || return 1
  [[ -n $out ]]
}

fail_start() {
  local dir=$1 name=$2 why=$3
  echo "lab: $name $why; last lines of $dir/$name.log:" >&2
  tail -n 20 "$dir/$name.log" >&2 || true
  exit 1
}

# wait_ready DIR DEADLINE_US NAME... : waits until every server named answers.
wait_ready() {
  local dir=$1 deadline=$2 name pid
  shift 2
  for name in "$@"; do
    read -r pid <"$dir/$name.pid"
    until check_once "$name"; do
      alive "$pid" || fail_start "$dir" "$name" "exited during startup"
      (($(now_us) < deadline)) || fail_start "$dir" "$name" "did not answer in time"
      sleep 0.05
    done
  done
}

# Names every missing tool at once instead of failing on the first one deep in start.
need_tools() {
  local tool missing=()
  for tool in "$@"; do
    command -v "$tool" >/dev/null || missing+=("$tool")
  done
  ((${#missing[@]} == 0)) && return 0
  echo "lab: not on PATH: ${missing[*]} (run scripts/install-deps.sh)" >&2
  exit 1
}

# write_pdns DIR : PowerDNS with the SQLite backend serving PDNS_ZONE, its API on
# 127.0.0.1:PDNS_API_PORT. The zone is made with pdnsutil before the server starts, so no
# query ever sees it missing.
write_pdns() {
  local dir=$1 home=$1/pdns
  mkdir -p "$home"
  cat >"$home/pdns.conf" <<EOF
launch=gsqlite3
gsqlite3-database=$home/pdns.sqlite3
daemon=no
guardian=no
write-pid=no
socket-dir=$home
security-poll-suffix=
local-address=$PDNS:$AUTH_PORT
# No packet cache: every query sees the zone as the API left it.
cache-ttl=0
query-cache-ttl=0
negquery-cache-ttl=0
distributor-threads=1
receiver-threads=1
api=yes
api-key=$PDNS_API_KEY
webserver=yes
webserver-address=$AUTH1
webserver-port=$PDNS_API_PORT
webserver-allow-from=127.0.0.0/8
EOF
  "$PYTHON" -c '
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
c.executescript(open(sys.argv[2]).read())
c.commit()
' "$home/pdns.sqlite3" /usr/share/pdns-backend-sqlite3/schema/schema.sqlite3.sql
  local cd="--config-dir=$home"
  {
    pdnsutil "$cd" create-zone "$PDNS_ZONE" "ns1.$PDNS_ZONE"
    pdnsutil "$cd" add-record "$PDNS_ZONE" ns1 A 5 "$PDNS"
    pdnsutil "$cd" add-record "$PDNS_ZONE" "$HOME_LABEL" A 5 "$INITIAL_IP"
  } >"$dir/pdnsutil.log" 2>&1 || fail_start "$dir" pdnsutil "failed"
}

# write_monitoring DIR ALERT_FOR : Prometheus (scraping ddnswatch on DDNSWATCH_PORT every
# second, the alert rules evaluated every second) and Alertmanager (every alert to the
# receiver at once).
write_monitoring() {
  local dir=$1 alert_for=$2
  mkdir -p "$dir/prometheus/data" "$dir/alertmanager/data"
  if [[ -n $alert_for ]]; then
    sed -E "s/^([[:space:]]+for:).*/\1 $alert_for/" "$ALERTS" >"$dir/prometheus/alerts.yml"
  else
    cp "$ALERTS" "$dir/prometheus/alerts.yml"
  fi
  cat >"$dir/prometheus/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files:
  - "$dir/prometheus/alerts.yml"
alerting:
  alertmanagers:
    - static_configs:
        - targets: ["$AUTH1:$ALERTMANAGER_PORT"]
scrape_configs:
  - job_name: ddnswatch
    static_configs:
      - targets: ["$AUTH1:$DDNSWATCH_PORT"]
EOF
  cat >"$dir/alertmanager/alertmanager.yml" <<EOF
# Each alert its own group, sent at once; changes to it after group_interval.
route:
  receiver: lab-webhook
  group_by: ['...']
  group_wait: 0s
  group_interval: 5s
  repeat_interval: 1h
receivers:
  - name: lab-webhook
    webhook_configs:
      - url: "http://$AUTH1:$HTTP_PORT/alertmanager"
        send_resolved: true
EOF
}

# write_ddnswatch_config DIR : a ddnswatch config for the full lab.
write_ddnswatch_config() {
  local dir=$1 echo="http://$AUTH1:$HTTP_PORT"
  local regions='"fast", "slow15", "slow30", "split", "servfail", "drop", "dead"'
  cat >"$dir/ddnswatch.json" <<EOF
{
  "listen": "$AUTH1:$DDNSWATCH_PORT",
  "state_dir": "$dir/ddnswatch-state",
  "detect": {
    "interval": "10s",
    "timeout": "2s",
    "allow": ["203.0.113.0/24"],
    "ipv4": {
      "sources": ["url:$echo/ip#text", "url:$echo/json#json", "url:$echo/cdn-cgi/trace"],
      "quorum": 2
    }
  },
  "update": { "min_interval": "1s", "cooldown": "5s" },
  "records": [
    {
      "name": "$HOME_LABEL.$ZONE", "type": "A", "ttl": 5,
      "provider": {
        "kind": "rfc2136", "zone": "$ZONE", "server": "$AUTH1:$AUTH_PORT",
        "key_name": "$KEY_NAME", "key_algorithm": "$KEY_ALGORITHM", "key_secret": "$SECRET"
      }
    },
    {
      "name": "$HOME_LABEL.$PDNS_ZONE", "type": "A", "ttl": 5,
      "provider": {
        "kind": "powerdns", "zone": "$PDNS_ZONE", "url": "http://$AUTH1:$PDNS_API_PORT",
        "api_key": "$PDNS_API_KEY"
      }
    }
  ],
  "resolvers": {
    "bootstrap": "fast",
    "authoritative_port": $AUTH_PORT,
    "timeout": "1s",
    "tries": 1,
    "custom": [
      { "id": "fast", "address": "$FAST:$CACHE_PORT", "operator": "lab", "geo": "fast" },
      { "id": "slow15", "address": "$SLOW15:$CACHE_PORT", "operator": "lab", "geo": "lagging-15s" },
      { "id": "slow30", "address": "$SLOW30:$CACHE_PORT", "operator": "lab", "geo": "lagging-30s" },
      { "id": "split", "address": "$SPLIT:$CACHE_PORT", "operator": "lab", "geo": "split-brain" },
      { "id": "servfail", "address": "$SERVFAIL:$CACHE_PORT", "operator": "lab", "geo": "servfail" },
      { "id": "drop", "address": "$DROP:$CACHE_PORT", "operator": "lab", "geo": "black-hole" },
      { "id": "dead", "address": "$DEAD:$CACHE_PORT", "operator": "lab", "geo": "dead" }
    ],
    "sets": { "regions": [$regions] }
  },
  "watch": [
    { "name": "$HOME_LABEL.$ZONE", "type": "A", "expect": "record",
      "resolvers": ["regions", "authoritative"], "interval": "5s", "fast_interval": "1s" },
    { "name": "$HOME_LABEL.$PDNS_ZONE", "type": "A", "expect": "record",
      "resolvers": ["regions", "authoritative"], "interval": "5s", "fast_interval": "1s" }
  ],
  "notify": {
    "webhooks": [ { "name": "lab-webhook", "url": "$echo/ddnswatch" } ],
    "alertmanager": "http://$AUTH1:$ALERTMANAGER_PORT"
  }
}
EOF
}

start_lab() {
  local dir=$1 full=$2 alert_for=$3
  need_tools named unbound dig tsig-keygen "$PYTHON"
  ((full)) && need_tools pdns_server pdnsutil prometheus prometheus-alertmanager curl
  dir=$(cd "$dir" 2>/dev/null && pwd -P) || { echo "lab: $1 is not a folder" >&2; exit 1; }
  if [[ -e $dir/lab.env ]] || compgen -G "$dir/*.pid" >/dev/null; then
    echo "lab: $dir already holds a lab; stop it or use an empty folder" >&2
    exit 1
  fi
  local started
  started=$(now_us)
  # Whatever goes wrong from here, leave no server behind.
  # The PIDs are still our unreaped children here, so none can have been recycled.
  trap 'rc=$?; if ((rc != 0)); then stop_lab "'"$dir"'" children; fi' EXIT

  # The authoritatives' port, the caches' port, a dead port on 127.0.0.1 for the servfail
  # cache's stub; with --full the ports of the HTTP services on 127.0.0.1.
  local groups=("$AUTH1,$AUTH2,$PDNS" "$FAST,$SLOW15,$SLOW30,$SPLIT,$SERVFAIL,$DROP,$DEAD" "$AUTH1")
  ((full)) && groups+=("$AUTH1" "$AUTH1" "$AUTH1" "$AUTH1" "$AUTH1")
  local dead_port
  read -r AUTH_PORT CACHE_PORT dead_port HTTP_PORT PROMETHEUS_PORT ALERTMANAGER_PORT \
    PDNS_API_PORT DDNSWATCH_PORT < <(pick_ports "${groups[@]}")
  [[ -n $dead_port ]] || { echo "lab: cannot pick ports" >&2; exit 1; }

  tsig-keygen -a "$KEY_ALGORITHM" "$KEY_NAME" >"$dir/tsig.key"
  SECRET=$(sed -n 's/^[[:space:]]*secret "\(.*\)";/\1/p' "$dir/tsig.key")
  [[ -n $SECRET ]] || { echo "lab: no secret in $dir/tsig.key" >&2; exit 1; }

  local secondary="" primary="" stubs="" pdns_split=""
  if ((full)); then
    secondary="$AUTH2 port $AUTH_PORT"
    primary="$AUTH1@$AUTH_PORT"
    stubs="stub-zone:
  name: \"$PDNS_ZONE.\"
  stub-addr: $PDNS@$AUTH_PORT"
    pdns_split="  local-zone: \"$PDNS_ZONE.\" transparent
  local-data: \"$HOME_LABEL.$PDNS_ZONE. 5 IN A $FOREIGN\""
  fi
  write_named "$dir" auth1 "$AUTH1" "$AUTH_PORT" 100 "$secondary"
  write_auth_unbound "$dir" auth2 "$AUTH2" "$AUTH_PORT" 90 "$primary"
  # Cloudflare's whoami.cloudflare (TXT, class CH), for the IP detection tests.
  write_unbound "$dir" fast "$FAST" "$CACHE_PORT" "$AUTH_PORT" \
    "  local-data: 'whoami.cloudflare. CH TXT \"198.51.100.7\"'" "$stubs"
  write_unbound "$dir" slow15 "$SLOW15" "$CACHE_PORT" "$AUTH_PORT" "  cache-min-ttl: 15" "$stubs"
  write_unbound "$dir" slow30 "$SLOW30" "$CACHE_PORT" "$AUTH_PORT" "  cache-min-ttl: 30" "$stubs"
  local split_data="  local-zone: \"$ZONE.\" transparent" n
  for n in fixed host1 host2 host3 host4 host5 host6 host7 host8 host9 "$HOME_LABEL"; do
    split_data+=$'\n'"  local-data: \"$n.$ZONE. 5 IN A $FOREIGN\""
  done
  [[ -n $pdns_split ]] && split_data+=$'\n'"$pdns_split"
  write_unbound "$dir" split "$SPLIT" "$CACHE_PORT" "$AUTH_PORT" "$split_data" "$stubs"
  # A capped RTT makes unbound give up on the dead stub fast instead of backing off for seconds.
  write_unbound "$dir" servfail "$SERVFAIL" "$CACHE_PORT" "$dead_port" \
    "  infra-cache-max-rtt: 100" "${stubs//$PDNS@$AUTH_PORT/$AUTH1@$dead_port}"
  write_unbound "$dir" drop "$DROP" "$CACHE_PORT" "$AUTH_PORT" "  local-zone: \"$ZONE.\" deny
  local-zone: \"$PDNS_ZONE.\" deny"

  local servers=(auth1 auth2 fast slow15 slow30 split servfail drop)
  if ((full)); then
    PDNS_API_KEY=$("$PYTHON" -c 'import secrets; print(secrets.token_hex(16))')
    write_pdns "$dir"
    write_monitoring "$dir" "$alert_for"
    write_ddnswatch_config "$dir"
    echo "$INITIAL_IP" >"$dir/public-ip"
    : >"$dir/webhook.log"
    # Prometheus first: its first scrape comes ~5.5 s after it starts, whatever the interval.
    servers=(prometheus alertmanager pdns http "${servers[@]}")
  fi
  local name
  for name in "${servers[@]}"; do
    launch_server "$dir" "$name"
  done
  # Everything starts in parallel; one deadline bounds the wait for all of them.
  wait_ready "$dir" $((started + START_DEADLINE_US)) "${servers[@]}"

  {
    cat <<EOF
LAB_ZONE=$ZONE
LAB_AUTH_PORT=$AUTH_PORT
LAB_AUTH1=$AUTH1
LAB_AUTH2=$AUTH2
LAB_CACHE_PORT=$CACHE_PORT
LAB_FAST=$FAST
LAB_SLOW15=$SLOW15
LAB_SLOW30=$SLOW30
LAB_SPLIT=$SPLIT
LAB_SERVFAIL=$SERVFAIL
LAB_DROP=$DROP
LAB_DEAD=$DEAD
LAB_FOREIGN=$FOREIGN
LAB_KEY_NAME=$KEY_NAME
LAB_KEY_ALGORITHM=$KEY_ALGORITHM
LAB_KEY_SECRET=$SECRET
LAB_KEY_FILE=$dir/tsig.key
LAB_HOME_NAME=$HOME_LABEL.$ZONE
LAB_INITIAL_IP=$INITIAL_IP
EOF
    if ((full)); then
      cat <<EOF
LAB_FULL=1
LAB_PDNS=$PDNS
LAB_PDNS_ZONE=$PDNS_ZONE
LAB_PDNS_HOME_NAME=$HOME_LABEL.$PDNS_ZONE
LAB_PDNS_API=http://$AUTH1:$PDNS_API_PORT
LAB_PDNS_API_KEY=$PDNS_API_KEY
LAB_ECHO=http://$AUTH1:$HTTP_PORT
LAB_WEBHOOK_LOG=$dir/webhook.log
LAB_PROMETHEUS=http://$AUTH1:$PROMETHEUS_PORT
LAB_ALERTMANAGER=http://$AUTH1:$ALERTMANAGER_PORT
LAB_DDNSWATCH=http://$AUTH1:$DDNSWATCH_PORT
LAB_DDNSWATCH_CONFIG=$dir/ddnswatch.json
EOF
    fi
  } >"$dir/lab.env"
  trap - EXIT
  cat "$dir/lab.env"
}

# load_env DIR : the variables check_once needs, from DIR/lab.env.
load_env() {
  AUTH_PORT=$(lab_value "$1" LAB_AUTH_PORT)
  CACHE_PORT=$(lab_value "$1" LAB_CACHE_PORT)
  [[ -n $AUTH_PORT && -n $CACHE_PORT ]] || { echo "lab: no lab in $1" >&2; exit 1; }
}

# set_ip DIR ADDRESS : what the echo service answers from now on.
set_ip() {
  local dir=$1 address=$2
  [[ -e $dir/public-ip ]] || { echo "lab: $dir has no full lab (start --full)" >&2; return 1; }
  echo "$address" >"$dir/public-ip.new"
  mv -f "$dir/public-ip.new" "$dir/public-ip"
}

# stop_lab DIR [children] : "children" skips the check that a PID still runs a lab server.
stop_lab() {
  local dir trusted=${2:-}
  dir=$(cd "$1" 2>/dev/null && pwd -P) || { echo "lab: $1 is not a folder" >&2; return 1; }
  local file pid pids=()
  for file in "$dir"/*.pid; do
    [[ -e $file ]] || continue
    pid=""
    read -r pid <"$file" || true
    if [[ $pid =~ ^[0-9]+$ ]] && alive "$pid" && { [[ -n $trusted ]] || ours "$pid" "$dir"; }; then
      kill -TERM "$pid" 2>/dev/null || true
      pids+=("$pid")
    fi
  done
  local deadline=$(($(now_us) + STOP_DEADLINE_US)) left
  while :; do
    left=()
    for pid in "${pids[@]}"; do
      if alive "$pid"; then left+=("$pid"); fi
    done
    ((${#left[@]} > 0 && $(now_us) < deadline)) || break
    sleep 0.05
  done
  for pid in "${left[@]}"; do
    echo "lab: $pid ignored SIGTERM for 5 s; killing it" >&2
    kill -KILL "$pid" 2>/dev/null || true
  done
  rm -f "$dir"/*.pid
}

# The folder of a started lab, or an error.
lab_dir() {
  local dir
  dir=$(cd "$1" 2>/dev/null && pwd -P) || { echo "lab: $1 is not a folder" >&2; return 1; }
  [[ -e $dir/lab.env ]] || { echo "lab: $dir holds no started lab" >&2; return 1; }
  echo "$dir"
}

# pause_server DIR NAME : stops one server by its PID and waits until it is gone.
pause_server() {
  local dir name=$2 pid=""
  dir=$(lab_dir "$1") || return 1
  [[ -d $dir/$name ]] || { echo "lab: no server $name in $dir" >&2; return 1; }
  read -r pid 2>/dev/null <"$dir/$name.pid" || true
  if ! [[ $pid =~ ^[0-9]+$ ]] || ! alive "$pid" || ! ours "$pid" "$dir"; then
    echo "lab: $name is not running" >&2
    return 1
  fi
  kill -TERM "$pid"
  local deadline=$(($(now_us) + STOP_DEADLINE_US))
  while alive "$pid"; do
    if (($(now_us) >= deadline)); then
      echo "lab: $name ($pid) ignored SIGTERM for 5 s; killing it" >&2
      kill -KILL "$pid" 2>/dev/null || true
      break
    fi
    sleep 0.02
  done
  rm -f "$dir/$name.pid"
}

# resume_server DIR NAME [MODE] : starts a paused server again with the config it had, or a
# cache with a fault: "refuse" answers REFUSED for the zone, "servfail" SERVFAIL (its stub
# points at the dead port the servfail cache uses).
resume_server() {
  local dir name=$2 mode=${3:-} pid=""
  dir=$(lab_dir "$1") || return 1
  [[ -d $dir/$name ]] || { echo "lab: no server $name in $dir" >&2; return 1; }
  read -r pid 2>/dev/null <"$dir/$name.pid" || true
  if [[ $pid =~ ^[0-9]+$ ]] && alive "$pid" && ours "$pid" "$dir"; then
    echo "lab: $name is running; pause it first" >&2
    return 1
  fi
  local conf
  case $name in
    auth1)
      [[ -z $mode ]] || { echo "lab: $name takes no fault mode" >&2; return 1; }
      conf=$dir/$name/named.conf
      ;;
    *) conf=$dir/$name/unbound.conf ;;
  esac
  local fault=""
  case $mode in
    "") ;;
    refuse) fault="  local-zone: \"$ZONE.\" refuse" ;;
    servfail)
      fault="  infra-cache-max-rtt: 100"
      local dead
      dead=$(sed -n 's/^  stub-addr: //p' "$dir/servfail/unbound.conf")
      [[ -n $dead ]] || { echo "lab: no dead stub in $dir/servfail/unbound.conf" >&2; return 1; }
      ;;
    *) usage ;;
  esac
  if [[ -n $mode ]]; then
    grep -q '^stub-zone:' "$conf" || { echo "lab: $name is not a cache" >&2; return 1; }
    local faulty=$dir/$name/unbound-$mode.conf
    # The fault's lines go first in the server: clause; servfail also moves the stub.
    sed -e "/^server:\$/r /dev/stdin" "$conf" <<<"$fault" >"$faulty"
    if [[ $mode == servfail ]]; then
      sed -i "s/^  stub-addr: .*/  stub-addr: $dead/" "$faulty"
    fi
    conf=$faulty
  fi
  case $name in
    auth1) launch "$dir" "$name" named -g -c "$conf" ;;
    *) launch "$dir" "$name" unbound -d -c "$conf" ;;
  esac
  load_env "$dir"
  wait_ready "$dir" $(($(now_us) + START_DEADLINE_US)) "$name"
}

update_lab() {
  need_tools nsupdate
  local dir=$1 name=$2 type=$3 address=$4 ttl=${5:-5}
  local port
  port=$(sed -n 's/^LAB_AUTH_PORT=//p' "$dir/lab.env")
  [[ -n $port ]] || { echo "lab: no LAB_AUTH_PORT in $dir/lab.env" >&2; return 1; }
  # An absolute name, so nsupdate never appends an origin.
  [[ $name == *. ]] || name+=.
  nsupdate -k "$dir/tsig.key" -t 5 <<EOF
server $AUTH1 $port
zone $ZONE.
update delete $name $type
update add $name $ttl $type $address
send
EOF
}

# parse_start DIR [--full] [--alert-for DURATION]
parse_start() {
  local dir=$1 full=0 alert_for=""
  shift
  while (($# > 0)); do
    case $1 in
      --full) full=1 ;;
      --alert-for)
        if (($# < 2)) || ! [[ $2 =~ ^[0-9]+[smh]$ ]]; then usage; fi
        alert_for=$2
        shift
        ;;
      *) usage ;;
    esac
    shift
  done
  [[ -z $alert_for ]] || ((full)) || usage
  start_lab "$dir" "$full" "$alert_for"
}

main() {
  (($# >= 2)) || usage
  case $1 in
    start) parse_start "${@:2}" ;;
    stop) (($# == 2)) || usage; stop_lab "$2" ;;
    update) (($# == 5 || $# == 6)) || usage; update_lab "${@:2}" ;;
    pause) (($# == 3)) || usage; pause_server "${@:2}" ;;
    resume) (($# == 3 || $# == 4)) || usage; resume_server "${@:2}" ;;
    ip) (($# == 3)) || usage; set_ip "$2" "$3" ;;
    *) usage ;;
  esac
}

main "$@"
