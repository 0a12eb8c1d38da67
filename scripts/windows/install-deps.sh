#!/usr/bin/env bash
# Installs, from Debian's packages, what the Windows cross build and its tests under Wine
# need: the mingw-w64 cross compiler, Wine, mingw's zlib, and dpkg-dev for `apt-get source`.
# Kept apart from scripts/install-deps.sh so that the Linux build and tests never pull Wine.
# Idempotent: asks dpkg first and calls apt only for what is absent.
set -euo pipefail

packages=(
  # the cross toolchain (the -posix drivers come with it) and the build tools
  g++-mingw-w64-x86-64 mingw-w64-tools cmake ninja-build make pkg-config
  # zlib is the one dependency Debian ships built for mingw
  libz-mingw-w64-dev
  # `apt-get source` unpacks the other dependencies' Debian source packages
  dpkg-dev
  # running the .exe files: unit tests and the service test
  wine wine64
  # the service test scrapes /metrics from Linux
  curl
)

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
  [ "$status" = "installed" ] || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "windows/install-deps: installing ${missing[*]}" >&2
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || {
    echo "windows/install-deps: need root to install: ${missing[*]}" >&2
    exit 1
  }
  sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
