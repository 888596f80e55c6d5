# shellcheck shell=bash disable=SC2034  # KRL_* and E2E_* are results for the caller
# lib.sh - shared helpers for the end-to-end scripts (sourced, not run).
#
# Environment (set by ctest): SLUICE = the binary, SLUICE_SRC = the source
# tree, SLUICE_TMP = this test's scratch directory (emptied by e2e_init).
#
# Each check prints one line, "ok - NAME" or "not ok - NAME" (plus indented
# detail lines starting with "#"); finish prints "N passed, M failed" and
# returns the script's exit status.
#
#   e2e_init                          check the environment, empty SLUICE_TMP
#   ok NAME / not_ok NAME [DETAIL...] record a result by hand
#   check NAME CMD...                 CMD must exit 0
#   expect_exit CODE NAME CMD...      CMD must exit with CODE; its output is
#                                     left in $E2E_OUT / $E2E_ERR, code in $E2E_RC
#   same_file NAME A B                A and B must be byte-identical
#   decompress FILE                   FILE's content on stdout (.gz/.zst by suffix)
#   expect_refusal CODE PATTERN NAME ARGS...
#                                     sluice ARGS must refuse cleanly (below)
#   kill_resume_loop OUT KILLS CMD... kill -9 CMD KILLS times while it runs,
#                                     then re-run it until it exits 0
#   finish                            print the summary and exit 0, or 1 if
#                                     anything failed (or nothing was checked)

E2E_PASS=0
E2E_FAIL=0

e2e_init() {
    : "${SLUICE:?SLUICE must name the sluice binary}"
    : "${SLUICE_SRC:?SLUICE_SRC must name the source tree}"
    : "${SLUICE_TMP:?SLUICE_TMP must name a scratch directory}"
    case "$SLUICE_TMP" in
    / | "") echo "refusing SLUICE_TMP='$SLUICE_TMP'" >&2; exit 1 ;;
    esac
    if [ ! -x "$SLUICE" ]; then
        echo "SLUICE=$SLUICE is not an executable" >&2
        exit 1
    fi
    rm -rf "$SLUICE_TMP"
    mkdir -p "$SLUICE_TMP"
    E2E_OUT="$SLUICE_TMP/.last.out"
    E2E_ERR="$SLUICE_TMP/.last.err"
    E2E_RC=0
    # The state store must never default to the user's home during tests.
    export XDG_STATE_HOME="$SLUICE_TMP/xdg-state"
}

ok() {
    E2E_PASS=$((E2E_PASS + 1))
    echo "ok - $1"
}

not_ok() {
    E2E_FAIL=$((E2E_FAIL + 1))
    echo "not ok - $1"
    shift
    local line
    for line in "$@"; do
        printf '%s\n' "$line" | head -c 2000 | sed 's/^/#   /'
    done
}

# Shows the last lines of the last command's stderr under a failure.
_e2e_tail() {
    [ -s "$E2E_ERR" ] && tail -n 5 "$E2E_ERR" | sed 's/^/#   stderr: /'
    return 0
}

# check NAME CMD...: ok when CMD exits 0. stdout/stderr go to E2E_OUT/E2E_ERR.
check() {
    local name=$1
    shift
    E2E_RC=0
    "$@" >"$E2E_OUT" 2>"$E2E_ERR" || E2E_RC=$?
    if [ "$E2E_RC" -eq 0 ]; then
        ok "$name"
    else
        not_ok "$name" "exit code $E2E_RC from: $*"
        _e2e_tail
    fi
}

# expect_exit CODE NAME CMD...: ok when CMD exits with CODE.
expect_exit() {
    local code=$1 name=$2
    shift 2
    E2E_RC=0
    "$@" >"$E2E_OUT" 2>"$E2E_ERR" || E2E_RC=$?
    if [ "$E2E_RC" -eq "$code" ]; then
        ok "$name"
    else
        not_ok "$name" "expected exit $code, got $E2E_RC from: $*"
        _e2e_tail
    fi
}

# same_file NAME A B: ok when both exist and are byte-identical.
same_file() {
    if [ -f "$2" ] && [ -f "$3" ] && cmp -s "$2" "$3"; then
        ok "$1"
    else
        not_ok "$1" "$(cmp "$2" "$3" 2>&1 || true)"
    fi
}

# decompress FILE: FILE's content on stdout, by suffix; fails if the
# compressed stream is damaged.
decompress() {
    case "$1" in
    *.gz | *.gz.partial) gzip -dc -- "$1" ;;
    *.zst | *.zst.partial) zstd -q -dc -- "$1" ;;
    *) cat -- "$1" ;;
    esac
}

sha256_of() {
    sha256sum -- "$1" | cut -d' ' -f1
}

file_size() {
    if [ -e "$1" ]; then stat -c %s -- "$1"; else echo 0; fi
}

# Sleeps a random time of 0 to $1 milliseconds.
random_sleep_ms() {
    local ms=$((RANDOM % ($1 + 1)))
    sleep "$(printf '%d.%03d' $((ms / 1000)) $((ms % 1000)))"
}

# Waits until FILE is larger than SIZE bytes, PID has exited, or SECONDS
# pass. Returns 0 when the file grew, 1 otherwise.
wait_for_growth() {
    local file=$1 size=$2 pid=$3 secs=$4 i
    for ((i = 0; i < secs * 100; i++)); do
        [ "$(file_size "$file")" -gt "$size" ] && return 0
        kill -0 "$pid" 2>/dev/null || return 1
        sleep 0.01
    done
    return 1
}

# kill_resume_loop OUT KILLS CMD...
#   Runs CMD (an array: the full sluice command writing OUT) in the
#   background and kills it with SIGKILL while it runs: the first time after
#   0-50 ms (maybe before any checkpoint), then each time after OUT.partial
#   has grown past its size at the previous kill plus a random 0-250 ms. After
#   KILLS kills (or when a run ends by itself) it re-runs CMD in the
#   foreground until it exits 0 (at most 5 times).
#   Sets KRL_KILLS (kills that hit a running process), KRL_RUNS (runs
#   started), KRL_LOG (stderr of every run) and KRL_EARLY (1 if OUT did not
#   exist at the start but existed after a kill: published too early).
#   Returns 0 when the last run exited 0; 1 on any other exit code (KRL_ERR
#   says which).
kill_resume_loop() {
    local out=$1 kills=$2
    shift 2
    local partial="$out.partial" last=0 i pid rc absent=0
    KRL_KILLS=0
    KRL_RUNS=0
    KRL_ERR=""
    KRL_EARLY=0
    [ -e "$out" ] || absent=1
    KRL_LOG="$SLUICE_TMP/krl.$(basename -- "$out").log"
    : >"$KRL_LOG"
    for ((i = 0; i < kills; i++)); do
        "$@" >/dev/null 2>>"$KRL_LOG" &
        pid=$!
        KRL_RUNS=$((KRL_RUNS + 1))
        if [ "$i" -eq 0 ]; then
            random_sleep_ms 50
        else
            wait_for_growth "$partial" "$last" "$pid" 60 || true
            random_sleep_ms 250
        fi
        kill -KILL "$pid" 2>/dev/null || true
        rc=0
        wait "$pid" 2>/dev/null || rc=$?
        if [ "$rc" -eq 137 ]; then
            KRL_KILLS=$((KRL_KILLS + 1))
            last=$(file_size "$partial")
            if [ "$absent" -eq 1 ] && [ -e "$out" ]; then
                KRL_EARLY=1
            fi
        elif [ "$rc" -eq 0 ]; then
            return 0 # finished before it could be killed
        else
            KRL_ERR="run $KRL_RUNS exited $rc: $(tail -n 1 "$KRL_LOG")"
            return 1
        fi
    done
    for ((i = 0; i < 5; i++)); do
        rc=0
        KRL_RUNS=$((KRL_RUNS + 1))
        "$@" >/dev/null 2>>"$KRL_LOG" || rc=$?
        [ "$rc" -eq 0 ] && return 0
        KRL_ERR="run $KRL_RUNS exited $rc: $(tail -n 1 "$KRL_LOG")"
        [ "$rc" -eq 130 ] || return 1
    done
    return 1
}

# expect_refusal CODE PATTERN NAME ARGS...: runs sluice ARGS in an empty
# directory of its own (@OUT@ in ARGS names an output there, @STATE@ the
# state store $REFUSAL_STATE). It must exit CODE, write exactly one line to
# stderr matching PATTERN (grep -E, case insensitive) and nothing to stdout,
# leave the directory empty (no output, no .partial) and the state store
# unchanged, and, when REFUSAL_KEEP names a file, leave its sha256 equal to
# $REFUSAL_KEEP_SUM ("none": it must not exist).
E2E_REFUSALS=0
expect_refusal() {
    local code=$1 pattern=$2 name=$3
    shift 3
    E2E_REFUSALS=$((E2E_REFUSALS + 1))
    local T=$SLUICE_TMP dir=$SLUICE_TMP/case$E2E_REFUSALS
    mkdir -p "$dir"
    local args=() a
    for a in "$@"; do
        a=${a//@OUT@/$dir/out.ndjson}
        a=${a//@STATE@/$REFUSAL_STATE}
        args+=("$a")
    done
    sqlite3 "$REFUSAL_STATE" .dump >"$T/before.dump"
    local rc=0
    (cd "$dir" && exec "$SLUICE" "${args[@]}") >"$T/bad.out" 2>"$T/bad.err" || rc=$?
    sqlite3 "$REFUSAL_STATE" .dump >"$T/after.dump"
    local problems=()
    [ "$rc" -eq "$code" ] || problems+=("exit $rc, expected $code")
    [ "$(wc -l <"$T/bad.err")" -eq 1 ] || problems+=("stderr has $(wc -l <"$T/bad.err") lines")
    grep -Eqi -e "$pattern" "$T/bad.err" || problems+=("stderr does not match /$pattern/")
    [ ! -s "$T/bad.out" ] || problems+=("stdout is not empty")
    local left
    left=$(ls -A "$dir" | tr '\n' ' ')
    [ -z "$left" ] || problems+=("left files: $left")
    cmp -s "$T/before.dump" "$T/after.dump" ||
        problems+=("the state store changed: $({ diff "$T/before.dump" "$T/after.dump" || true; } | head -c 600)")
    if [ -n "${REFUSAL_KEEP:-}" ] &&
        [ "$(sha256_of "$REFUSAL_KEEP" 2>/dev/null || echo none)" != "$REFUSAL_KEEP_SUM" ]; then
        problems+=("$REFUSAL_KEEP changed")
    fi
    if [ ${#problems[@]} -eq 0 ]; then
        ok "$name: exit $code, one line, no output, state unchanged"
    else
        not_ok "$name: exit $code, one line, no output, state unchanged" "${problems[@]}" \
            "stderr: $(cat "$T/bad.err")"
    fi
}

# finish: prints "N passed, M failed" and ends the script: exit 1 if
# anything failed or nothing was checked, else 0.
finish() {
    echo "$E2E_PASS passed, $E2E_FAIL failed"
    if [ "$E2E_FAIL" -eq 0 ] && [ "$E2E_PASS" -gt 0 ]; then
        exit 0
    fi
    exit 1
}
