#include "job/cursorval.h"
#include "common/civil.h"
#include "common/errbuf.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

#define US_PER_SEC INT64_C(1000000)
#define US_PER_DAY (INT64_C(86400) * US_PER_SEC)
/* civil_days(1, 1, 1) and civil_days(9999, 12, 31) */
#define MIN_DAYS INT64_C(-719162)
#define MAX_DAYS INT64_C(2932896)

/* The value as an error message may show it: one line, at most 40 bytes. */
static void show(char out[48], const char *s, size_t len)
{
    size_t n = len > 40 ? 40 : len;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        out[i] = ch < 0x20 || ch >= 0x7f ? '?' : (char)ch;
    }
    strcpy(out + n, len > n ? "..." : "");
}

static int add64(int64_t a, int64_t b, int64_t *r)
{
    return __builtin_add_overflow(a, b, r) ? -1 : 0;
}

static int mul64(int64_t a, int64_t b, int64_t *r)
{
    return __builtin_mul_overflow(a, b, r) ? -1 : 0;
}

/* ---- durations ---------------------------------------------------------- */

/* Reads 1+ digits at *p into *v; -1 on none, -2 on overflow. */
static int digits(const char **p, int64_t *v)
{
    const char *s = *p;
    int64_t x = 0;
    if (*s < '0' || *s > '9')
        return -1;
    for (; *s >= '0' && *s <= '9'; s++)
        if (mul64(x, 10, &x) < 0 || add64(x, *s - '0', &x) < 0)
            return -2;
    *p = s;
    *v = x;
    return 0;
}

int duration_parse(const char *s, struct duration *d, char *err, size_t errlen)
{
    assert(s && d);
    char shown[48];
    show(shown, s, strlen(s));
    memset(d, 0, sizeof *d);
    const char *p = s;
    int64_t x;
    int r;

    if (*p >= '0' && *p <= '9') {
        r = digits(&p, &x);
        if (r == -2)
            return errbuf_fail(err, errlen, -1, "duration '%s' is too large", shown);
        if (*p || x == 0)
            goto bad;
        d->is_count = 1;
        d->count = x;
        return 0;
    }
    if (*p++ != 'P')
        goto bad;

    /* Units in the order they must appear; the time part starts at T. */
    static const char units[] = "YMWDHMS";
    static const int64_t scale[] = {12, 1, 7, 1, 3600 * US_PER_SEC,
                                    60 * US_PER_SEC, US_PER_SEC};
    int next = 0, seen = 0, in_time = 0, time_seen = 0;
    while (*p) {
        if (*p == 'T') {
            if (in_time)
                goto bad;
            in_time = 1;
            next = 4;
            p++;
            continue;
        }
        r = digits(&p, &x);
        if (r == -2)
            goto big;
        if (r < 0)
            goto bad;
        int64_t fr = 0;
        int has_frac = *p == '.';
        if (has_frac) {
            p++;
            int nd = 0;
            for (; *p >= '0' && *p <= '9'; p++, nd++)
                if (nd < 6)
                    fr = fr * 10 + (*p - '0');
            if (nd == 0)
                goto bad;
            if (nd > 6)
                return errbuf_fail(err, errlen, -1,
                                   "duration '%s' has more than 6 fraction digits", shown);
            for (; nd < 6; nd++)
                fr *= 10;
        }
        int u = next, end = in_time ? 7 : 4;
        while (u < end && units[u] != *p)
            u++;
        if (u == end || (has_frac && u != 6))
            goto bad;
        int64_t *dst = u <= 1 ? &d->months : u <= 3 ? &d->days : &d->usec;
        if (mul64(x, scale[u], &x) < 0 || add64(x, fr, &x) < 0 ||
            add64(*dst, x, dst) < 0)
            goto big;
        p++;
        next = u + 1;
        seen = 1;
        time_seen |= in_time;
    }
    if (!seen || (in_time && !time_seen))
        goto bad;
    return 0;
big:
    return errbuf_fail(err, errlen, -1, "duration '%s' is too large", shown);
bad:
    return errbuf_fail(err, errlen, -1,
                       "duration '%s' is neither an ISO 8601 duration (PT15M, P1D) "
                       "nor a positive count", shown);
}

/* ---- parsing values ----------------------------------------------------- */

/* Exactly n digits at s. */
static int fixed(const char *s, int n, int *v)
{
    int x = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        x = x * 10 + (s[i] - '0');
    }
    *v = x;
    return 0;
}

static int parse_int(const char *s, size_t len, int64_t *v)
{
    size_t i = s[0] == '-';
    if (i == len)
        return -1;
    int64_t x = 0;
    for (; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        /* Accumulate negatively so INT64_MIN parses. */
        if (mul64(x, 10, &x) < 0 || add64(x, -(s[i] - '0'), &x) < 0)
            return -2;
    }
    if (s[0] != '-') {
        if (x == INT64_MIN)
            return -2;
        x = -x;
    }
    *v = x;
    return 0;
}

/* 0, -1 not the shape, -2 no such date or time, -3 too many fraction
 * digits. */
static int parse_time(const char *s, size_t len, struct cursor_value *c)
{
    int y, mo, d, h, mi, se;
    if (len < 10 || fixed(s, 4, &y) || s[4] != '-' || fixed(s + 5, 2, &mo) ||
        s[7] != '-' || fixed(s + 8, 2, &d))
        return -1;
    int bad = y < 1 || mo < 1 || mo > 12 || d < 1 || d > civil_month_days(y, mo);
    int64_t days = bad ? 0 : civil_days(y, mo, d);
    memset(c, 0, sizeof *c);
    if (len == 10) {
        c->type = CV_DATE;
        c->v = days;
        return bad ? -2 : 0;
    }
    if (len < 19 || (s[10] != 'T' && s[10] != ' ') || fixed(s + 11, 2, &h) ||
        s[13] != ':' || fixed(s + 14, 2, &mi) || s[16] != ':' ||
        fixed(s + 17, 2, &se))
        return -1;
    c->type = CV_TIMESTAMP;
    c->sep = s[10];
    size_t i = 19;
    int64_t us = 0;
    if (i < len && s[i] == '.') {
        i++;
        while (i < len && s[i] >= '0' && s[i] <= '9' && c->frac < 7) {
            us = us * 10 + (s[i++] - '0');
            c->frac++;
        }
        if (c->frac == 0)
            return -1;
        if (c->frac > 6)
            return -3;
        for (int k = c->frac; k < 6; k++)
            us *= 10;
    }
    if (i < len && s[i] == 'Z') {
        c->zone = CV_ZONE_Z;
        i++;
    } else if (i < len && (s[i] == '+' || s[i] == '-')) {
        int neg = s[i] == '-', oh, om = 0;
        size_t rest = len - i - 1;
        const char *o = s + i + 1;
        if (rest == 2 && !fixed(o, 2, &oh))
            c->offset_form = CV_OFF_HH;
        else if (rest == 4 && !fixed(o, 2, &oh) && !fixed(o + 2, 2, &om))
            c->offset_form = CV_OFF_HHMM;
        else if (rest == 5 && !fixed(o, 2, &oh) && o[2] == ':' &&
                 !fixed(o + 3, 2, &om))
            c->offset_form = CV_OFF_HH_MM;
        else
            return -1;
        /* PostgreSQL accepts offsets up to 15:59. */
        if (oh > 15 || om > 59)
            return -2;
        c->zone = CV_ZONE_OFFSET;
        c->offset_min = (neg ? -1 : 1) * (oh * 60 + om);
        c->offset_negzero = neg && c->offset_min == 0;
        i = len;
    }
    if (i != len)
        return -1;
    if (bad || h > 23 || mi > 59 || se > 59)
        return -2;
    c->v = days * US_PER_DAY + ((int64_t)h * 3600 + mi * 60 + se) * US_PER_SEC + us;
    return 0;
}

int cv_parse(const struct keyval *k, struct cursor_value *out, char *err,
             size_t errlen)
{
    assert(k && out);
    memset(out, 0, sizeof *out);
    if (k->kind == KEY_INT) {
        out->type = CV_INT;
        out->v = k->i;
        return 0;
    }
    if (k->kind == KEY_NULL)
        return errbuf_fail(err, errlen, -1, "cursor value is NULL");
    if (k->kind != KEY_TEXT)
        return errbuf_fail(err, errlen, -1, "cursor value of this type (%s) is not an "
                           "integer, date or timestamp",
                           k->kind == KEY_REAL ? "floating point" : "binary");
    char shown[48];
    show(shown, k->s, k->len);
    if (k->len == 0)
        return errbuf_fail(err, errlen, -1, "cursor value '' is not an integer, date or timestamp");
    int r = parse_int(k->s, k->len, &out->v);
    if (r == 0) {
        out->type = CV_INT;
        out->as_text = 1;
        return 0;
    }
    if (r == -2)
        return errbuf_fail(err, errlen, -1, "cursor value '%s' is out of the 64-bit integer range",
                           shown);
    r = parse_time(k->s, k->len, out);
    if (r == -3)
        return errbuf_fail(err, errlen, -1, "cursor value '%s' has more than 6 fraction "
                           "digits", shown);
    if (r == -2)
        return errbuf_fail(err, errlen, -1, "cursor value '%s' is not a valid date or time",
                           shown);
    if (r < 0)
        return errbuf_fail(err, errlen, -1, "cursor value '%s' is not an integer, date or "
                           "timestamp (YYYY-MM-DD[ HH:MM:SS[.ffffff][zone]])", shown);
    return 0;
}

/* ---- writing values ----------------------------------------------------- */

int cv_to_key(const struct cursor_value *c, struct keytuple *t, size_t i)
{
    assert(c && t && i < t->n);
    char b[64];
    int n;
    if (c->type == CV_INT) {
        if (!c->as_text)
            return key_set_int(t, i, c->v);
        n = snprintf(b, sizeof b, "%lld", (long long)c->v);
        return key_set_text(t, i, b, (size_t)n);
    }
    int64_t days = c->type == CV_DATE ? c->v : floor_div(c->v, US_PER_DAY);
    int64_t y;
    int mo, d;
    civil_date(days, &y, &mo, &d);
    n = snprintf(b, sizeof b, "%04lld-%02d-%02d", (long long)y, mo, d);
    if (c->type == CV_TIMESTAMP) {
        int64_t tod = c->v - days * US_PER_DAY;
        int64_t sec = tod / US_PER_SEC, us = tod % US_PER_SEC;
        n += snprintf(b + n, sizeof b - (size_t)n, "%c%02d:%02d:%02d",
                      c->sep == ' ' ? ' ' : 'T', (int)(sec / 3600),
                      (int)(sec / 60 % 60), (int)(sec % 60));
        /* Never narrower than read; wide enough that no microsecond is lost. */
        int need = 6;
        for (int64_t u = us; need > 0 && u % 10 == 0; u /= 10)
            need--;
        int w = c->frac > need ? c->frac : need;
        if (w > 6)
            w = 6;
        if (w > 0) {
            int64_t f = us;
            for (int k = w; k < 6; k++)
                f /= 10;
            n += snprintf(b + n, sizeof b - (size_t)n, ".%0*lld", w, (long long)f);
        }
        if (c->zone == CV_ZONE_Z) {
            b[n++] = 'Z';
        } else if (c->zone == CV_ZONE_OFFSET) {
            int a = c->offset_min < 0 ? -c->offset_min : c->offset_min;
            char sign = c->offset_min < 0 || c->offset_negzero ? '-' : '+';
            if (c->offset_form == CV_OFF_HH && a % 60 == 0)
                n += snprintf(b + n, sizeof b - (size_t)n, "%c%02d", sign, a / 60);
            else if (c->offset_form == CV_OFF_HHMM)
                n += snprintf(b + n, sizeof b - (size_t)n, "%c%02d%02d", sign,
                              a / 60, a % 60);
            else
                n += snprintf(b + n, sizeof b - (size_t)n, "%c%02d:%02d", sign,
                              a / 60, a % 60);
        }
    }
    return key_set_text(t, i, b, (size_t)n);
}

/* ---- arithmetic --------------------------------------------------------- */

static int range_err(char *err, size_t errlen)
{
    return errbuf_fail(err, errlen, -1, "cursor value would leave the years 0001-9999");
}

/* Moves a day number by m months, keeping the day of month when it exists
 * and else taking the month's last day. */
static int add_months(int64_t *days, int64_t m, char *err, size_t errlen)
{
    int64_t y, total;
    int mo, d;
    civil_date(*days, &y, &mo, &d);
    if (add64(y * 12 + (mo - 1), m, &total) < 0)
        return range_err(err, errlen);
    y = floor_div(total, 12);
    mo = (int)(total - y * 12) + 1;
    if (y < 1 || y > 9999)
        return range_err(err, errlen);
    int dim = civil_month_days(y, mo);
    *days = civil_days(y, mo, d > dim ? dim : d);
    return 0;
}

int cv_add(struct cursor_value *c, const struct duration *d, int sign,
           char *err, size_t errlen)
{
    assert(c && d && (sign == 1 || sign == -1));
    if (c->type == CV_INT) {
        if (!d->is_count)
            return errbuf_fail(err, errlen, -1, "an integer cursor moves by a count "
                               "(like 1000), not by an ISO 8601 duration");
        int64_t v;
        if (add64(c->v, sign * d->count, &v) < 0)
            return errbuf_fail(err, errlen, -1, "integer cursor arithmetic overflows");
        c->v = v;
        return 0;
    }
    if (d->is_count)
        return errbuf_fail(err, errlen, -1, "a date or timestamp cursor moves by an ISO "
                           "8601 duration (like PT1H or P1D), not by a count");
    if (c->type == CV_DATE && d->usec % US_PER_DAY != 0)
        return errbuf_fail(err, errlen, -1, "a date cursor moves only by whole days");
    int64_t days = c->type == CV_DATE ? c->v : floor_div(c->v, US_PER_DAY);
    int64_t tod = c->type == CV_DATE ? 0 : c->v - days * US_PER_DAY;
    int64_t v, x;
    /* Every component has the same sign, so the value moves monotonically
     * and a range check at each step is enough. */
    if (add_months(&days, sign * d->months, err, errlen) < 0)
        return -1;
    if (c->type == CV_DATE) {
        if (add64(d->days, d->usec / US_PER_DAY, &x) < 0 ||
            add64(days, sign * x, &v) < 0)
            return range_err(err, errlen);
        if (v < MIN_DAYS || v > MAX_DAYS)
            return range_err(err, errlen);
    } else {
        if (mul64(d->days, US_PER_DAY, &x) < 0 ||
            add64(days * US_PER_DAY + tod, sign * x, &v) < 0 ||
            add64(v, sign * d->usec, &v) < 0)
            return range_err(err, errlen);
        if (v < MIN_DAYS * US_PER_DAY || v >= (MAX_DAYS + 1) * US_PER_DAY)
            return range_err(err, errlen);
    }
    c->v = v;
    return 0;
}

int cv_floor(struct cursor_value *c, const struct duration *g, char *err,
             size_t errlen)
{
    assert(c && g);
    int64_t step, v;
    if (c->type == CV_INT) {
        if (!g->is_count)
            return errbuf_fail(err, errlen, -1, "an integer cursor aligns to a count "
                               "(like 1000), not to an ISO 8601 duration");
        if (g->count <= 0)
            return errbuf_fail(err, errlen, -1, "alignment count must be positive");
        if (mul64(floor_div(c->v, g->count), g->count, &v) < 0)
            return errbuf_fail(err, errlen, -1, "integer cursor arithmetic overflows");
        c->v = v;
        return 0;
    }
    if (g->is_count)
        return errbuf_fail(err, errlen, -1, "a date or timestamp cursor aligns to an ISO "
                           "8601 duration (like PT1H or P1D), not to a count");
    if (g->months)
        return errbuf_fail(err, errlen, -1, "cannot align to months or years: they vary "
                           "in length");
    if (mul64(g->days, US_PER_DAY, &step) < 0 || add64(step, g->usec, &step) < 0)
        return errbuf_fail(err, errlen, -1, "alignment duration is too large");
    if (step <= 0)
        return errbuf_fail(err, errlen, -1, "alignment duration must not be zero");
    if (c->type == CV_DATE) {
        if (step % US_PER_DAY != 0)
            return errbuf_fail(err, errlen, -1, "a date cursor aligns only to whole days");
        step /= US_PER_DAY;
        v = floor_div(c->v, step) * step; /* |v| <= |c->v| + step: no overflow */
        if (v < MIN_DAYS)
            return range_err(err, errlen);
    } else {
        if (mul64(floor_div(c->v, step), step, &v) < 0 || v < MIN_DAYS * US_PER_DAY)
            return range_err(err, errlen);
    }
    c->v = v;
    return 0;
}

static int64_t utc_us(const struct cursor_value *c)
{
    if (c->type == CV_DATE)
        return c->v * US_PER_DAY;
    if (c->zone == CV_ZONE_OFFSET)
        return c->v - (int64_t)c->offset_min * 60 * US_PER_SEC;
    return c->v;
}

int cv_cmp(const struct cursor_value *a, const struct cursor_value *b)
{
    assert(a && b);
    int ai = a->type == CV_INT, bi = b->type == CV_INT;
    if (ai != bi)
        return ai ? -1 : 1;
    int64_t x = ai ? a->v : utc_us(a), y = bi ? b->v : utc_us(b);
    return (x > y) - (x < y);
}
