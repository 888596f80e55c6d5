# cli.sh - the command line as a user meets it: help, version, and every
# kind of bad input answered by its exit code and one line on stderr, with
# no output or state file left behind and no password ever shown.
set -euo pipefail
. "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"
e2e_init

T=$SLUICE_TMP
DB=$T/shop.db
sqlite3 -bail "$DB" <<'EOF'
CREATE TABLE customers (id INTEGER PRIMARY KEY, email TEXT NOT NULL, name TEXT);
INSERT INTO customers VALUES (1, 'a@example.com', 'A'), (2, 'b@example.com', NULL);
EOF

# ---- help and version ------------------------------------------------------
check "--help exits 0" "$SLUICE" --help
cp "$E2E_OUT" "$T/help.txt"
check "extract --help exits 0" "$SLUICE" extract --help
cp "$E2E_OUT" "$T/help-extract.txt"
missing=""
for cmd in extract discover help --version; do
    grep -q -e "$cmd" "$T/help.txt" || missing="$missing $cmd"
done
for opt in -o --output --paging keyset offset cursor --key --columns \
    --where --page-size --page-bytes --checkpoint-every --state --stream --restart --compress \
    --snapshot --progress -q --quiet -v --verbose --help; do
    grep -q -e "$opt" "$T/help-extract.txt" || missing="$missing $opt"
done
# Every long option the parser knows must be documented too.
longopts=$(grep -o '{"[a-z-]*", *[a-z_]*argument' "$SLUICE_SRC/src/cli/options.c" |
    sed 's/{"\([a-z-]*\)".*/\1/' | sort -u)
[ -n "$longopts" ] || missing="$missing (no options found in src/cli/options.c)"
for opt in $longopts; do
    grep -q -e "--$opt" "$T/help-extract.txt" || missing="$missing --$opt"
done
if [ -z "$missing" ]; then
    ok "--help mentions every command, extract --help every option and paging mode"
else
    not_ok "--help mentions every command, extract --help every option and paging mode" "missing:$missing"
fi
# Each command's help is its own.
check "discover --help exits 0" "$SLUICE" discover --help
cp "$E2E_OUT" "$T/help-discover.txt"
check "help discover exits 0" "$SLUICE" help discover
if cmp -s "$E2E_OUT" "$T/help-discover.txt" && ! grep -q -e "--page-size" "$T/help-discover.txt" &&
    ! grep -q -e "--page-size" "$T/help.txt" && ! grep -q "Usage: sluice discover" "$T/help-extract.txt"; then
    ok "each command prints only its own help; help CMD is CMD --help"
else
    not_ok "each command prints only its own help; help CMD is CMD --help"
fi
for code in 0 2 3 4 5 6 130; do
    grep -q -w "$code" "$T/help.txt" || missing="$missing exit-$code"
    grep -q -w "$code" "$T/help-extract.txt" || missing="$missing extract-exit-$code"
done
if [ -z "$missing" ]; then
    ok "--help documents the exit codes"
else
    not_ok "--help documents the exit codes" "missing:$missing"
fi
if [ ! -s "$E2E_ERR" ]; then ok "--help writes nothing to stderr"; else not_ok "--help writes nothing to stderr"; fi
check "extract --help exits 0" "$SLUICE" extract --help
if grep -q -e '--page-size' "$E2E_OUT"; then ok "extract --help prints the usage"; else not_ok "extract --help prints the usage"; fi
check "--version exits 0" "$SLUICE" --version
if [ "$(wc -l <"$E2E_OUT")" -eq 1 ] && grep -Eq '^sluice [0-9]+\.[0-9]+\.[0-9]+' "$E2E_OUT"; then
    ok "--version prints one line 'sluice X.Y.Z ...'"
else
    not_ok "--version prints one line 'sluice X.Y.Z ...'" "$(cat "$E2E_OUT")"
fi

# ---- bad input ---------------------------------------------------------------
# bad_input CODE PATTERN NAME ARGS...: run sluice ARGS in an empty directory
# (where OUT and STATE in ARGS point); it must exit CODE, write exactly one
# line to stderr that matches PATTERN (grep -E, case-insensitive), nothing to
# stdout, and leave the directory empty: no output, .partial or state file.
n=0
bad_input() {
    local code=$1 pattern=$2 name=$3
    shift 3
    n=$((n + 1))
    local dir=$T/case$n
    mkdir -p "$dir"
    local args=() a
    for a in "$@"; do
        a=${a//@OUT@/$dir/out.ndjson}
        a=${a//@STATE@/$dir/state.db}
        args+=("$a")
    done
    local rc=0
    (cd "$dir" && exec "$SLUICE" "${args[@]}") >"$T/bad.out" 2>"$T/bad.err" || rc=$?
    local problems=()
    [ "$rc" -eq "$code" ] || problems+=("exit $rc, expected $code")
    [ "$(wc -l <"$T/bad.err")" -eq 1 ] || problems+=("stderr has $(wc -l <"$T/bad.err") lines")
    grep -Eqi -e "$pattern" "$T/bad.err" || problems+=("stderr does not match /$pattern/")
    [ ! -s "$T/bad.out" ] || problems+=("stdout is not empty")
    # An empty state store may be left (it is opened before the query is
    # tried), but never a begun job, an output or a partial file.
    local left
    left=$(ls -A "$dir" | { grep -v -e '^state\.db$' -e '^state\.db-wal$' -e '^state\.db-shm$' || true; } | tr '\n' ' ')
    [ -z "$left" ] || problems+=("left files: $left")
    if [ -e "$dir/state.db" ]; then
        local begun
        begun=$(sqlite3 "$dir/state.db" "SELECT count(*) FROM streams" 2>&1)
        [ "$begun" = 0 ] || problems+=("the state store holds a stream: $begun")
    fi
    if [ ${#problems[@]} -eq 0 ]; then
        ok "$name: exit $code, one line on stderr, no output, no job"
    else
        not_ok "$name: exit $code, one line on stderr, no output, no job" "${problems[@]}" \
            "stderr: $(cat "$T/bad.err")"
    fi
}

X=(extract "$DB" customers -o @OUT@ --state @STATE@)
bad_input 2 'no command' "no command" 
bad_input 2 "unknown command.*frobnicate" "unknown command" frobnicate "$DB"
bad_input 2 "--bogus" "unknown long option" "${X[@]}" --bogus
bad_input 2 "-Z" "unknown short option" "${X[@]}" -Z
bad_input 2 "-o.*value|value.*-o" "-o without its value" extract "$DB" customers -o
bad_input 2 "paging.*sideways|sideways.*paging" "bad --paging" "${X[@]}" --paging sideways
bad_input 2 "compress.*lzma|lzma.*compress" "bad --compress" "${X[@]}" --compress lzma
bad_input 2 "progress.*sometimes|sometimes.*progress" "bad --progress" "${X[@]}" --progress sometimes
for spec in zstd:0 zstd:23 gzip:0 gzip:13 gzip:-1 zstd: zstd:x none:3; do
    bad_input 2 "--compress.*(level|none)" "--compress $spec" "${X[@]}" --compress "$spec"
done
for count in 0 257 -1 two ''; do
    bad_input 2 "--threads" "--threads '$count'" "${X[@]}" --threads "$count"
done
for size in 0 -1 abc 1.5 '' 1000001 99999999999999999999999; do
    bad_input 2 "page-size" "--page-size '$size'" "${X[@]}" --page-size "$size"
done
bad_input 2 "checkpoint-every" "--checkpoint-every -5" "${X[@]}" --checkpoint-every -5
bad_input 2 "quiet.*verbose|verbose.*quiet" "--quiet with --verbose" "${X[@]}" -q -v
bad_input 2 "TABLE" "missing TABLE" extract "$DB" -o @OUT@ --state @STATE@
bad_input 2 "SOURCE" "missing SOURCE and TABLE" extract -o @OUT@ --state @STATE@
bad_input 2 "unexpected.*extra" "extra argument" "${X[@]}" extra
bad_input 2 "empty" "empty --key" "${X[@]}" --key ''
bad_input 2 "empty" "empty column in --columns" "${X[@]}" --columns 'id,,name'
bad_input 2 "twice" "--columns names a column twice" "${X[@]}" --columns id,id
bad_input 2 "twice" "--key names a column twice" "${X[@]}" --key id,id
bad_input 2 "unknown source|foo" "unknown source scheme" extract foo://x customers -o @OUT@ --state @STATE@
bad_input 2 "unknown source|notadb" "source that is no URL and no .db path" extract notadb customers -o @OUT@ --state @STATE@
bad_input 4 "missing\.db|no such" "sqlite file missing" extract "$T/missing.db" customers -o @OUT@ --state @STATE@
mkdir -p "$T/dir.db"
bad_input 4 "dir\.db" "sqlite source is a directory" extract "$T/dir.db" customers -o @OUT@ --state @STATE@
head -c 4096 /dev/urandom >"$T/garbage.db"
bad_input 4 "garbage\.db" "sqlite source is not a database" extract "$T/garbage.db" customers -o @OUT@ --state @STATE@
bad_input 3 "nosuchtable" "unknown table" extract "$DB" nosuchtable -o @OUT@ --state @STATE@
bad_input 3 "nosuchtable" "discover of an unknown table" discover "$DB" nosuchtable
bad_input 3 "nosuchcol" "unknown --key column" "${X[@]}" --key nosuchcol
bad_input 3 "nosuchcol" "unknown --columns column" "${X[@]}" --columns id,nosuchcol
bad_input 2 "nullable" "nullable --key column" "${X[@]}" --key name
bad_input 3 "nosuchcol" "--where on an unknown column" "${X[@]}" --where 'nosuchcol = 1'
# A typo in --where must not leave a job behind that blocks the fixed command.
wdir=$T/case$n
check "after a failed --where, the corrected command runs (no --restart needed)" \
    "$SLUICE" extract "$DB" customers -o "$wdir/out.ndjson" --state "$wdir/state.db" --where 'id = 1'
bad_input 2 "--frob" "discover: unknown option" discover "$DB" --frob
bad_input 2 "SOURCE" "discover without SOURCE" discover

# Output into a directory that does not exist: exit 5, nothing published and
# no job begun in the state store.
dir=$T/nodir
mkdir -p "$dir"
expect_exit 5 "output into a missing directory: exit 5" \
    "$SLUICE" extract "$DB" customers -o "$dir/missing/out.ndjson" --state "$dir/state.db"
if [ "$(wc -l <"$E2E_ERR")" -eq 1 ] && grep -q 'missing/out.ndjson' "$E2E_ERR"; then
    ok "output into a missing directory: one line on stderr naming the path"
else
    not_ok "output into a missing directory: one line on stderr naming the path" "$(cat "$E2E_ERR")"
fi
jobs=0
if [ -e "$dir/state.db" ]; then
    jobs=$(sqlite3 "$dir/state.db" "SELECT count(*) FROM streams WHERE phase <> 'idle' OR \"rows\" > 0" 2>&1)
fi
if [ "$jobs" = 0 ] && [ ! -e "$dir/missing" ]; then
    ok "output into a missing directory: no job begun, no directory created"
else
    not_ok "output into a missing directory: no job begun, no directory created" "streams: $jobs"
fi
check "after that, the same command into an existing directory works" \
    "$SLUICE" extract "$DB" customers -o "$dir/out.ndjson" --state "$dir/state.db"
if [ "$(wc -l <"$dir/out.ndjson" 2>/dev/null)" = 2 ]; then
    ok "and writes both rows"
else
    not_ok "and writes both rows"
fi

# ---- passwords never appear --------------------------------------------------
# Whatever the exit code (no server listens on port 1; a driver may be
# missing from this build), stderr must not show the password.
secret_hidden() {
    local name=$1
    shift
    local rc=0
    (cd "$T" && exec "$SLUICE" "$@") >"$T/secret.out" 2>"$T/secret.err" || rc=$?
    local hits
    hits=$(cat "$T/secret.out" "$T/secret.err" | grep -c 'S3CRET' || true)
    if [ "$hits" -eq 0 ] && [ "$rc" -ne 0 ] && [ -s "$T/secret.err" ]; then
        ok "$name: fails (exit $rc) without showing the password"
    else
        not_ok "$name: fails (exit $rc) without showing the password" "$(cat "$T/secret.err")"
    fi
}
mkdir -p "$T/secret"
for url in 'mysql://u:S3CRET@127.0.0.1:1/x' 'mariadb://u:S3CRET@127.0.0.1:1/x' \
    'postgres://u:S3CRET@127.0.0.1:1/x' 'postgresql://u:S3CRET@127.0.0.1:1/x?sslmode=disable' \
    'postgres://u:S3CRET@127.0.0.1:1/x?password=S3CRET' 'mysql://u:S3CRET%40x@127.0.0.1:1/x' \
    'foo://u:S3CRET@h/x' 'foo://u:S3CRET@h:1/x?password=S3CRET'; do
    secret_hidden "extract $url" extract "$url" t -o "$T/secret/out.ndjson" --state "$T/secret/state.db"
    secret_hidden "discover $url" discover "$url"
done
if ! grep -rq 'S3CRET' "$T/secret" 2>/dev/null; then
    ok "no file written holds the password"
else
    not_ok "no file written holds the password" "$(grep -rl 'S3CRET' "$T/secret")"
fi
if [ ! -e "$XDG_STATE_HOME" ]; then
    ok "no run created a state store in the default location"
else
    not_ok "no run created a state store in the default location" "$(ls -R "$XDG_STATE_HOME")"
fi
finish
