#!/usr/bin/env python3
"""report.py RAW ROWS [SUMS] - the markdown tables of bench/run.sh.
   report.py scale SCALE SKIP      - the scaling tables (run.sh --scale)
   report.py ckpt RAW ROWS EVERY   - the checkpoint cost section
   report.py pages DAT PNG         - the page latency section
   report.py tools RAW DAT         - the data of the wall time plot (tools.gp)
   report.py targets RAW EFFORT    - compressed sizes at equal effort, and the
                                     ratios the benchmark targets name

RAW holds one line per run: db, tool, repetition, wall seconds, peak RSS KB,
output bytes, server CPU seconds or "-", client CPU seconds (tab-separated;
older files lack the last). SUMS holds db, tool, checksum of the first
repetition's output of each sluice strategy (decompressed). EFFORT holds
db, bytes of sluice's NDJSON, and of it compressed by `zstd -3` and
`gzip -6`. Prints medians per tool with rows/s, MB/s and the wall time
relative to sluice keyset on the same database, then whether the strategies
wrote identical files, then every run. SCALE is RAW with the table's row
count in front of every line. Python 3 standard library only.
"""
import statistics
import sys

DBS = {"pg": "PostgreSQL", "mariadb": "MariaDB", "sqlite": "SQLite"}


LINEAR_TOLERANCE = 0.25  # time per million rows within +-25% of its median
FLAT_TOLERANCE = 0.10    # peak RSS at most 10% above its smallest value


def read_runs(path, sized):
    """Lines of RAW (or SCALE when sized) as tuples (db, tool, rep, wall, rss,
    size, server_cpu, client_cpu), numbers converted; the server CPU is None
    where there is no server, the client CPU None where it was not measured."""
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            v = line.rstrip("\n").split("\t")
            n = [int(v.pop(0))] if sized else []
            if len(v) == 7:
                v.append("-")
            db, tool, rep, wall, rss, size, cpu, ccpu = v
            out.append(tuple(n) + (db, tool, int(rep), float(wall), int(rss), int(size),
                                   None if cpu == "-" else float(cpu),
                                   None if ccpu == "-" else float(ccpu)))
    return out


def medians(runs):
    """{(db, tool): (wall, rss, size, server_cpu, client_cpu)} medians, and the
    (db, tool) pairs in first-run order."""
    order, by = [], {}
    for db, tool, _rep, *vals in runs:
        if (db, tool) not in by:
            order.append((db, tool))
            by[(db, tool)] = []
        by[(db, tool)].append(vals)
    med = {}
    for key, m in by.items():
        cols = []
        for i in range(5):
            xs = [x[i] for x in m if x[i] is not None]
            cols.append(statistics.median(xs) if xs else None)
        med[key] = tuple(cols)
    return med, order


def scale(path, skip):
    runs = read_runs(path, True)
    sizes = sorted({r[0] for r in runs})
    order, med = [], {}
    for n, db, tool, *_ in runs:
        if (db, tool) not in order:
            order.append((db, tool))
    for n in sizes:
        for db, tool in order:
            m = [r for r in runs if r[:3] == (n, db, tool)]
            if m:
                med[(n, db, tool)] = (statistics.median(r[4] for r in m),
                                      statistics.median(r[5] for r in m))
    reps = max(r[3] for r in runs)
    mil = {n: n / 1e6 for n in sizes}
    head = " | ".join(f"{n:,} rows" for n in sizes)
    bar = "|".join("--:" for _ in sizes)
    print(f"## Scaling: time (median of {reps} run{'s' if reps > 1 else ''} per tool and size)")
    print()
    print("Each cell: wall seconds (seconds per million rows). Linear: every size's "
          f"seconds per million rows within ±{LINEAR_TOLERANCE:.0%} of their median "
          "over the sizes; spread: the largest deviation from that median.")
    print()
    print(f"| database | tool | {head} | spread | linear |")
    print(f"|---|---|{bar}|--:|:-:|")
    lin_bad, flat_bad = [], []
    for db, tool in order:
        per = {n: med[(n, db, tool)][0] / mil[n] for n in sizes if (n, db, tool) in med}
        mid = statistics.median(per.values())
        spread = max(abs(v / mid - 1) for v in per.values()) if mid > 0 else 0
        ok = spread <= LINEAR_TOLERANCE
        if not ok:
            lin_bad.append(f"{DBS.get(db, db)} {tool}")
        cells = " | ".join(f"{med[(n, db, tool)][0]:.2f} ({per[n]:.2f})" if n in per else "—"
                           for n in sizes)
        print(f"| {DBS.get(db, db)} | {tool} | {cells} | ±{spread:.0%} | {'yes' if ok else '**no**'} |")
    print()
    print("## Scaling: peak RSS of the client (MB, median)")
    print()
    print(f"Flat: the largest peak RSS over the sizes at most {FLAT_TOLERANCE:.0%} above the "
          "smallest.")
    print()
    print(f"| database | tool | {head} | max ÷ min | flat |")
    print(f"|---|---|{bar}|--:|:-:|")
    for db, tool in order:
        rss = {n: med[(n, db, tool)][1] for n in sizes if (n, db, tool) in med}
        lo, hi = min(rss.values()), max(rss.values())
        ratio = hi / lo if lo > 0 else float("inf")
        ok = ratio <= 1 + FLAT_TOLERANCE
        if not ok:
            flat_bad.append(f"{DBS.get(db, db)} {tool}")
        cells = " | ".join(f"{rss[n] / 1024:.1f}" if n in rss else "—" for n in sizes)
        print(f"| {DBS.get(db, db)} | {tool} | {cells} | {ratio:.2f} | {'yes' if ok else '**no**'} |")
    print()
    print("## Scaling: verdict")
    print()
    print(f"- time linear in rows: {len(order) - len(lin_bad)} of {len(order)} tools"
          + (f"; not: {', '.join(lin_bad)}" if lin_bad else ""))
    print(f"- peak RSS flat: {len(order) - len(flat_bad)} of {len(order)} tools"
          + (f"; not: {', '.join(flat_bad)}" if flat_bad else ""))
    if skip:
        print(f"- not run: tools matching `{skip}` (BENCH_SKIP). Offset paging reads "
              "every earlier row again for each page, so its time grows with the "
              "square of the table (see the page latency plot of a plain run); the "
              "psycopg2 script is a reference, not sluice, and is the slowest tool.")
    if sizes[0] < 1000000:
        print("- below about 1,000,000 rows start-up costs (connecting, reading the "
              "catalog, the state store) are a visible share of the time, so small "
              "sizes look less linear than they are")
    print()
    print("## Every run")
    print()
    print("| rows | database | tool | rep | wall s | peak RSS KB | output bytes |")
    print("|--:|---|---|--:|--:|--:|--:|")
    for n, db, tool, rep, wall, rss, size, _cpu, _ccpu in runs:
        print(f"| {n} | {DBS.get(db, db)} | {tool} | {rep} | {wall:.3f} | {rss} | {size} |")


def ckpt(path, rows, every):
    runs = read_runs(path, False)
    on = [r[3] for r in runs if r[1] == f"sluice-keyset-every-{every}"]
    off = [r[3] for r in runs if r[1] == "sluice-keyset-every-0"]
    m_on, m_off = statistics.median(on), statistics.median(off)
    pairs = {}
    for _db, tool, rep, wall, *_ in runs:
        pairs.setdefault(rep, {})[tool] = wall
    paired = [p[f"sluice-keyset-every-{every}"] / p["sluice-keyset-every-0"] for p in pairs.values()
              if len(p) == 2 and p["sluice-keyset-every-0"] > 0]
    n_ck = rows // every
    print("## Checkpoint cost (PostgreSQL, sluice --paging keyset)")
    print()
    print(f"{len(on)} pairs of runs back to back, the order alternating. A checkpoint "
          "flushes and fsyncs the output file and commits the position to the state "
          "store. `--checkpoint-every 0` cannot switch them off: it leaves the one "
          "at the end.")
    print()
    print("| --checkpoint-every | checkpoints | median wall s | rows/s | every run, s |")
    print("|---|--:|--:|--:|---|")
    print(f"| {every} | {n_ck:,} | {m_on:.2f} | {rows / m_on:,.0f} | "
          f"{', '.join(f'{x:.2f}' for x in on)} |")
    print(f"| 0 (only at the end) | 1 | {m_off:.2f} | {rows / m_off:,.0f} | "
          f"{', '.join(f'{x:.2f}' for x in off)} |")
    print()
    ratio = m_on / m_off if m_off > 0 else float("nan")
    per = (m_on - m_off) / max(n_ck - 1, 1) * 1000
    print(f"**Ratio of medians, every {every} ÷ only at the end: {ratio:.3f}** "
          f"({(ratio - 1) * 100:+.1f}%; median of the per-pair ratios "
          f"{statistics.median(paired):.3f}), about {per:.2f} ms per checkpoint.")
    print()


def pages(path, png):
    with open(path, encoding="utf-8") as f:
        lines = f.read().splitlines()
    title = lines[0].lstrip("# ")
    cols = lines[1].lstrip("# ").split()[1:]
    data = [[float(x) for x in ln.split()] for ln in lines[2:] if ln.strip()]
    pos = [d[0] for d in data]
    dbs = [c[: -len("_keyset_ms")] for c in cols if c.endswith("_keyset_ms")]
    print("## Page latency: keyset against offset")
    print()
    print(f"{title}; {len(pos)} positions. Each point: one page query as sluice "
          "sends it (keyset `WHERE id > X ORDER BY id LIMIT 10000`, offset "
          "`ORDER BY id LIMIT 10000 OFFSET X`), executed and all its rows fetched by "
          "a Python client (bench/page_latency.py), values kept as text.")
    print()
    print(f"![page latency, keyset against offset]({png})")
    print()

    def slope(ys):  # least squares, ms per million rows before the page
        mx, my = statistics.fmean(pos), statistics.fmean(ys)
        sxx = sum((x - mx) ** 2 for x in pos)
        return sum((x - mx) * (y - my) for x, y in zip(pos, ys)) / sxx * 1e6 if sxx else 0.0

    def at(ys, frac):  # median of the 3 points nearest to that fraction
        i = round(frac * (len(ys) - 1))
        return statistics.median(ys[max(i - 1, 0):i + 2])

    print("| database | paging | ms, first page | ms, middle | ms, last page "
          "| growth, ms per million rows before the page |")
    print("|---|---|--:|--:|--:|--:|")
    for db in dbs:
        for kind in ("keyset", "offset"):
            ys = [d[1 + cols.index(f"{db}_{kind}_ms")] for d in data]
            print(f"| {DBS.get(db, db)} | {kind} | {at(ys, 0):.1f} | {at(ys, 0.5):.1f} "
                  f"| {at(ys, 1):.1f} | {slope(ys):+.1f} |")
    print()
    print("First, middle, last: the median of the three positions nearest to it. "
          "Growth: least-squares slope over all positions; near 0 means the page "
          "costs the same wherever it is. Offset's slope is the cost of reading "
          "and discarding the rows before the page; a full extraction of N rows "
          "with offset paging pays it N ÷ 10,000 times, hence quadratic time.")
    print()


def plot_data(path, dat):
    """The plot's data: one line per tool, grouped by database, fastest first
    within each: "label" median-wall database-index."""
    med, order = medians(read_runs(path, False))
    dbs = [db for db in DBS if any(d == db for d, _ in order)]
    with open(dat, "w", encoding="utf-8") as f:
        f.write("# label wall_s database_index (1 PostgreSQL, 2 MariaDB, 3 SQLite)\n")
        for i, db in enumerate(dbs):
            mine = sorted((med[(d, t)][0], t) for d, t in order if d == db)
            for wall, tool in mine:
                f.write(f'"{DBS[db]}: {tool}" {wall:.3f} {list(DBS).index(db) + 1}\n')


# The benchmark issue's targets: (what, db, tool, against, at most).
TARGETS = [
    ("`.ndjson.zst` ÷ `psql \\copy csv \\| zstd`", "pg", "sluice-keyset-zst",
     "psql-copy-csv-zstd", 0.9),
    ("`.ndjson.zst` ÷ `pg_dump -Fc`", "pg", "sluice-keyset-zst", "pg_dump-Fc", 0.6),
    ("`.ndjson.gz` ÷ `psql \\copy csv \\| gzip -6`", "pg", "sluice-keyset-gz",
     "psql-copy-csv-gzip", 0.6),
    ("MariaDB `.ndjson.zst` ÷ `mydumper -c`", "mariadb", "sluice-keyset-zst", "mydumper-c", 0.8),
    ("plain keyset ÷ the server floor (COPY binary)", "pg", "sluice-keyset",
     "copy-binary-floor", 1.1),
    ("MariaDB plain keyset ÷ `mariadb --quick --batch`", "mariadb", "sluice-keyset",
     "mariadb-quick-batch", 1.0),
    ("SQLite plain keyset ÷ `sqlite3 -json`", "sqlite", "sluice-keyset", "sqlite3-json", 0.4),
]


def targets_report(path, effort):
    med, order = medians(read_runs(path, False))
    print("## Compressed sizes at equal effort")
    print()
    print("sluice's compressed output (default levels) against its own NDJSON "
          "compressed whole by `zstd -3` and `gzip -6`. Target: at most 10% larger.")
    print()
    print("| database | NDJSON MB | `zstd -3` MB | sluice .zst MB | ÷ | `gzip -6` MB "
          "| sluice .gz MB | ÷ |")
    print("|---|--:|--:|--:|--:|--:|--:|--:|")
    with open(effort, encoding="utf-8") as f:
        for line in f:
            db, plain, z3, g6 = line.split()
            z = med.get((db, "sluice-keyset-zst"))
            g = med.get((db, "sluice-keyset-gz"))
            zs = f"{z[2] / 1e6:.2f} | {z[2] / int(z3):.3f}" if z else "— | —"
            gs = f"{g[2] / 1e6:.2f} | {g[2] / int(g6):.3f}" if g else "— | —"
            print(f"| {DBS.get(db, db)} | {int(plain) / 1e6:.1f} | {int(z3) / 1e6:.2f} | {zs} "
                  f"| {int(g6) / 1e6:.2f} | {gs} |")
    print()
    print("## Targets (ratios of median wall times)")
    print()
    print("| target | ratio | at most | met |")
    print("|---|--:|--:|:-:|")
    for what, db, tool, other, limit in TARGETS:
        a, b = med.get((db, tool)), med.get((db, other))
        if not a or not b or b[0] <= 0:
            print(f"| {what} | — | {limit} | not run |")
            continue
        r = a[0] / b[0]
        print(f"| {what} | {r:.2f} | {limit} | {'yes' if r <= limit else '**no**'} |")
    worst = max(((med[k][1], k) for k in order if k[1].startswith("sluice-")), default=None)
    if worst:
        rss, (db, tool) = worst
        print(f"| peak RSS of every sluice run ≤ 64 MB (largest: {DBS.get(db, db)} {tool}) "
              f"| {rss / 1024:.1f} MB | 64 | {'yes' if rss / 1024 <= 64 else '**no**'} |")
    print()
    print("Where the client's CPU and the server's CPU together exceed the machine's "
          "cores times the wall time of the faster tool, no client can meet the "
          "target: see the client and server CPU columns above.")
    print()


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "tools":
        return plot_data(sys.argv[2], sys.argv[3])
    if len(sys.argv) == 4 and sys.argv[1] == "targets":
        return targets_report(sys.argv[2], sys.argv[3])
    if len(sys.argv) == 4 and sys.argv[1] == "scale":
        return scale(sys.argv[2], sys.argv[3])
    if len(sys.argv) == 5 and sys.argv[1] == "ckpt":
        return ckpt(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    if len(sys.argv) == 4 and sys.argv[1] == "pages":
        return pages(sys.argv[2], sys.argv[3])
    if len(sys.argv) not in (3, 4):
        sys.exit("usage: report.py RAW ROWS [SUMS] | scale SCALE SKIP | ckpt RAW ROWS EVERY"
                 " | pages DAT PNG | tools RAW DAT | targets RAW EFFORT")
    rows = int(sys.argv[2])
    runs = read_runs(sys.argv[1], False)

    med, order = medians(runs)
    reps = max(r[2] for r in runs)
    print(f"## Results (median of {reps} run{'s' if reps > 1 else ''} per tool)")
    print()
    print("| database | tool | wall s | server CPU s | client CPU s | rows/s | output MB/s "
          "| peak RSS MB | output MB | wall ÷ sluice keyset |")
    print("|---|---|--:|--:|--:|--:|--:|--:|--:|--:|")
    for db, tool in order:
        wall, rss, size, cpu, ccpu = med[(db, tool)]
        base = med.get((db, "sluice-keyset"))
        ratio = "—"
        if base and tool != "sluice-keyset" and base[0] > 0:
            ratio = f"{wall / base[0]:.2f}"
        rate = f"{rows / wall:,.0f}" if wall > 0 else "—"
        mbs = f"{size / wall / 1e6:.1f}" if wall > 0 and size else "—"
        cpu = "—" if cpu is None else f"{cpu:.2f}"
        ccpu = "—" if ccpu is None else f"{ccpu:.2f}"
        print(f"| {DBS.get(db, db)} | {tool} | {wall:.2f} | {cpu} | {ccpu} | {rate} | {mbs} "
              f"| {rss / 1024:.1f} | {size / 1e6:.1f} | {ratio} |")
    print()
    print("wall: elapsed seconds of the client command, start to exit. rows/s: "
          f"{rows:,} rows ÷ wall. MB = 10^6 bytes of output (mydumper: all its "
          "files). peak RSS: the client only (GNU time %M; of a pipeline, its "
          "largest process), not the server. client CPU: user + system seconds "
          "of the client, every process of a pipeline. server CPU: CPU seconds "
          "the database server used during the run, all its processes and "
          "threads (from /proc); where it is close to wall, the server is the "
          "bottleneck, and no client is faster with the same query. "
          "wall ÷ sluice keyset: "
          "this tool's median wall time over sluice keyset's on the same "
          "database; above 1, sluice keyset is faster. sluice runs use the "
          "default --page-size and --checkpoint-every (each checkpoint "
          "fsyncs the output and commits the state store), except keyset-ckpt0 (--checkpoint-every 0: one checkpoint "
          "at the end). Output formats differ: sluice, psycopg2 and "
          "row_to_json write JSON lines; psql \\copy CSV; mariadb --batch TSV; "
          "mysqldump and mydumper SQL INSERTs; pg_dump -Fc its custom format "
          "(zlib-compressed); sqlite3 -json one JSON array. -zst and -gz: "
          "sluice writing .ndjson.zst / .ndjson.gz at its default levels and "
          "threads; psql-copy-csv-zstd / -gzip and mysqldump-zstd: piped to "
          "`zstd -3` / `gzip -6` (the psql pipes read in key order, "
          "`\\copy (SELECT * FROM bench_t ORDER BY id)`); mydumper-c: its -c. "
          "copy-binary-floor: `COPY (SELECT * FROM bench_t ORDER BY id) TO "
          "STDOUT (FORMAT binary)` into /dev/null, the least a client can ask "
          "of the server for these rows in key order.")
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
    print("| database | tool | rep | wall s | server CPU s | client CPU s | peak RSS KB "
          "| output bytes |")
    print("|---|---|--:|--:|--:|--:|--:|--:|")
    for db, tool, rep, wall, rss, size, cpu, ccpu in runs:
        cpu = "—" if cpu is None else f"{cpu:.2f}"
        ccpu = "—" if ccpu is None else f"{ccpu:.2f}"
        print(f"| {DBS.get(db, db)} | {tool} | {rep} | {wall:.3f} | {cpu} | {ccpu} | {rss} "
              f"| {size} |")


if __name__ == "__main__":
    main()
