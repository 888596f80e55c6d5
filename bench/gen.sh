#!/usr/bin/env bash
# gen.sh pg URL | mariadb URL | sqlite FILE - load the benchmark table bench_t.
#
# Drops and re-creates bench_t with BENCH_ROWS rows (default 2000000), all
# generated inside the database (PostgreSQL: generate_series; MariaDB and
# SQLite: a recursive CTE), then refreshes statistics (PostgreSQL: VACUUM
# ANALYZE, which also sets hint bits so the first reader does not write).
# Every value is a function of id, so the three databases hold the same data:
#   id          bigint primary key, 1..N
#   updated_at  timestamptz (MariaDB datetime(6), SQLite ISO text), microseconds
#   name        text, 18-37 characters; every 4th row ends in non-ASCII
#   amount      numeric(12,2) (SQLite: REAL)
#   flag        bool (SQLite: 0/1)
#   score       float8 / double, not a short decimal (x/7)
#   payload     jsonb / json / text: {"k": int, "tag": text, "ok": bool}
# pg URL is any libpq URI; mariadb URL is mysql://user[:pw]@host:port/db
# (a percent-encoded password is decoded). psql, mariadb and sqlite3 must be
# on PATH or named by PSQL, MARIADB, SQLITE3.
set -euo pipefail

usage() { echo "usage: $0 pg URL | mariadb URL | sqlite FILE" >&2; exit 2; }
[ $# -eq 2 ] || usage
kind=$1 target=$2
rows=${BENCH_ROWS:-2000000}
case $rows in '' | *[!0-9]*) echo "gen.sh: BENCH_ROWS must be a number" >&2; exit 2 ;; esac

PSQL=${PSQL:-psql}
MARIADB=${MARIADB:-mariadb}
SQLITE3=${SQLITE3:-sqlite3}

# The same shapes in each dialect; "id" is the generated row number.
gen_pg() {
    "$PSQL" -X -q -v ON_ERROR_STOP=1 -d "$target" <<EOF
SET client_min_messages = warning;
DROP TABLE IF EXISTS bench_t;
CREATE TABLE bench_t (
    id bigint PRIMARY KEY,
    updated_at timestamptz NOT NULL,
    name text NOT NULL,
    amount numeric(12,2) NOT NULL,
    flag bool NOT NULL,
    score float8 NOT NULL,
    payload jsonb NOT NULL
);
INSERT INTO bench_t
SELECT id,
       timestamptz '2020-01-01 00:00:00+00' + id * interval '17 seconds'
           + (id * 7919 % 1000000) * interval '1 microsecond',
       'user-' || id || '-' || substr('abcdefghijklmnopqrstuvwxyz0123456789', 1, (5 + id % 20)::int)
           || CASE WHEN id % 4 = 0 THEN ' Zoë Ñandú' ELSE '' END,
       (id * 7919 % 10000000) / 100.0,
       id % 3 = 0,
       (id % 100000)::float8 / 7,
       jsonb_build_object('k', id % 100, 'tag', 't' || (id % 10), 'ok', id % 2 = 0)
FROM generate_series(1::bigint, $rows::bigint) AS id;
VACUUM (ANALYZE) bench_t;
EOF
}

gen_mariadb() {
    local parts user pw host port db
    # user, password, host, port, database; one per line.
    parts=$(python3 - "$target" <<'EOF'
import sys, urllib.parse
u = urllib.parse.urlsplit(sys.argv[1])
print(urllib.parse.unquote(u.username or ""))
print(urllib.parse.unquote(u.password or ""))
print(u.hostname or "127.0.0.1")
print(u.port or 3306)
print(u.path.lstrip("/"))
EOF
)
    { read -r user; read -r pw; read -r host; read -r port; read -r db; } <<<"$parts"
    MYSQL_PWD=$pw "$MARIADB" --no-defaults -h "$host" -P "$port" -u "$user" "$db" >/dev/null <<EOF
SET SESSION max_recursive_iterations = $rows + 1;
DROP TABLE IF EXISTS bench_t;
CREATE TABLE bench_t (
    id bigint PRIMARY KEY,
    updated_at datetime(6) NOT NULL,
    name text NOT NULL,
    amount numeric(12,2) NOT NULL,
    flag bool NOT NULL,
    score double NOT NULL,
    payload json NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
INSERT INTO bench_t
WITH RECURSIVE seq(id) AS (SELECT CAST(1 AS SIGNED) UNION ALL SELECT id + 1 FROM seq WHERE id < $rows)
SELECT id,
       TIMESTAMPADD(MICROSECOND, id * 7919 % 1000000,
                    TIMESTAMPADD(SECOND, id * 17, TIMESTAMP '2020-01-01 00:00:00')),
       CONCAT('user-', id, '-', SUBSTR('abcdefghijklmnopqrstuvwxyz0123456789', 1, 5 + id % 20),
              IF(id % 4 = 0, ' Zoë Ñandú', '')),
       (id * 7919 % 10000000) / 100.0,
       id % 3 = 0,
       (id % 100000) / 7e0,
       JSON_OBJECT('k', id % 100, 'tag', CONCAT('t', id % 10), 'ok', id % 2 = 0 IS TRUE)
FROM seq;
ANALYZE TABLE bench_t;
EOF
}

gen_sqlite() {
    rm -f "$target"
    "$SQLITE3" "$target" >/dev/null <<EOF
PRAGMA journal_mode = OFF;
PRAGMA synchronous = OFF;
CREATE TABLE bench_t (
    id INTEGER PRIMARY KEY,
    updated_at TEXT NOT NULL,
    name TEXT NOT NULL,
    amount NUMERIC NOT NULL,
    flag INTEGER NOT NULL,
    score REAL NOT NULL,
    payload TEXT NOT NULL
);
BEGIN;
INSERT INTO bench_t
WITH RECURSIVE seq(id) AS (SELECT 1 UNION ALL SELECT id + 1 FROM seq WHERE id < $rows)
SELECT id,
       strftime('%Y-%m-%dT%H:%M:%S', 1577836800 + id * 17, 'unixepoch')
           || printf('.%06dZ', id * 7919 % 1000000),
       'user-' || id || '-' || substr('abcdefghijklmnopqrstuvwxyz0123456789', 1, 5 + id % 20)
           || CASE WHEN id % 4 = 0 THEN ' Zoë Ñandú' ELSE '' END,
       (id * 7919 % 10000000) / 100.0,
       id % 3 = 0,
       (id % 100000) / 7.0,
       json_object('k', id % 100, 'tag', 't' || (id % 10), 'ok', json(CASE WHEN id % 2 = 0 THEN 'true' ELSE 'false' END))
FROM seq;
COMMIT;
ANALYZE;
EOF
}

case $kind in
pg) gen_pg ;;
mariadb | mysql) gen_mariadb ;;
sqlite) gen_sqlite ;;
*) usage ;;
esac
