/* civil.h - the proleptic Gregorian calendar as day numbers: the one
 * calendar sluice computes with (cursor values, cron schedules, output
 * templates), independent of the C library's time zone and time_t range.
 * Day 0 is 1970-01-01; years may be zero or negative (1 BC is year 0). */
#ifndef SLUICE_CIVIL_H
#define SLUICE_CIVIL_H

#include <stdint.h>

/* a / b rounded toward minus infinity; b > 0. */
static inline int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return a % b != 0 && a < 0 ? q - 1 : q;
}

/* The day number of y-m-d; m in 1..12, d may run past the month's end. */
int64_t civil_days(int64_t y, int m, int d);

/* The date of day number z. */
void civil_date(int64_t z, int64_t *y, int *m, int *d);

/* Days in month m (1..12) of year y. */
int civil_month_days(int64_t y, int m);

#endif
