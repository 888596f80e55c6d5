/* test_json.c - the JSON encoder: strings, UTF-8 repair, base64, integers,
 * shortest doubles, decimal text, cells and rows. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "source/cell.h"
#include "encode/dtoa.h"
#include "encode/json.h"

#define FFFD "\xef\xbf\xbd"

/* The buffer's contents as a C string (the buffer stays usable). */
static const char *text(struct buf *b)
{
    const char *s = buf_cstr(b);
    assert_non_null(s);
    return s;
}

/* json_quoted of s[0..n) must be exactly want; returns the stats. */
static uint64_t check_string_n(const char *s, size_t n, const char *want)
{
    struct buf b;
    struct json_stats st = {0};
    buf_init(&b, 1 << 20);
    assert_int_equal(json_quoted(&b, s, n, &st), 0);
    assert_int_equal(b.len, strlen(want));
    assert_string_equal(text(&b), want);
    buf_free(&b);
    return st.invalid_utf8;
}

static uint64_t check_string(const char *s, const char *want)
{
    return check_string_n(s, strlen(s), want);
}

static void test_string_plain(void **state)
{
    (void)state;
    check_string("", "\"\"");
    check_string("hello, world/~", "\"hello, world/~\"");
    check_string("\x7f", "\"\x7f\""); /* DEL needs no escape */
}

static void test_string_quote_backslash(void **state)
{
    (void)state;
    check_string("a\"b\\c", "\"a\\\"b\\\\c\"");
    check_string("\"\\\"", "\"\\\"\\\\\\\"\"");
}

static void test_string_every_control_char(void **state)
{
    (void)state;
    static const char *const named[32] = {
        ['\b'] = "\\b", ['\f'] = "\\f", ['\n'] = "\\n", ['\r'] = "\\r", ['\t'] = "\\t",
    };
    for (int c = 0; c < 0x20; c++) {
        char in[3] = {'x', (char)c, 'y'};
        char want[16];
        if (named[c])
            snprintf(want, sizeof want, "\"x%sy\"", named[c]);
        else
            snprintf(want, sizeof want, "\"x\\u%04xy\"", c);
        assert_int_equal(check_string_n(in, 3, want), 0);
    }
}

static void test_string_line_separators(void **state)
{
    (void)state;
    check_string("a\xe2\x80\xa8" "b\xe2\x80\xa9", "\"a\\u2028b\\u2029\"");
    /* U+2027 and U+202A are ordinary characters. */
    check_string("\xe2\x80\xa7\xe2\x80\xaa", "\"\xe2\x80\xa7\xe2\x80\xaa\"");
}

static void test_utf8_valid_untouched(void **state)
{
    (void)state;
    const char *s = "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xf4\x8f\xbf\xbf \xed\x9f\xbf";
    char want[64];
    snprintf(want, sizeof want, "\"%s\"", s);
    assert_int_equal(check_string(s, want), 0);
}

static void test_utf8_lone_continuation(void **state)
{
    (void)state;
    assert_int_equal(check_string("a\x80" "b", "\"a" FFFD "b\""), 1);
    assert_int_equal(check_string("\xbf\xbf", "\"" FFFD FFFD "\""), 1);
}

static void test_utf8_truncated(void **state)
{
    (void)state;
    /* A cut-short sequence is one maximal subpart: one U+FFFD. */
    assert_int_equal(check_string("x\xc3", "\"x" FFFD "\""), 1);
    assert_int_equal(check_string("x\xe2\x82", "\"x" FFFD "\""), 1);
    assert_int_equal(check_string("x\xf0\x9f\x98", "\"x" FFFD "\""), 1);
    /* Interrupted by an ASCII byte, which survives. */
    assert_int_equal(check_string("\xe2\x82" "A\xf0\x9f" "\"", "\"" FFFD "A" FFFD "\\\"\""), 1);
}

static void test_utf8_overlong(void **state)
{
    (void)state;
    assert_int_equal(check_string("\xc0\xaf", "\"" FFFD FFFD "\""), 1);
    assert_int_equal(check_string("\xc1\xbf", "\"" FFFD FFFD "\""), 1);
    assert_int_equal(check_string("\xe0\x80\xaf", "\"" FFFD FFFD FFFD "\""), 1);
    assert_int_equal(check_string("\xf0\x8f\xbf\xbf", "\"" FFFD FFFD FFFD FFFD "\""), 1);
}

static void test_utf8_surrogate(void **state)
{
    (void)state;
    assert_int_equal(check_string("\xed\xa0\x80", "\"" FFFD FFFD FFFD "\""), 1);
    assert_int_equal(check_string("\xed\xbf\xbf", "\"" FFFD FFFD FFFD "\""), 1);
}

static void test_utf8_above_max(void **state)
{
    (void)state;
    /* F4 90.. is above U+10FFFF; F5..FF never start a sequence. */
    assert_int_equal(check_string("\xf4\x90\x80\x80", "\"" FFFD FFFD FFFD FFFD "\""), 1);
    assert_int_equal(check_string("\xf5\x80\x80\x80", "\"" FFFD FFFD FFFD FFFD "\""), 1);
    assert_int_equal(check_string("a\xfe\xff" "b", "\"a" FFFD FFFD "b\""), 1);
}

static void test_utf8_counter(void **state)
{
    (void)state;
    struct buf b;
    struct json_stats st = {0};
    buf_init(&b, 1 << 20);
    /* Three bad sequences in one string count once; clean strings not at all. */
    assert_int_equal(json_quoted(&b, "\x80x\xc0y\xff", 5, &st), 0);
    assert_int_equal(st.invalid_utf8, 1);
    assert_int_equal(json_quoted(&b, "ok \xc3\xa9", 5, &st), 0);
    assert_int_equal(st.invalid_utf8, 1);
    assert_int_equal(json_quoted(&b, "\xed\xa0\x80", 3, &st), 0);
    assert_int_equal(st.invalid_utf8, 2);
    /* NULL stats are allowed. */
    assert_int_equal(json_quoted(&b, "\x80", 1, NULL), 0);
    assert_string_equal(text(&b), "\"" FFFD "x" FFFD "y" FFFD "\"\"ok \xc3\xa9\""
                                  "\"" FFFD FFFD FFFD "\"\"" FFFD "\"");
    buf_free(&b);
}

static void test_string_long_mixed(void **state)
{
    (void)state;
    /* 200 KB with escapes spread through it: the buffer grows past the
     * initial reservation and every byte lands in order. */
    size_t n = 200000;
    char *s = malloc(n);
    assert_non_null(s);
    for (size_t i = 0; i < n; i++)
        s[i] = i % 1000 == 999 ? '\n' : (char)('a' + i % 26);
    struct buf b;
    buf_init(&b, 1 << 24);
    assert_int_equal(json_quoted(&b, s, n, NULL), 0);
    assert_int_equal(b.len, n + 2 + n / 1000);
    size_t j = 1;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\n') {
            assert_memory_equal(b.data + j, "\\n", 2);
            j += 2;
        } else {
            assert_int_equal(b.data[j], s[i]);
            j++;
        }
    }
    assert_int_equal(b.data[j], '"');
    buf_free(&b);
    free(s);
}

static void test_string_special_at_every_position(void **state)
{
    (void)state;
    /* The encoder skips plain ASCII 8 bytes at a time: a byte that needs
     * attention must be found wherever it sits in a word, and the bytes
     * around it copied exactly. */
    static const struct {
        const char *in, *out;
    } special[] = {
        {"\"", "\\\""}, {"\\", "\\\\"}, {"\n", "\\n"}, {"\x01", "\\u0001"},
        {"\x1f", "\\u001f"}, {"\xc3\xa9", "\xc3\xa9"}, {"\x80", FFFD},
        {"\xe2\x80\xa8", "\\u2028"}, {"\x7f", "\x7f"}, {" ", " "}, {"!", "!"},
        {"#", "#"}, {"[", "["}, {"]", "]"},
    };
    for (size_t k = 0; k < sizeof special / sizeof special[0]; k++) {
        for (size_t at = 0; at < 40; at++) {
            char in[64], want[80];
            size_t len = at + strlen(special[k].in) + 9;
            memset(in, 'a', len);
            memcpy(in + at, special[k].in, strlen(special[k].in));
            in[len] = '\0';
            snprintf(want, sizeof want, "\"%.*s%s%s\"", (int)at, in, special[k].out,
                     in + at + strlen(special[k].in));
            check_string_n(in, len, want);
        }
    }
}

static void test_string_cap_reached(void **state)
{
    (void)state;
    struct buf b;
    char plain[200];
    memset(plain, 'a', sizeof plain);
    buf_init(&b, 300);
    assert_int_equal(json_quoted(&b, plain, sizeof plain, NULL), 0);
    assert_int_equal(json_quoted(&b, plain, sizeof plain, NULL), -1);
    assert_true(b.oom);
    buf_free(&b);
    /* Fits before escaping (102 bytes), not after (602). */
    char ctl[100];
    memset(ctl, 1, sizeof ctl);
    buf_init(&b, 300);
    assert_int_equal(json_quoted(&b, ctl, sizeof ctl, NULL), -1);
    assert_true(b.oom);
    buf_free(&b);
}

static void check_base64(const void *p, size_t n, const char *want)
{
    struct buf b;
    buf_init(&b, 1 << 20);
    assert_int_equal(json_base64(&b, p, n), 0);
    assert_string_equal(text(&b), want);
    buf_free(&b);
}

static void test_base64_rfc4648(void **state)
{
    (void)state;
    check_base64("", 0, "\"\"");
    check_base64("f", 1, "\"Zg==\"");
    check_base64("fo", 2, "\"Zm8=\"");
    check_base64("foo", 3, "\"Zm9v\"");
    check_base64("foob", 4, "\"Zm9vYg==\"");
    check_base64("fooba", 5, "\"Zm9vYmE=\"");
    check_base64("foobar", 6, "\"Zm9vYmFy\"");
}

static void test_base64_binary(void **state)
{
    (void)state;
    check_base64("\x00\xff\xfe\x80", 4, "\"AP/+gA==\"");
    check_base64("\xfb\xff", 2, "\"+/8=\"");
    check_base64("\x00\x00\x00", 3, "\"AAAA\"");
}

static void check_int(int64_t v, const char *want)
{
    struct buf b;
    buf_init(&b, 1 << 20);
    assert_int_equal(json_int(&b, v), 0);
    assert_string_equal(text(&b), want);
    buf_free(&b);
}

static void test_integers(void **state)
{
    (void)state;
    check_int(0, "0");
    check_int(-1, "-1");
    check_int(INT64_MAX, "9223372036854775807");
    check_int(INT64_MIN, "-9223372036854775808");
    struct buf b;
    buf_init(&b, 1 << 20);
    assert_int_equal(json_uint(&b, UINT64_MAX), 0);
    assert_int_equal(json_uint(&b, 0), 0);
    assert_string_equal(text(&b), "184467440737095516150");
    buf_free(&b);
}

static void check_double(double d, const char *want)
{
    struct buf b;
    buf_init(&b, 1 << 20);
    assert_int_equal(json_double(&b, d), 0);
    assert_string_equal(text(&b), want);
    buf_free(&b);
}

static void test_double_known(void **state)
{
    (void)state;
    check_double(0.1, "0.1");
    check_double(1.0 / 3.0, "0.3333333333333333");
    check_double(5e-324, "5e-324");
    check_double(1e-323, "1e-323");
    check_double(1.7976931348623157e308, "1.7976931348623157e+308");
    check_double(2.2250738585072014e-308, "2.2250738585072014e-308");
    check_double(9007199254740994.0, "9007199254740994.0"); /* 2^53 + 2 */
    check_double(123456789012345680000.0, "123456789012345680000.0");
    check_double(-0.0, "-0.0");
    check_double(0.0, "0.0");
    check_double(100.0, "100.0");
    check_double(-1.5, "-1.5");
    check_double(1e20, "100000000000000000000.0");
    check_double(1e21, "1e+21");
    check_double(1e23, "1e+23");
    check_double(1e-6, "0.000001");
    check_double(1e-7, "1e-7");
    check_double(1.5e-7, "1.5e-7");
    check_double(1e300, "1e+300");
    check_double(0.3, "0.3");
    check_double(0.1 + 0.2, "0.30000000000000004");
}

static void test_double_special(void **state)
{
    (void)state;
    check_double(NAN, "\"NaN\"");
    check_double(INFINITY, "\"Infinity\"");
    check_double(-INFINITY, "\"-Infinity\"");
}

/* JSON number grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static int is_json_number(const char *s)
{
    if (*s == '-')
        s++;
    if (*s == '0')
        s++;
    else if (*s >= '1' && *s <= '9')
        while (*s >= '0' && *s <= '9')
            s++;
    else
        return 0;
    if (*s == '.') {
        s++;
        if (!(*s >= '0' && *s <= '9'))
            return 0;
        while (*s >= '0' && *s <= '9')
            s++;
    }
    if (*s == 'e' || *s == 'E') {
        s++;
        if (*s == '+' || *s == '-')
            s++;
        if (!(*s >= '0' && *s <= '9'))
            return 0;
        while (*s >= '0' && *s <= '9')
            s++;
    }
    return *s == '\0';
}

/* Significant digits of a decimal text: leading and trailing zeros of the
 * mantissa do not count ("100.0" and "1e+2" have 1, "0.0015" has 2). */
static int sig_digits(const char *s)
{
    const char *first = NULL, *last = NULL;
    for (; *s && *s != 'e' && *s != 'E'; s++) {
        if (*s >= '1' && *s <= '9') {
            if (!first)
                first = s;
            last = s;
        }
    }
    if (!first)
        return 1;
    int n = 0;
    for (const char *p = first; p <= last; p++)
        n += *p >= '0' && *p <= '9';
    return n;
}

/* The significant digits of a decimal text, without zeros at either end. */
static void sig_string(const char *s, char *out)
{
    char *o = out;
    for (; *s && *s != 'e' && *s != 'E'; s++) {
        if ((*s >= '1' && *s <= '9') || (*s == '0' && o > out))
            *o++ = *s;
    }
    while (o > out && o[-1] == '0')
        o--;
    *o = '\0';
}

static int round_trips(double x, const char *s)
{
    double y = strtod(s, NULL);
    return memcmp(&x, &y, sizeof x) == 0;
}

/* True when printf's %.{prec}g text of x reads back as x. */
static int g_round_trips(double x, int prec)
{
    char t[320]; /* %g of 17 digits needs 25; the compiler assumes more */
    snprintf(t, sizeof t, "%.*g", prec, x);
    return round_trips(x, t);
}

static uint64_t rng_state = 0x9e3779b97f4a7c15u;
static uint64_t rng_next(void)
{
    /* xorshift64* with a fixed seed: the same patterns on every run. */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545f4914f6cdd1du;
}

/* Checks one finite double: valid JSON, a float to readers, exact round
 * trip, and no more digits than the shortest of %.15g/%.16g/%.17g that
 * round-trips. `deep` also checks that no %.{1..k-1}g text round-trips. */
static void check_shortest(double x, int deep)
{
    char s[33];
    size_t n = dtoa_shortest(x, s);
    assert_true(n > 0 && n <= 25);
    s[n] = '\0';
    if (!is_json_number(s) || !strpbrk(s, ".e") || !round_trips(x, s))
        fail_msg("dtoa %a -> \"%s\"", x, s);
    int k = sig_digits(s);
    assert_true(k >= 1 && k <= 17);
    /* k <= 15 is no longer than %.15g; otherwise the shorter ones must fail. */
    for (int prec = deep ? 1 : 15; prec < k; prec++) {
        if (g_round_trips(x, prec))
            fail_msg("dtoa %a -> \"%s\" (%d digits) but %%.%dg round-trips", x, s, k, prec);
    }
    if (deep) {
        /* Of the k-digit texts, the nearest to x: printf's correctly
         * rounded one whenever that one round-trips. */
        char g[320], dg[40], ds[40];
        snprintf(g, sizeof g, "%.*e", k - 1, x);
        if (round_trips(x, g)) {
            sig_string(g, dg);
            sig_string(s, ds);
            if (strcmp(dg, ds) != 0)
                fail_msg("dtoa %a -> \"%s\" but the nearest is %s", x, s, g);
        }
    }
}

static void test_double_random_round_trip(void **state)
{
    (void)state;
    int checked = 0;
    for (int i = 0; i < 1000000; i++) {
        uint64_t bits = rng_next();
        double x;
        memcpy(&x, &bits, sizeof x);
        if (!isfinite(x))
            continue;
        check_shortest(x, i % 1024 == 0);
        checked++;
    }
    assert_true(checked > 990000);
}

static void test_double_edges(void **state)
{
    (void)state;
    /* Every power of two (asymmetric intervals), its neighbours, subnormals
     * and integers around 2^53. */
    for (int e = -1074; e <= 1023; e++) {
        double p = ldexp(1.0, e);
        check_shortest(p, 1);
        check_shortest(-p, 0);
        check_shortest(nextafter(p, 0), 0);
        check_shortest(nextafter(p, INFINITY), 0);
    }
    for (uint64_t m = 1; m < 5000; m++) {
        double x;
        memcpy(&x, &m, sizeof x);
        check_shortest(x, 0);
    }
    for (int64_t v = -3000; v <= 3000; v++) {
        check_shortest((double)v, 1);
        check_shortest(9007199254740992.0 + (double)(v * 2), 0);
    }
    for (int v = 1; v < 10000; v++)
        check_shortest(v / 1000.0, 1);
}

static void check_number_text(const char *s, const char *want)
{
    struct buf b;
    buf_init(&b, 1 << 20);
    assert_int_equal(json_number_text(&b, s, strlen(s)), 0);
    assert_string_equal(text(&b), want);
    buf_free(&b);
}

static void test_number_text_valid(void **state)
{
    (void)state;
    check_number_text("0", "0");
    check_number_text("-12.50", "-12.50");
    check_number_text("123456789012345678901234567890.000000001",
                      "123456789012345678901234567890.000000001");
    check_number_text("1E+10", "1E+10");
    check_number_text("-0.0e-5", "-0.0e-5");
}

static void test_number_text_normalised(void **state)
{
    (void)state;
    check_number_text(".5", "0.5");
    check_number_text("-.5", "-0.5");
    check_number_text("5.", "5");
    check_number_text("5.e3", "5e3");
}

static void test_number_text_special(void **state)
{
    (void)state;
    check_number_text("NaN", "\"NaN\"");
    check_number_text("nan", "\"NaN\"");
    check_number_text("Infinity", "\"Infinity\"");
    check_number_text("-Infinity", "\"-Infinity\"");
    check_number_text("inf", "\"Infinity\"");
    check_number_text("-INF", "\"-Infinity\"");
    check_number_text("+inf", "\"Infinity\"");
}

static void test_number_text_invalid_as_string(void **state)
{
    (void)state;
    check_number_text("+5", "\"+5\"");
    check_number_text("007", "\"007\"");
    check_number_text("1e", "\"1e\"");
    check_number_text("-", "\"-\"");
    check_number_text(".", "\".\"");
    check_number_text("", "\"\"");
    check_number_text("1,5", "\"1,5\"");
    check_number_text("12 ", "\"12 \"");
    check_number_text("infinityx", "\"infinityx\"");
}

static const char *cell_json(struct buf *b, struct cell c, struct json_stats *st)
{
    buf_reset(b);
    assert_int_equal(json_cell(b, &c, st), 0);
    return text(b);
}

static void test_cell_kinds(void **state)
{
    (void)state;
    struct buf b;
    struct json_stats st = {0};
    buf_init(&b, 1 << 20);
    assert_string_equal(cell_json(&b, (struct cell){.kind = CELL_NULL}, &st), "null");
    assert_string_equal(cell_json(&b, (struct cell){.kind = CELL_BOOL, .v.i = 1}, &st), "true");
    assert_string_equal(cell_json(&b, (struct cell){.kind = CELL_BOOL, .v.i = 0}, &st), "false");
    assert_string_equal(cell_json(&b, (struct cell){.kind = CELL_INT, .v.i = -42}, &st), "-42");
    assert_string_equal(cell_json(&b, (struct cell){.kind = CELL_UINT, .v.u = UINT64_MAX}, &st),
                        "18446744073709551615");
    assert_string_equal(cell_json(&b, (struct cell){.kind = CELL_DOUBLE, .v.d = 2.5}, &st), "2.5");
    assert_string_equal(cell_json(&b, (struct cell){.kind = CELL_NUMBER, .len = 5, .v.s = "-1.50xyz"}, &st),
                        "-1.50");
    assert_string_equal(cell_json(&b, (struct cell){.kind = CELL_TEXT, .len = 3, .v.s = "a\"\xff"}, &st),
                        "\"a\\\"" FFFD "\"");
    assert_int_equal(st.invalid_utf8, 1);
    assert_string_equal(cell_json(&b, (struct cell){.kind = CELL_BYTES, .len = 3, .v.s = "foo"}, &st),
                        "\"Zm9v\"");
    assert_string_equal(cell_json(&b, (struct cell){.kind = CELL_JSON, .len = 9, .v.s = "{\"a\":[1]}"}, &st),
                        "{\"a\":[1]}");
    assert_string_equal(cell_json(&b, (struct cell){.kind = CELL_JSON, .len = 0, .v.s = ""}, &st), "null");
    buf_free(&b);
}

/* json/jsonb/MySQL JSON values: U+2028/U+2029 inside their strings are
 * escaped as in every other string; everything else is copied as is. */
/* A JSON value holding bytes that are not UTF-8 (a SQL_ASCII database):
 * each invalid sequence becomes U+FFFD, the value counts once. */
static void test_cell_json_invalid_utf8(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 1 << 20);
    struct json_stats st = {0};
    const char *v = "{\"caf\xe9\":[\"\xff\xfe ok \xc3\xa9\", \"\xc3\"]}";
    assert_string_equal(cell_json(&b, (struct cell){.kind = CELL_JSON, .len = strlen(v), .v.s = v}, &st),
                        "{\"caf\xef\xbf\xbd\":[\"\xef\xbf\xbd\xef\xbf\xbd ok \xc3\xa9\", \"\xef\xbf\xbd\"]}");
    assert_int_equal(st.invalid_utf8, 1);
    v = "{\"plain\":\"\xc3\xa9\xe2\x82\xac\"}";
    assert_string_equal(cell_json(&b, (struct cell){.kind = CELL_JSON, .len = strlen(v), .v.s = v}, &st), v);
    assert_int_equal(st.invalid_utf8, 1);
    buf_free(&b);
}

static void test_cell_json_line_separators(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 1 << 20);
    const char *v = "{\"k\xe2\x80\xa8\":[\"a\xe2\x80\xa8" "b\xe2\x80\xa9\",\"\xe2\x80\xa9\"]}";
    assert_string_equal(cell_json(&b, (struct cell){.kind = CELL_JSON, .len = strlen(v), .v.s = v}, NULL),
                        "{\"k\\u2028\":[\"a\\u2028b\\u2029\",\"\\u2029\"]}");
    /* Other characters starting with E2 (U+20AC, U+2027, U+202A) stay
     * untouched; a sequence cut at the end is invalid UTF-8: U+FFFD. */
    v = "[\"\xe2\x82\xac\xe2\x80\xa7\xe2\x80\xaa\",\"\xe2\x80";
    assert_string_equal(cell_json(&b, (struct cell){.kind = CELL_JSON, .len = strlen(v), .v.s = v}, NULL),
                        "[\"\xe2\x82\xac\xe2\x80\xa7\xe2\x80\xaa\",\"\xef\xbf\xbd");
    /* The same through json_row, as the output is written. */
    const char *names[] = {"j"};
    struct json_row r;
    assert_int_equal(json_row_init(&r, names, 1), 0);
    v = "\"\xe2\x80\xa8\"";
    struct cell c = {.kind = CELL_JSON, .len = strlen(v), .v.s = v};
    buf_reset(&b);
    assert_int_equal(json_row(&b, &r, &c, NULL), 0);
    assert_string_equal(text(&b), "{\"j\":\"\\u2028\"}\n");
    json_row_free(&r);
    /* The cap still holds. */
    struct buf small;
    buf_init(&small, 8);
    v = "\"abc\xe2\x80\xa8\"";
    assert_int_equal(json_embedded(&small, v, strlen(v), NULL), -1);
    assert_true(small.oom);
    buf_free(&small);
    buf_free(&b);
}

static void test_row_three_columns(void **state)
{
    (void)state;
    const char *names[] = {"id", "na\"me\n", "score"};
    struct json_row r;
    assert_int_equal(json_row_init(&r, names, 3), 0);
    assert_int_equal(r.ncols, 3);
    struct cell row1[3] = {
        {.kind = CELL_INT, .v.i = 1},
        {.kind = CELL_TEXT, .len = 5, .v.s = "Alice"},
        {.kind = CELL_DOUBLE, .v.d = 0.5},
    };
    struct cell row2[3] = {
        {.kind = CELL_INT, .v.i = 2},
        {.kind = CELL_NULL},
        {.kind = CELL_NUMBER, .len = 3, .v.s = "NaN"},
    };
    struct buf b;
    buf_init(&b, 1 << 20);
    assert_int_equal(json_row(&b, &r, row1, NULL), 0);
    assert_int_equal(json_row(&b, &r, row2, NULL), 0);
    assert_string_equal(text(&b),
                        "{\"id\":1,\"na\\\"me\\n\":\"Alice\",\"score\":0.5}\n"
                        "{\"id\":2,\"na\\\"me\\n\":null,\"score\":\"NaN\"}\n");
    buf_free(&b);
    json_row_free(&r);
    assert_int_equal(r.ncols, 0);
    json_row_free(&r); /* twice is harmless */
}

static void test_row_zero_columns(void **state)
{
    (void)state;
    struct json_row r;
    assert_int_equal(json_row_init(&r, NULL, 0), 0);
    struct buf b;
    buf_init(&b, 1 << 20);
    assert_int_equal(json_row(&b, &r, NULL, NULL), 0);
    assert_string_equal(text(&b), "{}\n");
    buf_free(&b);
    json_row_free(&r);
}

static void test_row_cap_reached(void **state)
{
    (void)state;
    const char *names[] = {"a"};
    struct json_row r;
    assert_int_equal(json_row_init(&r, names, 1), 0);
    char big[400];
    memset(big, 'x', sizeof big);
    struct cell c = {.kind = CELL_TEXT, .len = sizeof big, .v.s = big};
    struct buf b;
    buf_init(&b, 300);
    assert_int_equal(json_row(&b, &r, &c, NULL), -1);
    assert_true(b.oom);
    buf_free(&b);
    json_row_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_string_plain),
        cmocka_unit_test(test_string_quote_backslash),
        cmocka_unit_test(test_string_every_control_char),
        cmocka_unit_test(test_string_line_separators),
        cmocka_unit_test(test_utf8_valid_untouched),
        cmocka_unit_test(test_utf8_lone_continuation),
        cmocka_unit_test(test_utf8_truncated),
        cmocka_unit_test(test_utf8_overlong),
        cmocka_unit_test(test_utf8_surrogate),
        cmocka_unit_test(test_utf8_above_max),
        cmocka_unit_test(test_utf8_counter),
        cmocka_unit_test(test_string_long_mixed),
        cmocka_unit_test(test_string_special_at_every_position),
        cmocka_unit_test(test_string_cap_reached),
        cmocka_unit_test(test_base64_rfc4648),
        cmocka_unit_test(test_base64_binary),
        cmocka_unit_test(test_integers),
        cmocka_unit_test(test_double_known),
        cmocka_unit_test(test_double_special),
        cmocka_unit_test(test_double_random_round_trip),
        cmocka_unit_test(test_double_edges),
        cmocka_unit_test(test_number_text_valid),
        cmocka_unit_test(test_number_text_normalised),
        cmocka_unit_test(test_number_text_special),
        cmocka_unit_test(test_number_text_invalid_as_string),
        cmocka_unit_test(test_cell_kinds),
        cmocka_unit_test(test_cell_json_line_separators),
        cmocka_unit_test(test_cell_json_invalid_utf8),
        cmocka_unit_test(test_row_three_columns),
        cmocka_unit_test(test_row_zero_columns),
        cmocka_unit_test(test_row_cap_reached),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
