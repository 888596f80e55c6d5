/* job.h - a job unit: one stream (and partition) extracted from its start,
 * or its last checkpoint, to its published output.
 *
 * A job owns everything it uses - its connection, its state store handle,
 * its output and its pump - and shares nothing mutable with other jobs, so
 * several run at once on separate threads of one process (the manifest's
 * streams, a table's partitions). It never prints its outcome: it returns
 * a result, and the caller reports it. Warnings and -v lines go to the log,
 * naming the stream when env->log_stream is set.
 *
 * A job moves IDLE -> RUNNING -> FINISHING -> IDLE in the state store. A run
 * that finds the stream RUNNING resumes it: the partial output is cut back
 * to the checkpointed bytes and the scan continues after the checkpointed
 * key (or offset). A run that finds it FINISHING only publishes the output.
 * Nothing is published before every row is durable and counted. Everything
 * a spec can get wrong (options, key, columns, --where) is found before the
 * state store or the output is created or changed. */
#ifndef SLUICE_JOB_H
#define SLUICE_JOB_H

#include <limits.h>
#include <stdatomic.h>
#include <stdint.h>

#include "job/pump.h"
#include "job/spec.h"

struct job_result {
    int code;               /* EXIT_* (common/exitcode.h); 0: done; EXIT_PIPE:
                               stdout's reader went away (report nothing) */
    const char *status;     /* "done", "failed", "interrupted" (also EXIT_PIPE) */
    char stream[1024];      /* the stream's identity (never a password) */
    char output[PATH_MAX];  /* the output path, "-" for stdout, "" before the plan */
    uint64_t rows;          /* rows in the job's output (durable) */
    uint64_t run_rows;      /* of which this run wrote */
    uint64_t bytes;         /* durable bytes of the output */
    uint64_t warnings;      /* values degraded or replaced (invalid UTF-8, zero dates) */
    double seconds;
    int resumed;            /* this run continued an unfinished job */
    int busy;               /* another sluice process holds the stream or its
                               output: this run changed nothing */
    char error[1024];       /* the first error, one line; "" when none */
};

/* Optional callbacks for a progress display; ctx is passed back. */
struct job_hooks {
    /* Scanning starts: label (the table), the table's row estimate (-1
     * unknown) and the rows the job had before this run. */
    void (*started)(void *ctx, const char *label, int64_t estimate, uint64_t rows_before);
    pump_progress_fn *progress; /* every few thousand rows */
    void (*finished)(void *ctx);
    void *ctx;
};

/* A partition of a partitioned job (job/parallel.h): the job reads only
 * its key range, keeps its own checkpoints under (stream, name), and tells
 * its owner when its output is published. */
struct job_part {
    const char *name;             /* the partition in the state store: "0003" */
    const char *tag;              /* added to the fingerprint: the plan it is of */
    const struct keytuple *after; /* rows beyond it (NULL: from the start) */
    int after_inclusive;
    const struct keytuple *upto;  /* rows up to and including it (NULL: to the end) */
    int empty;                    /* no rows: nothing is read */
    const char *snapshot;         /* with --snapshot: the exported snapshot to
                                     read in, or NULL for one of its own */
    struct source **src;          /* with --snapshot where a snapshot cannot be
                                     exported: a connection whose read was begun
                                     with the others' (begin_reads_together);
                                     the job takes it (sets *src NULL) and
                                     reads in it. NULL or *src NULL: none */
    /* Called once the output is published (also by a run that finds it
     * published), before the job is marked finished: rows and bytes are
     * the job's. 0, or -1 with a message in err: the job fails, and its
     * next run calls it again. */
    int (*published)(void *ctx, const char *output, uint64_t rows, uint64_t bytes, char *err,
                     size_t errlen);
    void *ctx;
};

struct job_env {
    const atomic_int *stop;       /* raised: checkpoint and end (EXIT_INTERRUPTED) */
    const struct job_hooks *hooks;/* NULL: none */
    const char *const *names;     /* how spec fields are named in messages */
    int log_stream;               /* name the stream in log lines */
    const struct job_part *part;  /* NULL: the whole stream */
};

/* Runs or resumes the job spec describes and fills *res. Returns res->code. */
int job_run(const struct stream_spec *spec, const struct job_env *env, struct job_result *res);

/* The state store used when a spec names none:
 * $XDG_STATE_HOME/sluice/state.db, else ~/.local/state/sluice/state.db. */
int job_default_state_path(char *out, size_t n);

#endif
