/* pg_bounds.c - the PostgreSQL driver's incremental entries against a live
 * server, through the driver interface: prefix lower bounds (exclusive and
 * inclusive) with prefix upper bounds on every paging strategy,
 * cursor_range() and oldest_transaction().
 *
 * Run by pg_bounds.sh: $SLUICE_TEST_PG_URL (a superuser) and
 * $SLUICE_TEST_PG_NOPERM_URL (a role that reads nothing) as written by
 * scripts/pg-server.sh. Exit 77 (skip) without them.
 *
 * Table sluice_bounds.ev: ids 1..1000 with cursor c(id) = id*7 % 20, so 50
 * rows share each cursor value and ids interleave across values;
 * updated_at = 2024-03-01 00:00:00.123456 UTC + c hours, seq = c * 10.
 * Ids 1001..1013 have NULL updated_at and seq. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "source/key.h"
#include "source/source.h"

#define NROWS 1000
#define NNULL 13
#define NVAL 20

static const char *url, *noperm_url;
static const struct source_driver *drv;
static struct source *src;
static struct table_desc *desc;
static PGconn *admin;

static const char *const columns[] = {"id", "updated_at", "seq"};
static const char *const key_ts[] = {"updated_at", "id"};
static const char *const key_seq[] = {"seq", "id"};

static int cur(int id) { return id * 7 % NVAL; }

static void admin_exec(const char *sql)
{
    PGresult *r = PQexec(admin, sql);
    ExecStatusType st = PQresultStatus(r);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
        fail_msg("%s: %s", sql, PQerrorMessage(admin));
    PQclear(r);
}

static int setup(void **state)
{
    (void)state;
    admin = PQconnectdb(url);
    if (PQstatus(admin) != CONNECTION_OK) {
        fprintf(stderr, "cannot connect: %s", PQerrorMessage(admin));
        return -1;
    }
    admin_exec("SET client_min_messages = warning; "
               "DROP SCHEMA IF EXISTS sluice_bounds CASCADE; CREATE SCHEMA sluice_bounds; "
               "CREATE TABLE sluice_bounds.ev (id int PRIMARY KEY, updated_at timestamptz, "
               "seq bigint); "
               "CREATE INDEX ON sluice_bounds.ev (updated_at, id); "
               "INSERT INTO sluice_bounds.ev SELECT i, timestamptz '2024-03-01 "
               "00:00:00.123456+00' + (i * 7 % 20) * interval '1 hour', (i * 7 % 20) * 10 "
               "FROM generate_series(1, 1000) i; "
               "INSERT INTO sluice_bounds.ev SELECT i, NULL, NULL FROM generate_series(1001, "
               "1013) i; ANALYZE sluice_bounds.ev; "
               "GRANT USAGE ON SCHEMA sluice_bounds TO PUBLIC");
    drv = source_find(url);
    if (!drv || source_open(drv, url, &src) < 0) {
        fprintf(stderr, "open: %s\n", source_error(src));
        return -1;
    }
    if (source_describe(src, "sluice_bounds.ev", &desc) < 0) {
        fprintf(stderr, "describe: %s\n", source_error(src));
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    table_desc_free(desc);
    source_close(src);
    if (admin) {
        /* test_oldest_denied revokes this; never leave the server so. */
        PQclear(PQexec(admin, "GRANT SELECT ON pg_catalog.pg_stat_activity TO PUBLIC; "
                              "DROP SCHEMA IF EXISTS sluice_bounds CASCADE"));
        PQfinish(admin);
    }
    return 0;
}

/* The timestamp of cursor value c in a bound: PostgreSQL input syntax,
 * deliberately not row_key()'s own spelling. */
static void ts_text(int c, char *out, size_t cap)
{
    snprintf(out, cap, "2024-03-01 %02d:00:00.123456+00", c);
}

/* A bound: (c) or (c, id) on key_ts, or on key_seq when seq is set. */
static void bound(struct keytuple *k, int c, int id, int seq)
{
    char t[64];
    assert_int_equal(key_init(k, id ? 2 : 1), 0);
    if (seq) {
        assert_int_equal(key_set_int(k, 0, (int64_t)c * 10), 0);
    } else {
        ts_text(c, t, sizeof t);
        assert_int_equal(key_set_text(k, 0, t, strlen(t)), 0);
    }
    if (id)
        assert_int_equal(key_set_int(k, 1, id), 0);
}

/* (c, id) compared with a bound of n values */
static int cmp(int c, int id, const struct keytuple *b, int bc, int bid)
{
    if (c != bc)
        return c < bc ? -1 : 1;
    if (b->n == 1)
        return 0;
    return id < bid ? -1 : id > bid ? 1 : 0;
}

struct window {
    int ac, aid, incl, has_after; /* after: (ac) or (ac, aid) */
    int uc, uid, has_upto;        /* upto: (uc) or (uc, uid) */
};

/* Expected ids of a window, in key order; returns the count. */
static int expected(const struct window *w, const struct keytuple *after,
                    const struct keytuple *upto, int *ids)
{
    int n = 0;
    for (int c = 0; c < NVAL; c++)
        for (int id = 1; id <= NROWS; id++) {
            if (cur(id) != c)
                continue;
            if (w->has_after) {
                int d = cmp(c, id, after, w->ac, w->aid);
                if (d < 0 || (d == 0 && !w->incl))
                    continue;
            }
            if (w->has_upto && cmp(c, id, upto, w->uc, w->uid) > 0)
                continue;
            ids[n++] = id;
        }
    return n;
}

static const char *paging_name(enum paging p)
{
    return p == PAGING_KEYSET ? "keyset" : p == PAGING_OFFSET ? "offset" : "cursor";
}

/* Reads a scan into ids (checking row_key against each row); stops after
 * limit rows (0: all) and leaves the last key in *last. */
static int read_scan(const struct scan_spec *spec, int *ids, int cap, int limit,
                     struct keytuple *last)
{
    struct scan *sc;
    int rc = source_open_scan(src, spec, &sc);
    if (rc < 0)
        fail_msg("open_scan (%s): %s", paging_name(spec->paging), source_error(src));
    int n = 0;
    const struct cell *row;
    while ((rc = scan_next_row(sc, &row)) == 1) {
        assert_true(n < cap);
        assert_int_equal(row[0].kind, CELL_INT);
        ids[n++] = (int)row[0].v.i;
        assert_int_equal(scan_row_key(sc, last), 0);
        assert_int_equal(last->n, 2);
        assert_int_equal(last->v[1].kind, KEY_INT);
        assert_int_equal(last->v[1].i, row[0].v.i);
        if (limit && n == limit)
            break;
    }
    if (rc < 0)
        fail_msg("next_row (%s): %s", paging_name(spec->paging), source_error(src));
    scan_close(sc);
    return n;
}

static void check_window(const struct window *w, int seq)
{
    static int want[NROWS], got[NROWS + NNULL];
    struct keytuple after = {0}, upto = {0}, last = {0};
    if (w->has_after)
        bound(&after, w->ac, w->aid, seq);
    if (w->has_upto)
        bound(&upto, w->uc, w->uid, seq);
    int nwant = expected(w, &after, &upto, want);
    enum paging pg[] = {PAGING_KEYSET, PAGING_OFFSET, PAGING_CURSOR};
    for (size_t p = 0; p < 3; p++) {
        struct scan_spec spec = {
            .paging = pg[p], .table = desc, .columns = columns, .ncolumns = 3,
            .key = seq ? key_seq : key_ts, .nkey = 2,
            .after = w->has_after ? &after : NULL, .after_inclusive = w->incl,
            .upto = w->has_upto ? &upto : NULL, .page_size = 7,
        };
        int n = read_scan(&spec, got, NROWS + NNULL, 0, &last);
        if (n != nwant || memcmp(got, want, (size_t)n * sizeof *got) != 0)
            fail_msg("%s after (%d,%d)%s incl %d upto (%d,%d)%s seq %d: %d rows, want %d",
                     paging_name(pg[p]), w->ac, w->aid, w->has_after ? "" : " none", w->incl,
                     w->uc, w->uid, w->has_upto ? "" : " none", seq, n, nwant);
        if (pg[p] == PAGING_OFFSET && nwant > 10) {
            /* The offset counts rows inside the bounds. */
            spec.offset = 10;
            n = read_scan(&spec, got, NROWS + NNULL, 0, &last);
            assert_int_equal(n, nwant - 10);
            assert_memory_equal(got, want + 10, (size_t)n * sizeof *got);
        }
        if (pg[p] != PAGING_OFFSET && nwant > 23) {
            /* Stop after 23 rows; resume from that full key, exclusive. */
            int k = read_scan(&spec, got, NROWS + NNULL, 23, &last);
            assert_int_equal(k, 23);
            struct scan_spec again = spec;
            again.after = &last;
            again.after_inclusive = 0;
            n = read_scan(&again, got + k, NROWS + NNULL - k, 0, &last);
            assert_int_equal(k + n, nwant);
            assert_memory_equal(got, want, (size_t)nwant * sizeof *got);
        }
    }
    key_clear(&after);
    key_clear(&upto);
    key_clear(&last);
}

static void test_bounds_ts(void **state)
{
    (void)state;
    const struct window w[] = {
        {5, 0, 0, 1, 12, 0, 1},      /* (c) > 5, (c) <= 12 */
        {5, 0, 1, 1, 12, 0, 1},      /* (c) >= 5 */
        {5, 0, 1, 1, 5, 0, 1},       /* one cursor value: 50 rows */
        {5, 0, 0, 1, 5, 0, 1},       /* empty */
        {5, 412, 0, 1, 12, 0, 1},    /* resume from a full tuple */
        {5, 412, 0, 1, 12, 396, 1},  /* full upper bound */
        {5, 0, 1, 1, 12, 396, 1},
        {17, 0, 0, 1, 0, 0, 0},      /* no upper bound */
        {0, 0, 0, 0, 3, 0, 1},       /* no lower bound */
        {0, 0, 1, 1, 19, 0, 1},      /* everything but the NULLs */
    };
    for (size_t i = 0; i < sizeof w / sizeof w[0]; i++)
        check_window(&w[i], 0);
}

static void test_bounds_int(void **state)
{
    (void)state;
    const struct window w[] = {
        {5, 0, 1, 1, 12, 0, 1},
        {5, 0, 0, 1, 12, 0, 1},
        {5, 412, 0, 1, 5, 0, 1},
    };
    for (size_t i = 0; i < sizeof w / sizeof w[0]; i++)
        check_window(&w[i], 1);
}

static void test_bad_bounds(void **state)
{
    (void)state;
    struct keytuple k = {0};
    assert_int_equal(key_init(&k, 3), 0);
    struct scan_spec spec = {
        .paging = PAGING_KEYSET, .table = desc, .columns = columns, .ncolumns = 3,
        .key = key_ts, .nkey = 2, .after = &k, .page_size = 7,
    };
    struct source *s2;
    assert_int_equal(source_open(drv, url, &s2), 0);
    struct scan *sc;
    assert_int_equal(source_open_scan(s2, &spec, &sc), SOURCE_EUSAGE);
    assert_non_null(strstr(source_error(s2), "lower bound has 3 values"));
    scan_close(sc);
    source_close(s2);
    key_clear(&k);
}

/* cursor_range() on spec; returns the null count. */
static uint64_t range(const char *const *key, size_t ncursor, const char *where,
                      const struct keytuple *after, int incl, struct keytuple *min,
                      struct keytuple *max)
{
    struct scan_spec spec = {
        .paging = PAGING_KEYSET, .table = desc, .columns = columns, .ncolumns = 3,
        .key = key, .nkey = 2, .after = after, .after_inclusive = incl, .page_size = 7,
        .where = where,
    };
    uint64_t nulls = 99;
    if (source_cursor_range(src, &spec, ncursor, min, max, &nulls) < 0)
        fail_msg("cursor_range: %s", source_error(src));
    return nulls;
}

/* The key row_key() gives for the first row of a scan bounded to id. */
static void key_of(int id, struct keytuple *k)
{
    char where[32];
    snprintf(where, sizeof where, "id = %d", id);
    struct scan_spec spec = {
        .paging = PAGING_KEYSET, .table = desc, .columns = columns, .ncolumns = 3,
        .key = key_ts, .nkey = 2, .page_size = 7, .where = where,
    };
    int got[1];
    assert_int_equal(read_scan(&spec, got, 1, 1, k), 1);
}

static void assert_text(const struct keyval *v, const struct keyval *want)
{
    assert_int_equal(v->kind, KEY_TEXT);
    assert_int_equal(want->kind, KEY_TEXT);
    assert_string_equal(v->s, want->s);
}

static void test_cursor_range(void **state)
{
    (void)state;
    struct keytuple min = {0}, max = {0}, k0 = {0}, k19 = {0}, k18 = {0}, k6 = {0}, k5 = {0},
                    a = {0};
    /* c(id) = v for id = 3v mod 20 (20 for v 0): 0 -> 20, 5 -> 15, 6 -> 18,
     * 18 -> 14, 19 -> 17. */
    key_of(20, &k0);
    key_of(15, &k5);
    key_of(18, &k6);
    key_of(14, &k18);
    key_of(17, &k19);
    int top = 0, low = 0;
    for (int id = 1; id <= NROWS; id++) {
        if (cur(id) == 19)
            top = id;
        if (cur(id) == 0 && !low)
            low = id;
    }

    assert_int_equal(range(key_ts, 1, NULL, NULL, 0, &min, &max), NNULL);
    assert_int_equal(min.n, 1);
    assert_int_equal(max.n, 1);
    assert_text(&min.v[0], &k0.v[0]);
    assert_text(&max.v[0], &k19.v[0]);

    /* Least and greatest two-column prefix. */
    assert_int_equal(range(key_ts, 2, NULL, NULL, 0, &min, &max), NNULL);
    assert_int_equal(min.n, 2);
    assert_int_equal(max.n, 2);
    assert_text(&min.v[0], &k0.v[0]);
    assert_int_equal(min.v[1].kind, KEY_INT);
    assert_int_equal(min.v[1].i, low);
    assert_text(&max.v[0], &k19.v[0]);
    assert_int_equal(max.v[1].i, top);

    /* where restricts the range and the null count. */
    assert_int_equal(range(key_ts, 1, "id % 20 <> 17 AND id <= 1010", NULL, 0, &min, &max), 10);
    assert_text(&min.v[0], &k0.v[0]);
    assert_text(&max.v[0], &k18.v[0]);
    assert_int_equal(range(key_ts, 1, "false", NULL, 0, &min, &max), 0);
    assert_int_equal(min.n, 0);
    assert_int_equal(max.n, 0);

    /* after: exclusive and inclusive prefix; never applied to the nulls. */
    bound(&a, 5, 0, 0);
    assert_int_equal(range(key_ts, 1, NULL, &a, 0, &min, &max), NNULL);
    assert_text(&min.v[0], &k6.v[0]);
    assert_text(&max.v[0], &k19.v[0]);
    assert_int_equal(range(key_ts, 1, NULL, &a, 1, &min, &max), NNULL);
    assert_text(&min.v[0], &k5.v[0]);
    assert_int_equal(range(key_ts, 1, "id % 20 = 17", &a, 1, &min, &max), 0);
    assert_text(&min.v[0], &k19.v[0]);
    key_clear(&a);
    /* A full tuple: nothing after the last row; the last row itself when
     * inclusive. */
    bound(&a, 19, top, 0);
    assert_int_equal(range(key_ts, 1, NULL, &a, 0, &min, &max), NNULL);
    assert_int_equal(min.n, 0);
    assert_int_equal(max.n, 0);
    assert_int_equal(range(key_ts, 2, NULL, &a, 1, &min, &max), NNULL);
    assert_int_equal(min.n, 2);
    assert_int_equal(min.v[1].i, top);
    assert_int_equal(max.v[1].i, top);
    key_clear(&a);

    /* Its own output binds back as a bound. */
    assert_int_equal(range(key_ts, 1, NULL, NULL, 0, &min, &max), NNULL);
    assert_int_equal(key_copy(&a, &max), 0);
    assert_int_equal(range(key_ts, 1, NULL, &a, 0, &min, &max), NNULL);
    assert_int_equal(min.n, 0);
    assert_int_equal(range(key_ts, 1, NULL, &a, 1, &min, &max), NNULL);
    assert_text(&min.v[0], &k19.v[0]);
    key_clear(&a);

    /* An integer cursor gives KEY_INT. */
    assert_int_equal(range(key_seq, 1, NULL, NULL, 0, &min, &max), NNULL);
    assert_int_equal(min.v[0].kind, KEY_INT);
    assert_int_equal(min.v[0].i, 0);
    assert_int_equal(max.v[0].kind, KEY_INT);
    assert_int_equal(max.v[0].i, 190);

    struct keytuple *all[] = {&min, &max, &k0, &k5, &k6, &k18, &k19};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        key_clear(all[i]);
}

/* Opens a second session and starts a transaction in it; returns its
 * start as oldest_transaction() spells it. */
static PGconn *hold_transaction(const char *u, char *start, size_t cap)
{
    PGconn *c = PQconnectdb(u);
    assert_int_equal(PQstatus(c), CONNECTION_OK);
    PGresult *r = PQexec(c, "BEGIN; SELECT pg_catalog.to_char(now() AT TIME ZONE 'UTC', "
                            "'YYYY-MM-DD HH24:MI:SS.US')");
    assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
    snprintf(start, cap, "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    return c;
}

static void oldest(struct source *s, struct keytuple *out)
{
    if (source_oldest_transaction(s, out) < 0)
        fail_msg("oldest_transaction: %s", source_error(s));
    assert_int_equal(s->errcode, 0);
}

static void test_oldest_transaction(void **state)
{
    (void)state;
    /* Fresh handles: an earlier test's failure stays on src. */
    struct source *su, *np;
    assert_int_equal(source_open(drv, url, &su), 0);
    assert_int_equal(source_open(drv, noperm_url, &np), 0);
    struct keytuple k = {0};
    oldest(su, &k);
    assert_int_equal(k.n, 0); /* idle sessions and this one do not count */

    char t1[64], t2[64];
    PGconn *c1 = hold_transaction(url, t1, sizeof t1);
    oldest(su, &k);
    assert_int_equal(k.n, 1);
    assert_int_equal(k.v[0].kind, KEY_TEXT);
    assert_string_equal(k.v[0].s, t1);
    /* Another role's transaction is hidden from a role without
     * pg_read_all_stats: no value, no error. */
    oldest(np, &k);
    assert_int_equal(k.n, 0);
    /* Its own role's sessions it sees. */
    PGconn *c2 = hold_transaction(noperm_url, t2, sizeof t2);
    oldest(np, &k);
    assert_int_equal(k.n, 1);
    assert_string_equal(k.v[0].s, t2);
    oldest(su, &k);
    assert_string_equal(k.v[0].s, t1); /* the older of the two */
    PQfinish(c1);
    PQfinish(c2);

    /* A permission error is no error: n 0. */
    c1 = hold_transaction(noperm_url, t1, sizeof t1);
    admin_exec("REVOKE SELECT ON pg_catalog.pg_stat_activity FROM PUBLIC");
    assert_int_equal(source_oldest_transaction(np, &k), 0);
    assert_int_equal(k.n, 0);
    assert_int_equal(np->errcode, 0);
    admin_exec("GRANT SELECT ON pg_catalog.pg_stat_activity TO PUBLIC");
    oldest(np, &k);
    assert_int_equal(k.n, 1);
    assert_string_equal(k.v[0].s, t1);
    PQfinish(c1);
    key_clear(&k);
    source_close(np);
    source_close(su);
}

int main(void)
{
    url = getenv("SLUICE_TEST_PG_URL");
    noperm_url = getenv("SLUICE_TEST_PG_NOPERM_URL");
    if (!url || !*url || !noperm_url || !*noperm_url) {
        fprintf(stderr, "SKIP: SLUICE_TEST_PG_URL / SLUICE_TEST_PG_NOPERM_URL not set\n");
        return 77;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bounds_ts),
        cmocka_unit_test(test_bounds_int),
        cmocka_unit_test(test_bad_bounds),
        cmocka_unit_test(test_cursor_range),
        cmocka_unit_test(test_oldest_transaction),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
