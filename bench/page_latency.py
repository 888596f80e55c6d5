#!/usr/bin/python3
"""page_latency.py ROWS DAT [--pg URL] [--mariadb URL] [--sqlite FILE]
                   [--page N] [--positions P] [--reps R]

Times one page query of bench_t (bench/gen.sh: ids 1..ROWS) at P positions
spread over the table, with keyset paging (rows after id X) and offset
paging (OFFSET X), X = 0 .. ROWS - N, in the statement text sluice sends
(shapes taken from the drivers and checked against the servers' statement
logs):
  PostgreSQL  prepared, parameter $1:
      SELECT cols FROM "public"."bench_t" WHERE true AND
        ("public"."bench_t"."id") > ($1) ORDER BY "public"."bench_t"."id" LIMIT N
      SELECT cols FROM "public"."bench_t" WHERE true
        ORDER BY "public"."bench_t"."id" LIMIT N OFFSET $1
  MariaDB     text protocol, literals:
      SELECT cols FROM `db`.`bench_t` WHERE `id` > X ORDER BY `id` LIMIT N
      SELECT cols FROM `db`.`bench_t` ORDER BY `id` LIMIT N OFFSET X
  SQLite      prepared, ?1 ?2 (?3):
      SELECT cols FROM "main"."bench_t" WHERE ("id") > (?1) ORDER BY "id" LIMIT ?2
      SELECT cols FROM "main"."bench_t" ORDER BY "id" LIMIT ?1 OFFSET ?2
One measurement is execute + fetch of all N rows, every value kept as the
server's text (no Python type conversion), so it is the page's round trip
plus a small constant client cost that both strategies pay alike. Each
repetition visits every position, alternating keyset and offset; DAT gets
the median over repetitions, in milliseconds, one line per position:
  position  <db>_keyset_ms  <db>_offset_ms  ...   (databases in argument order)
Needs Debian's python3-psycopg2 (PostgreSQL) and python3-mysqldb (MariaDB).
"""
import argparse
import statistics
import sys
import time
import urllib.parse

COLS = ["id", "updated_at", "name", "amount", "flag", "score", "payload"]


def pg_pager(url, page):
    import psycopg2
    import psycopg2.extensions as ext

    conn = psycopg2.connect(url)
    conn.autocommit = True  # sluice pages outside a transaction (no --snapshot)
    # Keep every value as text: bool, int8, numeric, float8, timestamptz, jsonb, text.
    text = ext.new_type((16, 20, 1700, 701, 1184, 3802, 25), "TEXTONLY", lambda v, _c: v)
    ext.register_type(text, conn)
    cur = conn.cursor()
    cols = ", ".join(f'"{c}"' for c in COLS)
    t = '"public"."bench_t"'
    cur.execute(f"PREPARE keyset(bigint) AS SELECT {cols} FROM {t} WHERE true AND "
                f'({t}."id") > ($1) ORDER BY {t}."id" LIMIT {page}')
    cur.execute(f"PREPARE offs(bigint) AS SELECT {cols} FROM {t} WHERE true "
                f'ORDER BY {t}."id" LIMIT {page} OFFSET $1')

    def run(kind, x):
        cur.execute("EXECUTE keyset(%s)" if kind == "keyset" else "EXECUTE offs(%s)", (x,))
        return len(cur.fetchall())

    return run


def mariadb_pager(url, page):
    import MySQLdb

    u = urllib.parse.urlsplit(url)
    db = u.path.lstrip("/")
    conn = MySQLdb.connect(host=u.hostname or "127.0.0.1", port=u.port or 3306,
                           user=urllib.parse.unquote(u.username or ""),
                           passwd=urllib.parse.unquote(u.password or ""), db=db,
                           charset="utf8mb4", conv={})  # conv={}: values stay text
    conn.autocommit(True)
    cur = conn.cursor()
    cols = ", ".join(f"`{c}`" for c in COLS)
    t = f"`{db}`.`bench_t`"

    def run(kind, x):
        if kind == "keyset":
            sql = f"SELECT {cols} FROM {t} WHERE `id` > {x} ORDER BY `id` LIMIT {page}"
        else:
            sql = f"SELECT {cols} FROM {t} ORDER BY `id` LIMIT {page} OFFSET {x}"
        cur.execute(sql)
        return len(cur.fetchall())

    return run


def sqlite_pager(path, page):
    import sqlite3

    conn = sqlite3.connect(path)
    conn.text_factory = bytes
    cols = ",".join(f'"{c}"' for c in COLS)
    t = '"main"."bench_t"'
    keyset = f'SELECT {cols} FROM {t} WHERE ("id") > (?1) ORDER BY "id" LIMIT ?2'
    offs = f'SELECT {cols} FROM {t} ORDER BY "id" LIMIT ?1 OFFSET ?2'

    def run(kind, x):
        if kind == "keyset":
            rows = conn.execute(keyset, (x, page)).fetchall()
        else:
            rows = conn.execute(offs, (page, x)).fetchall()
        return len(rows)

    return run


def main():
    ap = argparse.ArgumentParser(description="keyset vs offset page latency")
    ap.add_argument("rows", type=int)
    ap.add_argument("dat")
    ap.add_argument("--pg")
    ap.add_argument("--mariadb")
    ap.add_argument("--sqlite")
    ap.add_argument("--page", type=int, default=10000)
    ap.add_argument("--positions", type=int, default=40)
    ap.add_argument("--reps", type=int, default=3)
    a = ap.parse_args()
    if a.rows < a.page or a.positions < 2 or a.reps < 1:
        sys.exit("page_latency.py: need ROWS >= page size, positions >= 2, reps >= 1")

    dbs = []
    for name, target, make in (("pg", a.pg, pg_pager), ("mariadb", a.mariadb, mariadb_pager),
                               ("sqlite", a.sqlite, sqlite_pager)):
        if target:
            dbs.append((name, make(target, a.page)))
    if not dbs:
        sys.exit("page_latency.py: no database given")

    last = a.rows - a.page
    npos = min(a.positions, last // a.page + 1) if last >= a.page else 1
    positions = sorted({round(i * last / (npos - 1)) if npos > 1 else 0 for i in range(npos)})
    times = {(db, k, p): [] for db, _ in dbs for k in ("keyset", "offset") for p in positions}
    for rep in range(a.reps):
        for db, run in dbs:
            for i, p in enumerate(positions):
                # Alternate which strategy goes first, so neither always finds
                # the pages the other just read in the cache.
                order = ("keyset", "offset") if (i + rep) % 2 == 0 else ("offset", "keyset")
                for kind in order:
                    t0 = time.perf_counter_ns()
                    n = run(kind, p)
                    dt = (time.perf_counter_ns() - t0) / 1e6
                    if n != a.page:
                        sys.exit(f"page_latency.py: {db} {kind} at {p} returned {n} rows, "
                                 f"expected {a.page}")
                    times[(db, kind, p)].append(dt)
        print(f"page_latency: repetition {rep + 1} of {a.reps} done", file=sys.stderr)

    with open(a.dat, "w", encoding="utf-8") as f:
        f.write(f"# page latency, ms (median of {a.reps}); table of {a.rows} rows, "
                f"page size {a.page}\n")
        f.write("# position_rows " + " ".join(f"{db}_keyset_ms {db}_offset_ms"
                                             for db, _ in dbs) + "\n")
        for p in positions:
            cells = []
            for db, _ in dbs:
                for kind in ("keyset", "offset"):
                    cells.append(f"{statistics.median(times[(db, kind, p)]):.3f}")
            f.write(f"{p} " + " ".join(cells) + "\n")


if __name__ == "__main__":
    main()
