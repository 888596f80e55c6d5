/* extract.c - one extraction job from start (or resume) to publish.
 *
 * A job moves IDLE -> RUNNING -> FINISHING -> IDLE in the state store. A run
 * that finds the stream RUNNING resumes it: the partial output is cut back
 * to the checkpointed bytes and the scan continues after the checkpointed
 * key (or offset). A run that finds it FINISHING only publishes the output.
 * Nothing is published before every row is durable and counted. */
#include "extract.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "incremental.h"
#include "json.h"
#include "log.h"
#include "plan.h"
#include "progress.h"
#include "pump.h"
#include "sink.h"
#include "source.h"
#include "state.h"
#include "url.h"

#define PARTITION "" /* one partition per stream until partitions exist */

int extract_source_exit(int source_code)
{
    switch (source_code) {
    case SOURCE_ECONN: return EXIT_CONNECT;
    case SOURCE_EUSAGE: return EXIT_USAGE;
    case SOURCE_ENOMEM: return EXIT_INTERNAL;
    default: return EXIT_SOURCE;
    }
}

/* Schemes sluice knows, whether or not this build has their driver. */
static const char *known_scheme(const char *url)
{
    static const char *const schemes[][2] = {
        {"postgres://", "postgres"}, {"postgresql://", "postgres"},
        {"mysql://", "mysql"},       {"mariadb://", "mysql"},
        {"sqlite:", "sqlite"},
    };
    for (size_t i = 0; i < sizeof schemes / sizeof *schemes; i++)
        if (strncmp(url, schemes[i][0], strlen(schemes[i][0])) == 0)
            return schemes[i][1];
    return NULL;
}

int extract_open_source(const char *url, struct source **out)
{
    *out = NULL;
    const struct source_driver *drv = source_find(url);
    if (!drv) {
        char shown[512];
        url_redact(url, shown, sizeof shown);
        const char *scheme = known_scheme(url);
        if (scheme)
            log_error("this sluice was built without the %s driver (drivers: %s)",
                      scheme, source_driver_names());
        else
            log_error("unknown source '%s': expected postgres://, postgresql://, mysql://, mariadb://, sqlite: or a path ending in .db, .sqlite or .sqlite3",
                      shown);
        return EXIT_USAGE;
    }
    int rc = source_open(drv, url, out);
    if (rc < 0) {
        log_error("%s", *out ? source_error(*out) : "out of memory");
        source_close(*out);
        *out = NULL;
        return extract_source_exit(rc);
    }
    return 0;
}

static int file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

static int sink_exit(const struct sink *sink)
{
    return sink_busy(sink) ? EXIT_STATE : EXIT_OUTPUT;
}

struct job {
    const struct extract_opts *o;
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
    int window_code;       /* EXIT_* of a window (or reconnect) that failed */
    unsigned retries_used; /* reconnects so far in this run (--retries) */
    int last_window;       /* the scan reads up to the job's upper bound */
    struct keytuple from;  /* where the next window continues from */
    struct keytuple wend;  /* the current window's end */
};

/* The high-water mark a finished job leaves: its frozen upper bound, or
 * (NULL) the old mark when it had none. */
static const struct keytuple *job_high_water(const struct stream_state *ss)
{
    return ss->range.upper.n ? &ss->range.upper : NULL;
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
                log_error("%s", own ? sink_error(own) : "out of memory");
                int code = sink_exit(own);
                sink_close(own);
                return code;
            }
            sink = own;
        }
        uint64_t bytes;
        int rc = 0;
        if (sink_created(sink)) {
            /* Killed after the rename: the output is already published. */
            if (!file_exists(ss->output)) {
                log_error("stream '%s' finished writing %s, but neither it nor its .partial exists now; use --restart",
                          p->stream, ss->output);
                rc = -1;
            }
        } else if (sink_resume(sink, ss->bytes) < 0 ||
                   sink_checkpoint(sink, &bytes) < 0 || sink_publish(sink) < 0) {
            log_error("%s", sink_error(sink));
            rc = -1;
        }
        sink_close(own);
        if (rc < 0)
            return EXIT_OUTPUT;
    }
    if (state_finish_job(j->state, p->stream, PARTITION, job_high_water(ss)) < 0) {
        log_error("%s", state_error(j->state));
        return EXIT_STATE;
    }
    log_info("%s: completed the interrupted job (%llu rows)", p->stream,
             (unsigned long long)ss->rows);
    return EXIT_OK;
}

/* With the output locked: decides whether this run starts a new job or
 * resumes the stream's unfinished one. Changes nothing. Returns 0 or an
 * EXIT_* code (reported). */
static int decide(struct job *j, int *resuming)
{
    const struct plan *p = &j->plan;
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
            log_error("table %s changed since its unfinished job began: key column '%s' was renamed, dropped or changed type; pass --restart to extract it anew",
                      p->desc->name, col);
        else
            log_error("table %s changed since its unfinished job began: an output column was renamed, dropped or changed type; pass --restart to extract it anew",
                      p->desc->name);
        return EXIT_SOURCE;
    }
    if (strcmp(had, p->fingerprint) != 0) {
        log_error("stream '%s' has an unfinished job started with other options (source, table, paging, key, columns, where or compression); re-run it with the same options, or pass --restart to discard it",
                  p->stream);
        return EXIT_USAGE;
    }
    if (strcmp(j->ss.output ? j->ss.output : "", p->output_abs) != 0) {
        log_error("stream '%s' has an unfinished job writing to %s; re-run it with that output, or pass --restart to discard it",
                  p->stream, j->ss.output);
        return EXIT_USAGE;
    }
    *resuming = 1;
    return 0;
}

/* The scan is open, so the query is known to work: cut the output back to
 * the checkpoint (or to nothing) and record the attempt or the new job. */
static int begin(struct job *j, int resuming)
{
    const struct plan *p = &j->plan;
    if (sink_resume(j->sink, resuming ? j->ss.bytes : 0) < 0) {
        log_error("%s", sink_error(j->sink));
        return EXIT_OUTPUT;
    }
    int rc;
    if (resuming)
        rc = state_begin_attempt(j->state, p->stream, PARTITION, p->output_abs);
    else
        rc = state_begin_job(j->state, p->stream, PARTITION, p->fingerprint, p->output_abs,
                             p->ncursor ? &j->ss.range : NULL);
    if (rc < 0 || state_run_start(j->state, p->stream, PARTITION, &j->run_id) < 0) {
        log_error("%s", state_error(j->state));
        return EXIT_STATE;
    }
    if (resuming) {
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
    int code = incr_next_window(j->src, j->o, &j->plan, &j->ss.range, &j->from,
                                &j->wend, &j->last_window);
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
    if (key_copy(&j->from, &j->wend) < 0) {
        log_error("out of memory");
        return j->window_code = EXIT_INTERNAL;
    }
    spec->after = &j->from;
    spec->after_inclusive = 0;
    if ((j->window_code = set_window(j)))
        return j->window_code;
    int rc = source_open_scan(j->src, spec, &j->scan);
    if (rc < 0) {
        log_error("%s", source_error(j->src));
        return j->window_code = extract_source_exit(rc);
    }
    return 0;
}

/* Sleeps ms milliseconds, or less when *stop is raised: 1 if it was. */
static int nap(unsigned ms, const volatile sig_atomic_t *stop)
{
    for (unsigned slept = 0; slept < ms && !*stop; slept += 50) {
        unsigned step = ms - slept < 50 ? ms - slept : 50;
        struct timespec ts = {0, (long)step * 1000000L};
        nanosleep(&ts, NULL);
    }
    return *stop != 0;
}

/* Connects to the source, retrying lost or refused connections while
 * --retries allows, with a doubling wait. why: the failure that led here
 * ("" at the start of a run). 0, or an EXIT_* code (reported). */
static int connect_source(struct job *j, const char *why, const volatile sig_atomic_t *stop)
{
    const struct extract_opts *o = j->o;
    char last[1024];
    snprintf(last, sizeof last, "%s", why);
    for (;;) {
        if (last[0]) {
            if (j->retries_used >= o->retries) {
                log_error("%s (no retries left: --retries %u)", last, o->retries);
                return EXIT_CONNECT;
            }
            unsigned wait = o->retry_wait_ms;
            for (unsigned i = 0; i < j->retries_used && wait < OPT_RETRY_WAIT_CAP_MS; i++)
                wait *= 2;
            if (wait > OPT_RETRY_WAIT_CAP_MS)
                wait = OPT_RETRY_WAIT_CAP_MS;
            j->retries_used++;
            log_warn("%s; connecting again in %.1f s (retry %u of %u)", last, wait / 1000.0,
                     j->retries_used, o->retries);
            if (nap(wait, stop))
                return EXIT_INTERRUPTED;
        }
        const struct source_driver *drv = source_find(o->source);
        if (!drv)
            return extract_open_source(o->source, &j->src); /* reports the URL */
        int rc = source_open(drv, o->source, &j->src);
        if (rc == 0)
            return 0;
        snprintf(last, sizeof last, "%s", j->src ? source_error(j->src) : "out of memory");
        source_close(j->src);
        j->src = NULL;
        if (rc != SOURCE_ECONN || o->retries == 0) {
            log_error("%s", last);
            return extract_source_exit(rc);
        }
    }
}

static int incremental_bounds(struct job *j, int resuming);

/* Where the scan starts: after the checkpoint of j->ss, or (incremental)
 * at the job's bounds. 0 or an EXIT_* code (reported). */
static int position_scan(struct job *j, int resuming)
{
    struct scan_spec *spec = &j->plan.spec;
    spec->after = NULL;
    spec->after_inclusive = 0;
    if (j->o->paging == PAGING_OFFSET)
        spec->offset = j->ss.offset;
    else if (j->ss.key.n)
        spec->after = &j->ss.key;
    if (j->o->mode == MODE_INCREMENTAL)
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
 * same run. 0 to go on, or an EXIT_* code (reported). */
static int reconnect(struct job *j, struct pump *pump, const volatile sig_atomic_t *stop)
{
    char why[1024];
    snprintf(why, sizeof why, "%s", source_error(j->src));
    disconnect(j);
    if (state_load(j->state, j->plan.stream, PARTITION, &j->ss) < 0) {
        log_error("%s", state_error(j->state));
        return EXIT_STATE;
    }
    if (sink_rewind(j->sink, j->ss.bytes) < 0) {
        log_error("%s", sink_error(j->sink));
        return EXIT_OUTPUT;
    }
    pump->offset = j->ss.offset;
    pump->rows = j->ss.rows;
    pump->bytes = j->ss.bytes;
    for (;;) {
        int code = connect_source(j, why, stop);
        if (code)
            return code;
        if ((code = position_scan(j, 1)))
            return code;
        int rc = source_open_scan(j->src, &j->plan.spec, &j->scan);
        if (rc == 0)
            break;
        snprintf(why, sizeof why, "%s", source_error(j->src));
        disconnect(j);
        if (rc != SOURCE_ECONN) {
            log_error("%s", why);
            return extract_source_exit(rc);
        }
    }
    log_warn("%s: reconnected; continuing after %llu rows", j->plan.stream,
             (unsigned long long)pump->rows);
    pump->scan = j->scan;
    return 0;
}

static int run_scan(struct job *j, const volatile sig_atomic_t *stop)
{
    const struct extract_opts *o = j->o;
    struct plan *p = &j->plan;
    struct scan_spec *spec = &p->spec;
    if (json_row_init(&j->encoder, spec->columns, spec->ncolumns) < 0) {
        log_error("out of memory");
        return EXIT_INTERNAL;
    }
    char label[128];
    snprintf(label, sizeof label, "%s", p->desc->name);
    struct progress prog;
    progress_init(&prog, o->progress, o->quiet, p->desc->row_estimate, j->ss.rows, label);
    struct pump pump = {
        .scan = j->scan, .sink = j->sink, .state = j->state,
        .stream = p->stream, .partition = PARTITION, .encoder = &j->encoder,
        .checkpoint_every = o->checkpoint_every, .stop = stop,
        .progress = progress_update, .progress_ctx = &prog,
        .offset = j->ss.offset, .rows = j->ss.rows, .bytes = j->ss.bytes,
    };
    uint64_t degraded = 0;
    /* A job with nothing to read still ends as every job does: FINISHING
     * with an empty, durable output, then published. */
    enum pump_status ps = j->empty ? pump_finish_empty(&pump) : PUMP_DONE;
    while (!j->empty) {
        pump.end_key = j->last_window ? NULL : &j->wend;
        ps = pump_run(&pump);
        degraded += j->scan->warnings;
        if (ps == PUMP_ESOURCE && j->src->errcode == SOURCE_ECONN &&
            j->retries_used < o->retries) {
            if ((j->window_code = reconnect(j, &pump, stop)) != 0) {
                ps = j->window_code == EXIT_INTERRUPTED ? PUMP_STOPPED : PUMP_EWINDOW;
                break;
            }
            continue;
        }
        if (ps != PUMP_DONE || j->last_window)
            break;
        if (next_window(j) != 0) {
            ps = PUMP_EWINDOW;
            break;
        }
        pump.scan = j->scan;
    }
    progress_clear(&prog);

    uint64_t warnings = pump.stats.invalid_utf8 + degraded;
    if (pump.stats.invalid_utf8)
        log_warn("%llu values held invalid UTF-8, replaced with U+FFFD",
                 (unsigned long long)pump.stats.invalid_utf8);
    if (degraded)
        log_warn("%llu values could not be represented and were written as null (e.g. zero dates)",
                 (unsigned long long)degraded);

    const char *status = "failed", *error = NULL;
    int code = EXIT_OK;
    switch (ps) {
    case PUMP_DONE:
        if (j->sink && sink_publish(j->sink) < 0) {
            error = sink_error(j->sink);
            code = EXIT_OUTPUT;
        } else if (state_finish_job(j->state, p->stream, PARTITION,
                                    job_high_water(&j->ss)) < 0) {
            error = state_error(j->state);
            code = EXIT_STATE;
        } else {
            status = "done";
        }
        break;
    case PUMP_STOPPED:
        status = "interrupted";
        code = EXIT_INTERRUPTED;
        log_error("interrupted after %llu rows of the job; checkpointed: run the same command again to continue",
                  (unsigned long long)pump.rows);
        break;
    case PUMP_ESOURCE:
        error = source_error(j->src);
        code = extract_source_exit(j->src->errcode ? j->src->errcode : SOURCE_ERR);
        break;
    case PUMP_EOUTPUT: error = pump.err; code = EXIT_OUTPUT; break;
    case PUMP_ESTATE: error = pump.err; code = EXIT_STATE; break;
    case PUMP_ENOMEM: error = pump.err; code = EXIT_INTERNAL; break;
    case PUMP_EWINDOW: code = j->window_code; break; /* reported */
    }
    if (error)
        log_error("%s", error);
    if (state_run_end(j->state, j->run_id, status, pump.run_rows, pump.bytes, warnings,
                      error) < 0 && code == EXIT_OK) {
        log_error("%s", state_error(j->state));
        code = EXIT_STATE;
    }
    if (code == EXIT_OK)
        log_info("%s: %llu rows, %llu bytes", p->stream, (unsigned long long)pump.rows,
                 (unsigned long long)pump.bytes);
    return code;
}

/* An incremental job's output holds rows no other job will write again, so
 * a new job never overwrites an existing file. The file the stream's last
 * job wrote means that job is done (a re-run of a completed command): 0.
 * Any other: EXIT_OUTPUT. Both reported. -1: the job may start. */
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
    log_error("%s exists; an incremental job never overwrites another job's output: move it away or choose another -o",
              out);
    return EXIT_OUTPUT;
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
        if ((code = incr_new_range(j->src, j->o, &j->plan, &j->ss.high_water, range,
                                   &j->empty)))
            return code;
        if (j->empty)
            return 0;
    }
    const struct keytuple *from = j->ss.key.n ? &j->ss.key : &range->lower;
    if (key_copy(&j->from, from) < 0) {
        log_error("out of memory");
        return EXIT_INTERNAL;
    }
    spec->after = j->from.n ? &j->from : NULL;
    spec->after_inclusive = j->ss.key.n ? 0 : range->lower_inclusive;
    if (range->upper.n == 0) {
        j->empty = 1; /* resumed: a job frozen without an upper bound is empty */
        return 0;
    }
    return set_window(j);
}

int extract_run(const struct extract_opts *o, const volatile sig_atomic_t *stop)
{
    struct job j = {.o = o, .last_window = 1};
    char err[1024], state_path[PATH_MAX];
    int code, resuming;
    struct table_desc *desc = NULL;

    if ((code = connect_source(&j, "", stop)))
        return code;
    int rc = source_describe(j.src, o->table, &desc);
    if (rc < 0) {
        log_error("%s", source_error(j.src));
        code = extract_source_exit(rc);
        goto out;
    }
    if ((code = plan_build(&j.plan, o, desc, err, sizeof err))) {
        log_error("%s", err);
        goto out;
    }
    if (o->state_path)
        snprintf(state_path, sizeof state_path, "%s", o->state_path);
    else if (plan_default_state_path(state_path, sizeof state_path) < 0) {
        log_error("cannot name a state store: use --state FILE");
        code = EXIT_USAGE;
        goto out;
    }
    if (state_open(&j.state, state_path) < 0) {
        log_error("%s", j.state ? state_error(j.state) : "out of memory");
        code = EXIT_STATE;
        goto out;
    }
    /* Lock the output before reading the state: no other sluice can then
     * move this stream's checkpoint while this run decides where to resume. */
    const char *out = strcmp(j.plan.output_abs, "-") == 0 ? NULL : j.plan.output_abs;
    if (sink_open_locked(&j.sink, out, j.plan.compress, j.plan.level, o->threads) < 0) {
        log_error("%s", j.sink ? sink_error(j.sink) : "out of memory");
        code = sink_exit(j.sink);
        goto out;
    }
    /* And the stream: a stream that outlives its outputs (incremental, or
     * an explicit --stream) must not run twice at once through two. */
    if (state_lock_stream(j.state, j.plan.stream, PARTITION) < 0 ||
        state_load(j.state, j.plan.stream, PARTITION, &j.ss) < 0) {
        log_error("%s", state_error(j.state));
        code = EXIT_STATE;
        goto out;
    }
    /* --restart: the unfinished job is ignored now and discarded only once
     * the new scan has opened, so a failing command loses nothing. */
    int discard = o->restart && j.ss.phase != PHASE_IDLE;
    if (discard) {
        j.ss.phase = PHASE_IDLE;
        key_clear(&j.ss.key);
        j.ss.offset = j.ss.rows = j.ss.bytes = 0;
    }
    if (j.ss.phase == PHASE_FINISHING) {
        code = finish_interrupted(&j);
        goto out;
    }
    if ((code = decide(&j, &resuming)))
        goto out;
    if (o->mode == MODE_INCREMENTAL && !resuming && (code = keep_earlier_output(&j)) >= 0)
        goto out;
    /* Open the scan before anything changes: a query that fails (a bad
     * --where, a missing column) leaves the output and the state as they
     * were. A new job starts from the stream's empty checkpoint. */
    if ((code = position_scan(&j, resuming)))
        goto out;
    if (!j.empty) {
        rc = source_open_scan(j.src, &j.plan.spec, &j.scan);
        if (rc < 0) {
            log_error("%s", source_error(j.src));
            code = extract_source_exit(rc);
            goto out;
        }
    }
    if (discard) {
        if (state_discard_job(j.state, j.plan.stream, PARTITION) < 0) {
            log_error("%s", state_error(j.state));
            code = EXIT_STATE;
            goto out;
        }
        log_info("%s: discarded the unfinished job", j.plan.stream);
    }
    if ((code = begin(&j, resuming)))
        goto out;
    code = run_scan(&j, stop);
out:
    scan_close(j.scan);
    key_clear(&j.from);
    key_clear(&j.wend);
    json_row_free(&j.encoder);
    sink_close(j.sink);
    stream_state_clear(&j.ss);
    state_close(j.state);
    if (j.plan.desc)
        plan_free(&j.plan);
    else
        table_desc_free(desc);
    source_close(j.src);
    return code;
}
