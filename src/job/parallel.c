/* parallel.c - a partitioned job (parallel.h). */
#include "job/parallel.h"

#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/errbuf.h"
#include "common/exitcode.h"
#include "common/log.h"
#include "job/incremental.h"
#include "job/partition.h"
#include "job/plan.h"
#include "output/join.h"
#include "output/keyjson.h"
#include "output/parts.h"
#include "source/connect.h"
#include "source/scan.h"
#include "state/state.h"

struct coord;

/* One partition of this shard. */
struct slot {
    struct coord *c;
    unsigned index;
    char name[16];
    char output[PATH_MAX];
    struct stream_spec spec;  /* the job's: a shallow copy of the parent's */
    struct part_range range;
    struct job_part part;
    struct job_hooks hooks;
    struct job_result res;
    int done;                 /* finished before this run */
    struct source *src;       /* its connection in the shared read, until its job takes it */
    uint64_t done_rows, done_bytes;
    _Atomic uint64_t rows, bytes; /* progress of this run */
};

struct coord {
    const struct stream_spec *o;
    const struct job_env *env;
    struct job_result *res;
    struct source *src;
    struct plan plan;
    char *base_fingerprint;   /* the options, without partitions and shards */
    struct state *state;
    struct stream_state ss;   /* the job: partition "" */
    struct partition_plan pp;
    char id[PARTS_PLAN_ID_LEN + 1];
    char tag[PARTS_PLAN_ID_LEN + 8]; /* "plan=ID": in each partition's fingerprint */
    unsigned n, shards, shard;
    int resuming, all_empty;
    const char *snapshot_state; /* "none", "one", "broken" */
    char *snapshot;           /* the exported snapshot's token */
    int64_t run_id;
    struct slot *slots;       /* this shard's partitions */
    size_t nslots;
    struct slot **pending;    /* those this run extracts */
    size_t npending;
    atomic_int stop;
    atomic_size_t next;
    atomic_uint running;
    pthread_mutex_t mu;       /* the first failure; the progress line */
    int fail_code;
};

/* Records the first error of the job; returns code. */
#define cfail(c, code, ...) \
    errbuf_first((c)->res->error, sizeof (c)->res->error, (code), __VA_ARGS__)

static int state_failed(struct coord *c)
{
    return cfail(c, EXIT_STATE, "%s", state_error(c->state));
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

static const char *compression_name(enum sink_compress c)
{
    return c == SINK_GZIP ? "gzip" : c == SINK_ZSTD ? "zstd" : "none";
}

/* "--partitions 8 --shard 1/4" as the options say it. */
static void layout_text(char *out, size_t n, unsigned parts, unsigned shards, unsigned shard)
{
    if (shards > 1)
        snprintf(out, n, "--partitions %u --shard %u/%u", parts, shard, shards);
    else
        snprintf(out, n, "--partitions %u", parts);
}

static char *detail_text(const struct coord *c)
{
    return partition_detail(c->id, c->shards, c->shard, c->snapshot_state);
}

static int detail_parse(const char *text, char id[PARTS_PLAN_ID_LEN + 1], unsigned *shards,
                        unsigned *shard, const char **snapshot)
{
    if (partition_detail_parse(text, id, PARTS_PLAN_ID_LEN + 1, shards, shard, snapshot) < 0 ||
        strlen(id) != PARTS_PLAN_ID_LEN)
        return -1;
    return 0;
}

static int new_plan_id(struct coord *c)
{
    unsigned char r[PARTS_PLAN_ID_LEN / 2];
    if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r)
        return cfail(c, EXIT_INTERNAL, "cannot draw a plan id: getrandom failed");
    for (size_t i = 0; i < sizeof r; i++)
        snprintf(c->id + 2 * i, 3, "%02x", r[i]);
    return 0;
}

/* ---- preparing: everything that can refuse, before anything changes ----- */

static int prepare(struct coord *c)
{
    const struct stream_spec *o = c->o;
    struct table_desc *desc = NULL;
    char why[1024];
    int rc = source_connect(o->source, &c->src, why, sizeof why);
    if (rc < 0)
        return cfail(c, source_exit_code(rc), "%s", why);
    if ((rc = source_describe(c->src, o->table, &desc)) < 0)
        return cfail(c, source_exit_code(rc), "%s", source_error(c->src));
    int code = plan_build(&c->plan, o, c->env->names, desc, c->res->error, sizeof c->res->error);
    if (code) {
        if (!c->plan.desc)
            table_desc_free(desc);
        return code;
    }
    snprintf(c->res->stream, sizeof c->res->stream, "%s", c->plan.stream);
    snprintf(c->res->output, sizeof c->res->output, "%s", c->plan.output_abs);
    if (!partition_supported(c->src, &c->plan))
        return cfail(c, EXIT_USAGE,
                     "--partitions: splitting a table is not supported by this database (%s)",
                     c->src->drv->name);
    if (o->snapshot && c->n > 1 && !source_has_shared_snapshot(c->src) &&
        !source_has_reads_together(c->src))
        return cfail(c, EXIT_USAGE,
                     "--snapshot with --partitions: one snapshot for several connections is not supported by this database (%s); leave out --snapshot, or use one partition",
                     c->src->drv->name);
    if (o->snapshot_lock && !source_has_reads_together(c->src))
        return cfail(c, EXIT_USAGE,
                     "--snapshot-lock: this database (%s) %s; leave out --snapshot-lock",
                     c->src->drv->name,
                     source_has_shared_snapshot(c->src)
                         ? "hands one exported snapshot to every partition, no lock is needed"
                         : "has no lock that makes several reads one snapshot");
    /* The statements of a partition: both bounds. */
    struct scan_spec check = c->plan.spec;
    struct keytuple full = {0};
    if (key_init(&full, check.nkey) < 0)
        return cfail(c, EXIT_INTERNAL, "out of memory");
    check.after = check.paging == PAGING_OFFSET ? NULL : &full;
    check.upto = &full;
    rc = scan_check(c->src, &check);
    key_clear(&full);
    if (rc < 0)
        return cfail(c, source_exit_code(rc), "%s", source_error(c->src));
    c->base_fingerprint = strdup(c->plan.fingerprint);
    char tag[128];
    snprintf(tag, sizeof tag, "partitions=%u shards=%u shard=%u", c->n, c->shards, c->shard);
    if (!c->base_fingerprint || plan_tag_fingerprint(&c->plan, tag) < 0)
        return cfail(c, EXIT_INTERNAL, "out of memory");
    return 0;
}

/* The unfinished job of the stream must be this one: partitioned the same
 * way, with the same options, writing the same output. */
static int check_resume(struct coord *c)
{
    const struct stream_state *ss = &c->ss;
    const char *stream = c->plan.stream, *const *names = c->env->names;
    char id[PARTS_PLAN_ID_LEN + 1], had[128], now[128];
    unsigned shards = 0, shard = 0;
    const char *snap = "none";
    if (c->pp.partitions == 0 || c->pp.job_id != ss->job_id ||
        detail_parse(c->pp.detail, id, &shards, &shard, &snap) < 0)
        return cfail(c, EXIT_USAGE,
                     "stream '%s' has an unfinished job started without --partitions; re-run it the same way, or pass --restart to discard it",
                     stream);
    if (c->pp.partitions != c->n || shards != c->shards || shard != c->shard) {
        layout_text(had, sizeof had, (unsigned)c->pp.partitions, shards, shard);
        layout_text(now, sizeof now, c->n, c->shards, c->shard);
        return cfail(c, EXIT_USAGE,
                     "stream '%s' has an unfinished job started with %s, not %s; re-run it with %s, or pass --restart to discard it",
                     stream, had, now, had);
    }
    const char *fp = ss->fingerprint ? ss->fingerprint : "";
    if (strcmp(fp, c->plan.fingerprint) != 0) {
        const char *mark = strstr(c->plan.fingerprint, PLAN_SCHEMA_MARK);
        size_t opts = mark ? (size_t)(mark - c->plan.fingerprint) : strlen(c->plan.fingerprint);
        if (strncmp(fp, c->plan.fingerprint, opts) == 0)
            return cfail(c, EXIT_SOURCE,
                         "table %s changed since its unfinished job began: a key or output column was renamed, dropped or changed type; pass --restart to extract it anew",
                         c->plan.desc->name);
        return cfail(c, EXIT_USAGE,
                     "stream '%s' has an unfinished job started with other options (source, table, %s, %s, %s, where or compression); re-run it with the same options, or pass --restart to discard it",
                     stream, names[SPEC_PAGING], names[SPEC_KEY], names[SPEC_COLUMNS]);
    }
    if (strcmp(ss->output ? ss->output : "", c->plan.output_abs) != 0)
        return cfail(c, EXIT_USAGE,
                     "stream '%s' has an unfinished job writing to %s; re-run it with that output, or pass --restart to discard it",
                     stream, ss->output);
    memcpy(c->id, id, sizeof c->id);
    c->snapshot_state = snap;
    c->resuming = 1;
    return 0;
}

/* Incremental: an earlier job's output is never overwritten. -1: go on;
 * else the exit code (0: the command already ran). */
static int keep_earlier_output(struct coord *c)
{
    char index[PATH_MAX + 16];
    const char *out = c->plan.output_abs;
    parts_index_path(index, sizeof index, out);
    if (!file_exists(out) && !file_exists(index))
        return -1;
    if (c->ss.job_id && c->ss.output && strcmp(c->ss.output, out) == 0) {
        log_warn("%s: %s already holds the stream's last job (job %lld); nothing to do: move it away, or write the next job to another file",
                 c->plan.stream, out, (long long)c->ss.job_id);
        return EXIT_OK;
    }
    return cfail(c, EXIT_OUTPUT,
                 "%s exists; an incremental job never overwrites another job's output: move it away or choose another -o",
                 file_exists(out) ? out : index);
}

/* Adopts the plan another shard wrote to FILE.plan.json. */
static int adopt_plan(struct coord *c, struct shared_plan *sp, struct job_range *range)
{
    const char *stream = c->plan.stream;
    char path[PATH_MAX + 16], id[PARTS_PLAN_ID_LEN + 1], had[128], now[128];
    unsigned shards, shard;
    const char *snap;
    parts_plan_path(path, sizeof path, c->plan.output_abs);
    if (c->pp.partitions && c->pp.job_id == c->ss.job_id &&
        detail_parse(c->pp.detail, id, &shards, &shard, &snap) == 0 && strcmp(id, sp->id) == 0) {
        /* Run again before the join: its part of that job is done. */
        log_warn("%s: shard %u/%u has done its part of the job planned in %s; nothing to do until `sluice join %s` has joined it",
                 stream, c->shard, c->shards, path, c->plan.output_abs);
        return -1;
    }
    if (strcmp(sp->stream, stream) != 0)
        return cfail(c, EXIT_USAGE, "%s belongs to stream '%s', not '%s'", path, sp->stream,
                     stream);
    if (strcmp(sp->fingerprint, c->base_fingerprint) != 0)
        return cfail(c, EXIT_USAGE,
                     "%s was made by a shard run with other options (source, table, paging, key, columns, where or compression); run every shard with the same options",
                     path);
    if (sp->partitions != c->n || sp->shards != c->shards) {
        layout_text(had, sizeof had, sp->partitions, sp->shards, c->shard);
        layout_text(now, sizeof now, c->n, c->shards, c->shard);
        return cfail(c, EXIT_USAGE, "%s was made for %s, not %s; run every shard alike", path,
                     had, now);
    }
    if (sp->incremental != (c->o->mode == MODE_INCREMENTAL) ||
        (sp->incremental && (!keyjson_equal(&sp->range.lower, &range->lower) ||
                             sp->range.lower_inclusive != range->lower_inclusive)))
        return cfail(c, EXIT_USAGE,
                     "%s starts the job at another point than this shard's state store (its high-water mark); every shard must have run the same jobs",
                     path);
    memcpy(c->id, sp->id, sizeof c->id);
    key_clear(&range->upper);
    range->upper = sp->range.upper;
    sp->range.upper = (struct keytuple){0};
    partition_plan_clear(&c->pp);
    c->pp.partitions = sp->partitions;
    c->pp.nbounds = sp->partitions - 1;
    c->pp.bounds = sp->bounds;
    sp->bounds = NULL;
    log_info("%s: shard %u/%u follows the plan %s in %s", stream, c->shard, c->shards, c->id, path);
    return 0;
}

/* After a new job of n partitions replaced one of more: the files of the
 * old job's partitions that the new one does not reuse (their records
 * naming the old plan), so that no part of an earlier job is left to be
 * joined with this one's. Only a job without shards: the parts of shards
 * on shared storage are the join's to remove. */
static void remove_old_parts(const struct coord *c, const char *old_id, unsigned old_n)
{
    char path[PATH_MAX + 32];
    for (unsigned i = c->n; i < old_n; i++) {
        if (!parts_record_done(c->plan.output_abs, old_id, i)) {
            parts_record_path(path, sizeof path, c->plan.output_abs, i);
            if (access(path, F_OK) == 0)
                continue; /* another job's record: not ours */
        }
        parts_record_path(path, sizeof path, c->plan.output_abs, i);
        unlink(path);
        parts_path(path, sizeof path, c->plan.output_abs, i);
        unlink(path);
        size_t len = strlen(path);
        snprintf(path + len, sizeof path - len, ".partial");
        unlink(path);
    }
}

/* A new job: its range (incremental), its plan (made here, or for shards
 * adopted from the shard that made it), recorded with the job. */
static int begin_new(struct coord *c)
{
    const struct stream_spec *o = c->o;
    struct job_range range = {0};
    int code = 0, empty = 0;
    char old_id[PARTS_PLAN_ID_LEN + 1] = "";
    unsigned old_n = 0, old_shards = 0, old_shard = 0;
    const char *old_snap;
    if (c->pp.partitions &&
        detail_parse(c->pp.detail, old_id, &old_shards, &old_shard, &old_snap) == 0 &&
        old_shards <= 1)
        old_n = (unsigned)c->pp.partitions;
    /* Returns -1 when there is nothing to do (exit 0). */
    if (o->mode == MODE_INCREMENTAL) {
        if ((code = keep_earlier_output(c)) >= 0)
            return code == EXIT_OK ? -1 : code;
        if ((code = incr_new_range(c->src, o, &c->plan, &c->ss.high_water, &range, &empty,
                                   c->res->error, sizeof c->res->error)))
            goto out;
    }
    for (int attempt = 0; attempt < 2; attempt++) {
        char why[1024];
        struct shared_plan sp;
        int rc = c->shards > 1 ? parts_read_plan(c->plan.output_abs, &sp, why, sizeof why) : 1;
        if (rc < 0) {
            code = cfail(c, EXIT_USAGE, "%s", why);
            goto out;
        }
        if (rc == 0) {
            code = adopt_plan(c, &sp, &range);
            shared_plan_clear(&sp);
            if (code)
                goto out; /* -1: nothing to do */
            break;
        }
        /* This process makes the plan. */
        if ((code = new_plan_id(c)))
            goto out;
        if (empty) {
            partition_plan_clear(&c->pp);
            c->pp.partitions = c->n;
            c->pp.nbounds = c->n - 1;
            c->pp.bounds = c->n > 1 ? calloc(c->n - 1, sizeof *c->pp.bounds) : NULL;
            if (c->n > 1 && !c->pp.bounds) {
                code = cfail(c, EXIT_INTERNAL, "out of memory");
                goto out;
            }
        } else if ((code = partition_split(c->src, &c->plan, &range, c->n, &c->pp,
                                           c->res->error, sizeof c->res->error))) {
            goto out;
        }
        if (c->shards <= 1)
            break;
        struct shared_plan mine = {
            .stream = c->plan.stream, .fingerprint = c->base_fingerprint,
            .partitions = c->n, .shards = c->shards, .incremental = o->mode == MODE_INCREMENTAL,
            .range = range, .bounds = c->pp.bounds,
        };
        memcpy(mine.id, c->id, sizeof mine.id);
        rc = parts_write_plan(c->plan.output_abs, &mine, why, sizeof why);
        if (rc < 0) {
            code = cfail(c, EXIT_OUTPUT, "%s", why);
            goto out;
        }
        if (rc == 0)
            break;
        /* Another shard wrote its plan first: follow that one. */
    }
    c->all_empty = o->mode == MODE_INCREMENTAL && range.upper.n == 0;
    c->snapshot_state = o->snapshot && c->n > 1 ? "one" : "none";
    free(c->pp.detail);
    c->pp.detail = detail_text(c);
    if (!c->pp.detail) {
        code = cfail(c, EXIT_INTERNAL, "out of memory");
        goto out;
    }
    if (state_begin_planned_job(c->state, c->plan.stream, c->plan.fingerprint, c->plan.output_abs,
                                o->mode == MODE_INCREMENTAL ? &range : NULL, &c->pp) < 0) {
        code = state_failed(c);
        goto out;
    }
    /* The job's range as the state holds it, for the partitions. */
    key_clear(&c->ss.range.lower);
    key_clear(&c->ss.range.upper);
    c->ss.range = range;
    range = (struct job_range){0};
    if (old_n > c->n && c->shards <= 1)
        remove_old_parts(c, old_id, old_n);
    if (o->restart)
        log_info("%s: discarded the unfinished job", c->plan.stream);
    log_info("%s: new job of %u partitions (plan %s)", c->plan.stream, c->n, c->id);
out:
    key_clear(&range.lower);
    key_clear(&range.upper);
    return code;
}

/* ---- the partitions ------------------------------------------------------- */

static void slot_progress(uint64_t rows, uint64_t bytes, void *ctx)
{
    struct slot *sl = ctx;
    struct coord *c = sl->c;
    atomic_store_explicit(&sl->rows, rows, memory_order_relaxed);
    atomic_store_explicit(&sl->bytes, bytes, memory_order_relaxed);
    const struct job_hooks *h = c->env->hooks;
    if (!h || !h->progress || pthread_mutex_trylock(&c->mu) != 0)
        return;
    uint64_t r = 0, b = 0;
    for (size_t i = 0; i < c->nslots; i++) {
        r += atomic_load_explicit(&c->slots[i].rows, memory_order_relaxed);
        b += atomic_load_explicit(&c->slots[i].bytes, memory_order_relaxed);
    }
    h->progress(r, b, h->ctx);
    pthread_mutex_unlock(&c->mu);
}

static int slot_published(void *ctx, const char *output, uint64_t rows, uint64_t bytes,
                          char *err, size_t errlen)
{
    struct slot *sl = ctx;
    struct coord *c = sl->c;
    (void)output;
    (void)bytes;
    const struct part_desc d = {
        .plan = c->id, .stream = c->plan.stream, .index = sl->index, .partitions = c->n,
        .compression = compression_name(c->plan.compress),
        .after = sl->range.after, .after_inclusive = sl->range.after_inclusive,
        .upto = sl->range.upto, .empty = sl->range.empty, .rows = rows,
    };
    return parts_write_record(c->plan.output_abs, &d, err, errlen);
}

/* This shard's partitions, and which of them are finished already. */
static int setup_slots(struct coord *c)
{
    struct state_stream *rows = NULL;
    size_t nrows = 0;
    if (state_list_streams(c->state, c->plan.stream, &rows, &nrows) < 0)
        return state_failed(c);
    size_t per = c->shards > 1 ? c->shards : 1;
    snprintf(c->tag, sizeof c->tag, "plan=%s", c->id);
    c->nslots = (c->n - c->shard + per - 1) / per;
    c->slots = calloc(c->nslots ? c->nslots : 1, sizeof *c->slots);
    c->pending = calloc(c->nslots ? c->nslots : 1, sizeof *c->pending);
    if (!c->slots || !c->pending) {
        state_streams_free(rows, nrows);
        return cfail(c, EXIT_INTERNAL, "out of memory");
    }
    for (size_t k = 0; k < c->nslots; k++) {
        struct slot *sl = &c->slots[k];
        sl->c = c;
        sl->index = c->shard + (unsigned)(k * per);
        snprintf(sl->name, sizeof sl->name, "%04u", sl->index);
        parts_path(sl->output, sizeof sl->output, c->plan.output_abs, sl->index);
        partition_range(&c->pp, &c->ss.range, c->all_empty, sl->index, &sl->range);
        const struct state_stream *row = NULL;
        for (size_t r = 0; r < nrows; r++)
            if (strcmp(rows[r].partition, sl->name) == 0)
                row = &rows[r];
        /* Finished: its state says so, or (a shard whose store is new)
         * its record of this plan is there with its part. */
        sl->done = row ? row->s.phase == PHASE_IDLE && row->s.job_id > 0
                       : parts_record_done(c->plan.output_abs, c->id, sl->index);
        if (sl->done) {
            /* Joined already: no record is left, and nothing to count. */
            parts_record_counts(c->plan.output_abs, sl->index, &sl->done_rows, &sl->done_bytes);
            atomic_store(&sl->rows, sl->done_rows);
            atomic_store(&sl->bytes, sl->done_bytes);
        } else {
            c->pending[c->npending++] = sl;
            if (row) {
                atomic_store(&sl->rows, row->s.rows);
                atomic_store(&sl->bytes, row->s.bytes);
            }
        }
        /* The partition's job: the parent's spec for its own range and file. */
        sl->spec = *c->o;
        sl->spec.name = c->plan.stream;
        sl->spec.output = sl->output;
        sl->spec.compress = (int)c->plan.compress;
        sl->spec.restart = 0;
        sl->spec.partitions = sl->spec.parallel = sl->spec.shard = sl->spec.shards = 0;
        sl->spec.keep_parts = 0;
        sl->part = (struct job_part){
            .name = sl->name, .tag = c->tag, .after = sl->range.after,
            .after_inclusive = sl->range.after_inclusive, .upto = sl->range.upto,
            .empty = sl->range.empty, .published = slot_published, .ctx = sl,
        };
        sl->hooks = (struct job_hooks){.progress = slot_progress, .ctx = sl};
    }
    state_streams_free(rows, nrows);
    return 0;
}

static void *worker(void *arg)
{
    struct coord *c = arg;
    for (;;) {
        if (atomic_load(&c->stop))
            break;
        size_t k = atomic_fetch_add(&c->next, 1);
        if (k >= c->npending)
            break;
        struct slot *sl = c->pending[k];
        const struct job_env env = {.stop = &c->stop, .hooks = &sl->hooks,
                                    .names = c->env->names, .log_stream = 1, .part = &sl->part};
        job_run(&sl->spec, &env, &sl->res);
        int code = sl->res.code;
        if (code != EXIT_OK && code != EXIT_INTERRUPTED) {
            pthread_mutex_lock(&c->mu);
            if (!c->fail_code) {
                c->fail_code = code;
                cfail(c, code, "part %s of %u: %s", sl->name, c->n, sl->res.error);
            }
            pthread_mutex_unlock(&c->mu);
            atomic_store(&c->stop, 1); /* the others checkpoint and stop */
        }
    }
    atomic_fetch_sub(&c->running, 1);
    return NULL;
}

/* Runs the pending partitions, up to --parallel at once. */
static int run_partitions(struct coord *c)
{
    unsigned k = c->o->parallel ? c->o->parallel : 1;
    if (k > c->npending)
        k = (unsigned)c->npending;
    if (k == 0)
        return 0;
    pthread_t *t = calloc(k, sizeof *t);
    if (!t)
        return cfail(c, EXIT_INTERNAL, "out of memory");
    unsigned started = 0;
    atomic_store(&c->running, k);
    for (; started < k; started++)
        if (pthread_create(&t[started], NULL, worker, c) != 0)
            break;
    if (started < k) {
        atomic_fetch_sub(&c->running, k - started);
        atomic_store(&c->stop, 1);
        cfail(c, EXIT_INTERNAL, "cannot start a thread for a partition");
    }
    /* The signal handler raises the process's flag; the jobs watch ours. */
    while (atomic_load(&c->running) > 0) {
        if (atomic_load(c->env->stop))
            atomic_store(&c->stop, 1);
        struct timespec ts = {0, 20 * 1000000L};
        nanosleep(&ts, NULL);
    }
    for (unsigned i = 0; i < started; i++)
        pthread_join(t[i], NULL);
    free(t);
    if (c->fail_code)
        return c->fail_code;
    if (started < k)
        return EXIT_INTERNAL;
    for (size_t i = 0; i < c->npending; i++)
        if (c->pending[i]->res.code != EXIT_OK)
            return cfail(c, EXIT_INTERRUPTED,
                         "interrupted; the partitions are checkpointed: run the same command again to continue");
    return 0;
}

/* With --snapshot where no snapshot can be exported: a connection for
 * every partition this run extracts, their reads begun together; each job
 * takes its own. */
static int begin_reads_together(struct coord *c)
{
    char why[1024];
    struct source **srcs = calloc(c->npending ? c->npending : 1, sizeof *srcs);
    if (!srcs)
        return cfail(c, EXIT_INTERNAL, "out of memory");
    int code = 0;
    for (size_t i = 0; i < c->npending && !code; i++) {
        int rc = source_connect(c->o->source, &c->pending[i]->src, why, sizeof why);
        if (rc < 0)
            code = cfail(c, source_exit_code(rc), "%s", why);
        srcs[i] = c->pending[i]->src;
    }
    if (!code && c->npending) {
        int rc = source_begin_reads_together(c->src, srcs, c->npending, c->o->snapshot_lock);
        if (rc < 0)
            code = cfail(c, source_exit_code(rc), "%s", source_error(c->src));
    }
    free(srcs);
    if (code)
        return code;
    for (size_t i = 0; i < c->npending; i++)
        c->pending[i]->part.src = &c->pending[i]->src;
    log_info("%s: the reads of %zu partitions began together%s", c->plan.stream, c->npending,
             c->o->snapshot_lock ? ", under a global read lock" : "");
    return 0;
}

/* With --snapshot: this connection's read, exported for the partitions.
 * A job resumed after its process died cannot have its old snapshot back. */
static int share_snapshot(struct coord *c)
{
    if (!c->o->snapshot || c->n < 2)
        return 0;
    int started = 0;
    for (size_t i = 0; i < c->nslots; i++)
        started |= c->slots[i].done || atomic_load(&c->slots[i].rows) > 0;
    if (c->resuming && started && strcmp(c->snapshot_state, "broken") != 0) {
        c->snapshot_state = "broken";
        char *d = detail_text(c);
        int rc = d ? state_plan_set_detail(c->state, c->plan.stream, d) : -1;
        free(d);
        if (rc < 0)
            return d ? state_failed(c) : cfail(c, EXIT_INTERNAL, "out of memory");
    }
    if (strcmp(c->snapshot_state, "broken") == 0)
        log_warn("%s: the snapshot of this job was lost when its earlier run stopped: the rest is read in a new snapshot, so the output is not one consistent image",
                 c->plan.stream);
    if (!source_has_shared_snapshot(c->src))
        return begin_reads_together(c);
    int rc = source_begin_read(c->src);
    if (rc == 0)
        rc = source_export_snapshot(c->src, &c->snapshot);
    if (rc < 0)
        return cfail(c, source_exit_code(rc), "%s", source_error(c->src));
    for (size_t i = 0; i < c->nslots; i++)
        c->slots[i].part.snapshot = c->snapshot;
    log_info("%s: the partitions read in snapshot %s", c->plan.stream, c->snapshot);
    return 0;
}

/* Every partition of this shard is done: join (one process), then end the job. */
static int finish(struct coord *c)
{
    if (c->shards <= 1) {
        const struct join_request rq = {.output = c->plan.output_abs, .plan = c->id,
                                        .partitions = c->n, .keep_parts = c->o->keep_parts};
        struct join_result jr;
        if (join_run(&rq, &jr))
            return cfail(c, jr.code, "%s", jr.error);
        c->res->bytes = jr.bytes;
    } else {
        log_info("%s: shard %u/%u is done; run `sluice join %s` once every shard is", c->plan.stream,
                 c->shard, c->shards, c->plan.output_abs);
    }
    const struct keytuple *hw = c->ss.range.upper.n ? &c->ss.range.upper : NULL;
    if (state_finish_job(c->state, c->plan.stream, "", hw) < 0)
        return state_failed(c);
    return 0;
}

static int run(struct coord *c)
{
    const struct stream_spec *o = c->o;
    char state_path[PATH_MAX];
    int code;
    if ((code = prepare(c)))
        return code;
    if (o->state_path)
        snprintf(state_path, sizeof state_path, "%s", o->state_path);
    else if (job_default_state_path(state_path, sizeof state_path) < 0)
        return cfail(c, EXIT_USAGE, "cannot name a state store: use --state FILE");
    if (state_open(&c->state, state_path) < 0)
        return cfail(c, EXIT_STATE, "%s", c->state ? state_error(c->state) : "out of memory");
    if (state_lock_stream(c->state, c->plan.stream, "") < 0) {
        /* Another process runs the stream: `run` skips it (EXIT_SKIPPED). */
        c->res->busy = state_stream_busy(c->state, c->plan.stream, "") == 1;
        return state_failed(c);
    }
    if (state_load(c->state, c->plan.stream, "", &c->ss) < 0 ||
        state_load_plan(c->state, c->plan.stream, &c->pp) < 0)
        return state_failed(c);
    if (c->ss.phase != PHASE_IDLE && !o->restart && (code = check_resume(c)))
        return code;
    if (!c->resuming && (code = begin_new(c)))
        return code < 0 ? EXIT_OK : code;
    if (c->resuming) {
        c->all_empty = o->mode == MODE_INCREMENTAL && c->ss.range.upper.n == 0;
        if (state_begin_attempt(c->state, c->plan.stream, "", c->plan.output_abs) < 0)
            return state_failed(c);
        c->res->resumed = 1;
        log_info("%s: resuming job %lld of %u partitions (plan %s)", c->plan.stream,
                 (long long)c->ss.job_id, c->n, c->id);
    }
    if (state_run_start(c->state, c->plan.stream, "", c->plan.output_abs,
                        c->plan.desc->row_estimate, &c->run_id) < 0)
        return state_failed(c);
    if ((code = setup_slots(c)) || (code = share_snapshot(c)))
        return code;
    const struct job_hooks *h = c->env->hooks;
    if (h && h->started) {
        uint64_t before = 0;
        for (size_t i = 0; i < c->nslots; i++)
            before += atomic_load(&c->slots[i].rows);
        h->started(h->ctx, c->plan.desc->name, c->plan.desc->row_estimate, before);
    }
    code = run_partitions(c);
    if (h && h->finished)
        h->finished(h->ctx);
    if (code)
        return code;
    /* The snapshot is needed no more: end it before the join. */
    if (c->snapshot)
        source_end_read(c->src);
    return finish(c);
}

int parallel_run(const struct stream_spec *spec, const struct job_env *env,
                 struct job_result *res)
{
    memset(res, 0, sizeof *res);
    struct coord c = {
        .o = spec, .env = env, .res = res, .n = spec->partitions,
        .shards = spec->shards ? spec->shards : 1, .shard = spec->shard,
        .snapshot_state = "none", .run_id = -1,
    };
    pthread_mutex_init(&c.mu, NULL);
    double t0 = now_seconds();
    int code = run(&c);
    uint64_t warnings = 0, run_rows = 0, rows = 0, bytes = 0;
    for (size_t i = 0; i < c.nslots; i++) {
        const struct slot *sl = &c.slots[i];
        rows += sl->done ? sl->done_rows : sl->res.rows;
        bytes += sl->done ? sl->done_bytes : sl->res.bytes;
        run_rows += sl->res.run_rows;
        warnings += sl->res.warnings;
    }
    res->rows = rows;
    res->run_rows = run_rows;
    if (!res->bytes)
        res->bytes = bytes;
    res->warnings = warnings;
    res->code = code;
    res->status = code == EXIT_OK ? "done" : code == EXIT_INTERRUPTED ? "interrupted" : "failed";
    if (c.run_id >= 0) {
        char note[1200];
        const char *last = res->error[0] ? res->error : NULL;
        if (strcmp(c.snapshot_state, "broken") == 0) {
            snprintf(note, sizeof note, "%s%ssnapshot broken: this job's snapshot ended with an earlier run; rows read since are from a new snapshot",
                     res->error, res->error[0] ? "; " : "");
            last = note;
        }
        if (state_run_end(c.state, c.run_id, res->status, run_rows, res->bytes, warnings, last) < 0 &&
            code == EXIT_OK)
            res->code = code = cfail(&c, EXIT_STATE, "%s", state_error(c.state));
    }
    if (code == EXIT_OK)
        log_info("%s: %llu rows, %llu bytes in %u partitions", res->stream,
                 (unsigned long long)rows, (unsigned long long)res->bytes, c.n);
    for (size_t i = 0; i < c.nslots; i++)
        source_close(c.slots[i].src); /* a connection no job took */
    free(c.snapshot);
    free(c.slots);
    free(c.pending);
    free(c.base_fingerprint);
    partition_plan_clear(&c.pp);
    stream_state_clear(&c.ss);
    state_close(c.state);
    plan_free(&c.plan);
    source_close(c.src);
    pthread_mutex_destroy(&c.mu);
    res->seconds = now_seconds() - t0;
    return code;
}
