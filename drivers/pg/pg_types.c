/* pg_types.c - PostgreSQL binary wire values -> cells (DESIGN.md §6).
 *
 * What each type becomes (the session runs with TimeZone UTC, DateStyle
 * ISO, IntervalStyle iso_8601, extra_float_digits 3, client_encoding UTF8):
 *
 *   int2 int4 int8 oid            number (CELL_INT)
 *   numeric                       number, the exact digits of the binary
 *                                 value incl. trailing zeros of its scale;
 *                                 NaN, Infinity, -Infinity as strings
 *   float8                        shortest round-trip double (CELL_DOUBLE)
 *   float4                        the float4's own shortest text, read as a
 *                                 double: 0.1::float4 -> 0.1, never
 *                                 0.10000000149011612
 *   bool                          true / false
 *   text varchar bpchar name      string (bpchar keeps its padding, as the
 *   "char" enums                  server sends it)
 *   uuid                          "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx"
 *   bytea                         base64 string
 *   date                          "YYYY-MM-DD"
 *   time                          "HH:MM:SS[.ffffff]", trailing zeros of the
 *                                 fraction dropped as PostgreSQL does
 *                                 ("10:00:00.5"); 24:00:00 stays
 *   timestamp                     "YYYY-MM-DDTHH:MM:SS[.ffffff]"
 *   timestamptz                   "YYYY-MM-DDTHH:MM:SS[.ffffff]Z" (UTC)
 *   date/timestamp(tz) ±infinity  "infinity" / "-infinity"
 *   years BC (year <= 0)          the same layout with the historical year
 *                                 and " BC" appended, as PostgreSQL writes
 *                                 them: "0044-03-15 BC",
 *                                 "0044-03-15T12:00:00Z BC" (also valid
 *                                 PostgreSQL input, so keys round-trip)
 *   json                          the value itself; raw CR/LF (whitespace
 *                                 between tokens, never inside a string)
 *                                 become spaces to keep one row per line
 *   jsonb                         the value itself (jsonb's text form)
 *                                 (json_cell escapes U+2028/U+2029 in both)
 *   arrays, any dimension         JSON arrays (nested per dimension) of the
 *                                 element type's JSON; NULL -> null; lower
 *                                 bounds other than 1 are not kept
 *                                 ('[0:2]={1,2,3}' -> [1,2,3]): a JSON
 *                                 array has no place for them
 *   everything else               its text form as a string, selected
 *                                 through the type's output function (not
 *                                 a ::text cast: text(inet) differs from
 *                                 inet_out): interval (ISO 8601
 *                                 "P1Y2M3DT4H5M6.5S"), timetz, inet,
 *                                 cidr, macaddr, bit and varbit ("1010"),
 *                                 xml, tsvector, ranges, geometric, composites;
 *                                 arrays of these (array_out) as arrays of
 *                                 strings, NULL elements as null
 */
#include "pg_types.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "encode/json.h"

/* Built-in type oids (pg_type.dat); stable across server versions. */
enum {
    OID_BOOL = 16, OID_BYTEA = 17, OID_CHAR = 18, OID_NAME = 19,
    OID_INT8 = 20, OID_INT2 = 21, OID_INT4 = 23, OID_TEXT = 25,
    OID_OID = 26, OID_TID = 27, OID_JSON = 114, OID_FLOAT4 = 700,
    OID_FLOAT8 = 701, OID_BPCHAR = 1042, OID_VARCHAR = 1043,
    OID_DATE = 1082, OID_TIME = 1083, OID_TIMESTAMP = 1114,
    OID_TIMESTAMPTZ = 1184, OID_INTERVAL = 1186, OID_NUMERIC = 1700,
    OID_UUID = 2950, OID_JSONB = 3802,
};

int pgsrc_binary_decoder(uint32_t oid, enum pgsrc_dec *out)
{
    enum pgsrc_dec d;
    switch (oid) {
    case OID_BOOL: d = PGDEC_BOOL; break;
    case OID_BYTEA: d = PGDEC_BYTEA; break;
    case OID_CHAR: case OID_NAME: case OID_TEXT: case OID_BPCHAR:
    case OID_VARCHAR: d = PGDEC_TEXT; break;
    case OID_INT8: d = PGDEC_INT8; break;
    case OID_INT2: d = PGDEC_INT2; break;
    case OID_INT4: d = PGDEC_INT4; break;
    case OID_OID: d = PGDEC_OID; break;
    case OID_TID: d = PGDEC_TID; break;
    case OID_JSON: d = PGDEC_JSON; break;
    case OID_JSONB: d = PGDEC_JSONB; break;
    case OID_FLOAT4: d = PGDEC_FLOAT4; break;
    case OID_FLOAT8: d = PGDEC_FLOAT8; break;
    case OID_NUMERIC: d = PGDEC_NUMERIC; break;
    case OID_UUID: d = PGDEC_UUID; break;
    case OID_DATE: d = PGDEC_DATE; break;
    case OID_TIME: d = PGDEC_TIME; break;
    case OID_TIMESTAMP: d = PGDEC_TIMESTAMP; break;
    case OID_TIMESTAMPTZ: d = PGDEC_TIMESTAMPTZ; break;
    default: return 0;
    }
    *out = d;
    return 1;
}

const char *pgsrc_json_type(uint32_t oid, int is_array)
{
    if (is_array)
        return "array";
    switch (oid) {
    case OID_INT2: case OID_INT4: case OID_INT8: case OID_OID: return "integer";
    case OID_FLOAT4: case OID_FLOAT8: case OID_NUMERIC: return "number";
    case OID_BOOL: return "boolean";
    case OID_BYTEA: return "base64";
    case OID_JSON: case OID_JSONB: return "json";
    case OID_DATE: return "date";
    case OID_TIME: return "time";
    case OID_TIMESTAMP: return "timestamp";
    case OID_TIMESTAMPTZ: return "timestamptz";
    case OID_INTERVAL: return "interval";
    default: return "string";
    }
}

static uint16_t get16(const unsigned char *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t get32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static uint64_t get64(const unsigned char *p)
{
    return (uint64_t)get32(p) << 32 | get32(p + 4);
}

/* Writes n (0 <= n < 10^width) as exactly width digits. */
static char *put_digits(char *o, unsigned long long n, int width)
{
    for (int i = width - 1; i >= 0; i--) {
        o[i] = (char)('0' + n % 10);
        n /= 10;
    }
    return o + width;
}

/* Year as PostgreSQL writes it: at least 4 digits; year <= 0 is BC. */
static char *put_year(char *o, long long y)
{
    long long shown = y > 0 ? y : 1 - y;
    if (shown < 10000)
        return put_digits(o, (unsigned long long)shown, 4);
    return o + sprintf(o, "%lld", shown);
}

/* Proleptic Gregorian date of days since 1970-01-01 (H. Hinnant's
 * civil_from_days). */
static void civil(long long z, long long *y, int *m, int *d)
{
    z += 719468;
    long long era = (z >= 0 ? z : z - 146096) / 146097;
    long long doe = z - era * 146097;
    long long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    long long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    long long mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

/* PostgreSQL's epoch is 2000-01-01, 10957 days after the Unix epoch. */
#define PG_EPOCH_DAYS 10957LL
#define USECS_PER_DAY 86400000000LL

static char *put_date(char *o, long long pgdays, long long *year)
{
    int m, d;
    civil(pgdays + PG_EPOCH_DAYS, year, &m, &d);
    o = put_year(o, *year);
    *o++ = '-';
    o = put_digits(o, (unsigned long long)m, 2);
    *o++ = '-';
    return put_digits(o, (unsigned long long)d, 2);
}

/* HH:MM:SS[.ffffff] with trailing zeros of the fraction dropped. */
static char *put_time(char *o, long long usec)
{
    long long secs = usec / 1000000, frac = usec % 1000000;
    o = put_digits(o, (unsigned long long)(secs / 3600), 2);
    *o++ = ':';
    o = put_digits(o, (unsigned long long)(secs / 60 % 60), 2);
    *o++ = ':';
    o = put_digits(o, (unsigned long long)(secs % 60), 2);
    if (frac) {
        *o++ = '.';
        o = put_digits(o, (unsigned long long)frac, 6);
        while (o[-1] == '0')
            o--;
    }
    return o;
}

static size_t fmt_timestamp(char *out, int64_t t, int tz)
{
    if (t == INT64_MAX)
        return (size_t)sprintf(out, "infinity");
    if (t == INT64_MIN)
        return (size_t)sprintf(out, "-infinity");
    long long days = t / USECS_PER_DAY, tod = t % USECS_PER_DAY;
    if (tod < 0) {
        tod += USECS_PER_DAY;
        days--;
    }
    long long year;
    char *o = put_date(out, days, &year);
    *o++ = 'T';
    o = put_time(o, tod);
    if (tz)
        *o++ = 'Z';
    if (year <= 0)
        o += sprintf(o, " BC");
    return (size_t)(o - out);
}

static size_t fmt_date(char *out, int32_t d)
{
    if (d == INT32_MAX)
        return (size_t)sprintf(out, "infinity");
    if (d == INT32_MIN)
        return (size_t)sprintf(out, "-infinity");
    long long year;
    char *o = put_date(out, d, &year);
    if (year <= 0)
        o += sprintf(o, " BC");
    return (size_t)(o - out);
}

size_t pgsrc_float4_text(float f, char out[32])
{
    int n = 0;
    for (int prec = 1; prec <= 9; prec++) {
        n = snprintf(out, 32, "%.*g", prec, (double)f);
        if (strtof(out, NULL) == f)
            break;
    }
    return (size_t)n;
}

/* NumericVar on the wire: ndigits, weight, sign, dscale (int16 each), then
 * ndigits base-10000 digits; the value is sum digit[i] * 10000^(weight-i). */
enum { NUMERIC_POS = 0x0000, NUMERIC_NEG = 0x4000, NUMERIC_NAN = 0xC000,
       NUMERIC_PINF = 0xD000, NUMERIC_NINF = 0xF000 };

int pgsrc_numeric_text(const unsigned char *p, size_t len, struct buf *out)
{
    if (len < 8)
        return PGSRC_EBAD;
    int ndigits = (int16_t)get16(p), weight = (int16_t)get16(p + 2);
    unsigned sign = get16(p + 4);
    int dscale = (int16_t)get16(p + 6);
    if (ndigits < 0 || dscale < 0 || len != 8 + 2 * (size_t)ndigits)
        return PGSRC_EBAD;
    const char *special = sign == NUMERIC_NAN ? "NaN"
                        : sign == NUMERIC_PINF ? "Infinity"
                        : sign == NUMERIC_NINF ? "-Infinity" : NULL;
    if (special)
        return buf_puts(out, special) < 0 ? PGSRC_ENOMEM : 0;
    if (sign != NUMERIC_POS && sign != NUMERIC_NEG)
        return PGSRC_EBAD;
    size_t intgroups = weight >= 0 ? (size_t)weight + 1 : 1;
    if (buf_reserve(out, 2 + intgroups * 4 + (size_t)dscale + 4) < 0)
        return PGSRC_ENOMEM;
    const unsigned char *dig = p + 8;
    char *o = out->data + out->len;
    if (sign == NUMERIC_NEG)
        *o++ = '-';
    if (weight < 0) {
        *o++ = '0';
    } else {
        for (int d = 0; d <= weight; d++) {
            unsigned v = d < ndigits ? get16(dig + 2 * d) : 0;
            if (v > 9999)
                return PGSRC_EBAD;
            if (d == 0) /* the leading group without leading zeros */
                o = put_digits(o, v, v >= 1000 ? 4 : v >= 100 ? 3 : v >= 10 ? 2 : 1);
            else
                o = put_digits(o, v, 4);
        }
    }
    if (dscale > 0) {
        *o++ = '.';
        int left = dscale;
        for (int d = weight + 1; left > 0; d++) {
            unsigned v = d >= 0 && d < ndigits ? get16(dig + 2 * d) : 0;
            if (v > 9999)
                return PGSRC_EBAD;
            char grp[4];
            put_digits(grp, v, 4);
            int take = left < 4 ? left : 4;
            memcpy(o, grp, (size_t)take);
            o += take;
            left -= take;
        }
    }
    out->len = (size_t)(o - out->data);
    return 0;
}

static const char hexd[] = "0123456789abcdef";

/* Appends fixed-size text to scratch and reports it as the cell's data. */
static int put_scratch(struct buf *scratch, const char *s, size_t n,
                       enum cell_kind kind, struct cell *out, size_t *off)
{
    *off = scratch->len;
    if (buf_append(scratch, s, n) < 0)
        return PGSRC_ENOMEM;
    out->kind = kind;
    out->len = n;
    out->v.s = NULL;
    return 1;
}

/* json text: raw CR/LF can only be whitespace between tokens (a JSON string
 * cannot hold them), so they become spaces. */
static int json_value(const char *v, size_t len, struct buf *scratch,
                      struct cell *out, size_t *off)
{
    out->kind = CELL_JSON;
    out->len = len;
    if (!memchr(v, '\n', len) && !memchr(v, '\r', len)) {
        out->v.s = v;
        return 0;
    }
    *off = scratch->len;
    if (buf_append(scratch, v, len) < 0)
        return PGSRC_ENOMEM;
    for (char *p = scratch->data + *off, *e = p + len; p < e; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    out->v.s = NULL;
    return 1;
}

struct arr {
    const unsigned char *p, *end;
    enum pgsrc_dec elem;
    struct buf *out, *tmp;
    int32_t dims[6];
    int ndim;
};

static int arr_level(struct arr *a, int level)
{
    if (buf_putc(a->out, '[') < 0)
        return PGSRC_ENOMEM;
    for (int32_t i = 0; i < a->dims[level]; i++) {
        if (i && buf_putc(a->out, ',') < 0)
            return PGSRC_ENOMEM;
        if (level + 1 < a->ndim) {
            int rc = arr_level(a, level + 1);
            if (rc < 0)
                return rc;
            continue;
        }
        if (a->end - a->p < 4)
            return PGSRC_EBAD;
        int32_t n = (int32_t)get32(a->p);
        a->p += 4;
        if (n == -1) {
            if (buf_append(a->out, "null", 4) < 0)
                return PGSRC_ENOMEM;
            continue;
        }
        if (n < 0 || a->end - a->p < n)
            return PGSRC_EBAD;
        struct cell c;
        size_t off = 0;
        buf_reset(a->tmp);
        struct pgsrc_decoder ec = {.dec = a->elem, .elem = PGDEC_TEXT, .delim = ','};
        int rc = pgsrc_decode(&ec, (const char *)a->p, (size_t)n, a->tmp, NULL, &c, &off);
        if (rc < 0)
            return rc;
        if (rc == 1)
            c.v.s = a->tmp->data + off;
        a->p += n;
        if (json_cell(a->out, &c, NULL) < 0)
            return PGSRC_ENOMEM;
    }
    return buf_putc(a->out, ']') < 0 ? PGSRC_ENOMEM : 0;
}

/* Array wire format: ndim, has-nulls flag, element oid, then (size, lower
 * bound) per dimension, then each element as int32 length (-1: NULL) and
 * its bytes, last dimension varying fastest. */
static int decode_array(enum pgsrc_dec elem, const unsigned char *p, size_t len,
                        struct buf *scratch, struct buf *tmp, struct cell *out,
                        size_t *off)
{
    if (!tmp || elem == PGDEC_ARRAY || elem == PGDEC_TEXTARRAY || len < 12)
        return PGSRC_EBAD;
    struct arr a = {.p = p, .end = p + len, .elem = elem, .out = scratch, .tmp = tmp};
    int32_t ndim = (int32_t)get32(p);
    if (ndim < 0 || ndim > 6 || len < 12 + 8 * (size_t)ndim)
        return PGSRC_EBAD;
    a.ndim = ndim;
    for (int i = 0; i < ndim; i++) {
        a.dims[i] = (int32_t)get32(p + 12 + 8 * i);
        if (a.dims[i] < 0)
            return PGSRC_EBAD;
    }
    a.p = p + 12 + 8 * (size_t)ndim;
    *off = scratch->len;
    int rc = ndim == 0 ? (buf_append(scratch, "[]", 2) < 0 ? PGSRC_ENOMEM : 0)
                       : arr_level(&a, 0);
    if (rc < 0)
        return rc;
    if (a.p != a.end)
        return PGSRC_EBAD;
    out->kind = CELL_JSON;
    out->len = scratch->len - *off;
    out->v.s = NULL;
    return 1;
}

/* The text form of an array, as array_out writes it: an optional
 * "[lo:hi]...=" bounds prefix, then nested {...} with elements separated by
 * delim; an element is NULL, bare text (no spaces, braces, quotes or
 * delimiters), or "..." with \" and \\ escaped. */
struct tarr {
    const char *p, *end;
    char delim;
    struct buf *out, *tmp;
};

static int tarr_level(struct tarr *a, int depth)
{
    if (depth > 6 || a->p >= a->end || *a->p != '{')
        return PGSRC_EBAD;
    a->p++;
    if (buf_putc(a->out, '[') < 0)
        return PGSRC_ENOMEM;
    if (a->p < a->end && *a->p == '}') {
        a->p++;
        return buf_putc(a->out, ']') < 0 ? PGSRC_ENOMEM : 0;
    }
    for (int first = 1;; first = 0) {
        if (!first && buf_putc(a->out, ',') < 0)
            return PGSRC_ENOMEM;
        if (a->p >= a->end)
            return PGSRC_EBAD;
        int rc = 0;
        if (*a->p == '{') {
            rc = tarr_level(a, depth + 1);
        } else if (*a->p == '"') {
            buf_reset(a->tmp);
            for (a->p++; a->p < a->end && *a->p != '"'; a->p++) {
                if (*a->p == '\\' && a->p + 1 < a->end)
                    a->p++;
                if (buf_putc(a->tmp, *a->p) < 0)
                    return PGSRC_ENOMEM;
            }
            if (a->p >= a->end)
                return PGSRC_EBAD;
            a->p++;
            if (json_quoted(a->out, a->tmp->data, a->tmp->len, NULL) < 0)
                return PGSRC_ENOMEM;
        } else {
            const char *s = a->p;
            while (a->p < a->end && *a->p != a->delim && *a->p != '}')
                a->p++;
            size_t n = (size_t)(a->p - s);
            if (n == 4 && memcmp(s, "NULL", 4) == 0 ? buf_append(a->out, "null", 4) < 0
                                                    : json_quoted(a->out, s, n, NULL) < 0)
                return PGSRC_ENOMEM;
        }
        if (rc < 0)
            return rc;
        if (a->p >= a->end)
            return PGSRC_EBAD;
        if (*a->p == '}') {
            a->p++;
            return buf_putc(a->out, ']') < 0 ? PGSRC_ENOMEM : 0;
        }
        if (*a->p != a->delim)
            return PGSRC_EBAD;
        a->p++;
    }
}

static int decode_text_array(const char *v, size_t len, char delim, struct buf *scratch,
                             struct buf *tmp, struct cell *out, size_t *off)
{
    if (!tmp)
        return PGSRC_EBAD;
    struct tarr a = {.p = v, .end = v + len, .delim = delim, .out = scratch, .tmp = tmp};
    if (a.p < a.end && *a.p == '[') {
        const char *eq = memchr(v, '=', len);
        if (!eq)
            return PGSRC_EBAD;
        a.p = eq + 1;
    }
    *off = scratch->len;
    int rc = tarr_level(&a, 1);
    if (rc < 0)
        return rc;
    if (a.p != a.end)
        return PGSRC_EBAD;
    out->kind = CELL_JSON;
    out->len = scratch->len - *off;
    out->v.s = NULL;
    return 1;
}

int pgsrc_decode(const struct pgsrc_decoder *col, const char *v, size_t len,
                  struct buf *scratch, struct buf *tmp, struct cell *out,
                  size_t *scratch_off)
{
    enum pgsrc_dec dec = col->dec;
    const unsigned char *p = (const unsigned char *)v;
    char txt[64];
    size_t n;
    switch (dec) {
    case PGDEC_TEXT:
        out->kind = CELL_TEXT;
        out->len = len;
        out->v.s = v;
        return 0;
    case PGDEC_BYTEA:
        out->kind = CELL_BYTES;
        out->len = len;
        out->v.s = v;
        return 0;
    case PGDEC_BOOL:
        if (len != 1)
            return PGSRC_EBAD;
        out->kind = CELL_BOOL;
        out->v.i = p[0] != 0;
        return 0;
    case PGDEC_INT2:
        if (len != 2)
            return PGSRC_EBAD;
        out->kind = CELL_INT;
        out->v.i = (int16_t)get16(p);
        return 0;
    case PGDEC_INT4:
        if (len != 4)
            return PGSRC_EBAD;
        out->kind = CELL_INT;
        out->v.i = (int32_t)get32(p);
        return 0;
    case PGDEC_OID:
        if (len != 4)
            return PGSRC_EBAD;
        out->kind = CELL_INT;
        out->v.i = get32(p);
        return 0;
    case PGDEC_INT8:
        if (len != 8)
            return PGSRC_EBAD;
        out->kind = CELL_INT;
        out->v.i = (int64_t)get64(p);
        return 0;
    case PGDEC_FLOAT8: {
        if (len != 8)
            return PGSRC_EBAD;
        uint64_t u = get64(p);
        out->kind = CELL_DOUBLE;
        memcpy(&out->v.d, &u, sizeof u);
        return 0;
    }
    case PGDEC_FLOAT4: {
        if (len != 4)
            return PGSRC_EBAD;
        uint32_t u = get32(p);
        float f;
        memcpy(&f, &u, sizeof f);
        out->kind = CELL_DOUBLE;
        if (!isfinite(f)) {
            out->v.d = (double)f;
            return 0;
        }
        /* The double nearest the float4's shortest text prints as that
         * text: it has at most 9 significant digits. */
        pgsrc_float4_text(f, txt);
        out->v.d = strtod(txt, NULL);
        return 0;
    }
    case PGDEC_NUMERIC: {
        *scratch_off = scratch->len;
        int rc = pgsrc_numeric_text(p, len, scratch);
        if (rc < 0)
            return rc;
        out->kind = CELL_NUMBER;
        out->len = scratch->len - *scratch_off;
        out->v.s = NULL;
        return 1;
    }
    case PGDEC_UUID: {
        if (len != 16)
            return PGSRC_EBAD;
        char *o = txt;
        for (int i = 0; i < 16; i++) {
            if (i == 4 || i == 6 || i == 8 || i == 10)
                *o++ = '-';
            *o++ = hexd[p[i] >> 4];
            *o++ = hexd[p[i] & 15];
        }
        return put_scratch(scratch, txt, 36, CELL_TEXT, out, scratch_off);
    }
    case PGDEC_DATE:
        if (len != 4)
            return PGSRC_EBAD;
        n = fmt_date(txt, (int32_t)get32(p));
        return put_scratch(scratch, txt, n, CELL_TEXT, out, scratch_off);
    case PGDEC_TIME: {
        if (len != 8)
            return PGSRC_EBAD;
        int64_t t = (int64_t)get64(p);
        if (t < 0 || t > USECS_PER_DAY)
            return PGSRC_EBAD;
        n = (size_t)(put_time(txt, t) - txt);
        return put_scratch(scratch, txt, n, CELL_TEXT, out, scratch_off);
    }
    case PGDEC_TIMESTAMP:
    case PGDEC_TIMESTAMPTZ:
        if (len != 8)
            return PGSRC_EBAD;
        n = fmt_timestamp(txt, (int64_t)get64(p), dec == PGDEC_TIMESTAMPTZ);
        return put_scratch(scratch, txt, n, CELL_TEXT, out, scratch_off);
    case PGDEC_JSON:
        return json_value(v, len, scratch, out, scratch_off);
    case PGDEC_JSONB:
        if (len < 1 || p[0] != 1)
            return PGSRC_EBAD;
        return json_value(v + 1, len - 1, scratch, out, scratch_off);
    case PGDEC_TID:
        if (len != 6)
            return PGSRC_EBAD;
        n = (size_t)sprintf(txt, "(%u,%u)", get32(p), get16(p + 4));
        return put_scratch(scratch, txt, n, CELL_TEXT, out, scratch_off);
    case PGDEC_ARRAY:
        return decode_array(col->elem, p, len, scratch, tmp, out, scratch_off);
    case PGDEC_TEXTARRAY:
        return decode_text_array(v, len, col->delim ? col->delim : ',', scratch, tmp, out,
                                 scratch_off);
    }
    return PGSRC_EBAD;
}
