/* progress.h - a progress line on stderr: rows, rows/s, and percent and ETA
 * from the table's row estimate. On a terminal it redraws one line; with
 * --progress always and no terminal it prints a line every few seconds. */
#ifndef SLUICE_PROGRESS_H
#define SLUICE_PROGRESS_H

#include <stdint.h>

#include "cli/options.h" /* enum progress_mode */

struct progress {
    int enabled;
    int tty;
    int drawn;          /* a line is on the terminal */
    int64_t estimate;   /* rows in the table, -1 unknown */
    uint64_t base_rows; /* rows the job had before this run */
    double start, last;
    char label[128];
};

void progress_init(struct progress *p, enum progress_mode mode, int quiet,
                   int64_t estimate, uint64_t base_rows, const char *label);
/* Redraws (at most every 0.25 s on a terminal, 5 s otherwise). */
void progress_update(uint64_t rows, uint64_t bytes, struct progress *p);
/* Erases the terminal line, so messages that follow start clean. */
void progress_clear(struct progress *p);

#endif
