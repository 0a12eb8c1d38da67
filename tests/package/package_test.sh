#!/usr/bin/env bash
# The install layout and the .deb, as a user gets them: `cmake --install` into a staging
# folder, then `cpack -G DEB`, then dpkg installs the package into a private root (its own
# admin folder, maintainer scripts run chrootless with DPKG_ROOT pointing there, so the
# machine's /usr and /etc are never touched), the installed binary runs `version` and `check`
# on the config the postinst put in place, and a purge removes it again.
# Usage: package_test.sh BUILD_DIR
set -euo pipefail

build=$(cd "$1" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/ddnswatch-package.XXXXXX")
trap 'rm -rf "$work"' EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }
need() { [ -e "$1" ] || fail "missing: ${1#"$work"/}"; }

# 1. cmake --install: the binary, the default config, the unit and the dashboards.
DESTDIR="$work/stage" cmake --install "$build" --prefix /usr > "$work/install.log"
for f in usr/bin/ddnswatch \
         usr/share/ddnswatch/config/ddnswatch.json \
         usr/share/ddnswatch/config/ddnswatch.schema.json \
         usr/share/ddnswatch/config/examples/cloudflare.json \
         usr/share/ddnswatch/dashboards/grafana/ddnswatch.json \
         usr/share/ddnswatch/dashboards/prometheus/alerts.yml \
         usr/lib/systemd/system/ddnswatch.service \
         usr/lib/ddnswatch/libddnswatch-civetweb-tls.so \
         usr/share/doc/ddnswatch/README.md; do
  need "$work/stage/$f"
done
[ -x "$work/stage/usr/bin/ddnswatch" ] || fail "usr/bin/ddnswatch is not executable"
echo "ok: cmake --install lays out $(find "$work/stage" -type f | wc -l) files"

# 2. cpack -G DEB.
(cd "$build" && cpack -G DEB -B "$work/pkg" > "$work/cpack.log" 2>&1) ||
  { cat "$work/cpack.log"; fail "cpack"; }
deb=$(ls "$work"/pkg/ddnswatch_*_*.deb)
depends=$(dpkg-deb -f "$deb" Depends)
for lib in libc-ares2 libcurl4 libuv1 libcivetweb1 libssl-dev; do
  case "$depends" in *"$lib"*) ;; *) fail "Depends lacks $lib: $depends" ;; esac
done
contents=$(dpkg-deb -c "$deb")
grep -q ' ./usr/lib/systemd/system/ddnswatch.service$' <<< "$contents" || fail "no unit in the .deb"
echo "ok: $(basename "$deb"), Depends: $depends"

# 3. dpkg -i into a private root.
root="$work/root"
mkdir -p "$root/var/lib/dpkg/info" "$root/var/lib/dpkg/updates" "$root/var/lib/dpkg/triggers"
touch "$root/var/lib/dpkg/status" "$root/var/lib/dpkg/available"
dpkg=(dpkg --instdir="$root" --admindir="$root/var/lib/dpkg" --force-script-chrootless
      --force-depends --log=/dev/null)
"${dpkg[@]}" -i "$deb" > "$work/dpkg.log" 2>&1 || { cat "$work/dpkg.log"; fail "dpkg -i"; }
status=$("${dpkg[@]}" -s ddnswatch)
grep -q '^Status: install ok installed$' <<< "$status" || fail "not installed: $status"
need "$root/etc/ddnswatch/ddnswatch.json"

version=$("$root/usr/bin/ddnswatch" version)
echo "ok: installed; ddnswatch version: $version"
case "$version" in ddnswatch\ *) ;; *) fail "unexpected version output: $version" ;; esac
"$root/usr/bin/ddnswatch" check --config "$root/etc/ddnswatch/ddnswatch.json" \
  || fail "check rejects the installed default config"
echo "ok: ddnswatch check accepts the installed config"

# The installed daemon serves /healthz over HTTPS (the TLS compat library is found in
# /usr/lib/ddnswatch), with a certificate made here.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 \
  -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 \
  -keyout "$work/key.pem" -out "$work/cert.pem" > "$work/openssl.log" 2>&1 ||
  { cat "$work/openssl.log"; fail "openssl"; }
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat > "$work/https.json" <<JSON
{"listen": "127.0.0.1:$port", "state_dir": "$work/state",
 "web": {"tls": {"cert_file": "$work/cert.pem", "key_file": "$work/key.pem"}}}
JSON
"$root/usr/bin/ddnswatch" run --config "$work/https.json" > "$work/run.log" 2>&1 &
daemon=$!
served=no
for _ in $(seq 100); do
  if curl -fsS --cacert "$work/cert.pem" "https://127.0.0.1:$port/healthz" > /dev/null 2>&1; then
    served=yes
    break
  fi
  kill -0 "$daemon" 2>/dev/null || break
  sleep 0.1
done
kill "$daemon" 2>/dev/null || true
wait "$daemon" || true
[ "$served" = yes ] || { cat "$work/run.log"; fail "the installed daemon did not serve HTTPS"; }
echo "ok: the installed daemon serves HTTPS"

# An operator's edit survives a reinstall (upgrade); a purge removes config and package.
echo '{"listen": "127.0.0.1:9999"}' > "$root/etc/ddnswatch/ddnswatch.json"
"${dpkg[@]}" -i "$deb" > "$work/dpkg.log" 2>&1 || { cat "$work/dpkg.log"; fail "dpkg -i again"; }
grep -q 9999 "$root/etc/ddnswatch/ddnswatch.json" || fail "reinstall overwrote the config"
"${dpkg[@]}" --purge ddnswatch > "$work/dpkg.log" 2>&1 || { cat "$work/dpkg.log"; fail "purge"; }
[ ! -e "$root/usr/bin/ddnswatch" ] || fail "purge left the binary"
[ ! -e "$root/etc/ddnswatch" ] || fail "purge left /etc/ddnswatch"
echo "ok: reinstall keeps the config; purge removes everything"
