#!/usr/bin/env bash
# tsan-check.sh - the tests that run code on several threads (job units on
# two threads, a partitioned job's partitions, the pump with its
# checkpointer thread, the sink, the daemon running streams on threads)
# under ThreadSanitizer. Any data race report fails the run.
#
# Usage: scripts/tsan-check.sh [BUILD_DIR]   (default build-tsan)
set -euo pipefail

src=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-build-tsan}
TSAN_CMAKE_ARGS=(${TSAN_CMAKE_ARGS:-})
jobs=${JOBS:-$(nproc 2>/dev/null || echo 2)}

cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DSLUICE_TSAN=ON -DSLUICE_TESTS=ON -DSLUICE_WERROR=ON "${TSAN_CMAKE_ARGS[@]}" >/dev/null
cmake --build "$build" -j"$jobs" --target test_job_threads test_parallel test_pump test_sink sluice
export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1"
(cd "$build" && ctest --output-on-failure -R '^(unit_(job_threads|parallel|pump|sink)|e2e_daemon)$')
echo "tsan-check: no data races reported"
