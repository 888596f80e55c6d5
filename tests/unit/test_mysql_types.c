/* test_mysql_types.c - MySQL text-protocol values to cells: the decoder of
 * each kind, zero dates, FLOAT's own shortest digits, and the DOUBLE fast
 * path that must write exactly what json_double() would; and key values to
 * SQL literals and back (BIT as an integer, strings that read back the same
 * in every sql_mode). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../drivers/mysql/mysql_types.h"
#include "common/buf.h"
#include "encode/dtoa.h"
#include "encode/json.h"

/* The JSON that one decoded value becomes. */
static const char *encode(enum mysrc_kind k, int zerofill, const char *s, uint64_t *warnings)
{
    static struct buf scratch, out;
    static int init;
    if (!init) {
        buf_init(&scratch, 1 << 20);
        buf_init(&out, 1 << 20);
        init = 1;
    }
    buf_reset(&scratch);
    buf_reset(&out);
    struct cell c;
    memset(&c, 0, sizeof c);
    int rc = mysrc_decode(k, zerofill, s, strlen(s), &c, &scratch, warnings);
    assert_true(rc == 0 || rc == 1);
    if (rc == 1)
        c.v.s = scratch.data + c.v.u;
    assert_int_equal(json_cell(&out, &c, NULL), 0);
    const char *r = buf_cstr(&out);
    assert_non_null(r);
    return r;
}

static void test_numbers(void **state)
{
    (void)state;
    uint64_t w = 0;
    assert_string_equal(encode(MYSRC_INT, 0, "18446744073709551615", &w), "18446744073709551615");
    assert_string_equal(encode(MYSRC_INT, 0, "-9223372036854775808", &w), "-9223372036854775808");
    assert_string_equal(encode(MYSRC_INT, 1, "000042", &w), "42");
    assert_string_equal(encode(MYSRC_INT, 1, "0000", &w), "0");
    assert_string_equal(encode(MYSRC_DECIMAL, 0, "-0.0000000001", &w), "-0.0000000001");
    assert_string_equal(encode(MYSRC_DECIMAL, 1, "0001.50", &w), "1.50");
    assert_string_equal(encode(MYSRC_DOUBLE, 0, "0.1", &w), "0.1");
    assert_string_equal(encode(MYSRC_DOUBLE, 0, "1e22", &w), "1e+22");
    assert_string_equal(encode(MYSRC_DOUBLE, 0, "3", &w), "3.0");
    assert_string_equal(encode(MYSRC_DOUBLE, 0, "1.50", &w), "1.5");
    assert_string_equal(encode(MYSRC_DOUBLE, 0, "-1.7976931348623157e308", &w),
                        "-1.7976931348623157e+308");
    /* FLOAT arrives as the float's exact value in a double. */
    assert_string_equal(encode(MYSRC_FLOAT, 0, "0.10000000149011612", &w), "0.1");
    assert_string_equal(encode(MYSRC_FLOAT, 0, "16777216", &w), "16777216.0");
    assert_string_equal(encode(MYSRC_FLOAT, 0, "1.0000001192092896", &w), "1.0000001");
    assert_string_equal(encode(MYSRC_FLOAT, 0, "3.4028234663852886e38", &w), "3.4028235e+38");
    assert_string_equal(encode(MYSRC_FLOAT, 0, "1.401298464324817e-45", &w), "1e-45");
    assert_int_equal(w, 0);
}

/* The fast path for DOUBLE text writes what json_double would, or defers. */
static void test_double_fast_path_matches_dtoa(void **state)
{
    (void)state;
    srand(12345);
    struct buf a, b;
    buf_init(&a, 1 << 16);
    buf_init(&b, 1 << 16);
    for (int i = 0; i < 200000; i++) {
        double d;
        if (i % 3 == 0) {
            uint64_t bits = ((uint64_t)rand() << 40) ^ ((uint64_t)rand() << 20) ^ (uint64_t)rand();
            memcpy(&d, &bits, sizeof d);
            if (d != d || d - d != 0)
                continue;
        } else if (i % 3 == 1) {
            d = (double)(rand() % 2000000 - 1000000) / (double)(1 + rand() % 100000);
        } else {
            d = (double)rand() / 1e9 * (rand() % 2 ? 1 : -1);
        }
        /* A server's shortest text: the fewest %.*g digits that round-trip. */
        char t[40];
        for (int p = 1; p <= 17; p++) {
            snprintf(t, sizeof t, "%.*g", p, d);
            if (strtod(t, NULL) == d)
                break;
        }
        struct cell c;
        buf_reset(&a);
        buf_reset(&b);
        uint64_t w = 0;
        assert_int_equal(mysrc_decode(MYSRC_DOUBLE, 0, t, strlen(t), &c, &a, &w), 0);
        assert_int_equal(json_cell(&b, &c, NULL), 0);
        buf_reset(&a);
        assert_int_equal(json_double(&a, d), 0);
        if (b.len != a.len || memcmp(a.data, b.data, a.len) != 0) {
            fail_msg("server text %s: decoded %.*s, json_double %.*s", t, (int)b.len, b.data,
                     (int)a.len, a.data);
        }
    }
    buf_free(&a);
    buf_free(&b);
}

/* FLOAT: the shortcut of mysrc_float_shortest agrees with trying every
 * precision from 1, over random float bit patterns (subnormals included). */
static void test_float_shortest_all_precisions(void **state)
{
    (void)state;
    srand(4242);
    for (int i = 0; i < 300000; i++) {
        uint32_t bits = ((uint32_t)rand() << 16) ^ (uint32_t)rand();
        if (i % 4 == 0)
            bits &= 0x807fffffu; /* subnormal */
        float f;
        memcpy(&f, &bits, sizeof f);
        if (f != f || f - f != 0)
            continue;
        char t[40];
        for (int p = 1; p <= 9; p++) {
            snprintf(t, sizeof t, "%.*g", p, (double)f);
            if (strtof(t, NULL) == f)
                break;
        }
        double want = strtod(t, NULL), got = mysrc_float_shortest((double)f);
        if (memcmp(&want, &got, sizeof got) != 0)
            fail_msg("float %a: want %s (%.17g), got %.17g", (double)f, t, want, got);
    }
}

static void test_temporal(void **state)
{
    (void)state;
    uint64_t w = 0;
    assert_string_equal(encode(MYSRC_DATE, 0, "2024-02-29", &w), "\"2024-02-29\"");
    assert_string_equal(encode(MYSRC_TIME, 0, "-838:59:59", &w), "\"-838:59:59\"");
    assert_string_equal(encode(MYSRC_DATETIME, 0, "2024-02-29 23:59:59.125", &w),
                        "\"2024-02-29T23:59:59.125\"");
    assert_string_equal(encode(MYSRC_TIMESTAMP, 0, "1970-01-01 00:00:01.000001", &w),
                        "\"1970-01-01T00:00:01.000001Z\"");
    assert_int_equal(w, 0);
    assert_string_equal(encode(MYSRC_DATE, 0, "0000-00-00", &w), "null");
    assert_string_equal(encode(MYSRC_DATE, 0, "2020-02-00", &w), "null");
    assert_string_equal(encode(MYSRC_DATETIME, 0, "0000-00-00 00:00:00", &w), "null");
    assert_string_equal(encode(MYSRC_TIMESTAMP, 0, "2020-00-10 00:00:00", &w), "null");
    assert_int_equal(w, 4);
    assert_string_equal(encode(MYSRC_DATE, 0, "0000-01-01", &w), "\"0000-01-01\"");
    assert_int_equal(w, 4);
}

static void test_strings_sets_json(void **state)
{
    (void)state;
    uint64_t w = 0;
    assert_string_equal(encode(MYSRC_TEXT, 0, "a\"b\\c\n", &w), "\"a\\\"b\\\\c\\n\"");
    assert_string_equal(encode(MYSRC_SET, 0, "", &w), "[]");
    assert_string_equal(encode(MYSRC_SET, 0, "a", &w), "[\"a\"]");
    assert_string_equal(encode(MYSRC_SET, 0, "a,c d,\xc3\xa9", &w), "[\"a\",\"c d\",\"\xc3\xa9\"]");
    assert_string_equal(encode(MYSRC_BYTES, 0, "abcd", &w), "\"YWJjZA==\"");
    assert_string_equal(encode(MYSRC_JSON, 0, "{\"a\": [1, 2]}", &w), "{\"a\": [1, 2]}");
    /* MariaDB keeps JSON as typed: NDJSON needs it on one line. */
    assert_string_equal(encode(MYSRC_JSON, 0, "{\n  \"a b\": [1,\r\n\t2],\n \"s\": \"x\\\"\\n y\"\n}", &w),
                        "{\"a b\":[1,2],\"s\":\"x\\\"\\n y\"}");
}

static void test_bits(void **state)
{
    (void)state;
    uint64_t w = 0;
    char one[2] = {1, 0}, zero[2] = {0, 0};
    struct buf scratch;
    buf_init(&scratch, 1024);
    struct cell c;
    assert_int_equal(mysrc_decode(MYSRC_BIT1, 0, one, 1, &c, &scratch, &w), 0);
    assert_int_equal(c.kind, CELL_BOOL);
    assert_int_equal(c.v.i, 1);
    assert_int_equal(mysrc_decode(MYSRC_BIT1, 0, zero, 1, &c, &scratch, &w), 0);
    assert_int_equal(c.v.i, 0);
    assert_int_equal(mysrc_decode(MYSRC_BITS, 0, "\x0a\xaa", 2, &c, &scratch, &w), 0);
    assert_int_equal(c.kind, CELL_BYTES);
    assert_int_equal(c.len, 2);
    buf_free(&scratch);
}

/* Metadata to decoder: binary vs text by character set, ENUM/SET by flag. */
static void test_kind_of(void **state)
{
    (void)state;
    MYSQL_FIELD f;
    memset(&f, 0, sizeof f);
    f.type = MYSQL_TYPE_BLOB;
    f.charsetnr = 63;
    assert_int_equal(mysrc_kind_of(&f, 0, 0), MYSRC_BYTES);
    f.charsetnr = 45;
    assert_int_equal(mysrc_kind_of(&f, 0, 0), MYSRC_TEXT);
    assert_int_equal(mysrc_kind_of(&f, 1, 0), MYSRC_JSON);
    f.type = MYSQL_TYPE_STRING;
    f.flags = SET_FLAG;
    assert_int_equal(mysrc_kind_of(&f, 0, 0), MYSRC_SET);
    f.flags = ENUM_FLAG;
    assert_int_equal(mysrc_kind_of(&f, 0, 0), MYSRC_TEXT);
    f.flags = 0;
    f.type = MYSQL_TYPE_BIT;
    f.length = 1;
    assert_int_equal(mysrc_kind_of(&f, 0, 0), MYSRC_BIT1);
    f.length = 12;
    assert_int_equal(mysrc_kind_of(&f, 0, 0), MYSRC_BITS);
    f.type = MYSQL_TYPE_DOUBLE;
    assert_int_equal(mysrc_kind_of(&f, 0, 1), MYSRC_FLOAT);
    assert_int_equal(mysrc_kind_of(&f, 0, 0), MYSRC_DOUBLE);
    f.type = MYSQL_TYPE_TIMESTAMP;
    f.charsetnr = 63; /* temporal types say binary too: not bytes */
    assert_int_equal(mysrc_kind_of(&f, 0, 0), MYSRC_TIMESTAMP);
    f.type = MYSQL_TYPE_YEAR;
    assert_int_equal(mysrc_kind_of(&f, 0, 0), MYSRC_INT);
    assert_true(mysrc_field_zerofill(&f));
}

/* The literal of one key value, or "ERR". */
static const char *literal(enum mysrc_keyclass kc, const struct keyval *v)
{
    static struct buf b;
    static int init;
    if (!init) {
        buf_init(&b, 1 << 20);
        init = 1;
    }
    buf_reset(&b);
    if (mysrc_key_literal(&b, kc, v) < 0) {
        assert_int_equal(b.len, 0);
        return "ERR";
    }
    const char *r = buf_cstr(&b);
    assert_non_null(r);
    return r;
}

static struct keyval text(const char *s, size_t n)
{
    return (struct keyval){.kind = KEY_TEXT, .s = (char *)s, .len = n};
}

static void test_string_literals(void **state)
{
    (void)state;
    struct keyval v = text("it's", 4);
    assert_string_equal(literal(MYSRC_KEY_STRING, &v), "'it''s'");
    v = text("", 0);
    assert_string_equal(literal(MYSRC_KEY_STRING, &v), "''");
    v = text("''", 2);
    assert_string_equal(literal(MYSRC_KEY_STRING, &v), "''''''");
    v = text("h\xc3\xa9\"\n`", 6);
    assert_string_equal(literal(MYSRC_KEY_STRING, &v), "'h\xc3\xa9\"\n`'");
    /* A NUL or a backslash has no quoted form valid in both modes. */
    v = text("a\0b", 3);
    assert_string_equal(literal(MYSRC_KEY_STRING, &v), "_utf8mb4 X'610062'");
    v = text("a\\'", 3);
    assert_string_equal(literal(MYSRC_KEY_STRING, &v), "_utf8mb4 X'615C27'");
    v = (struct keyval){.kind = KEY_INT, .i = -42};
    assert_string_equal(literal(MYSRC_KEY_STRING, &v), "'-42'");
    v = (struct keyval){.kind = KEY_NULL};
    assert_string_equal(literal(MYSRC_KEY_STRING, &v), "ERR");
}

static void test_number_and_binary_literals(void **state)
{
    (void)state;
    struct keyval v = {.kind = KEY_INT, .i = INT64_MIN};
    assert_string_equal(literal(MYSRC_KEY_NUMBER, &v), "-9223372036854775808");
    v = text("18446744073709551615", 20);
    assert_string_equal(literal(MYSRC_KEY_NUMBER, &v), "18446744073709551615");
    v = text("-12.50", 6);
    assert_string_equal(literal(MYSRC_KEY_NUMBER, &v), "-12.50");
    v = text("1e+22", 5);
    assert_string_equal(literal(MYSRC_KEY_NUMBER, &v), "1e+22");
    v = text("1 OR 1=1", 8);
    assert_string_equal(literal(MYSRC_KEY_NUMBER, &v), "ERR");
    v = text("1\0", 2);
    assert_string_equal(literal(MYSRC_KEY_NUMBER, &v), "ERR");
    v = (struct keyval){.kind = KEY_REAL, .r = 0.1};
    assert_string_equal(literal(MYSRC_KEY_NUMBER, &v), "0.10000000000000001");
    v = (struct keyval){.kind = KEY_BLOB, .s = "\0'\\", .len = 3};
    assert_string_equal(literal(MYSRC_KEY_BINARY, &v), "X'00275C'");
    v = (struct keyval){.kind = KEY_BLOB, .s = "", .len = 0};
    assert_string_equal(literal(MYSRC_KEY_BINARY, &v), "X''");
}

/* BIT keys are numbers both ways: digits in SQL, KEY_INT (or digits past
 * INT64_MAX) from a row's big-endian bytes. */
static void test_bit_keys(void **state)
{
    (void)state;
    struct keytuple k = {0};
    assert_int_equal(key_init(&k, 1), 0);
    assert_int_equal(mysrc_key_value(&k, 0, MYSRC_KEY_BIT, 0, 1, "\x01", 1), 0);
    assert_int_equal(k.v[0].kind, KEY_INT);
    assert_int_equal(k.v[0].i, 1);
    assert_string_equal(literal(MYSRC_KEY_BIT, &k.v[0]), "1");
    assert_int_equal(mysrc_key_value(&k, 0, MYSRC_KEY_BIT, 0, 1, "\x00\x00\x00\x00\x00\x00\x4e\x21", 8), 0);
    assert_int_equal(k.v[0].i, 20001);
    assert_int_equal(mysrc_key_value(&k, 0, MYSRC_KEY_BIT, 0, 1, "\x7f\xff\xff\xff\xff\xff\xff\xff", 8), 0);
    assert_int_equal(k.v[0].kind, KEY_INT);
    assert_int_equal(k.v[0].i, INT64_MAX);
    assert_int_equal(mysrc_key_value(&k, 0, MYSRC_KEY_BIT, 0, 1, "\xff\xff\xff\xff\xff\xff\xff\xff", 8), 0);
    assert_int_equal(k.v[0].kind, KEY_TEXT);
    assert_string_equal(k.v[0].s, "18446744073709551615");
    assert_string_equal(literal(MYSRC_KEY_BIT, &k.v[0]), "18446744073709551615");
    assert_int_equal(mysrc_key_value(&k, 0, MYSRC_KEY_BIT, 0, 1, "\x0a\xaa", 2), 0);
    assert_int_equal(k.v[0].i, 0xaaa);
    /* A key stored as bytes by an older sluice still binds as its number. */
    struct keyval old = {.kind = KEY_BLOB, .s = "\x01\x00", .len = 2};
    assert_string_equal(literal(MYSRC_KEY_BIT, &old), "256");
    struct keyval neg = {.kind = KEY_INT, .i = -1}, t = text("12a", 3);
    assert_string_equal(literal(MYSRC_KEY_BIT, &neg), "ERR");
    assert_string_equal(literal(MYSRC_KEY_BIT, &t), "ERR");
    key_clear(&k);
}

static void test_key_values(void **state)
{
    (void)state;
    struct keytuple k = {0};
    assert_int_equal(key_init(&k, 1), 0);
    assert_int_equal(mysrc_key_value(&k, 0, MYSRC_KEY_NUMBER, 1, 0, "-5", 2), 0);
    assert_int_equal(k.v[0].kind, KEY_INT);
    assert_int_equal(k.v[0].i, -5);
    assert_int_equal(mysrc_key_value(&k, 0, MYSRC_KEY_NUMBER, 1, 1, "18446744073709551615", 20), 0);
    assert_int_equal(k.v[0].kind, KEY_TEXT);
    assert_int_equal(mysrc_key_value(&k, 0, MYSRC_KEY_NUMBER, 0, 0, "1.50", 4), 0);
    assert_int_equal(k.v[0].kind, KEY_TEXT);
    assert_string_equal(k.v[0].s, "1.50");
    assert_int_equal(mysrc_key_value(&k, 0, MYSRC_KEY_BINARY, 0, 0, "a\0", 2), 0);
    assert_int_equal(k.v[0].kind, KEY_BLOB);
    assert_int_equal(k.v[0].len, 2);
    assert_int_equal(mysrc_key_value(&k, 0, MYSRC_KEY_STRING, 0, 0, "a\0b", 3), 0);
    assert_int_equal(k.v[0].kind, KEY_TEXT);
    assert_int_equal(k.v[0].len, 3);
    assert_string_equal(literal(MYSRC_KEY_STRING, &k.v[0]), "_utf8mb4 X'610062'");
    key_clear(&k);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_numbers),
        cmocka_unit_test(test_double_fast_path_matches_dtoa),
        cmocka_unit_test(test_float_shortest_all_precisions),
        cmocka_unit_test(test_temporal),
        cmocka_unit_test(test_strings_sets_json),
        cmocka_unit_test(test_bits),
        cmocka_unit_test(test_kind_of),
        cmocka_unit_test(test_string_literals),
        cmocka_unit_test(test_number_and_binary_literals),
        cmocka_unit_test(test_bit_keys),
        cmocka_unit_test(test_key_values),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
