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
};

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
            if (sink_open_locked(&own, ss->output, p->compress, 0) < 0) {
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
    if (state_finish_job(j->state, p->stream, PARTITION, NULL) < 0) {
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
    if (strcmp(j->ss.fingerprint ? j->ss.fingerprint : "", p->fingerprint) != 0) {
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
        rc = state_begin_job(j->state, p->stream, PARTITION, p->fingerprint, p->output_abs);
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
    enum pump_status ps = pump_run(&pump);
    progress_clear(&prog);

    uint64_t warnings = pump.stats.invalid_utf8 + j->scan->warnings;
    if (pump.stats.invalid_utf8)
        log_warn("%llu values held invalid UTF-8, replaced with U+FFFD",
                 (unsigned long long)pump.stats.invalid_utf8);
    if (j->scan->warnings)
        log_warn("%llu values could not be represented and were written as null (e.g. zero dates)",
                 (unsigned long long)j->scan->warnings);

    const char *status = "failed", *error = NULL;
    int code = EXIT_OK;
    switch (ps) {
    case PUMP_DONE:
        if (j->sink && sink_publish(j->sink) < 0) {
            error = sink_error(j->sink);
            code = EXIT_OUTPUT;
        } else if (state_finish_job(j->state, p->stream, PARTITION, NULL) < 0) {
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

int extract_run(const struct extract_opts *o, const volatile sig_atomic_t *stop)
{
    struct job j = {.o = o};
    char err[1024], state_path[PATH_MAX];
    int code, resuming;
    struct table_desc *desc = NULL;

    if ((code = extract_open_source(o->source, &j.src)))
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
    if (sink_open_locked(&j.sink, out, j.plan.compress, 0) < 0) {
        log_error("%s", j.sink ? sink_error(j.sink) : "out of memory");
        code = sink_exit(j.sink);
        goto out;
    }
    if (state_load(j.state, j.plan.stream, PARTITION, &j.ss) < 0) {
        log_error("%s", state_error(j.state));
        code = EXIT_STATE;
        goto out;
    }
    if (o->restart && j.ss.phase != PHASE_IDLE) {
        if (state_discard_job(j.state, j.plan.stream, PARTITION) < 0 ||
            state_load(j.state, j.plan.stream, PARTITION, &j.ss) < 0) {
            log_error("%s", state_error(j.state));
            code = EXIT_STATE;
            goto out;
        }
        log_info("%s: discarded the unfinished job", j.plan.stream);
    }
    if (j.ss.phase == PHASE_FINISHING) {
        code = finish_interrupted(&j);
        goto out;
    }
    if ((code = decide(&j, &resuming)))
        goto out;
    /* Open the scan before anything changes: a query that fails (a bad
     * --where, a missing column) leaves the output and the state as they
     * were. A new job starts from the stream's empty checkpoint. */
    if (o->paging == PAGING_OFFSET)
        j.plan.spec.offset = j.ss.offset;
    else if (j.ss.key.n)
        j.plan.spec.after = &j.ss.key;
    rc = source_open_scan(j.src, &j.plan.spec, &j.scan);
    if (rc < 0) {
        log_error("%s", source_error(j.src));
        code = extract_source_exit(rc);
        goto out;
    }
    if ((code = begin(&j, resuming)))
        goto out;
    code = run_scan(&j, stop);
out:
    scan_close(j.scan);
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
