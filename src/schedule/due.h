/* due.h - whether a manifest stream runs now, and why: the one rule that
 * `run`, `run --due`, `run --dry-run`, the daemon and `status` share.
 *
 * Every stream that is enabled and not busy runs when asked by name or by
 * a plain `run`. On a schedule (`run --due`, the daemon) a stream runs when
 *  - its unfinished job was interrupted (SIGINT/SIGTERM, or its process
 *    died): it resumes at once, not at the next fire;
 *  - it has never run;
 *  - its schedule fired after its last run started (cron_due: fires missed
 *    while nothing ran make it due once, not once per fire).
 * A stream whose last run failed waits for its next fire. A stream without
 * a schedule never runs on a schedule. */
#ifndef SLUICE_DUE_H
#define SLUICE_DUE_H

#include <stddef.h>
#include <time.h>

#include "manifest/manifest.h"
#include "state/state.h"

enum due_verdict {
    DUE_RUN,         /* run it now */
    DUE_NOT_DUE,     /* scheduled, and its schedule has not fired since */
    DUE_NO_SCHEDULE, /* on a schedule, a stream without one never runs */
    DUE_DISABLED,    /* enabled: false */
    DUE_BUSY,        /* another sluice process extracts it now */
};

/* What the state store says of one stream (partition ""). Owns output. */
struct due_facts {
    time_t last_start;   /* start of its newest run; 0: it never ran */
    char last_status[16];/* that run's status ("" when none): done, failed,
                            interrupted, running (its process died when
                            the stream is not busy) */
    int unfinished;      /* a job is RUNNING or FINISHING */
    char *output;        /* that job's output, when unfinished; else NULL */
    int busy;            /* another process holds the stream now */
};

/* Reads the facts of stream s. st NULL (no store yet): a stream that
 * never ran. 0, or -1 (state_error(st) says why). */
int due_facts_load(struct state *st, const char *stream, struct due_facts *f);
void due_facts_clear(struct due_facts *f);

/* The verdict for s at now; scheduled: the caller runs streams on their
 * schedules (--due, the daemon), else on demand. why: one line for
 * --dry-run and the daemon's log (times in the zone in use). */
enum due_verdict due_decide(const struct manifest_stream *s, const struct due_facts *f,
                            time_t now, int scheduled, char *why, size_t n);

#endif
