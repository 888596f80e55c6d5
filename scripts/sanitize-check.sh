#!/usr/bin/env bash
# sanitize-check.sh - the whole ctest suite under AddressSanitizer +
# UndefinedBehaviorSanitizer, with leak detection.
#
# Usage: scripts/sanitize-check.sh [BUILD_DIR] [ctest args...]
#   BUILD_DIR defaults to build-asan; extra arguments go to ctest
#   (e.g. -E 'e2e_mysql' to leave tests out).
#   JOBS: build jobs (default: the CPUs); TEST_JOBS: tests at once (default JOBS).
#
# Every sanitizer report fails the run: each process halts on its first
# report with a non-zero exit (the tests check sluice's exit codes). ASan
# and LeakSanitizer reports are also written to BUILD_DIR/sanitizer-logs/,
# so one from a process whose exit status a test ignores still fails this
# script. UBSan ignores log_path when linked with ASan: its reports go to
# the test's stderr, shown by ctest for the failed test.
set -euo pipefail

src=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-build-asan}
[ $# -gt 0 ] && shift
jobs=${JOBS:-$(nproc 2>/dev/null || echo 2)}

cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DSLUICE_SANITIZE=ON -DSLUICE_TESTS=ON -DSLUICE_WERROR=ON >/dev/null
cmake --build "$build" -j"$jobs"

logs=$(cd "$build" && pwd)/sanitizer-logs
rm -rf "$logs"
mkdir -p "$logs"
export ASAN_OPTIONS="halt_on_error=1:abort_on_error=0:detect_leaks=1:strict_string_checks=1:log_path=$logs/asan"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"

rc=0
(cd "$build" && ctest --output-on-failure -j"${TEST_JOBS:-$jobs}" "$@") || rc=$?

reports=$(find "$logs" -type f | sort)
if [ -n "$reports" ]; then
    echo "sanitize-check: sanitizer reports:" >&2
    for f in $reports; do
        echo "==== $f" >&2
        cat "$f" >&2
    done
    [ "$rc" -eq 0 ] && rc=1
fi
if [ "$rc" -eq 0 ]; then
    echo "sanitize-check: no sanitizer reports, all tests passed"
else
    echo "sanitize-check: FAILED" >&2
fi
exit "$rc"
