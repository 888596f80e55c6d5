#!/bin/bash
# bad_input_pg.sh - the bad-input catalog against PostgreSQL: identifiers
# with quotes, double quotes, backticks, spaces, semicolons and non-ASCII
# work (every paging, one row per page) and never run anything; names and
# --where texts that are SQL in disguise are refused with exit 3; each
# refusal is one line on stderr, leaves no output or .partial and an
# unchanged state store. Then the secrets: the password (raw and
# percent-encoded) appears in no stdout, stderr, output or state file, after
# a success, a wrong password, an unknown table, a SIGINT, a resume, and
# with progress forced on; the state store is mode 0600.
#
# Needs a server: $SLUICE_TEST_PG_ENV names the env file written by
# scripts/pg-server.sh (ctest's "pg" fixture); skipped (77) without it.
set -euo pipefail
. "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"
e2e_init
if [ -z "${SLUICE_TEST_PG_ENV:-}" ] || [ ! -r "$SLUICE_TEST_PG_ENV" ]; then
    echo "skipped: SLUICE_TEST_PG_ENV names no env file of scripts/pg-server.sh"
    exit 77
fi
# shellcheck source=/dev/null
. "$SLUICE_TEST_PG_ENV"
T=$SLUICE_TMP
URL=$SLUICE_TEST_PG_URL
PSQL="${SLUICE_TEST_PG_BIN:+$SLUICE_TEST_PG_BIN/}psql"
psql_do() { "$PSQL" -X -q -v ON_ERROR_STOP=1 "$URL" "$@"; }
EXPECTED=$SLUICE_SRC/sql/badinput_expected.ndjson
WEIRD='badin x; DROP TABLE badin_victim; --'
# A role whose password holds every URL-special character. Authentication
# from 127.0.0.1 is trust for it (pg-server.sh), so the password is only
# carried, never checked: what matters is where it ends up.
SPW='Bd!n@:/?%#& x'
SPWURL=$(python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$SPW")
SURL="postgresql://badin_pw:$SPWURL@127.0.0.1:$SLUICE_TEST_PG_PORT/postgres"
psql_do -f "$SLUICE_SRC/sql/badinput_pg.sql"
psql_do <<EOF
SET client_min_messages = warning;
DROP TABLE IF EXISTS badin_big;
CREATE TABLE badin_big AS SELECT i AS id, repeat('x', 100) AS pad FROM generate_series(1, 100000) i;
ALTER TABLE badin_big ADD PRIMARY KEY (id);
ANALYZE badin_big;
DROP ROLE IF EXISTS badin_pw;
CREATE ROLE badin_pw LOGIN PASSWORD '$(printf '%s' "$SPW" | sed "s/'/''/g")';
GRANT pg_read_all_data TO badin_pw;
EOF
cleanup() {
    psql_do >/dev/null 2>&1 <<'EOF' || true
SET client_min_messages = warning;
DROP TABLE IF EXISTS badin_victim, "badin x; DROP TABLE badin_victim; --", "badin_it's",
    "badin_""dq"" tab", "badin_back`tick", "badin_ünï 表", badin_big;
DROP OWNED BY badin_pw;
DROP ROLE IF EXISTS badin_pw;
EOF
}
trap cleanup EXIT

victim_alive() {
    if [ "$(psql_do -At -c 'SELECT count(*) FROM badin_victim' 2>&1)" = 1 ]; then
        ok "$1: table badin_victim still exists with its row"
    else
        not_ok "$1: table badin_victim still exists with its row"
    fi
}

# ---- identifiers that need quoting work ------------------------------------
expected() {
    awk -F'\t' -v t="$1" '$1 == t { print $2 }' "$EXPECTED" | LC_ALL=C sort
}
mkdir -p "$T/names"
i=0
while IFS= read -r table; do
    for mode in keyset offset cursor "keyset --snapshot"; do
        i=$((i + 1))
        out=$T/names/out$i.ndjson
        # shellcheck disable=SC2086
        if "$SLUICE" extract "$URL" "$table" --paging $mode --page-size 1 -o "$out" \
            --state "$T/names/state.db" 2>"$T/names.err" &&
            [ -n "$(expected "$table")" ] && [ "$(LC_ALL=C sort "$out")" = "$(expected "$table")" ]; then
            ok "table '$table' ($mode, one row per page): the expected JSON"
        else
            not_ok "table '$table' ($mode, one row per page): the expected JSON" \
                "$(cat "$T/names.err")" "$(diff <(expected "$table") <(LC_ALL=C sort "$out" 2>&1) || true)"
        fi
    done
done < <(cut -f1 "$EXPECTED" | awk '!seen[$0]++')
check "schema-qualified 'public.$WEIRD'" "$SLUICE" extract "$URL" "public.$WEIRD" --state "$T/names/state.db"
[ "$(LC_ALL=C sort "$E2E_OUT")" = "$(expected "$WEIRD")" ] && ok "and gives its rows" || not_ok "and gives its rows"
want='{"naïve→日本":"ünï","it'"'"'s":"a'"'"'b","back`tick":"x`y","dq\"col":"say \"hi\"","spa ce":"two words"}'
check "--key/--columns/--where with quoted, spaced, non-ASCII column names" \
    "$SLUICE" extract "$URL" "$WEIRD" --key 'id; DROP TABLE badin_victim; --' \
    --columns 'naïve→日本,it'"'"'s,back`tick,dq"col,spa ce' --where '"spa ce" = '"'two words'" \
    --state "$T/names/state.db"
[ "$(cat "$E2E_OUT")" = "$want" ] && ok "and the JSON has those columns in that order" ||
    not_ok "and the JSON has those columns in that order" "$(cat "$E2E_OUT")"
check "discover of the table named like SQL" "$SLUICE" discover "$URL" "$WEIRD"
if python3 - "$E2E_OUT" <<'EOF'
import json, sys
t = json.load(open(sys.argv[1], encoding="utf-8"))["tables"][0]
sys.exit(0 if [c["name"] for c in t["columns"]] == ["id; DROP TABLE badin_victim; --", "it's",
         'dq"col', "back`tick", "spa ce", "naïve→日本"] else 1)
EOF
then ok "and describes its columns"; else not_ok "and describes its columns" "$(head -c 600 "$E2E_OUT")"; fi
victim_alive "after the quoted names"

# TABLE's own quoting (as psql's): "badin_victim" is that table, "public"."x" too.
check "TABLE in double quotes names the table" \
    "$SLUICE" extract "$URL" '"public"."badin_victim"' --state "$T/names/state.db"
[ "$(wc -l <"$E2E_OUT")" -eq 1 ] && ok "and gives its row" || not_ok "and gives its row" "$(cat "$E2E_OUT")"

# ---- refusals ------------------------------------------------------------------
STATE=$T/state.db
check "setup: a finished job in the state store" \
    "$SLUICE" extract "$URL" badin_victim -o "$T/done.ndjson" --state "$STATE"

# bad CODE PATTERN NAME ARGS...: lib.sh's expect_refusal.
REFUSAL_STATE=$STATE
bad() { expect_refusal "$@"; }

for t in 'badin_victim; DROP TABLE badin_victim; --' "badin_victim' OR '1'='1" \
    'badin_victim" --' 'badin_victim"; DROP TABLE badin_victim; --' \
    'public.badin_victim; DROP TABLE badin_victim' 'BADIN_VICTIM' '"BADIN_VICTIM"' \
    'nosuchschema.badin_victim' ' badin_victim'; do
    bad 3 'does not exist|no table|not found' "table '$t' is not found" extract "$URL" "$t" -o @OUT@ --state @STATE@
done
X=(extract "$URL" "$WEIRD" -o @OUT@ --state @STATE@)
bad 3 'DROP' "--columns naming SQL" "${X[@]}" --columns 'it'"'"'s; DROP TABLE badin_victim'
bad 3 'DROP' "--key naming SQL" "${X[@]}" --key 'id"; DROP TABLE badin_victim; --'
bad 3 'SPA CE' "--columns is case-sensitive" "${X[@]}" --columns 'SPA CE'
for mode in keyset offset cursor "keyset --snapshot"; do
    for w in 'id = = 1' '1=1; DROP TABLE badin_victim' "'unterminated" ')' '1=1 /*' \
        'no_such_fn(1)' '"spa ce" = 1'; do
        # shellcheck disable=SC2086
        bad 3 'syntax|unterminated|does not exist|operator|multiple|SQLSTATE' \
            "--where '$w' ($mode)" "${X[@]}" --where "$w" --paging $mode
    done
done
victim_alive "after the refusals"

# ---- secrets -------------------------------------------------------------------
S=$T/secrets
mkdir -p "$S"
PW=$SLUICE_TEST_PG_PASSWORD
PWURL=$(python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$PW")
WRONG=$(printf '%s' "$SLUICE_TEST_PG_PW_URL" | sed "s/$PW/Wr0ngPassw0rd/")
# run NAME CODE ARGS...: sluice ARGS, stdout and stderr kept in $S/NAME.*;
# the exit code must be CODE.
run() {
    local name=$1 code=$2
    shift 2
    local rc=0
    "$SLUICE" "$@" >"$S/$name.out" 2>"$S/$name.err" || rc=$?
    if [ "$rc" -eq "$code" ]; then
        ok "secrets: $name exits $code"
    else
        not_ok "secrets: $name exits $code" "exit $rc" "$(cat "$S/$name.err")"
    fi
}
run success 0 extract "$SLUICE_TEST_PG_PW_URL" badin_big -o "$S/big.ndjson" --state "$S/state.db" -v --progress always
run special-chars 0 extract "$SURL" "$WEIRD" -o "$S/special.ndjson" --state "$S/state.db" -v
run special-conninfo 0 extract "postgres:host=127.0.0.1 port=$SLUICE_TEST_PG_PORT user=badin_pw password='$(printf '%s' "$SPW" | sed "s/'/\\\\'/g")' dbname=postgres" \
    "$WEIRD" -o "$S/special-ci.ndjson" --state "$S/state.db" -v
run query-password 0 extract "postgresql://sluice_pw@127.0.0.1:$SLUICE_TEST_PG_PORT/postgres?password=$PWURL" \
    badin_victim -o "$S/query.ndjson" --state "$S/state.db" -v
run wrong-password 4 extract "$WRONG" badin_big -o "$S/wrong.ndjson" --state "$S/state.db"
run unknown-table 3 extract "$SLUICE_TEST_PG_PW_URL" badin_nosuch -o "$S/nosuch.ndjson" --state "$S/state.db"
run bad-where 3 extract "$SLUICE_TEST_PG_PW_URL" badin_big --where 'id = = 1' -o "$S/where.ndjson" --state "$S/state.db"
run discover 0 discover "$SLUICE_TEST_PG_PW_URL" badin_big
# A job interrupted by SIGINT, then resumed; the default state store (under
# XDG_STATE_HOME) is used, to check the modes sluice gives it.
INT_CMD=("$SLUICE" extract "$SLUICE_TEST_PG_PW_URL" badin_big -o "$S/int.ndjson" --page-size 100 --checkpoint-every 1000 -v --progress always)
"${INT_CMD[@]}" >"$S/int.out" 2>"$S/int.err" &
pid=$!
wait_for_growth "$S/int.ndjson.partial" 100000 "$pid" 30 || true
kill -INT "$pid" 2>/dev/null || true
rc=0
wait "$pid" || rc=$?
[ "$rc" -eq 130 ] && ok "secrets: SIGINT exits 130" || not_ok "secrets: SIGINT exits 130" "exit $rc" "$(cat "$S/int.err")"
XSTATE=$XDG_STATE_HOME/sluice/state.db
sqlite3 "$XSTATE" .dump >"$S/interrupted.dump" 2>&1
if grep -q "'running'" "$S/interrupted.dump"; then ok "secrets: the interrupted job is in the state store"; else
    not_ok "secrets: the interrupted job is in the state store"; fi
run resume 0 "${INT_CMD[@]:1}"
# Progress on a terminal (drawn every 0.25 s), through script(1).
if command -v script >/dev/null; then
    script -qec "$(printf '%q ' "$SLUICE" extract "$SLUICE_TEST_PG_PW_URL" badin_big -o "$S/tty.ndjson" \
        --state "$S/state.db" --page-size 20 --progress always -v)" /dev/null >"$S/tty.typescript" 2>&1 || true
    if grep -q 'rows/s' "$S/tty.typescript"; then ok "secrets: progress was drawn on a terminal"; else
        not_ok "secrets: progress was drawn on a terminal" "$(head -c 300 "$S/tty.typescript")"; fi
fi
for db in "$S/state.db" "$XSTATE"; do
    sqlite3 "$db" .dump >"$db.dump.txt"
done
# Every file written: outputs, partials, messages, state stores (raw and
# dumped), the typescript.
leaks=$(grep -r -a -l -F -e "$PW" -e "$PWURL" -e "$SPW" -e "$SPWURL" -e "Wr0ngPassw0rd" "$S" "$XDG_STATE_HOME" || true)
if [ -z "$leaks" ]; then
    ok "secrets: no password (raw or percent-encoded) in any stdout, stderr, output or state file"
else
    not_ok "secrets: no password (raw or percent-encoded) in any stdout, stderr, output or state file" "$leaks"
fi
if grep -a -q 'sluice_pw' "$S/state.db" && [ "$(wc -l <"$S/big.ndjson")" -eq 100000 ] && [ "$(wc -l <"$S/int.ndjson")" -eq 100000 ] &&
    [ -s "$S/success.err" ] && [ -s "$S/wrong-password.err" ] && [ -s "$S/interrupted.dump" ]; then
    ok "secrets: the runs above wrote what was searched (the user name is in the raw state file)"
else
    not_ok "secrets: the runs above wrote what was searched (the user name is in the raw state file)"
fi
modes=$(stat -c '%a %n' "$S"/state.db* "$XSTATE"* | grep -v '\.dump\.txt$' | grep -v '^600 ' || true)
[ -z "$modes" ] && ok "secrets: state store files are mode 0600" || not_ok "secrets: state store files are mode 0600" "$modes"
dmode=$(stat -c '%a' "$XDG_STATE_HOME/sluice")
[ "$dmode" = 700 ] && ok "secrets: the default state directory is mode 0700" ||
    not_ok "secrets: the default state directory is mode 0700" "$dmode"
victim_alive "at the end"
finish
