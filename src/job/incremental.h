/* incremental.h - the bounds of incremental jobs: where a new job starts
 * and ends, and the windows (--step) it is read in.
 *
 * A job reads the rows with  lower < (cursor, key)  (or <= when the lower
 * bound is inclusive: --start, --lookback) and  cursor <= upper,  both
 * frozen in the state store when the job begins. The next job starts after
 * the upper bound: the stream's high-water mark. */
#ifndef SLUICE_INCREMENTAL_H
#define SLUICE_INCREMENTAL_H

#include "job/plan.h"
#include "job/spec.h"
#include "source/source.h"
#include "state/state.h"

/* The bounds of a new job of the stream whose last finished job ended at
 * high_water (n 0: none): lower from the high-water mark (minus --lookback),
 * else --start, else none; upper from --end, else the cursor's greatest
 * value beyond lower, held back before the oldest open transaction for a
 * time-zone-aware cursor. Refuses rows with a NULL cursor. *empty: there is
 * nothing to read (the job writes no rows and keeps the high-water mark).
 * Returns 0 or an EXIT_* code with a one-line message in err. */
int incr_new_range(struct source *src, const struct stream_spec *o,
                   const struct plan *p, const struct keytuple *high_water,
                   struct job_range *range, int *empty, char *err, size_t errlen);

/* Windows of --step on the first cursor column. from: the bound the next
 * window continues from (n 0: the start of the range, whose least cursor is
 * then looked up). Sets *wend to the window's end (a one-column prefix) and
 * *last when the window reaches the range's upper bound instead (then
 * *wend is unused). Returns 0 or an EXIT_* code with a message in err. */
int incr_next_window(struct source *src, const struct stream_spec *o,
                     const struct plan *p, const struct job_range *range,
                     const struct keytuple *from, struct keytuple *wend, int *last,
                     char *err, size_t errlen);

#endif
