#!/usr/bin/python3
"""pg_jsonl.py URL TABLE [ITERSIZE] - the psycopg2 script a user would write.

Reads TABLE through a server-side (named) cursor, ITERSIZE rows per round
trip (default 10000, sluice's default page size), and writes one JSON object
per row to stdout with json.dumps. Types json.dumps cannot take are
converted the usual way: datetime/date/time to ISO 8601 text, Decimal to
float. Needs Debian's python3-psycopg2.
"""
import datetime
import decimal
import json
import sys

import psycopg2


def convert(value):
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return float(value)
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


def main():
    if len(sys.argv) not in (3, 4):
        sys.exit("usage: pg_jsonl.py URL TABLE [ITERSIZE]")
    url, table = sys.argv[1], sys.argv[2]
    itersize = int(sys.argv[3]) if len(sys.argv) == 4 else 10000
    conn = psycopg2.connect(url)
    conn.set_session(readonly=True)
    cur = conn.cursor(name="bench")
    cur.itersize = itersize
    cur.execute(f"SELECT * FROM {table}")
    names = None
    out = sys.stdout
    for row in cur:
        if names is None:
            names = [d[0] for d in cur.description]
        out.write(json.dumps(dict(zip(names, row)), default=convert))
        out.write("\n")
    cur.close()
    conn.close()


if __name__ == "__main__":
    main()
