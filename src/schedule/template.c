#include "schedule/template.h"

#include <assert.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/civil.h"
#include "schedule/suggest.h"

#define TEMPLATE_MAX_OUT (64u << 10)
/* 9999-12-31T23:59:59Z: the last second a four-digit %Y can show. */
#define TEMPLATE_MAX_TIME ((time_t)253402300799)

enum tok_kind { TOK_LIT, TOK_VAR, TOK_CONV };
enum { VAR_STREAM, VAR_TABLE, VAR_SCHEMA };

struct tok {
    enum tok_kind kind;
    const char *lit; /* TOK_LIT: text (not NUL-terminated) */
    size_t len;
    int var;   /* TOK_VAR */
    char conv; /* TOK_CONV: one of CONVS */
};

struct tpl {
    struct tok *toks;
    size_t n, cap;
    unsigned uses;
};

static const char *const VAR_NAMES[] = {"stream", "table", "schema"};
#define CONVS "YmdHMSyjuVGs"

static void set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
    if (!errlen)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

static int push(struct tpl *t, struct tok k)
{
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 16;
        struct tok *p = realloc(t->toks, cap * sizeof *p);
        if (!p)
            return -1;
        t->toks = p;
        t->cap = cap;
    }
    t->toks[t->n++] = k;
    return 0;
}

static struct tok lit(const char *s, size_t n)
{
    return (struct tok){.kind = TOK_LIT, .lit = s, .len = n};
}

static struct tok conv(char c)
{
    return (struct tok){.kind = TOK_CONV, .conv = c};
}

/* Parses text into t. 0, or -1 with err set and t freed. */
static int compile(struct tpl *t, const char *text, char *err, size_t errlen)
{
    memset(t, 0, sizeof *t);
    size_t tlen = strlen(text);
    if (tlen == 0) {
        set_err(err, errlen, "is empty");
        return -1;
    }
    if (text[tlen - 1] == '/') {
        set_err(err, errlen, "ends with '/': it must name a file");
        return -1;
    }
    const char *p = text;
    while (*p) {
        size_t pos = (size_t)(p - text) + 1;
        const char *stop = strpbrk(p, "{}%");
        size_t run = stop ? (size_t)(stop - p) : strlen(p);
        if (run) {
            if (push(t, lit(p, run)) < 0)
                goto oom;
            p += run;
            continue;
        }
        if ((p[0] == '{' && p[1] == '{') || (p[0] == '}' && p[1] == '}') ||
            (p[0] == '%' && p[1] == '%')) {
            if (push(t, lit(p, 1)) < 0)
                goto oom;
            p += 2;
            continue;
        }
        if (*p == '}') {
            set_err(err, errlen,
                    "'}' at character %zu has no '{' (write }} for a literal '}')", pos);
            goto fail;
        }
        if (*p == '{') {
            const char *close = strchr(p + 1, '}');
            const char *reopen = strchr(p + 1, '{');
            if (!close || (reopen && reopen < close)) {
                set_err(err, errlen,
                        "'{' at character %zu is not closed (write {{ for a literal '{')", pos);
                goto fail;
            }
            size_t nlen = (size_t)(close - p - 1);
            char name[SUGGEST_MAX_LEN + 1];
            int var = -1;
            if (nlen <= SUGGEST_MAX_LEN) {
                memcpy(name, p + 1, nlen);
                name[nlen] = '\0';
                for (int i = 0; i < 3; i++)
                    if (strcmp(name, VAR_NAMES[i]) == 0)
                        var = i;
            }
            if (var < 0) {
                const char *near = nlen <= SUGGEST_MAX_LEN ? suggest_word(name, VAR_NAMES, 3)
                                                           : NULL;
                if (near)
                    set_err(err, errlen, "unknown field {%.*s}, did you mean {%s}?",
                            (int)nlen, p + 1, near);
                else
                    set_err(err, errlen,
                            "unknown field {%.*s} (fields: {stream} {table} {schema})",
                            nlen > 40 ? 40 : (int)nlen, p + 1);
                goto fail;
            }
            if (push(t, (struct tok){.kind = TOK_VAR, .var = var}) < 0)
                goto oom;
            t->uses |= 1u << var;
            p = close + 1;
            continue;
        }
        /* '%' */
        char c = p[1];
        if (c == '\0') {
            set_err(err, errlen, "'%%' at the end (write %%%% for a literal '%%')");
            goto fail;
        }
        if (c == 'F') {
            if (push(t, conv('Y')) < 0 || push(t, lit("-", 1)) < 0 || push(t, conv('m')) < 0 ||
                push(t, lit("-", 1)) < 0 || push(t, conv('d')) < 0)
                goto oom;
        } else if (c == 'T') {
            if (push(t, conv('H')) < 0 || push(t, lit(":", 1)) < 0 || push(t, conv('M')) < 0 ||
                push(t, lit(":", 1)) < 0 || push(t, conv('S')) < 0)
                goto oom;
        } else if (strchr(CONVS, c)) {
            if (push(t, conv(c)) < 0)
                goto oom;
        } else {
            if ((unsigned char)c > 0x20 && (unsigned char)c < 0x7f)
                set_err(err, errlen, "unsupported conversion %%%c at character %zu "
                        "(use %%Y %%m %%d %%H %%M %%S %%y %%j %%u %%V %%G %%s %%F %%T or %%%%)",
                        c, pos);
            else
                set_err(err, errlen, "unsupported conversion after '%%' at character %zu "
                        "(use %%Y %%m %%d %%H %%M %%S %%y %%j %%u %%V %%G %%s %%F %%T or %%%%)",
                        pos);
            goto fail;
        }
        t->uses |= TEMPLATE_USES_TIME;
        p += 2;
    }
    return 0;
oom:
    set_err(err, errlen, "out of memory");
fail:
    free(t->toks);
    memset(t, 0, sizeof *t);
    return -1;
}

int template_check(const char *tpl, unsigned *uses, char *err, size_t errlen)
{
    struct tpl t;
    if (compile(&t, tpl, err, errlen) < 0)
        return -1;
    if (uses)
        *uses = t.uses;
    free(t.toks);
    return 0;
}

/* Appends value with the bytes that could leave a directory encoded. */
static void put_value(struct buf *b, const char *v)
{
    if (strcmp(v, ".") == 0 || strcmp(v, "..") == 0) {
        for (; *v; v++)
            buf_puts(b, "%2E");
        return;
    }
    for (; *v; v++) {
        unsigned char c = (unsigned char)*v;
        if (c == '/' || c == '%' || c < 0x20 || c == 0x7f)
            buf_printf(b, "%%%02X", c);
        else
            buf_putc(b, (char)c);
    }
}

static const char *var_value(const struct template_vars *v, int var)
{
    const char *s = var == VAR_STREAM ? v->stream : var == VAR_TABLE ? v->table : v->schema;
    return s ? s : "";
}

static int check_vars(const struct tpl *t, const struct template_vars *v, char *err,
                      size_t errlen)
{
    for (int i = VAR_STREAM; i <= VAR_TABLE; i++) {
        if (!(t->uses & (1u << i)))
            continue;
        if (!*var_value(v, i)) {
            set_err(err, errlen, "{%s} is empty", VAR_NAMES[i]);
            return -1;
        }
    }
    return 0;
}

/* Appends tokens [from, to) of t to b; tm may be NULL when they hold no
 * conversion. */
static void put_toks(struct buf *b, const struct tpl *t, size_t from, size_t to,
                     const struct template_vars *v, const struct tm *tm)
{
    for (size_t i = from; i < to; i++) {
        const struct tok *k = &t->toks[i];
        if (k->kind == TOK_LIT) {
            buf_append(b, k->lit, k->len);
        } else if (k->kind == TOK_VAR) {
            put_value(b, var_value(v, k->var));
        } else {
            char fmt[3] = {'%', k->conv, '\0'}, out[32];
            assert(tm);
            size_t n = strftime(out, sizeof out, fmt, tm);
            if (n)
                buf_append(b, out, n);
        }
    }
}

static int finish(struct buf *b, char **out, char *err, size_t errlen)
{
    if (!buf_cstr(b)) {
        buf_free(b);
        set_err(err, errlen, "expands to more than %u bytes", TEMPLATE_MAX_OUT);
        return -1;
    }
    *out = b->data;
    return 0;
}

int template_expand(char **out, const char *tpl, const struct template_vars *vars,
                    time_t start, char *err, size_t errlen)
{
    *out = NULL;
    struct tpl t;
    if (compile(&t, tpl, err, errlen) < 0)
        return -1;
    int rc = -1;
    struct tm tm;
    if (start < 0 || start > TEMPLATE_MAX_TIME || !gmtime_r(&start, &tm)) {
        set_err(err, errlen, "start time %lld is outside 1970-9999", (long long)start);
        goto done;
    }
    if (check_vars(&t, vars, err, errlen) < 0)
        goto done;
    struct buf b;
    buf_init(&b, TEMPLATE_MAX_OUT);
    put_toks(&b, &t, 0, t.n, vars, &tm);
    rc = finish(&b, out, err, errlen);
done:
    free(t.toks);
    return rc;
}

int template_scan_root(char **dir, int *depth, const char *tpl,
                       const struct template_vars *vars, char *err, size_t errlen)
{
    *dir = NULL;
    *depth = 0;
    struct tpl t;
    if (compile(&t, tpl, err, errlen) < 0)
        return -1;
    int rc = -1;
    if (check_vars(&t, vars, err, errlen) < 0)
        goto done;
    size_t first_conv = 0;
    while (first_conv < t.n && t.toks[first_conv].kind != TOK_CONV)
        first_conv++;
    struct buf b;
    buf_init(&b, TEMPLATE_MAX_OUT);
    put_toks(&b, &t, 0, first_conv, vars, NULL);
    if (!buf_cstr(&b)) {
        buf_free(&b);
        set_err(err, errlen, "expands to more than %u bytes", TEMPLATE_MAX_OUT);
        goto done;
    }
    /* The fixed part ends at its last '/'; the rest counts its own '/'. */
    char *slash = strrchr(b.data, '/');
    for (const char *s = slash ? slash + 1 : b.data; *s; s++)
        *depth += *s == '/';
    for (size_t i = first_conv; i < t.n; i++)
        if (t.toks[i].kind == TOK_LIT)
            for (size_t j = 0; j < t.toks[i].len; j++)
                *depth += t.toks[i].lit[j] == '/';
    if (!slash) {
        b.len = 0;
        buf_putc(&b, '.');
    } else {
        b.len = slash == b.data ? 1 : (size_t)(slash - b.data);
    }
    rc = finish(&b, dir, err, errlen);
done:
    free(t.toks);
    return rc;
}

/* ---- matching ---- */

struct captures {
    int64_t val[sizeof CONVS]; /* by index in CONVS */
    unsigned seen;             /* bit per index */
};

struct matcher {
    const struct tpl *t;
    const char *text; /* the template */
    const char *path;
    const struct template_vars *v;
    struct captures cap;
    time_t when;
};

static int conv_index(char c)
{
    return (int)(strchr(CONVS, c) - CONVS);
}

/* Width (0: variable) and range of each conversion's digits. */
static void conv_shape(char c, int *width, int64_t *lo, int64_t *hi)
{
    *width = 2;
    *lo = 0;
    *hi = 99;
    switch (c) {
    case 'Y': case 'G': *width = 4; *hi = 9999; break;
    case 'm': *lo = 1; *hi = 12; break;
    case 'd': *lo = 1; *hi = 31; break;
    case 'H': *hi = 23; break;
    case 'M': *hi = 59; break;
    case 'S': *hi = 60; break;
    case 'j': *width = 3; *lo = 1; *hi = 366; break;
    case 'u': *width = 1; *lo = 1; *hi = 7; break;
    case 'V': *lo = 1; *hi = 53; break;
    case 's': *width = 0; *hi = TEMPLATE_MAX_TIME; break;
    default: break; /* 'y' */
    }
}

/* Reads exactly w digits at s (w > 0) into *v. */
static int read_digits(const char *s, int w, int64_t *v)
{
    int64_t x = 0;
    for (int i = 0; i < w; i++) {
        if (s[i] < '0' || s[i] > '9')
            return 0;
        x = x * 10 + (s[i] - '0');
    }
    *v = x;
    return 1;
}

/* Sets *at to the start time the captured fields fix: 1, or 0 when they do
 * not fix a date, or -1 when the date they fix is outside 1970..9999. */
static int captured_time(const struct captures *c, time_t *at)
{
#define HAS(ch) (c->seen & (1u << conv_index(ch)))
#define VAL(ch) (c->val[conv_index(ch)])
    int64_t t;
    if (HAS('s')) {
        t = VAL('s');
    } else {
        int64_t year;
        if (HAS('Y'))
            year = VAL('Y');
        else if (HAS('y'))
            year = VAL('y') + (VAL('y') < 69 ? 2000 : 1900); /* POSIX strptime's rule */
        else
            return 0;
        int64_t days;
        if (HAS('m') && HAS('d'))
            days = civil_days(year, (int)VAL('m'), (int)VAL('d'));
        else if (HAS('j'))
            days = civil_days(year, 1, 1) + VAL('j') - 1;
        else
            return 0;
        t = days * 86400;
        if (HAS('H'))
            t += VAL('H') * 3600;
        if (HAS('M'))
            t += VAL('M') * 60;
        if (HAS('S'))
            t += VAL('S');
    }
    if (t < 0 || t > (int64_t)TEMPLATE_MAX_TIME)
        return -1;
    *at = (time_t)t;
    return 1;
#undef HAS
#undef VAL
}

/* The whole path is consumed: when the fields fix a date, expanding that
 * time again must give the path back. */
static int match_complete(struct matcher *m)
{
    time_t at = -1;
    int fixed = captured_time(&m->cap, &at);
    if (fixed < 0)
        return 0;
    if (fixed) {
        char *again = NULL;
        if (template_expand(&again, m->text, m->v, at, NULL, 0) < 0)
            return 0;
        int same = strcmp(again, m->path) == 0;
        free(again);
        if (!same)
            return 0;
    }
    m->when = at;
    return 1;
}

static int match_from(struct matcher *m, size_t i, const char *s);

/* Takes the w digits at s, worth x, for conversion token i. */
static int take(struct matcher *m, size_t i, const char *s, int w, int64_t x, int64_t lo,
                int64_t hi)
{
    if (x < lo || x > hi)
        return 0;
    int ci = conv_index(m->t->toks[i].conv);
    if ((m->cap.seen & (1u << ci)) && m->cap.val[ci] != x)
        return 0;
    struct captures saved = m->cap;
    m->cap.seen |= 1u << ci;
    m->cap.val[ci] = x;
    if (match_from(m, i + 1, s + w))
        return 1;
    m->cap = saved;
    return 0;
}

static int match_from(struct matcher *m, size_t i, const char *s)
{
    for (; i < m->t->n; i++) {
        const struct tok *k = &m->t->toks[i];
        if (k->kind == TOK_LIT) {
            if (strncmp(s, k->lit, k->len) != 0)
                return 0;
            s += k->len;
        } else if (k->kind == TOK_VAR) {
            struct buf b;
            buf_init(&b, TEMPLATE_MAX_OUT);
            put_value(&b, var_value(m->v, k->var));
            int same = !b.oom && (b.len == 0 || strncmp(s, b.data, b.len) == 0);
            size_t n = b.len;
            buf_free(&b);
            if (!same)
                return 0;
            s += n;
        } else {
            int w;
            int64_t lo, hi, x;
            conv_shape(k->conv, &w, &lo, &hi);
            if (w)
                return read_digits(s, w, &x) && take(m, i, s, w, x, lo, hi);
            /* %s: 1 to 12 digits without a leading zero (but "0"); the
             * longest first, then shorter ones if the rest fails. */
            int n = 0;
            while (n < 12 && s[n] >= '0' && s[n] <= '9')
                n++;
            for (; n >= 1; n--) {
                if (n > 1 && s[0] == '0')
                    continue;
                if (read_digits(s, n, &x) && take(m, i, s, n, x, lo, hi))
                    return 1;
            }
            return 0;
        }
    }
    return *s == '\0' && match_complete(m);
}

int template_match(const char *tpl, const struct template_vars *vars,
                   const char *path, time_t *when, char *err, size_t errlen)
{
    if (when)
        *when = -1;
    struct tpl t;
    if (compile(&t, tpl, err, errlen) < 0)
        return -1;
    struct matcher m = {.t = &t, .text = tpl, .path = path, .v = vars, .when = -1};
    int rc = check_vars(&t, vars, NULL, 0) == 0 && match_from(&m, 0, path);
    if (rc && when)
        *when = m.when;
    free(t.toks);
    return rc;
}
