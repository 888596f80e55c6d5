/* mysql_types.c - MySQL/MariaDB text-protocol values to cells. */
#include "mysql_types.h"

#include <errno.h>
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "encode/json.h"

enum mysrc_kind mysrc_kind_of(const MYSQL_FIELD *f, int is_json, int is_float)
{
    if (f->type == MYSQL_TYPE_NULL)
        return MYSRC_NULL;
    if (is_json)
        return MYSRC_JSON;
    switch (f->type) {
    case MYSQL_TYPE_TINY:
    case MYSQL_TYPE_SHORT:
    case MYSQL_TYPE_INT24:
    case MYSQL_TYPE_LONG:
    case MYSQL_TYPE_LONGLONG:
    case MYSQL_TYPE_YEAR:
        return MYSRC_INT;
    case MYSQL_TYPE_DECIMAL:
    case MYSQL_TYPE_NEWDECIMAL:
        return MYSRC_DECIMAL;
    case MYSQL_TYPE_FLOAT:
    case MYSQL_TYPE_DOUBLE:
        /* A FLOAT sent as itself has only 6 digits (16777217 -> "16777200"):
         * the driver selects FLOAT columns as doubles (is_float). */
        return is_float ? MYSRC_FLOAT : MYSRC_DOUBLE;
    case MYSQL_TYPE_BIT:
        return f->length == 1 ? MYSRC_BIT1 : MYSRC_BITS;
    case MYSQL_TYPE_DATE:
    case MYSQL_TYPE_NEWDATE:
        return MYSRC_DATE;
    case MYSQL_TYPE_TIME:
    case MYSQL_TYPE_TIME2:
        return MYSRC_TIME;
    case MYSQL_TYPE_DATETIME:
    case MYSQL_TYPE_DATETIME2:
        return MYSRC_DATETIME;
    case MYSQL_TYPE_TIMESTAMP:
    case MYSQL_TYPE_TIMESTAMP2:
        return MYSRC_TIMESTAMP;
    case MYSQL_TYPE_JSON:
        return MYSRC_JSON;
    case MYSQL_TYPE_ENUM:
        return MYSRC_TEXT;
    case MYSQL_TYPE_SET:
        return MYSRC_SET;
    case MYSQL_TYPE_GEOMETRY:
        return MYSRC_BYTES;
    default:
        break;
    }
    /* CHAR, VARCHAR, TEXT, BLOB, ENUM and SET arrive as strings: the flags
     * name ENUM and SET, and only the character set tells BINARY from CHAR
     * and BLOB from TEXT (they share type codes). */
    if (f->flags & SET_FLAG)
        return MYSRC_SET;
    if (f->flags & ENUM_FLAG)
        return MYSRC_TEXT;
    if (f->charsetnr == 63)
        return MYSRC_BYTES;
    return MYSRC_TEXT;
}

int mysrc_field_zerofill(const MYSQL_FIELD *f)
{
    return (f->flags & ZEROFILL_FLAG) || f->type == MYSQL_TYPE_YEAR;
}

double mysrc_float_shortest(double d)
{
    float f = (float)d;
    if (!isfinite(f) || (double)f != d)
        return d;
    /* The 6-digit rounding of a normal float already is its shortest text
     * when that has 6 digits or fewer: float spacing is finer than half a
     * 6-digit step. Subnormals are coarser (2^-149 is "1e-45"). */
    char b[40];
    for (int p = fabsf(f) < FLT_MIN ? 1 : 6; p <= 9; p++) {
        snprintf(b, sizeof b, "%.*g", p, d);
        if (strtof(b, NULL) == f)
            return strtod(b, NULL);
    }
    return d;
}

/* Appends s without JSON whitespace outside strings and with control
 * characters inside strings escaped, so a value stored as typed (MariaDB
 * keeps the text) stays on one NDJSON line. */
static int json_one_line(struct buf *b, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    int in_str = 0, esc = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (in_str) {
            if (esc)
                esc = 0;
            else if (c == '\\')
                esc = 1;
            else if (c == '"')
                in_str = 0;
            else if (c < 0x20) {
                char u[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
                buf_append(b, u, sizeof u);
                continue;
            }
        } else if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
            continue;
        } else if (c == '"') {
            in_str = 1;
        }
        buf_putc(b, (char)c);
    }
    return b->oom ? -1 : 0;
}

static int set_array(struct buf *b, const char *s, size_t len)
{
    buf_putc(b, '[');
    const char *end = s + len;
    for (const char *p = s; len && p <= end;) {
        const char *q = memchr(p, ',', (size_t)(end - p));
        if (!q)
            q = end;
        if (p != s)
            buf_putc(b, ',');
        json_quoted(b, p, (size_t)(q - p), NULL);
        p = q + 1;
    }
    buf_putc(b, ']');
    return b->oom ? -1 : 0;
}

/* Whether the server's DOUBLE text already is what json_double() would
 * write, so strtod and the shortest-digit search can be skipped: plain
 * decimal with a point, no exponent, no trailing zero, at most 15
 * significant digits (two such texts never name the same double, so it is
 * the shortest), and 1e-6 <= |v| < 1e21 (json_double's plain range). */
static int plain_shortest(const char *s, size_t len)
{
    size_t i = 0, sig = 0, intdigits = 0, zeros = 0;
    int point = 0, leading = 1;
    if (len && s[0] == '-')
        i++;
    if (i == len || s[len - 1] == '0' || s[len - 1] == '.')
        return 0;
    for (; i < len; i++) {
        char c = s[i];
        if (c == '.') {
            if (point)
                return 0;
            point = 1;
        } else if (c >= '0' && c <= '9') {
            if (leading && c == '0') {
                zeros += point;
                continue;
            }
            leading = 0;
            sig++;
            if (!point)
                intdigits++;
        } else {
            return 0;
        }
    }
    return point && sig > 0 && sig <= 15 && intdigits <= 21 && (intdigits > 0 || zeros < 6);
}

/* "YYYY-MM-DD..." with a zero month or day (MySQL's zero dates). */
static int zero_date(const char *s, size_t len)
{
    return len >= 10 && ((s[5] == '0' && s[6] == '0') || (s[8] == '0' && s[9] == '0'));
}

static int in_scratch(struct cell *out, enum cell_kind kind, struct buf *scratch,
                      size_t start)
{
    if (scratch->oom)
        return -1;
    out->kind = kind;
    out->len = scratch->len - start;
    out->v.u = start;
    return 1;
}

int mysrc_decode(enum mysrc_kind k, int zerofill, const char *s, size_t len,
                 struct cell *out, struct buf *scratch, uint64_t *warnings)
{
    size_t start = scratch->len;
    switch (k) {
    case MYSRC_NULL:
        out->kind = CELL_NULL;
        return 0;
    case MYSRC_INT:
    case MYSRC_DECIMAL:
        /* ZEROFILL pads with zeros the JSON grammar forbids: "0042" -> "42". */
        if (zerofill)
            while (len > 1 && s[0] == '0' && s[1] >= '0' && s[1] <= '9') {
                s++;
                len--;
            }
        out->kind = CELL_NUMBER;
        out->v.s = s;
        out->len = len;
        return 0;
    case MYSRC_DOUBLE:
        if (plain_shortest(s, len)) {
            out->kind = CELL_NUMBER;
            out->v.s = s;
            out->len = len;
            return 0;
        }
        /* fall through */
    case MYSRC_FLOAT: {
        char *end;
        double d = strtod(s, &end);
        if (end != s + len) { /* not a number after all: keep the text */
            out->kind = CELL_NUMBER;
            out->v.s = s;
            out->len = len;
            return 0;
        }
        out->kind = CELL_DOUBLE;
        out->v.d = k == MYSRC_FLOAT ? mysrc_float_shortest(d) : d;
        return 0;
    }
    case MYSRC_BIT1:
        out->kind = CELL_BOOL;
        out->v.i = len > 0 && s[len - 1] != 0;
        return 0;
    case MYSRC_BITS:
    case MYSRC_BYTES:
        out->kind = CELL_BYTES;
        out->v.s = s;
        out->len = len;
        return 0;
    case MYSRC_TEXT:
    case MYSRC_TIME:
        out->kind = CELL_TEXT;
        out->v.s = s;
        out->len = len;
        return 0;
    case MYSRC_SET:
        if (set_array(scratch, s, len) < 0)
            return -1;
        return in_scratch(out, CELL_JSON, scratch, start);
    case MYSRC_DATE:
        if (zero_date(s, len)) {
            (*warnings)++;
            out->kind = CELL_NULL;
            return 0;
        }
        out->kind = CELL_TEXT;
        out->v.s = s;
        out->len = len;
        return 0;
    case MYSRC_DATETIME:
    case MYSRC_TIMESTAMP:
        if (zero_date(s, len)) {
            (*warnings)++;
            out->kind = CELL_NULL;
            return 0;
        }
        buf_append(scratch, s, len);
        if (!scratch->oom && len > 10 && scratch->data[start + 10] == ' ')
            scratch->data[start + 10] = 'T';
        if (k == MYSRC_TIMESTAMP)
            buf_putc(scratch, 'Z');
        return in_scratch(out, CELL_TEXT, scratch, start);
    case MYSRC_JSON:
        if (!memchr(s, '\n', len) && !memchr(s, '\r', len) && !memchr(s, '\t', len)) {
            out->kind = CELL_JSON;
            out->v.s = s;
            out->len = len;
            return 0;
        }
        if (json_one_line(scratch, s, len) < 0)
            return -1;
        return in_scratch(out, CELL_JSON, scratch, start);
    }
    out->kind = CELL_NULL;
    return 0;
}

/* ---- key values and literals ---------------------------------------- */

static const char hexdigits[] = "0123456789ABCDEF";

static void hex_body(struct buf *b, const unsigned char *p, size_t n)
{
    if (buf_reserve(b, 2 * n) < 0)
        return;
    for (size_t i = 0; i < n; i++) {
        b->data[b->len++] = hexdigits[p[i] >> 4];
        b->data[b->len++] = hexdigits[p[i] & 15];
    }
}

void mysrc_string_literal(struct buf *b, const char *s, size_t n)
{
    if (memchr(s, '\0', n) || memchr(s, '\\', n)) {
        buf_puts(b, "_utf8mb4 X'");
        hex_body(b, (const unsigned char *)s, n);
        buf_putc(b, '\'');
        return;
    }
    buf_putc(b, '\'');
    for (const char *q; (q = memchr(s, '\'', n)); n -= (size_t)(q + 1 - s), s = q + 1) {
        buf_append(b, s, (size_t)(q + 1 - s));
        buf_putc(b, '\'');
    }
    buf_append(b, s, n);
    buf_putc(b, '\'');
}

/* Digits, sign, point and exponent only: a number the server sent us. */
static int numeric_text(const char *p, size_t n)
{
    if (n == 0 || n > 80)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (p[i] == '\0' || !strchr("0123456789+-.eE", p[i]))
            return 0;
    return 1;
}

static int digits_only(const char *p, size_t n)
{
    if (n == 0 || n > 20)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (p[i] < '0' || p[i] > '9')
            return 0;
    return 1;
}

int mysrc_key_literal(struct buf *b, enum mysrc_keyclass kc, const struct keyval *v)
{
    char num[40];
    const char *text = v->s;
    size_t len = v->len;
    switch (v->kind) {
    case KEY_NULL:
        return -1;
    case KEY_INT:
        if (kc == MYSRC_KEY_BIT && v->i < 0)
            return -1;
        len = (size_t)snprintf(num, sizeof num, "%" PRId64, v->i);
        text = num;
        break;
    case KEY_REAL:
        if (kc == MYSRC_KEY_BIT || !isfinite(v->r))
            return -1;
        len = (size_t)snprintf(num, sizeof num, "%.17g", v->r);
        text = num;
        break;
    case KEY_BLOB:
        if (kc == MYSRC_KEY_BIT) { /* big-endian bits, as stored before */
            if (len > 8)
                return -1;
            uint64_t u = 0;
            for (size_t i = 0; i < len; i++)
                u = u << 8 | (unsigned char)text[i];
            len = (size_t)snprintf(num, sizeof num, "%" PRIu64, u);
            text = num;
        }
        break;
    case KEY_TEXT:
        break;
    }
    switch (kc) {
    case MYSRC_KEY_NUMBER:
        if (!numeric_text(text, len))
            return -1;
        buf_append(b, text, len);
        return 0;
    case MYSRC_KEY_BIT:
        if (!digits_only(text, len))
            return -1;
        buf_append(b, text, len);
        return 0;
    case MYSRC_KEY_STRING:
        mysrc_string_literal(b, text, len);
        return 0;
    case MYSRC_KEY_BINARY:
        buf_puts(b, "X'");
        hex_body(b, (const unsigned char *)text, len);
        buf_putc(b, '\'');
        return 0;
    }
    return -1;
}

/* An unsigned value as KEY_INT, or as its digits beyond INT64_MAX. */
static int set_unsigned(struct keytuple *key, size_t i, uint64_t u)
{
    if (u <= INT64_MAX)
        return key_set_int(key, i, (int64_t)u);
    char num[24];
    int n = snprintf(num, sizeof num, "%" PRIu64, u);
    return key_set_text(key, i, num, (size_t)n);
}

int mysrc_key_value(struct keytuple *key, size_t i, enum mysrc_keyclass kc, int is_int,
                    int is_unsigned, const char *s, size_t n)
{
    switch (kc) {
    case MYSRC_KEY_BINARY:
        return key_set_blob(key, i, s, n);
    case MYSRC_KEY_BIT:
        if (n <= 8) {
            uint64_t u = 0;
            for (size_t j = 0; j < n; j++)
                u = u << 8 | (unsigned char)s[j];
            return set_unsigned(key, i, u);
        }
        break;
    case MYSRC_KEY_NUMBER:
        if (is_int) {
            char *end;
            errno = 0;
            long long x = strtoll(s, &end, 10);
            if (errno == 0 && end == s + n && !(is_unsigned && x < 0))
                return key_set_int(key, i, x);
        }
        break;
    case MYSRC_KEY_STRING:
        break;
    }
    return key_set_text(key, i, s, n);
}
