#!/usr/bin/env bash
# fuzz.sh - builds the libFuzzer targets (tests/fuzz) with clang and runs
# each for a bounded time, after replaying its regression inputs.
#
# Usage: scripts/fuzz.sh [BUILD_DIR] [SECONDS] [TARGET...]
#   BUILD_DIR  a build directory for clang only (default: build-fuzz)
#   SECONDS    fuzzing time per target (default: 20)
#   TARGET     url, options, json, manifest (default: all four)
# Needs clang and libclang-rt-14-dev (Debian). New corpus entries stay in
# BUILD_DIR/fuzz-corpus; a crash leaves its input in BUILD_DIR/fuzz-artifacts
# and fails the run: copy it to tests/fuzz/regress/TARGET/ once fixed.
set -euo pipefail

src=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-build-fuzz}
secs=${2:-20}
[ $# -gt 0 ] && shift
[ $# -gt 0 ] && shift
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(url options json manifest)
jobs=${JOBS:-$(nproc 2>/dev/null || echo 2)}

if ! command -v clang >/dev/null; then
    echo "fuzz.sh: clang is needed (Debian: clang libclang-rt-14-dev)" >&2
    exit 1
fi
cmake -S "$src" -B "$build" -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DSLUICE_FUZZ=ON -DSLUICE_SANITIZE=ON -DSLUICE_TESTS=ON -DSLUICE_WERROR=ON >/dev/null
cmake --build "$build" -j"$jobs" --target "${targets[@]/#/fuzz_}"

build=$(cd "$build" && pwd)
export ASAN_OPTIONS="halt_on_error=1:detect_leaks=1:strict_string_checks=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
pass=0
fail=0
for t in "${targets[@]}"; do
    bin=$build/tests/fuzz/fuzz_$t
    corpus=$build/fuzz-corpus/$t
    artifacts=$build/fuzz-artifacts/$t
    mkdir -p "$corpus" "$artifacts"
    log=$build/fuzz-$t.log
    regress=()
    if [ -d "$src/tests/fuzz/regress/$t" ]; then
        while IFS= read -r -d '' f; do regress+=("$f"); done \
            < <(find "$src/tests/fuzz/regress/$t" -type f -print0)
    fi
    rc=0
    if [ ${#regress[@]} -gt 0 ]; then
        "$bin" "${regress[@]}" >"$log" 2>&1 || rc=$?
    fi
    if [ "$rc" -eq 0 ]; then
        "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
            -artifact_prefix="$artifacts/" -print_final_stats=1 \
            "$corpus" "$src/tests/fuzz/corpus/$t" >>"$log" 2>&1 || rc=$?
    fi
    if [ "$rc" -eq 0 ]; then
        pass=$((pass + 1))
        runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
        echo "ok - fuzz_$t: ${runs:-?} runs in ${secs}s, no failure"
    else
        fail=$((fail + 1))
        echo "not ok - fuzz_$t (exit $rc); log: $log"
        grep -E 'check failed|ERROR|runtime error|SUMMARY|Test unit written' "$log" | head -20 | sed 's/^/#   /'
    fi
done
echo "fuzz: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
