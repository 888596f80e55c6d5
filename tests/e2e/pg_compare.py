#!/usr/bin/python3
"""pg_compare.py - value-by-value check of sluice's NDJSON against PostgreSQL.

  pg_compare.py sql DISCOVER.json TABLE KEY[,KEY]   the reference query
  pg_compare.py cmp DISCOVER.json EXPECTED ACTUAL   compare, exit 1 on a diff

The reference is row_to_json() of the table ordered by the key, run with
TimeZone UTC, IntervalStyle iso_8601. Where row_to_json differs from the
sluice contract (DESIGN.md §6) the expected side is normalised, and only
there: timestamptz "+00:00" -> "Z"; bytea "\\x..." -> base64; timetz is read
as its text form (row_to_json writes "+02:00", the output function "+02");
money is read as numeric (sluice writes the exact number, not the locale
string);
float columns compare as doubles (sluice writes 1.0 where PostgreSQL writes
1); oid is a number in sluice (an unsigned integer), a string in
row_to_json. Numeric, integer and every other value must match exactly, digits
included."""
import base64
import json
import re
import sys


def quote_ident(s):
    return '"' + s.replace('"', '""') + '"'


def columns(discover_path):
    with open(discover_path) as f:
        d = json.load(f)
    t = d["tables"][0] if "tables" in d else d
    return t, t["columns"]


def ref_sql(discover_path, keys):
    t, cols = columns(discover_path)
    table = quote_ident(t["schema"]) + "." + quote_ident(t["name"])
    sel = []
    for c in cols:
        q = quote_ident(c["name"])
        if c["type"].startswith("time with time zone"):
            sel.append(q + "::text AS " + q)
        elif c["type"].startswith("money"):
            sel.append(q + "::numeric" + ("[]" if c["type"].endswith("[]") else "") + " AS " + q)
        else:
            sel.append(q)
    order = ", ".join(("ctid" if k == "ctid" else quote_ident(k)) for k in keys.split(","))
    return ("SET TimeZone = 'UTC'; SET IntervalStyle = 'iso_8601'; SET extra_float_digits = 3; "
            "SELECT replace(replace(row_to_json(sluice_ref_row)::text, E'\\n', ' '), E'\\r', ' ') "
            "FROM (SELECT %s FROM %s ORDER BY %s) sluice_ref_row"
            % (", ".join(sel), table, order))


def num(s):
    return ("num", s)


def load(line):
    return json.loads(line, parse_float=num, parse_int=num)


TSTZ = re.compile(r"\+00(?::00)?( BC)?$")


def norm(v, kind, expected):
    if isinstance(v, list):
        return [norm(x, kind, expected) for x in v]
    if kind == "float" and isinstance(v, tuple):
        return ("float", float(v[1]))
    if kind == "tstz" and isinstance(v, str) and expected:
        return TSTZ.sub(lambda m: "Z" + (m.group(1) or ""), v)
    if kind == "bytea" and isinstance(v, str) and expected and v.startswith("\\x"):
        return base64.b64encode(bytes.fromhex(v[2:])).decode()
    if kind == "oid" and isinstance(v, str) and expected:
        return ("num", v)
    return v


def kind_of(db_type):
    base = db_type.replace("[]", "")
    if base in ("real", "double precision"):
        return "float"
    if base.startswith("timestamp with time zone"):
        return "tstz"
    if base == "bytea":
        return "bytea"
    if base == "oid":
        return "oid"
    return ""


def compare(discover_path, exp_path, act_path):
    _, cols = columns(discover_path)
    kinds = {c["name"]: kind_of(c["type"]) for c in cols}
    with open(exp_path, encoding="utf-8") as f:
        exp = [l for l in f.read().split("\n") if l]
    with open(act_path, "rb") as f:
        raw = f.read()
    act = [l for l in raw.decode("utf-8").split("\n") if l]
    if not raw.endswith(b"\n") and raw:
        print("output does not end with a newline")
        return 1
    errors = 0
    if len(exp) != len(act):
        print("row count: expected %d, got %d" % (len(exp), len(act)))
        errors += 1
    for i, (e, a) in enumerate(zip(exp, act)):
        eo, ao = load(e), load(a)
        if list(eo.keys()) != list(ao.keys()):
            print("row %d: keys %s != %s" % (i, list(ao.keys()), list(eo.keys())))
            errors += 1
            continue
        for k in eo:
            ev, av = norm(eo[k], kinds.get(k, ""), True), norm(ao[k], kinds.get(k, ""), False)
            if ev != av:
                errors += 1
                if errors < 20:
                    print("row %d column %s: expected %r, got %r" % (i, k, ev, av))
    return 1 if errors else 0


if __name__ == "__main__":
    if sys.argv[1] == "sql":
        print(ref_sql(sys.argv[2], sys.argv[4]))
    else:
        # cmp DISCOVER EXPECTED ACTUAL...: one verdict line per ACTUAL file,
        # "same FILE" or "differs FILE" after the differences; exit 1 when
        # any differs. (One process for many files: Python's start-up is
        # most of a comparison's time.)
        bad = 0
        for act in sys.argv[4:]:
            rc = compare(sys.argv[2], sys.argv[3], act)
            print("%s %s" % ("differs" if rc else "same", act))
            bad |= rc
        sys.exit(bad)
