/* test_pg_types.c - PostgreSQL wire values -> cells, without a server.
 * Binary values are built by hand in the send format of each type. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "../../drivers/pg/pg_types.h"

/* Decodes v as dec (elements elem) and returns the cell's text (for the
 * kinds with text), or "" for the others; *kind gets the cell kind. */
static struct buf scratch, tmp;
static struct cell cell;
static char text[4096];

static int decode(enum pgsrc_dec dec, enum pgsrc_dec elem, const void *v, size_t len)
{
    struct pgsrc_decoder col = {.dec = dec, .elem = elem, .delim = ','};
    size_t off = 0;
    buf_reset(&scratch);
    int rc = pgsrc_decode(&col, v, len, &scratch, &tmp, &cell, &off);
    if (rc == 1)
        cell.v.s = scratch.data + off;
    text[0] = '\0';
    if (rc >= 0 && cell.kind != CELL_INT && cell.kind != CELL_BOOL && cell.kind != CELL_DOUBLE &&
        cell.kind != CELL_NULL) {
        memcpy(text, cell.v.s, cell.len);
        text[cell.len] = '\0';
    }
    return rc;
}

static void be32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24); p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8); p[3] = (unsigned char)v;
}
static void be64(unsigned char *p, uint64_t v)
{
    be32(p, (uint32_t)(v >> 32));
    be32(p + 4, (uint32_t)v);
}

/* numeric: ndigits, weight, sign, dscale, digits (base 10000) */
static int numeric(const int16_t *h, const int16_t *digits)
{
    unsigned char b[64];
    for (int i = 0; i < 4; i++) {
        b[2 * i] = (unsigned char)((uint16_t)h[i] >> 8);
        b[2 * i + 1] = (unsigned char)h[i];
    }
    for (int i = 0; i < h[0]; i++) {
        b[8 + 2 * i] = (unsigned char)((uint16_t)digits[i] >> 8);
        b[9 + 2 * i] = (unsigned char)digits[i];
    }
    return decode(PGDEC_NUMERIC, PGDEC_TEXT, b, 8 + 2 * (size_t)h[0]);
}

static void test_numeric(void **state)
{
    (void)state;
    assert_int_equal(numeric((int16_t[]){2, 0, 0, 2}, (int16_t[]){12, 3000}), 1);
    assert_string_equal(text, "12.30");
    assert_int_equal(cell.kind, CELL_NUMBER);
    numeric((int16_t[]){1, -2, 0x4000, 6}, (int16_t[]){100}); /* -0.000001 */
    assert_string_equal(text, "-0.000001");
    numeric((int16_t[]){0, 0, 0, 2}, NULL);
    assert_string_equal(text, "0.00");
    numeric((int16_t[]){1, 2, 0, 0}, (int16_t[]){5}); /* 5 * 10000^2 */
    assert_string_equal(text, "500000000");
    numeric((int16_t[]){3, 1, 0, 5}, (int16_t[]){1, 2345, 6789}); /* 12345.6789 */
    assert_string_equal(text, "12345.67890");
    numeric((int16_t[]){0, 0, (int16_t)0xC000, 0}, NULL);
    assert_string_equal(text, "NaN");
    numeric((int16_t[]){0, 0, (int16_t)0xD000, 0}, NULL);
    assert_string_equal(text, "Infinity");
    numeric((int16_t[]){0, 0, (int16_t)0xF000, 0}, NULL);
    assert_string_equal(text, "-Infinity");
    /* length disagreeing with ndigits; a digit out of range */
    unsigned char bad[10] = {0, 2, 0, 0, 0, 0, 0, 0, 0, 1};
    assert_int_equal(decode(PGDEC_NUMERIC, PGDEC_TEXT, bad, sizeof bad), PGSRC_EBAD);
    assert_int_equal(numeric((int16_t[]){1, 0, 0, 0}, (int16_t[]){10000}), PGSRC_EBAD);
}

static void test_dates(void **state)
{
    (void)state;
    unsigned char b[8];
    be32(b, 0);
    decode(PGDEC_DATE, PGDEC_TEXT, b, 4);
    assert_string_equal(text, "2000-01-01");
    be32(b, (uint32_t)-1);
    decode(PGDEC_DATE, PGDEC_TEXT, b, 4);
    assert_string_equal(text, "1999-12-31");
    be32(b, 59);
    decode(PGDEC_DATE, PGDEC_TEXT, b, 4);
    assert_string_equal(text, "2000-02-29");
    be32(b, (uint32_t)(-730119 - 9)); /* 0001-01-01 minus 9 days: 1 BC */
    decode(PGDEC_DATE, PGDEC_TEXT, b, 4);
    assert_string_equal(text, "0001-12-23 BC");
    be32(b, 0x7FFFFFFF);
    decode(PGDEC_DATE, PGDEC_TEXT, b, 4);
    assert_string_equal(text, "infinity");
    be32(b, 0x80000000u);
    decode(PGDEC_DATE, PGDEC_TEXT, b, 4);
    assert_string_equal(text, "-infinity");
    assert_int_equal(decode(PGDEC_DATE, PGDEC_TEXT, b, 3), PGSRC_EBAD);
}

static void test_timestamps(void **state)
{
    (void)state;
    unsigned char b[8];
    be64(b, (uint64_t)(86400000000LL + 3723500000LL)); /* 2000-01-02 01:02:03.5 */
    decode(PGDEC_TIMESTAMP, PGDEC_TEXT, b, 8);
    assert_string_equal(text, "2000-01-02T01:02:03.5");
    decode(PGDEC_TIMESTAMPTZ, PGDEC_TEXT, b, 8);
    assert_string_equal(text, "2000-01-02T01:02:03.5Z");
    be64(b, (uint64_t)-1); /* one microsecond before the epoch */
    decode(PGDEC_TIMESTAMPTZ, PGDEC_TEXT, b, 8);
    assert_string_equal(text, "1999-12-31T23:59:59.999999Z");
    be64(b, (uint64_t)INT64_MAX);
    decode(PGDEC_TIMESTAMP, PGDEC_TEXT, b, 8);
    assert_string_equal(text, "infinity");
    be64(b, (uint64_t)INT64_MIN);
    decode(PGDEC_TIMESTAMPTZ, PGDEC_TEXT, b, 8);
    assert_string_equal(text, "-infinity");
    /* 1 BC is year 0: " BC" as for date, on both kinds; 1 AD has none. */
    const int64_t day_1ad = -730119; /* 0001-01-01 in days from 2000-01-01 */
    be64(b, (uint64_t)((day_1ad - 1) * 86400000000LL + 86399500000LL));
    decode(PGDEC_TIMESTAMP, PGDEC_TEXT, b, 8);
    assert_string_equal(text, "0001-12-31T23:59:59.5 BC");
    decode(PGDEC_TIMESTAMPTZ, PGDEC_TEXT, b, 8);
    assert_string_equal(text, "0001-12-31T23:59:59.5Z BC");
    be64(b, (uint64_t)((day_1ad - 366) * 86400000000LL)); /* 1 BC is a leap year */
    decode(PGDEC_TIMESTAMP, PGDEC_TEXT, b, 8);
    assert_string_equal(text, "0001-01-01T00:00:00 BC");
    be64(b, (uint64_t)((day_1ad - 367) * 86400000000LL + 1)); /* 2 BC */
    decode(PGDEC_TIMESTAMPTZ, PGDEC_TEXT, b, 8);
    assert_string_equal(text, "0002-12-31T00:00:00.000001Z BC");
    be64(b, (uint64_t)(day_1ad * 86400000000LL));
    decode(PGDEC_TIMESTAMP, PGDEC_TEXT, b, 8);
    assert_string_equal(text, "0001-01-01T00:00:00");
    decode(PGDEC_TIMESTAMPTZ, PGDEC_TEXT, b, 8);
    assert_string_equal(text, "0001-01-01T00:00:00Z");
    be64(b, 86400000000ULL); /* time 24:00:00 */
    decode(PGDEC_TIME, PGDEC_TEXT, b, 8);
    assert_string_equal(text, "24:00:00");
    be64(b, 45296000001ULL);
    decode(PGDEC_TIME, PGDEC_TEXT, b, 8);
    assert_string_equal(text, "12:34:56.000001");
}

static void test_scalars(void **state)
{
    (void)state;
    unsigned char b[16];
    be32(b, 0x3dcccccd); /* 0.1f */
    decode(PGDEC_FLOAT4, PGDEC_TEXT, b, 4);
    assert_int_equal(cell.kind, CELL_DOUBLE);
    assert_true(cell.v.d == 0.1); /* the double 0.1, not 0.10000000149011612 */
    char f4[32];
    pgsrc_float4_text(3.4028235e38f, f4);
    assert_string_equal(f4, "3.4028235e+38");
    be64(b, (uint64_t)INT64_MIN);
    decode(PGDEC_INT8, PGDEC_TEXT, b, 8);
    assert_true(cell.kind == CELL_INT && cell.v.i == INT64_MIN);
    be32(b, 0xFFFFFFFFu);
    decode(PGDEC_OID, PGDEC_TEXT, b, 4);
    assert_true(cell.v.i == 4294967295LL);
    for (int i = 0; i < 16; i++)
        b[i] = (unsigned char)(i * 17);
    decode(PGDEC_UUID, PGDEC_TEXT, b, 16);
    assert_string_equal(text, "00112233-4455-6677-8899-aabbccddeeff");
    unsigned char tid[6] = {0, 0, 1, 0, 0, 7};
    decode(PGDEC_TID, PGDEC_TEXT, tid, 6);
    assert_string_equal(text, "(256,7)");
    const char js[] = "{\n \"a\": 1\r\n}";
    decode(PGDEC_JSON, PGDEC_TEXT, js, strlen(js));
    assert_int_equal(cell.kind, CELL_JSON);
    assert_string_equal(text, "{  \"a\": 1  }");
    const char jb[] = "\001[1]";
    decode(PGDEC_JSONB, PGDEC_TEXT, jb, 4);
    assert_string_equal(text, "[1]");
    assert_int_equal(decode(PGDEC_JSONB, PGDEC_TEXT, "\002[1]", 4), PGSRC_EBAD);
}

static void test_binary_array(void **state)
{
    (void)state;
    /* int4[2][2] = {{1,NULL},{3,4}} */
    unsigned char b[128], *p = b;
    be32(p, 2); be32(p + 4, 1); be32(p + 8, 23);
    be32(p + 12, 2); be32(p + 16, 1); be32(p + 20, 2); be32(p + 24, 1);
    p += 28;
    int vals[4] = {1, -1, 3, 4};
    for (int i = 0; i < 4; i++) {
        if (vals[i] < 0) {
            be32(p, 0xFFFFFFFFu);
            p += 4;
            continue;
        }
        be32(p, 4);
        be32(p + 4, (uint32_t)vals[i]);
        p += 8;
    }
    assert_int_equal(decode(PGDEC_ARRAY, PGDEC_INT4, b, (size_t)(p - b)), 1);
    assert_string_equal(text, "[[1,null],[3,4]]");
    /* truncated: the last element's bytes are missing */
    assert_int_equal(decode(PGDEC_ARRAY, PGDEC_INT4, b, (size_t)(p - b) - 2), PGSRC_EBAD);
    /* Lower bounds other than 1 are not kept: int4 '[0:2]={1,2,3}' and
     * '[-1:0][2:3]={{1,2},{3,4}}' are plain JSON arrays. */
    p = b;
    be32(p, 1); be32(p + 4, 0); be32(p + 8, 23);
    be32(p + 12, 3); be32(p + 16, 0);
    p += 20;
    for (int i = 1; i <= 3; i++, p += 8) {
        be32(p, 4);
        be32(p + 4, (uint32_t)i);
    }
    assert_int_equal(decode(PGDEC_ARRAY, PGDEC_INT4, b, (size_t)(p - b)), 1);
    assert_string_equal(text, "[1,2,3]");
    p = b;
    be32(p, 2); be32(p + 4, 0); be32(p + 8, 23);
    be32(p + 12, 2); be32(p + 16, (uint32_t)-1); be32(p + 20, 2); be32(p + 24, 2);
    p += 28;
    for (int i = 1; i <= 4; i++, p += 8) {
        be32(p, 4);
        be32(p + 4, (uint32_t)i);
    }
    assert_int_equal(decode(PGDEC_ARRAY, PGDEC_INT4, b, (size_t)(p - b)), 1);
    assert_string_equal(text, "[[1,2],[3,4]]");
    /* json elements: U+2028 in their strings is escaped like everywhere */
    p = b;
    be32(p, 1); be32(p + 4, 0); be32(p + 8, 3802);
    be32(p + 12, 1); be32(p + 16, 1);
    be32(p + 20, 7);
    memcpy(p + 24, "\001\"\xe2\x80\xa8\"", 6);
    assert_int_equal(decode(PGDEC_ARRAY, PGDEC_JSONB, b, 30), PGSRC_EBAD); /* length says 7 */
    be32(p + 20, 6);
    assert_int_equal(decode(PGDEC_ARRAY, PGDEC_JSONB, b, 30), 1);
    assert_string_equal(text, "[\"\\u2028\"]");
    /* zero dimensions: the empty array */
    unsigned char e[12] = {0};
    decode(PGDEC_ARRAY, PGDEC_INT4, e, 12);
    assert_string_equal(text, "[]");
}

static void test_text_array(void **state)
{
    (void)state;
    const char *a = "{127.0.0.1,\"a \\\"b\\\\\",NULL,\"NULL\",{x}}";
    assert_int_equal(decode(PGDEC_TEXTARRAY, PGDEC_TEXT, a, strlen(a)), 1);
    assert_string_equal(text, "[\"127.0.0.1\",\"a \\\"b\\\\\",null,\"NULL\",[\"x\"]]");
    a = "[0:1]={a,b}";
    decode(PGDEC_TEXTARRAY, PGDEC_TEXT, a, strlen(a));
    assert_string_equal(text, "[\"a\",\"b\"]");
    a = "{}";
    decode(PGDEC_TEXTARRAY, PGDEC_TEXT, a, strlen(a));
    assert_string_equal(text, "[]");
    struct pgsrc_decoder box = {.dec = PGDEC_TEXTARRAY, .delim = ';'};
    size_t off;
    buf_reset(&scratch);
    a = "{(1,1),(0,0);(2,2),(1,1)}";
    assert_int_equal(pgsrc_decode(&box, a, strlen(a), &scratch, &tmp, &cell, &off), 1);
    assert_memory_equal(scratch.data + off, "[\"(1,1),(0,0)\",\"(2,2),(1,1)\"]", cell.len);
    a = "{a,\"unterminated}";
    assert_int_equal(decode(PGDEC_TEXTARRAY, PGDEC_TEXT, a, strlen(a)), PGSRC_EBAD);
    a = "{a}junk";
    assert_int_equal(decode(PGDEC_TEXTARRAY, PGDEC_TEXT, a, strlen(a)), PGSRC_EBAD);
}

int main(void)
{
    buf_init(&scratch, 1 << 20);
    buf_init(&tmp, 1 << 20);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_numeric),   cmocka_unit_test(test_dates),
        cmocka_unit_test(test_timestamps), cmocka_unit_test(test_scalars),
        cmocka_unit_test(test_binary_array), cmocka_unit_test(test_text_array),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    buf_free(&scratch);
    buf_free(&tmp);
    return rc;
}
