#!/usr/bin/env bash
# Installs, from Debian's packages, everything ddnswatch needs to build, run and test.
# Idempotent and quick when nothing is missing: it asks dpkg first and calls apt only for
# what is absent. Needs root (or sudo) only when something must be installed.
set -euo pipefail

packages=(
  # toolchain
  make cmake ninja-build g++ clang-14 libclang-rt-14-dev clang-format clang-tidy pkg-config git
  # libraries (DESIGN.md section 7)
  libc-ares-dev libcurl4-openssl-dev libuv1-dev prometheus-cpp-dev libcivetweb-dev
  nlohmann-json3-dev libspdlog-dev libfmt-dev libcli11-dev libexpected-dev
  libgtest-dev libgmock-dev zlib1g-dev
  # HTTPS for the endpoint: civetweb dlopens libssl.so and libcrypto.so, which only the -dev
  # package provides (also at run time)
  libssl-dev
  # test tools: promtool, the JSON Schema validator, an HTTP client, openssl (test certificates)
  prometheus python3 python3-jsonschema curl openssl
  # the notification test: a real Alertmanager delivers what ddnswatch pushes
  prometheus-alertmanager
  # the status page test renders / in a headless browser
  chromium
  # the DNS lab of the integration tests (tests/lab/lab.sh): BIND, dig and nsupdate, unbound
  bind9 bind9-dnsutils unbound
  # the RFC 2136 provider's integration test also updates a PowerDNS Authoritative (started by
  # the test with the SQLite backend; pdnsutil imports the TSIG keys)
  pdns-server pdns-backend-sqlite3
  # deploy/systemd: the unit is checked with systemd-analyze verify and security
  systemd
  # the .deb: cpack's DEB generator works out the dependencies with dpkg-shlibdeps
  dpkg-dev
  # benchmarks (bench/): an authoritative server, the reference load generator, and ss
  # (iproute2) for the free-port check; taskset comes with util-linux, which Debian always has;
  # the blackbox exporter's DNS probe to compare with, and wrk to drive its /probe
  knot dnsperf iproute2 prometheus-blackbox-exporter wrk
  # the state folder fault test: mount (a tmpfs in a private mount namespace; unshare and
  # nsenter come with util-linux, which Debian always has)
  mount
  # tests/deploy: cpack's DEB generator runs file(1) before dpkg-shlibdeps; the Prometheus
  # configs are read and adapted with PyYAML
  file python3-yaml
)
# tests/deploy renders the Kubernetes overlays with `kubectl kustomize`: Debian's kubectl is in
# kubernetes-client, which cannot be installed over a kubectl from another source (both own
# /usr/bin/kubectl); any kubectl that is there already will do.
if ! command -v kubectl >/dev/null 2>&1; then
  packages+=(kubernetes-client)
fi

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
  [ "$status" = "installed" ] || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "install-deps: installing ${missing[*]}" >&2
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install-deps: need root to install: ${missing[*]}" >&2; exit 1; }
  sudo="sudo"
fi

# Servers such as prometheus would start on install on a systemd host; the tests start their
# own copies, so keep the packaged services from starting while we install.
guard=""
if [ ! -e /usr/sbin/policy-rc.d ]; then
  guard=/usr/sbin/policy-rc.d
  printf '#!/bin/sh\nexit 101\n' | $sudo tee "$guard" >/dev/null
  $sudo chmod +x "$guard"
  trap '$sudo rm -f "$guard"' EXIT
fi

export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
