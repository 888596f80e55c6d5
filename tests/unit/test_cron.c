/* test_cron.c - cron schedules: parsing and its one-line errors, next and
 * latest fires (month ends, leap days, steps, lists, names, macros, the
 * day-of-month/day-of-week OR rule, year ends, long gaps), and fires in
 * IANA zones across daylight-saving changes, checked against a minute-by-
 * minute reference written from the header's rules. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "schedule/cron.h"

/* ------------------------------------------------------------- helpers */

/* "YYYY-MM-DDTHH:MM[:SS]Z" as UTC seconds. */
static time_t at(const char *iso)
{
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    int n = sscanf(iso, "%d-%d-%dT%d:%d:%d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                   &tm.tm_hour, &tm.tm_min, &tm.tm_sec);
    if (n < 5)
        fail_msg("bad time in test: %s", iso);
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return timegm(&tm);
}

static const char *iso(time_t t, char buf[32])
{
    struct tm tm;
    if (t == (time_t)-1 || !gmtime_r(&t, &tm))
        return "(none)";
    strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

static struct cron_spec spec(const char *text)
{
    struct cron_spec c;
    char err[256] = "";
    if (cron_parse(&c, text, err, sizeof err) != 0)
        fail_msg("cron_parse(%s): %s", text, err);
    return c;
}

static void use_zone(const char *name)
{
    char err[256] = "";
    if (cron_use_timezone(name, err, sizeof err) != 0)
        fail_msg("cron_use_timezone(%s): %s", name, err);
}

static time_t next_of(const struct cron_spec *c, time_t t)
{
    time_t out;
    return cron_next(c, t, &out) == 0 ? out : (time_t)-1;
}

static time_t prev_of(const struct cron_spec *c, time_t t)
{
    time_t out;
    return cron_prev(c, t, &out) == 0 ? out : (time_t)-1;
}

/* Consecutive fires strictly after from; NULL-terminated. */
static void expect_chain(const char *sched, const char *from, const char *const *wants)
{
    struct cron_spec c = spec(sched);
    time_t t = at(from);
    char b1[32], b2[32];
    for (size_t i = 0; wants[i]; i++) {
        time_t got = next_of(&c, t), want = at(wants[i]);
        if (got != want)
            fail_msg("[%s] in %s: fire %zu after %s is %s, want %s", sched, cron_timezone(),
                     i, iso(t, b1), iso(got, b2), wants[i]);
        /* The latest fire at or before a fire is that fire. */
        if (prev_of(&c, got) != got)
            fail_msg("[%s]: prev(%s) is not itself", sched, wants[i]);
        t = got;
    }
}

#define CHAIN(sched, from, ...)                                                  \
    do {                                                                         \
        const char *const wants_[] = {__VA_ARGS__, NULL};                        \
        expect_chain(sched, from, wants_);                                       \
    } while (0)

static void expect_next(const char *sched, const char *from, const char *want)
{
    struct cron_spec c = spec(sched);
    char b1[32];
    time_t got = next_of(&c, at(from));
    time_t w = want ? at(want) : (time_t)-1;
    if (got != w)
        fail_msg("[%s] in %s: next after %s is %s, want %s", sched, cron_timezone(), from,
                 iso(got, b1), want ? want : "(none)");
}

static void expect_prev(const char *sched, const char *from, const char *want)
{
    struct cron_spec c = spec(sched);
    char b1[32];
    time_t got = prev_of(&c, at(from));
    time_t w = want ? at(want) : (time_t)-1;
    if (got != w)
        fail_msg("[%s] in %s: latest fire at or before %s is %s, want %s", sched,
                 cron_timezone(), from, iso(got, b1), want ? want : "(none)");
}

static void expect_parse_err(const char *sched, const char *want)
{
    struct cron_spec c;
    char err[256] = "";
    if (cron_parse(&c, sched, err, sizeof err) == 0)
        fail_msg("cron_parse(%s) accepted it", sched);
    if (strcmp(err, want) != 0)
        fail_msg("cron_parse(%s): error\n  [%s]\nwant\n  [%s]", sched, err, want);
}

/* Each test starts in UTC, whatever the one before left. */
static int start_in_utc(void **ctx)
{
    (void)ctx;
    use_zone("UTC");
    return 0;
}

/* --------------------------------------------------------------- parse */

static uint64_t bits(const int *v, size_t n)
{
    uint64_t b = 0;
    for (size_t i = 0; i < n; i++)
        b |= (uint64_t)1 << v[i];
    return b;
}
#define BITS(...) bits((const int[]){__VA_ARGS__}, sizeof((const int[]){__VA_ARGS__}) / sizeof(int))

static void test_parse_fields(void **ctx)
{
    (void)ctx;
    struct cron_spec c = spec("*/15 1-10/3 1,15,28-31 jan-mar,dec MON-Fri");
    assert_true(c.minutes == BITS(0, 15, 30, 45));
    assert_true(c.hours == BITS(1, 4, 7, 10));
    assert_true(c.mdays == BITS(1, 15, 28, 29, 30, 31));
    assert_true(c.months == BITS(1, 2, 3, 12));
    assert_true(c.wdays == BITS(1, 2, 3, 4, 5));
    assert_false(c.mday_star);
    assert_false(c.wday_star);

    c = spec("  5-59/20\t*  */10 * 5-7  ");
    assert_true(c.minutes == BITS(5, 25, 45));
    assert_true(c.hours == 0xFFFFFF);
    assert_true(c.mdays == BITS(1, 11, 21, 31));
    assert_true(c.months == 0x1FFE);
    assert_true(c.wdays == BITS(0, 5, 6)); /* 7 is Sunday */
    assert_true(c.mday_star);
    assert_false(c.wday_star);

    c = spec("0 0 * * 7");
    assert_true(c.wdays == BITS(0));
    assert_true(c.wday_star == false && c.mday_star == true);
    c = spec("0 0 * * sun,0,7");
    assert_true(c.wdays == BITS(0));
    c = spec("0 0 * * 0-7");
    assert_true(c.wdays == 0x7f);
    c = spec("0 0 * * */2");
    assert_true(c.wdays == BITS(0, 2, 4, 6));
    assert_true(c.wday_star);
    c = spec("0 0 * AUG,sep,Oct Sat");
    assert_true(c.months == BITS(8, 9, 10));
    assert_true(c.wdays == BITS(6));
    c = spec("*/90 0 1 1 *"); /* a step past the field's end gives its first value */
    assert_true(c.minutes == BITS(0));
    c = spec("59 23 31 12 *");
    assert_true(c.minutes == BITS(59) && c.hours == BITS(23) && c.mdays == BITS(31));
}

static void test_parse_macros(void **ctx)
{
    (void)ctx;
    const char *pairs[][2] = {
        {"@hourly", "0 * * * *"},   {"@daily", "0 0 * * *"},   {"@midnight", "0 0 * * *"},
        {"@weekly", "0 0 * * 0"},   {"@monthly", "0 0 1 * *"}, {"@yearly", "0 0 1 1 *"},
        {"@annually", "0 0 1 1 *"}, {"  @daily  ", "0 0 * * *"},
    };
    for (size_t i = 0; i < sizeof pairs / sizeof *pairs; i++) {
        struct cron_spec a = spec(pairs[i][0]), b = spec(pairs[i][1]);
        if (memcmp(&a, &b, sizeof a) != 0)
            fail_msg("%s differs from %s", pairs[i][0], pairs[i][1]);
    }
    expect_parse_err("@reboot", "@reboot is not supported: it names no time (use @daily or a "
                     "5-field schedule)");
    expect_parse_err("@dialy", "unknown macro '@dialy', did you mean @daily?");
    expect_parse_err("@Weekly", "unknown macro '@Weekly', did you mean @weekly?");
    expect_parse_err("@often", "unknown macro '@often' (use @hourly, @daily, @midnight, "
                     "@weekly, @monthly, @yearly or @annually)");
    expect_parse_err("@daily 5", "expected nothing after '@daily'");
}

static void test_parse_errors(void **ctx)
{
    (void)ctx;
    expect_parse_err("61 * * * *", "minute: 61 is out of range 0-59");
    expect_parse_err("0 24 * * *", "hour: 24 is out of range 0-23");
    expect_parse_err("0 0 0 * *", "day-of-month: 0 is out of range 1-31");
    expect_parse_err("0 0 32 * *", "day-of-month: 32 is out of range 1-31");
    expect_parse_err("0 0 * 13 *", "month: 13 is out of range 1-12");
    expect_parse_err("0 0 * * 8", "day-of-week: 8 is out of range 0-7");
    expect_parse_err("0 0 * * 1-99999999999", "day-of-week: 99999999999 is out of range 0-7");
    expect_parse_err("0 0 * * fri2", "day-of-week: unknown name 'fri2' (use sun-sat or 0-7)");
    expect_parse_err("0 0 * * friday", "day-of-week: unknown name 'friday' (use sun-sat or 0-7)");
    expect_parse_err("0 0 * janu *", "month: unknown name 'janu' (use jan-dec or 1-12)");
    expect_parse_err("0 mon * * *", "hour: 'mon' is not a number");
    expect_parse_err("0 0 * * *  x", "expected 5 fields (minute hour day-of-month month "
                     "day-of-week), found 6");
    expect_parse_err("0 0 * *", "expected 5 fields (minute hour day-of-month month "
                     "day-of-week), found 4");
    expect_parse_err("", "empty schedule");
    expect_parse_err(" \t ", "empty schedule");
    expect_parse_err("*/0 * * * *", "minute: step 0 in '*/0' (a step is 1 or more)");
    expect_parse_err("*/ * * * *", "minute: '*/' needs a number after '/'");
    expect_parse_err("5/15 * * * *", "minute: '5/15' has a step but no range (write 5-59/15 "
                     "or */15)");
    expect_parse_err("0 22-2 * * *", "hour: range '22-2' goes backwards (ranges do not wrap: "
                     "write 22-23,0-2)");
    expect_parse_err("0 0 * * fri-mon", "day-of-week: range 'fri-mon' goes backwards (ranges "
                     "do not wrap: write 5-6,0-1)");
    expect_parse_err("1,,2 * * * *", "minute: empty item in the list");
    expect_parse_err("1, * * * *", "minute: empty item in the list");
    expect_parse_err("0 0 1- * *", "day-of-month: '1-' is missing a value");
    expect_parse_err("0 0 ? * *", "day-of-month: unexpected '?' in '?'");
    expect_parse_err("*-5 * * * *", "minute: unexpected '-' in '*-5'");
    expect_parse_err("1-5-7 * * * *", "minute: unexpected '-' in '1-5-7'");
    expect_parse_err("0 0 L * *", "day-of-month: 'L' is not a number");
    expect_parse_err("0 0 30 2 *", "day-of-month: the schedule never fires: no month chosen "
                     "has a day 30");
    expect_parse_err("0 0 31 apr,jun,sep,nov *", "day-of-month: the schedule never fires: no "
                     "month chosen has a day 31");
    /* Possible, if rarely: these parse. */
    spec("0 0 29 2 *");
    spec("0 0 31 2 mon"); /* OR: every Monday of February */
    spec("0 0 30,31 2,3 *");
}

/* ------------------------------------------------------------ UTC fires */

static void test_month_ends(void **ctx)
{
    (void)ctx;
    /* The 31st only in months that have one. */
    CHAIN("0 0 31 * *", "2025-01-31T00:00Z", "2025-03-31T00:00Z", "2025-05-31T00:00Z",
          "2025-07-31T00:00Z", "2025-08-31T00:00Z", "2025-10-31T00:00Z", "2025-12-31T00:00Z",
          "2026-01-31T00:00Z");
    CHAIN("0 12 30 * *", "2025-01-30T12:00Z", "2025-03-30T12:00Z", "2025-04-30T12:00Z");
    CHAIN("0 0 29 * *", "2025-01-29T00:00Z", "2025-03-29T00:00Z");
    CHAIN("0 0 29 * *", "2028-01-29T00:00Z", "2028-02-29T00:00Z", "2028-03-29T00:00Z");
    CHAIN("@monthly", "2025-01-15T10:00Z", "2025-02-01T00:00Z", "2025-03-01T00:00Z");
}

static void test_leap_days(void **ctx)
{
    (void)ctx;
    expect_next("0 0 29 2 *", "2025-01-01T00:00Z", "2028-02-29T00:00Z");
    CHAIN("0 0 29 2 *", "2028-02-29T00:00Z", "2032-02-29T00:00Z", "2036-02-29T00:00Z");
    /* 2100 is not a leap year, 2400 is. */
    expect_next("0 0 29 2 *", "2096-03-01T00:00Z", "2104-02-29T00:00Z");
    expect_next("0 0 29 2 *", "2396-03-01T00:00Z", "2400-02-29T00:00Z");
    expect_prev("0 0 29 2 *", "2028-02-28T23:59:59Z", "2024-02-29T00:00Z");
    expect_prev("0 0 29 2 *", "2104-02-28T00:00Z", "2096-02-29T00:00Z");
    /* The last one before the year 10000, and none after it. */
    expect_next("0 0 29 2 *", "9990-01-01T00:00Z", "9992-02-29T00:00Z");
    expect_next("0 0 29 2 *", "9996-02-29T00:00Z", NULL);
    expect_prev("0 0 29 2 *", "1971-01-01T00:00Z", NULL);
}

static void test_steps_and_lists(void **ctx)
{
    (void)ctx;
    CHAIN("*/15 * * * *", "2025-06-01T10:07:00Z", "2025-06-01T10:15Z", "2025-06-01T10:30Z",
          "2025-06-01T10:45Z", "2025-06-01T11:00Z");
    CHAIN("5-59/20 * * * *", "2025-06-01T10:45:00Z", "2025-06-01T11:05Z", "2025-06-01T11:25Z");
    CHAIN("0 */6 * * *", "2025-06-01T13:00Z", "2025-06-01T18:00Z", "2025-06-02T00:00Z");
    CHAIN("0,30 9-10 * * *", "2025-06-01T08:00Z", "2025-06-01T09:00Z", "2025-06-01T09:30Z",
          "2025-06-01T10:00Z", "2025-06-01T10:30Z", "2025-06-02T09:00Z");
    /* Strictly after: a fire time itself gives the next one; seconds count. */
    expect_next("* * * * *", "2025-06-01T10:00:00Z", "2025-06-01T10:01:00Z");
    expect_next("* * * * *", "2025-06-01T10:00:59Z", "2025-06-01T10:01:00Z");
    expect_prev("* * * * *", "2025-06-01T10:00:59Z", "2025-06-01T10:00:00Z");
    expect_prev("*/15 * * * *", "2025-06-01T10:14:59Z", "2025-06-01T10:00:00Z");
}

static void test_names(void **ctx)
{
    (void)ctx;
    /* 2025-06-06 is a Friday. */
    CHAIN("0 9,17 * * mon-fri", "2025-06-06T09:00Z", "2025-06-06T17:00Z", "2025-06-09T09:00Z");
    CHAIN("0 0 1 jan,JUL *", "2025-03-01T00:00Z", "2025-07-01T00:00Z", "2026-01-01T00:00Z");
    CHAIN("0 3 * * 7", "2025-06-01T03:00Z", "2025-06-08T03:00Z"); /* Sundays */
    CHAIN("@weekly", "2025-06-04T12:00Z", "2025-06-08T00:00Z", "2025-06-15T00:00Z");
}

static void test_dom_dow_rule(void **ctx)
{
    (void)ctx;
    /* Both restricted: either matches (man 5 crontab's own example). */
    CHAIN("30 4 1,15 * fri", "2025-03-01T04:30Z", "2025-03-07T04:30Z", "2025-03-14T04:30Z",
          "2025-03-15T04:30Z", "2025-03-21T04:30Z", "2025-03-28T04:30Z", "2025-04-01T04:30Z");
    /* Not Friday the 13th: every 13th and every Friday. */
    CHAIN("0 0 13 * 5", "2025-03-06T00:00Z", "2025-03-07T00:00Z", "2025-03-13T00:00Z",
          "2025-03-14T00:00Z");
    /* One of them starts with '*': both must match (Mondays that are the
     * 1st, 11th, 21st or 31st). */
    CHAIN("0 0 */10 * mon", "2025-01-01T00:00Z", "2025-03-31T00:00Z", "2025-04-21T00:00Z",
          "2025-07-21T00:00Z", "2025-08-11T00:00Z", "2025-09-01T00:00Z");
    CHAIN("0 0 1 * */7", "2025-01-01T00:00Z", "2025-06-01T00:00Z"); /* the 1st on a Sunday */
    expect_prev("0 0 */10 * mon", "2025-03-30T00:00Z", "2024-11-11T00:00Z");
}

static void test_year_rollover(void **ctx)
{
    (void)ctx;
    CHAIN("0 0 1 1 *", "2025-12-31T23:59:59Z", "2026-01-01T00:00Z", "2027-01-01T00:00Z");
    CHAIN("59 23 31 12 *", "2025-12-31T23:59:00Z", "2026-12-31T23:59Z");
    CHAIN("*/20 * * * *", "2025-12-31T23:50Z", "2026-01-01T00:00Z", "2026-01-01T00:20Z");
    expect_prev("0 0 1 1 *", "2026-01-01T00:00:00Z", "2026-01-01T00:00Z");
    expect_prev("0 0 1 1 *", "2025-12-31T23:59:59Z", "2025-01-01T00:00Z");
    expect_prev("30 4 * dec sun", "2026-01-03T00:00Z", "2025-12-28T04:30Z");
}

static void test_range_limits(void **ctx)
{
    (void)ctx;
    struct cron_spec c = spec("* * * * *");
    time_t out;
    assert_int_equal(cron_next(&c, -1, &out), -1);
    assert_int_equal(cron_prev(&c, -1, &out), -1);
    assert_int_equal(cron_next(&c, at("9999-12-31T23:59:00Z"), &out), -1);
    assert_int_equal(cron_next(&c, at("9999-12-31T23:58:30Z"), &out), 0);
    assert_int_equal(out, at("9999-12-31T23:59:00Z"));
    assert_int_equal(cron_prev(&c, 0, &out), 0);
    assert_int_equal(out, 0);
    assert_int_equal(cron_prev(&c, (time_t)253402300800, &out), -1);
}

/* Every Feb 29 from 1970 to 9999, chained: each step skips years of
 * non-matching days by fields, never minute by minute (a minute scan would
 * need four billion steps here and time out). */
static void test_long_gaps(void **ctx)
{
    (void)ctx;
    struct cron_spec c = spec("0 0 29 2 *");
    int count = 0;
    time_t t = 0, f;
    while (cron_next(&c, t, &f) == 0) {
        count++;
        t = f;
    }
    /* Leap years 1972..9996: 2007 multiples of 4 less the 60 of the 80
     * centuries 2000..9900 that 400 does not divide. */
    assert_int_equal(count, 2007 - 60);
    char b[32];
    assert_string_equal(iso(t, b), "9996-02-29T00:00:00Z");
    /* And backwards. */
    count = 0;
    t = at("9999-12-31T00:00Z");
    while (cron_prev(&c, t, &f) == 0) {
        count++;
        t = f - 1;
    }
    assert_int_equal(count, 2007 - 60);
    /* The same in a zone with daylight saving, over 200 years. */
    use_zone("Europe/Berlin");
    count = 0;
    for (t = at("2025-01-01T00:00Z"); cron_next(&c, t, &f) == 0 && f < at("2225-01-01T00:00Z");
         t = f)
        count++;
    assert_int_equal(count, 48); /* 50 years 2028..2224 by 4, less 2100 and 2200 */
    use_zone("UTC");
}

static void test_due(void **ctx)
{
    (void)ctx;
    struct cron_spec c = spec("0 2 * * *");
    time_t fire = 0;
    time_t now = at("2025-06-02T08:00Z");
    /* Never ran: the latest fire makes it due. */
    assert_int_equal(cron_due(&c, 0, now, &fire), 1);
    assert_int_equal(fire, at("2025-06-02T02:00Z"));
    /* Ran after that fire: not due. Started exactly at it: not due. */
    assert_int_equal(cron_due(&c, at("2025-06-02T02:00:05Z"), now, NULL), 0);
    assert_int_equal(cron_due(&c, at("2025-06-02T02:00:00Z"), now, NULL), 0);
    /* Last ran days ago: due once, for the latest fire only. */
    assert_int_equal(cron_due(&c, at("2025-05-28T02:00:03Z"), now, &fire), 1);
    assert_int_equal(fire, at("2025-06-02T02:00Z"));
    /* Ran before today's fire: due. */
    assert_int_equal(cron_due(&c, at("2025-06-01T23:00Z"), now, NULL), 1);
    assert_int_equal(cron_due(&c, at("2025-06-01T23:00Z"), at("2025-06-02T01:59:59Z"), NULL), 0);
}

static void test_format_time(void **ctx)
{
    (void)ctx;
    char buf[32];
    assert_int_equal(cron_format_time(at("2025-03-30T01:00Z"), buf, sizeof buf), 0);
    assert_string_equal(buf, "2025-03-30T01:00:00Z");
    use_zone("Europe/Berlin");
    assert_int_equal(cron_format_time(at("2025-03-30T01:00Z"), buf, sizeof buf), 0);
    assert_string_equal(buf, "2025-03-30T03:00:00+02:00");
    assert_int_equal(cron_format_time(at("2025-03-30T00:59:59Z"), buf, sizeof buf), 0);
    assert_string_equal(buf, "2025-03-30T01:59:59+01:00");
    use_zone("America/New_York");
    assert_int_equal(cron_format_time(at("2025-11-02T06:30Z"), buf, sizeof buf), 0);
    assert_string_equal(buf, "2025-11-02T01:30:00-05:00");
    use_zone("Asia/Kolkata");
    assert_int_equal(cron_format_time(at("2025-01-01T00:00Z"), buf, sizeof buf), 0);
    assert_string_equal(buf, "2025-01-01T05:30:00+05:30");
    assert_int_equal(cron_format_time(at("2025-01-01T00:00Z"), buf, 10), -1);
    assert_int_equal(cron_format_time(-5, buf, sizeof buf), -1);
    use_zone("UTC");
}

/* ------------------------------------------------------------- zones */

static void test_timezone_names(void **ctx)
{
    (void)ctx;
    char err[256];
    use_zone("Europe/Berlin");
    assert_string_equal(cron_timezone(), "Europe/Berlin");
    /* A failure keeps the zone in use. */
    assert_int_equal(cron_use_timezone("Europe/Berln", err, sizeof err), -1);
    assert_non_null(strstr(err, "unknown time zone 'Europe/Berln'"));
    assert_string_equal(cron_timezone(), "Europe/Berlin");
    const char *refused[] = {"", "/etc/localtime", "../../etc/passwd", "Europe/../Berlin",
                             "Europe/./Berlin", "UTC+3", "Europe/Berlin ", ".hidden"};
    for (size_t i = 0; i < sizeof refused / sizeof *refused; i++) {
        err[0] = '\0';
        if (cron_use_timezone(refused[i], err, sizeof err) == 0)
            fail_msg("cron_use_timezone(%s) accepted it", refused[i]);
        assert_true(strlen(err) > 0);
    }
    assert_int_equal(cron_use_timezone("zone1970.tab", err, sizeof err), -1);
    assert_non_null(strstr(err, "is not a zone file"));
    assert_int_equal(cron_use_timezone("Europe", err, sizeof err), -1); /* a directory */
    assert_string_equal(cron_timezone(), "Europe/Berlin");
    /* The zone database is found through TZDIR, as the C library finds it. */
    setenv("TZDIR", "/nonexistent-zoneinfo", 1);
    assert_int_equal(cron_use_timezone("America/New_York", err, sizeof err), -1);
    assert_non_null(strstr(err, "install the tzdata package"));
    unsetenv("TZDIR");
    use_zone("America/New_York");
    use_zone("Etc/UTC");
    assert_string_equal(cron_timezone(), "Etc/UTC");
    use_zone("UTC");
    /* UTC needs no file and ignores TZ. */
    setenv("TZDIR", "/nonexistent-zoneinfo", 1);
    use_zone("UTC");
    unsetenv("TZDIR");
    expect_next("0 2 * * *", "2025-07-01T00:00Z", "2025-07-01T02:00Z");
}

static void test_zone_plain_days(void **ctx)
{
    (void)ctx;
    use_zone("Europe/Berlin");
    expect_next("0 3 * * *", "2025-01-10T00:00Z", "2025-01-10T02:00Z"); /* CET */
    expect_next("0 3 * * *", "2025-07-10T00:00Z", "2025-07-10T01:00Z"); /* CEST */
    /* The day is the zone's day: midnight Berlin on the 1st. */
    expect_next("@monthly", "2025-06-15T00:00Z", "2025-06-30T22:00Z");
    /* Weekdays too: 00:30 Monday in Berlin is Sunday 23:30 UTC in winter. */
    expect_next("30 0 * * mon", "2025-01-01T00:00Z", "2025-01-05T23:30Z");
    use_zone("Asia/Kolkata"); /* +05:30, no daylight saving */
    expect_next("0 0 * * *", "2025-01-01T00:00Z", "2025-01-01T18:30Z");
    expect_prev("0 0 * * *", "2025-01-01T00:00Z", "2024-12-31T18:30Z");
    use_zone("UTC");
}

static void test_berlin_spring_forward(void **ctx)
{
    (void)ctx;
    /* 2025-03-30: 02:00 CET (01:00 UTC) becomes 03:00 CEST. */
    use_zone("Europe/Berlin");
    /* A time of day inside the gap runs once at 03:00 CEST, then as usual. */
    CHAIN("30 2 * * *", "2025-03-29T00:00Z", "2025-03-29T01:30Z", "2025-03-30T01:00Z",
          "2025-03-31T00:30Z");
    CHAIN("0 2 * * *", "2025-03-29T12:00Z", "2025-03-30T01:00Z", "2025-03-31T00:00Z");
    /* All the gap's times together run once; 03:00 itself is the same fire. */
    CHAIN("*/15 2-3 * * *", "2025-03-30T00:50Z", "2025-03-30T01:00Z", "2025-03-30T01:15Z",
          "2025-03-30T01:30Z", "2025-03-30T01:45Z", "2025-03-31T00:00Z");
    CHAIN("0 3 * * *", "2025-03-29T12:00Z", "2025-03-30T01:00Z", "2025-03-31T01:00Z");
    /* Every-hour schedules keep their real spacing: 02:xx does not exist. */
    CHAIN("*/30 * * * *", "2025-03-30T00:00Z", "2025-03-30T00:30Z", "2025-03-30T01:00Z",
          "2025-03-30T01:30Z");
    CHAIN("30 * * * *", "2025-03-29T23:45Z", "2025-03-30T00:30Z", "2025-03-30T01:30Z",
          "2025-03-30T02:30Z");
    /* Backwards from just before and at the gap's end. */
    expect_prev("30 2 * * *", "2025-03-30T00:59:59Z", "2025-03-29T01:30Z");
    expect_prev("30 2 * * *", "2025-03-30T01:00:00Z", "2025-03-30T01:00Z");
    expect_prev("30 2 * * *", "2025-03-31T00:29:59Z", "2025-03-30T01:00Z");
    expect_prev("30 * * * *", "2025-03-30T01:29:59Z", "2025-03-30T00:30Z");
    use_zone("UTC");
}

static void test_berlin_fall_back(void **ctx)
{
    (void)ctx;
    /* 2025-10-26: 03:00 CEST (01:00 UTC) becomes 02:00 CET; 02:00-02:59
     * happens twice. */
    use_zone("Europe/Berlin");
    /* A repeated time of day runs at its first occurrence only. */
    CHAIN("30 2 * * *", "2025-10-25T12:00Z", "2025-10-26T00:30Z", "2025-10-27T01:30Z");
    CHAIN("*/20 2 * * *", "2025-10-25T12:00Z", "2025-10-26T00:00Z", "2025-10-26T00:20Z",
          "2025-10-26T00:40Z", "2025-10-27T01:00Z");
    /* From inside the second pass, nothing more that day. */
    expect_next("30 2 * * *", "2025-10-26T01:10Z", "2025-10-27T01:30Z");
    expect_next("45 2 * * *", "2025-10-26T01:10Z", "2025-10-27T01:45Z");
    expect_prev("30 2 * * *", "2025-10-26T01:45Z", "2025-10-26T00:30Z");
    expect_prev("30 2 * * *", "2025-10-26T00:29:59Z", "2025-10-25T00:30Z");
    /* Every-hour schedules fire at each real time, never twice at one. */
    CHAIN("*/30 * * * *", "2025-10-26T00:00Z", "2025-10-26T00:30Z", "2025-10-26T01:00Z",
          "2025-10-26T01:30Z", "2025-10-26T02:00Z");
    CHAIN("30 * * * *", "2025-10-26T00:00Z", "2025-10-26T00:30Z", "2025-10-26T01:30Z",
          "2025-10-26T02:30Z");
    expect_prev("30 * * * *", "2025-10-26T01:45Z", "2025-10-26T01:30Z");
    struct cron_spec every = spec("* * * * *");
    time_t t = at("2025-10-25T23:00Z");
    for (int i = 0; i < 240; i++) {
        time_t f = next_of(&every, t);
        assert_int_equal(f, t + 60);
        t = f;
    }
    use_zone("UTC");
}

static void test_new_york(void **ctx)
{
    (void)ctx;
    use_zone("America/New_York");
    /* 2025-03-09: 02:00 EST (07:00 UTC) becomes 03:00 EDT. */
    CHAIN("30 2 * * *", "2025-03-08T00:00Z", "2025-03-08T07:30Z", "2025-03-09T07:00Z",
          "2025-03-10T06:30Z");
    CHAIN("*/20 * * * *", "2025-03-09T06:30Z", "2025-03-09T06:40Z", "2025-03-09T07:00Z",
          "2025-03-09T07:20Z");
    /* 2025-11-02: 02:00 EDT (06:00 UTC) becomes 01:00 EST; 01:xx twice. */
    CHAIN("30 1 * * *", "2025-11-01T12:00Z", "2025-11-02T05:30Z", "2025-11-03T06:30Z");
    CHAIN("0 1 * * *", "2025-11-01T12:00Z", "2025-11-02T05:00Z", "2025-11-03T06:00Z");
    CHAIN("*/20 * * * *", "2025-11-02T04:50Z", "2025-11-02T05:00Z", "2025-11-02T05:20Z",
          "2025-11-02T05:40Z", "2025-11-02T06:00Z", "2025-11-02T06:20Z", "2025-11-02T06:40Z",
          "2025-11-02T07:00Z");
    expect_prev("30 1 * * *", "2025-11-02T06:45Z", "2025-11-02T05:30Z");
    expect_prev("30 2 * * *", "2025-03-09T07:10Z", "2025-03-09T07:00Z");
    use_zone("UTC");
}

/* ---- the reference: every real minute, decided by the header's rules ---- */

static int wall_matches(const struct cron_spec *c, time_t wall)
{
    struct tm tm;
    gmtime_r(&wall, &tm);
    int dom = (int)(c->mdays >> tm.tm_mday & 1), dow = (int)(c->wdays >> tm.tm_wday & 1);
    int day = (c->mday_star || c->wday_star) ? dom && dow : dom || dow;
    return (c->minutes >> tm.tm_min & 1) && (c->hours >> tm.tm_hour & 1) &&
           (c->months >> (tm.tm_mon + 1) & 1) && day;
}

static long off(time_t t)
{
    struct tm tm;
    localtime_r(&t, &tm);
    return tm.tm_gmtoff;
}

#define MAX_REF 20000

/* Fires in [from, to), scanning from a day earlier so that repeated times
 * are known. */
static size_t reference_fires(const struct cron_spec *c, time_t from, time_t to, time_t *out)
{
    int every_hour = c->hours == 0xFFFFFF;
    size_t n = 0;
    time_t max_wall = INT64_MIN;
    for (time_t t = from - 86400; t < to; t += 60) {
        time_t wall = t + off(t);
        int fire = 0;
        if (every_hour) {
            fire = wall_matches(c, wall);
        } else {
            fire = wall_matches(c, wall) && wall > max_wall; /* first occurrence */
            long before = off(t - 1);
            if (before < off(t)) /* a gap ends at t: did it swallow a time? */
                for (time_t w = t + before; w < wall && !fire; w += 60)
                    fire = wall_matches(c, w);
        }
        if (wall > max_wall)
            max_wall = wall;
        if (fire && t >= from) {
            assert_true(n < MAX_REF);
            out[n++] = t;
        }
    }
    return n;
}

static void compare_with_reference(const char *zone, const char *sched, const char *around)
{
    use_zone(zone);
    struct cron_spec c = spec(sched);
    time_t mid = at(around), from = mid - 2 * 86400, to = mid + 2 * 86400;
    static time_t ref[MAX_REF];
    size_t n = reference_fires(&c, from, to, ref);
    char b1[32], b2[32], b3[32];
    /* The chain of next fires is exactly the reference. */
    time_t t = from - 1;
    for (size_t i = 0; i < n; i++) {
        time_t f = next_of(&c, t);
        if (f != ref[i])
            fail_msg("%s [%s]: fire after %s is %s, reference %s", zone, sched, iso(t, b1),
                     iso(f, b2), iso(ref[i], b3));
        t = f;
    }
    if (next_of(&c, t) < to)
        fail_msg("%s [%s]: extra fire %s", zone, sched, iso(next_of(&c, t), b1));
    /* From any instant, next and latest agree with the reference. */
    size_t i = 0;
    for (t = from; t < to; t += 7 * 60 + 13) {
        while (i < n && ref[i] <= t)
            i++;
        if (i < n && next_of(&c, t) != ref[i])
            fail_msg("%s [%s]: next(%s) = %s, reference %s", zone, sched, iso(t, b1),
                     iso(next_of(&c, t), b2), iso(ref[i], b3));
        if (i > 0 && prev_of(&c, t) != ref[i - 1])
            fail_msg("%s [%s]: prev(%s) = %s, reference %s", zone, sched, iso(t, b1),
                     iso(prev_of(&c, t), b2), iso(ref[i - 1], b3));
    }
}

static void test_reference_zones(void **ctx)
{
    (void)ctx;
    const char *scheds[] = {
        "30 2 * * *",   "*/15 2 * * *", "0 */2 * * *", "*/20 * * * *", "30 * * * *",
        "0 1-3 * * *",  "* 2 * * *",    "45 1 * * *",  "0 0 * * *",    "15 3 * * sun",
        "* * * * *",    "0,30 0-23 * * *", "59 23 * * *", "10 0 1 * *",
    };
    /* Each zone and the middle of a window holding a change. */
    const char *windows[][2] = {
        {"Europe/Berlin", "2025-03-30T01:00Z"},    {"Europe/Berlin", "2025-10-26T01:00Z"},
        {"America/New_York", "2025-03-09T07:00Z"}, {"America/New_York", "2025-11-02T06:00Z"},
        /* Half-hour daylight saving. */
        {"Australia/Lord_Howe", "2025-04-05T15:00Z"},
        {"Australia/Lord_Howe", "2025-10-04T15:30Z"},
        /* Changes at midnight: the day itself starts at 01:00, or twice. */
        {"America/Sao_Paulo", "2018-11-04T03:00Z"}, {"America/Sao_Paulo", "2018-02-18T02:00Z"},
        /* A standard-offset change without a DST flag (+04 to +03). */
        {"Europe/Moscow", "2014-10-25T22:00Z"},
        /* 2011-12-30 did not exist in Samoa. */
        {"Pacific/Apia", "2011-12-30T10:00Z"},
        /* No change at all. */
        {"Asia/Tokyo", "2025-03-30T01:00Z"},
    };
    for (size_t w = 0; w < sizeof windows / sizeof *windows; w++)
        for (size_t s = 0; s < sizeof scheds / sizeof *scheds; s++)
            compare_with_reference(windows[w][0], scheds[s], windows[w][1]);
    use_zone("UTC");
}

/* next and prev are walked separately; from random instants in random
 * schedules and zones they must agree: the latest fire at or before t is
 * the fire just before the first fire after t. */
static uint64_t rng_state = 0x9e3779b97f4a7c15u;

static uint64_t rnd(uint64_t n)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state % n;
}

static void random_field(char *out, size_t n, int lo, int hi)
{
    switch (rnd(5)) {
    case 0:
        snprintf(out, n, "*");
        break;
    case 1:
        snprintf(out, n, "*/%d", (int)rnd((uint64_t)(hi - lo)) + 1);
        break;
    case 2:
        snprintf(out, n, "%d", lo + (int)rnd((uint64_t)(hi - lo + 1)));
        break;
    case 3: {
        int a = lo + (int)rnd((uint64_t)(hi - lo + 1));
        int b = a + (int)rnd((uint64_t)(hi - a + 1));
        snprintf(out, n, "%d-%d/%d", a, b, (int)rnd(3) + 1);
        break;
    }
    default:
        snprintf(out, n, "%d,%d", lo + (int)rnd((uint64_t)(hi - lo + 1)),
                 lo + (int)rnd((uint64_t)(hi - lo + 1)));
    }
}

static void test_next_prev_agree(void **ctx)
{
    (void)ctx;
    const char *zones[] = {"UTC", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe",
                           "America/Sao_Paulo"};
    char b1[32], b2[32], b3[32];
    for (int i = 0; i < 3000; i++) {
        if (i % 600 == 0)
            use_zone(zones[i / 600]);
        char f[5][32], text[200];
        random_field(f[0], sizeof f[0], 0, 59);
        random_field(f[1], sizeof f[1], 0, 23);
        random_field(f[2], sizeof f[2], 1, 31);
        random_field(f[3], sizeof f[3], 1, 12);
        random_field(f[4], sizeof f[4], 0, 7);
        snprintf(text, sizeof text, "%s %s %s %s %s", f[0], f[1], f[2], f[3], f[4]);
        struct cron_spec c;
        if (cron_parse(&c, text, NULL, 0) != 0)
            continue; /* never fires: refused */
        time_t t = (time_t)rnd(4102444800u); /* 1970..2100 */
        time_t n = next_of(&c, t), p = prev_of(&c, t);
        if (n == (time_t)-1 || n <= t)
            fail_msg("%s [%s]: next(%s) = %s", cron_timezone(), text, iso(t, b1), iso(n, b2));
        if (prev_of(&c, n) != n || prev_of(&c, n - 1) != p)
            fail_msg("%s [%s]: t %s, next %s, prev %s, prev(next-1) %s", cron_timezone(), text,
                     iso(t, b1), iso(n, b2), iso(p, b3), iso(prev_of(&c, n - 1), b1));
        if (p != (time_t)-1 && (p > t || next_of(&c, p) != n))
            fail_msg("%s [%s]: t %s, prev %s, next(prev) %s, next %s", cron_timezone(), text,
                     iso(t, b1), iso(p, b2), iso(next_of(&c, p), b3), iso(n, b1));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_parse_fields, start_in_utc),
        cmocka_unit_test_setup(test_parse_macros, start_in_utc),
        cmocka_unit_test_setup(test_parse_errors, start_in_utc),
        cmocka_unit_test_setup(test_month_ends, start_in_utc),
        cmocka_unit_test_setup(test_leap_days, start_in_utc),
        cmocka_unit_test_setup(test_steps_and_lists, start_in_utc),
        cmocka_unit_test_setup(test_names, start_in_utc),
        cmocka_unit_test_setup(test_dom_dow_rule, start_in_utc),
        cmocka_unit_test_setup(test_year_rollover, start_in_utc),
        cmocka_unit_test_setup(test_range_limits, start_in_utc),
        cmocka_unit_test_setup(test_long_gaps, start_in_utc),
        cmocka_unit_test_setup(test_due, start_in_utc),
        cmocka_unit_test_setup(test_format_time, start_in_utc),
        cmocka_unit_test_setup(test_timezone_names, start_in_utc),
        cmocka_unit_test_setup(test_zone_plain_days, start_in_utc),
        cmocka_unit_test_setup(test_berlin_spring_forward, start_in_utc),
        cmocka_unit_test_setup(test_berlin_fall_back, start_in_utc),
        cmocka_unit_test_setup(test_new_york, start_in_utc),
        cmocka_unit_test_setup(test_reference_zones, start_in_utc),
        cmocka_unit_test_setup(test_next_prev_agree, start_in_utc),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
