#!/usr/bin/env python3
"""report.py RAW ROWS [SUMS] - the markdown tables of bench/run.sh.

RAW holds one line per run: db, tool, repetition, wall seconds, peak RSS KB,
output bytes (tab-separated). SUMS holds db, tool, checksum of the first
repetition's output of each sluice strategy. Prints medians per tool with
rows/s, MB/s and the wall time relative to sluice keyset on the same
database, then whether the strategies wrote identical files, then every run.
Python 3 standard library only.
"""
import statistics
import sys

DBS = {"pg": "PostgreSQL", "mariadb": "MariaDB", "sqlite": "SQLite"}


def main():
    if len(sys.argv) not in (3, 4):
        sys.exit("usage: report.py RAW ROWS [SUMS]")
    rows = int(sys.argv[2])
    runs = []
    with open(sys.argv[1], encoding="utf-8") as f:
        for line in f:
            db, tool, rep, wall, rss, size = line.rstrip("\n").split("\t")
            runs.append((db, tool, int(rep), float(wall), int(rss), int(size)))

    order = []  # (db, tool) in first-run order
    by_tool = {}
    for db, tool, _rep, wall, rss, size in runs:
        if (db, tool) not in by_tool:
            order.append((db, tool))
            by_tool[(db, tool)] = []
        by_tool[(db, tool)].append((wall, rss, size))

    reps = max(r[2] for r in runs)
    print(f"## Results (median of {reps} run{'s' if reps > 1 else ''} per tool)")
    print()
    print("| database | tool | wall s | rows/s | output MB/s | peak RSS MB | output MB | wall ÷ sluice keyset |")
    print("|---|---|--:|--:|--:|--:|--:|--:|")
    for db, tool in order:
        m = by_tool[(db, tool)]
        wall = statistics.median(x[0] for x in m)
        rss = statistics.median(x[1] for x in m)
        size = statistics.median(x[2] for x in m)
        base = by_tool.get((db, "sluice-keyset"))
        ratio = "—"
        if base and tool != "sluice-keyset":
            bwall = statistics.median(x[0] for x in base)
            ratio = f"{wall / bwall:.2f}" if bwall > 0 else "—"
        rate = f"{rows / wall:,.0f}" if wall > 0 else "—"
        mbs = f"{size / wall / 1e6:.1f}" if wall > 0 else "—"
        print(f"| {DBS.get(db, db)} | {tool} | {wall:.2f} | {rate} | {mbs} "
              f"| {rss / 1024:.1f} | {size / 1e6:.1f} | {ratio} |")
    print()
    print("wall: elapsed seconds of the client command, start to exit. rows/s: "
          f"{rows:,} rows ÷ wall. MB = 10^6 bytes of output. peak RSS: the client "
          "process only (GNU time %M), not the server. wall ÷ sluice keyset: "
          "this tool's median wall time over sluice keyset's on the same "
          "database; above 1, sluice keyset is faster. sluice runs use the "
          "default --page-size and --checkpoint-every (each checkpoint "
          "fsyncs the output and commits the state store), except keyset-ckpt0 (--checkpoint-every 0: one checkpoint "
          "at the end). Output formats differ: sluice, psycopg2 and "
          "row_to_json write JSON lines; psql \\copy CSV; mariadb --batch TSV; "
          "mysqldump SQL INSERTs; sqlite3 -json one JSON array.")
    print()

    if len(sys.argv) == 4:
        sums = {}
        with open(sys.argv[3], encoding="utf-8") as f:
            for line in f:
                db, tool, digest = line.rstrip("\n").split("\t")
                sums.setdefault(db, {})[tool] = digest
        print("## Do the sluice strategies agree?")
        print()
        for db, tools in sums.items():
            same = len(set(tools.values())) == 1
            verdict = "byte-identical files" if same else "DIFFERENT files: " + ", ".join(
                f"{t} {d}" for t, d in tools.items())
            print(f"- {DBS.get(db, db)}: {', '.join(tools)}: {verdict}")
        print()

    print("## Every run")
    print()
    print("| database | tool | rep | wall s | peak RSS KB | output bytes |")
    print("|---|---|--:|--:|--:|--:|")
    for db, tool, rep, wall, rss, size in runs:
        print(f"| {DBS.get(db, db)} | {tool} | {rep} | {wall:.3f} | {rss} | {size} |")


if __name__ == "__main__":
    main()
