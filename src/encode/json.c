/* json.c - the JSON encoder of the type contract (DESIGN.md §6). */
#include "encode/json.h"

#include <assert.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>

#include "encode/dtoa.h"

/* Byte classes for json_quoted: 0 copies as is, 1 needs an escape, 2 starts
 * (or is) a non-ASCII UTF-8 sequence that must be validated. */
#define JSON_CLASS_COPY 0
#define JSON_CLASS_ESC 1
#define JSON_CLASS_UTF8 2

#define R16(c) c, c, c, c, c, c, c, c, c, c, c, c, c, c, c, c
static const unsigned char json_class[256] = {
    R16(1), R16(1),                         /* 0x00-0x1f: control */
    0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x22 '"' */
    R16(0), R16(0),
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, /* 0x5c '\' */
    R16(0), R16(0),
    R16(2), R16(2), R16(2), R16(2), R16(2), R16(2), R16(2), R16(2),
};
#undef R16

static const char json_hex[] = "0123456789abcdef";

/* Length of the valid UTF-8 sequence at p (n > 0 bytes left, p[0] >= 0x80),
 * or 0 with *bad set to the length of its maximal invalid subpart (>= 1),
 * per Unicode's table of well-formed byte sequences. */
static size_t json_utf8_len(const unsigned char *p, size_t n, size_t *bad)
{
    unsigned char c = p[0];
    size_t need;
    unsigned char lo = 0x80, hi = 0xbf; /* range of the second byte */
    if (c >= 0xc2 && c <= 0xdf) {
        need = 2;
    } else if (c >= 0xe0 && c <= 0xef) {
        need = 3;
        if (c == 0xe0)
            lo = 0xa0; /* overlong */
        else if (c == 0xed)
            hi = 0x9f; /* surrogates */
    } else if (c >= 0xf0 && c <= 0xf4) {
        need = 4;
        if (c == 0xf0)
            lo = 0x90; /* overlong */
        else if (c == 0xf4)
            hi = 0x8f; /* > U+10FFFF */
    } else {
        *bad = 1; /* continuation byte, C0, C1, F5-FF */
        return 0;
    }
    size_t i = 1;
    for (; i < need && i < n; i++) {
        unsigned char b = p[i];
        if (i == 1 ? (b < lo || b > hi) : (b < 0x80 || b > 0xbf))
            break;
    }
    if (i == need)
        return need;
    *bad = i; /* a valid prefix, cut short */
    return 0;
}

/* Nonzero when one of the 8 bytes of w needs more than a copy: a control
 * character, '"', '\\' or a byte >= 0x80. (x - 0x01..) & ~x & 0x80.. is
 * nonzero exactly when some byte of x is zero; with 0x20.. instead of
 * 0x01.., when some byte is below 0x20. Byte order does not matter. */
static inline uint64_t json_word_special(uint64_t w)
{
    const uint64_t ones = 0x0101010101010101u, high = 0x8080808080808080u;
    uint64_t quote = w ^ (ones * '"'), backslash = w ^ (ones * '\\');
    return (((w - ones * 0x20) & ~w) | ((quote - ones) & ~quote) |
            ((backslash - ones) & ~backslash) | w) & high;
}

int json_quoted(struct buf *out, const char *str, size_t n, struct json_stats *st)
{
    const unsigned char *s = (const unsigned char *)str;
    bool replaced = false;
    /* One reservation for the common case; escapes grow the buffer. */
    if (n > SIZE_MAX - 2 || buf_reserve(out, n + 2) < 0)
        return -1;
    out->data[out->len++] = '"';
    size_t run = 0, i = 0;
    while (i < n) {
        /* Long ASCII runs: 8 bytes a step until a word holds a byte to
         * look at; then byte by byte to find it. */
        for (uint64_t w; n - i >= 8; i += 8) {
            memcpy(&w, s + i, 8);
            if (json_word_special(w))
                break;
        }
        while (i < n && json_class[s[i]] == JSON_CLASS_COPY)
            i++;
        if (i == n)
            break;
        unsigned char c = s[i];
        char esc[6];
        size_t esc_len = 0, skip = 1;
        if (json_class[c] == JSON_CLASS_ESC) {
            esc[0] = '\\';
            esc_len = 2;
            switch (c) {
            case '"': esc[1] = '"'; break;
            case '\\': esc[1] = '\\'; break;
            case '\b': esc[1] = 'b'; break;
            case '\f': esc[1] = 'f'; break;
            case '\n': esc[1] = 'n'; break;
            case '\r': esc[1] = 'r'; break;
            case '\t': esc[1] = 't'; break;
            default:
                memcpy(esc + 1, "u00", 3);
                esc[4] = json_hex[c >> 4];
                esc[5] = json_hex[c & 15];
                esc_len = 6;
            }
        } else {
            size_t bad = 0, len = json_utf8_len(s + i, n - i, &bad);
            if (len == 3 && c == 0xe2 && s[i + 1] == 0x80 &&
                (s[i + 2] == 0xa8 || s[i + 2] == 0xa9)) {
                /* U+2028 / U+2029 break JavaScript string literals. */
                memcpy(esc, s[i + 2] == 0xa8 ? "\\u2028" : "\\u2029", 6);
                esc_len = 6;
                skip = 3;
            } else if (len) {
                i += len; /* valid: stays in the run */
                continue;
            } else {
                memcpy(esc, "\xef\xbf\xbd", 3); /* U+FFFD */
                esc_len = 3;
                skip = bad;
                replaced = true;
            }
        }
        if (buf_append(out, s + run, i - run) < 0 || buf_append(out, esc, esc_len) < 0)
            return -1;
        i += skip;
        run = i;
    }
    if (buf_append(out, s + run, n - run) < 0 || buf_putc(out, '"') < 0)
        return -1;
    if (replaced && st)
        st->invalid_utf8++;
    return 0;
}

int json_base64(struct buf *out, const void *p, size_t n)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const unsigned char *s = p;
    if (n > (SIZE_MAX - 8) / 4 * 3) {
        out->oom = 1; /* the encoded size would not fit a size_t */
        return -1;
    }
    size_t need = (n + 2) / 3 * 4 + 2;
    if (buf_reserve(out, need) < 0)
        return -1;
    char *o = out->data + out->len;
    *o++ = '"';
    size_t i = 0;
    for (; n - i >= 3; i += 3) {
        uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8 | s[i + 2];
        *o++ = alphabet[v >> 18];
        *o++ = alphabet[v >> 12 & 63];
        *o++ = alphabet[v >> 6 & 63];
        *o++ = alphabet[v & 63];
    }
    if (n - i == 1) {
        uint32_t v = (uint32_t)s[i] << 16;
        *o++ = alphabet[v >> 18];
        *o++ = alphabet[v >> 12 & 63];
        *o++ = '=';
        *o++ = '=';
    } else if (n - i == 2) {
        uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8;
        *o++ = alphabet[v >> 18];
        *o++ = alphabet[v >> 12 & 63];
        *o++ = alphabet[v >> 6 & 63];
        *o++ = '=';
    }
    *o++ = '"';
    out->len = (size_t)(o - out->data);
    return 0;
}

/* Appends the decimal digits of v, with a '-' when neg. */
static int json_digits(struct buf *out, uint64_t v, bool neg)
{
    char tmp[21];
    char *p = tmp + sizeof tmp;
    do {
        *--p = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    if (neg)
        *--p = '-';
    return buf_append(out, p, (size_t)(tmp + sizeof tmp - p));
}

int json_int(struct buf *out, int64_t v)
{
    /* Negate in unsigned arithmetic: exact for INT64_MIN. */
    return v < 0 ? json_digits(out, 0 - (uint64_t)v, true)
                 : json_digits(out, (uint64_t)v, false);
}

int json_uint(struct buf *out, uint64_t v)
{
    return json_digits(out, v, false);
}

int json_double(struct buf *out, double d)
{
    if (isnan(d))
        return buf_append(out, "\"NaN\"", 5);
    if (isinf(d))
        return d > 0 ? buf_append(out, "\"Infinity\"", 10)
                     : buf_append(out, "\"-Infinity\"", 11);
    char tmp[32];
    size_t len = dtoa_shortest(d, tmp);
    return buf_append(out, tmp, len);
}

static bool json_is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Case-insensitive equality of s[0..n) with the lower-case word w. */
static bool json_word(const char *s, size_t n, const char *w)
{
    size_t wl = strlen(w);
    if (n != wl)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (c != w[i])
            return false;
    }
    return true;
}

int json_number_text(struct buf *out, const char *s, size_t n)
{
    /* Parse -?D*(.D*)?([eE][+-]?D+)? and check JSON's stricter rules. */
    size_t i = 0;
    bool neg = n > 0 && s[0] == '-';
    i = neg;
    size_t int_start = i;
    while (i < n && json_is_digit(s[i]))
        i++;
    size_t int_len = i - int_start;
    size_t frac_start = i, frac_len = 0;
    bool dot = i < n && s[i] == '.';
    if (dot) {
        frac_start = ++i;
        while (i < n && json_is_digit(s[i]))
            i++;
        frac_len = i - frac_start;
    }
    size_t exp_start = i;
    bool exp_ok = true;
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-'))
            i++;
        size_t d0 = i;
        while (i < n && json_is_digit(s[i]))
            i++;
        exp_ok = i > d0;
    }
    bool parsed = i == n && exp_ok && int_len + frac_len > 0;
    bool leading_zero = int_len > 1 && s[int_start] == '0';

    if (parsed && !leading_zero) {
        if (int_len > 0 && (!dot || frac_len > 0))
            return buf_append(out, s, n); /* valid JSON: verbatim */
        /* ".5" -> "0.5", "-.5" -> "-0.5", "5." -> "5", "5.e3" -> "5e3":
         * the same digits in JSON's spelling. */
        if (neg && buf_putc(out, '-') < 0)
            return -1;
        if (int_len == 0 ? buf_putc(out, '0') < 0
                         : buf_append(out, s + int_start, int_len) < 0)
            return -1;
        if (frac_len > 0 && (buf_putc(out, '.') < 0 ||
                             buf_append(out, s + frac_start, frac_len) < 0))
            return -1;
        return buf_append(out, s + exp_start, n - exp_start);
    }

    /* PostgreSQL's NaN/Infinity, MySQL's and C's inf spellings. */
    if (json_word(s, n, "nan"))
        return buf_append(out, "\"NaN\"", 5);
    const char *w = s;
    size_t wn = n;
    bool minus = false;
    if (wn > 0 && (w[0] == '-' || w[0] == '+')) {
        minus = w[0] == '-';
        w++;
        wn--;
    }
    if (json_word(w, wn, "infinity") || json_word(w, wn, "inf"))
        return minus ? buf_append(out, "\"-Infinity\"", 11)
                     : buf_append(out, "\"Infinity\"", 10);
    return json_quoted(out, s, n, NULL);
}

int json_embedded(struct buf *out, const char *str, size_t n, struct json_stats *st)
{
    /* Valid JSON holds bytes >= 0x80 only inside its strings (its syntax is
     * ASCII), so each is checked as UTF-8 there: invalid sequences become
     * U+FFFD (counted once for the value), and U+2028/U+2029 become
     * \u2028/\u2029, which mean the same character inside a string. */
    const unsigned char *s = (const unsigned char *)str;
    const uint64_t high = 0x8080808080808080u;
    size_t run = 0, i = 0;
    bool replaced = false;
    while (i < n) {
        for (uint64_t w; n - i >= 8; i += 8) {
            memcpy(&w, s + i, 8);
            if (w & high)
                break;
        }
        while (i < n && s[i] < 0x80)
            i++;
        if (i == n)
            break;
        size_t bad = 0, len = json_utf8_len(s + i, n - i, &bad);
        const char *esc;
        size_t esc_len, skip;
        if (len == 3 && s[i] == 0xe2 && s[i + 1] == 0x80 && (s[i + 2] == 0xa8 || s[i + 2] == 0xa9)) {
            esc = s[i + 2] == 0xa8 ? "\\u2028" : "\\u2029";
            esc_len = 6;
            skip = 3;
        } else if (len) {
            i += len;
            continue;
        } else {
            esc = "\xef\xbf\xbd"; /* U+FFFD */
            esc_len = 3;
            skip = bad;
            replaced = true;
        }
        if (buf_append(out, s + run, i - run) < 0 || buf_append(out, esc, esc_len) < 0)
            return -1;
        i += skip;
        run = i;
    }
    if (replaced && st)
        st->invalid_utf8++;
    return buf_append(out, s + run, n - run);
}

int json_cell(struct buf *out, const struct cell *c, struct json_stats *st)
{
    switch (c->kind) {
    case CELL_NULL:
        return buf_append(out, "null", 4);
    case CELL_BOOL:
        return c->v.i ? buf_append(out, "true", 4) : buf_append(out, "false", 5);
    case CELL_INT:
        return json_int(out, c->v.i);
    case CELL_UINT:
        return json_uint(out, c->v.u);
    case CELL_DOUBLE:
        return json_double(out, c->v.d);
    case CELL_NUMBER:
        return json_number_text(out, c->v.s, c->len);
    case CELL_TEXT:
        return json_quoted(out, c->v.s, c->len, st);
    case CELL_BYTES:
        return json_base64(out, c->v.s, c->len);
    case CELL_JSON:
        /* An empty value is no JSON at all. */
        return c->len ? json_embedded(out, c->v.s, c->len, st) : buf_append(out, "null", 4);
    }
    assert(!"json_cell: unknown cell kind");
    return buf_append(out, "null", 4);
}

int json_row_init(struct json_row *r, const char *const *names, size_t n)
{
    r->ncols = 0;
    r->prefix = NULL;
    r->prefix_len = NULL;
    if (n == 0)
        return 0;
    r->prefix = calloc(n, sizeof *r->prefix);
    r->prefix_len = calloc(n, sizeof *r->prefix_len);
    if (!r->prefix || !r->prefix_len) {
        json_row_free(r);
        return -1;
    }
    r->ncols = n;
    struct buf b;
    buf_init(&b, SIZE_MAX);
    for (size_t i = 0; i < n; i++) {
        buf_reset(&b);
        if (buf_putc(&b, i ? ',' : '{') < 0 ||
            json_quoted(&b, names[i], strlen(names[i]), NULL) < 0 ||
            buf_putc(&b, ':') < 0 || !(r->prefix[i] = malloc(b.len))) {
            buf_free(&b);
            json_row_free(r);
            return -1;
        }
        memcpy(r->prefix[i], b.data, b.len);
        r->prefix_len[i] = b.len;
    }
    buf_free(&b);
    return 0;
}

void json_row_free(struct json_row *r)
{
    if (r->prefix) {
        for (size_t i = 0; i < r->ncols; i++)
            free(r->prefix[i]);
    }
    free(r->prefix);
    free(r->prefix_len);
    r->ncols = 0;
    r->prefix = NULL;
    r->prefix_len = NULL;
}

int json_row(struct buf *out, const struct json_row *r, const struct cell *cells,
             struct json_stats *st)
{
    if (r->ncols == 0)
        return buf_append(out, "{}\n", 3);
    for (size_t i = 0; i < r->ncols; i++) {
        if (buf_append(out, r->prefix[i], r->prefix_len[i]) < 0 ||
            json_cell(out, &cells[i], st) < 0)
            return -1;
    }
    return buf_append(out, "}\n", 2);
}
