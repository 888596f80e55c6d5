/* suggest.h - "did you mean": the known word closest to a near miss.
 *
 * Distance is the optimal string alignment distance (Levenshtein plus the
 * swap of two adjacent characters, each edit costing 1), compared without
 * regard to ASCII case, so `shedule`, `scheduel` and `Schedule` are all one
 * edit from `schedule`. */
#ifndef SLUICE_SCHEDULE_SUGGEST_H
#define SLUICE_SCHEDULE_SUGGEST_H

#include <stddef.h>

/* Words longer than this are never compared (distance SIZE_MAX). */
#define SUGGEST_MAX_LEN 64

/* Edit distance between a and b as described above; SIZE_MAX when either is
 * longer than SUGGEST_MAX_LEN. */
size_t suggest_distance(const char *a, const char *b);

/* The entry of known[0..n) closest to word, or NULL when none is close
 * enough. Close enough: at most max(1, strlen(word) / 3) edits, and fewer
 * edits than word has characters (so a one-letter word is never "corrected"
 * into an unrelated one). A word equal to an entry but for case returns that
 * entry. Ties go to the earliest entry. Returns a pointer into known
 * (borrowed); known entries may not be NULL. */
const char *suggest_word(const char *word, const char *const *known, size_t n);

#endif
