/* cron.h - cron schedules: parse, next fire, latest fire.
 *
 * Syntax as cronie documents it (man 5 crontab), five fields separated by
 * blanks:
 *   minute 0-59   hour 0-23   day-of-month 1-31   month 1-12   day-of-week 0-7
 * Each field is a list `a,b,...` of items: `*` (every value), `n`, or a
 * range `a-b`; `*` and ranges may be followed by `/step` (every step-th
 * value: `*` `/15` in the minute field, written without the space, is every
 * 15 minutes; `1-23/2` the odd hours). Months may be named jan-dec and weekdays sun-sat
 * (three letters, any case; also in ranges: mon-fri); 0 and 7 are both
 * Sunday. Ranges do not wrap (22-2 is an error) and a step needs a range or
 * `*` (5/15 is an error: write 5-59/15). When both day-of-month and
 * day-of-week are restricted -- neither field starts with `*` -- a day
 * matches if EITHER matches ("0 4 1,15 * fri": the 1st, the 15th and every
 * Friday); otherwise both must match. Macros: @hourly (0 * * * *), @daily
 * and @midnight (0 0 * * *), @weekly (0 0 * * 0), @monthly (0 0 1 * *),
 * @yearly and @annually (0 0 1 1 *). @reboot is refused: it names no time.
 * A schedule that can never fire (0 0 30 2 *) is refused too.
 *
 * Time zone. Fires are wall-clock times in one zone per process: UTC unless
 * cron_use_timezone named another. Instants are time_t (UTC seconds) within
 * 1970..9999.
 *
 * Daylight-saving changes. A schedule whose hour field covers all 24 hours
 * (every minute, every 15 minutes, @hourly...) follows real time: a minute
 * that a spring-forward skips does not exist and does not fire, and a
 * minute that a fall-back repeats fires at each of its real occurrences, so
 * an every-15-minutes schedule fires every 15 real minutes through both
 * changes and never twice at one instant. A schedule restricted to some
 * hours fires at times of day:
 *  - a time that does not exist that day (inside the spring-forward gap)
 *    fires once, at the first instant after the gap: "30 2 * * *" in
 *    Europe/Berlin on 2025-03-30 fires at 03:00 CEST (01:00 UTC); all the
 *    times of one gap together fire once;
 *  - a time that exists twice (inside the fall-back hour) fires once, at
 *    its first occurrence: "30 2 * * *" on 2025-10-26 fires at 02:30 CEST
 *    (00:30 UTC), not again at 02:30 CET.
 * This is cronie's rule (man 8 cron: jobs at a specific time or with a
 * granularity above one hour get the special handling, the others run
 * normally) decided on the hour set rather than the spelling. Changes are
 * found by probing the offset once a day: two changes within one day would
 * be missed (the zone database has none less than a week apart since 1970).
 *
 * Not thread-safe: cron_use_timezone sets TZ for the whole process. Call it
 * once, before other threads start, and compute fires from one thread. */
#ifndef SLUICE_SCHEDULE_CRON_H
#define SLUICE_SCHEDULE_CRON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* A parsed schedule: bit n of a set is value n. Plain data: copy freely. */
struct cron_spec {
    uint64_t minutes; /* 0-59 */
    uint32_t hours;   /* 0-23 */
    uint32_t mdays;   /* 1-31 */
    uint16_t months;  /* 1-12 */
    uint8_t wdays;    /* 0-6, 0 = Sunday (7 is stored as 0) */
    bool mday_star;   /* the day-of-month field started with '*' */
    bool wday_star;   /* the day-of-week field started with '*' */
};

/* Parses text (one schedule, surrounding blanks allowed) into *out. 0, or -1
 * with one line in err naming the field and the fault, e.g.
 * "minute: 61 is out of range 0-59" or "day-of-week: unknown name 'fri2'"
 * (err may be NULL when errlen is 0; *out is then unspecified). */
int cron_parse(struct cron_spec *out, const char *text, char *err, size_t errlen);

/* Makes name (an IANA zone such as "Europe/Berlin", or "UTC") the zone of
 * every computation below. Checks that $TZDIR/name (default
 * /usr/share/zoneinfo, Debian package tzdata) is a TZif file, since the C
 * library silently uses UTC for an unknown name; then sets TZ and calls
 * tzset(), which changes localtime() for the whole process. "UTC" and
 * "Etc/UTC" need no file and leave TZ alone. 0, or -1 with the reason in
 * err and the previous zone kept. */
int cron_use_timezone(const char *name, char *err, size_t errlen);

/* The zone in use: "UTC" until cron_use_timezone succeeds. Borrowed. */
const char *cron_timezone(void);

/* The first fire strictly after `after`. 0, or -1 when there is none before
 * the year 10000 or `after` is outside 1970..9999. */
int cron_next(const struct cron_spec *c, time_t after, time_t *out);

/* The latest fire at or before `at`. 0, or -1 when there is none since 1970
 * or `at` is outside 1970..9999. */
int cron_prev(const struct cron_spec *c, time_t at, time_t *out);

/* Whether a stream whose last run started at last_start (0 if it never
 * ran) is due at now: its latest fire at or before now is later than
 * last_start. This is `run --due`, and the daemon's start-up catch-up: fires
 * missed while nothing ran make the stream due once, not once per fire.
 * Returns 1 (due; *fire, if not NULL, is that latest fire) or 0. */
int cron_due(const struct cron_spec *c, time_t last_start, time_t now, time_t *fire);

/* Writes t as ISO 8601 in the zone in use, "2025-03-30T03:00:00+02:00", or
 * "...Z" under UTC, into out (NUL-terminated; 26 bytes suffice). 0, or -1
 * when t is outside 1970..9999 or n is too small. */
int cron_format_time(time_t t, char *out, size_t n);

#endif
