#!/usr/bin/env bash
# The unit tests of the Windows build, through Wine: ctest runs unit_tests.exe with the
# toolchain's CMAKE_CROSSCOMPILING_EMULATOR (wine), in two shards.
#
#   tests/windows/run-unit-tests.sh [BUILD_DIR]     (default build-windows; make test-windows)
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
build=$(realpath "${1:-$root/build-windows}")
source "$root/tests/windows/wine.sh"
trap wine_stop EXIT

# ctest in a process group of its own, watched: when the wineserver aborts, its clients hang
# until their time limit, so the group is ended at once instead.
run_ctest() {
  setsid ctest --output-on-failure -L unit -j 2 "$@" &
  local group=$!
  while kill -0 "$group" 2>/dev/null; do
    if wine_crashed; then
      kill -- -"$group" 2>/dev/null || true
      break
    fi
    sleep 0.2
  done
  wait "$group"
}

cd "$build"
wine_start
run_ctest && exit 0
# A wineserver abort: the failed shards again, at most twice, and only for that.
for attempt in 2 3; do
  wine_crashed || exit 1
  echo "run-unit-tests: the wineserver aborted ($wine_crash_text); attempt $attempt" >&2
  wine_start
  run_ctest --rerun-failed && exit 0
done
exit 1
