/* wallclock.h - "now" for schedules (run --due, the daemon, output
 * templates): the real time, or for tests an injected one.
 *
 * FOR TESTS ONLY: SLUICE_NOW starts the clock at an instant, written
 * "YYYY-MM-DDTHH:MM:SSZ" or "@SECONDS" (since 1970, UTC); from there it
 * advances with real time, multiplied by SLUICE_NOW_RATE (a number from
 * 0.001 to 100000, default 1: schedule seconds per real second), so a test
 * sees minutes of schedule pass in real seconds. The state store's own
 * times (run starts and ends) stay real. Never set them in production.
 *
 * wallclock_init reads the environment once, before any thread starts;
 * wallclock_now is then safe from any thread. */
#ifndef SLUICE_WALLCLOCK_H
#define SLUICE_WALLCLOCK_H

#include <stddef.h>
#include <time.h>

/* 0, or -1 with a one-line message naming the variable in err. */
int wallclock_init(char *err, size_t errlen);

/* Seconds since 1970 (UTC), real or injected. */
time_t wallclock_now(void);

/* Schedule seconds per real second: 1 unless SLUICE_NOW_RATE says. */
double wallclock_rate(void);

/* Parses "YYYY-MM-DDTHH:MM:SS[.fff]Z" (as the state store writes times)
 * into *out (whole seconds). 0, or -1. */
int wallclock_parse_iso(const char *text, time_t *out);

#endif
