#include "schedule/launch.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/exitcode.h"
#include "common/log.h"
#include "job/parallel.h"
#include "schedule/retention.h"
#include "source/tablename.h"
#include "state/state.h"
#include "verify/verify.h"

/* mkdir -p of the directory part of path. 0, or -1 with errno set. */
static int make_parents(const char *path)
{
    char dir[4096];
    const char *slash = strrchr(path, '/');
    if (!slash || slash == path)
        return 0;
    if ((size_t)(slash - path) >= sizeof dir) {
        errno = ENAMETOOLONG;
        return -1;
    }
    memcpy(dir, path, (size_t)(slash - path));
    dir[slash - path] = '\0';
    for (char *p = dir + 1;; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char c = *p;
        *p = '\0';
        if (mkdir(dir, 0777) < 0 && errno != EEXIST)
            return -1;
        *p = c;
        if (!c)
            return 0;
    }
}

static void vars_of(const struct launch *l, struct template_vars *v)
{
    v->stream = l->stream->name;
    v->table = l->table;
    v->schema = l->schema;
}

int launch_output(const struct manifest_stream *s, const char *resume_output, time_t now,
                  char **out, char *err, size_t errlen)
{
    char why[512], *schema = NULL, *table = NULL;
    *out = NULL;
    if (resume_output) {
        if ((*out = strdup(resume_output)))
            return 0;
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (table_name_parse(s->spec.table, &schema, &table, why, sizeof why) < 0) {
        snprintf(err, errlen, "%s: table: %s", s->name, why);
        return -1;
    }
    struct template_vars v = {.stream = s->name, .table = table, .schema = schema};
    int rc = 0;
    if (retention_leftover_partial(s->output, &v, out, why, sizeof why) < 0) {
        snprintf(err, errlen, "%s: %s", s->name, why);
        rc = -1;
    } else if (!*out && template_expand(out, s->output, &v, now, why, sizeof why) < 0) {
        snprintf(err, errlen, "%s: output: %s", s->name, why);
        rc = -1;
    }
    free(schema);
    free(table);
    return rc;
}

int launch_prepare(struct launch *l, const struct manifest_stream *s, const char *resume_output,
                   time_t now, int restart, const atomic_int *stop, char *err, size_t errlen)
{
    memset(l, 0, sizeof *l);
    l->stream = s;
    l->stop = stop;
    l->notify_fd = -1;
    char why[512];
    if (table_name_parse(s->spec.table, &l->schema, &l->table, why, sizeof why) < 0) {
        snprintf(err, errlen, "%s: table: %s", s->name, why);
        return -1;
    }
    if (launch_output(s, resume_output, now, &l->output, err, errlen) < 0)
        return -1;
    if (make_parents(l->output) < 0) {
        snprintf(err, errlen, "%s: cannot create the directory of %s: %s", s->name, l->output,
                 strerror(errno));
        return -1;
    }
    l->spec = s->spec;
    l->spec.output = l->output;
    l->spec.restart = restart;
    return 0;
}

/* The id of the stream's newest run, 0 when none (or the store cannot say). */
static int64_t newest_run(struct state *st, const char *stream)
{
    struct state_run *runs = NULL;
    size_t n = 0;
    int64_t id = 0;
    if (st && state_list_runs(st, stream, NULL, NULL, 1, &runs, &n) == 0 && n)
        id = runs[0].id;
    state_runs_free(runs, n);
    return id;
}

/* A job that failed before it began (no connection, a table gone, a bad
 * option) records no run of its own; the history gets one here, so status
 * and the schedule see the failure and its message. */
static void record_early_failure(struct launch *l, struct state *st, int64_t before)
{
    if (!st || l->res.code == EXIT_OK || l->res.busy || newest_run(st, l->stream->name) != before)
        return;
    int64_t id;
    const char *status = l->res.code == EXIT_INTERRUPTED ? "interrupted" : "failed";
    if (state_run_start(st, l->stream->name, "", l->output, -1, &id) == 0)
        state_run_end(st, id, status, 0, 0, 0, l->res.error[0] ? l->res.error : NULL);
}

/* verify: true - the backup just written, read back against its sidecar
 * before anything older is pruned; the result goes to the state store,
 * where status shows it. */
static void verify_new_backup(struct launch *l, struct state *st)
{
    struct record r;
    struct verify_report rep;
    char err[PATH_MAX + 256], summary[256];
    enum record_status rs = record_load(l->res.output, &r, err, sizeof err);
    int ok = rs == RECORD_OK && verify_file(&r, &rep, err, sizeof err) == 0;
    if (ok) {
        ok = !rep.damaged && !rep.extra && rep.digest_ok;
        if (!ok)
            snprintf(err, sizeof err, "%s: damaged: %zu of %zu segments differ from its sidecar",
                     l->res.output, rep.damaged, r.nsegs);
        snprintf(summary, sizeof summary, "%s: %llu rows in %zu segments", ok ? "intact" : "damaged",
                 (unsigned long long)r.rows, r.nsegs);
        verify_report_free(&rep);
    }
    l->verified = ok ? 1 : -1;
    if (!ok)
        snprintf(l->verify_error, sizeof l->verify_error, "%s", err);
    if (st && state_record_verification(st, l->stream->name, l->res.output, "sidecar",
                                        ok ? "intact" : "damaged", ok ? summary : err) < 0) {
        log_set_context(l->stream->name);
        log_warn("the verification is not recorded: %s", state_error(st));
        log_set_context(NULL);
    }
    record_free(&r);
}

void launch_run(struct launch *l)
{
    const struct job_env env = {.stop = l->stop, .names = manifest_spec_names, .log_stream = 1};
    struct state *st = NULL;
    if (state_open(&st, l->spec.state_path) < 0) {
        state_close(st); /* the job reports the store's failure itself */
        st = NULL;
    }
    int64_t before = newest_run(st, l->stream->name);
    if (l->spec.partitions)
        parallel_run(&l->spec, &env, &l->res);
    else
        job_run(&l->spec, &env, &l->res);
    record_early_failure(l, st, before);
    const struct manifest_stream *s = l->stream;
    if (l->res.code == EXIT_OK && s->verify && l->res.output[0])
        verify_new_backup(l, st);
    state_close(st);
    /* Retention after a new backup is complete (and, with verify, intact). */
    if (l->res.code == EXIT_OK && l->verified >= 0 && s->keep) {
        struct template_vars v;
        vars_of(l, &v);
        /* The job's own path (symbolic links resolved) is the one kept. */
        const char *kept = l->res.output[0] ? l->res.output : l->output;
        if (retention_prune(s->output, &v, s->name, s->keep, kept, &l->pruned, l->prune_error,
                            sizeof l->prune_error) < 0 && !l->prune_error[0])
            snprintf(l->prune_error, sizeof l->prune_error, "retention failed");
        if (l->pruned) {
            log_set_context(s->name);
            log_info("retention: deleted %u old output%s (keep %u)", l->pruned,
                     l->pruned == 1 ? "" : "s", s->keep);
            log_set_context(NULL);
        }
    }
}

static void *thread_main(void *arg)
{
    struct launch *l = arg;
    launch_run(l);
    atomic_store(&l->done, 1);
    if (l->notify_fd >= 0) {
        char b = 1;
        while (write(l->notify_fd, &b, 1) < 0 && errno == EINTR)
            ;
    }
    return NULL;
}

int launch_start(struct launch *l, int notify_fd)
{
    l->notify_fd = notify_fd;
    if (pthread_create(&l->thread, NULL, thread_main, l) != 0)
        return -1;
    l->started = 1;
    return 0;
}

void launch_join(struct launch *l)
{
    if (l->started) {
        pthread_join(l->thread, NULL);
        l->started = 0;
    }
}

void launch_free(struct launch *l)
{
    launch_join(l);
    free(l->output);
    free(l->schema);
    free(l->table);
    memset(&l->spec, 0, sizeof l->spec);
    l->output = l->schema = l->table = NULL;
}
