/* fuzz_json.c - libFuzzer target for the JSON encoder (src/json.h).
 *
 * The input is read as a row: a column count, then per column a kind byte
 * and that kind's value (8 bytes for numbers, a 2-byte length and bytes for
 * the string kinds). The row is encoded and then read back by a strict JSON
 * parser written here (RFC 8259; raw bytes must be UTF-8, no lone
 * surrogates), which checks per cell:
 *   TEXT    decodes to the input with each maximal invalid UTF-8 subpart
 *           replaced by U+FFFD (Unicode's rule, computed independently of
 *           the encoder from code-point ranges), counted once per cell;
 *   BYTES   base64 that decodes to the input;
 *   INT/UINT/BOOL/NULL  the exact text;
 *   DOUBLE  reads back (strtod) as the same bits; NaN/Infinity as strings;
 *   NUMBER  valid JSON number text verbatim, else a number of the same
 *           value or a string;
 *   JSON    verbatim but raw U+2028/U+2029 escaped (only inputs the parser
 *           accepts are used).
 * Column names come from the input too and must decode the same way. The
 * row must be one line. The same row into a buffer with a small cap must
 * fail with oom set, or give the same bytes. */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "source/cell.h"
#include "encode/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *cur_row; /* for failure messages */

#define CHECK(cond)                                                            \
    do {                                                                       \
        if (!(cond)) {                                                         \
            fprintf(stderr, "fuzz_json: check failed: %s (line %d)\n  row: %s\n", \
                    #cond, __LINE__, cur_row ? cur_row : "(none)");            \
            abort();                                                           \
        }                                                                      \
    } while (0)

/* ---- UTF-8, the reference way ----------------------------------------- */

/* Whether some code point in [lo, hi] is a valid scalar value encoded in
 * exactly len bytes. */
static bool utf8_possible(uint32_t lo, uint32_t hi, int len)
{
    static const uint32_t min[] = {0, 0, 0x80, 0x800, 0x10000};
    static const uint32_t max[] = {0, 0x7f, 0x7ff, 0xffff, 0x10ffff};
    if (lo < min[len])
        lo = min[len];
    if (hi > max[len])
        hi = max[len];
    if (lo > hi)
        return false;
    return !(lo >= 0xd800 && hi <= 0xdfff); /* not only surrogates */
}

/* Decodes one character at s (n > 0 bytes): returns the bytes it takes and
 * sets *cp, or on invalid input returns the length of the maximal subpart
 * (>= 1) with *cp = U+FFFD. */
static size_t utf8_ref(const uint8_t *s, size_t n, uint32_t *cp)
{
    uint8_t b = s[0];
    int len;
    uint32_t v;
    if (b < 0x80) {
        *cp = b;
        return 1;
    } else if ((b & 0xe0) == 0xc0) {
        len = 2, v = b & 0x1f;
    } else if ((b & 0xf0) == 0xe0) {
        len = 3, v = b & 0x0f;
    } else if ((b & 0xf8) == 0xf0) {
        len = 4, v = b & 0x07;
    } else {
        *cp = 0xfffd;
        return 1;
    }
    int bits = 6 * (len - 1);
    if (!utf8_possible(v << bits, (v << bits) | ((1u << bits) - 1), len)) {
        *cp = 0xfffd;
        return 1;
    }
    for (int k = 1; k < len; k++) {
        if ((size_t)k >= n || (s[k] & 0xc0) != 0x80) {
            *cp = 0xfffd;
            return (size_t)k;
        }
        v = v << 6 | (s[k] & 0x3f);
        bits -= 6;
        if (!utf8_possible(v << bits, (v << bits) | ((1u << bits) - 1), len)) {
            *cp = 0xfffd;
            return (size_t)k;
        }
    }
    *cp = v;
    return (size_t)len;
}

static void put_utf8(struct buf *b, uint32_t cp)
{
    char t[4];
    size_t n;
    if (cp < 0x80) {
        t[0] = (char)cp, n = 1;
    } else if (cp < 0x800) {
        t[0] = (char)(0xc0 | cp >> 6), t[1] = (char)(0x80 | (cp & 63)), n = 2;
    } else if (cp < 0x10000) {
        t[0] = (char)(0xe0 | cp >> 12), t[1] = (char)(0x80 | (cp >> 6 & 63));
        t[2] = (char)(0x80 | (cp & 63)), n = 3;
    } else {
        t[0] = (char)(0xf0 | cp >> 18), t[1] = (char)(0x80 | (cp >> 12 & 63));
        t[2] = (char)(0x80 | (cp >> 6 & 63)), t[3] = (char)(0x80 | (cp & 63)), n = 4;
    }
    CHECK(buf_append(b, t, n) == 0);
}

/* s with every invalid subpart replaced by U+FFFD; returns whether any was. */
static bool sanitize(const uint8_t *s, size_t n, struct buf *out)
{
    bool replaced = false;
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        size_t k = utf8_ref(s + i, n - i, &cp);
        if (cp == 0xfffd && !(k == 3 && s[i] == 0xef && s[i + 1] == 0xbf && s[i + 2] == 0xbd))
            replaced = true;
        put_utf8(out, cp);
        i += k;
    }
    return replaced;
}

/* ---- a strict JSON parser ---------------------------------------------- */

struct jp {
    const char *p, *end;
    int depth;
};

static void jp_ws(struct jp *j)
{
    while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
        j->p++;
}

static int hex4(const char *p, uint32_t *v)
{
    *v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        int d = c >= '0' && c <= '9' ? c - '0'
              : c >= 'a' && c <= 'f' ? c - 'a' + 10
              : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        if (d < 0)
            return -1;
        *v = *v << 4 | (uint32_t)d;
    }
    return 0;
}

/* A string at j->p (the opening quote); its decoded bytes go to out when
 * out is not NULL. 0 or -1. */
static int jp_string(struct jp *j, struct buf *out)
{
    if (j->p >= j->end || *j->p != '"')
        return -1;
    j->p++;
    while (j->p < j->end) {
        unsigned char c = (unsigned char)*j->p;
        if (c == '"') {
            j->p++;
            return 0;
        }
        if (c < 0x20)
            return -1;
        if (c == '\\') {
            if (j->end - j->p < 2)
                return -1;
            char e = j->p[1];
            j->p += 2;
            uint32_t cp;
            switch (e) {
            case '"': cp = '"'; break;
            case '\\': cp = '\\'; break;
            case '/': cp = '/'; break;
            case 'b': cp = '\b'; break;
            case 'f': cp = '\f'; break;
            case 'n': cp = '\n'; break;
            case 'r': cp = '\r'; break;
            case 't': cp = '\t'; break;
            case 'u':
                if (j->end - j->p < 4 || hex4(j->p, &cp) < 0)
                    return -1;
                j->p += 4;
                if (cp >= 0xdc00 && cp <= 0xdfff)
                    return -1; /* lone low surrogate */
                if (cp >= 0xd800 && cp <= 0xdbff) {
                    uint32_t lo;
                    if (j->end - j->p < 6 || j->p[0] != '\\' || j->p[1] != 'u' ||
                        hex4(j->p + 2, &lo) < 0 || lo < 0xdc00 || lo > 0xdfff)
                        return -1;
                    j->p += 6;
                    cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                }
                break;
            default:
                return -1;
            }
            if (out)
                put_utf8(out, cp);
            continue;
        }
        uint32_t cp;
        size_t k = utf8_ref((const uint8_t *)j->p, (size_t)(j->end - j->p), &cp);
        if (cp == 0xfffd && !(k == 3 && memcmp(j->p, "\xef\xbf\xbd", 3) == 0))
            return -1; /* raw invalid UTF-8 */
        if (out)
            CHECK(buf_append(out, j->p, k) == 0);
        j->p += k;
    }
    return -1;
}

static bool jp_digit(struct jp *j)
{
    return j->p < j->end && *j->p >= '0' && *j->p <= '9';
}

static int jp_number(struct jp *j)
{
    if (j->p < j->end && *j->p == '-')
        j->p++;
    if (!jp_digit(j))
        return -1;
    if (*j->p == '0')
        j->p++;
    else
        while (jp_digit(j))
            j->p++;
    if (j->p < j->end && *j->p == '.') {
        j->p++;
        if (!jp_digit(j))
            return -1;
        while (jp_digit(j))
            j->p++;
    }
    if (j->p < j->end && (*j->p == 'e' || *j->p == 'E')) {
        j->p++;
        if (j->p < j->end && (*j->p == '+' || *j->p == '-'))
            j->p++;
        if (!jp_digit(j))
            return -1;
        while (jp_digit(j))
            j->p++;
    }
    return 0;
}

static int jp_word(struct jp *j, const char *w)
{
    size_t n = strlen(w);
    if ((size_t)(j->end - j->p) < n || memcmp(j->p, w, n) != 0)
        return -1;
    j->p += n;
    return 0;
}

static int jp_value(struct jp *j)
{
    jp_ws(j);
    if (j->p >= j->end)
        return -1;
    int rc = -1;
    switch (*j->p) {
    case '{':
    case '[': {
        char close = *j->p == '{' ? '}' : ']';
        bool obj = close == '}';
        if (++j->depth > 64)
            return -1;
        j->p++;
        jp_ws(j);
        if (j->p < j->end && *j->p == close) {
            j->p++;
            rc = 0;
            break;
        }
        for (;;) {
            if (obj) {
                jp_ws(j);
                if (jp_string(j, NULL) < 0)
                    return -1;
                jp_ws(j);
                if (j->p >= j->end || *j->p++ != ':')
                    return -1;
            }
            if (jp_value(j) < 0)
                return -1;
            jp_ws(j);
            if (j->p >= j->end)
                return -1;
            char c = *j->p++;
            if (c == close)
                break;
            if (c != ',')
                return -1;
        }
        j->depth--;
        rc = 0;
        break;
    }
    case '"': rc = jp_string(j, NULL); break;
    case 't': rc = jp_word(j, "true"); break;
    case 'f': rc = jp_word(j, "false"); break;
    case 'n': rc = jp_word(j, "null"); break;
    default: rc = jp_number(j); break;
    }
    if (rc == 0)
        jp_ws(j);
    return rc;
}

/* Whether s[0..n) is exactly one JSON value (whitespace around allowed). */
static bool json_valid(const char *s, size_t n)
{
    struct jp j = {s, s + n, 0};
    return jp_value(&j) == 0 && j.p == j.end;
}

static bool number_valid(const char *s, size_t n)
{
    struct jp j = {s, s + n, 0};
    return jp_number(&j) == 0 && j.p == j.end;
}

/* ---- base64 -------------------------------------------------------------- */

static int b64v(char c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

/* Decodes canonical padded base64; -1 unless it is exactly that. */
static int b64_decode(const char *s, size_t n, struct buf *out)
{
    if (n % 4)
        return -1;
    for (size_t i = 0; i < n; i += 4) {
        int v[4], pad = 0;
        for (int k = 0; k < 4; k++) {
            if (s[i + k] == '=' && i + 4 == n && k >= 2) {
                v[k] = 0;
                pad++;
            } else if (pad || (v[k] = b64v(s[i + k])) < 0) {
                return -1;
            }
        }
        uint32_t w = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 | (uint32_t)v[3];
        char t[3] = {(char)(w >> 16), (char)(w >> 8), (char)w};
        if ((pad == 2 && (w & 0xffff)) || (pad == 1 && (w & 0xff)))
            return -1; /* non-canonical: bits set in the padding */
        CHECK(buf_append(out, t, (size_t)(3 - pad)) == 0);
    }
    return 0;
}

/* ---- the target ------------------------------------------------------- */

struct in {
    const uint8_t *p;
    size_t left;
};

static uint8_t in_byte(struct in *in)
{
    if (!in->left)
        return 0;
    in->left--;
    return *in->p++;
}

static uint64_t in_u64(struct in *in)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | in_byte(in);
    return v;
}

/* An exact-size heap copy of the next bytes (ASan sees overreads). */
static char *in_bytes(struct in *in, size_t *len)
{
    size_t n = (size_t)in_byte(in) << 8 | in_byte(in);
    n %= 1024;
    if (n > in->left)
        n = in->left;
    char *s = malloc(n ? n : 1);
    CHECK(s != NULL);
    memcpy(s, in->p, n);
    in->p += n;
    in->left -= n;
    *len = n;
    return s;
}

#define MAX_COLS 8

/* A NUL-terminated copy of s[0..n), cut at a NUL in it (no strndup: it may
 * read s[n] under ASan's strict_string_checks). */
static char *dup_cut(const char *s, size_t n)
{
    const char *nul = memchr(s, '\0', n);
    if (nul)
        n = (size_t)(nul - s);
    char *d = malloc(n + 1);
    CHECK(d != NULL);
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

static void check_string(struct jp *j, const char *raw, size_t n, bool *replaced)
{
    struct buf got, want;
    buf_init(&got, SIZE_MAX);
    buf_init(&want, SIZE_MAX);
    CHECK(jp_string(j, &got) == 0);
    bool r = sanitize((const uint8_t *)raw, n, &want);
    if (replaced)
        *replaced = r;
    CHECK(got.len == want.len && (!got.len || memcmp(got.data, want.data, got.len) == 0));
    buf_free(&got);
    buf_free(&want);
}

/* Checks one value in the row against its cell. */
static void check_cell(struct jp *j, const struct cell *c, uint64_t *invalid)
{
    const char *start = j->p;
    char text[64];
    switch (c->kind) {
    case CELL_NULL:
        CHECK(jp_word(j, "null") == 0);
        return;
    case CELL_BOOL:
        CHECK(jp_word(j, c->v.i ? "true" : "false") == 0);
        return;
    case CELL_INT:
        snprintf(text, sizeof text, "%lld", (long long)c->v.i);
        CHECK(jp_word(j, text) == 0);
        return;
    case CELL_UINT:
        snprintf(text, sizeof text, "%llu", (unsigned long long)c->v.u);
        CHECK(jp_word(j, text) == 0);
        return;
    case CELL_DOUBLE:
        if (isnan(c->v.d)) {
            CHECK(jp_word(j, "\"NaN\"") == 0);
        } else if (isinf(c->v.d)) {
            CHECK(jp_word(j, c->v.d > 0 ? "\"Infinity\"" : "\"-Infinity\"") == 0);
        } else {
            CHECK(jp_number(j) == 0);
            size_t n = (size_t)(j->p - start);
            CHECK(n < sizeof text);
            memcpy(text, start, n);
            text[n] = '\0';
            double back = strtod(text, NULL);
            CHECK(memcmp(&back, &c->v.d, sizeof back) == 0); /* same bits, -0.0 too */
            CHECK(strpbrk(text, ".e") != NULL);                /* stays a float */
        }
        return;
    case CELL_NUMBER:
        if (number_valid(c->v.s, c->len)) {
            CHECK((size_t)(j->end - j->p) >= c->len && memcmp(j->p, c->v.s, c->len) == 0);
            j->p += c->len;
        } else if (j->p < j->end && *j->p == '"') {
            struct buf got;
            buf_init(&got, SIZE_MAX);
            struct jp probe = *j;
            CHECK(jp_string(&probe, &got) == 0);
            bool special = (got.len == 3 && memcmp(got.data, "NaN", 3) == 0) ||
                           (got.len == 8 && memcmp(got.data, "Infinity", 8) == 0) ||
                           (got.len == 9 && memcmp(got.data, "-Infinity", 9) == 0);
            buf_free(&got);
            if (special)
                *j = probe;
            else
                check_string(j, c->v.s, c->len, NULL);
        } else {
            /* Respelled (".5" -> "0.5"): the same value. */
            CHECK(jp_number(j) == 0);
            char *a = dup_cut(c->v.s, c->len), *b = dup_cut(start, (size_t)(j->p - start));
            double da = strtod(a, NULL), db = strtod(b, NULL);
            CHECK(memcmp(&da, &db, sizeof da) == 0);
            free(a);
            free(b);
        }
        return;
    case CELL_TEXT: {
        bool replaced;
        check_string(j, c->v.s, c->len, &replaced);
        *invalid += replaced;
        return;
    }
    case CELL_BYTES: {
        struct buf got, dec;
        buf_init(&got, SIZE_MAX);
        buf_init(&dec, SIZE_MAX);
        CHECK(jp_string(j, &got) == 0);
        CHECK(b64_decode(got.data, got.len, &dec) == 0);
        CHECK(dec.len == c->len && (c->len == 0 || memcmp(dec.data, c->v.s, c->len) == 0));
        buf_free(&got);
        buf_free(&dec);
        return;
    }
    case CELL_JSON:
        if (c->len == 0) {
            CHECK(jp_word(j, "null") == 0);
        } else {
            /* Verbatim but for raw U+2028/U+2029, which become \u2028 /
             * \u2029 as in every string. */
            struct buf want;
            buf_init(&want, SIZE_MAX);
            for (size_t i = 0; i < c->len; i++) {
                const unsigned char *u = (const unsigned char *)c->v.s + i;
                if (c->len - i >= 3 && u[0] == 0xe2 && u[1] == 0x80 && (u[2] == 0xa8 || u[2] == 0xa9)) {
                    buf_append(&want, u[2] == 0xa8 ? "\\u2028" : "\\u2029", 6);
                    i += 2;
                } else {
                    buf_putc(&want, (char)u[0]);
                }
            }
            CHECK(!want.oom && (size_t)(j->end - j->p) >= want.len &&
                  memcmp(j->p, want.data, want.len) == 0);
            j->p += want.len;
            buf_free(&want);
        }
        return;
    }
    CHECK(!"unknown kind");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct in in = {data, size};
    size_t ncols = 1 + in_byte(&in) % MAX_COLS;
    struct cell cells[MAX_COLS];
    char *owned[MAX_COLS] = {0};
    char *names[MAX_COLS];
    size_t name_len[MAX_COLS];
    for (size_t i = 0; i < ncols; i++) {
        uint8_t k = in_byte(&in);
        struct cell *c = &cells[i];
        memset(c, 0, sizeof *c);
        c->kind = (enum cell_kind)(k % 9);
        switch (c->kind) {
        case CELL_NULL: break;
        case CELL_BOOL: c->v.i = in_byte(&in) & 1; break;
        case CELL_INT: c->v.i = (int64_t)in_u64(&in); break;
        case CELL_UINT: c->v.u = in_u64(&in); break;
        case CELL_DOUBLE: {
            uint64_t bits = in_u64(&in);
            memcpy(&c->v.d, &bits, sizeof bits);
            break;
        }
        case CELL_NUMBER: case CELL_TEXT: case CELL_BYTES: case CELL_JSON:
            owned[i] = in_bytes(&in, &c->len);
            c->v.s = owned[i];
            /* JSON cells are trusted to be JSON on one line. */
            if (c->kind == CELL_JSON && (!json_valid(c->v.s, c->len) ||
                                         memchr(c->v.s, '\n', c->len) ||
                                         memchr(c->v.s, '\r', c->len)))
                c->len = 0;
            break;
        }
        /* A kind byte with its high bit set takes the column name from the
         * input (cut at a NUL); others are c0, c1, ... */
        if (k & 0x80) {
            size_t n;
            char *raw = in_bytes(&in, &n);
            names[i] = dup_cut(raw, n);
            free(raw);
        } else {
            names[i] = malloc(3);
            if (names[i])
                memcpy(names[i], (char[]){'c', (char)('0' + i), '\0'}, 3);
        }
        CHECK(names[i] != NULL);
        name_len[i] = strlen(names[i]);
    }

    struct json_row row;
    CHECK(json_row_init(&row, (const char *const *)names, ncols) == 0);
    struct buf out;
    buf_init(&out, SIZE_MAX);
    struct json_stats st = {0};
    CHECK(json_row(&out, &row, cells, &st) == 0);
    cur_row = buf_cstr(&out);
    CHECK(cur_row != NULL);

    /* One line: `{...}\n`, no other newline. */
    CHECK(out.len >= 3 && out.data[out.len - 1] == '\n');
    CHECK(memchr(out.data, '\n', out.len - 1) == NULL);
    CHECK(json_valid(out.data, out.len - 1));

    struct jp j = {out.data, out.data + out.len - 1, 0};
    uint64_t invalid = 0;
    CHECK(jp_word(&j, "{") == 0);
    for (size_t i = 0; i < ncols; i++) {
        if (i)
            CHECK(jp_word(&j, ",") == 0);
        check_string(&j, names[i], name_len[i], NULL);
        CHECK(jp_word(&j, ":") == 0);
        check_cell(&j, &cells[i], &invalid);
    }
    CHECK(jp_word(&j, "}") == 0 && j.p == j.end);
    CHECK(st.invalid_utf8 == invalid);

    /* A capped buffer: too small fails with oom set and stays within its
     * cap; exactly big enough gives the same bytes. */
    size_t caps[] = {0, 1, 7, out.len / 2, out.len - 1, out.len};
    for (size_t i = 0; i < sizeof caps / sizeof *caps; i++) {
        struct buf small;
        buf_init(&small, caps[i]);
        int rc = json_row(&small, &row, cells, NULL);
        if (caps[i] >= out.len)
            CHECK(rc == 0 && !small.oom && small.len == out.len &&
                  memcmp(small.data, out.data, out.len) == 0);
        else
            CHECK(rc == -1 && small.oom && small.len <= caps[i]);
        buf_free(&small);
    }

    cur_row = NULL;
    buf_free(&out);
    json_row_free(&row);
    for (size_t i = 0; i < ncols; i++) {
        free(owned[i]);
        free(names[i]);
    }
    return 0;
}
