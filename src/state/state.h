/* state.h - the state store: a SQLite database (WAL) that keeps, per stream
 * and partition, the checkpoint of the job in progress and the high-water
 * key of the last finished job, and the history of every run.
 *
 * A job is one complete extraction of a stream; it may take several
 * attempts (runs killed and re-run). Checkpoints are committed in one
 * transaction each, only after the output they describe is durable.
 *
 * Errors: functions return 0 or -1; the one-line message is on the handle.
 * The file is created mode 0600. */
#ifndef SLUICE_STATE_H
#define SLUICE_STATE_H

#include <stdint.h>

#include "source/key.h"

enum stream_phase {
    PHASE_IDLE,      /* no job, or the last one finished: next run starts a new job */
    PHASE_RUNNING,   /* a job is in progress: the next run resumes it */
    PHASE_FINISHING, /* all rows are durable; only publishing the output remains */
};

/* The bounds an incremental job froze when it started; n 0: unbounded. */
struct job_range {
    struct keytuple lower; /* a key prefix: rows beyond it */
    int lower_inclusive;   /* 1: rows at or beyond it */
    struct keytuple upper; /* a key prefix: rows up to and including it */
};

/* What the store knows of one stream (and partition). Owns its strings;
 * free with stream_state_clear(). */
struct stream_state {
    int64_t job_id;      /* 0: the stream has never run */
    int64_t attempt;     /* attempts of job_id so far */
    enum stream_phase phase;
    char *fingerprint;   /* options a resume must match (paging, key, columns...) */
    char *output;        /* output path of the job, "-" for stdout */
    uint64_t offset;     /* rows of the order consumed (offset paging) */
    uint64_t rows;       /* rows written by this job so far */
    uint64_t bytes;      /* durable bytes of the output at the checkpoint */
    struct keytuple key;        /* last key written this job; n 0 when none */
    struct keytuple high_water; /* end of the last finished job; n 0 when none */
    struct job_range range;     /* the running job's bounds (incremental) */
};

void stream_state_clear(struct stream_state *s);

struct state;

/* Opens or creates the store (and its parent directory). On failure *out
 * may hold a handle with the message: read state_error(), then state_close().
 * A file that is not a sluice state store is refused, never modified. */
int state_open(struct state **out, const char *path);
void state_close(struct state *st); /* NULL ok */
/* The store's path, as opened. */
const char *state_file(const struct state *st);
const char *state_error(const struct state *st);

/* Locks the stream against every other sluice process until state_close()
 * (a byte lock on the state file). -1 with a message naming the stream when
 * another process holds it. */
int state_lock_stream(struct state *st, const char *stream, const char *partition);

/* Fills *out (cleared first). A stream never seen loads as job_id 0, IDLE. */
int state_load(struct state *st, const char *stream, const char *partition,
               struct stream_state *out);
/* Starts job job_id+1, attempt 1, RUNNING, with an empty checkpoint, the
 * given fingerprint, output and bounds (NULL: none); keeps the high-water
 * key. */
int state_begin_job(struct state *st, const char *stream, const char *partition,
                    const char *fingerprint, const char *output,
                    const struct job_range *range);
/* Counts one more attempt of the running job and records its output path. */
int state_begin_attempt(struct state *st, const char *stream,
                        const char *partition, const char *output);
/* One checkpoint segment of a job's output: what was written between two
 * checkpoints. Borrowed by the calls that record it. */
struct state_segment {
    uint64_t rows;               /* rows in the segment */
    uint64_t start, end;         /* its byte range in the output, [start, end) */
    const char *digest;          /* XXH3-128 of those bytes, hex */
    const struct keytuple *first;/* key of its first row; NULL or n 0: no row */
    const struct keytuple *last; /* key of its last row; NULL or n 0: the end of
                                    the job's range */
};

/* Commits one checkpoint of the running job in one transaction, with the
 * segment it ends (seg may be NULL: none recorded). */
int state_checkpoint(struct state *st, const char *stream, const char *partition,
                     const struct keytuple *key, uint64_t offset, uint64_t rows,
                     uint64_t bytes, const struct state_segment *seg);
/* RUNNING -> FINISHING, with the final counters and the last segment, in
 * one transaction: every row is durable in the partial output of `bytes`
 * bytes. */
int state_mark_finishing(struct state *st, const char *stream,
                         const char *partition, uint64_t offset, uint64_t rows,
                         uint64_t bytes, const struct state_segment *seg);
/* Ends the job: IDLE, checkpoint and bounds cleared; high_water (may be NULL: keep the
 * old one) becomes the stream's high-water key. */
int state_finish_job(struct state *st, const char *stream, const char *partition,
                     const struct keytuple *high_water);
/* Discards the unfinished job of the stream (--restart): IDLE, checkpoint
 * cleared, high-water kept. */
int state_discard_job(struct state *st, const char *stream, const char *partition);

/* Run history: one row per process run of a stream. output: the path the
 * run writes ("-" stdout; may be NULL); row_estimate: the table's rows as
 * estimated when it started (-1 unknown), for the run's progress. */
int state_run_start(struct state *st, const char *stream, const char *partition,
                    const char *output, int64_t row_estimate, int64_t *run_id);
/* status: "done", "failed", "interrupted". last_error may be NULL. */
int state_run_end(struct state *st, int64_t run_id, const char *status,
                  uint64_t rows, uint64_t bytes, uint64_t warnings,
                  const char *last_error);

/* ---- reading, for status ------------------------------------------------ */

/* One stream (and partition) as the store holds it. Owns its strings. */
struct state_stream {
    char *stream;
    char *partition;  /* "" for a stream without partitions */
    char *updated_at; /* ISO 8601 UTC of the last change */
    struct stream_state s;
};

/* Every stream and partition (stream NULL), or those of one stream, in
 * name order, from one snapshot. *out: free with state_streams_free(). */
int state_list_streams(struct state *st, const char *stream, struct state_stream **out,
                       size_t *n);
void state_streams_free(struct state_stream *v, size_t n);

/* One run of the history. Owns its strings; ended_at, last_error and
 * output may be NULL. */
struct state_run {
    int64_t id, job_id, attempt;
    char *stream, *partition;
    char *started_at, *ended_at; /* ISO 8601 UTC; ended_at NULL while running */
    char *status;                /* running, done, failed, interrupted */
    uint64_t rows, bytes, warnings;
    char *last_error;
    char *output;
    int64_t row_estimate;        /* -1: unknown */
};

/* The newest `limit` runs of stream (of one partition, or of all when
 * partition is NULL; only those with `status` when it is not NULL),
 * newest first. *out: free with state_runs_free(). */
int state_list_runs(struct state *st, const char *stream, const char *partition,
                    const char *status, size_t limit, struct state_run **out, size_t *n);
void state_runs_free(struct state_run *v, size_t n);

/* A recorded segment of the current (or last) job. */
struct state_segment_rec {
    int64_t seq;                 /* 0, 1, ... in output order */
    uint64_t rows, start, end;
    char digest[33];
    struct keytuple first, last; /* n 0: no row / the end of the job's range */
};

/* The segments of the stream's current or last job, in order (a new job
 * starts with none). *out: free with state_segments_free(). */
int state_list_segments(struct state *st, const char *stream, const char *partition,
                        struct state_segment_rec **out, size_t *n);
void state_segments_free(struct state_segment_rec *v, size_t n);

/* 1 when another process (or another handle) holds the stream's lock: a
 * run is extracting it now; 0 when free; -1 on error. */
int state_stream_busy(struct state *st, const char *stream, const char *partition);

/* The stream's current (or last) job: its id, attempts so far and the
 * start of its first run (ISO 8601 UTC into started_at, "" when no run of
 * it is recorded). A stream never seen gives job 0. For the sidecar. */
int state_current_job(struct state *st, const char *stream, const char *partition,
                      int64_t *job_id, int64_t *attempt, char *started_at, size_t n);

/* The newest verification of an output (the verifications table), for
 * status. Owns its strings; detail may be NULL. */
struct state_verification {
    char *verified_at, *against, *status, *detail;
};
/* Records that output (a published file; stream may be NULL) was
 * verified now against its "sidecar" or its "source", with status
 * "intact", "damaged" or "moved" and a one-line detail (may be NULL). */
int state_record_verification(struct state *st, const char *stream, const char *output,
                              const char *against, const char *status, const char *detail);
/* 1 with *out filled (free with state_verification_clear), 0 when the
 * output was never verified, -1 on error. */
int state_last_verification(struct state *st, const char *output,
                            struct state_verification *out);
void state_verification_clear(struct state_verification *v);

/* ---- partitioned jobs ----------------------------------------------------- */

/* The plan of a partitioned job: the boundaries its partitions were cut
 * at, recorded when the job starts so that every attempt of it splits the
 * table the same way. Owns its memory; free with partition_plan_clear(). */
struct partition_plan {
    int64_t job_id;          /* the stream's job (partition "") it belongs to */
    uint64_t partitions;     /* N; 0: the stream has no plan */
    char *detail;            /* the planner's own text (JSON), or NULL */
    char *created_at;        /* ISO 8601 UTC; set by the store */
    struct keytuple *bounds; /* N - 1 split points in key order; a tuple of
                                n 0 lies before every row */
    size_t nbounds;
};
void partition_plan_clear(struct partition_plan *p);

/* Starts job job_id+1 of (stream, "") exactly as state_begin_job() does
 * and, in the same transaction, records plan (plan->job_id becomes the new
 * job's) and forgets the stream's partitions of earlier jobs (their runs
 * stay in the history). */
int state_begin_planned_job(struct state *st, const char *stream, const char *fingerprint,
                            const char *output, const struct job_range *range,
                            struct partition_plan *plan);
/* The plan last recorded for stream into *out (cleared first); partitions
 * 0 when there is none. */
int state_load_plan(struct state *st, const char *stream, struct partition_plan *out);
/* Replaces the detail text of the stream's plan. */
int state_plan_set_detail(struct state *st, const char *stream, const char *detail);

#endif
