# fault_proxy_pg.sh - tests/e2e/tcp_proxy.py against a real PostgreSQL, and
# sluice losing its connection through it.
#
# The proxy: a query through it works; SIGUSR1 cuts a live session (psql
# fails at once); a new connection works again; --drop-after-bytes cuts a
# session after that many bytes from the server; --control FILE receives
# the port chosen for port 0.
# sluice: the connection cut mid-run (sluice stopped after a checkpoint,
# SIGUSR1, SIGCONT) ends with exit 4 and one line, the .partial holds whole
# rows, and the same command through the proxy resumes and writes the bytes
# of an uninterrupted run.
#
# Server: $SLUICE_TEST_PG_ENV, else $SLUICE_TEST_PG_URL (+ _PORT), else a
# throwaway server started here.
set -euo pipefail
. "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"
e2e_init

T=$SLUICE_TMP
PROXY=$SLUICE_SRC/tests/e2e/tcp_proxy.py
STARTED=""
PIDS=""
cleanup() {
    local p
    for p in $PIDS; do
        kill -CONT "$p" 2>/dev/null || true
        kill -TERM "$p" 2>/dev/null || true
    done
    if [ -n "$STARTED" ]; then
        sh "$SLUICE_SRC/scripts/pg-server.sh" stop "$T/pg-server" >/dev/null 2>&1 || true
    fi
}
trap cleanup EXIT
if [ -n "${SLUICE_TEST_PG_ENV:-}" ]; then
    . "$SLUICE_TEST_PG_ENV"
elif [ -z "${SLUICE_TEST_PG_URL:-}" ]; then
    ls -d /usr/lib/postgresql/*/bin >/dev/null 2>&1 || command -v pg_ctl >/dev/null ||
        { echo "SKIP: no PostgreSQL server installed"; exit 77; }
    sh "$SLUICE_SRC/scripts/pg-server.sh" start "$T/pg-server" >/dev/null
    STARTED=1
    . "$T/pg-server/env"
fi
PSQL="${SLUICE_TEST_PG_BIN:+$SLUICE_TEST_PG_BIN/}psql"
# host and port of the server, from the URL when the env file lacks them
HOSTPORT=$(python3 -c 'import sys, urllib.parse as u; p = u.urlsplit(sys.argv[1]); print(p.hostname or "127.0.0.1", p.port or 5432)' "$SLUICE_TEST_PG_URL")
PG_HOST=${HOSTPORT% *}
PG_PORT=${SLUICE_TEST_PG_PORT:-${HOSTPORT#* }}
# The server's URL with another port.
url_at() {
    python3 -c 'import sys, urllib.parse as u; p = u.urlsplit(sys.argv[1])
net = p.netloc.rsplit("@", 1); host = "%s:%s" % (p.hostname, sys.argv[2])
print(u.urlunsplit(p._replace(netloc=(net[0] + "@" + host) if len(net) == 2 else host)))' \
        "$SLUICE_TEST_PG_URL" "$1"
}
psql_at() { # PORT SQL
    "$PSQL" -X -q -At -v ON_ERROR_STOP=1 "$(url_at "$1")" -c "$2"
}

# start_proxy NAME [OPTION...]: starts the proxy on port 0; sets PROXY_PID
# and PROXY_PORT, its log in $T/NAME.log.
start_proxy() {
    local name=$1 i
    shift
    rm -f "$T/$name.port"
    python3 "$PROXY" 0 "$PG_HOST" "$PG_PORT" --control "$T/$name.port" "$@" 2>"$T/$name.log" &
    PROXY_PID=$!
    PIDS="$PIDS $PROXY_PID"
    for ((i = 0; i < 100; i++)); do
        [ -s "$T/$name.port" ] && break
        sleep 0.05
    done
    PROXY_PORT=$(cat "$T/$name.port" 2>/dev/null || true)
    if [ -n "$PROXY_PORT" ] && [ "$PROXY_PORT" -gt 0 ] && kill -0 "$PROXY_PID" 2>/dev/null; then
        ok "$name: the proxy started on port 0 and wrote its port ($PROXY_PORT) to the control file"
    else
        not_ok "$name: the proxy started on port 0 and wrote its port to the control file" "$(cat "$T/$name.log")"
        finish
    fi
}

stop_proxy() {
    local rc=0
    kill -TERM "$PROXY_PID" 2>/dev/null || true
    wait "$PROXY_PID" || rc=$?
    if [ "$rc" -eq 0 ]; then
        ok "$1: the proxy stops with exit 0 on SIGTERM"
    else
        not_ok "$1: the proxy stops with exit 0 on SIGTERM" "exit $rc: $(tail -n 3 "$T/$1.log")"
    fi
}

# ---- SIGUSR1 ----------------------------------------------------------------
start_proxy signal
if [ "$(psql_at "$PROXY_PORT" 'SELECT 6 * 7' 2>"$T/psql.err")" = 42 ]; then
    ok "signal: a query through the proxy works"
else
    not_ok "signal: a query through the proxy works" "$(cat "$T/psql.err")"
fi
# A session busy for 10 s; the cut must end it long before.
start=$(date +%s)
psql_at "$PROXY_PORT" 'SELECT pg_sleep(10)' >/dev/null 2>"$T/sleep.err" &
sleeper=$!
for ((i = 0; i < 100; i++)); do
    grep -q 'accepted #2' "$T/signal.log" && break
    sleep 0.05
done
sleep 0.3
kill -USR1 "$PROXY_PID"
rc=0
wait "$sleeper" || rc=$?
elapsed=$(($(date +%s) - start))
if [ "$rc" -ne 0 ] && [ "$elapsed" -lt 8 ] &&
    grep -qi 'closed the connection\|connection.*lost\|reset' "$T/sleep.err"; then
    ok "signal: SIGUSR1 cuts a live session, psql fails at once (exit $rc, ${elapsed}s)"
else
    not_ok "signal: SIGUSR1 cuts a live session, psql fails at once" \
        "exit $rc after ${elapsed}s: $(cat "$T/sleep.err")"
fi
if [ "$(psql_at "$PROXY_PORT" 'SELECT 43' 2>"$T/psql.err")" = 43 ]; then
    ok "signal: a new connection after the cut works"
else
    not_ok "signal: a new connection after the cut works" "$(cat "$T/psql.err")"
fi
kill -USR1 "$PROXY_PID"
sleep 0.2
if [ "$(psql_at "$PROXY_PORT" 'SELECT 44' 2>"$T/psql.err")" = 44 ]; then
    ok "signal: a cut with no live connection harms nothing"
else
    not_ok "signal: a cut with no live connection harms nothing" "$(cat "$T/psql.err")"
fi
stop_proxy signal

# ---- --drop-after-bytes -------------------------------------------------------
start_proxy drop --drop-after-bytes 20000
if [ "$(psql_at "$PROXY_PORT" 'SELECT 45' 2>"$T/psql.err")" = 45 ]; then
    ok "drop: a session of a few hundred bytes works"
else
    not_ok "drop: a session of a few hundred bytes works" "$(cat "$T/psql.err")"
fi
rc=0
psql_at "$PROXY_PORT" "SELECT repeat('x', 100000)" >"$T/big.out" 2>"$T/psql.err" || rc=$?
if [ "$rc" -ne 0 ] && grep -q 'cut #2: after 20000 bytes' "$T/drop.log"; then
    ok "drop: a session is cut after 20000 bytes from the server (psql exit $rc)"
else
    not_ok "drop: a session is cut after 20000 bytes from the server" \
        "exit $rc: $(cat "$T/psql.err")" "$(cat "$T/drop.log")"
fi
if [ "$(psql_at "$PROXY_PORT" 'SELECT 46' 2>"$T/psql.err")" = 46 ]; then
    ok "drop: the next connection works"
else
    not_ok "drop: the next connection works" "$(cat "$T/psql.err")"
fi
stop_proxy drop

# ---- sluice loses its connection mid-run ------------------------------------
psql_at "$PG_PORT" "SET client_min_messages = warning; DROP TABLE IF EXISTS fault_proxy;
CREATE TABLE fault_proxy (id bigint PRIMARY KEY, h text, n numeric(12, 3));
INSERT INTO fault_proxy SELECT i, md5(i::text), i / 7.0 FROM generate_series(1, 40000) i;" \
    >/dev/null
OPTS=(--page-size 100 --checkpoint-every 1000)
REF=$T/ref.ndjson
check "sluice: the reference extraction, direct" "$SLUICE" extract "$(url_at "$PG_PORT")" \
    fault_proxy -o "$REF" --state "$T/ref.state" "${OPTS[@]}"

start_proxy sluice
OUT=$T/cut.ndjson
STATE=$T/cut.state
cmd=("$SLUICE" extract "$(url_at "$PROXY_PORT")" fault_proxy -o "$OUT" --state "$STATE" "${OPTS[@]}")
"${cmd[@]}" >/dev/null 2>"$T/cut.err" &
pid=$!
PIDS="$PIDS $pid"
rows=""
for ((i = 0; i < 2000; i++)); do
    rows=$(sqlite3 "$STATE" 'SELECT "rows" FROM streams' 2>/dev/null || true)
    [ -n "$rows" ] && [ "$rows" -gt 0 ] && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.01
done
kill -STOP "$pid" 2>/dev/null || true
kill -USR1 "$PROXY_PID"
for ((i = 0; i < 100; i++)); do
    grep -q 'cut #1: signal' "$T/sluice.log" && break
    sleep 0.05
done
kill -CONT "$pid" 2>/dev/null || true
rc=0
wait "$pid" || rc=$?
cp "$T/cut.err" "$E2E_ERR"
if [ "$rc" -eq 4 ]; then
    ok "sluice: a connection cut mid-run ends with exit 4"
else
    not_ok "sluice: a connection cut mid-run ends with exit 4" "exit $rc: $(cat "$T/cut.err")"
fi
if [ "$(wc -l <"$T/cut.err")" -eq 1 ]; then
    ok "sluice: one line on stderr"
else
    not_ok "sluice: one line on stderr" "$(cat "$T/cut.err")"
fi
read -r rows bytes < <(sqlite3 -separator ' ' "$STATE" 'SELECT "rows", bytes FROM streams' 2>&1) || true
if [ ! -e "$OUT" ] && [ "${bytes:-0}" -gt 0 ] 2>/dev/null &&
    [ "$bytes" -le "$(file_size "$OUT.partial")" ] &&
    [ "$(tail -c 1 "$OUT.partial" | od -An -tx1 | tr -d ' \n')" = 0a ] &&
    cmp -s <(head -c "$bytes" "$OUT.partial") <(head -c "$bytes" "$REF"); then
    ok "sluice: nothing published, whole rows, the checkpoint ($rows rows) matches the uninterrupted run"
else
    not_ok "sluice: nothing published, whole rows, the checkpoint matches the uninterrupted run" \
        "rows=$rows bytes=$bytes partial=$(file_size "$OUT.partial")"
fi
check "sluice: the same command through the proxy resumes, exit 0" "${cmd[@]}" -v
if grep -q 'resuming job .* after [1-9][0-9]* rows' "$E2E_ERR"; then
    ok "sluice: the re-run resumes after the checkpoint"
else
    not_ok "sluice: the re-run resumes after the checkpoint" "$(cat "$E2E_ERR")"
fi
same_file "sluice: the output is byte-identical to an uninterrupted run" "$REF" "$OUT"
stop_proxy sluice

# ---- --retries: reconnect and continue from the checkpoint in the same run --
# wait_rows STATE MIN PID: waits until the stream's checkpoint passes MIN rows.
wait_rows() {
    local r i
    for ((i = 0; i < 3000; i++)); do
        r=$(sqlite3 "$1" 'SELECT "rows" FROM streams' 2>/dev/null || true)
        [ -n "$r" ] && [ "$r" -gt "$2" ] && { echo "$r"; return 0; }
        kill -0 "$3" 2>/dev/null || return 1
        sleep 0.01
    done
    return 1
}
start_proxy retry
OUT=$T/retry.ndjson.gz
cmd=("$SLUICE" extract "$(url_at "$PROXY_PORT")" fault_proxy -o "$OUT" --state "$T/retry.state"
     "${OPTS[@]}" --retries 6 --retry-wait 0.05)
"${cmd[@]}" >/dev/null 2>"$T/retry.err" &
pid=$!
PIDS="$PIDS $pid"
seen=0 cuts=0
for ((c = 0; c < 3; c++)); do
    seen=$(wait_rows "$T/retry.state" "$seen" "$pid") || break
    kill -USR1 "$PROXY_PID" && cuts=$((cuts + 1))
    # The next cut only once this one has been noticed and healed: a cut
    # while sluice is between connections would cut nothing.
    for ((i = 0; i < 400; i++)); do
        [ "$(grep -c 'reconnected' "$T/retry.err")" -ge "$cuts" ] && break
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.05
    done
done
rc=0
wait "$pid" || rc=$?
if [ "$rc" -eq 0 ] && [ "$cuts" -ge 2 ] && [ "$(grep -c 'connecting again' "$T/retry.err")" -ge 2 ]; then
    ok "--retries: $cuts cuts, reconnected each time, exit 0"
else
    not_ok "--retries: reconnected after each cut, exit 0" "exit $rc, $cuts cuts: $(cat "$T/retry.err")"
fi
gzip -dc "$OUT" >"$T/retry.ndjson" 2>/dev/null || true
same_file "--retries: the gzip output is byte-identical to an uninterrupted run" "$REF" "$T/retry.ndjson"
if grep -q "$SLUICE_TEST_PG_PASSWORD" "$T/retry.err" 2>/dev/null && [ -n "${SLUICE_TEST_PG_PASSWORD:-}" ]; then
    not_ok "--retries: no password in the retry messages"
else
    ok "--retries: no password in the retry messages"
fi
stop_proxy retry

# ---- the server restarted mid-extraction ------------------------------------
DATA=${SLUICE_TEST_PG_ENV:+$(dirname "$SLUICE_TEST_PG_ENV")/data}
[ -n "$STARTED" ] && DATA=$T/pg-server/data
PGCTL="${SLUICE_TEST_PG_BIN:+$SLUICE_TEST_PG_BIN/}pg_ctl"
as_owner() { if [ "$(id -u)" = 0 ]; then runuser -u "$(stat -c %U "$DATA")" -- "$@"; else "$@"; fi; }
if [ -d "$DATA" ]; then
    OUT=$T/restart.ndjson.zst
    cmd=("$SLUICE" extract "$(url_at "$PG_PORT")" fault_proxy -o "$OUT" --state "$T/restart.state"
         "${OPTS[@]}" --retries 8 --retry-wait 0.2)
    "${cmd[@]}" >/dev/null 2>"$T/restart.err" &
    pid=$!
    PIDS="$PIDS $pid"
    wait_rows "$T/restart.state" 0 "$pid" >/dev/null || true
    kill -STOP "$pid" 2>/dev/null || true
    as_owner "$PGCTL" -D "$DATA" restart -m fast -w >"$T/pgctl.log" 2>&1 || true
    kill -CONT "$pid" 2>/dev/null || true
    rc=0
    wait "$pid" || rc=$?
    if [ "$rc" -eq 0 ] && grep -q 'connecting again' "$T/restart.err"; then
        ok "server restarted mid-run: reconnected, exit 0"
    else
        not_ok "server restarted mid-run: reconnected, exit 0" "exit $rc: $(cat "$T/restart.err" "$T/pgctl.log")"
    fi
    zstd -q -dc "$OUT" >"$T/restart.ndjson" 2>/dev/null || true
    same_file "server restarted: the output is byte-identical" "$REF" "$T/restart.ndjson"
else
    echo "# skip: no data directory for a server restart"
fi

# ---- no retries left: the connection error code and a resumable state -----
start_proxy last
OUT=$T/last.ndjson
cmd=("$SLUICE" extract "$(url_at "$PROXY_PORT")" fault_proxy -o "$OUT" --state "$T/last.state"
     "${OPTS[@]}" --retries 1 --retry-wait 0.05)
"${cmd[@]}" >/dev/null 2>"$T/last.err" &
pid=$!
PIDS="$PIDS $pid"
seen=$(wait_rows "$T/last.state" 0 "$pid") || seen=0
kill -STOP "$pid" 2>/dev/null || true
kill -TERM "$PROXY_PID" 2>/dev/null || true # nothing listens any more
wait "$PROXY_PID" 2>/dev/null || true
kill -CONT "$pid" 2>/dev/null || true
rc=0
wait "$pid" || rc=$?
if [ "$rc" -eq 4 ] && grep -q 'no retries left' "$T/last.err"; then
    ok "retries exhausted: exit 4, says no retries are left"
else
    not_ok "retries exhausted: exit 4, says no retries are left" "exit $rc: $(cat "$T/last.err")"
fi
python3 "$PROXY" "$PROXY_PORT" "$PG_HOST" "$PG_PORT" >"$T/last2.log" 2>&1 &
PROXY_PID=$!
PIDS="$PIDS $PROXY_PID"
for ((i = 0; i < 100; i++)); do
    psql_at "$PROXY_PORT" 'SELECT 1' >/dev/null 2>&1 && break
    sleep 0.05
done
check "retries exhausted: the same command, once the way is open again, completes" "${cmd[@]}"
same_file "retries exhausted, then resumed: byte-identical" "$REF" "$OUT"
kill -TERM "$PROXY_PID" 2>/dev/null || true

psql_at "$PG_PORT" 'DROP TABLE IF EXISTS fault_proxy' >/dev/null 2>&1 || true
finish
