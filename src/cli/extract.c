/* extract.c - `sluice extract`: a spec from the command line, one job, its
 * result on stderr. */
#include "cli/extract.h"

#include "cli/progress.h"
#include "common/log.h"
#include "job/job.h"
#include "job/parallel.h"

struct display {
    const struct extract_cmd *x;
    struct progress prog;
};

static void started(void *ctx, const char *label, int64_t estimate, uint64_t rows_before)
{
    struct display *d = ctx;
    progress_init(&d->prog, d->x->progress, d->x->quiet, estimate, rows_before, label);
}

static void finished(void *ctx)
{
    struct display *d = ctx;
    progress_clear(&d->prog);
}

static void progress(uint64_t rows, uint64_t bytes, void *ctx)
{
    struct display *d = ctx;
    progress_update(rows, bytes, &d->prog);
}

int extract_command(const struct extract_cmd *x, const atomic_int *stop)
{
    struct display d = {.x = x};
    const struct job_hooks hooks = {
        .started = started, .progress = progress, .finished = finished, .ctx = &d,
    };
    const struct job_env env = {.stop = stop, .hooks = &hooks, .names = cli_spec_names};
    struct job_result res;
    int code = x->spec.partitions ? parallel_run(&x->spec, &env, &res)
                                  : job_run(&x->spec, &env, &res);
    /* A closed pipe ends the run quietly, as it ends `seq | head`. */
    if (res.error[0] && code != EXIT_PIPE)
        log_error("%s", res.error);
    return code;
}
