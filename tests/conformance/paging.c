/* paging.c - the paging conformance suite: the same checks, through the
 * same core calls (scan_open / scan_next_row / scan_row_key and
 * scan_cursor_range), against every database. argv[1] is the source URL;
 * tests/conformance/fixtures.sh loaded the tables:
 *   conf_comp   a 1..5, b 1..3, c 'c01'..'c20' (key a, b, c), v text
 *   conf_empty  no rows
 *   conf_cursor id 1..100, ts = id*7 % 23, NULL when id % 10 == 0
 * A scan that returns more rows than the table holds is stopped and
 * failed, so a paging loop shows as a failure, never as a hang. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "source/connect.h"
#include "source/scan.h"

static const char *url;
static struct source *src;

static const char *const comp_cols[] = {"a", "b", "c", "v"};
static const char *const comp_key[] = {"a", "b", "c"};
#define COMP_ROWS 300

/* A key value as text: integers in decimal whatever kind they came as. */
static void val_text(const struct keyval *v, char *out, size_t n)
{
    switch (v->kind) {
    case KEY_INT: snprintf(out, n, "%" PRId64, v->i); break;
    case KEY_TEXT: case KEY_BLOB: snprintf(out, n, "%.*s", (int)v->len, v->s); break;
    case KEY_REAL: snprintf(out, n, "%g", v->r); break;
    default: snprintf(out, n, "NULL"); break;
    }
}

static void key_str(const struct keytuple *k, char *out, size_t n)
{
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < k->n; i++) {
        char v[64];
        val_text(&k->v[i], v, sizeof v);
        used += (size_t)snprintf(out + used, n - used, "%s%s", i ? "|" : "", v);
    }
}

/* The (a, b, c) of conf_comp's row number i (0-based, key order). */
static void comp_row(int i, char *out, size_t n)
{
    snprintf(out, n, "%d|%d|c%02d", i / 60 + 1, i / 20 % 3 + 1, i % 20 + 1);
}

static struct table_desc *describe(const char *table)
{
    struct table_desc *d;
    if (source_describe(src, table, &d) < 0)
        fail_msg("describe %s: %s", table, source_error(src));
    return d;
}

struct seen {
    char keys[2 * COMP_ROWS][64];
    size_t n;
    int rc; /* the scan's end: 0, or the error */
    char err[1024];
};

/* Reads the whole scan, recording each row's key (from row_key). */
static void read_all(const struct scan_spec *spec, struct seen *s)
{
    struct scan *sc;
    memset(s, 0, sizeof *s);
    src->errcode = 0;
    src->errmsg[0] = '\0';
    s->rc = scan_open(src, spec, &sc);
    struct keytuple k = {0};
    const struct cell *row;
    while (s->rc == 0) {
        int rc = scan_next_row(sc, &row);
        if (rc <= 0) {
            s->rc = rc;
            break;
        }
        if (s->n == sizeof s->keys / sizeof *s->keys) {
            s->rc = -100; /* more rows than the table holds: a loop */
            break;
        }
        if (scan_row_key(sc, &k) < 0)
            fail_msg("row_key: %s", source_error(src));
        key_str(&k, s->keys[s->n++], sizeof s->keys[0]);
    }
    if (s->rc < 0 && s->rc != -100)
        snprintf(s->err, sizeof s->err, "%s", source_error(src));
    key_clear(&k);
    scan_close(sc);
}

static struct scan_spec comp_spec(const struct table_desc *d, enum paging paging, size_t page)
{
    return (struct scan_spec){
        .paging = paging, .table = d, .columns = comp_cols, .ncolumns = 4,
        .key = comp_key, .nkey = 3, .page_size = page,
    };
}

/* The rows first..last (0-based) of conf_comp, in order, and nothing else. */
static void expect_rows(const struct seen *s, int first, int last, const char *what)
{
    if (s->rc != 0)
        fail_msg("%s: scan failed (%d): %s", what, s->rc, s->err);
    int want = last >= first ? last - first + 1 : 0;
    if ((int)s->n != want)
        fail_msg("%s: %zu rows, expected %d", what, s->n, want);
    for (int i = 0; i < want; i++) {
        char k[64];
        comp_row(first + i, k, sizeof k);
        if (strcmp(s->keys[i], k) != 0)
            fail_msg("%s: row %d is %s, expected %s", what, i, s->keys[i], k);
    }
}

static struct seen seen;

static void test_every_strategy_and_page_size(void **ctx)
{
    (void)ctx;
    struct table_desc *d = describe("conf_comp");
    static const size_t pages[] = {1, 2, 7, 20, 60, 299, 300, 301, 10000};
    static const enum paging pagings[] = {PAGING_KEYSET, PAGING_OFFSET, PAGING_CURSOR};
    for (size_t p = 0; p < 3; p++)
        for (size_t i = 0; i < sizeof pages / sizeof *pages; i++) {
            struct scan_spec spec = comp_spec(d, pagings[p], pages[i]);
            char what[64];
            snprintf(what, sizeof what, "paging %zu, page %zu", p, pages[i]);
            read_all(&spec, &seen);
            expect_rows(&seen, 0, COMP_ROWS - 1, what);
            spec.snapshot = 1;
            read_all(&spec, &seen);
            expect_rows(&seen, 0, COMP_ROWS - 1, what);
        }
    table_desc_free(d);
}

/* A keytuple of up to three values: a, b as integers, c as text. */
static void tuple(struct keytuple *t, int n, int a, int b, int c)
{
    char cs[8];
    snprintf(cs, sizeof cs, "c%02d", c);
    assert_int_equal(key_init(t, (size_t)n), 0);
    key_set_int(t, 0, a);
    if (n > 1)
        key_set_int(t, 1, b);
    if (n > 2)
        key_set_text(t, 2, cs, strlen(cs));
}

static int row_index(int a, int b, int c)
{
    return (a - 1) * 60 + (b - 1) * 20 + (c - 1);
}

static void test_prefix_and_inclusive_bounds(void **ctx)
{
    (void)ctx;
    struct table_desc *d = describe("conf_comp");
    static const enum paging pagings[] = {PAGING_KEYSET, PAGING_OFFSET, PAGING_CURSOR};
    struct keytuple lo = {0}, hi = {0};
    for (size_t p = 0; p < 3; p++) {
        struct scan_spec spec = comp_spec(d, pagings[p], 7);
        /* after (3): a > 3 */
        tuple(&lo, 1, 3, 0, 0);
        spec.after = &lo;
        read_all(&spec, &seen);
        expect_rows(&seen, row_index(4, 1, 1), COMP_ROWS - 1, "after (3)");
        /* after (3) inclusive: a >= 3 */
        spec.after_inclusive = 1;
        read_all(&spec, &seen);
        expect_rows(&seen, row_index(3, 1, 1), COMP_ROWS - 1, "from (3)");
        key_clear(&lo);
        /* after (3, 2) and from (3, 2) */
        tuple(&lo, 2, 3, 2, 0);
        spec.after_inclusive = 0;
        read_all(&spec, &seen);
        expect_rows(&seen, row_index(3, 3, 1), COMP_ROWS - 1, "after (3, 2)");
        spec.after_inclusive = 1;
        read_all(&spec, &seen);
        expect_rows(&seen, row_index(3, 2, 1), COMP_ROWS - 1, "from (3, 2)");
        key_clear(&lo);
        /* after a full key, exclusive */
        tuple(&lo, 3, 2, 3, 17);
        spec.after_inclusive = 0;
        read_all(&spec, &seen);
        expect_rows(&seen, row_index(2, 3, 18), COMP_ROWS - 1, "after (2, 3, c17)");
        /* ... up to (4): a <= 4 */
        tuple(&hi, 1, 4, 0, 0);
        spec.upto = &hi;
        read_all(&spec, &seen);
        expect_rows(&seen, row_index(2, 3, 18), row_index(4, 3, 20), "after (2,3,c17) upto (4)");
        key_clear(&hi);
        /* ... up to (4, 1, c05) */
        tuple(&hi, 3, 4, 1, 5);
        read_all(&spec, &seen);
        expect_rows(&seen, row_index(2, 3, 18), row_index(4, 1, 5), "upto (4, 1, c05)");
        key_clear(&hi);
        /* up to (2, 2) with no lower bound */
        spec.after = NULL;
        tuple(&hi, 2, 2, 2, 0);
        read_all(&spec, &seen);
        expect_rows(&seen, 0, row_index(2, 2, 20), "upto (2, 2)");
        key_clear(&hi);
        key_clear(&lo);
    }
    table_desc_free(d);
}

static void test_empty_tables_and_ranges(void **ctx)
{
    (void)ctx;
    struct table_desc *e = describe("conf_empty"), *d = describe("conf_comp");
    static const char *const cols[] = {"id", "v"}, *const key[] = {"id"};
    static const enum paging pagings[] = {PAGING_KEYSET, PAGING_OFFSET, PAGING_CURSOR};
    struct keytuple lo = {0}, hi = {0};
    for (size_t p = 0; p < 3; p++) {
        struct scan_spec spec = {.paging = pagings[p], .table = e, .columns = cols,
                                 .ncolumns = 2, .key = key, .nkey = 1, .page_size = 5};
        read_all(&spec, &seen);
        expect_rows(&seen, 0, -1, "empty table");
        spec = comp_spec(d, pagings[p], 5);
        tuple(&lo, 1, 5, 0, 0); /* a > 5: nothing */
        spec.after = &lo;
        read_all(&spec, &seen);
        expect_rows(&seen, 0, -1, "after the last key");
        key_clear(&lo);
        tuple(&lo, 1, 3, 0, 0); /* 3 < a <= 2: nothing */
        tuple(&hi, 1, 2, 0, 0);
        spec.upto = &hi;
        read_all(&spec, &seen);
        expect_rows(&seen, 0, -1, "an empty range");
        key_clear(&lo);
        key_clear(&hi);
    }
    table_desc_free(e);
    table_desc_free(d);
}

/* Output columns that leave the key out: the key comes from hidden columns. */
static void test_hidden_key_columns(void **ctx)
{
    (void)ctx;
    static const char *const cols[] = {"v"}, *const key[] = {"a", "b", "c"};
    struct table_desc *d = describe("conf_comp");
    static const enum paging pagings[] = {PAGING_KEYSET, PAGING_OFFSET, PAGING_CURSOR};
    for (size_t p = 0; p < 3; p++) {
        struct scan_spec spec = {.paging = pagings[p], .table = d, .columns = cols,
                                 .ncolumns = 1, .key = key, .nkey = 3, .page_size = 13};
        read_all(&spec, &seen);
        expect_rows(&seen, 0, COMP_ROWS - 1, "hidden key");
        /* The key in another order than the table's, with v first. */
        static const char *const cols2[] = {"v", "c", "a"};
        spec.columns = cols2;
        spec.ncolumns = 3;
        read_all(&spec, &seen);
        expect_rows(&seen, 0, COMP_ROWS - 1, "some key columns hidden");
    }
    table_desc_free(d);
}

/* Every --where form behaves the same on every database: on lines of its
 * own, a trailing -- comment is harmless; a condition that escapes its
 * parentheses stops keyset paging with an error naming --where. */
static void test_where_forms(void **ctx)
{
    (void)ctx;
    struct table_desc *d = describe("conf_comp");
    static const char *const same[] = {
        "a = 2",
        "a = 2 -- the second a",
        "a = 2 /* a comment */",
        "a = 2\n-- a comment on its own line",
        "(a = 2)",
        "a IN (2) AND c LIKE 'c%'",
        "a = 2 -- unbalanced ) in a comment",
    };
    static const enum paging pagings[] = {PAGING_KEYSET, PAGING_OFFSET, PAGING_CURSOR};
    for (size_t p = 0; p < 3; p++)
        for (size_t i = 0; i < sizeof same / sizeof *same; i++) {
            struct scan_spec spec = comp_spec(d, pagings[p], 7);
            spec.where = same[i];
            read_all(&spec, &seen);
            char what[160];
            snprintf(what, sizeof what, "paging %zu --where '%s'", p, same[i]);
            expect_rows(&seen, row_index(2, 1, 1), row_index(2, 3, 20), what);
        }
    /* Escaping the parentheses: the key bound no longer applies. */
    struct scan_spec spec = comp_spec(d, PAGING_KEYSET, 7);
    spec.where = "a < 3) OR (1=1";
    read_all(&spec, &seen);
    if (seen.rc == -100)
        fail_msg("an escaped --where made keyset paging loop");
    if (seen.rc == 0)
        fail_msg("an escaped --where was accepted (%zu rows)", seen.n);
    if (!strstr(seen.err, "--where"))
        fail_msg("the error does not name --where: %s", seen.err);
    table_desc_free(d);
}

/* Pages bounded by bytes: tiny budgets still read every row once. */
static void test_page_bytes(void **ctx)
{
    (void)ctx;
    struct table_desc *d = describe("conf_comp");
    static const size_t budgets[] = {1, 100, 1000, 100000};
    static const enum paging pagings[] = {PAGING_KEYSET, PAGING_OFFSET, PAGING_CURSOR};
    for (size_t p = 0; p < 3; p++)
        for (size_t i = 0; i < sizeof budgets / sizeof *budgets; i++) {
            struct scan_spec spec = comp_spec(d, pagings[p], 1000);
            spec.page_bytes = budgets[i];
            read_all(&spec, &seen);
            expect_rows(&seen, 0, COMP_ROWS - 1, "page bytes");
        }
    table_desc_free(d);
}

/* Incremental: the cursor (ts, id) with NULL cursors left out of scans and
 * counted by scan_cursor_range. */
static void test_cursor_range_and_nulls(void **ctx)
{
    (void)ctx;
    struct table_desc *d = describe("conf_cursor");
    static const char *const cols[] = {"id", "ts"}, *const key[] = {"ts", "id"};
    struct scan_spec spec = {.paging = PAGING_KEYSET, .table = d, .columns = cols,
                             .ncolumns = 2, .key = key, .nkey = 2, .ncursor = 1,
                             .page_size = 6};
    struct keytuple min = {0}, max = {0}, lo = {0};
    uint64_t nulls = 99;
    if (scan_cursor_range(src, &spec, 1, &min, &max, &nulls) < 0)
        fail_msg("cursor_range: %s", source_error(src));
    char a[64], b[64];
    key_str(&min, a, sizeof a);
    key_str(&max, b, sizeof b);
    assert_string_equal(a, "0"); /* ts = id*7 % 23: 0 at id 23, 46, 69, 92 */
    assert_string_equal(b, "22");
    assert_int_equal(nulls, 10);
    /* Beyond (10): least 11. */
    assert_int_equal(key_init(&lo, 1), 0);
    key_set_int(&lo, 0, 10);
    spec.after = &lo;
    if (scan_cursor_range(src, &spec, 1, &min, &max, &nulls) < 0)
        fail_msg("cursor_range: %s", source_error(src));
    key_str(&min, a, sizeof a);
    assert_string_equal(a, "11");
    /* A scan over (ts, id) reads the 90 non-NULL rows in cursor order. */
    spec.after = NULL;
    read_all(&spec, &seen);
    assert_int_equal(seen.rc, 0);
    assert_int_equal(seen.n, 90);
    int last_ts = -1, last_id = 0;
    for (size_t i = 0; i < seen.n; i++) {
        int ts, id;
        assert_int_equal(sscanf(seen.keys[i], "%d|%d", &ts, &id), 2);
        assert_true(ts > last_ts || (ts == last_ts && id > last_id));
        assert_int_equal(ts, id * 7 % 23);
        last_ts = ts;
        last_id = id;
    }
    key_clear(&min);
    key_clear(&max);
    key_clear(&lo);
    table_desc_free(d);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s SOURCE-URL\n", argv[0]);
        return 2;
    }
    url = argv[1];
    char err[1024];
    if (source_connect(url, &src, err, sizeof err) < 0) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_strategy_and_page_size),
        cmocka_unit_test(test_prefix_and_inclusive_bounds),
        cmocka_unit_test(test_empty_tables_and_ranges),
        cmocka_unit_test(test_hidden_key_columns),
        cmocka_unit_test(test_where_forms),
        cmocka_unit_test(test_page_bytes),
        cmocka_unit_test(test_cursor_range_and_nulls),
    };
    int failed = cmocka_run_group_tests_name(source_find(url)->name, tests, NULL, NULL);
    source_close(src);
    return failed ? 1 : 0;
}
