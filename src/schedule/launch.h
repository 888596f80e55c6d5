/* launch.h - one run of one manifest stream on a thread of its own: the
 * job (job_run), then, when it succeeded, the stream's retention. `run`
 * and the daemon start several at once, up to the manifest's concurrency.
 *
 * A launch borrows the manifest stream it runs (its spec is a copy of the
 * stream's struct, sharing its strings): the manifest must outlive it. */
#ifndef SLUICE_LAUNCH_H
#define SLUICE_LAUNCH_H

#include <pthread.h>
#include <limits.h>
#include <stdatomic.h>
#include <time.h>

#include "job/job.h"
#include "manifest/manifest.h"

struct launch {
    const struct manifest_stream *stream;
    struct stream_spec spec; /* the stream's, with output set: shares its strings */
    char *output;            /* owned: the file this run writes */
    char *schema, *table;    /* owned: the template's values */
    const atomic_int *stop;
    /* Results, valid after launch_join. */
    struct job_result res;
    int verified;             /* verify: 1 intact, -1 damaged, 0 not verified */
    char verify_error[PATH_MAX + 256]; /* why the backup did not verify, "" when it did */
    unsigned pruned;          /* outputs retention deleted */
    char prune_error[1024];   /* retention's failure, "" when none */
    /* The thread. */
    pthread_t thread;
    int started;
    int notify_fd;            /* gets one byte when the run ends; -1: none */
    atomic_int done;
};

/* launch_output: the file a run of s started at now writes (*out, free()),
 * chosen as launch_prepare says, with no effect on the disk.
 *
 * launch_prepare: prepares a run of s started at now (the template's time): into the
 * unfinished job's output when there is one (resume_output, from the state
 * store), else into a FILE.partial a run killed before its job began left
 * (retention_leftover_partial), else a new path from the template; its
 * directory is created.
 * restart: discard the unfinished job (its output path is reused). 0, or
 * -1 with one line in err. */
int launch_output(const struct manifest_stream *s, const char *resume_output, time_t now,
                  char **out, char *err, size_t errlen);
int launch_prepare(struct launch *l, const struct manifest_stream *s, const char *resume_output,
                   time_t now, int restart, const atomic_int *stop, char *err, size_t errlen);

/* Starts the run on a new thread; when it ends, one byte is written to
 * notify_fd (-1: none). 0, or -1 (the thread could not start). */
int launch_start(struct launch *l, int notify_fd);
/* Runs it on this thread instead. */
void launch_run(struct launch *l);
/* Waits for the thread; then the results are valid. */
void launch_join(struct launch *l);
void launch_free(struct launch *l);

#endif
