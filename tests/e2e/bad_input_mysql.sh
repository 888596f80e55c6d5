#!/bin/bash
# bad_input_mysql.sh - the bad-input catalog against MariaDB/MySQL:
# identifiers with quotes, double quotes, backticks, spaces, semicolons and
# non-ASCII work (every paging, one row per page, also with the server in
# NO_BACKSLASH_ESCAPES,ANSI_QUOTES mode; TABLE written as tablename.h reads
# it, double-quoted where it holds a dot or a double quote) and never run
# anything; a malformed TABLE is a usage error; string keys
# full of quotes and backslashes page correctly; names and --where texts
# that are SQL in disguise are refused with exit 3; each refusal is one line
# on stderr, leaves no output or .partial and an unchanged state store.
# Then the secrets: the password (raw and percent-encoded) appears in no
# stdout, stderr, output or state file, after a success, a wrong password,
# an unknown table, a SIGINT, a resume, and with progress forced on; the
# state store is mode 0600.
#
# Needs a server: $SLUICE_TEST_MYSQL_ENV names the env file written by
# scripts/mariadb-server.sh (ctest's "mysql" fixture); skipped (77) without.
set -euo pipefail
. "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"
e2e_init
if [ -z "${SLUICE_TEST_MYSQL_ENV:-}" ] || [ ! -r "$SLUICE_TEST_MYSQL_ENV" ]; then
    echo "skipped: SLUICE_TEST_MYSQL_ENV names no env file of scripts/mariadb-server.sh"
    exit 77
fi
# shellcheck source=/dev/null
. "$SLUICE_TEST_MYSQL_ENV"
T=$SLUICE_TMP
URL=$SLUICE_TEST_MYSQL_URL
PW=$SLUICE_TEST_MYSQL_PASSWORD
PWURL=$SLUICE_TEST_MYSQL_PASSWORD_URL
H=$SLUICE_TEST_MYSQL_HOST
P=$SLUICE_TEST_MYSQL_PORT
CLIENT=$(command -v mariadb || command -v mysql)
my() {
    MYSQL_PWD=$PW "$CLIENT" --no-defaults --default-character-set=utf8mb4 -h "$H" -P "$P" \
        -u "$SLUICE_TEST_MYSQL_USER" "$SLUICE_TEST_MYSQL_DB" "$@"
}
EXPECTED=$SLUICE_SRC/sql/badinput_expected.ndjson
WEIRD='badin x; DROP TABLE badin_victim; --'
my <"$SLUICE_SRC/sql/badinput_mysql.sql"
my -e "DROP TABLE IF EXISTS badin_big;
CREATE TABLE badin_big (id INT NOT NULL PRIMARY KEY, pad VARCHAR(100));
INSERT INTO badin_big
  SELECT 1 + a.d + 10 * b.d + 100 * c.d + 1000 * e.d + 10000 * f.d, REPEAT('x', 100)
  FROM (SELECT 0 d UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4
        UNION ALL SELECT 5 UNION ALL SELECT 6 UNION ALL SELECT 7 UNION ALL SELECT 8 UNION ALL SELECT 9) a,
       (SELECT 0 d UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4
        UNION ALL SELECT 5 UNION ALL SELECT 6 UNION ALL SELECT 7 UNION ALL SELECT 8 UNION ALL SELECT 9) b,
       (SELECT 0 d UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4
        UNION ALL SELECT 5 UNION ALL SELECT 6 UNION ALL SELECT 7 UNION ALL SELECT 8 UNION ALL SELECT 9) c,
       (SELECT 0 d UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4
        UNION ALL SELECT 5 UNION ALL SELECT 6 UNION ALL SELECT 7 UNION ALL SELECT 8 UNION ALL SELECT 9) e,
       (SELECT 0 d UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4
        UNION ALL SELECT 5 UNION ALL SELECT 6 UNION ALL SELECT 7 UNION ALL SELECT 8 UNION ALL SELECT 9) f;"
ROOT=${SLUICE_TEST_MYSQL_ROOT:-}
old_mode=""
cleanup() {
    if [ -n "$ROOT" ] && [ -n "$old_mode" ]; then
        $ROOT -e "SET GLOBAL sql_mode = '$old_mode'" >/dev/null 2>&1 || true
    fi
    my -e "DROP TABLE IF EXISTS badin_victim, \`badin x; DROP TABLE badin_victim; --\`, \`badin_it's\`,
        \`badin_\"dq\" tab\`, \`badin_back\`\`tick\`, \`badin_ünï 表\`, badin_big, \`badin.dot\`" >/dev/null 2>&1 || true
}
trap cleanup EXIT

victim_alive() {
    if [ "$(my -N -e 'SELECT count(*) FROM badin_victim' 2>&1)" = 1 ]; then
        ok "$1: table badin_victim still exists with its row"
    else
        not_ok "$1: table badin_victim still exists with its row"
    fi
}

# ---- identifiers that need quoting work ------------------------------------
expected() {
    awk -F'\t' -v t="$1" '$1 == t { print $2 }' "$EXPECTED" | LC_ALL=C sort
}
# TABLE as sluice reads it (src/source/tablename.h, as discover lists it): a
# name holding a dot or a double quote is written in double quotes, with
# its double quotes doubled.
tname() {
    case $1 in
    *[.\"]*) local q=${1//\"/\"\"}; printf '"%s"' "$q" ;;
    *) printf '%s' "$1" ;;
    esac
}
mkdir -p "$T/names"
i=0
# names_all LABEL: every table of the expected file, every paging.
names_all() {
    local table mode out
    while IFS= read -r table; do
        for mode in keyset offset cursor "keyset --snapshot"; do
            i=$((i + 1))
            out=$T/names/out$i.ndjson
            # shellcheck disable=SC2086
            if "$SLUICE" extract "$URL" "$(tname "$table")" --paging $mode --page-size 1 -o "$out" \
                --state "$T/names/state.db" 2>"$T/names.err" &&
                [ -n "$(expected "$table")" ] && [ "$(LC_ALL=C sort "$out")" = "$(expected "$table")" ]; then
                ok "table '$table' ($mode, one row per page$1): the expected JSON"
            else
                not_ok "table '$table' ($mode, one row per page$1): the expected JSON" \
                    "$(cat "$T/names.err")" "$(diff <(expected "$table") <(LC_ALL=C sort "$out" 2>&1) || true)"
            fi
        done
    done < <(cut -f1 "$EXPECTED" | awk '!seen[$0]++')
}
names_all ""
# The same with the server quoting the other way: backslashes are plain
# characters in string literals, and "..." quotes identifiers.
if [ -n "$ROOT" ]; then
    old_mode=$($ROOT -N -e 'SELECT @@GLOBAL.sql_mode')
    $ROOT -e "SET GLOBAL sql_mode = CONCAT(@@GLOBAL.sql_mode, ',NO_BACKSLASH_ESCAPES,ANSI_QUOTES')"
    names_all ", NO_BACKSLASH_ESCAPES,ANSI_QUOTES"
    $ROOT -e "SET GLOBAL sql_mode = '$old_mode'"
    old_mode=""
fi
check "database-qualified '$SLUICE_TEST_MYSQL_DB.$WEIRD'" \
    "$SLUICE" extract "$URL" "$SLUICE_TEST_MYSQL_DB.$WEIRD" --state "$T/names/state.db"
[ "$(LC_ALL=C sort "$E2E_OUT")" = "$(expected "$WEIRD")" ] && ok "and gives its rows" || not_ok "and gives its rows"
DQ='badin_"dq" tab'
check "quoted schema and table '\"$SLUICE_TEST_MYSQL_DB\".$(tname "$DQ")'" \
    "$SLUICE" extract "$URL" "\"$SLUICE_TEST_MYSQL_DB\".$(tname "$DQ")" --state "$T/names/state.db"
[ "$(LC_ALL=C sort "$E2E_OUT")" = "$(expected "$DQ")" ] && ok "and gives its rows" || not_ok "and gives its rows"
want='{"naïve→日本":"ünï","it'"'"'s":"a'"'"'b","back`tick":"x`y","dq\"col":"say \"hi\"","spa ce":"two words"}'
check "--key/--columns/--where with quoted, spaced, non-ASCII column names" \
    "$SLUICE" extract "$URL" "$WEIRD" --key 'id; DROP TABLE badin_victim; --' \
    --columns 'naïve→日本,it'"'"'s,back`tick,dq"col,spa ce' --where '`spa ce` = '"'two words'" \
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
# discover lists every table as TABLE must be written, so each listed name
# is described (and could be extracted): with the URL's database, and
# without one (every schema the user sees, as schema.table).
my -e "DROP TABLE IF EXISTS \`badin.dot\`; CREATE TABLE \`badin.dot\` (id INT NOT NULL PRIMARY KEY); INSERT INTO \`badin.dot\` VALUES (7);"
NODB=${URL%/*}
for u in "$URL" "$NODB"; do
    check "discover of a database holding names with a dot and a double quote ($( [ "$u" = "$URL" ] && echo with || echo without) a database in the URL)" \
        "$SLUICE" discover "$u"
    if python3 - "$E2E_OUT" <<'EOF2'
import json, sys
names = {t["name"] for t in json.load(open(sys.argv[1], encoding="utf-8"))["tables"]}
sys.exit(0 if {"badin.dot", 'badin_"dq" tab'} <= names else 1)
EOF2
    then ok "and lists them"; else not_ok "and lists them" "$(head -c 300 "$E2E_OUT")"; fi
done
check "extract '\"badin.dot\"'" "$SLUICE" extract "$URL" '"badin.dot"' --state "$T/names/state.db"
[ "$(cat "$E2E_OUT")" = '{"id":7}' ] && ok "and gives its row" || not_ok "and gives its row" "$(cat "$E2E_OUT")"
victim_alive "after the quoted names"

# ---- refusals ------------------------------------------------------------------
STATE=$T/state.db
check "setup: a finished job in the state store" \
    "$SLUICE" extract "$URL" badin_victim -o "$T/done.ndjson" --state "$STATE"

# bad CODE PATTERN NAME ARGS...: lib.sh's expect_refusal.
REFUSAL_STATE=$STATE
bad() { expect_refusal "$@"; }

for t in 'badin_victim; DROP TABLE badin_victim; --' "badin_victim' OR '1'='1" \
    "badin_victim\\' OR 1=1 -- " 'badin_victim`; DROP TABLE badin_victim; --' \
    '"badin_victim"" --"' "$SLUICE_TEST_MYSQL_DB.badin_victim; DROP TABLE badin_victim" \
    'nosuchdb.badin_victim' ' badin_victim' '"badin_victim\0"'; do
    bad 3 'no table' "table '$t' is not found" extract "$URL" "$t" -o @OUT@ --state @STATE@
done
for t in 'badin_victim" --' '"badin_victim' 'a.b.badin_victim' "$SLUICE_TEST_MYSQL_DB."; do
    bad 2 'table .*(double quote|more than|empty)' "TABLE '$t' is malformed" extract "$URL" "$t" -o @OUT@ --state @STATE@
done
X=(extract "$URL" "$WEIRD" -o @OUT@ --state @STATE@)
bad 3 'DROP' "--columns naming SQL" "${X[@]}" --columns 'it'"'"'s`; DROP TABLE badin_victim; --'
bad 3 'DROP' "--key naming SQL" "${X[@]}" --key 'id`; DROP TABLE badin_victim; --'
for mode in keyset offset cursor "keyset --snapshot"; do
    for w in 'id = = 1' '1=1; DROP TABLE badin_victim' "'unterminated" ')' '1=1 /*' \
        'no_such_fn(1)' '`spa ce` = '"'"; do
        # shellcheck disable=SC2086
        bad 3 'error 1[0-9]{3}|syntax|does not exist|unknown' \
            "--where '$w' ($mode)" "${X[@]}" --where "$w" --paging $mode
    done
done
victim_alive "after the refusals"

# ---- secrets -------------------------------------------------------------------
S=$T/secrets
mkdir -p "$S"
WRONG="mysql://sluice:Wr0ngPassw0rd@$H:$P/$SLUICE_TEST_MYSQL_DB"
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
run success 0 extract "$URL" badin_big -o "$S/big.ndjson" --state "$S/state.db" -v --progress always
run mariadb-scheme 0 extract "mariadb://sluice:$PWURL@$H:$P/$SLUICE_TEST_MYSQL_DB" "$WEIRD" \
    -o "$S/weird.ndjson" --state "$S/state.db" -v
run wrong-password 4 extract "$WRONG" badin_big -o "$S/wrong.ndjson" --state "$S/state.db"
run unknown-table 3 extract "$URL" badin_nosuch -o "$S/nosuch.ndjson" --state "$S/state.db"
run bad-where 3 extract "$URL" badin_big --where 'id = = 1' -o "$S/where.ndjson" --state "$S/state.db"
run bad-where-cursor 3 extract "$URL" badin_big --where 'id = = 1' --paging cursor --state "$S/state.db"
run discover 0 discover "$URL" badin_big
# A job interrupted by SIGINT, then resumed; the default state store (under
# XDG_STATE_HOME) is used, to check the modes sluice gives it.
INT_CMD=("$SLUICE" extract "$URL" badin_big -o "$S/int.ndjson" --page-size 100 --checkpoint-every 1000 -v --progress always)
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
    script -qec "$(printf '%q ' "$SLUICE" extract "$URL" badin_big -o "$S/tty.ndjson" \
        --state "$S/state.db" --page-size 20 --progress always -v)" /dev/null >"$S/tty.typescript" 2>&1 || true
    if grep -q 'rows/s' "$S/tty.typescript"; then ok "secrets: progress was drawn on a terminal"; else
        not_ok "secrets: progress was drawn on a terminal" "$(head -c 300 "$S/tty.typescript")"; fi
fi
for db in "$S/state.db" "$XSTATE"; do
    sqlite3 "$db" .dump >"$db.dump.txt"
done
leaks=$(grep -r -a -l -F -e "$PW" -e "$PWURL" -e "Wr0ngPassw0rd" "$S" "$XDG_STATE_HOME" || true)
if [ -z "$leaks" ]; then
    ok "secrets: no password (raw or percent-encoded) in any stdout, stderr, output or state file"
else
    not_ok "secrets: no password (raw or percent-encoded) in any stdout, stderr, output or state file" "$leaks"
fi
if grep -a -q "$SLUICE_TEST_MYSQL_USER@" "$S/state.db" && [ "$(wc -l <"$S/big.ndjson")" -eq 100000 ] &&
    [ "$(wc -l <"$S/int.ndjson")" -eq 100000 ] && [ -s "$S/success.err" ] &&
    [ -s "$S/wrong-password.err" ] && [ -s "$S/interrupted.dump" ]; then
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
