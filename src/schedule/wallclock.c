#include "schedule/wallclock.h"
#include "common/errbuf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int injected;
static time_t base;            /* the injected start */
static struct timespec origin; /* CLOCK_MONOTONIC when it started */
static double rate = 1.0;

int wallclock_parse_iso(const char *text, time_t *out)
{
    struct tm tm = {0};
    int frac = 0;
    char z = 0, extra = 0;
    int n = sscanf(text, "%4d-%2d-%2dT%2d:%2d:%2d%c", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                   &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &z);
    if (n != 7)
        return -1;
    const char *p = strchr(text, 'T') + 9; /* after HH:MM:SS */
    if (*p == '.') {
        for (p++; *p >= '0' && *p <= '9'; p++)
            frac++;
        if (!frac)
            return -1;
    }
    if (*p != 'Z' || sscanf(p + 1, "%c", &extra) == 1)
        return -1;
    if (tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31 ||
        tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60 || tm.tm_year < 1970)
        return -1;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    *out = timegm(&tm);
    return *out == (time_t)-1 ? -1 : 0;
}

int wallclock_init(char *err, size_t errlen)
{
    const char *now = getenv("SLUICE_NOW");
    const char *r = getenv("SLUICE_NOW_RATE");
    injected = 0;
    rate = 1.0;
    if (r && *r) {
        char *end;
        errno = 0;
        double v = strtod(r, &end);
        if (errno || end == r || *end || !(v >= 0.001 && v <= 100000))
            return errbuf_fail(err, errlen, -1, "SLUICE_NOW_RATE: expected a number from 0.001 to 100000");
        rate = v;
    }
    if (!now || !*now)
        return 0;
    if (now[0] == '@') {
        char *end;
        errno = 0;
        long long v = strtoll(now + 1, &end, 10);
        if (errno || end == now + 1 || *end || v < 0 || v > 253402300799LL)
            return errbuf_fail(err, errlen, -1, "SLUICE_NOW: expected @SECONDS or YYYY-MM-DDTHH:MM:SSZ");
        base = (time_t)v;
    } else if (wallclock_parse_iso(now, &base) < 0) {
        return errbuf_fail(err, errlen, -1, "SLUICE_NOW: expected @SECONDS or YYYY-MM-DDTHH:MM:SSZ");
    }
    clock_gettime(CLOCK_MONOTONIC, &origin);
    injected = 1;
    return 0;
}

time_t wallclock_now(void)
{
    if (!injected)
        return time(NULL);
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    double elapsed = (double)(ts.tv_sec - origin.tv_sec) +
                     (double)(ts.tv_nsec - origin.tv_nsec) / 1e9;
    return base + (time_t)(elapsed * rate);
}

double wallclock_rate(void)
{
    return injected ? rate : 1.0;
}
