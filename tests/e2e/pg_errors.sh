#!/bin/sh
# pg_errors.sh - exit codes and messages of the PostgreSQL driver: missing
# table/column, SQL errors, permissions, bad and refused connections, lost
# connections; the password never appears in messages, output or state.
. "$(cd "$(dirname "$0")" && pwd)/pg_env.sh"
url=$SLUICE_TEST_PG_URL
st="--state $work/state.db"

# expect CODE NAME PATTERN -- ARGS: exit code CODE and PATTERN (grep -E) on stderr
expect() {
    code=$1 name=$2 pattern=$3
    shift 4
    rc=0
    "$SLUICE" "$@" >"$work/out" 2>"$work/err" || rc=$?
    if [ "$rc" -ne "$code" ]; then
        bad "$name: exit $rc, want $code: $(cat "$work/err")"
    elif ! grep -Eq -- "$pattern" "$work/err"; then
        bad "$name: message does not match /$pattern/: $(cat "$work/err")"
    elif [ "$(wc -l <"$work/err")" -gt 1 ]; then
        bad "$name: message is not one line: $(cat "$work/err")"
    else
        ok "$name (exit $code)"
    fi
}

# shellcheck disable=SC2086
{
expect 3 "missing table" 'table "nope" does not exist' -- extract "$url" nope $st
expect 3 "missing schema.table" 'table "sluice_fx.nope" does not exist' -- extract "$url" sluice_fx.nope $st
expect 3 "missing column" 'nope' -- extract "$url" types --columns id,nope $st
expect 3 "missing key column" 'nope' -- extract "$url" types --key nope $st
expect 3 "SQL error carries server text and SQL" 'operator does not exist.*SQLSTATE 42883.*SQL: SELECT .*\( b >>> 1 \) ORDER BY' -- extract "$url" ties --where 'b >>> 1' $st
expect 3 "unknown column in --where" 'column "nocol" does not exist' -- extract "$url" ties --where 'nocol = 1' --restart $st
expect 3 "permission denied" 'permission denied for table secret.*42501' -- extract "$SLUICE_TEST_PG_NOPERM_URL" secret $st
expect 3 "permission denied, cursor" 'permission denied for table secret' -- extract "$SLUICE_TEST_PG_NOPERM_URL" secret --paging cursor --restart $st
expect 2 "view needs --key" '--key' -- extract "$url" types_view $st
expect 4 "connection refused" 'cannot connect to PostgreSQL \(host 127.0.0.1 port 1 ' -- extract "postgresql://postgres@127.0.0.1:1/postgres" ties $st
expect 4 "unknown database" 'database "nodb" does not exist' -- extract "postgresql://postgres@127.0.0.1:$SLUICE_TEST_PG_PORT/nodb" ties $st
expect 2 "malformed URI" 'invalid PostgreSQL connection string' -- extract "postgresql://u:se%zzcret@127.0.0.1/x" ties $st
}
grep -q 'se%zzcret' "$work/err" && bad "malformed URI: the password is in the message" || ok "malformed URI: no password in the message"

# A wrong password: refused, and neither password is printed.
wrong_url=$(echo "$SLUICE_TEST_PG_PW_URL" | sed "s/$SLUICE_TEST_PG_PASSWORD/Wr0ngPassw0rd/")
expect 4 "wrong password" 'password authentication failed' -- extract "$wrong_url" ties $st
grep -q -e Wr0ngPassw0rd -e "$SLUICE_TEST_PG_PASSWORD" "$work/err" && bad "wrong password printed" || ok "wrong password not printed"

# The right password: works; the password is nowhere.
if "$SLUICE" extract "$SLUICE_TEST_PG_PW_URL" ties -o "$work/pw.ndjson" -v --state "$work/pw.db" 2>"$work/pw.err" &&
    [ "$(wc -l <"$work/pw.ndjson")" -eq 53 ]; then ok "password URL extracts"; else bad "password URL: $(cat "$work/pw.err")"; fi
"$SLUICE" discover "$SLUICE_TEST_PG_PW_URL" ties >"$work/pw.disc" 2>>"$work/pw.err" || bad "discover with password"
if grep -a -q -- "$SLUICE_TEST_PG_PASSWORD" "$work/pw.err" "$work/pw.ndjson" "$work/pw.disc" "$work"/pw.db*; then
    bad "the password appears in messages, output or state"
else
    ok "the password appears in no message, output or state file"
fi

# Other ways to give a connection: conninfo after "postgres:", a bare
# conninfo, PGPASSWORD.
if "$SLUICE" extract "postgres:host=127.0.0.1 port=$SLUICE_TEST_PG_PORT user=postgres dbname=postgres" ties \
    -o "$work/ci.ndjson" $st -q && [ "$(wc -l <"$work/ci.ndjson")" -eq 53 ]; then
    ok "postgres:conninfo form"
else
    bad "postgres:conninfo form"
fi
# A bare libpq keyword conninfo is a PostgreSQL source too; a lone word
# naming a SQLite file ("dbname=x.db") stays SQLite's.
if "$SLUICE" extract "host=127.0.0.1 port=$SLUICE_TEST_PG_PORT user=postgres dbname=postgres" ties \
    -o "$work/bare.ndjson" $st -q 2>"$work/bare.err" && [ "$(wc -l <"$work/bare.ndjson")" -eq 53 ]; then
    ok "bare keyword conninfo"
else
    bad "bare keyword conninfo: $(cat "$work/bare.err")"
fi
expect 4 "bare conninfo: its errors are PostgreSQL's" 'cannot connect to PostgreSQL \(host 127.0.0.1 port 1 ' -- \
    extract "host=127.0.0.1 port=1 dbname=postgres" ties $st
mkdir "$work/lite"
sqlite3 "$work/lite/dbname=x.db" "CREATE TABLE t (id INTEGER PRIMARY KEY); INSERT INTO t VALUES (1), (2);"
if (cd "$work/lite" && "$SLUICE" extract "dbname=x.db" t --state "$work/lite.db" -q) >"$work/lite.out" 2>&1 &&
    [ "$(cat "$work/lite.out")" = '{"id":1}
{"id":2}' ]; then
    ok "a SQLite file named dbname=x.db is still SQLite's"
else
    bad "a SQLite file named dbname=x.db: $(cat "$work/lite.out")"
fi

# Notices the server sends while the connection is set up (here a WARNING
# for an invalid setting of the role) never reach stderr: one line.
psql_do -c "DROP ROLE IF EXISTS sluice_notice" -c "CREATE ROLE sluice_notice LOGIN" \
    -c "SET client_min_messages = error" \
    -c "ALTER ROLE sluice_notice SET default_text_search_config = 'pg_catalog.nope'" 2>/dev/null
expect 3 "connect-time notices stay off stderr" 'table "nope" does not exist' -- \
    extract "postgresql://sluice_notice@127.0.0.1:$SLUICE_TEST_PG_PORT/postgres" nope $st
psql_do -c "DROP ROLE sluice_notice"

# connect_timeout is honoured: a server that accepts and never answers.
python3 - "$work/mute.port" <<'PY' &
import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(8)
open(sys.argv[1] + ".tmp", "w").write(str(s.getsockname()[1]))
import os; os.rename(sys.argv[1] + ".tmp", sys.argv[1])
time.sleep(60)
PY
mute=$!
for _ in $(seq 1 100); do [ -s "$work/mute.port" ] && break; sleep 0.05; done
start=$(date +%s)
expect 4 "connect_timeout=2 against a mute server" 'timeout expired' -- \
    extract "postgresql://postgres@127.0.0.1:$(cat "$work/mute.port")/postgres?connect_timeout=2" ties $st
elapsed=$(($(date +%s) - start))
[ "$elapsed" -lt 15 ] && ok "connect_timeout: gave up after ${elapsed}s" || bad "connect_timeout: gave up after ${elapsed}s"
kill "$mute" 2>/dev/null || true

if PGPASSWORD=$SLUICE_TEST_PG_PASSWORD "$SLUICE" extract "postgresql://sluice_pw@127.0.0.1:$SLUICE_TEST_PG_PORT/postgres" \
    ties -o "$work/env.ndjson" $st -q && [ "$(wc -l <"$work/env.ndjson")" -eq 53 ]; then
    ok "PGPASSWORD"
else
    bad "PGPASSWORD"
fi

# A connection lost mid-scan: exit 4. The backend is found by its
# application_name, which is "sluice", once it is past its session SETs
# (a kill during connection setup was seen to put the server's FATAL line
# on stderr as a second line: a different case, noted on issue 6).
psql_do -c "DROP TABLE IF EXISTS lost; CREATE TABLE lost AS SELECT i AS id, repeat('x', 200) AS pad FROM generate_series(1, 300000) i; ALTER TABLE lost ADD PRIMARY KEY (id)"
for paging in keyset cursor; do
    "$SLUICE" extract "$url" lost --paging $paging --page-size 50 -o "$work/lost.ndjson" --state "$work/lost-$paging.db" -q 2>"$work/lost.err" &
    pid=$!
    killed=0
    for _ in $(seq 1 200); do
        n=$(psql_do -At -c "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = 'sluice' AND pid <> pg_backend_pid() AND query <> '' AND query NOT LIKE 'SET %'")
        [ "$n" -gt 0 ] && { killed=1; break; }
        sleep 0.05
    done
    rc=0
    wait $pid || rc=$?
    if [ $killed -eq 1 ] && [ $rc -eq 4 ] && [ "$(wc -l <"$work/lost.err")" -eq 1 ]; then
        ok "lost connection ($paging): exit 4: $(cut -c1-100 "$work/lost.err")"
    else
        bad "lost connection ($paging): terminated=$killed exit=$rc $(cat "$work/lost.err")"
    fi
done

[ "$fails" -eq 0 ] || { echo "$fails failure(s)"; exit 1; }
echo "all pg_errors checks passed"
