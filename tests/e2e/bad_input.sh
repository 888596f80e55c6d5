#!/bin/bash
# bad_input.sh - the bad-input catalog against SQLite (no server needed):
# every option with missing, empty, malformed, negative and huge values;
# unknown schemes and malformed URLs; unknown tables and columns; names that
# are SQL in disguise; outputs that cannot be written; state stores that
# cannot be used; a --where that is invalid SQL. Each must end with the
# documented exit code and one line on stderr naming the problem, no output
# and no .partial, and a state store (already holding a finished and an
# unfinished job) left exactly as it was. Identifiers with quotes, double
# quotes, backticks, spaces, semicolons and non-ASCII must work and never
# run anything. cli.sh covers the simpler cases (in an empty directory).
set -euo pipefail
. "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"
e2e_init

T=$SLUICE_TMP
DB=$T/src.db
EXPECTED=$SLUICE_SRC/sql/badinput_expected.ndjson
WEIRD='badin x; DROP TABLE badin_victim; --'
sqlite3 -bail "$DB" <"$SLUICE_SRC/sql/badinput_sqlite.sql"
sqlite3 -bail "$DB" <<'EOF'
CREATE TABLE customers (id INTEGER PRIMARY KEY, email TEXT NOT NULL, name TEXT);
INSERT INTO customers VALUES (1, 'a@example.com', 'A'), (2, 'b@example.com', NULL);
CREATE TABLE big (id INTEGER PRIMARY KEY, pad TEXT);
WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 100000)
INSERT INTO big SELECT i, printf('%0100d', i) FROM c;
EOF

# ---- a state store with a finished and an unfinished job ---------------------
STATE=$T/state.db
check "setup: a finished job in the state store" \
    "$SLUICE" extract "$DB" customers -o "$T/done.ndjson" --state "$STATE"
UNF=$T/unfinished.ndjson
UNF_BASE=("$SLUICE" extract "$DB" big -o "$UNF" --state "$STATE" --page-size 500)
UNF_CMD=("${UNF_BASE[@]}" --checkpoint-every 1000)
"${UNF_CMD[@]}" 2>"$T/unf.err" &
pid=$!
wait_for_growth "$UNF.partial" 200000 "$pid" 30 || true
kill -INT "$pid" 2>/dev/null || true
rc=0
wait "$pid" || rc=$?
if [ "$rc" -eq 130 ] && [ -s "$UNF.partial" ]; then
    ok "setup: an unfinished (interrupted) job in the state store"
else
    not_ok "setup: an unfinished (interrupted) job in the state store" "exit $rc" "$(cat "$T/unf.err")"
fi
UNF_SUM=$(sha256_of "$UNF.partial" 2>/dev/null || echo none)

# bad CODE PATTERN NAME ARGS...: lib.sh's expect_refusal, which also
# checks that the unfinished job's partial file is unchanged.
REFUSAL_STATE=$STATE
REFUSAL_KEEP=$UNF.partial
REFUSAL_KEEP_SUM=$UNF_SUM
bad() { expect_refusal "$@"; }

X=(extract "$DB" customers -o @OUT@ --state @STATE@)

# ---- options: missing, empty, malformed, negative, huge values ---------------
for opt in --output --paging --key --columns --where --page-size --checkpoint-every \
    --state --stream --compress --progress; do
    bad 2 "$opt.*(needs|value)" "$opt without its value" "${X[@]}" "$opt"
    bad 2 "$opt" "$opt= (empty value)" "${X[@]}" "$opt="
done
for v in abc 1.5 ' 5' '5 ' +5 -0 -1 0x10 1e3 '５' 12abc; do
    bad 2 'checkpoint-every' "--checkpoint-every '$v'" "${X[@]}" --checkpoint-every "$v"
done
for v in 18446744073709551616 99999999999999999999999999999999; do
    bad 2 'checkpoint-every.*range' "--checkpoint-every $v (more than 2^64-1)" "${X[@]}" --checkpoint-every "$v"
done
for v in +5 ' 5' 0x10 1e3 '５' -0 00 18446744073709551616; do
    bad 2 'page-size' "--page-size '$v'" "${X[@]}" --page-size "$v"
done
bad 2 'paging.*KEYSET' "--paging is case-sensitive" "${X[@]}" --paging KEYSET
bad 2 'compress.*GZIP' "--compress is case-sensitive" "${X[@]}" --compress GZIP
bad 2 'progress.*yes' "--progress yes" "${X[@]}" --progress yes
bad 2 'paging.*keyset ' "--paging with a trailing space" "${X[@]}" --paging 'keyset '
bad 2 'ambiguous.*--pag|--pag.*ambiguous' "ambiguous abbreviation --pag" "${X[@]}" --pag keyset
# A flag given a value: the message must say the option takes no value (not
# that it is unknown).
for f in --restart --snapshot --quiet --verbose; do
    bad 2 "${f#--}.*(no value|not take|takes no|not allow|argument)" "$f=yes" "${X[@]}" "$f=yes"
done
bad 2 'twice' "--key given twice" "${X[@]}" --key id --key email
bad 2 'twice' "--columns given twice" "${X[@]}" --columns id --columns email
bad 2 'empty' "--columns with a trailing comma" "${X[@]}" --columns id,
bad 2 'empty' "--key with a leading comma" "${X[@]}" --key ,id
bad 2 'unexpected' "discover with an extra argument" discover "$DB" customers extra
bad 2 'TABLE.*empty|empty.*TABLE' "empty TABLE" extract "$DB" '' -o @OUT@ --state @STATE@
bad 2 'SOURCE.*empty|empty.*SOURCE' "empty SOURCE" extract '' customers -o @OUT@ --state @STATE@

# ---- unknown schemes, malformed URLs (refused before any connection) --------
for u in 'http://h/db' 'POSTGRES://h/db' 'jdbc:postgresql://h/db' '.db' 'x.DB'; do
    bad 2 'unknown source' "unknown scheme '$u'" extract "$u" customers -o @OUT@ --state @STATE@
done
for u in 'sqlite:' 'sqlite://'; do
    bad 2 'sqlite.*(no file|names)' "sqlite URL without a file '$u'" extract "$u" customers -o @OUT@ --state @STATE@
done
for u in 'mysql://u@127.0.0.1:99999/db' 'mysql://u@127.0.0.1:abc/db' 'mysql://u@127.0.0.1:-1/db'; do
    bad 2 'port|built without' "malformed URL '$u'" extract "$u" t -o @OUT@ --state @STATE@
done
bad 2 'host|built without' "malformed URL 'mysql://[::1/db'" extract 'mysql://[::1/db' t -o @OUT@ --state @STATE@
bad 2 'ssl-mode|built without' "URL option without value 'mysql://...?ssl-mode'" \
    extract 'mysql://u@127.0.0.1:1/db?ssl-mode' t -o @OUT@ --state @STATE@
bad 2 'option|built without' "empty URL options 'mysql://...?&&'" \
    extract 'mysql://u@127.0.0.1:1/db?&&' t -o @OUT@ --state @STATE@
bad 2 '% escape|built without' "bad % escape 'mariadb://.../db%zz'" \
    extract 'mariadb://u@127.0.0.1:1/db%zz' t -o @OUT@ --state @STATE@
bad 2 'invalid.*(bogus|option)|built without' "unknown conninfo keyword" \
    extract 'postgres:host=127.0.0.1 port=1 bogus=1' t -o @OUT@ --state @STATE@
bad 2 'unterminated|built without' "unterminated conninfo quote" \
    extract "postgres:host='unterminated" t -o @OUT@ --state @STATE@
bad 2 'nosuchparam|built without' "unknown URI parameter" \
    extract 'postgresql://u@127.0.0.1:1/db?nosuchparam=1' t -o @OUT@ --state @STATE@
# A malformed value in a PostgreSQL URL is a usage error (2), as it is for
# MySQL URLs, not a connection error (4).
for u in 'postgresql://u@127.0.0.1:notaport/db' 'postgresql://u@127.0.0.1:99999/db' \
    'postgresql://u@127.0.0.1:1/db?sslmode=sometimes'; do
    bad 2 'port|sslmode|built without' "malformed PostgreSQL URL '$u'" extract "$u" t -o @OUT@ --state @STATE@
done

# ---- unknown tables and columns; SQL in disguise ---------------------------
bad 3 'nosuchschema' "unknown schema" extract "$DB" nosuchschema.customers -o @OUT@ --state @STATE@
bad 3 'no such table|not exist|customers' "a quoted table name is a name, not SQL" \
    extract "$DB" '"customers"' -o @OUT@ --state @STATE@
for t in 'badin_victim; DROP TABLE badin_victim; --' "badin_victim' OR '1'='1" \
    'badin_victim" --' 'badin_victim`; DROP TABLE badin_victim' ' badin_victim'; do
    bad 3 'no such table|not exist' "table '$t' is not found" extract "$DB" "$t" -o @OUT@ --state @STATE@
done
bad 3 'DROP' "--columns naming SQL" "${X[@]}" --columns 'id; DROP TABLE badin_victim'
bad 3 'DROP' "--key naming SQL" "${X[@]}" --key 'id"; DROP TABLE badin_victim; --'
bad 3 'nosuch' "--columns with one good and one unknown column" "${X[@]}" --columns email,nosuch
bad 3 'nosuch' "--key unknown with --paging offset" "${X[@]}" --key nosuch --paging offset

# ---- --where that is invalid SQL ---------------------------------------------
for w in 'id = = 1' '1=1; DROP TABLE badin_victim' "'unterminated" '--' ')' '1=1 /*' \
    'no_such_fn(1)'; do
    bad 3 'syntax|incomplete|unrecognized|no such function' "--where '$w'" "${X[@]}" --where "$w"
done
bad 3 'syntax' "--where invalid, --paging offset" "${X[@]}" --where 'id = = 1' --paging offset
bad 3 'syntax' "--where invalid, --paging cursor" "${X[@]}" --where 'id = = 1' --paging cursor
bad 3 'syntax' "--where invalid, --snapshot" "${X[@]}" --where 'id = = 1' --snapshot
# The unfinished job survives a failed command, --restart or not: the query
# is tried before anything is changed.
bad 3 'syntax' "--where invalid with --restart of the unfinished job" \
    extract "$DB" big -o "$UNF" --state @STATE@ --checkpoint-every 1000 --page-size 500 \
    --where 'id = = 1' --restart
bad 3 'nosuch' "--columns unknown with --restart of the unfinished job" \
    extract "$DB" big -o "$UNF" --state @STATE@ --checkpoint-every 1000 --page-size 500 \
    --columns nosuch --restart

# ---- outputs that cannot be written -----------------------------------------
: >"$T/afile"
bad 5 'afile' "output whose parent is a regular file" "${X[@]/@OUT@/$T/afile/out.ndjson}"
bad 5 'afile' "output .gz whose parent is a regular file" "${X[@]/@OUT@/$T/afile/out.ndjson.gz}"
mkdir -p "$T/adir"
bad 5 'adir.*directory|directory.*adir' "output is an existing directory" "${X[@]/@OUT@/$T/adir}"
bad 5 'adir.*directory|directory.*adir' "output ends in a slash" "${X[@]/@OUT@/$T/adir/}"
[ -z "$(ls -A "$T/adir")" ] && [ ! -e "$T/adir.partial" ] && ok "the directory is left as it was" ||
    not_ok "the directory is left as it was" "$(ls -A "$T/adir" "$T"/adir.partial 2>&1)"
# OUT.partial is a directory: refused, and the directory is not removed.
dir=$T/pdir
mkdir -p "$dir/out.ndjson.partial"
sqlite3 "$STATE" .dump >"$T/before.dump"
expect_exit 5 "OUT.partial is a directory: exit 5" "$SLUICE" extract "$DB" customers -o "$dir/out.ndjson" --state "$STATE"
sqlite3 "$STATE" .dump >"$T/after.dump"
if [ "$(wc -l <"$E2E_ERR")" -eq 1 ] && [ -d "$dir/out.ndjson.partial" ] && [ ! -e "$dir/out.ndjson" ] &&
    cmp -s "$T/before.dump" "$T/after.dump"; then
    ok "OUT.partial is a directory: one line, directory kept, no output, state unchanged"
else
    not_ok "OUT.partial is a directory: one line, directory kept, no output, state unchanged" "$(cat "$E2E_ERR")"
fi

# An existing output that is not a regular file (here a FIFO; /dev/null in
# real life) must never be replaced by a regular file: either it is written
# to (exit 0) or refused (exit 5).
dir=$T/fifo
mkdir -p "$dir"
mkfifo "$dir/out.ndjson"
timeout 20 cat "$dir/out.ndjson" >"$T/fifo.got" &
reader=$!
rc=0
timeout 20 "$SLUICE" extract "$DB" customers -o "$dir/out.ndjson" --state "$T/fifo-state.db" \
    >/dev/null 2>"$T/fifo.err" || rc=$?
# The reader ends when sluice closes the FIFO; if sluice never opened it,
# stop the reader.
for _ in $(seq 1 50); do
    kill -0 "$reader" 2>/dev/null || break
    sleep 0.02
done
kill "$reader" 2>/dev/null || true
wait "$reader" 2>/dev/null || true
if [ -p "$dir/out.ndjson" ] && [ ! -e "$dir/out.ndjson.partial" ] &&
    { { [ "$rc" -eq 0 ] && [ "$(wc -l <"$T/fifo.got")" -eq 2 ]; } ||
      { [ "$rc" -eq 5 ] && [ "$(wc -l <"$T/fifo.err")" -eq 1 ]; }; }; then
    ok "output is a FIFO: written to or refused (exit $rc), never replaced by a file"
else
    not_ok "output is a FIFO: written to or refused, never replaced by a file" \
        "exit $rc; $(ls -l "$dir" | tail -n +2 | tr '\n' ';')" "$(cat "$T/fifo.err")"
fi

# Output into a directory sluice may not write (as user nobody: root writes
# anywhere). The state store is one nobody may write.
if command -v runuser >/dev/null && runuser -u nobody -- test -x "$SLUICE" &&
    runuser -u nobody -- test -r "$DB" 2>/dev/null; then
    ro=$T/readonly
    mkdir -p "$ro" "$T/nobody"
    chmod 755 "$ro"
    chown nobody "$T/nobody"
    runuser -u nobody -- "$SLUICE" extract "$DB" customers -o "$T/nobody/done.ndjson" \
        --state "$T/nobody/state.db" -q || true
    sqlite3 "$T/nobody/state.db" .dump >"$T/before.dump"
    rc=0
    runuser -u nobody -- "$SLUICE" extract "$DB" customers -o "$ro/out.ndjson" \
        --state "$T/nobody/state.db" >"$T/ro.out" 2>"$T/ro.err" || rc=$?
    sqlite3 "$T/nobody/state.db" .dump >"$T/after.dump"
    if [ "$rc" -eq 5 ] && [ "$(wc -l <"$T/ro.err")" -eq 1 ] && grep -qi 'permission denied' "$T/ro.err" &&
        [ -z "$(ls -A "$ro")" ] && cmp -s "$T/before.dump" "$T/after.dump" && [ ! -s "$T/ro.out" ]; then
        ok "output in a directory without write permission: exit 5, one line, nothing left, state unchanged"
    else
        not_ok "output in a directory without write permission: exit 5, one line, nothing left, state unchanged" \
            "exit $rc" "$(cat "$T/ro.err")" "$(ls -A "$ro")"
    fi
else
    echo "# skip: user nobody cannot run $SLUICE here (no permission test)"
fi

# ---- state stores that cannot be used ----------------------------------------
mkdir -p "$T/state-dir.db"
bad 6 'state-dir\.db' "--state is a directory" "${X[@]/@STATE@/$T/state-dir.db}"
head -c 8192 /dev/urandom >"$T/state-garbage.db"
cp "$T/state-garbage.db" "$T/state-garbage.orig"
bad 6 'state-garbage\.db' "--state is not a database" "${X[@]/@STATE@/$T/state-garbage.db}"
same_file "--state garbage is left byte for byte" "$T/state-garbage.db" "$T/state-garbage.orig"
sqlite3 -bail "$T/foreign.db" "CREATE TABLE notes (t TEXT); INSERT INTO notes VALUES ('mine');"
sqlite3 "$T/foreign.db" .dump >"$T/foreign.before"
bad 6 'foreign\.db.*not a sluice' "--state is another application's database" "${X[@]/@STATE@/$T/foreign.db}"
sqlite3 "$T/foreign.db" .dump >"$T/foreign.after"
same_file "--state foreign database is left as it was" "$T/foreign.before" "$T/foreign.after"
bad 6 'afile' "--state whose parent is a regular file" "${X[@]/@STATE@/$T/afile/state.db}"

# ---- identifiers that need quoting work, and run nothing --------------------
# expected TABLE: the rows of TABLE in badinput_expected.ndjson, sorted.
expected() {
    awk -F'\t' -v t="$1" '$1 == t { print $2 }' "$EXPECTED" | LC_ALL=C sort
}
mkdir -p "$T/names"
i=0
while IFS= read -r table; do
    for paging in keyset offset cursor; do
        i=$((i + 1))
        out=$T/names/out$i.ndjson
        if "$SLUICE" extract "$DB" "$table" --paging $paging --page-size 1 -o "$out" \
            --state "$T/names/state.db" 2>"$T/names.err" &&
            [ "$(LC_ALL=C sort "$out")" = "$(expected "$table")" ] && [ -n "$(expected "$table")" ]; then
            ok "table '$table' ($paging, one row per page): the expected JSON"
        else
            not_ok "table '$table' ($paging, one row per page): the expected JSON" \
                "$(cat "$T/names.err")" "$(diff <(expected "$table") <(LC_ALL=C sort "$out" 2>&1) || true)"
        fi
    done
done < <(cut -f1 "$EXPECTED" | awk '!seen[$0]++')

# --key, --columns and --where naming such columns.
want='{"naïve→日本":"ünï","it'"'"'s":"a'"'"'b","back`tick":"x`y","dq\"col":"say \"hi\"","spa ce":"two words"}'
check "--key/--columns/--where with quoted, spaced, non-ASCII column names" \
    "$SLUICE" extract "$DB" "$WEIRD" --key 'id; DROP TABLE badin_victim; --' \
    --columns 'naïve→日本,it'"'"'s,back`tick,dq"col,spa ce' --where '"spa ce" = '"'two words'" \
    --state "$T/names/state.db"
if [ "$(cat "$E2E_OUT")" = "$want" ]; then
    ok "and the JSON has those columns in that order"
else
    not_ok "and the JSON has those columns in that order" "$(cat "$E2E_OUT")"
fi
check "an output path with quotes, spaces and a semicolon" \
    "$SLUICE" extract "$DB" "$WEIRD" -o "$T/names/o'u\"t; x \`y\`.ndjson" --state "$T/names/state.db"
if [ "$(LC_ALL=C sort "$T/names/o'u\"t; x \`y\`.ndjson" 2>&1)" = "$(expected "$WEIRD")" ]; then
    ok "and the file holds the rows"
else
    not_ok "and the file holds the rows"
fi
check "discover lists the quoted names" "$SLUICE" discover "$DB"
if python3 - "$E2E_OUT" "$EXPECTED" "$WEIRD" <<'EOF'
import json, sys
tables = {t["name"]: t for t in json.load(open(sys.argv[1], encoding="utf-8"))["tables"]}
want = {l.split("\t")[0] for l in open(sys.argv[2], encoding="utf-8") if l.strip()}
cols = [c["name"] for c in tables[sys.argv[3]]["columns"]]
sys.exit(0 if want <= set(tables) and cols == ["id; DROP TABLE badin_victim; --", "it's",
         'dq"col', "back`tick", "spa ce", "naïve→日本"] else 1)
EOF
then ok "discover's JSON names every such table and column"; else not_ok "discover's JSON names every such table and column" "$(head -c 600 "$E2E_OUT")"; fi

if [ "$(sqlite3 "$DB" 'SELECT count(*) FROM badin_victim' 2>&1)" = 1 ]; then
    ok "table badin_victim still exists with its row"
else
    not_ok "table badin_victim still exists with its row"
fi

# The unfinished job still resumes and completes after all of the above.
# (--checkpoint-every is no part of the job's identity: fewer fsyncs.)
check "the unfinished job resumes and completes" "${UNF_BASE[@]}" --checkpoint-every 100000
if [ "$(wc -l <"$UNF" 2>/dev/null || echo 0)" -eq 100000 ] &&
    [ "$(sqlite3 "$DB" "SELECT json_object('id', id, 'pad', pad) FROM big ORDER BY id" | sha256sum)" = "$(sha256sum <"$UNF")" ]; then
    ok "and holds every row once"
else
    not_ok "and holds every row once" "$(wc -l <"$UNF" 2>&1)"
fi
finish
