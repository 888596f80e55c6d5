/* test_cursorval.c - incremental cursor values: durations, parsing and
 * writing back the same text, lookback/step arithmetic, alignment and
 * comparison across zones. Cases compare the text a database would get. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "job/cursorval.h"

/* ---- helpers ------------------------------------------------------------ */

static struct duration dur(const char *s)
{
    struct duration d;
    char err[256] = "";
    if (duration_parse(s, &d, err, sizeof err) != 0)
        fail_msg("duration_parse(%s) failed: %s", s, err);
    return d;
}

static void expect_dur(const char *s, int64_t months, int64_t days, int64_t usec)
{
    struct duration d = dur(s);
    if (d.is_count || d.months != months || d.days != days || d.usec != usec)
        fail_msg("duration_parse(%s) = {count %d, %lld months, %lld days, %lld us}, "
                 "want {%lld, %lld, %lld}", s, d.is_count, (long long)d.months,
                 (long long)d.days, (long long)d.usec, (long long)months,
                 (long long)days, (long long)usec);
}

static void expect_dur_bad(const char *s, const char *why)
{
    struct duration d;
    char err[256] = "";
    if (duration_parse(s, &d, err, sizeof err) == 0)
        fail_msg("duration_parse(%s) accepted", s);
    if (!strstr(err, why) || strchr(err, '\n'))
        fail_msg("duration_parse(%s) error [%s], want it to say [%s]", s, err, why);
}

static struct keytuple text_key(const char *s)
{
    struct keytuple t;
    assert_int_equal(key_init(&t, 1), 0);
    assert_int_equal(key_set_text(&t, 0, s, strlen(s)), 0);
    return t;
}

static struct cursor_value cv(const char *s)
{
    struct keytuple t = text_key(s);
    struct cursor_value c;
    char err[256] = "";
    if (cv_parse(&t.v[0], &c, err, sizeof err) != 0)
        fail_msg("cv_parse(%s) failed: %s", s, err);
    key_clear(&t);
    return c;
}

static void expect_text(const struct cursor_value *c, const char *want, const char *what)
{
    struct keytuple t;
    assert_int_equal(key_init(&t, 2), 0);
    assert_int_equal(cv_to_key(c, &t, 1), 0);
    if (t.v[1].kind != KEY_TEXT || strcmp(t.v[1].s, want) != 0 ||
        t.v[1].len != strlen(want))
        fail_msg("%s: wrote kind %d [%s], want text [%s]", what, t.v[1].kind,
                 t.v[1].kind == KEY_TEXT ? t.v[1].s : "", want);
    assert_int_equal(t.v[0].kind, KEY_NULL);
    key_clear(&t);
}

static void expect_roundtrip(const char *s, enum cv_type type)
{
    struct cursor_value c = cv(s);
    if (c.type != type)
        fail_msg("cv_parse(%s) type %d, want %d", s, c.type, type);
    char what[128];
    snprintf(what, sizeof what, "round trip of %s", s);
    expect_text(&c, s, what);
}

static void expect_parse_bad(const char *s, const char *why)
{
    struct keytuple t = text_key(s);
    struct cursor_value c;
    char err[256] = "";
    int r = cv_parse(&t.v[0], &c, err, sizeof err);
    key_clear(&t);
    if (r == 0)
        fail_msg("cv_parse(%s) accepted", s);
    if (!strstr(err, why) || strchr(err, '\n'))
        fail_msg("cv_parse(%s) error [%s], want it to say [%s]", s, err, why);
}

/* from (op) duration -> want */
static void expect_add(const char *from, const char *d, int sign, const char *want)
{
    struct cursor_value c = cv(from);
    struct duration du = dur(d);
    char err[256] = "", what[160];
    if (cv_add(&c, &du, sign, err, sizeof err) != 0)
        fail_msg("%s %c %s failed: %s", from, sign > 0 ? '+' : '-', d, err);
    snprintf(what, sizeof what, "%s %c %s", from, sign > 0 ? '+' : '-', d);
    expect_text(&c, want, what);
}

static void expect_add_bad(const char *from, const char *d, int sign, const char *why)
{
    struct cursor_value c = cv(from), before = c;
    struct duration du = dur(d);
    char err[256] = "";
    if (cv_add(&c, &du, sign, err, sizeof err) == 0)
        fail_msg("%s %c %s accepted", from, sign > 0 ? '+' : '-', d);
    if (!strstr(err, why))
        fail_msg("%s %c %s error [%s], want [%s]", from, sign > 0 ? '+' : '-', d,
                 err, why);
    assert_memory_equal(&c, &before, sizeof c);
}

static void expect_floor(const char *from, const char *g, const char *want)
{
    struct cursor_value c = cv(from);
    struct duration du = dur(g);
    char err[256] = "", what[160];
    if (cv_floor(&c, &du, err, sizeof err) != 0)
        fail_msg("floor(%s, %s) failed: %s", from, g, err);
    snprintf(what, sizeof what, "floor(%s, %s)", from, g);
    expect_text(&c, want, what);
}

static void expect_floor_bad(const char *from, const char *g, const char *why)
{
    struct cursor_value c = cv(from), before = c;
    struct duration du = dur(g);
    char err[256] = "";
    if (cv_floor(&c, &du, err, sizeof err) == 0)
        fail_msg("floor(%s, %s) accepted", from, g);
    if (!strstr(err, why))
        fail_msg("floor(%s, %s) error [%s], want [%s]", from, g, err, why);
    assert_memory_equal(&c, &before, sizeof c);
}

static int sgn(int x)
{
    return (x > 0) - (x < 0);
}

static void expect_cmp(const char *a, const char *b, int want)
{
    struct cursor_value x = cv(a), y = cv(b);
    if (sgn(cv_cmp(&x, &y)) != want || sgn(cv_cmp(&y, &x)) != -want)
        fail_msg("cmp(%s, %s) = %d, reverse %d, want %d", a, b, cv_cmp(&x, &y),
                 cv_cmp(&y, &x), want);
}

/* ---- durations ---------------------------------------------------------- */

#define SEC INT64_C(1000000)

static void test_duration_iso(void **ctx)
{
    (void)ctx;
    expect_dur("PT15M", 0, 0, 15 * 60 * SEC);
    expect_dur("P2D", 0, 2, 0);
    expect_dur("P1Y2M3DT4H5M6.5S", 14, 3, (4 * 3600 + 5 * 60 + 6) * SEC + SEC / 2);
    expect_dur("P1W", 0, 7, 0);
    expect_dur("P1M", 1, 0, 0);           /* M before T: months */
    expect_dur("PT1M", 0, 0, 60 * SEC);   /* M after T: minutes */
    expect_dur("PT0.000001S", 0, 0, 1);
    expect_dur("PT1.25S", 0, 0, SEC + SEC / 4);
    expect_dur("PT36H", 0, 0, 36 * 3600 * SEC); /* not normalised to days */
    expect_dur("P0D", 0, 0, 0);
    expect_dur("P9223372036854775807D", 0, INT64_MAX, 0);
}

static void test_duration_count(void **ctx)
{
    (void)ctx;
    struct duration d = dur("1000");
    assert_true(d.is_count);
    assert_int_equal(d.count, 1000);
    d = dur("9223372036854775807");
    assert_int_equal(d.count, INT64_MAX);
}

static void test_duration_bad(void **ctx)
{
    (void)ctx;
    const char *syntax = "neither an ISO 8601 duration";
    expect_dur_bad("", syntax);
    expect_dur_bad("P", syntax);
    expect_dur_bad("PT", syntax);
    expect_dur_bad("P1DT", syntax);
    expect_dur_bad("P-1D", syntax);
    expect_dur_bad("-P1D", syntax);
    expect_dur_bad("-1", syntax);
    expect_dur_bad("0", syntax);
    expect_dur_bad("+5", syntax);
    expect_dur_bad("15M", syntax);
    expect_dur_bad("p1d", syntax);
    expect_dur_bad("P1D2Y", syntax);   /* out of order */
    expect_dur_bad("PT1H1H", syntax);  /* repeated */
    expect_dur_bad("P1H", syntax);     /* hours need T */
    expect_dur_bad("P1.5D", syntax);   /* fraction only on seconds */
    expect_dur_bad("PT1.5M", syntax);
    expect_dur_bad("PT1.S", syntax);
    expect_dur_bad("PT1S ", syntax);
    expect_dur_bad("1000x", syntax);
    expect_dur_bad("PT1.1234567S", "more than 6 fraction digits");
    expect_dur_bad("P99999999999999999999D", "too large");
    expect_dur_bad("99999999999999999999", "too large");
    expect_dur_bad("P999999999999999999Y", "too large");   /* *12 overflows */
    expect_dur_bad("PT9999999999999H", "too large");       /* to usec */
}

/* ---- parse and write back ----------------------------------------------- */

static void test_roundtrip_shapes(void **ctx)
{
    (void)ctx;
    expect_roundtrip("2026-01-15T12:34:56", CV_TIMESTAMP);
    expect_roundtrip("2026-01-15 12:34:56", CV_TIMESTAMP);
    expect_roundtrip("2026-01-15 12:34:56.120", CV_TIMESTAMP);
    expect_roundtrip("2026-01-15T12:34:56.000", CV_TIMESTAMP);
    expect_roundtrip("2026-01-15T12:34:56.123456", CV_TIMESTAMP);
    expect_roundtrip("2026-01-15T12:34:56.5", CV_TIMESTAMP);
    expect_roundtrip("2026-01-15T12:34:56Z", CV_TIMESTAMP);
    expect_roundtrip("2026-01-15T12:34:56.789Z", CV_TIMESTAMP);
    expect_roundtrip("2026-01-15T12:34:56+05:30", CV_TIMESTAMP);
    expect_roundtrip("2026-01-15 12:34:56-0800", CV_TIMESTAMP);
    expect_roundtrip("2026-01-15 12:34:56.123456+02", CV_TIMESTAMP);  /* PostgreSQL */
    expect_roundtrip("2026-01-15 12:34:56-03:30", CV_TIMESTAMP);
    expect_roundtrip("2026-01-15 12:34:56-00:00", CV_TIMESTAMP);
    expect_roundtrip("2026-01-15 12:34:56+00", CV_TIMESTAMP);
    expect_roundtrip("1969-12-31 23:59:59.5", CV_TIMESTAMP);   /* before epoch */
    expect_roundtrip("0001-01-01 00:00:00", CV_TIMESTAMP);
    expect_roundtrip("9999-12-31 23:59:59.999999", CV_TIMESTAMP);
    expect_roundtrip("2026-01-15", CV_DATE);
    expect_roundtrip("2024-02-29", CV_DATE);
    expect_roundtrip("2000-02-29", CV_DATE);
    expect_roundtrip("0001-01-01", CV_DATE);
    expect_roundtrip("9999-12-31", CV_DATE);
    /* Integers that came as text (PostgreSQL numeric) stay text. */
    expect_roundtrip("123", CV_INT);
    expect_roundtrip("-42", CV_INT);
    expect_roundtrip("0", CV_INT);
    expect_roundtrip("-9223372036854775808", CV_INT);
    expect_roundtrip("9223372036854775807", CV_INT);
}

static void test_parse_values(void **ctx)
{
    (void)ctx;
    assert_int_equal(cv("1970-01-01").v, 0);
    assert_int_equal(cv("1970-01-02").v, 1);
    assert_int_equal(cv("1969-12-31").v, -1);
    assert_int_equal(cv("2000-03-01").v, 11017);
    assert_int_equal(cv("0001-01-01").v, -719162);
    assert_int_equal(cv("1970-01-01T00:00:01.5Z").v, 1500000);
    assert_int_equal(cv("1969-12-31 23:59:59.999999").v, -1);
    /* The wall clock, offset not applied. */
    assert_int_equal(cv("1970-01-01T01:00:00+05:30").v, 3600 * SEC);
    struct cursor_value c = cv("2026-01-15T12:34:56.12-0330");
    assert_int_equal(c.sep, 'T');
    assert_int_equal(c.frac, 2);
    assert_int_equal(c.zone, CV_ZONE_OFFSET);
    assert_int_equal(c.offset_min, -210);
    assert_int_equal(c.offset_form, CV_OFF_HHMM);
    assert_int_equal(cv("-17").v, -17);
}

static void test_int_key(void **ctx)
{
    (void)ctx;
    struct keytuple t;
    assert_int_equal(key_init(&t, 1), 0);
    key_set_int(&t, 0, -5);
    struct cursor_value c;
    char err[128];
    assert_int_equal(cv_parse(&t.v[0], &c, err, sizeof err), 0);
    assert_int_equal(c.type, CV_INT);
    assert_int_equal(c.v, -5);
    struct duration d = dur("10");
    assert_int_equal(cv_add(&c, &d, -1, err, sizeof err), 0);
    assert_int_equal(cv_to_key(&c, &t, 0), 0);
    assert_int_equal(t.v[0].kind, KEY_INT);
    assert_int_equal(t.v[0].i, -15);
    key_clear(&t);
}

static void test_parse_refused(void **ctx)
{
    (void)ctx;
    const char *shape = "is not an integer, date or timestamp";
    expect_parse_bad("infinity", "'infinity' is not an integer, date or timestamp");
    expect_parse_bad("-infinity", shape);
    expect_parse_bad("12.5", shape);
    expect_parse_bad("1e5", shape);
    expect_parse_bad("", shape);
    expect_parse_bad(" 42", shape);
    expect_parse_bad("42 ", shape);
    expect_parse_bad("-", shape);
    expect_parse_bad("hello", shape);
    expect_parse_bad("2026-1-5", shape);
    expect_parse_bad("2026-01-15T12:00", shape);
    expect_parse_bad("2026-01-15X12:00:00", shape);
    expect_parse_bad("2026-01-15T12:00:00.", shape);
    expect_parse_bad("2026-01-15T12:00:00+5", shape);
    expect_parse_bad("2026-01-15T12:00:00+05:3", shape);
    expect_parse_bad("2026-01-15T12:00:00z", shape);
    expect_parse_bad("2026-01-15T12:00:00Z ", shape);
    expect_parse_bad("2026-01-15Z", shape);
    expect_parse_bad("2026-01-15 BC", shape);
    expect_parse_bad("2026-01-15T12:00:00.1234567", "more than 6 fraction digits");
    const char *invalid = "is not a valid date or time";
    expect_parse_bad("2026-02-29", "'2026-02-29' is not a valid date");
    expect_parse_bad("2026-02-30", invalid);
    expect_parse_bad("1900-02-29", invalid);
    expect_parse_bad("2026-04-31", invalid);
    expect_parse_bad("2026-13-01", invalid);
    expect_parse_bad("2026-00-10", invalid);
    expect_parse_bad("0000-01-01", invalid);
    expect_parse_bad("0000-00-00 00:00:00", invalid);  /* MySQL zero date */
    expect_parse_bad("2026-01-15T24:00:00", invalid);
    expect_parse_bad("2026-01-15T12:60:00", invalid);
    expect_parse_bad("2026-01-15T12:00:60", invalid);
    expect_parse_bad("2026-01-15T12:00:00+16:00", invalid);
    expect_parse_bad("9223372036854775808", "64-bit integer range");
    expect_parse_bad("-9223372036854775809", "64-bit integer range");
    /* A long value is cut in the message; control bytes do not break the line. */
    expect_parse_bad("abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJ",
                     "'abcdefghijklmnopqrstuvwxyz0123456789ABCD...'");
    expect_parse_bad("bad\nvalue", "'bad?value'");

    struct keyval k = {.kind = KEY_NULL};
    struct cursor_value c;
    char err[128];
    assert_int_equal(cv_parse(&k, &c, err, sizeof err), -1);
    assert_non_null(strstr(err, "NULL"));
    k.kind = KEY_REAL;
    k.r = 12.5;
    assert_int_equal(cv_parse(&k, &c, err, sizeof err), -1);
    k.kind = KEY_BLOB;
    k.s = "2026-01-01";
    k.len = 10;
    assert_int_equal(cv_parse(&k, &c, err, sizeof err), -1);
    /* An embedded NUL is part of the value, not its end. */
    k.kind = KEY_TEXT;
    k.s = "2026-01-01\0 junk";
    k.len = 16;
    assert_int_equal(cv_parse(&k, &c, err, sizeof err), -1);
}

/* ---- arithmetic --------------------------------------------------------- */

static void test_lookback_boundaries(void **ctx)
{
    (void)ctx;
    expect_add("2026-01-01T00:10:00", "PT15M", -1, "2025-12-31T23:55:00");
    expect_add("2026-03-01 00:00:00", "PT1H", -1, "2026-02-28 23:00:00");
    expect_add("2024-03-01 00:30:00Z", "PT1H", -1, "2024-02-29 23:30:00Z");
    expect_add("2024-03-01", "P1D", -1, "2024-02-29");
    expect_add("2026-03-01", "P1D", -1, "2026-02-28");
    expect_add("2026-01-01", "P1D", -1, "2025-12-31");
    expect_add("2026-01-01", "PT48H", -1, "2025-12-30");     /* whole days */
    expect_add("2026-01-01", "P1W", -1, "2025-12-25");
    expect_add("2026-01-01T00:00:00+05:30", "PT1S", -1, "2025-12-31T23:59:59+05:30");
    expect_add("2025-12-31T23:59:59.999999Z", "PT0.000001S", 1, "2026-01-01T00:00:00.000000Z");
    expect_add("1970-01-01 00:00:00", "PT1S", -1, "1969-12-31 23:59:59");
    expect_add("2026-01-15 12:00:00", "P1Y2M3DT4H5M6.5S", -1, "2024-11-12 07:54:53.5");
    expect_add("2026-01-15 12:00:00", "P1Y2M3DT4H5M6.5S", 1, "2027-03-18 16:05:06.5");
    /* Integers: a count. */
    expect_add("1000", "100", -1, "900");
    expect_add("50", "100", -1, "-50");
}

static void test_month_clamp(void **ctx)
{
    (void)ctx;
    expect_add("2026-03-31", "P1M", -1, "2026-02-28");
    expect_add("2024-03-31", "P1M", -1, "2024-02-29");
    expect_add("2026-01-31T10:00:00", "P1M", 1, "2026-02-28T10:00:00");
    expect_add("2026-05-31", "P1M", -1, "2026-04-30");
    expect_add("2024-02-29", "P1Y", 1, "2025-02-28");
    expect_add("2024-02-29", "P4Y", 1, "2028-02-29");
    expect_add("2026-01-15", "P13M", -1, "2024-12-15");
    /* Months first, then days: Mar 31 -> Feb 28 -> Feb 27. */
    expect_add("2026-03-31", "P1M1D", -1, "2026-02-27");
}

static void test_fraction_widening(void **ctx)
{
    (void)ctx;
    /* Widened only as far as needed, never narrowed below what was read. */
    expect_add("2026-01-01T12:00:00.5", "PT0.25S", -1, "2026-01-01T12:00:00.25");
    expect_add("2026-01-01T12:00:00", "PT0.000001S", -1, "2026-01-01T11:59:59.999999");
    expect_add("2026-01-01T12:00:00", "PT0.5S", 1, "2026-01-01T12:00:00.5");
    expect_add("2026-01-01T12:00:00.500", "PT0.5S", -1, "2026-01-01T12:00:00.000");
    expect_add("2026-01-01T12:00:00.5", "PT0.5S", -1, "2026-01-01T12:00:00.0");
    expect_add("2026-01-01T12:00:00.123456", "PT0.000004S", 1, "2026-01-01T12:00:00.123460");
    expect_add("2026-01-01 12:00:00.1+02", "PT0.02S", 1, "2026-01-01 12:00:00.12+02");
}

static void test_add_refused(void **ctx)
{
    (void)ctx;
    expect_add_bad("2026-01-01", "PT1H", -1, "whole days");
    expect_add_bad("2026-01-01", "100", -1, "not by a count");
    expect_add_bad("2026-01-01T00:00:00", "100", -1, "not by a count");
    expect_add_bad("100", "PT1H", -1, "not by an ISO 8601 duration");
    expect_add_bad("0001-01-01", "P1D", -1, "0001-9999");
    expect_add_bad("0001-01-01 00:00:00", "PT0.000001S", -1, "0001-9999");
    expect_add_bad("9999-12-31T23:00:00", "PT1H", 1, "0001-9999");
    expect_add_bad("9999-12-15", "P1M", 1, "0001-9999");
    expect_add_bad("2026-01-01", "P9223372036854775807D", 1, "0001-9999");
    expect_add_bad("2026-01-01T00:00:00", "P9223372036854775807D", -1, "0001-9999");
    expect_add_bad("2026-01-01T00:00:00", "P768614336404564650Y", -1, "0001-9999");
    expect_add_bad("-9223372036854775808", "1", -1, "overflows");
    expect_add_bad("9223372036854775807", "1", 1, "overflows");
    /* The edges themselves are fine. */
    expect_add("0001-01-02", "P1D", -1, "0001-01-01");
    expect_add("9999-12-31T22:59:59.999999", "PT1H", 1, "9999-12-31T23:59:59.999999");
}

static void test_floor(void **ctx)
{
    (void)ctx;
    expect_floor("2026-01-15T12:34:56.789Z", "PT1H", "2026-01-15T12:00:00.000Z");
    expect_floor("2026-01-15T12:34:56.789Z", "PT15M", "2026-01-15T12:30:00.000Z");
    expect_floor("2026-01-15 12:34:56+05:30", "P1D", "2026-01-15 00:00:00+05:30");
    expect_floor("2026-01-15 12:00:00", "PT1H", "2026-01-15 12:00:00");
    expect_floor("1969-12-31T23:30:00", "PT1H", "1969-12-31T23:00:00");  /* toward -inf */
    expect_floor("1969-12-31T23:59:59.5", "PT1S", "1969-12-31T23:59:59.0");
    expect_floor("2026-01-15", "P1D", "2026-01-15");
    expect_floor("2026-01-20", "P1W", "2026-01-15");    /* 1970-01-01 was a Thursday */
    expect_floor("1969-12-31", "P7D", "1969-12-25");
    expect_floor("2026-01-20", "PT48H", "2026-01-19");
    expect_floor("1234", "100", "1200");
    expect_floor("1200", "100", "1200");
    expect_floor("-1", "100", "-100");
    expect_floor("-100", "100", "-100");
    expect_floor("-101", "100", "-200");
    expect_floor("-9223372036854775000", "1000", "-9223372036854775000");
    expect_floor("-9223372036854774999", "1000", "-9223372036854775000");

    expect_floor_bad("2026-01-15T12:00:00", "P1M", "months");
    expect_floor_bad("2026-01-15T12:00:00", "P1Y", "months");
    expect_floor_bad("2026-01-15T12:00:00", "PT0S", "zero");
    expect_floor_bad("2026-01-15", "PT1H", "whole days");
    expect_floor_bad("2026-01-15T12:00:00", "100", "not to a count");
    expect_floor_bad("100", "PT1H", "not to an ISO 8601 duration");
    expect_floor_bad("-9223372036854775808", "9223372036854775807", "overflows");
    expect_floor_bad("-9223372036854775001", "1000", "overflows");
    expect_floor_bad("0001-01-01T00:00:00", "P7D", "0001-9999");
}

static void test_cmp(void **ctx)
{
    (void)ctx;
    expect_cmp("2026-01-01T01:00:00+01:00", "2026-01-01T00:00:00Z", 0);
    expect_cmp("2026-01-01T01:00:00+0100", "2026-01-01 00:00:00", 0);
    expect_cmp("2025-12-31T16:00:00-08", "2026-01-01T00:00:00Z", 0);
    expect_cmp("2026-01-01T00:00:00-0800", "2026-01-01T07:59:59Z", 1);
    expect_cmp("2026-01-01T05:29:59+05:30", "2026-01-01T00:00:00Z", -1);
    expect_cmp("2026-01-01T12:00:00.5", "2026-01-01T12:00:00.500000", 0);
    expect_cmp("2026-01-01T12:00:00.5", "2026-01-01T12:00:00.499999", 1);
    /* A date is its midnight. */
    expect_cmp("2026-01-01", "2026-01-01 00:00:00", 0);
    expect_cmp("2026-01-01", "2026-01-01T00:00:00.000001", -1);
    expect_cmp("2026-01-01", "2025-12-31T23:59:59.999999", 1);
    expect_cmp("2026-01-01", "2025-12-31", 1);
    expect_cmp("2026-01-01", "2026-01-01T01:00:00+01:00", 0);
    /* Integers among themselves; before any time value. */
    expect_cmp("-5", "3", -1);
    expect_cmp("7", "7", 0);
    expect_cmp("9223372036854775807", "-9223372036854775808", 1);
    expect_cmp("99999999", "0001-01-01", -1);
    expect_cmp("0", "1970-01-01T00:00:00Z", -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_duration_iso),
        cmocka_unit_test(test_duration_count),
        cmocka_unit_test(test_duration_bad),
        cmocka_unit_test(test_roundtrip_shapes),
        cmocka_unit_test(test_parse_values),
        cmocka_unit_test(test_int_key),
        cmocka_unit_test(test_parse_refused),
        cmocka_unit_test(test_lookback_boundaries),
        cmocka_unit_test(test_month_clamp),
        cmocka_unit_test(test_fraction_widening),
        cmocka_unit_test(test_add_refused),
        cmocka_unit_test(test_floor),
        cmocka_unit_test(test_cmp),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
