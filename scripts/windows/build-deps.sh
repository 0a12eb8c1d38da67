#!/usr/bin/env bash
# Cross-builds every library ddnswatch needs for Windows from Debian's source packages with
# mingw-w64 (cmake/toolchain-mingw64.cmake), as static libraries, into a cached prefix.
#
#   scripts/windows/build-deps.sh [BUILD_DIR]      (default build-windows)
#
# The prefix is BUILD_DIR/deps/prefix. It is rebuilt only when its key changes: the versions of
# the source packages (the .dsc names apt would fetch), this script and the toolchain file. A
# second run with the same key is a no-op. zlib comes from Debian's libz-mingw-w64-dev.
# Needs root (or sudo) once, to add a deb-src entry to apt's sources when there is none.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
build_dir=$(realpath -m "${1:-$root/build-windows}")
deps=$build_dir/deps
prefix=$deps/prefix
toolchain=$root/cmake/toolchain-mingw64.cmake
jobs=${JOBS:-$(nproc)}

# Debian source package names. tl-expected is header-only; its arch-independent binary package
# is used when the source cannot be fetched (some mirrors lack it).
sources=(libuv1 c-ares curl civetweb prometheus-cpp fmtlib spdlog nlohmann-json3 cli11
  tl-expected googletest)

log() { echo "windows/build-deps: $*" >&2; }

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"

# apt-get source needs a deb-src entry: the deb entries of Debian's own sources file, as deb-src.
ensure_deb_src() {
  if apt-get source --print-uris c-ares >/dev/null 2>&1; then return; fi
  local debian=/etc/apt/sources.list.d/debian.sources
  local src=/etc/apt/sources.list.d/debian-src.sources
  if [ -f "$debian" ] && ! [ -f "$src" ]; then
    log "adding deb-src entries to $src"
    sed 's/^Types: deb$/Types: deb-src/' "$debian" | $sudo tee "$src" >/dev/null
  elif [ -f /etc/apt/sources.list ] && ! grep -q '^deb-src' /etc/apt/sources.list; then
    log "adding deb-src lines to /etc/apt/sources.list"
    grep '^deb ' /etc/apt/sources.list | sed 's/^deb /deb-src /' |
      $sudo tee -a /etc/apt/sources.list >/dev/null
  fi
  $sudo apt-get update -qq
  apt-get source --print-uris c-ares >/dev/null 2>&1 || {
    log "apt-get source does not work; add a deb-src entry for Debian 12 to apt's sources"
    exit 1
  }
}

# The .dsc file apt would fetch for a source package: name and version in one word.
dsc_of() {
  apt-get source --print-uris "$1" 2>/dev/null | grep -o "[^/']*\.dsc'" | tr -d "'" | head -n1
}

ensure_deb_src
key=$( {
  for s in "${sources[@]}"; do echo "$s $(dsc_of "$s")"; done
  dpkg-query -W -f='${Package} ${Version}\n' libz-mingw-w64-dev g++-mingw-w64-x86-64
  sha256sum "$0" "$toolchain" | cut -d' ' -f1
} | sha256sum | cut -d' ' -f1)

if [ -f "$prefix/.key" ] && [ "$(cat "$prefix/.key")" = "$key" ]; then
  exit 0
fi

log "building into $prefix"
rm -rf "$deps"
mkdir -p "$deps/src" "$deps/build" "$prefix"
started=$(date +%s)

fetch() {  # fetch SOURCE -> prints the unpacked folder
  local name=$1
  (cd "$deps/src" && apt-get source -qq "$name" >/dev/null 2>&1) || return 1
  find "$deps/src" -mindepth 1 -maxdepth 1 -type d -name "${name}-*" | head -n1
}

cmake_build() {  # cmake_build NAME SOURCE_DIR [cmake args...]
  local name=$1 src=$2
  shift 2
  log "$name"
  cmake -S "$src" -B "$deps/build/$name" -G Ninja -Wno-dev \
    -DCMAKE_TOOLCHAIN_FILE="$toolchain" -DDDNSWATCH_WINDOWS_DEPS="$prefix" \
    -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX="$prefix" -DCMAKE_INSTALL_LIBDIR=lib \
    -DBUILD_SHARED_LIBS=OFF -DBUILD_TESTING=OFF "$@" >"$deps/build/$name.log" 2>&1 ||
    { tail -n 30 "$deps/build/$name.log" >&2; exit 1; }
}

install_built() {  # install_built NAME [target]
  local name=$1 target=${2:-all}
  { cmake --build "$deps/build/$name" -j "$jobs" --target "$target" &&
    { [ "$target" != all ] || cmake --install "$deps/build/$name"; }; } \
    >>"$deps/build/$name.log" 2>&1 || { tail -n 30 "$deps/build/$name.log" >&2; exit 1; }
}

# Header-only and small libraries first: spdlog needs fmt, prometheus-cpp needs civetweb.
src=$(fetch fmtlib)
cmake_build fmt "$src" -DFMT_DOC=OFF -DFMT_TEST=OFF -DFMT_INSTALL=ON
install_built fmt

src=$(fetch spdlog)
cmake_build spdlog "$src" -DSPDLOG_FMT_EXTERNAL=ON -DSPDLOG_BUILD_EXAMPLE=OFF \
  -DSPDLOG_BUILD_TESTS=OFF -DSPDLOG_INSTALL=ON
install_built spdlog

src=$(fetch nlohmann-json3)
cmake_build nlohmann-json "$src" -DJSON_BuildTests=OFF -DJSON_Install=ON
install_built nlohmann-json

src=$(fetch cli11)
cmake_build cli11 "$src" -DCLI11_BUILD_TESTS=OFF -DCLI11_BUILD_EXAMPLES=OFF \
  -DCLI11_BUILD_DOCS=OFF -DCLI11_INSTALL=ON
install_built cli11

if src=$(fetch tl-expected) && [ -n "$src" ]; then
  cmake_build tl-expected "$src" -DEXPECTED_BUILD_TESTS=OFF -DEXPECTED_BUILD_PACKAGE=OFF
  install_built tl-expected
else
  log "tl-expected: source not available, using the libexpected-dev package (headers only)"
  (cd "$deps/src" && apt-get download -qq libexpected-dev >/dev/null 2>&1)
  dpkg-deb -x "$deps"/src/libexpected-dev_*.deb "$deps/src/libexpected-dev"
  cp -r "$deps/src/libexpected-dev/usr/include" "$deps/src/libexpected-dev/usr/share" "$prefix/"
fi

src=$(fetch googletest)
cmake_build googletest "$src" -DBUILD_GMOCK=ON -DINSTALL_GTEST=ON -Dgtest_disable_pthreads=ON
install_built googletest

# libuv always builds a DLL too; only the static library and the headers are wanted.
src=$(fetch libuv1)
cmake_build libuv "$src" -DLIBUV_BUILD_TESTS=OFF -DLIBUV_BUILD_BENCH=OFF
install_built libuv uv_a
mkdir -p "$prefix/lib" "$prefix/include"
cp "$deps/build/libuv/libuv_a.a" "$prefix/lib/libuv.a"
cp -r "$src/include/." "$prefix/include/"

# Debian's CVE-2023-31130 fix uses INADDRSZ, which mingw's headers lack.
src=$(fetch c-ares)
sed -i 's/\bINADDRSZ\b/NS_INADDRSZ/g' "$src/src/lib/inet_net_pton.c"
cmake_build c-ares "$src" -DCARES_STATIC=ON -DCARES_SHARED=OFF -DCARES_BUILD_TOOLS=OFF \
  -DCARES_BUILD_TESTS=OFF
install_built c-ares

# TLS through Windows' own Schannel (Debian has no OpenSSL for mingw), HTTP(S) only, gzip with
# mingw's zlib.
src=$(fetch curl)
cmake_build curl "$src" -DCURL_USE_SCHANNEL=ON -DCURL_USE_OPENSSL=OFF -DHTTP_ONLY=ON \
  -DBUILD_CURL_EXE=OFF -DCURL_ZLIB=ON -DCURL_BROTLI=OFF -DCURL_ZSTD=OFF -DUSE_NGHTTP2=OFF \
  -DUSE_LIBIDN2=OFF -DCURL_USE_LIBSSH2=OFF -DCURL_USE_GSSAPI=OFF -DENABLE_MANUAL=OFF \
  -DENABLE_UNIX_SOCKETS=OFF -DCURL_CA_BUNDLE=none -DCURL_CA_PATH=none
install_built curl

# As Debian builds it (C++ wrapper, websockets), without TLS: no OpenSSL on Windows.
src=$(fetch civetweb)
cmake_build civetweb "$src" -DCIVETWEB_BUILD_TESTING=OFF -DCIVETWEB_ENABLE_CXX=ON \
  -DCIVETWEB_ENABLE_WEBSOCKETS=ON -DCIVETWEB_ENABLE_SSL=OFF -DCIVETWEB_ENABLE_ASAN=OFF \
  -DCIVETWEB_ENABLE_SERVER_EXECUTABLE=OFF -DCIVETWEB_INSTALL_EXECUTABLE=OFF
install_built civetweb

# Debian's source has an empty 3rdparty/civetweb: the pull library uses the civetweb above.
src=$(fetch prometheus-cpp)
cmake_build prometheus-cpp "$src" -DENABLE_PULL=ON -DENABLE_PUSH=OFF -DENABLE_COMPRESSION=OFF \
  -DENABLE_TESTING=OFF -DUSE_THIRDPARTY_LIBRARIES=OFF -DGENERATE_PKGCONFIG=OFF
install_built prometheus-cpp

echo "$key" >"$prefix/.key"
log "done in $(($(date +%s) - started)) s ($(du -sh "$prefix" | cut -f1))"
