#!/usr/bin/env bash
# run.sh - benchmark sluice against the export tools users already have.
#
#   bench/run.sh                                   2,000,000 rows, 3 repetitions
#   BENCH_ROWS=200000 BENCH_REPS=1 bench/run.sh    quick mode
#   bench/run.sh --scale 1000000,2000000,4000000   scaling: the comparison at
#                                                  each size (offset and
#                                                  psycopg2 skipped)
#
# Starts throwaway PostgreSQL and MariaDB servers (scripts/*-server.sh) in a
# temporary directory, loads bench_t into them and into a SQLite file
# (bench/gen.sh), then for each repetition runs every tool once, in a fixed
# order (so the repetitions of one tool are spread over the whole run), each
# writing the full table to a file on local disk:
#   all three databases: sluice --paging keyset, offset, cursor (checkpoints
#     at the default --checkpoint-every, a fresh --state per run), keyset
#     with --checkpoint-every 0 (what checkpoints cost), and keyset into
#     .ndjson.zst and .ndjson.gz (default levels and --threads)
#   PostgreSQL: psql \copy ... csv; the same query piped to zstd (-3) and
#     to gzip -6; pg_dump -Fc -t bench_t; psql COPY (SELECT row_to_json(t)
#     ...) TO STDOUT; a psycopg2 named-cursor script writing JSON lines
#     (pg_jsonl.py); and the server's floor, COPY (SELECT * FROM bench_t
#     ORDER BY id) TO STDOUT (FORMAT binary) into /dev/null
#   MariaDB: mariadb --quick --batch -e 'select * from bench_t'; mysqldump,
#     and piped to zstd; mydumper -t 2 -r 100000, without and with -c
#   SQLite: sqlite3 -json DB 'select * from bench_t'
# It measures wall time (date, ns), the client's CPU seconds (user + system,
# GNU time, every process of a pipeline), peak RSS of the client (GNU time
# %M: the largest process of a pipeline; the server's memory is not counted)
# and output bytes (a directory's files, for mydumper), and writes the
# medians as a markdown table to bench/results/DATE-ROWS.md, with a plot of
# wall time per tool and format (DATE-ROWS-tools.png), the compressed sizes
# against `zstd -3` / `gzip -6` of sluice's own NDJSON, and the ratios the
# benchmark targets name, then prints it.
# Then, in the same servers:
#   checkpoint cost: PostgreSQL keyset with --checkpoint-every 10000 against
#     --checkpoint-every 0 (checkpoints cannot be switched off: 0 leaves the
#     one at the end), BENCH_CKPT_REPS pairs run back to back, medians, ratio
#   page latency: one 10,000-row page at BENCH_PAGES positions across the
#     table, keyset (WHERE id > X) against offset (OFFSET X), in sluice's SQL
#     (page_latency.py), drawn with gnuplot (page_latency.gp) into
#     bench/results/DATE-ROWS-pages.dat and .png
# --scale SIZES (comma-separated row counts) instead loads each size in turn
# and runs the comparison BENCH_REPS times at each, skipping the tools that
# match BENCH_SKIP (default there: "offset|psycopg2": offset paging is
# quadratic - the page latency plot shows why - and the psycopg2 script alone
# would take 40% of the time), and writes bench/results/DATE-scale-SIZES.md:
# wall time and peak RSS per size per tool, whether the time per million
# rows stays within +-25% of its median over the sizes (linear) and whether
# peak RSS stays within 10% of its smallest value (flat). No checkpoint or
# page latency part.
#
# Environment: BENCH_ROWS (default 2000000), BENCH_REPS (default 3),
# SLUICE (default build/sluice, built with `make build` when missing),
# BENCH_TMP (parent of the work directory, default $TMPDIR or /tmp: it should
# be a local disk), BENCH_KEEP=1 keeps the work directory, BENCH_SKIP (an
# extended regular expression: tools whose name matches are not run; default
# empty, with --scale "offset|psycopg2"), BENCH_CKPT_REPS (default 5, 0: no checkpoint
# part), BENCH_PAGES (positions, default 40, 0: no page latency part),
# BENCH_PAGE_REPS (default 3), BENCH_PARTS (the partition counts of the
# partitions part, default "1 2 4"; empty: no partitions part),
# BENCH_PART_REPS (default BENCH_REPS), BENCH_PART_DBS (default "pg mariadb
# sqlite"), BENCH_VERIFY_REPS (default BENCH_REPS; 0: no verify part).
#
# Partitions (not with --scale): sluice --partitions N --parallel N for each
# N of BENCH_PARTS on PostgreSQL, MariaDB and SQLite, BENCH_PART_REPS times
# (all N of one repetition back to back), medians of wall time, server and
# client CPU seconds, and the speed-up against N = 1; the joined output is
# checked like every sluice output (every row, the same content).
# Verify (not with --scale): `sluice verify FILE` and `--against` on each
# database's .ndjson.zst, against the time of writing it.
# Installs Debian's python3-psycopg2, python3-mysqldb, gnuplot-nox, time,
# zstd, gzip and mydumper with apt-get when missing.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
scale=
case ${1:-} in
--scale) [ $# -eq 2 ] || { echo "usage: $0 [--scale ROWS,ROWS,...]" >&2; exit 2; }; scale=$2 ;;
'') ;;
*) echo "usage: $0 [--scale ROWS,ROWS,...]" >&2; exit 2 ;;
esac
rows=${BENCH_ROWS:-2000000}
reps=${BENCH_REPS:-3}
ckpt_reps=${BENCH_CKPT_REPS:-5}
pages=${BENCH_PAGES:-40}
page_reps=${BENCH_PAGE_REPS:-3}
if [ -n "$scale" ]; then
    sizes=$(printf '%s' "$scale" | tr ',' ' ')
    skip=${BENCH_SKIP-offset|psycopg2}
    ckpt_reps=0 pages=0
else
    sizes=$rows
    skip=${BENCH_SKIP:-}
fi
case $rows$reps$ckpt_reps$pages$page_reps$(printf '%s' "$sizes" | tr -d ' ') in
*[!0-9]*) echo "run.sh: BENCH_ROWS, BENCH_REPS, BENCH_CKPT_REPS, BENCH_PAGES, BENCH_PAGE_REPS and --scale sizes must be numbers" >&2; exit 2 ;;
esac
for n in $sizes $reps $page_reps; do
    [ "$n" -gt 0 ] || { echo "run.sh: row counts and repetitions must be > 0" >&2; exit 2; }
done
[ -n "$sizes" ] || { echo "run.sh: --scale needs row counts" >&2; exit 2; }
skip_env=
[ -z "$skip" ] || skip_env=" BENCH_SKIP='$skip'"
if [ -n "$scale" ]; then
    command_line="BENCH_REPS=$reps$skip_env bench/run.sh --scale $scale"
else
    command_line="BENCH_ROWS=$rows BENCH_REPS=$reps$skip_env bench/run.sh"
fi

say() { printf 'bench: %s\n' "$*" >&2; }

# --- prerequisites -----------------------------------------------------------
apt_install() {
    local sudo=
    [ "$(id -u)" = 0 ] || sudo=sudo
    say "installing $* with apt-get"
    $sudo apt-get install -y -q "$@" >/dev/null
}
[ -x /usr/bin/time ] || apt_install time
command -v zstd >/dev/null || apt_install zstd
command -v gzip >/dev/null || apt_install gzip
command -v mydumper >/dev/null || apt_install mydumper
command -v gnuplot >/dev/null || apt_install gnuplot-nox
# The psycopg2 script runs on Debian's python, where python3-psycopg2 lives.
PY=/usr/bin/python3
"$PY" -c 'import psycopg2' 2>/dev/null || apt_install python3-psycopg2
if [ "$pages" -gt 0 ]; then # page latency: MariaDB from Python
    "$PY" -c 'import MySQLdb' 2>/dev/null || apt_install python3-mysqldb
fi
for tool in psql mariadb mysqldump sqlite3; do
    command -v "$tool" >/dev/null || { echo "run.sh: $tool not found (make deps installs it)" >&2; exit 1; }
done

SLUICE=${SLUICE:-$repo/build/sluice}
if [ ! -x "$SLUICE" ]; then
    say "no $SLUICE: make build"
    make -C "$repo" --no-print-directory build >&2
fi

# --- work directory and servers ----------------------------------------------
work=$(mktemp -d "${BENCH_TMP:-${TMPDIR:-/tmp}}/sluice-bench.XXXXXX")
chmod 755 "$work" # the servers run as unprivileged users below it
cleanup() {
    set +e
    [ -f "$work/pg/env" ] && sh "$repo/scripts/pg-server.sh" stop "$work/pg" >/dev/null 2>&1
    [ -d "$work/my" ] && sh "$repo/scripts/mariadb-server.sh" stop "$work/my" >/dev/null 2>&1
    if [ "${BENCH_KEEP:-0}" = 1 ]; then say "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

load_start=$(cut -d' ' -f1-3 /proc/loadavg)
say "load average at start: $load_start (nproc $(nproc))"

say "starting PostgreSQL and MariaDB in $work"
sh "$repo/scripts/pg-server.sh" start "$work/pg" >/dev/null
sh "$repo/scripts/mariadb-server.sh" start "$work/my" >/dev/null
# shellcheck disable=SC1091
. "$work/pg/env"
# shellcheck disable=SC1091
. "$work/my/env"
pg_url=$SLUICE_TEST_PG_URL
my_url=$SLUICE_TEST_MYSQL_URL
lite_db=$work/bench.db
export PSQL="$SLUICE_TEST_PG_BIN/psql"
[ -x "$PSQL" ] || PSQL=psql
PG_DUMP="$SLUICE_TEST_PG_BIN/pg_dump"
[ -x "$PG_DUMP" ] || PG_DUMP=pg_dump
# mydumper takes FLUSH TABLES WITH READ LOCK and reads the binlog position,
# as it does for any user: the bench user gets the privileges for that.
# shellcheck disable=SC2086
$SLUICE_TEST_MYSQL_ROOT -e "GRANT RELOAD, PROCESS, BINLOG MONITOR ON *.* TO 'sluice'@'%'"

# load ROWS: (re)create bench_t with ROWS rows in the three databases.
load() {
    say "loading $1 rows into PostgreSQL, MariaDB and SQLite"
    local db target t0
    gen_times=
    for db in pg mariadb sqlite; do
        case $db in pg) target=$pg_url ;; mariadb) target=$my_url ;; sqlite) target=$lite_db ;; esac
        t0=$(date +%s%N)
        BENCH_ROWS=$1 bash "$here/gen.sh" "$db" "$target"
        gen_times="$gen_times $db=$(awk -v n=$(($(date +%s%N) - t0)) 'BEGIN { printf "%.1fs", n / 1e9 }')"
    done
    say "loaded:$gen_times"
    all_gen_times="$all_gen_times${scale:+ [$1 rows]}$gen_times"
}
all_gen_times=

# --- one measurement ---------------------------------------------------------
mkdir -p "$work/out" "$work/state"
sums=$work/sums.tsv
: >"$sums"
: >"$work/effort.tsv"
tf=$work/time.txt

# server_cpu DB: CPU seconds the database server has used so far, all its
# processes (a backend that has exited and been reaped is counted in the
# postmaster's cutime/cstime); "-" for SQLite, which has no server.
server_cpu() {
    local pid
    case $1 in
    pg) pid=$(head -n 1 "$work/pg/data/postmaster.pid") ;;
    mariadb) pid=$(cat "$work/my/mariadbd.pid") ;;
    *) echo -; return 0 ;;
    esac
    # /proc/PID/stat after "PID (COMM) ": state ppid ... utime stime cutime
    # cstime are the 2nd and the 12th to 15th fields. Processes that exit
    # while they are read (on a shared machine, any) are skipped.
    { cat /proc/[0-9]*/stat 2>/dev/null || true; } |
        awk -v root="$pid" -v hz="$(getconf CLK_TCK)" '
        { pid = $1; sub(/^.*\) /, "")
          if (pid == root || $2 == root) t += $12 + $13 + $14 + $15 }
        END { printf "%.2f", t / hz }'
}

# effort DB FILE: the sizes of sluice's plain NDJSON FILE compressed by the
# standard tools at their defaults, `zstd -3` and `gzip -6`: the yardstick
# for sluice's default levels (no more than 10% larger).
effort() {
    printf '%s\t%s\t%s\t%s\n' "$1" "$(stat -c %s "$2")" "$(zstd -q -3 -c "$2" | wc -c)" \
        "$(gzip -6 -c "$2" | wc -c)" >>"$work/effort.tsv"
}

# content FILE: FILE's bytes, decompressed by suffix.
content() {
    case $1 in
    *.zst) zstd -q -dc "$1" ;;
    *.gz) gzip -dc "$1" ;;
    *) cat "$1" ;;
    esac
}

# measure DB TOOL REP OUT STDOUT CMD...: run CMD once and append
# "db tool rep wall_s rss_kb bytes server_cpu_s client_cpu_s" to $raw.
# STDOUT=1: CMD writes the data to stdout (redirected to OUT); STDOUT=0: CMD
# writes OUT itself (a file, or a directory of files); STDOUT=null: CMD
# writes the data to stdout, into /dev/null (OUT is not used: "-").
measure() {
    local db=$1 name=$2 rep=$3 out=$4 to_stdout=$5 t0 t1 rc=0
    shift 5
    if [ -n "$skip" ] && [[ $name =~ $skip ]]; then return 0; fi
    [ "$to_stdout" = null ] || rm -rf "$out" "$out.partial"
    local c0 c1
    c0=$(server_cpu "$db")
    t0=$(date +%s%N)
    case $to_stdout in
    1) /usr/bin/time -f '%e %M %U %S' -o "$tf" "$@" >"$out" 2>"$work/stderr" || rc=$? ;;
    null) /usr/bin/time -f '%e %M %U %S' -o "$tf" "$@" >/dev/null 2>"$work/stderr" || rc=$? ;;
    *) /usr/bin/time -f '%e %M %U %S' -o "$tf" "$@" >/dev/null 2>"$work/stderr" || rc=$? ;;
    esac
    t1=$(date +%s%N)
    sleep 0.3 # the server's session ends after the client exits
    c1=$(server_cpu "$db")
    if [ $rc -ne 0 ] || { [ "$to_stdout" != null ] && [ ! -e "$out" ]; }; then
        echo "run.sh: $db $name failed (exit $rc):" >&2
        tail -n 5 "$work/stderr" >&2
        exit 1
    fi
    local rss bytes wall ccpu
    rss=$(tail -n 1 "$tf" | cut -d' ' -f2)
    ccpu=$(tail -n 1 "$tf" | awk '{ printf "%.2f", $3 + $4 }')
    if [ "$to_stdout" = null ]; then
        bytes=0
    elif [ -d "$out" ]; then
        bytes=$(du -sb "$out" | cut -f1)
    else
        bytes=$(stat -c %s "$out")
    fi
    wall=$(awk -v n=$((t1 - t0)) 'BEGIN { printf "%.3f", n / 1e9 }')
    # The tools under test must write every row, one line each.
    case $name in sluice-* | psycopg2)
        local lines
        lines=$(content "$out" | wc -l)
        [ "$lines" -eq "$rows" ] || { echo "run.sh: $db $name wrote $lines lines, expected $rows" >&2; exit 1; }
        # Checksums of the first repetition: the strategies and the
        # compressed outputs must agree.
        [ "$rep" != 1 ] || [ "$name" = psycopg2 ] || printf '%s\t%s\t%s\n' "$db" "$name" "$(content "$out" | sha256sum | cut -c1-16)" >>"$sums"
        [ "$rep" != 1 ] || [ "$name" != sluice-keyset ] || effort "$db" "$out"
        ;;
    esac
    local cpu=-
    [ "$c0" = - ] || cpu=$(awk -v a="$c0" -v b="$c1" 'BEGIN { printf "%.2f", b - a }')
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$db" "$name" "$rep" "$wall" "$rss" "$bytes" "$cpu" "$ccpu" >>"$raw"
    printf 'bench: rep %s  %-8s %-24s %8ss %8s KB %12s B server %ss client %ss\n' "$rep" "$db" "$name" "$wall" "$rss" "$bytes" "$cpu" "$ccpu" >&2
    [ "$to_stdout" = null ] || rm -rf "$out"
}

# sluice DB TOOL REP URL TABLE [OPTION...]: one sluice extraction to a file;
# a TOOL ending in -zst or -gz writes .ndjson.zst or .ndjson.gz.
sluice_run() {
    local db=$1 name=$2 rep=$3 url=$4 table=$5 out
    shift 5
    out=$work/out/$db-$name.ndjson
    case $name in *-zst) out=$out.zst ;; *-gz) out=$out.gz ;; esac
    measure "$db" "$name" "$rep" "$out" 0 \
        "$SLUICE" extract "$url" "$table" -o "$out" -q \
        --state "$work/state/$db-$name-$rows-$rep.db" "$@"
}

sluice_all() {
    local db=$1 rep=$2 url=$3
    sluice_run "$db" sluice-keyset "$rep" "$url" bench_t --paging keyset
    sluice_run "$db" sluice-offset "$rep" "$url" bench_t --paging offset
    sluice_run "$db" sluice-cursor "$rep" "$url" bench_t --paging cursor
    sluice_run "$db" sluice-keyset-ckpt0 "$rep" "$url" bench_t --paging keyset --checkpoint-every 0
    sluice_run "$db" sluice-keyset-zst "$rep" "$url" bench_t --paging keyset
    sluice_run "$db" sluice-keyset-gz "$rep" "$url" bench_t --paging keyset
}

my_client() { # the mariadb/mysqldump options for the bench user over TCP
    printf '%s\n' --no-defaults -h "$SLUICE_TEST_MYSQL_HOST" -P "$SLUICE_TEST_MYSQL_PORT" -u "$SLUICE_TEST_MYSQL_USER"
}
mapfile -t my_opts < <(my_client)
export MYSQL_PWD=$SLUICE_TEST_MYSQL_PASSWORD

# compare: every tool, BENCH_REPS times, on the loaded table of $rows rows.
compare() {
local rep
for rep in $(seq 1 "$reps"); do
    say "repetition $rep of $reps"
    # PostgreSQL
    sluice_all pg "$rep" "$pg_url"
    measure pg psql-copy-csv "$rep" "$work/out/pg.csv" 0 \
        "$PSQL" -X -q -d "$pg_url" -c "\\copy bench_t to '$work/out/pg.csv' csv"
    # The compressing tools read the rows in key order, as sluice does. (The
    # single-quoted scripts are expanded by the inner bash.)
    # shellcheck disable=SC2016
    measure pg psql-copy-csv-zstd "$rep" "$work/out/pg.csv.zst" 1 bash -c \
        'set -o pipefail; "$PSQL" -X -q -d "$1" -c "\copy (SELECT * FROM bench_t ORDER BY id) to stdout csv" | zstd -q -3' \
        _ "$pg_url"
    # shellcheck disable=SC2016
    measure pg psql-copy-csv-gzip "$rep" "$work/out/pg.csv.gz" 1 bash -c \
        'set -o pipefail; "$PSQL" -X -q -d "$1" -c "\copy (SELECT * FROM bench_t ORDER BY id) to stdout csv" | gzip -6' \
        _ "$pg_url"
    measure pg pg_dump-Fc "$rep" "$work/out/pg.dump" 0 \
        "$PG_DUMP" -Fc -t bench_t -f "$work/out/pg.dump" "$pg_url"
    measure pg copy-binary-floor "$rep" - null \
        "$PSQL" -X -q -d "$pg_url" -c 'COPY (SELECT * FROM bench_t ORDER BY id) TO STDOUT (FORMAT binary)'
    measure pg psql-copy-row_to_json "$rep" "$work/out/pg.json" 1 \
        "$PSQL" -X -q -d "$pg_url" -c 'COPY (SELECT row_to_json(t) FROM bench_t t) TO STDOUT'
    measure pg psycopg2 "$rep" "$work/out/pg-psycopg2.ndjson" 1 \
        "$PY" "$here/pg_jsonl.py" "$pg_url" bench_t
    # MariaDB
    sluice_all mariadb "$rep" "$my_url"
    measure mariadb mariadb-quick-batch "$rep" "$work/out/my.tsv" 1 \
        mariadb "${my_opts[@]}" --quick --batch -e 'select * from bench_t' "$SLUICE_TEST_MYSQL_DB"
    measure mariadb mysqldump "$rep" "$work/out/my.sql" 1 \
        mysqldump "${my_opts[@]}" --single-transaction "$SLUICE_TEST_MYSQL_DB" bench_t
    # shellcheck disable=SC2016
    measure mariadb mysqldump-zstd "$rep" "$work/out/my.sql.zst" 1 bash -c \
        'set -o pipefail; mysqldump "${@:2}" --single-transaction "$1" bench_t | zstd -q -3' \
        _ "$SLUICE_TEST_MYSQL_DB" "${my_opts[@]}"
    measure mariadb mydumper "$rep" "$work/out/mydumper" 0 \
        mydumper -h "$SLUICE_TEST_MYSQL_HOST" -P "$SLUICE_TEST_MYSQL_PORT" -u "$SLUICE_TEST_MYSQL_USER" \
        -p "$SLUICE_TEST_MYSQL_PASSWORD" -B "$SLUICE_TEST_MYSQL_DB" -T bench_t -t 2 -r 100000 \
        -o "$work/out/mydumper"
    measure mariadb mydumper-c "$rep" "$work/out/mydumper-c" 0 \
        mydumper -h "$SLUICE_TEST_MYSQL_HOST" -P "$SLUICE_TEST_MYSQL_PORT" -u "$SLUICE_TEST_MYSQL_USER" \
        -p "$SLUICE_TEST_MYSQL_PASSWORD" -B "$SLUICE_TEST_MYSQL_DB" -T bench_t -t 2 -r 100000 -c \
        -o "$work/out/mydumper-c"
    # SQLite
    sluice_all sqlite "$rep" "$lite_db"
    measure sqlite sqlite3-json "$rep" "$work/out/lite.json" 1 \
        sqlite3 -json "$lite_db" 'select * from bench_t'
done
}

for rows in $sizes; do
    load "$rows"
    raw=$work/raw-$rows.tsv
    : >"$raw"
    compare
    sed "s/^/$rows\t/" "$raw" >>"$work/scale.tsv"
done

# --- checkpoint cost: PostgreSQL keyset, --checkpoint-every 10000 against 0 --
ckpt_every=10000
if [ "$ckpt_reps" -gt 0 ]; then
    say "checkpoint cost: $ckpt_reps pairs on PostgreSQL"
    raw=$work/ckpt.tsv
    : >"$raw"
    for rep in $(seq 1 "$ckpt_reps"); do
        # Alternate which goes first, so drift in the machine's load hits both.
        if [ $((rep % 2)) = 1 ]; then order="$ckpt_every 0"; else order="0 $ckpt_every"; fi
        for every in $order; do
            sluice_run pg "sluice-keyset-every-$every" "$rep" "$pg_url" bench_t --paging keyset \
                --checkpoint-every "$every"
        done
    done
fi

# --- partitions: one table, N workers (--partitions N --parallel N) ----------
part_list=${BENCH_PARTS-1 2 4}
part_reps=${BENCH_PART_REPS:-$reps}
part_dbs=${BENCH_PART_DBS:-pg mariadb sqlite}
part_tsv=$work/partitions.tsv
: >"$part_tsv"
case $part_list$part_reps in *[!0-9\ ]*) echo "run.sh: BENCH_PARTS and BENCH_PART_REPS must be numbers" >&2; exit 2 ;; esac
if [ -z "$scale" ] && [ -n "$part_list" ]; then
    say "partitions: N = $part_list, $part_reps repetitions"
    raw=$part_tsv
    for rep in $(seq 1 "$part_reps"); do
        for n in $part_list; do
            for db in $part_dbs; do
                case $db in
                pg) url=$pg_url ;;
                mariadb) url=$my_url ;;
                sqlite) url=$lite_db ;;
                *) echo "run.sh: BENCH_PART_DBS: unknown database $db" >&2; exit 2 ;;
                esac
                sluice_run "$db" "sluice-partitions-$n" "$rep" "$url" bench_t --partitions "$n" --parallel "$n"
            done
        done
    done
fi

# partitions_report TSV: the partitions part as a markdown table.
partitions_report() {
    "$PY" - "$1" <<'EOF'
import collections, statistics, sys
runs = collections.defaultdict(list)
for line in open(sys.argv[1]):
    db, name, rep, wall, rss, size, scpu, ccpu = line.rstrip("\n").split("\t")
    n = int(name.rsplit("-", 1)[1])
    runs[(db, n)].append((float(wall), None if scpu == "-" else float(scpu), float(ccpu), int(rss)))
med = lambda xs: statistics.median(xs) if xs else None
print("## Partitions: one table, N workers\n")
print("`--partitions N --parallel N` (each partition its own connection and thread; the parts "
      "joined in key order at the end). Medians of %d runs each.\n" % max(len(v) for v in runs.values()))
print("| database | N | wall s | speed-up | server CPU s | client CPU s | peak RSS MB |")
print("|---|--:|--:|--:|--:|--:|--:|")
names = {"pg": "PostgreSQL", "mariadb": "MariaDB", "sqlite": "SQLite"}
for db in ("pg", "mariadb", "sqlite"):
    ns = sorted(n for d, n in runs if d == db)
    base = med([r[0] for r in runs.get((db, 1), [])])
    for n in ns:
        rs = runs[(db, n)]
        wall = med([r[0] for r in rs])
        scpu = med([r[1] for r in rs if r[1] is not None])
        print("| %s | %d | %.2f | %s | %s | %.2f | %.1f |" % (
            names[db], n, wall, "%.2f×" % (base / wall) if base else "—",
            "%.2f" % scpu if scpu is not None else "—", med([r[2] for r in rs]),
            med([r[3] for r in rs]) / 1024))
print()
EOF
}

# --- verify: a backup against its sidecar and its table ------------------------
# One .ndjson.zst with --meta per database (not timed here: the keyset-zst
# runs above time that extraction), then BENCH_VERIFY_REPS times `sluice
# verify FILE` and `sluice verify FILE --against`: their wall time and
# peak RSS, against the median of sluice keyset into .ndjson.zst.
verify_reps=${BENCH_VERIFY_REPS:-$reps}
verify_tsv=$work/verify.tsv
: >"$verify_tsv"
case $verify_reps in *[!0-9]*) echo "run.sh: BENCH_VERIFY_REPS must be a number" >&2; exit 2 ;; esac
if [ -z "$scale" ] && [ "$verify_reps" -gt 0 ]; then
    say "verify: $verify_reps repetitions"
    mkdir -p "$work/verify"
    raw=$verify_tsv
    for db in pg mariadb sqlite; do
        case $db in pg) url=$pg_url ;; mariadb) url=$my_url ;; sqlite) url=$lite_db ;; esac
        vf=$work/verify/$db.ndjson.zst
        "$SLUICE" extract "$url" bench_t -o "$vf" --meta -q --state "$work/state/verify-$db.db"
        for rep in $(seq 1 "$verify_reps"); do
            measure "$db" verify "$rep" "$vf" null "$SLUICE" verify "$vf" -q
            measure "$db" verify-against "$rep" "$vf" null "$SLUICE" verify "$vf" --against -q
        done
    done
fi

# verify_report TSV RAW: the verify part as a markdown table.
verify_report() {
    "$PY" - "$1" "$2" <<'EOF'
import collections, statistics, sys
runs = collections.defaultdict(list)
for path in sys.argv[1:]:
    for line in open(path):
        db, name, rep, wall, rss, size, scpu, ccpu = line.rstrip("\n").split("\t")
        runs[(db, name)].append((float(wall), int(rss), float(ccpu)))
med = statistics.median
print("## Verify\n")
print("`sluice verify FILE` (the file against its sidecar) and `--against` (each segment "
      "read again from the database and compared) on the `.ndjson.zst` of the whole table, "
      "against the median time of writing that file (sluice keyset into `.ndjson.zst`). "
      "Speed relative to the extraction: extraction time ÷ verify time (target for "
      "`--against`: at least 0.80).\n")
print("| database | run | wall s | client CPU s | peak RSS MB | speed ÷ extraction |")
print("|---|---|--:|--:|--:|--:|")
names = {"pg": "PostgreSQL", "mariadb": "MariaDB", "sqlite": "SQLite"}
for db in ("pg", "mariadb", "sqlite"):
    ext = runs.get((db, "sluice-keyset-zst"))
    base = med([r[0] for r in ext]) if ext else None
    for name in ("verify", "verify-against"):
        rs = runs.get((db, name))
        if not rs:
            continue
        wall = med([r[0] for r in rs])
        print("| %s | `%s` | %.2f | %.2f | %.1f | %s |" % (
            names[db], name.replace("verify-against", "verify --against"), wall,
            med([r[2] for r in rs]), med([r[1] for r in rs]) / 1024,
            "%.2f" % (base / wall) if base else "—"))
print()
EOF
}

# --- page latency: keyset against offset across the table -------------------
stamp=$(date +%Y-%m-%d-%H%M)
if [ "$pages" -gt 0 ]; then
    say "page latency: $pages positions, $page_reps repetitions"
    mkdir -p "$here/results"
    pages_dat=$here/results/$stamp-$rows-pages.dat
    pages_png=$here/results/$stamp-$rows-pages.png
    "$PY" "$here/page_latency.py" "$rows" "$pages_dat" --pg "$pg_url" --mariadb "$my_url" \
        --sqlite "$lite_db" --page 10000 --positions "$pages" --reps "$page_reps"
    gnuplot -e "dat='$pages_dat'; png='$pages_png'; rows='$(printf '%s' "$rows" | sed ':a; s/\B[0-9]\{3\}\>/,&/; ta')'" \
        "$here/page_latency.gp"
fi
load_end=$(cut -d' ' -f1-3 /proc/loadavg)

# --- the plot: wall time per tool and format -----------------------------------
if [ -z "$scale" ]; then
    mkdir -p "$here/results"
    tools_dat=$here/results/$stamp-$rows-tools.dat
    tools_png=$here/results/$stamp-$rows-tools.png
    "$PY" "$here/report.py" tools "$work/raw-$rows.tsv" "$tools_dat"
    gnuplot -e "dat='$tools_dat'; png='$tools_png'; rows='$(printf '%s' "$rows" | sed ':a; s/\B[0-9]\{3\}\>/,&/; ta')'; n=$(grep -vc '^#' "$tools_dat")" \
        "$here/tools.gp"
fi

# --- results -------------------------------------------------------------------
mkdir -p "$here/results"
if [ -n "$scale" ]; then
    result=$here/results/$stamp-scale-$(printf '%s' "$sizes" | tr ' ' '-').md
else
    result=$here/results/$stamp-$rows.md
fi
versions() {
    echo "- sluice: $("$SLUICE" --version 2>&1 | head -n 1), git $(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo '?')$( [ -z "$(git -C "$repo" status --porcelain --untracked-files=no 2>/dev/null)" ] || echo ' (working tree modified)')"
    echo "- PostgreSQL: $("$PSQL" -X -At -d "$pg_url" -c 'show server_version') (shared_buffers $("$PSQL" -X -At -d "$pg_url" -c 'show shared_buffers')), $("$PSQL" --version)"
    echo "- MariaDB: $(mariadb "${my_opts[@]}" -N -e 'select version()'), $(mariadb --version | sed 's/ *using.*//'), $(mysqldump --version | sed 's/^.*Ver/mysqldump Ver/')"
    echo "- SQLite: sqlite3 $(sqlite3 --version | cut -d' ' -f1)"
    echo "- Python: $("$PY" --version 2>&1), psycopg2 $("$PY" -c 'import psycopg2; print(psycopg2.__version__.split()[0])')"
}
{
    if [ -n "$scale" ]; then
        echo "# sluice benchmark, scaling: $(printf '%s' "$sizes" | sed 's/ /, /g') rows, $reps repetitions"
    else
        echo "# sluice benchmark: $rows rows, $reps repetitions"
    fi
    echo
    echo "Run $(date -u '+%Y-%m-%d %H:%M UTC') with:"
    echo
    echo '```sh'
    echo "$command_line"
    echo '```'
    echo
    echo "## Machine"
    echo
    echo "- $(nproc) CPUs, $(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(awk '/MemTotal/ { printf "%.0f GiB RAM", $2 / 1048576 }' /proc/meminfo)"
    echo "- $(uname -sr), output files on $(df -T "$work" | awk 'NR == 2 { print $2 " (" $1 ")" }')"
    echo "- load average (1, 5, 15 min) at start: $load_start; at end: $load_end"
    echo "- servers and clients on the same machine, over TCP to 127.0.0.1; data loaded in:$all_gen_times"
    versions
    echo
    if [ -n "$scale" ]; then
        "$PY" "$here/report.py" scale "$work/scale.tsv" "$skip"
    else
        "$PY" "$here/report.py" "$work/raw-$rows.tsv" "$rows" "$sums" | sed '/^## Every run/,$d'
        echo "![wall time per tool and format]($(basename "$tools_png"))"
        echo
        "$PY" "$here/report.py" targets "$work/raw-$rows.tsv" "$work/effort.tsv"
        if [ "$ckpt_reps" -gt 0 ]; then
            "$PY" "$here/report.py" ckpt "$work/ckpt.tsv" "$rows" "$ckpt_every"
        fi
        if [ "$pages" -gt 0 ]; then
            "$PY" "$here/report.py" pages "$pages_dat" "$(basename "$pages_png")"
        fi
        [ ! -s "$part_tsv" ] || partitions_report "$part_tsv"
        [ ! -s "$verify_tsv" ] || verify_report "$verify_tsv" "$work/raw-$rows.tsv"
        "$PY" "$here/report.py" "$work/raw-$rows.tsv" "$rows" | sed -n '/^## Every run/,$p'
    fi
} >"$result"
cat "$result"
say "results written to ${result#"$repo"/}"
