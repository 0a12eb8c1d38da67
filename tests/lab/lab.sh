#!/usr/bin/env bash
# The DNS lab for integration tests: two authoritatives and six unbound caches on loopback
# addresses, started as plain child processes (never through systemd) so a test can own them.
#
#   lab.sh start DIR                          configs, logs and pid files go into DIR
#   lab.sh update DIR NAME TYPE ADDRESS [TTL] replace NAME/TYPE at auth1 (TSIG-signed nsupdate)
#   lab.sh pause DIR NAME                     stop one server (auth1, auth2, fast, slow15, ...):
#                                             its address and port go unanswered
#   lab.sh resume DIR NAME [refuse|servfail]  start it again on the same address and port;
#                                             a cache can come back answering REFUSED or
#                                             SERVFAIL for the zone (a failing resolver)
#   lab.sh stop DIR                           stop what start started; safe to call twice
#
# `start` prints the lab's interface (the lines of DIR/lab.env) on stdout.
set -euo pipefail

readonly ZONE=ddnswatch.test
readonly AUTH1=127.0.0.1
readonly AUTH2=127.0.0.2
readonly FAST=127.0.0.11
readonly SLOW15=127.0.0.12
readonly SLOW30=127.0.0.13
readonly SPLIT=127.0.0.14
readonly SERVFAIL=127.0.0.15
readonly DROP=127.0.0.16
readonly DEAD=127.0.0.19
readonly FOREIGN=198.51.100.66
readonly KEY_NAME=ddnswatch-lab
readonly KEY_ALGORITHM=hmac-sha256
# A pyenv python may come first on PATH; the system one is always there on Debian.
readonly PYTHON=/usr/bin/python3
readonly START_DEADLINE_US=10000000
readonly STOP_DEADLINE_US=5000000

usage() {
  cat >&2 <<'EOF'
usage: lab.sh start DIR
       lab.sh update DIR NAME TYPE ADDRESS [TTL]
       lab.sh pause DIR NAME
       lab.sh resume DIR NAME [refuse|servfail]
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
  [[ $cmdline == *" $2/"* ]]
}

# Three ports, each free on TCP and UDP on every address of its group: the authoritatives'
# port, the caches' port, and a dead port on 127.0.0.1 for the servfail cache's stub.
# All sockets stay bound until every port is chosen, so the three differ.
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
' "$AUTH1,$AUTH2" "$FAST,$SLOW15,$SLOW30,$SPLIT,$SERVFAIL,$DROP,$DEAD" "$AUTH1"
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
EOF
    local i
    for i in 1 2 3 4 5 6 7 8 9; do
      echo "host$i   5 IN A 192.0.2.1"
    done
  } >"$1"
}

# write_named DIR NAME ADDRESS PORT SERIAL : a primary that takes TSIG-signed updates.
write_named() {
  local dir=$1 name=$2 addr=$3 port=$4 serial=$5
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
};
EOF
}

# write_auth_unbound DIR NAME ADDRESS PORT SERIAL : a read-only authoritative copy of the zone.
# named only listens on addresses configured on an interface, and lo has just 127.0.0.1/8, so
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

# named cannot serve 127.0.0.2 without changing the host's network. unbound binds any 127/8
# address, and its auth-zone answers with the AA flag like a primary.
write_auth_unbound() {
  local dir=$1 name=$2 addr=$3 port=$4 serial=$5
  local home=$dir/$name
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
EOF
  } >"$home/unbound.conf"
}

# write_unbound DIR NAME ADDRESS PORT STUB_PORT EXTRA_SERVER_LINES
write_unbound() {
  local dir=$1 name=$2 addr=$3 port=$4 stub_port=$5 extra=$6
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

# check_once NAME ADDRESS PORT : one query that the server answers once it serves.
check_once() {
  local name=$1 addr=$2 port=$3 out
  case $name in
    auth*) out=$(dig +short +tries=1 +time=1 @"$addr" -p "$port" "$ZONE." SOA 2>/dev/null) ;;
    # Unbound answers version.server itself: no cache entry, no upstream, works for drop too.
    *) out=$(dig +short +tries=1 +time=1 @"$addr" -p "$port" version.server CH TXT 2>/dev/null) ;;
  esac || return 1
  [[ -n $out ]]
}

fail_start() {
  local dir=$1 name=$2 why=$3
  echo "lab: $name $why; last lines of $dir/$name.log:" >&2
  tail -n 20 "$dir/$name.log" >&2 || true
  exit 1
}

# Names every missing tool at once instead of failing on the first one deep in start.
need_tools() {
  local tool missing=()
  for tool in "$@"; do
    command -v "$tool" >/dev/null || missing+=("$tool")
  done
  ((${#missing[@]} == 0)) && return 0
  echo "lab: not on PATH: ${missing[*]} (apt-get install bind9 bind9-dnsutils unbound)" >&2
  exit 1
}

start_lab() {
  need_tools named unbound dig tsig-keygen "$PYTHON"
  local dir
  dir=$(cd "$1" 2>/dev/null && pwd -P) || { echo "lab: $1 is not a folder" >&2; exit 1; }
  if [[ -e $dir/lab.env ]] || compgen -G "$dir/*.pid" >/dev/null; then
    echo "lab: $dir already holds a lab; stop it or use an empty folder" >&2
    exit 1
  fi
  local started
  started=$(now_us)
  # Whatever goes wrong from here, leave no server behind.
  # The PIDs are still our unreaped children here, so none can have been recycled.
  trap 'rc=$?; if ((rc != 0)); then stop_lab "'"$dir"'" children; fi' EXIT

  local auth_port cache_port dead_port
  read -r auth_port cache_port dead_port < <(pick_ports)
  [[ -n $dead_port ]] || { echo "lab: cannot pick ports" >&2; exit 1; }

  tsig-keygen -a "$KEY_ALGORITHM" "$KEY_NAME" >"$dir/tsig.key"
  local secret
  secret=$(sed -n 's/^[[:space:]]*secret "\(.*\)";/\1/p' "$dir/tsig.key")
  [[ -n $secret ]] || { echo "lab: no secret in $dir/tsig.key" >&2; exit 1; }

  write_named "$dir" auth1 "$AUTH1" "$auth_port" 100
  write_auth_unbound "$dir" auth2 "$AUTH2" "$auth_port" 90
  # Cloudflare's whoami.cloudflare (TXT, class CH), for the IP detection tests.
  write_unbound "$dir" fast "$FAST" "$cache_port" "$auth_port" \
    "  local-data: 'whoami.cloudflare. CH TXT \"198.51.100.7\"'"
  write_unbound "$dir" slow15 "$SLOW15" "$cache_port" "$auth_port" "  cache-min-ttl: 15"
  write_unbound "$dir" slow30 "$SLOW30" "$cache_port" "$auth_port" "  cache-min-ttl: 30"
  local split_data="  local-zone: \"$ZONE.\" transparent" n
  for n in fixed host1 host2 host3 host4 host5 host6 host7 host8 host9; do
    split_data+=$'\n'"  local-data: \"$n.$ZONE. 5 IN A $FOREIGN\""
  done
  write_unbound "$dir" split "$SPLIT" "$cache_port" "$auth_port" "$split_data"
  # A capped RTT makes unbound give up on the dead stub fast instead of backing off for seconds.
  write_unbound "$dir" servfail "$SERVFAIL" "$cache_port" "$dead_port" "  infra-cache-max-rtt: 100"
  write_unbound "$dir" drop "$DROP" "$cache_port" "$auth_port" "  local-zone: \"$ZONE.\" deny"

  local servers=(auth1 auth2 fast slow15 slow30 split servfail drop)
  local -A addr=([auth1]=$AUTH1 [auth2]=$AUTH2 [fast]=$FAST [slow15]=$SLOW15 [slow30]=$SLOW30
    [split]=$SPLIT [servfail]=$SERVFAIL [drop]=$DROP)
  local name
  for name in "${servers[@]}"; do
    case $name in
      auth1) launch "$dir" "$name" named -g -c "$dir/$name/named.conf" ;;
      *) launch "$dir" "$name" unbound -d -c "$dir/$name/unbound.conf" ;;
    esac
  done

  # Everything starts in parallel; one deadline bounds the wait for all of them.
  local deadline=$((started + START_DEADLINE_US)) port pid
  for name in "${servers[@]}"; do
    port=$cache_port
    [[ $name == auth* ]] && port=$auth_port
    read -r pid <"$dir/$name.pid"
    until check_once "$name" "${addr[$name]}" "$port"; do
      alive "$pid" || fail_start "$dir" "$name" "exited during startup"
      (($(now_us) < deadline)) || fail_start "$dir" "$name" "did not answer within 10 s"
      sleep 0.05
    done
  done

  cat >"$dir/lab.env" <<EOF
LAB_ZONE=$ZONE
LAB_AUTH_PORT=$auth_port
LAB_AUTH1=$AUTH1
LAB_AUTH2=$AUTH2
LAB_CACHE_PORT=$cache_port
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
LAB_KEY_SECRET=$secret
LAB_KEY_FILE=$dir/tsig.key
EOF
  trap - EXIT
  cat "$dir/lab.env"
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
  local conf addr port
  case $name in
    auth1)
      [[ -z $mode ]] || { echo "lab: $name takes no fault mode" >&2; return 1; }
      conf=$dir/$name/named.conf
      addr=$AUTH1
      port=$(sed -n 's/^LAB_AUTH_PORT=//p' "$dir/lab.env")
      ;;
    *)
      conf=$dir/$name/unbound.conf
      addr=$(sed -n 's/^  interface: //p' "$conf")
      port=$(sed -n 's/^  port: //p' "$conf")
      ;;
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
  read -r pid <"$dir/$name.pid"
  local deadline=$(($(now_us) + START_DEADLINE_US))
  until check_once "$name" "$addr" "$port"; do
    alive "$pid" || fail_start "$dir" "$name" "exited during startup"
    (($(now_us) < deadline)) || fail_start "$dir" "$name" "did not answer within 10 s"
    sleep 0.02
  done
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

main() {
  (($# >= 2)) || usage
  case $1 in
    start) (($# == 2)) || usage; start_lab "$2" ;;
    stop) (($# == 2)) || usage; stop_lab "$2" ;;
    update) (($# == 5 || $# == 6)) || usage; update_lab "${@:2}" ;;
    pause) (($# == 3)) || usage; pause_server "${@:2}" ;;
    resume) (($# == 3 || $# == 4)) || usage; resume_server "${@:2}" ;;
    *) usage ;;
  esac
}

main "$@"
