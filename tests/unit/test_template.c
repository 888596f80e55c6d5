/* test_template.c - output templates: expansion, values that cannot leave
 * the directory, errors that name the fault, and the strict matcher that
 * retention relies on to never touch a file sluice did not write. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schedule/template.h"

#define T_2025_03_30_010203 ((time_t)1743296523) /* a Sunday, day 089, ISO week 13 */
#define T_2024_12_30_235959 ((time_t)1735603199) /* ISO week 01 of 2025 */
#define T_2028_02_29 ((time_t)1835395200)

static const struct template_vars ORDERS = {.stream = "orders", .table = "orders",
                                            .schema = "public"};

static void expect_expand(const char *tpl, const struct template_vars *v, time_t t,
                          const char *want)
{
    char *out = NULL, err[256] = "";
    if (template_expand(&out, tpl, v, t, err, sizeof err) != 0)
        fail_msg("expand(%s) failed: %s", tpl, err);
    if (strcmp(out, want) != 0)
        fail_msg("expand(%s) = [%s], want [%s]", tpl, out, want);
    free(out);
}

static void expect_bad(const char *tpl, const char *want)
{
    char err[256] = "";
    if (template_check(tpl, NULL, err, sizeof err) == 0)
        fail_msg("check(%s) accepted it", tpl);
    if (!strstr(err, want))
        fail_msg("check(%s): error [%s] lacks [%s]", tpl, err, want);
    /* expand and match refuse it the same way. */
    char *out = (char *)1, err2[256] = "";
    assert_int_equal(template_expand(&out, tpl, &ORDERS, 0, err2, sizeof err2), -1);
    assert_null(out);
    assert_string_equal(err, err2);
    assert_int_equal(template_match(tpl, &ORDERS, "x", NULL, err2, sizeof err2), -1);
    assert_string_equal(err, err2);
}

static int match(const char *tpl, const struct template_vars *v, const char *path,
                 time_t *when)
{
    char err[256] = "";
    int rc = template_match(tpl, v, path, when, err, sizeof err);
    if (rc < 0)
        fail_msg("match(%s) failed: %s", tpl, err);
    return rc;
}

static void test_expand_fields_and_time(void **ctx)
{
    (void)ctx;
    expect_expand("backups/{stream}/%Y%m%dT%H%M%SZ.ndjson.zst", &ORDERS, T_2025_03_30_010203,
                  "backups/orders/20250330T010203Z.ndjson.zst");
    struct template_vars v = {.stream = "nightly", .table = "line_items", .schema = "sales"};
    expect_expand("{schema}.{table}/{stream}-%F_%T.ndjson", &v, T_2025_03_30_010203,
                  "sales.line_items/nightly-2025-03-30_01:02:03.ndjson");
    expect_expand("%j %y %u %V %G %s", &v, T_2025_03_30_010203,
                  "089 25 7 13 2025 1743296523");
    expect_expand("%G-W%V-%u", &v, T_2024_12_30_235959, "2025-W01-1");
    expect_expand("%Y%m%d", &v, T_2028_02_29, "20280229");
    expect_expand("plain.ndjson", &v, 0, "plain.ndjson");
}

static void test_literal_braces_and_percent(void **ctx)
{
    (void)ctx;
    expect_expand("a{{b}}c%%d%%Y", &ORDERS, T_2025_03_30_010203, "a{b}c%d%Y");
    expect_expand("{{{stream}}}", &ORDERS, 0, "{orders}");
}

static void test_schema_empty(void **ctx)
{
    (void)ctx;
    struct template_vars v = {.stream = "s", .table = "events", .schema = NULL};
    expect_expand("out/{schema}{table}.ndjson", &v, 0, "out/events.ndjson");
    v.schema = "";
    expect_expand("out/{schema}{table}.ndjson", &v, 0, "out/events.ndjson");
}

static void test_values_cannot_escape(void **ctx)
{
    (void)ctx;
    struct template_vars v = {.stream = "..", .table = "../../etc/passwd", .schema = "."};
    expect_expand("b/{stream}/{schema}/{table}", &v, 0,
                  "b/%2E%2E/%2E/..%2F..%2Fetc%2Fpasswd");
    /* '%' is encoded too, so the encoding is one-to-one and a value never
     * reaches strftime. */
    v = (struct template_vars){.stream = "a%2Fb", .table = "100%Y", .schema = "x\ny\x7f"};
    expect_expand("{stream}_{table}_{schema}", &v, T_2025_03_30_010203,
                  "a%252Fb_100%25Y_x%0Ay%7F");
    /* Dots inside a name, spaces and UTF-8 are ordinary. */
    v = (struct template_vars){.stream = "a..b", .table = "t\xc3\xa4 ble", .schema = "..."};
    expect_expand("{stream}/{table}/{schema}", &v, 0, "a..b/t\xc3\xa4 ble/...");
}

static void test_empty_values_refused(void **ctx)
{
    (void)ctx;
    char *out = NULL, err[256];
    struct template_vars v = {.stream = "", .table = "t"};
    assert_int_equal(template_expand(&out, "{stream}.ndjson", &v, 0, err, sizeof err), -1);
    assert_string_equal(err, "{stream} is empty");
    v = (struct template_vars){.stream = "s", .table = ""};
    assert_int_equal(template_expand(&out, "{stream}/{table}", &v, 0, err, sizeof err), -1);
    assert_string_equal(err, "{table} is empty");
    /* Unused values may be absent. */
    v = (struct template_vars){.stream = "s"};
    expect_expand("{stream}.ndjson", &v, 0, "s.ndjson");
    assert_int_equal(template_expand(&out, "x", &v, -1, err, sizeof err), -1);
    assert_non_null(strstr(err, "outside 1970-9999"));
    assert_int_equal(template_expand(&out, "x", &v, (time_t)253402300800, err, sizeof err), -1);
}

static void test_errors(void **ctx)
{
    (void)ctx;
    expect_bad("backups/{strem}/%Y.ndjson", "unknown field {strem}, did you mean {stream}?");
    expect_bad("backups/{Table}.ndjson", "did you mean {table}?");
    expect_bad("backups/{date}.ndjson", "unknown field {date} (fields: {stream} {table} {schema})");
    expect_bad("backups/{}.ndjson", "unknown field {}");
    expect_bad("backups/{stream.ndjson", "'{' at character 9 is not closed");
    expect_bad("backups/{str{eam}.ndjson", "'{' at character 9 is not closed");
    expect_bad("backups/stream}.ndjson", "'}' at character 15 has no '{'");
    expect_bad("backups/%Y%", "'%' at the end");
    expect_bad("backups/%b.ndjson", "unsupported conversion %b at character 9");
    expect_bad("backups/%e.ndjson", "unsupported conversion %e");
    expect_bad("backups/%-d.ndjson", "unsupported conversion %-");
    expect_bad("", "is empty");
    expect_bad("backups/{stream}/", "ends with '/'");
}

static void test_check_uses(void **ctx)
{
    (void)ctx;
    unsigned uses = 99;
    assert_int_equal(template_check("b/{stream}/%Y.nd", &uses, NULL, 0), 0);
    assert_int_equal(uses, TEMPLATE_USES_STREAM | TEMPLATE_USES_TIME);
    assert_int_equal(template_check("{schema}{table}", &uses, NULL, 0), 0);
    assert_int_equal(uses, TEMPLATE_USES_SCHEMA | TEMPLATE_USES_TABLE);
    assert_int_equal(template_check("fixed.ndjson%%", &uses, NULL, 0), 0);
    assert_int_equal(uses, 0);
    assert_int_equal(template_check("%F", &uses, NULL, 0), 0);
    assert_int_equal(uses, TEMPLATE_USES_TIME);
}

static void expect_root(const char *tpl, const char *want_dir, int want_depth)
{
    char *dir = NULL, err[256] = "";
    int depth = -1;
    if (template_scan_root(&dir, &depth, tpl, &ORDERS, err, sizeof err) != 0)
        fail_msg("scan_root(%s) failed: %s", tpl, err);
    if (strcmp(dir, want_dir) != 0 || depth != want_depth)
        fail_msg("scan_root(%s) = %s, %d; want %s, %d", tpl, dir, depth, want_dir, want_depth);
    free(dir);
}

static void test_scan_root(void **ctx)
{
    (void)ctx;
    expect_root("backups/{stream}/%Y%m%dT%H%M%SZ.ndjson", "backups/orders", 0);
    expect_root("backups/{stream}/%Y/%m/%d.ndjson", "backups/orders", 2);
    expect_root("b/{stream}-%Y/x/y.nd", "b", 2);
    expect_root("%Y.ndjson", ".", 0);
    expect_root("{stream}-%Y.ndjson", ".", 0);
    expect_root("/var/b/{stream}-%Y.nd", "/var/b", 0);
    expect_root("/%Y.nd", "/", 0);
    expect_root("b/{stream}.ndjson", "b", 0);
    expect_root("a/{{x}}/%%/{table}/%s", "a/{x}/%/orders", 0);
}

static void test_match_own_outputs(void **ctx)
{
    (void)ctx;
    const char *tpls[] = {
        "backups/{stream}/%Y%m%dT%H%M%SZ.ndjson.zst",
        "b/{schema}.{table}/%F/%T.ndjson",
        "{stream}-%s.ndjson",
        "b/%Y/%j/{stream}-%H%M%S",
        "b/%y%m%d%H%M%S-%u-%V",
    };
    /* Every 7 hours 13 minutes 17 seconds over six years: months, leap days,
     * year ends and ISO weeks all come by. */
    for (size_t k = 0; k < sizeof tpls / sizeof *tpls; k++) {
        for (time_t t = 1700000000; t < 1900000000; t += 7 * 3600 + 13 * 60 + 17) {
            char *out = NULL;
            assert_int_equal(template_expand(&out, tpls[k], &ORDERS, t, NULL, 0), 0);
            time_t when = 0;
            if (match(tpls[k], &ORDERS, out, &when) != 1)
                fail_msg("match(%s, %s) = 0 for its own output", tpls[k], out);
            if (when != t)
                fail_msg("match(%s, %s): when %lld, want %lld", tpls[k], out,
                         (long long)when, (long long)t);
            free(out);
        }
    }
}

static void test_match_refuses_others(void **ctx)
{
    (void)ctx;
    const char *tpl = "backups/{stream}/%Y%m%dT%H%M%SZ.ndjson.zst";
    time_t when = 0;
    assert_int_equal(match(tpl, &ORDERS, "backups/orders/20250330T010203Z.ndjson.zst", &when), 1);
    assert_int_equal(when, T_2025_03_30_010203);
    const char *foreign[] = {
        "backups/orders/20250330T010203Z.ndjson.zst.partial",   /* unfinished */
        "backups/orders/20250330T010203Z.ndjson.zst.meta.json", /* the sidecar */
        "backups/orders/20250330T010203Z.ndjson",
        "backups/orders/notes.txt",
        "backups/orders/2025033T010203Z.ndjson.zst",           /* too few digits */
        "backups/orders/202503300T010203Z.ndjson.zst",         /* too many */
        "backups/orders/20251330T010203Z.ndjson.zst",          /* month 13 */
        "backups/orders/20250230T010203Z.ndjson.zst",          /* 30 February */
        "backups/orders/20250229T010203Z.ndjson.zst",          /* not a leap year */
        "backups/orders/20250330T240203Z.ndjson.zst",          /* hour 24 */
        "backups/orders/20250330T016003Z.ndjson.zst",          /* minute 60 */
        "backups/orders/19690330T010203Z.ndjson.zst",          /* before 1970 */
        "backups/orders/2025O330T010203Z.ndjson.zst",          /* a letter O */
        "backups/orders/+0250330T010203Z.ndjson.zst",
        "backups/customers/20250330T010203Z.ndjson.zst",       /* another stream */
        "backups/orders2/20250330T010203Z.ndjson.zst",
        "./backups/orders/20250330T010203Z.ndjson.zst",
        "backups/orders/x/20250330T010203Z.ndjson.zst",
        "",
    };
    for (size_t i = 0; i < sizeof foreign / sizeof *foreign; i++)
        if (match(tpl, &ORDERS, foreign[i], NULL) != 0)
            fail_msg("match(%s) accepted %s", tpl, foreign[i]);
    assert_int_equal(match(tpl, &ORDERS, "backups/orders/20280229T000000Z.ndjson.zst", NULL), 1);
}

static void test_match_encoded_values(void **ctx)
{
    (void)ctx;
    struct template_vars v = {.stream = "a/b", .table = "t"};
    const char *tpl = "b/{stream}-%Y%m%d.nd";
    assert_int_equal(match(tpl, &v, "b/a%2Fb-20250330.nd", NULL), 1);
    assert_int_equal(match(tpl, &v, "b/a/b-20250330.nd", NULL), 0);
    /* Another stream whose name is a prefix plus digits does not pass. */
    v.stream = "a";
    assert_int_equal(match("b/{stream}%Y%m%d.nd", &v, "b/a220250330.nd", NULL), 0);
    assert_int_equal(match("b/{stream}%Y%m%d.nd", &v, "b/a20250330.nd", NULL), 1);
}

static void test_match_partial_time(void **ctx)
{
    (void)ctx;
    time_t when = 0;
    /* A date without a time of day: the start of that day. */
    assert_int_equal(match("d/%Y-%m-%d.nd", &ORDERS, "d/2025-03-30.nd", &when), 1);
    assert_int_equal(when, T_2025_03_30_010203 - 3723);
    /* Fields that do not fix a date still match by shape; when is -1. */
    assert_int_equal(match("h/%H%M.nd", &ORDERS, "h/2359.nd", &when), 1);
    assert_int_equal(when, -1);
    assert_int_equal(match("h/%H%M.nd", &ORDERS, "h/2360.nd", &when), 0);
    assert_int_equal(match("m/%m-%d.nd", &ORDERS, "m/12-31.nd", &when), 1);
    assert_int_equal(when, -1);
    assert_int_equal(match("m/%m-%d.nd", &ORDERS, "m/13-01.nd", NULL), 0);
    assert_int_equal(match("m/%m-%d.nd", &ORDERS, "m/00-01.nd", NULL), 0);
    assert_int_equal(match("m/%m-%d.nd", &ORDERS, "m/01-32.nd", NULL), 0);
    assert_int_equal(match("m/%u%j%V.nd", &ORDERS, "m/736653.nd", NULL), 1);
    assert_int_equal(match("m/%u%j%V.nd", &ORDERS, "m/836653.nd", NULL), 0);
    assert_int_equal(match("m/%u%j%V.nd", &ORDERS, "m/736754.nd", NULL), 0);
    /* Repeated fields must agree. */
    assert_int_equal(match("%Y/%Y%m%d", &ORDERS, "2025/20250330", NULL), 1);
    assert_int_equal(match("%Y/%Y%m%d", &ORDERS, "2024/20250330", NULL), 0);
    /* %u must be that date's weekday (30 March 2025 was a Sunday, 7). */
    assert_int_equal(match("%F-%u", &ORDERS, "2025-03-30-7", NULL), 1);
    assert_int_equal(match("%F-%u", &ORDERS, "2025-03-30-1", NULL), 0);
    /* %s: digits without a leading zero. */
    assert_int_equal(match("x-%s", &ORDERS, "x-1743296523", &when), 1);
    assert_int_equal(when, T_2025_03_30_010203);
    assert_int_equal(match("x-%s", &ORDERS, "x-01743296523", NULL), 0);
    assert_int_equal(match("x-%s", &ORDERS, "x-", NULL), 0);
    assert_int_equal(match("x-%s", &ORDERS, "x-999999999999", NULL), 0); /* past 9999 */
    /* %s followed by digits: the split that re-expands equal wins. */
    assert_int_equal(match("%s%Y", &ORDERS, "17432965232025", &when), 1);
    assert_int_equal(when, T_2025_03_30_010203);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_expand_fields_and_time),
        cmocka_unit_test(test_literal_braces_and_percent),
        cmocka_unit_test(test_schema_empty),
        cmocka_unit_test(test_values_cannot_escape),
        cmocka_unit_test(test_empty_values_refused),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_check_uses),
        cmocka_unit_test(test_scan_root),
        cmocka_unit_test(test_match_own_outputs),
        cmocka_unit_test(test_match_refuses_others),
        cmocka_unit_test(test_match_encoded_values),
        cmocka_unit_test(test_match_partial_time),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
