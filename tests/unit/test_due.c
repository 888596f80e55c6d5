/* test_due.c - when a manifest stream runs, and why: on demand, on its
 * schedule (run --due, the daemon), after an interruption, never twice
 * at once; with an injected clock, in UTC and across a DST change. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schedule/due.h"
#include "schedule/wallclock.h"

static time_t at(const char *iso)
{
    time_t t;
    if (wallclock_parse_iso(iso, &t) < 0)
        fail_msg("bad time %s", iso);
    return t;
}

static struct manifest_stream stream(const char *schedule)
{
    struct manifest_stream s;
    memset(&s, 0, sizeof s);
    s.name = "orders";
    s.enabled = 1;
    if (schedule) {
        s.schedule = (char *)schedule;
        char err[200];
        if (cron_parse(&s.cron, schedule, err, sizeof err) < 0)
            fail_msg("%s: %s", schedule, err);
    }
    return s;
}

static struct due_facts facts(const char *last_start, const char *status, int unfinished,
                              int busy)
{
    struct due_facts f;
    memset(&f, 0, sizeof f);
    f.last_start = last_start ? at(last_start) : 0;
    snprintf(f.last_status, sizeof f.last_status, "%s", status ? status : "");
    f.unfinished = unfinished;
    f.busy = busy;
    return f;
}

static void expect(const struct manifest_stream *s, struct due_facts f, const char *now,
                   int scheduled, enum due_verdict want, const char *why_has)
{
    char why[512];
    enum due_verdict v = due_decide(s, &f, at(now), scheduled, why, sizeof why);
    if (v != want)
        fail_msg("at %s: verdict %d, wanted %d (%s)", now, v, want, why);
    if (why_has && !strstr(why, why_has))
        fail_msg("at %s: [%s] lacks [%s]", now, why, why_has);
}

static int utc(void **ctx)
{
    (void)ctx;
    return cron_use_timezone("UTC", NULL, 0);
}

static void test_on_demand(void **ctx)
{
    (void)ctx;
    struct manifest_stream s = stream("*/15 * * * *");
    expect(&s, facts("2025-01-01T10:15:00Z", "done", 0, 0), "2025-01-01T10:16:00Z", 0, DUE_RUN,
           "starts a new job");
    expect(&s, facts("2025-01-01T10:15:00Z", "failed", 1, 0), "2025-01-01T10:16:00Z", 0, DUE_RUN,
           "resumes its unfinished job");
    struct manifest_stream none = stream(NULL);
    expect(&none, facts(NULL, NULL, 0, 0), "2025-01-01T10:16:00Z", 0, DUE_RUN, NULL);
    expect(&s, facts(NULL, NULL, 0, 1), "2025-01-01T10:16:00Z", 0, DUE_BUSY,
           "another sluice process");
    s.enabled = 0;
    expect(&s, facts(NULL, NULL, 0, 0), "2025-01-01T10:16:00Z", 0, DUE_DISABLED, "disabled");
}

static void test_scheduled(void **ctx)
{
    (void)ctx;
    struct manifest_stream s = stream("*/15 * * * *");
    /* Never ran: due at once. */
    expect(&s, facts(NULL, NULL, 0, 0), "2025-01-01T10:01:00Z", 1, DUE_RUN, "never run");
    /* The fire at 10:15 came after the run at 10:14:59. */
    expect(&s, facts("2025-01-01T10:14:59Z", "done", 0, 0), "2025-01-01T10:15:00Z", 1, DUE_RUN,
           "the fire at 2025-01-01T10:15:00Z came after its last run started (2025-01-01T10:14:59Z)");
    /* A run that started at the fire itself covers it. */
    expect(&s, facts("2025-01-01T10:15:00Z", "done", 0, 0), "2025-01-01T10:15:30Z", 1,
           DUE_NOT_DUE, "next fire 2025-01-01T10:30:00Z");
    expect(&s, facts("2025-01-01T10:15:00Z", "done", 0, 0), "2025-01-01T10:29:59Z", 1,
           DUE_NOT_DUE, NULL);
    expect(&s, facts("2025-01-01T10:15:00Z", "done", 0, 0), "2025-01-01T10:30:00Z", 1, DUE_RUN,
           "2025-01-01T10:30:00Z");
    /* Many fires missed (a stopped machine): due once, for the latest. */
    expect(&s, facts("2025-01-01T08:00:00Z", "done", 0, 0), "2025-01-01T10:20:00Z", 1, DUE_RUN,
           "the fire at 2025-01-01T10:15:00Z");
    /* A failed run waits for the next fire... */
    expect(&s, facts("2025-01-01T10:15:00Z", "failed", 1, 0), "2025-01-01T10:16:00Z", 1,
           DUE_NOT_DUE, NULL);
    /* ... an interrupted or killed one resumes at once. */
    expect(&s, facts("2025-01-01T10:15:00Z", "interrupted", 1, 0), "2025-01-01T10:16:00Z", 1,
           DUE_RUN, "interrupted");
    expect(&s, facts("2025-01-01T10:15:00Z", "running", 1, 0), "2025-01-01T10:16:00Z", 1,
           DUE_RUN, "resumes its unfinished job");
    /* Running elsewhere: never started twice, even when due. */
    expect(&s, facts("2025-01-01T10:15:00Z", "running", 1, 1), "2025-01-01T11:00:00Z", 1,
           DUE_BUSY, NULL);
    struct manifest_stream none = stream(NULL);
    expect(&none, facts(NULL, NULL, 0, 0), "2025-01-01T10:16:00Z", 1, DUE_NO_SCHEDULE,
           "no schedule");
    struct manifest_stream monthly = stream("@monthly");
    expect(&monthly, facts("2025-01-31T23:59:00Z", "done", 0, 0), "2025-02-01T00:00:00Z", 1,
           DUE_RUN, NULL);
    expect(&monthly, facts("2025-02-01T00:00:01Z", "done", 0, 0), "2025-02-28T23:59:59Z", 1,
           DUE_NOT_DUE, "next fire 2025-03-01T00:00:00Z");
}

/* Europe/Berlin, 2025-03-30: 02:00-03:00 does not exist. A 02:30 schedule
 * fires once, at 03:00 CEST (01:00 UTC). */
static void test_dst(void **ctx)
{
    (void)ctx;
    assert_int_equal(cron_use_timezone("Europe/Berlin", NULL, 0), 0);
    struct manifest_stream s = stream("30 2 * * *");
    expect(&s, facts("2025-03-29T01:30:00Z", "done", 0, 0), "2025-03-30T00:59:59Z", 1,
           DUE_NOT_DUE, "next fire 2025-03-30T03:00:00+02:00");
    expect(&s, facts("2025-03-29T01:30:00Z", "done", 0, 0), "2025-03-30T01:00:00Z", 1, DUE_RUN,
           "the fire at 2025-03-30T03:00:00+02:00");
    /* 2025-10-26: 02:30 exists twice; it fires at the first only. */
    expect(&s, facts("2025-10-26T00:30:00Z", "done", 0, 0), "2025-10-26T01:45:00Z", 1,
           DUE_NOT_DUE, "next fire 2025-10-27T02:30:00+01:00");
    assert_int_equal(cron_use_timezone("UTC", NULL, 0), 0);
}

static void test_injected_clock(void **ctx)
{
    (void)ctx;
    char err[200];
    setenv("SLUICE_NOW", "2030-01-01T00:00:00Z", 1);
    unsetenv("SLUICE_NOW_RATE");
    assert_int_equal(wallclock_init(err, sizeof err), 0);
    time_t t = wallclock_now();
    assert_true(t >= at("2030-01-01T00:00:00Z") && t < at("2030-01-01T00:01:00Z"));
    setenv("SLUICE_NOW", "@86400", 1);
    assert_int_equal(wallclock_init(err, sizeof err), 0);
    assert_true(wallclock_now() >= 86400 && wallclock_now() < 86400 + 60);
    setenv("SLUICE_NOW", "tomorrow", 1);
    assert_int_equal(wallclock_init(err, sizeof err), -1);
    assert_string_equal(err, "SLUICE_NOW: expected @SECONDS or YYYY-MM-DDTHH:MM:SSZ");
    setenv("SLUICE_NOW", "2030-01-01T00:00:00Z", 1);
    setenv("SLUICE_NOW_RATE", "0", 1);
    assert_int_equal(wallclock_init(err, sizeof err), -1);
    unsetenv("SLUICE_NOW");
    unsetenv("SLUICE_NOW_RATE");
    assert_int_equal(wallclock_init(err, sizeof err), 0);
    time_t real = time(NULL);
    assert_true(wallclock_now() - real <= 1);
    assert_true(wallclock_rate() == 1.0);
    time_t p;
    assert_int_equal(wallclock_parse_iso("2025-03-30T01:02:03.456Z", &p), 0);
    assert_int_equal(p, 1743296523);
    assert_int_equal(wallclock_parse_iso("2025-03-30T01:02:03", &p), -1);
    assert_int_equal(wallclock_parse_iso("2025-03-30T01:02:03Zx", &p), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_on_demand, utc),
        cmocka_unit_test_setup(test_scheduled, utc),
        cmocka_unit_test_setup(test_dst, utc),
        cmocka_unit_test_setup(test_injected_clock, utc),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
