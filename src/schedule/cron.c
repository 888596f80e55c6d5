#include "schedule/cron.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/civil.h"
#include "schedule/suggest.h"

/* 1970-01-01T00:00:00Z .. 9999-12-31T23:59:59Z */
#define CRON_MIN_TIME ((time_t)0)
#define CRON_MAX_TIME ((time_t)253402300799)
#define ALL_HOURS 0xFFFFFFu
#define DAY 86400
/* Offsets are probed a day apart and a change is then found by bisection;
 * two changes within one day would not be seen, and the zone database has
 * none less than a week apart since 1970. A fall-back's repeated times lie
 * within DAY of the change. */
#define PROBE_STEP DAY

/* ---------------------------------------------------------------- parse */

struct field {
    const char *name;
    int lo, hi;
    const char *const *names; /* three-letter names for lo.., or NULL */
    int name_base;            /* value of names[0] */
    const char *name_hint;
};

static const char *const MONTH_NAMES[] = {"jan", "feb", "mar", "apr", "may", "jun",
                                          "jul", "aug", "sep", "oct", "nov", "dec", NULL};
static const char *const WDAY_NAMES[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat", NULL};

static const struct field FIELDS[5] = {
    {"minute", 0, 59, NULL, 0, NULL},
    {"hour", 0, 23, NULL, 0, NULL},
    {"day-of-month", 1, 31, NULL, 0, NULL},
    {"month", 1, 12, MONTH_NAMES, 1, "jan-dec or 1-12"},
    {"day-of-week", 0, 7, WDAY_NAMES, 0, "sun-sat or 0-7"},
};

static const char *const MACROS[][2] = {
    {"@hourly", "0 * * * *"},  {"@daily", "0 0 * * *"},   {"@midnight", "0 0 * * *"},
    {"@weekly", "0 0 * * 0"},  {"@monthly", "0 0 1 * *"}, {"@yearly", "0 0 1 1 *"},
    {"@annually", "0 0 1 1 *"},
};
#define N_MACROS (sizeof MACROS / sizeof MACROS[0])

static const int MONTH_DAYS_MAX[13] = {0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

static int set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int set_err(char *err, size_t errlen, const char *fmt, ...)
{
    if (errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

static int is_blank(char c)
{
    return c == ' ' || c == '\t';
}

static int is_alnum(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* "'x'", or "'\xNN'" for a byte that is not printable ASCII. */
static const char *show_char(char c, char buf[8])
{
    unsigned char u = (unsigned char)c;
    if (u > 0x20 && u < 0x7f)
        snprintf(buf, 8, "'%c'", c);
    else
        snprintf(buf, 8, "'\\x%02X'", u);
    return buf;
}

/* The item [s, s+len) for messages, cut at 40 bytes. */
#define ITEM(s, len) ((len) > 40 ? 40 : (int)(len)), (s)

/* Reads a number or a name at *pp (before end) into *v, checking its range. */
static int read_value(const struct field *f, const char **pp, const char *end,
                      const char *item, size_t ilen, int *v, char *err, size_t errlen)
{
    const char *t = *pp, *p = t;
    while (p < end && is_alnum(*p))
        p++;
    size_t n = (size_t)(p - t);
    if (n == 0) {
        char cb[8];
        if (t < end)
            return set_err(err, errlen, "%s: unexpected %s in '%.*s'", f->name,
                           show_char(*t, cb), ITEM(item, ilen));
        return set_err(err, errlen, "%s: '%.*s' is missing a value", f->name, ITEM(item, ilen));
    }
    size_t digits = 0;
    while (digits < n && t[digits] >= '0' && t[digits] <= '9')
        digits++;
    if (digits == n) {
        long x = 0;
        for (size_t i = 0; i < n && x <= 1000000; i++)
            x = x * 10 + (t[i] - '0');
        if (x < f->lo || x > f->hi)
            return set_err(err, errlen, "%s: %.*s is out of range %d-%d", f->name,
                           n > 20 ? 20 : (int)n, t, f->lo, f->hi);
        *v = (int)x;
    } else if (f->names) {
        int found = -1;
        for (int i = 0; f->names[i] && n == 3; i++)
            if (strncasecmp(t, f->names[i], 3) == 0)
                found = i;
        if (found < 0)
            return set_err(err, errlen, "%s: unknown name '%.*s' (use %s)", f->name,
                           n > 20 ? 20 : (int)n, t, f->name_hint);
        *v = found + f->name_base;
    } else {
        return set_err(err, errlen, "%s: '%.*s' is not a number", f->name,
                       n > 20 ? 20 : (int)n, t);
    }
    *pp = p;
    return 0;
}

/* One list item [s, s+len): `*`, n, a-b, each with an optional /step. */
static int parse_item(const struct field *f, const char *s, size_t len, uint64_t *bits,
                      char *err, size_t errlen)
{
    const char *p = s, *end = s + len;
    int a, b, step = 1;
    if (len == 0)
        return set_err(err, errlen, "%s: empty item in the list", f->name);
    if (*p == '*') {
        a = f->lo;
        b = f->hi;
        p++;
    } else {
        if (read_value(f, &p, end, s, len, &a, err, errlen) < 0)
            return -1;
        b = a;
        if (p < end && *p == '-') {
            p++;
            if (read_value(f, &p, end, s, len, &b, err, errlen) < 0)
                return -1;
            if (a > b) {
                int top = f->hi == 7 ? 6 : f->hi; /* day-of-week: 7 is Sunday again */
                return set_err(err, errlen,
                               "%s: range '%.*s' goes backwards (ranges do not wrap: write "
                               "%d-%d,%d-%d)", f->name, ITEM(s, len), a, top, f->lo, b);
            }
        } else if (p < end && *p == '/') {
            return set_err(err, errlen,
                           "%s: '%.*s' has a step but no range (write %d-%d%.*s or *%.*s)",
                           f->name, ITEM(s, len), a, f->hi, (int)(end - p), p,
                           (int)(end - p), p);
        }
    }
    if (p < end && *p == '/') {
        const char *t = ++p;
        long x = 0;
        while (p < end && *p >= '0' && *p <= '9') {
            if (x <= 1000000)
                x = x * 10 + (*p - '0');
            p++;
        }
        if (p == t)
            return set_err(err, errlen, "%s: '%.*s' needs a number after '/'", f->name,
                           ITEM(s, len));
        if (x == 0)
            return set_err(err, errlen, "%s: step 0 in '%.*s' (a step is 1 or more)", f->name,
                           ITEM(s, len));
        step = x > f->hi ? f->hi + 1 : (int)x;
    }
    if (p < end) {
        char cb[8];
        return set_err(err, errlen, "%s: unexpected %s in '%.*s'", f->name, show_char(*p, cb),
                       ITEM(s, len));
    }
    for (int v = a; v <= b; v += step)
        *bits |= (uint64_t)1 << v;
    return 0;
}

static int parse_field(const struct field *f, const char *s, size_t len, uint64_t *bits,
                       char *err, size_t errlen)
{
    *bits = 0;
    const char *end = s + len;
    for (;;) {
        const char *comma = memchr(s, ',', (size_t)(end - s));
        const char *stop = comma ? comma : end;
        if (parse_item(f, s, (size_t)(stop - s), bits, err, errlen) < 0)
            return -1;
        if (!comma)
            return 0;
        s = comma + 1;
    }
}

static int parse_macro(struct cron_spec *out, const char *text, char *err, size_t errlen)
{
    size_t n = 0;
    while (text[n] && !is_blank(text[n]))
        n++;
    const char *rest = text + n;
    while (is_blank(*rest))
        rest++;
    if (*rest)
        return set_err(err, errlen, "expected nothing after '%.*s'", ITEM(text, n));
    if (n == 7 && strncmp(text, "@reboot", 7) == 0)
        return set_err(err, errlen, "@reboot is not supported: it names no time "
                       "(use @daily or a 5-field schedule)");
    for (size_t i = 0; i < N_MACROS; i++)
        if (strlen(MACROS[i][0]) == n && strncmp(text, MACROS[i][0], n) == 0)
            return cron_parse(out, MACROS[i][1], err, errlen);
    const char *names[N_MACROS];
    for (size_t i = 0; i < N_MACROS; i++)
        names[i] = MACROS[i][0];
    char word[SUGGEST_MAX_LEN + 1];
    const char *near = NULL;
    if (n <= SUGGEST_MAX_LEN) {
        memcpy(word, text, n);
        word[n] = '\0';
        near = suggest_word(word, names, N_MACROS);
    }
    if (near)
        return set_err(err, errlen, "unknown macro '%.*s', did you mean %s?", ITEM(text, n),
                       near);
    return set_err(err, errlen, "unknown macro '%.*s' (use @hourly, @daily, @midnight, "
                   "@weekly, @monthly, @yearly or @annually)", ITEM(text, n));
}

int cron_parse(struct cron_spec *out, const char *text, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    while (is_blank(*text))
        text++;
    if (!*text)
        return set_err(err, errlen, "empty schedule");
    if (*text == '@')
        return parse_macro(out, text, err, errlen);

    const char *start[6];
    size_t len[6];
    int nf = 0;
    for (const char *p = text; *p;) {
        if (is_blank(*p)) {
            p++;
            continue;
        }
        const char *s = p;
        while (*p && !is_blank(*p))
            p++;
        if (nf < 6) {
            start[nf] = s;
            len[nf] = (size_t)(p - s);
        }
        nf++;
    }
    if (nf != 5)
        return set_err(err, errlen, "expected 5 fields (minute hour day-of-month month "
                       "day-of-week), found %d", nf);
    uint64_t bits[5];
    for (int i = 0; i < 5; i++)
        if (parse_field(&FIELDS[i], start[i], len[i], &bits[i], err, errlen) < 0)
            return -1;
    out->minutes = bits[0];
    out->hours = (uint32_t)bits[1];
    out->mdays = (uint32_t)bits[2];
    out->months = (uint16_t)bits[3];
    out->wdays = (uint8_t)((bits[4] | (bits[4] >> 7)) & 0x7f); /* 7 is Sunday */
    out->mday_star = start[2][0] == '*';
    out->wday_star = start[4][0] == '*';

    /* With the days AND-ed, some day of a chosen month must be chosen. */
    if (out->mday_star || out->wday_star) {
        int ok = 0, first = 0;
        for (int d = 31; d >= 1; d--)
            if (out->mdays >> d & 1)
                first = d;
        for (int m = 1; m <= 12 && !ok; m++)
            for (int d = 1; d <= MONTH_DAYS_MAX[m] && !ok; d++)
                ok = (out->months >> m & 1) && (out->mdays >> d & 1);
        if (!ok)
            return set_err(err, errlen, "day-of-month: the schedule never fires: no month "
                           "chosen has a day %d", first);
    }
    return 0;
}

/* ------------------------------------------------------- civil calendar */

/* A wall-clock position, one minute resolution. */
struct civil {
    int64_t y;
    int mo, d, h, mi;
};

static struct civil civil_of(int64_t minutes)
{
    struct civil c;
    int64_t days = floor_div(minutes, 1440);
    int rem = (int)(minutes - days * 1440);
    civil_date(days, &c.y, &c.mo, &c.d);
    c.h = rem / 60;
    c.mi = rem % 60;
    return c;
}

/* Wall-clock seconds ("as if UTC") of c. */
static int64_t civil_wall(const struct civil *c)
{
    return ((civil_days(c->y, c->mo, c->d) * 24 + c->h) * 60 + c->mi) * 60;
}

static int day_matches(const struct cron_spec *s, const struct civil *c)
{
    int64_t z = civil_days(c->y, c->mo, c->d) + 4; /* 1970-01-01 was a Thursday */
    int wday = (int)(z - floor_div(z, 7) * 7);
    int dom = (int)(s->mdays >> c->d & 1), dow = (int)(s->wdays >> wday & 1);
    if (s->mday_star || s->wday_star)
        return dom && dow;
    return dom || dow;
}

/* Lowest set bit of bits at or above from (up to top), or -1. */
static int bit_at_or_above(uint64_t bits, int from, int top)
{
    for (int i = from; i <= top; i++)
        if (bits >> i & 1)
            return i;
    return -1;
}

static int bit_at_or_below(uint64_t bits, int from)
{
    for (int i = from; i >= 0; i--)
        if (bits >> i & 1)
            return i;
    return -1;
}

static void next_day(struct civil *c)
{
    c->h = c->mi = 0;
    if (++c->d > civil_month_days(c->y, c->mo)) {
        c->d = 1;
        if (++c->mo > 12) {
            c->mo = 1;
            c->y++;
        }
    }
}

static void prev_day(struct civil *c)
{
    c->h = 23;
    c->mi = 59;
    if (--c->d < 1) {
        if (--c->mo < 1) {
            c->mo = 12;
            c->y--;
        }
        c->d = civil_month_days(c->y, c->mo);
    }
}

/* The first matching wall-clock minute at or after wall (seconds), skipping
 * by fields: months, then days, hours, minutes. false when none before the
 * year 10000. */
static bool civil_next(const struct cron_spec *s, int64_t wall, int64_t *out)
{
    struct civil c = civil_of(-floor_div(-wall, 60)); /* round up to a minute */
    while (c.y <= 9999) {
        if (!(s->months >> c.mo & 1)) {
            int m = bit_at_or_above(s->months, c.mo + 1, 12);
            if (m < 0) {
                c.y++;
                m = bit_at_or_above(s->months, 1, 12);
            }
            c.mo = m;
            c.d = 1;
            c.h = c.mi = 0;
            continue;
        }
        if (!day_matches(s, &c)) {
            next_day(&c);
            continue;
        }
        int h = bit_at_or_above(s->hours, c.h, 23);
        if (h < 0) {
            next_day(&c);
            continue;
        }
        if (h != c.h) {
            c.h = h;
            c.mi = 0;
        }
        int mi = bit_at_or_above(s->minutes, c.mi, 59);
        if (mi < 0) {
            c.mi = 0;
            if (++c.h > 23)
                next_day(&c);
            continue;
        }
        c.mi = mi;
        *out = civil_wall(&c);
        return true;
    }
    return false;
}

/* The last matching wall-clock minute at or before wall; false when none
 * since 1900. */
static bool civil_prev(const struct cron_spec *s, int64_t wall, int64_t *out)
{
    struct civil c = civil_of(floor_div(wall, 60));
    while (c.y >= 1900) {
        if (!(s->months >> c.mo & 1)) {
            int m = bit_at_or_below(s->months, c.mo - 1);
            if (m < 1) {
                c.y--;
                m = bit_at_or_below(s->months, 12);
            }
            c.mo = m;
            c.d = civil_month_days(c.y, c.mo);
            c.h = 23;
            c.mi = 59;
            continue;
        }
        if (!day_matches(s, &c)) {
            prev_day(&c);
            continue;
        }
        int h = bit_at_or_below(s->hours, c.h);
        if (h < 0) {
            prev_day(&c);
            continue;
        }
        if (h != c.h) {
            c.h = h;
            c.mi = 59;
        }
        int mi = bit_at_or_below(s->minutes, c.mi);
        if (mi < 0) {
            c.mi = 59;
            if (--c.h < 0)
                prev_day(&c);
            continue;
        }
        c.mi = mi;
        *out = civil_wall(&c);
        return true;
    }
    return false;
}

/* ------------------------------------------------------------ the zone */

static bool zone_is_utc = true;
static char zone_name[256] = "UTC";

/* Seconds east of UTC at t in the zone in use. */
static long offset_at(time_t t)
{
    if (zone_is_utc)
        return 0;
    struct tm tm;
    if (!localtime_r(&t, &tm))
        return 0;
    return tm.tm_gmtoff;
}

/* The first instant in (a, b] whose offset is not o (the offset at a), by
 * probing every PROBE_STEP and bisecting. */
static bool change_after(time_t a, time_t b, long o, time_t *e)
{
    if (zone_is_utc || b <= a)
        return false;
    for (time_t prev = a;;) {
        time_t p = b - prev > PROBE_STEP ? prev + PROBE_STEP : b;
        if (offset_at(p) != o) {
            time_t lo = prev, hi = p; /* offset o at lo, not at hi */
            while (hi - lo > 1) {
                time_t mid = lo + (hi - lo) / 2;
                if (offset_at(mid) == o)
                    lo = mid;
                else
                    hi = mid;
            }
            *e = hi;
            return true;
        }
        if (p == b)
            return false;
        prev = p;
    }
}

/* The first instant s in (a, b] such that the offset is o (the offset at
 * b) all through [s, b], when the offset before s is not o; false when the
 * offset is o all through [a, b]. */
static bool change_before(time_t b, time_t a, long o, time_t *s)
{
    if (zone_is_utc || b <= a)
        return false;
    for (time_t next = b;;) {
        time_t p = next - a > PROBE_STEP ? next - PROBE_STEP : a;
        if (offset_at(p) != o) {
            time_t lo = p, hi = next; /* not o at lo, o at hi */
            while (hi - lo > 1) {
                time_t mid = lo + (hi - lo) / 2;
                if (offset_at(mid) == o)
                    hi = mid;
                else
                    lo = mid;
            }
            *s = hi;
            return true;
        }
        if (p == a)
            return false;
        next = p;
    }
}

int cron_check_timezone(const char *name, char *err, size_t errlen)
{
    if (strcmp(name, "UTC") == 0 || strcmp(name, "Etc/UTC") == 0)
        return 0;
    size_t n = strlen(name);
    int ok = n > 0 && n < 200 && name[0] != '/';
    for (size_t i = 0; ok && i < n; i++) {
        char c = name[i];
        ok = is_alnum(c) || c == '/' || c == '_' || c == '-' || c == '+' || c == '.';
        if (c == '.' && (i == 0 || name[i - 1] == '/'))
            ok = 0; /* no "." or ".." component, no hidden file */
    }
    if (!ok)
        return set_err(err, errlen, "'%.*s' is not a time zone name (like Europe/Berlin)",
                       n > 60 ? 60 : (int)n, name);
    const char *dir = getenv("TZDIR");
    if (!dir || !*dir)
        dir = "/usr/share/zoneinfo";
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        struct stat st;
        if (errno == ENOENT && stat(dir, &st) < 0)
            return set_err(err, errlen, "unknown time zone '%s': no zone database in %s "
                           "(install the tzdata package)", name, dir);
        return set_err(err, errlen, "unknown time zone '%s' (no file %s: %s)", name, path,
                       strerror(errno));
    }
    struct stat st;
    char magic[4] = {0};
    int good = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
               read(fd, magic, sizeof magic) == (ssize_t)sizeof magic &&
               memcmp(magic, "TZif", 4) == 0;
    close(fd);
    if (!good)
        return set_err(err, errlen, "unknown time zone '%s' (%s is not a zone file)", name,
                       path);
    return 0;
}

int cron_use_timezone(const char *name, char *err, size_t errlen)
{
    if (cron_check_timezone(name, err, errlen) < 0)
        return -1;
    if (strcmp(name, "UTC") == 0 || strcmp(name, "Etc/UTC") == 0) {
        zone_is_utc = true;
        snprintf(zone_name, sizeof zone_name, "%s", name);
        return 0;
    }
    if (setenv("TZ", name, 1) != 0)
        return set_err(err, errlen, "cannot set TZ: %s", strerror(errno));
    tzset();
    zone_is_utc = false;
    snprintf(zone_name, sizeof zone_name, "%s", name);
    return 0;
}

const char *cron_timezone(void)
{
    return zone_name;
}

/* --------------------------------------------------------------- fires */

/* See the header for the rules. Instants are walked one constant-offset
 * segment at a time: inside a segment wall = instant + offset, so the next
 * matching wall-clock minute gives the next instant directly; at a change
 * the rules for skipped and repeated times apply. A schedule restricted to
 * some hours ("time of day") skips repeated times and fires once at the end
 * of a gap that swallowed any of its times. */

int cron_next(const struct cron_spec *c, time_t after, time_t *out)
{
    if (after < CRON_MIN_TIME || after > CRON_MAX_TIME)
        return -1;
    bool time_of_day = c->hours != ALL_HOURS;
    time_t cur = after; /* offset o holds from cur on, up to the next change */
    time_t lo = after + 1;
    long o = offset_at(after);
    /* Set when cur's segment began with a change: its start and the offset
     * before it (walls below start + o_prev were seen already). */
    bool have_start = false;
    time_t start = 0;
    long o_prev = 0;
    if (time_of_day && change_before(after, after - DAY, o, &start)) {
        have_start = true;
        o_prev = offset_at(start - 1);
    }
    for (int guard = 0; guard < 100000; guard++) {
        int64_t wlo = (int64_t)lo + o;
        if (have_start && o_prev > o && wlo < (int64_t)start + o_prev)
            wlo = (int64_t)start + o_prev;
        int64_t w;
        if (!civil_next(c, wlo, &w))
            return -1;
        int64_t cand = w - o;
        if (cand > (int64_t)CRON_MAX_TIME)
            return -1;
        time_t e;
        if (!change_after(cur, (time_t)cand, o, &e)) {
            *out = (time_t)cand;
            return 0;
        }
        long o_next = offset_at(e);
        if (time_of_day && o_next > o) { /* walls [e + o, e + o_next) skipped */
            int64_t g;
            if (civil_next(c, (int64_t)e + o, &g) && g < (int64_t)e + o_next) {
                *out = e;
                return 0;
            }
        }
        have_start = time_of_day;
        start = e;
        o_prev = o;
        o = o_next;
        cur = lo = e;
    }
    return -1;
}

int cron_prev(const struct cron_spec *c, time_t at, time_t *out)
{
    if (at < CRON_MIN_TIME || at > CRON_MAX_TIME)
        return -1;
    bool time_of_day = c->hours != ALL_HOURS;
    time_t hi = at; /* offset o holds from the segment's start up to hi */
    long o = offset_at(at);
    for (int guard = 0; guard < 100000; guard++) {
        int64_t w;
        if (!civil_prev(c, (int64_t)hi + o, &w))
            return -1;
        int64_t cand = w - o;
        time_t floor = cand < (int64_t)CRON_MIN_TIME ? CRON_MIN_TIME : (time_t)cand;
        time_t start;
        if (!change_before(hi, floor, o, &start)) {
            if (cand < (int64_t)CRON_MIN_TIME)
                return -1;
            /* cand is in this segment; for a time-of-day schedule it must
             * not repeat a wall time of the segment before. */
            if (!time_of_day || !change_before((time_t)cand, (time_t)cand - DAY, o, &start)) {
                *out = (time_t)cand;
                return 0;
            }
            long before = offset_at(start - 1);
            if (!(before > o && w < (int64_t)start + before)) {
                *out = (time_t)cand;
                return 0;
            }
        }
        /* No fire of this segment's own walls in [start, hi]. */
        long before = offset_at(start - 1);
        if (time_of_day && o > before) { /* walls [start + before, start + o) skipped */
            int64_t g;
            if (civil_next(c, (int64_t)start + before, &g) && g < (int64_t)start + o) {
                *out = start;
                return 0;
            }
        }
        hi = start - 1;
        o = before;
        if (hi < CRON_MIN_TIME)
            return -1;
    }
    return -1;
}

int cron_due(const struct cron_spec *c, time_t last_start, time_t now, time_t *fire)
{
    time_t f;
    if (cron_prev(c, now, &f) < 0 || f <= last_start)
        return 0;
    if (fire)
        *fire = f;
    return 1;
}

int cron_format_time(time_t t, char *out, size_t n)
{
    if (t < CRON_MIN_TIME || t > CRON_MAX_TIME || n == 0)
        return -1;
    struct tm tm;
    if (zone_is_utc) {
        if (!gmtime_r(&t, &tm) || strftime(out, n, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
            return -1;
        return 0;
    }
    if (!localtime_r(&t, &tm))
        return -1;
    size_t k = strftime(out, n, "%Y-%m-%dT%H:%M:%S", &tm);
    if (k == 0)
        return -1;
    long off = tm.tm_gmtoff;
    char sign = off < 0 ? '-' : '+';
    if (off < 0)
        off = -off;
    int w = snprintf(out + k, n - k, "%c%02ld:%02ld", sign, off / 3600, off / 60 % 60);
    return w < 0 || (size_t)w >= n - k ? -1 : 0;
}
