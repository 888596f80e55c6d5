/* job.c - one job unit (job.h): plan, decide, scan, publish. */
#include "job/job.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "common/errbuf.h"
#include "common/exitcode.h"
#include "common/log.h"
#include "encode/json.h"
#include "job/incremental.h"
#include "job/meta.h"
#include "job/plan.h"
#include "output/sidecar.h"
#include "output/sink.h"
#include "source/connect.h"
#include "source/scan.h"
#include "state/state.h"

struct job {
    const struct stream_spec *o;
    const struct job_env *env;
    struct job_result *res;
    struct source *src;
    struct plan plan;
    struct state *state;
    struct stream_state ss;
    struct sink *sink; /* the plan's output, locked before the state is read */
    struct scan *scan;
    struct json_row encoder;
    int64_t run_id;
    /* Incremental mode: the scan's bounds, pointed to by plan.spec. */
    int empty;             /* the job has nothing to read: no scan */
    unsigned retries_used; /* reconnects so far in this run (--retries) */
    int last_window;       /* the scan reads up to the job's upper bound */
    struct keytuple from;  /* where the next window continues from */
    struct keytuple wend;  /* the current window's end */
    char log_context[1100];/* "stream [part 0003]" for a partition's lines */
    int shared_read;       /* j->src came in a read begun with other partitions' */
};

/* Records the first error of the job; returns code. */
#define job_fail(j, code, ...) \
    errbuf_first((j)->res->error, sizeof (j)->res->error, (code), __VA_ARGS__)

static int source_failed(struct job *j, int rc)
{
    return job_fail(j, source_exit_code(rc), "%s", source_error(j->src));
}

static int state_failed(struct job *j)
{
    return job_fail(j, EXIT_STATE, "%s", state_error(j->state));
}

/* stdout's reader went away (`| head`): not a fault but the end of the
 * run, recorded as an interrupted one. The caller prints nothing for it. */
static int reader_gone(struct job *j)
{
    return job_fail(j, EXIT_PIPE, "stdout was closed by its reader (broken pipe)");
}

static int sink_failed(struct job *j, const struct sink *s)
{
    if (sink_reader_gone(s))
        return reader_gone(j);
    return job_fail(j, s && sink_busy(s) ? EXIT_STATE : EXIT_OUTPUT, "%s",
                    s ? sink_error(s) : "out of memory");
}

static const char *partition(const struct job *j)
{
    return j->plan.partition;
}

/* A partition's output is published: its owner records it (job_part). */
static int part_published(struct job *j, const char *output, uint64_t rows, uint64_t bytes)
{
    const struct job_part *part = j->env->part;
    char why[1024];
    if (!part || !part->published ||
        part->published(part->ctx, output, rows, bytes, why, sizeof why) == 0)
        return 0;
    return job_fail(j, EXIT_OUTPUT, "%s", why);
}

static int file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The high-water mark a finished job leaves: its frozen upper bound, or
 * (NULL) the old mark when it had none. */
static const struct keytuple *job_high_water(const struct stream_state *ss)
{
    return ss->range.upper.n ? &ss->range.upper : NULL;
}

/* The sidecar of a published output (spec->meta; never for stdout). A
 * partition's part gets its own, which the join merges into the joined
 * file's (output/join.h). */
static int write_meta(struct job *j, const char *output, uint64_t rows)
{
    if (!j->o->meta || strcmp(output, "-") == 0)
        return 0;
    const struct keytuple *hw = job_high_water(&j->ss);
    /* A part holds its partition's range (within the job's bounds): what
     * verify --against reads again for it. Borrowed, not copied. */
    const struct job_part *part = j->env->part;
    struct job_range part_range = {0};
    if (part) {
        if (part->after)
            part_range.lower = *part->after;
        part_range.lower_inclusive = part->after_inclusive;
        if (part->upto)
            part_range.upper = *part->upto;
    }
    const struct job_meta m = {
        .spec = j->o, .plan = &j->plan, .output = output,
        .range = part ? &part_range : j->plan.ncursor ? &j->ss.range : NULL,
        .high_water = hw ? hw : &j->ss.high_water, .rows = rows, .state = j->state,
    };
    char why[1024];
    return job_meta_write(&m, why, sizeof why) < 0 ? job_fail(j, EXIT_OUTPUT, "%s", why) : 0;
}

/* A sidecar left by an earlier job's file of the same name would describe
 * the wrong file once this one is renamed into place: removed first. */
static int drop_stale_meta(struct job *j)
{
    char why[1024];
    if (!j->o->meta || strcmp(j->plan.output_abs, "-") == 0 ||
        sidecar_remove(j->plan.output_abs, why, sizeof why) == 0)
        return 0;
    return job_fail(j, EXIT_OUTPUT, "%s", why);
}

/* Every row is durable in OUTPUT.partial and the job is FINISHING: rename
 * it into place, write its sidecar, end the job. */
static int publish(struct job *j, uint64_t rows, uint64_t bytes)
{
    int code;
    if ((code = drop_stale_meta(j)))
        return code;
    if (j->sink && sink_publish(j->sink) < 0)
        return sink_failed(j, j->sink);
    /* A part's sidecar before its record: the record tells a join the
     * part is complete. */
    if ((code = write_meta(j, j->plan.output_abs, rows)) ||
        (code = part_published(j, j->plan.output_abs, rows, bytes)))
        return code;
    if (state_finish_job(j->state, j->plan.stream, partition(j), job_high_water(&j->ss)) < 0)
        return state_failed(j);
    return EXIT_OK;
}

/* FINISHING: every row is durable in OUTPUT.partial; publish it and end
 * the job. The output may be this run's (already locked) or, for a stream
 * whose -o changed, the one the job wrote. */
static int finish_interrupted(struct job *j)
{
    const struct stream_state *ss = &j->ss;
    const struct plan *p = &j->plan;
    if (strcmp(ss->output, "-") != 0) {
        struct sink *own = NULL, *sink = j->sink;
        if (strcmp(ss->output, p->output_abs) != 0) {
            if (sink_open_locked(&own, ss->output, p->compress, p->level, j->o->threads) < 0) {
                int code = sink_failed(j, own);
                sink_close(own);
                return code;
            }
            sink = own;
        }
        uint64_t bytes;
        int code = 0;
        if (sink_created(sink)) {
            /* Killed after the rename: the output is already published. */
            if (!file_exists(ss->output))
                code = job_fail(j, EXIT_OUTPUT,
                                "stream '%s' finished writing %s, but neither it nor its .partial exists now; use --restart",
                                p->stream, ss->output);
        } else if (sink_resume(sink, ss->bytes) < 0 ||
                   sink_checkpoint(sink, &bytes) < 0 || sink_publish(sink) < 0) {
            code = sink_failed(j, sink);
        }
        sink_close(own);
        if (code || (code = write_meta(j, ss->output, ss->rows)) ||
            (code = part_published(j, ss->output, ss->rows, ss->bytes)))
            return code;
    }
    if (state_finish_job(j->state, p->stream, partition(j), job_high_water(ss)) < 0)
        return state_failed(j);
    j->res->rows = ss->rows;
    j->res->bytes = ss->bytes;
    log_info("%s: completed the interrupted job (%llu rows)", p->stream,
             (unsigned long long)ss->rows);
    return EXIT_OK;
}

/* With the output locked: decides whether this run starts a new job or
 * resumes the stream's unfinished one. Changes nothing. */
static int decide(struct job *j, int *resuming)
{
    const struct plan *p = &j->plan;
    const char *const *names = j->env->names;
    *resuming = 0;
    if (j->ss.phase != PHASE_RUNNING)
        return 0;
    const char *had = j->ss.fingerprint ? j->ss.fingerprint : "";
    const char *mark = strstr(p->fingerprint, PLAN_SCHEMA_MARK);
    size_t opts = mark ? (size_t)(mark - p->fingerprint) : strlen(p->fingerprint);
    if (strcmp(had, p->fingerprint) != 0 && strncmp(had, p->fingerprint, opts) == 0 &&
        strncmp(had + opts, PLAN_SCHEMA_MARK, strlen(PLAN_SCHEMA_MARK)) == 0) {
        char col[256];
        plan_changed_key(had, p->fingerprint, col, sizeof col);
        if (col[0])
            return job_fail(j, EXIT_SOURCE,
                            "table %s changed since its unfinished job began: key column '%s' was renamed, dropped or changed type; pass --restart to extract it anew",
                            p->desc->name, col);
        return job_fail(j, EXIT_SOURCE,
                        "table %s changed since its unfinished job began: an output column was renamed, dropped or changed type; pass --restart to extract it anew",
                        p->desc->name);
    }
    if (strcmp(had, p->fingerprint) != 0)
        return job_fail(j, EXIT_USAGE,
                        "stream '%s' has an unfinished job started with other options (source, table, %s, %s, %s, where, compression or partitions); re-run it with the same options, or pass --restart to discard it",
                        p->stream, names[SPEC_PAGING], names[SPEC_KEY], names[SPEC_COLUMNS]);
    if (strcmp(j->ss.output ? j->ss.output : "", p->output_abs) != 0)
        return job_fail(j, EXIT_USAGE,
                        "stream '%s' has an unfinished job writing to %s; re-run it with that output, or pass --restart to discard it",
                        p->stream, j->ss.output);
    *resuming = 1;
    return 0;
}

/* The scan is open, so the query is known to work: record the attempt or
 * the new job, then cut the output back to the checkpoint (or to
 * nothing). In that order: when the state store fails, the output is
 * untouched (and a partial file this run created is removed on close). */
static int begin(struct job *j, int resuming)
{
    const struct plan *p = &j->plan;
    int rc;
    if (resuming)
        rc = state_begin_attempt(j->state, p->stream, partition(j), p->output_abs);
    else
        rc = state_begin_job(j->state, p->stream, partition(j), p->fingerprint, p->output_abs,
                             p->ncursor ? &j->ss.range : NULL);
    if (rc < 0 || state_run_start(j->state, p->stream, partition(j), p->output_abs,
                                  p->desc->row_estimate, &j->run_id) < 0)
        return state_failed(j);
    if (sink_resume(j->sink, resuming ? j->ss.bytes : 0) < 0)
        return sink_failed(j, j->sink);
    if (resuming) {
        j->res->resumed = 1;
        log_info("%s: resuming job %lld (attempt %lld) after %llu rows", p->stream,
                 (long long)j->ss.job_id, (long long)j->ss.attempt + 1,
                 (unsigned long long)j->ss.rows);
        if (strcmp(p->output_abs, "-") == 0 && j->ss.rows)
            log_warn("resuming to stdout: rows after the last checkpoint may be written again (at-least-once)");
    }
    return 0;
}

/* Points the scan spec at the window that continues from j->from: its end
 * is j->wend, or the job's upper bound for the last one. */
static int set_window(struct job *j)
{
    struct scan_spec *spec = &j->plan.spec;
    int code = incr_next_window(j->src, j->o, &j->plan, &j->ss.range, &j->from, &j->wend,
                                &j->last_window, j->res->error, sizeof j->res->error);
    if (code)
        return code;
    spec->upto = j->last_window ? &j->ss.range.upper : &j->wend;
    if (!j->last_window)
        log_info("%s: window up to %s", j->plan.stream,
                 j->wend.v[0].kind == KEY_TEXT ? j->wend.v[0].s : "(integer)");
    return 0;
}

/* The window just read is checkpointed at j->wend: open the next one. */
static int next_window(struct job *j)
{
    struct scan_spec *spec = &j->plan.spec;
    scan_close(j->scan);
    j->scan = NULL;
    if (key_copy(&j->from, &j->wend) < 0)
        return job_fail(j, EXIT_INTERNAL, "out of memory");
    spec->after = &j->from;
    spec->after_inclusive = 0;
    int code = set_window(j);
    if (code)
        return code;
    int rc = scan_open(j->src, spec, &j->scan);
    return rc < 0 ? source_failed(j, rc) : 0;
}

static int stopped(const struct job *j)
{
    return atomic_load_explicit(j->env->stop, memory_order_relaxed) != 0;
}

/* Sleeps ms milliseconds, or less when the job is stopped: 1 if it was. */
static int nap(const struct job *j, unsigned ms)
{
    for (unsigned slept = 0; slept < ms && !stopped(j); slept += 50) {
        unsigned step = ms - slept < 50 ? ms - slept : 50;
        struct timespec ts = {0, (long)step * 1000000L};
        nanosleep(&ts, NULL);
    }
    return stopped(j);
}

/* Connects to the source, retrying lost or refused connections while
 * --retries allows, with a doubling wait. why: the failure that led here
 * ("" at the start of a run). */
static int connect_source(struct job *j, const char *why)
{
    const struct stream_spec *o = j->o;
    const struct job_part *part = j->env->part;
    char last[1024];
    if (!why[0] && part && part->src && *part->src) {
        j->src = *part->src; /* the job's now */
        *part->src = NULL;
        j->shared_read = 1;
        return 0;
    }
    snprintf(last, sizeof last, "%s", why);
    for (;;) {
        if (last[0]) {
            if (j->retries_used >= o->retries)
                return job_fail(j, EXIT_CONNECT, "%s (no retries left: --retries %u)", last,
                                o->retries);
            unsigned wait = o->retry_wait_ms;
            for (unsigned i = 0; i < j->retries_used && wait < SPEC_RETRY_WAIT_CAP_MS; i++)
                wait *= 2;
            if (wait > SPEC_RETRY_WAIT_CAP_MS)
                wait = SPEC_RETRY_WAIT_CAP_MS;
            j->retries_used++;
            log_warn("%s; connecting again in %.1f s (retry %u of %u)", last, wait / 1000.0,
                     j->retries_used, o->retries);
            if (nap(j, wait))
                return job_fail(j, EXIT_INTERRUPTED, "interrupted while waiting to reconnect");
        }
        int rc = source_connect(o->source, &j->src, last, sizeof last);
        if (rc == 0)
            return 0;
        if (rc != SOURCE_ECONN || o->retries == 0)
            return job_fail(j, source_exit_code(rc), "%s", last);
    }
}

static int incremental_bounds(struct job *j, int resuming);

/* Where the scan starts: after the checkpoint of j->ss, or (incremental)
 * at the job's bounds. */
static int position_scan(struct job *j, int resuming)
{
    struct scan_spec *spec = &j->plan.spec;
    const struct job_part *part = j->env->part;
    spec->after = NULL;
    spec->after_inclusive = 0;
    if (part) {
        /* A partition: its own range, whatever the mode. */
        spec->after = part->after;
        spec->after_inclusive = part->after_inclusive;
        spec->upto = part->upto;
        j->empty = part->empty;
    }
    if (j->o->paging == PAGING_OFFSET)
        spec->offset = j->ss.offset;
    else if (j->ss.key.n) {
        spec->after = &j->ss.key;
        spec->after_inclusive = 0;
    }
    if (j->o->mode == MODE_INCREMENTAL && !part)
        return incremental_bounds(j, resuming);
    return 0;
}

/* Closes the scan and the connection. */
static void disconnect(struct job *j)
{
    scan_close(j->scan);
    j->scan = NULL;
    source_close(j->src);
    j->src = NULL;
}

/* The connection was lost mid-scan: cut the output back to the last
 * checkpoint, connect again (--retries) and reopen the scan there, in this
 * same run. */
static int reconnect(struct job *j, struct pump *pump)
{
    char why[1024];
    snprintf(why, sizeof why, "%s", source_error(j->src));
    disconnect(j);
    if (state_load(j->state, j->plan.stream, partition(j), &j->ss) < 0)
        return state_failed(j);
    if (sink_rewind(j->sink, j->ss.bytes) < 0)
        return sink_failed(j, j->sink);
    pump->offset = j->ss.offset;
    pump->rows = j->ss.rows;
    pump->bytes = j->ss.bytes;
    if (j->shared_read) {
        /* A new connection cannot join the others' snapshot. */
        j->shared_read = 0;
        j->plan.spec.snapshot = 1;
        log_warn("%s: the connection with the partitions' shared snapshot was lost; the rest of this partition is read in a snapshot of its own",
                 j->plan.stream);
    }
    for (;;) {
        int code = connect_source(j, why);
        if (code)
            return code;
        if ((code = position_scan(j, 1)))
            return code;
        int rc = scan_open(j->src, &j->plan.spec, &j->scan);
        if (rc == 0)
            break;
        snprintf(why, sizeof why, "%s", source_error(j->src));
        disconnect(j);
        if (rc != SOURCE_ECONN)
            return job_fail(j, source_exit_code(rc), "%s", why);
    }
    log_warn("%s: reconnected; continuing after %llu rows", j->plan.stream,
             (unsigned long long)pump->rows);
    pump->scan = j->scan;
    return 0;
}

static int run_scan(struct job *j)
{
    const struct stream_spec *o = j->o;
    const struct job_hooks *h = j->env->hooks;
    struct plan *p = &j->plan;
    struct scan_spec *spec = &p->spec;
    if (json_row_init(&j->encoder, spec->columns, spec->ncolumns) < 0)
        return job_fail(j, EXIT_INTERNAL, "out of memory");
    if (h && h->started)
        h->started(h->ctx, p->desc->name, p->desc->row_estimate, j->ss.rows);
    uint64_t rows_before = j->ss.rows;
    struct pump pump = {
        .scan = j->scan, .sink = j->sink, .state = j->state,
        .stream = p->stream, .partition = partition(j), .encoder = &j->encoder,
        .checkpoint_every = o->checkpoint_every, .stop = j->env->stop,
        .progress = h ? h->progress : NULL, .progress_ctx = h ? h->ctx : NULL,
        .offset = j->ss.offset, .rows = j->ss.rows, .bytes = j->ss.bytes,
    };
    uint64_t degraded = 0;
    int window_code = 0;
    /* A job with nothing to read still ends as every job does: FINISHING
     * with an empty, durable output, then published. */
    enum pump_status ps = j->empty ? pump_finish_empty(&pump) : PUMP_DONE;
    while (!j->empty) {
        pump.end_key = j->last_window ? NULL : &j->wend;
        ps = pump_run(&pump);
        degraded += scan_warnings(j->scan);
        if (ps == PUMP_ESOURCE && j->src->errcode == SOURCE_ECONN &&
            j->retries_used < o->retries) {
            if ((window_code = reconnect(j, &pump)) != 0) {
                ps = window_code == EXIT_INTERRUPTED ? PUMP_STOPPED : PUMP_EWINDOW;
                break;
            }
            continue;
        }
        if (ps != PUMP_DONE || j->last_window)
            break;
        if ((window_code = next_window(j)) != 0) {
            ps = PUMP_EWINDOW;
            break;
        }
        pump.scan = j->scan;
    }
    if (h && h->finished)
        h->finished(h->ctx);

    uint64_t warnings = pump.stats.invalid_utf8 + degraded;
    if (pump.stats.invalid_utf8)
        log_warn("%llu values held invalid UTF-8, replaced with U+FFFD",
                 (unsigned long long)pump.stats.invalid_utf8);
    if (degraded)
        log_warn("%llu values could not be represented and were written as null (e.g. zero dates)",
                 (unsigned long long)degraded);

    const char *status = "failed";
    int code = EXIT_OK;
    switch (ps) {
    case PUMP_DONE:
        if ((code = publish(j, pump.rows, pump.bytes)) == EXIT_OK)
            status = "done";
        break;
    case PUMP_STOPPED:
        status = "interrupted";
        code = job_fail(j, EXIT_INTERRUPTED,
                        "interrupted after %llu rows of the job; checkpointed: run the same command again to continue",
                        (unsigned long long)pump.rows);
        break;
    case PUMP_ESOURCE:
        code = source_failed(j, j->src->errcode ? j->src->errcode : SOURCE_ERR);
        break;
    case PUMP_EOUTPUT:
        if (sink_reader_gone(j->sink)) {
            status = "interrupted";
            code = reader_gone(j);
        } else {
            code = job_fail(j, EXIT_OUTPUT, "%s", pump.err);
        }
        break;
    case PUMP_ESTATE: code = job_fail(j, EXIT_STATE, "%s", pump.err); break;
    case PUMP_ENOMEM: code = job_fail(j, EXIT_INTERNAL, "%s", pump.err); break;
    case PUMP_EWINDOW: code = window_code; break; /* recorded */
    }
    /* The run's history counts what is durable: rows and bytes as of the
     * last checkpoint, not rows written after it. */
    j->res->rows = pump.rows;
    j->res->run_rows = pump.rows >= rows_before ? pump.rows - rows_before : 0;
    j->res->bytes = pump.bytes;
    j->res->warnings = warnings;
    if (state_run_end(j->state, j->run_id, status, j->res->run_rows, pump.bytes, warnings,
                      j->res->error[0] ? j->res->error : NULL) < 0 && code == EXIT_OK)
        code = state_failed(j);
    if (code == EXIT_OK)
        log_info("%s: %llu rows, %llu bytes", p->stream, (unsigned long long)pump.rows,
                 (unsigned long long)pump.bytes);
    return code;
}

/* An incremental job's output holds rows no other job will write again, so
 * a new job never overwrites an existing file. The file the stream's last
 * job wrote means that job is done (a re-run of a completed command):
 * EXIT_OK. Any other: EXIT_OUTPUT. -1: the job may start. */
static int keep_earlier_output(struct job *j)
{
    const char *out = j->plan.output_abs;
    if (strcmp(out, "-") == 0 || !file_exists(out))
        return -1;
    if (j->ss.job_id && j->ss.output && strcmp(j->ss.output, out) == 0) {
        log_warn("%s: %s already holds the stream's last job (job %lld); nothing to do: move it away, or write the next job to another file",
                 j->plan.stream, out, (long long)j->ss.job_id);
        return EXIT_OK;
    }
    return job_fail(j, EXIT_OUTPUT,
                    "%s exists; an incremental job never overwrites another job's output: move it away or choose another -o",
                    out);
}

/* Incremental mode: a new job freezes its bounds; a resumed one reads them
 * back. The scan continues from the checkpoint, else from the lower bound,
 * and reads up to the upper bound or to the end of its first window. */
static int incremental_bounds(struct job *j, int resuming)
{
    struct scan_spec *spec = &j->plan.spec;
    struct job_range *range = &j->ss.range;
    int code;
    if (!resuming) {
        key_clear(&range->lower);
        key_clear(&range->upper);
        range->lower_inclusive = 0;
        if ((code = incr_new_range(j->src, j->o, &j->plan, &j->ss.high_water, range, &j->empty,
                                   j->res->error, sizeof j->res->error)))
            return code;
        if (j->empty)
            return 0;
    }
    const struct keytuple *from = j->ss.key.n ? &j->ss.key : &range->lower;
    if (key_copy(&j->from, from) < 0)
        return job_fail(j, EXIT_INTERNAL, "out of memory");
    spec->after = j->from.n ? &j->from : NULL;
    spec->after_inclusive = j->ss.key.n ? 0 : range->lower_inclusive;
    if (range->upper.n == 0) {
        j->empty = 1; /* resumed: a job frozen without an upper bound is empty */
        return 0;
    }
    return set_window(j);
}

/* Connects, describes the table, builds the plan and checks the
 * statements: everything that can refuse the spec, before anything is
 * created. */
static int prepare(struct job *j)
{
    struct table_desc *desc = NULL;
    int code = connect_source(j, "");
    if (code)
        return code;
    int rc = source_describe(j->src, j->o->table, &desc);
    if (rc < 0)
        return source_failed(j, rc);
    if ((code = plan_build(&j->plan, j->o, j->env->names, desc, j->res->error,
                           sizeof j->res->error))) {
        if (!j->plan.desc)
            table_desc_free(desc);
        return code;
    }
    const struct job_part *part = j->env->part;
    if (part) {
        j->plan.partition = part->name;
        j->plan.spec.snapshot_at = part->snapshot;
        if (j->shared_read)
            j->plan.spec.snapshot = 0; /* its read is open: no other one */
        if (part->tag && plan_tag_fingerprint(&j->plan, part->tag) < 0)
            return job_fail(j, EXIT_INTERNAL, "out of memory");
    }
    snprintf(j->res->stream, sizeof j->res->stream, "%s", j->plan.stream);
    snprintf(j->res->output, sizeof j->res->output, "%s", j->plan.output_abs);
    snprintf(j->log_context, sizeof j->log_context, part ? "%s [part %s]" : "%s",
             j->plan.stream, part ? part->name : "");
    if (j->env->log_stream)
        log_set_context(j->log_context);
    /* Bounds do not exist yet: check the shape of a resumed scan. */
    struct scan_spec check = j->plan.spec;
    struct keytuple full = {0};
    if (check.paging != PAGING_OFFSET && key_init(&full, check.nkey) < 0)
        return job_fail(j, EXIT_INTERNAL, "out of memory");
    check.after = full.n ? &full : NULL;
    check.upto = j->plan.ncursor ? &full : NULL;
    rc = scan_check(j->src, &check);
    key_clear(&full);
    return rc < 0 ? source_failed(j, rc) : 0;
}

static int run(struct job *j)
{
    const struct stream_spec *o = j->o;
    char state_path[PATH_MAX];
    int code, resuming;
    if ((code = prepare(j)))
        return code;
    if (o->state_path)
        snprintf(state_path, sizeof state_path, "%s", o->state_path);
    else if (job_default_state_path(state_path, sizeof state_path) < 0)
        return job_fail(j, EXIT_USAGE, "cannot name a state store: use --state FILE");
    if (state_open(&j->state, state_path) < 0)
        return job_fail(j, EXIT_STATE, "%s", j->state ? state_error(j->state) : "out of memory");
    /* Lock the output before reading the state: no other sluice can then
     * move this stream's checkpoint while this run decides where to resume. */
    const char *out = strcmp(j->plan.output_abs, "-") == 0 ? NULL : j->plan.output_abs;
    if (sink_open_locked(&j->sink, out, j->plan.compress, j->plan.level, o->threads) < 0) {
        j->res->busy = j->sink && sink_busy(j->sink);
        return sink_failed(j, j->sink);
    }
    /* And the stream: a stream that outlives its outputs (incremental, or
     * an explicit --stream) must not run twice at once through two. */
    if (state_lock_stream(j->state, j->plan.stream, partition(j)) < 0) {
        j->res->busy = state_stream_busy(j->state, j->plan.stream, partition(j)) == 1;
        return state_failed(j);
    }
    if (state_load(j->state, j->plan.stream, partition(j), &j->ss) < 0)
        return state_failed(j);
    /* --restart: the unfinished job is ignored now and discarded only once
     * the new scan has opened, so a failing command loses nothing. A run
     * to stdout is a new job too unless the stream is named: what went
     * into a pipe cannot be taken back, so resuming an unnamed one would
     * hand the next reader only the rest of the table. */
    int unnamed_pipe = strcmp(j->plan.output_abs, "-") == 0 && !o->name && j->ss.output &&
                       strcmp(j->ss.output, "-") == 0;
    int discard = (o->restart || unnamed_pipe) && j->ss.phase != PHASE_IDLE;
    if (discard) {
        j->ss.phase = PHASE_IDLE;
        key_clear(&j->ss.key);
        j->ss.offset = j->ss.rows = j->ss.bytes = 0;
    }
    if (j->ss.phase == PHASE_FINISHING)
        return finish_interrupted(j);
    if ((code = decide(j, &resuming)))
        return code;
    if (o->mode == MODE_INCREMENTAL && !resuming && !j->env->part &&
        (code = keep_earlier_output(j)) >= 0)
        return code;
    /* Open the scan before anything changes: a query that fails leaves the
     * output and the state as they were. A new job starts from the
     * stream's empty checkpoint. */
    if ((code = position_scan(j, resuming)))
        return code;
    if (!j->empty) {
        int rc = scan_open(j->src, &j->plan.spec, &j->scan);
        if (rc < 0)
            return source_failed(j, rc);
    }
    if (discard) {
        if (state_discard_job(j->state, j->plan.stream, partition(j)) < 0)
            return state_failed(j);
        log_info("%s: discarded the unfinished job", j->plan.stream);
    }
    if ((code = begin(j, resuming)))
        return code;
    return run_scan(j);
}

int job_run(const struct stream_spec *spec, const struct job_env *env, struct job_result *res)
{
    memset(res, 0, sizeof *res);
    struct job j = {.o = spec, .env = env, .res = res, .last_window = 1};
    double t0 = now_seconds();
    int code = run(&j);
    scan_close(j.scan);
    key_clear(&j.from);
    key_clear(&j.wend);
    json_row_free(&j.encoder);
    sink_close(j.sink);
    stream_state_clear(&j.ss);
    state_close(j.state);
    plan_free(&j.plan);
    source_close(j.src);
    if (env->log_stream)
        log_set_context(NULL);
    res->code = code;
    res->seconds = now_seconds() - t0;
    if (!res->status)
        res->status = code == EXIT_OK ? "done"
                      : code == EXIT_INTERRUPTED || code == EXIT_PIPE ? "interrupted"
                      : "failed";
    return code;
}

int job_default_state_path(char *out, size_t n)
{
    const char *xdg = getenv("XDG_STATE_HOME");
    const char *home = getenv("HOME");
    int len;
    if (xdg && xdg[0] == '/')
        len = snprintf(out, n, "%s/sluice/state.db", xdg);
    else if (home && home[0])
        len = snprintf(out, n, "%s/.local/state/sluice/state.db", home);
    else
        len = snprintf(out, n, ".sluice-state.db");
    return len > 0 && (size_t)len < n ? 0 : -1;
}
