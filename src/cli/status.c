/* status.c - `sluice status MANIFEST [STREAM] [--json | --prometheus]`.
 * Everything comes from the manifest and the state store, which it only
 * reads (a store that does not exist yet is not created). The JSON shape
 * and the metrics are documented in the README ("Status"). */
#include "cli/status.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/options.h"
#include "cli/run.h"
#include "cli/units.h"
#include "common/buf.h"
#include "common/errbuf.h"
#include "common/log.h"
#include "encode/json.h"
#include "encode/keytext.h"
#include "manifest/manifest.h"
#include "output/sidecar.h"
#include "schedule/due.h"
#include "schedule/wallclock.h"
#include "source/url.h"
#include "state/state.h"

#define STATUS_JSON_VERSION 1
#define STATUS_RUNS 5

enum { OPT_JSON = 256, OPT_PROMETHEUS, OPT_LIST };

static const struct option status_longopts[] = {
    {"json", no_argument, NULL, OPT_JSON},
    {"prometheus", no_argument, NULL, OPT_PROMETHEUS},
    {"output", required_argument, NULL, 'o'},
    {"list-streams", no_argument, NULL, OPT_LIST},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

int status_parse(struct status_cmd *s, int argc, char **argv, char *err, size_t errlen,
                 int *help)
{
    unsigned char seen[CLI_MAX_OPTIONS] = {0};
    int c, formats = 0;
    while ((c = getopt_long(argc, argv, ":o:h", status_longopts, NULL)) != -1) {
        if (cli_once(c, status_longopts, seen, err, errlen))
            return EXIT_USAGE;
        switch (c) {
        case OPT_JSON: s->format = STATUS_JSON; formats++; break;
        case OPT_PROMETHEUS: s->format = STATUS_PROMETHEUS; formats++; break;
        case 'o':
            if (!*optarg)
                return errbuf_fail(err, errlen, EXIT_USAGE, "-o: empty value");
            s->output = optarg;
            break;
        case OPT_LIST: s->list_streams = 1; break;
        case 'h': *help = 1; return 0;
        default: return cli_getopt_error(c, argv, status_longopts, err, errlen);
        }
    }
    if (formats > 1)
        return errbuf_fail(err, errlen, EXIT_USAGE, "--json and --prometheus exclude each other");
    int left = argc - optind;
    if (left < 1)
        return errbuf_fail(err, errlen, EXIT_USAGE, "status needs MANIFEST (see sluice status --help)");
    if (left > 2)
        return errbuf_fail(err, errlen, EXIT_USAGE, "unexpected argument '%s'", argv[optind + 2]);
    s->manifest = argv[optind];
    s->stream = left == 2 ? argv[optind + 1] : NULL;
    if (!*s->manifest)
        return errbuf_fail(err, errlen, EXIT_USAGE, "MANIFEST is empty");
    return 0;
}

/* ---- what is known of a stream -------------------------------------- */

enum job_state { JS_IDLE, JS_SCHEDULED, JS_DONE, JS_INTERRUPTED, JS_FAILED, JS_RUNNING };
static const char *const JOB_STATES[] = {"idle", "scheduled", "done", "interrupted", "failed",
                                         "running"};
#define NJOB_STATES 6
static const char *const PHASES[] = {"idle", "running", "finishing"};
static const char *const RUN_STATUSES[] = {"running", "done", "failed", "interrupted"};

struct part {
    const struct state_stream *row; /* NULL: the stream has no row yet */
    const char *name;               /* "" for a stream without partitions */
    int busy;
    struct state_run *last;         /* its newest run, or NULL (owned) */
    size_t nlast;
    enum job_state state;
};

struct view {
    const struct manifest_stream *s;
    struct state_stream *rows;
    size_t nrows;
    struct state_run *runs;       /* newest first, every partition */
    size_t nruns;
    struct state_run *own;        /* the stream's newest run: a partitioned
                                     job's own, not a partition's */
    size_t nown;
    const struct state_run *last; /* own, or NULL */
    struct state_run *success;    /* the newest done run, or NULL */
    size_t nsuccess;
    struct part *parts;
    size_t nparts;
    enum job_state state;         /* of the stream: its most pressing partition */
    int busy;
    time_t next_fire;             /* 0: none */
    int due;
    struct state_verification verified;
    int has_verified;
    struct sidecar_info sidecar;  /* of the last success, when readable */
    int has_sidecar, output_exists;
};

/* A run recorded as running whose stream no process holds was cut short
 * (its process died): it reads as interrupted. */
static const char *run_status(const struct state_run *r, int busy)
{
    if (strcmp(r->status, "running") == 0 && !busy)
        return "interrupted";
    return r->status;
}

static enum job_state state_of(const struct part *p, int scheduled)
{
    if (p->busy)
        return JS_RUNNING;
    const char *last = p->nlast ? run_status(p->last, 0) : NULL;
    if (last && strcmp(last, "failed") == 0)
        return JS_FAILED;
    if (p->row && p->row->s.phase != PHASE_IDLE)
        return JS_INTERRUPTED;
    if (last && strcmp(last, "done") == 0)
        return JS_DONE;
    /* A run killed after its job was finished (e.g. a partition done in a
     * run killed before the join): the job is done, the run's record
     * merely never closed. */
    if (last && strcmp(last, "interrupted") == 0 && p->row && p->row->s.job_id == p->last->job_id)
        return JS_DONE;
    if (last && strcmp(last, "interrupted") == 0)
        return JS_INTERRUPTED;
    if (!p->row && !last)
        return scheduled ? JS_SCHEDULED : JS_IDLE;
    return JS_IDLE;
}

static void view_free(struct view *v)
{
    state_streams_free(v->rows, v->nrows);
    state_runs_free(v->runs, v->nruns);
    state_runs_free(v->own, v->nown);
    state_runs_free(v->success, v->nsuccess);
    for (size_t i = 0; v->parts && i < v->nparts; i++)
        state_runs_free(v->parts[i].last, v->parts[i].nlast);
    free(v->parts);
    state_verification_clear(&v->verified);
    sidecar_info_free(&v->sidecar);
    memset(v, 0, sizeof *v);
}

static int view_load(struct view *v, const struct manifest_stream *s, struct state *st,
                     time_t now)
{
    memset(v, 0, sizeof *v);
    v->s = s;
    time_t next;
    if (s->schedule && s->enabled && cron_next(&s->cron, now, &next) == 0)
        v->next_fire = next;
    if (st && (state_list_streams(st, s->name, &v->rows, &v->nrows) < 0 ||
               state_list_runs(st, s->name, NULL, NULL, STATUS_RUNS, &v->runs, &v->nruns) < 0 ||
               state_list_runs(st, s->name, "", "done", 1, &v->success, &v->nsuccess) < 0))
        return -1;
    if (st && state_list_runs(st, s->name, "", NULL, 1, &v->own, &v->nown) < 0)
        return -1;
    v->last = v->nown ? &v->own[0] : NULL;
    v->nparts = v->nrows ? v->nrows : 1;
    if (!(v->parts = calloc(v->nparts, sizeof *v->parts)))
        return -1;
    for (size_t i = 0; i < v->nparts; i++) {
        struct part *p = &v->parts[i];
        p->row = v->nrows ? &v->rows[i] : NULL;
        p->name = p->row ? p->row->partition : "";
        if (st && (p->busy = state_stream_busy(st, s->name, p->name)) < 0)
            return -1;
        if (st && state_list_runs(st, s->name, p->name, NULL, 1, &p->last, &p->nlast) < 0)
            return -1;
        p->state = state_of(p, s->schedule && s->enabled);
        v->busy |= p->busy;
        if (i == 0 || p->state > v->state)
            v->state = p->state; /* running > failed > interrupted > done > ... */
    }
    if (v->nsuccess && v->success[0].output) {
        struct stat sb;
        char side[4200];
        v->output_exists = stat(v->success[0].output, &sb) == 0;
        if (sidecar_path(v->success[0].output, side, sizeof side) == 0 &&
            sidecar_read(side, &v->sidecar, NULL, 0) == 1)
            v->has_sidecar = 1;
        if (st) {
            int rc = state_last_verification(st, v->success[0].output, &v->verified);
            if (rc < 0)
                return -1;
            v->has_verified = rc;
        }
    }
    struct due_facts f = {0};
    f.busy = v->busy;
    f.unfinished = v->nrows && v->rows[0].partition[0] == '\0' && v->rows[0].s.phase != PHASE_IDLE;
    if (v->last) {
        wallclock_parse_iso(v->last->started_at, &f.last_start);
        snprintf(f.last_status, sizeof f.last_status, "%s", v->last->status);
    }
    char why[512];
    v->due = due_decide(s, &f, now, 1, why, sizeof why) == DUE_RUN;
    return 0;
}

/* Percent of the table the unfinished job has written, from the row
 * estimate of its newest run; -1 when it cannot be told (incremental jobs
 * read a part of the table; an unknown estimate). */
static double progress_of(const struct view *v, const struct state_run *r)
{
    if (strcmp(r->status, "done") == 0)
        return 100.0;
    if (v->s->spec.mode != MODE_FULL || r->row_estimate <= 0)
        return -1;
    for (size_t i = 0; i < v->nrows; i++) {
        const struct state_stream *row = &v->rows[i];
        if (strcmp(row->partition, r->partition) == 0 && row->s.phase != PHASE_IDLE &&
            row->s.job_id == r->job_id) {
            double pct = 100.0 * (double)row->s.rows / (double)r->row_estimate;
            return pct > 99.9 ? 99.9 : pct;
        }
    }
    return -1;
}

static void fmt_time(time_t t, char *out, size_t n)
{
    if (cron_format_time(t, out, n) < 0)
        snprintf(out, n, "@%lld", (long long)t);
}

/* ---- JSON ----------------------------------------------------------- */

static void jstr(struct buf *b, const char *s)
{
    if (s)
        json_quoted(b, s, strlen(s), NULL);
    else
        buf_puts(b, "null");
}

static void json_checkpoint(struct buf *b, const struct state_stream *row)
{
    if (!row || row->s.phase == PHASE_IDLE) {
        buf_puts(b, "null");
        return;
    }
    buf_puts(b, "{\"key\":");
    json_keytuple(b, &row->s.key);
    buf_printf(b, ",\"offset\":%llu,\"rows\":%llu,\"bytes\":%llu}",
               (unsigned long long)row->s.offset, (unsigned long long)row->s.rows,
               (unsigned long long)row->s.bytes);
}

static void json_job(struct buf *b, const struct state_stream *row)
{
    if (!row) {
        buf_puts(b, "null");
        return;
    }
    buf_printf(b, "{\"id\":%lld,\"attempt\":%lld,\"phase\":\"%s\",\"output\":",
               (long long)row->s.job_id, (long long)row->s.attempt, PHASES[row->s.phase]);
    jstr(b, row->s.phase != PHASE_IDLE ? row->s.output : NULL);
    buf_putc(b, '}');
}

static void json_stream(struct buf *b, const struct view *v, const char *now_text)
{
    const struct manifest_stream *s = v->s;
    char url[2048], t[40];
    (void)now_text;
    url_redact(s->spec.source, url, sizeof url);
    buf_puts(b, "{\"name\":");
    jstr(b, s->name);
    buf_puts(b, ",\"source\":");
    jstr(b, s->source_name);
    buf_puts(b, ",\"url\":");
    jstr(b, url);
    buf_puts(b, ",\"table\":");
    jstr(b, s->spec.table);
    buf_printf(b, ",\"mode\":\"%s\",\"enabled\":%s,\"schedule\":",
               s->spec.mode == MODE_INCREMENTAL ? "incremental" : "full",
               s->enabled ? "true" : "false");
    jstr(b, s->schedule);
    buf_puts(b, ",\"next_fire\":");
    if (v->next_fire) {
        fmt_time(v->next_fire, t, sizeof t);
        jstr(b, t);
    } else {
        buf_puts(b, "null");
    }
    buf_printf(b, ",\"due\":%s,\"state\":\"%s\",\"output_template\":", v->due ? "true" : "false",
               JOB_STATES[v->state]);
    jstr(b, s->output_text);
    buf_printf(b, ",\"keep\":");
    if (s->keep)
        buf_printf(b, "%u", s->keep);
    else
        buf_puts(b, "null");
    const struct state_stream *main_row = NULL;
    for (size_t i = 0; i < v->nrows; i++)
        if (!v->rows[i].partition[0])
            main_row = &v->rows[i];
    if (!main_row && v->nrows == 1)
        main_row = &v->rows[0];
    buf_puts(b, ",\"job\":");
    json_job(b, main_row);
    buf_puts(b, ",\"checkpoint\":");
    json_checkpoint(b, main_row);
    buf_puts(b, ",\"high_water_mark\":");
    json_keytuple(b, main_row ? &main_row->s.high_water : NULL);
    buf_puts(b, ",\"last_success\":");
    if (v->nsuccess) {
        const struct state_run *r = &v->success[0];
        buf_puts(b, "{\"output\":");
        jstr(b, r->output);
        buf_printf(b, ",\"exists\":%s,\"sidecar\":%s,\"started_at\":",
                   v->output_exists ? "true" : "false", v->has_sidecar ? "true" : "false");
        jstr(b, r->started_at);
        buf_puts(b, ",\"ended_at\":");
        jstr(b, r->ended_at);
        long long rows = v->has_sidecar && v->sidecar.rows >= 0 ? v->sidecar.rows
                                                                : (long long)r->rows;
        buf_printf(b, ",\"rows\":%lld,\"bytes\":%llu,\"verification\":", rows,
                   (unsigned long long)r->bytes);
        if (v->has_verified) {
            buf_puts(b, "{\"verified_at\":");
            jstr(b, v->verified.verified_at);
            buf_puts(b, ",\"against\":");
            jstr(b, v->verified.against);
            buf_puts(b, ",\"status\":");
            jstr(b, v->verified.status);
            buf_puts(b, ",\"detail\":");
            jstr(b, v->verified.detail);
            buf_putc(b, '}');
        } else {
            buf_puts(b, "null");
        }
        buf_putc(b, '}');
    } else {
        buf_puts(b, "null");
    }
    buf_puts(b, ",\"last_error\":");
    jstr(b, v->last && strcmp(v->last->status, "done") != 0 ? v->last->last_error : NULL);
    buf_puts(b, ",\"runs\":[");
    for (size_t i = 0; i < v->nruns; i++) {
        const struct state_run *r = &v->runs[i];
        int busy = 0;
        for (size_t p = 0; p < v->nparts; p++)
            if (strcmp(v->parts[p].name, r->partition) == 0)
                busy = v->parts[p].busy && v->parts[p].nlast && v->parts[p].last->id == r->id;
        buf_printf(b, "%s{\"id\":%lld,\"job_id\":%lld,\"attempt\":%lld,\"partition\":", i ? "," : "",
                   (long long)r->id, (long long)r->job_id, (long long)r->attempt);
        jstr(b, r->partition[0] ? r->partition : NULL);
        buf_puts(b, ",\"started_at\":");
        jstr(b, r->started_at);
        buf_puts(b, ",\"ended_at\":");
        jstr(b, r->ended_at);
        buf_puts(b, ",\"status\":");
        jstr(b, run_status(r, busy));
        buf_printf(b, ",\"rows\":%llu,\"bytes\":%llu,\"warnings\":%llu,\"progress_percent\":",
                   (unsigned long long)r->rows, (unsigned long long)r->bytes,
                   (unsigned long long)r->warnings);
        double pct = progress_of(v, r);
        if (pct >= 0)
            buf_printf(b, "%.1f", pct);
        else
            buf_puts(b, "null");
        buf_puts(b, ",\"error\":");
        jstr(b, r->last_error);
        buf_puts(b, ",\"output\":");
        jstr(b, r->output);
        buf_putc(b, '}');
    }
    buf_puts(b, "],\"partitions\":");
    if (v->nrows > 1 || (v->nrows == 1 && v->rows[0].partition[0])) {
        buf_putc(b, '[');
        for (size_t i = 0; i < v->nparts; i++) {
            const struct part *p = &v->parts[i];
            buf_printf(b, "%s{\"partition\":", i ? "," : "");
            jstr(b, p->name);
            buf_printf(b, ",\"state\":\"%s\",\"job\":", JOB_STATES[p->state]);
            json_job(b, p->row);
            buf_puts(b, ",\"checkpoint\":");
            json_checkpoint(b, p->row);
            buf_puts(b, ",\"high_water_mark\":");
            json_keytuple(b, p->row ? &p->row->s.high_water : NULL);
            buf_putc(b, '}');
        }
        buf_putc(b, ']');
    } else {
        buf_puts(b, "null");
    }
    buf_putc(b, '}');
}

/* ---- Prometheus ----------------------------------------------------- */

/* A label value: \, " and newline escaped, as the exposition format says. */
static void label(struct buf *b, const char *v)
{
    buf_putc(b, '"');
    for (; *v; v++) {
        if (*v == '\\' || *v == '"')
            buf_putc(b, '\\');
        if (*v == '\n')
            buf_puts(b, "\\n");
        else
            buf_putc(b, *v);
    }
    buf_putc(b, '"');
}

static double iso_seconds(const char *iso)
{
    time_t t;
    if (!iso || wallclock_parse_iso(iso, &t) < 0)
        return 0;
    const char *dot = strchr(iso, '.');
    double frac = dot ? strtod(dot, NULL) : 0;
    return (double)t + frac;
}

static void metric_head(struct buf *b, const char *name, const char *help)
{
    buf_printf(b, "# HELP %s %s\n# TYPE %s gauge\n", name, help, name);
}

static void sample(struct buf *b, const char *name, const char *stream, const char *k2,
                   const char *v2, double value)
{
    buf_printf(b, "%s{stream=", name);
    label(b, stream);
    if (k2) {
        buf_printf(b, ",%s=", k2);
        label(b, v2);
    }
    if (value == (double)(long long)value)
        buf_printf(b, "} %lld\n", (long long)value);
    else
        buf_printf(b, "} %.3f\n", value);
}

static void prometheus(struct buf *b, const struct view *v, size_t n, time_t now)
{
    metric_head(b, "sluice_stream_info", "A stream of the manifest (always 1), with its table, mode and schedule.");
    for (size_t i = 0; i < n; i++) {
        const struct manifest_stream *s = v[i].s;
        buf_puts(b, "sluice_stream_info{stream=");
        label(b, s->name);
        buf_puts(b, ",table=");
        label(b, s->spec.table);
        buf_puts(b, ",mode=");
        label(b, s->spec.mode == MODE_INCREMENTAL ? "incremental" : "full");
        buf_puts(b, ",schedule=");
        label(b, s->schedule ? s->schedule : "");
        buf_printf(b, ",enabled=\"%s\"} 1\n", s->enabled ? "true" : "false");
    }
    metric_head(b, "sluice_stream_state", "1 for the stream's job state: idle, scheduled, running, interrupted, failed or done.");
    for (size_t i = 0; i < n; i++)
        for (int k = 0; k < NJOB_STATES; k++)
            sample(b, "sluice_stream_state", v[i].s->name, "state", JOB_STATES[k],
                   v[i].state == (enum job_state)k);
    metric_head(b, "sluice_last_success_timestamp_seconds", "When the stream's last successful run ended (0: never). Alert on time() minus this.");
    for (size_t i = 0; i < n; i++)
        sample(b, "sluice_last_success_timestamp_seconds", v[i].s->name, NULL, NULL,
               v[i].nsuccess ? iso_seconds(v[i].success[0].ended_at) : 0);
    metric_head(b, "sluice_last_run_status", "1 for the status of the stream's last run: running, done, failed or interrupted.");
    for (size_t i = 0; i < n; i++)
        if (v[i].last)
            for (size_t k = 0; k < sizeof RUN_STATUSES / sizeof *RUN_STATUSES; k++)
                sample(b, "sluice_last_run_status", v[i].s->name, "status", RUN_STATUSES[k],
                       strcmp(run_status(v[i].last, v[i].busy), RUN_STATUSES[k]) == 0);
    metric_head(b, "sluice_last_run_start_timestamp_seconds", "When the stream's last run started.");
    for (size_t i = 0; i < n; i++)
        if (v[i].last)
            sample(b, "sluice_last_run_start_timestamp_seconds", v[i].s->name, NULL, NULL,
                   iso_seconds(v[i].last->started_at));
    metric_head(b, "sluice_last_run_end_timestamp_seconds", "When the stream's last run ended (absent while it runs).");
    for (size_t i = 0; i < n; i++)
        if (v[i].last && v[i].last->ended_at)
            sample(b, "sluice_last_run_end_timestamp_seconds", v[i].s->name, NULL, NULL,
                   iso_seconds(v[i].last->ended_at));
    metric_head(b, "sluice_last_run_rows", "Rows the stream's last run wrote.");
    for (size_t i = 0; i < n; i++)
        if (v[i].last)
            sample(b, "sluice_last_run_rows", v[i].s->name, NULL, NULL, (double)v[i].last->rows);
    metric_head(b, "sluice_last_run_bytes", "Bytes of the output of the stream's last run.");
    for (size_t i = 0; i < n; i++)
        if (v[i].last)
            sample(b, "sluice_last_run_bytes", v[i].s->name, NULL, NULL, (double)v[i].last->bytes);
    metric_head(b, "sluice_last_run_warnings", "Values the stream's last run degraded or replaced.");
    for (size_t i = 0; i < n; i++)
        if (v[i].last)
            sample(b, "sluice_last_run_warnings", v[i].s->name, NULL, NULL,
                   (double)v[i].last->warnings);
    metric_head(b, "sluice_next_run_timestamp_seconds", "The next fire of the stream's schedule (absent without one).");
    for (size_t i = 0; i < n; i++)
        if (v[i].next_fire)
            sample(b, "sluice_next_run_timestamp_seconds", v[i].s->name, NULL, NULL,
                   (double)v[i].next_fire);
    metric_head(b, "sluice_checkpoint_rows", "Rows of the unfinished job at its last checkpoint, per partition (\"\" for none).");
    for (size_t i = 0; i < n; i++)
        for (size_t p = 0; p < v[i].nrows; p++)
            if (v[i].rows[p].s.phase != PHASE_IDLE)
                sample(b, "sluice_checkpoint_rows", v[i].s->name, "partition",
                       v[i].rows[p].partition, (double)v[i].rows[p].s.rows);
    metric_head(b, "sluice_status_timestamp_seconds", "When this status was written.");
    buf_printf(b, "sluice_status_timestamp_seconds %lld\n", (long long)now);
}

/* ---- the table ------------------------------------------------------ */

/* "2025-01-01T00:15:00.123Z" -> "2025-01-01T00:15:00Z". */
static void short_iso(const char *iso, char *out, size_t n)
{
    if (!iso) {
        snprintf(out, n, "-");
        return;
    }
    const char *dot = strchr(iso, '.');
    if (dot)
        snprintf(out, n, "%.*sZ", (int)(dot - iso), iso);
    else
        snprintf(out, n, "%s", iso);
}

static void key_text(const struct keytuple *t, char *out, size_t n)
{
    struct buf b;
    buf_init(&b, 4096);
    json_keytuple(&b, t);
    snprintf(out, n, "%s", buf_cstr(&b) ? b.data : "?");
    buf_free(&b);
}

static void table(struct buf *b, const struct view *v, size_t n, int detailed)
{
    buf_printf(b, "%-20s %-12s %-32s %10s %10s  %-25s %s\n", "STREAM", "STATE", "LAST RUN",
               "ROWS", "BYTES", "NEXT FIRE", "LAST SUCCESS");
    for (size_t i = 0; i < n; i++) {
        const struct view *w = &v[i];
        char last[64] = "-", rows[24] = "-", bytes[24] = "-", next[40] = "-", ok[40] = "-";
        if (w->last) {
            char t[40];
            short_iso(w->last->started_at, t, sizeof t);
            snprintf(last, sizeof last, "%s %s", t, run_status(w->last, w->busy));
            snprintf(rows, sizeof rows, "%llu", (unsigned long long)w->last->rows);
            human_bytes(w->last->bytes, bytes, sizeof bytes);
        }
        if (w->next_fire)
            fmt_time(w->next_fire, next, sizeof next);
        else if (!w->s->enabled)
            snprintf(next, sizeof next, "(disabled)");
        if (w->nsuccess)
            short_iso(w->success[0].ended_at, ok, sizeof ok);
        buf_printf(b, "%-20s %-12s %-32s %10s %10s  %-25s %s\n", w->s->name, JOB_STATES[w->state],
                   last, rows, bytes, next, ok);
        if (w->last && w->last->last_error && strcmp(w->last->status, "done") != 0)
            buf_printf(b, "    error: %s\n", w->last->last_error);
        if (w->nrows > 1 || (w->nrows == 1 && w->rows[0].partition[0]))
            for (size_t p = 0; p < w->nparts; p++) {
                const struct part *pt = &w->parts[p];
                if (!pt->name[0])
                    continue; /* the partitioned job's own row: the line above */
                buf_printf(b, "    partition %-12s %-12s", pt->name, JOB_STATES[pt->state]);
                if (pt->row && pt->row->s.phase != PHASE_IDLE)
                    buf_printf(b, " checkpoint %llu rows", (unsigned long long)pt->row->s.rows);
                buf_putc(b, '\n');
            }
        if (!detailed)
            continue;
        char url[2048], text[1024];
        const struct manifest_stream *s = w->s;
        url_redact(s->spec.source, url, sizeof url);
        buf_printf(b, "\n  source        %s (%s)\n  table         %s, %s\n", s->source_name, url,
                   s->spec.table, s->spec.mode == MODE_INCREMENTAL ? "incremental" : "full");
        buf_printf(b, "  schedule      %s\n  output        %s%s\n", s->schedule ? s->schedule : "-",
                   s->output_text, s->keep ? "" : " (keeps every output)");
        if (s->keep)
            buf_printf(b, "  keep          %u\n", s->keep);
        for (size_t p = 0; p < w->nrows; p++) {
            const struct state_stream *row = &w->rows[p];
            const char *pn = row->partition[0] ? row->partition : NULL;
            buf_printf(b, "  job%s%-10s id %lld, attempt %lld, %s\n", pn ? " " : "", pn ? pn : "",
                       (long long)row->s.job_id, (long long)row->s.attempt, PHASES[row->s.phase]);
            if (row->s.phase != PHASE_IDLE) {
                key_text(&row->s.key, text, sizeof text);
                buf_printf(b, "  checkpoint    key %s, offset %llu, %llu rows, %llu bytes -> %s\n",
                           text, (unsigned long long)row->s.offset, (unsigned long long)row->s.rows,
                           (unsigned long long)row->s.bytes, row->s.output ? row->s.output : "-");
            }
            if (row->s.high_water.n) {
                key_text(&row->s.high_water, text, sizeof text);
                buf_printf(b, "  high-water    %s\n", text);
            }
        }
        if (w->nsuccess) {
            char t[40];
            short_iso(w->success[0].ended_at, t, sizeof t);
            buf_printf(b, "  last success  %s %s%s\n", t, w->success[0].output ? w->success[0].output : "-",
                       w->output_exists ? "" : " (missing)");
        }
        if (w->has_verified)
            buf_printf(b, "  verified      %s %s against the %s\n", w->verified.verified_at,
                       w->verified.status, w->verified.against);
        if (w->nruns) {
            buf_printf(b, "  runs          %-25s %-25s %-12s %10s %10s %8s %8s\n", "started", "ended",
                       "status", "rows", "bytes", "warnings", "progress");
            for (size_t r = 0; r < w->nruns; r++) {
                const struct state_run *run = &w->runs[r];
                char s1[40], s2[40], pct[16] = "-";
                short_iso(run->started_at, s1, sizeof s1);
                short_iso(run->ended_at, s2, sizeof s2);
                human_bytes(run->bytes, bytes, sizeof bytes);
                double p = progress_of(w, run);
                if (p >= 0)
                    snprintf(pct, sizeof pct, "%.1f%%", p);
                buf_printf(b, "                %-25s %-25s %-12s %10llu %10s %8llu %8s\n", s1, s2,
                           run_status(run, r == 0 && w->busy), (unsigned long long)run->rows,
                           bytes, (unsigned long long)run->warnings, pct);
                if (run->last_error)
                    buf_printf(b, "                  error: %s\n", run->last_error);
            }
        }
    }
}

/* ---- the command ---------------------------------------------------- */

/* Writes text to path atomically (temporary file, fsync, rename), so a
 * node_exporter never reads half a file. */
static int write_atomic(const char *path, const char *text, size_t len)
{
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.%ld.tmp", path, (long)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        log_error("%s: cannot create: %s", tmp, strerror(errno));
        return EXIT_OUTPUT;
    }
    size_t off = 0;
    while (off < len) {
        ssize_t w = write(fd, text + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            break;
        off += (size_t)w;
    }
    int e = off < len ? errno : 0;
    if (!e && fsync(fd) < 0)
        e = errno;
    if (close(fd) < 0 && !e)
        e = errno;
    if (!e && rename(tmp, path) < 0)
        e = errno;
    if (e) {
        unlink(tmp);
        log_error("%s: cannot write: %s", path, strerror(e));
        return EXIT_OUTPUT;
    }
    return 0;
}

int status_command(const struct status_cmd *sc)
{
    if (sc->list_streams)
        return run_list_streams(sc->manifest);
    struct manifest *m;
    if (run_open_manifest(sc->manifest, &m))
        return EXIT_USAGE;
    const struct manifest_stream *only = NULL;
    if (sc->stream && !(only = manifest_stream(m, sc->stream))) {
        const char *near = manifest_suggest_stream(m, sc->stream);
        if (near)
            log_error("%s has no stream '%s'; did you mean '%s'?", m->path, sc->stream, near);
        else
            log_error("%s has no stream '%s'", m->path, sc->stream);
        manifest_free(m);
        return EXIT_USAGE;
    }
    struct state *st = NULL;
    if (access(m->state_path, F_OK) == 0 && state_open(&st, m->state_path) < 0) {
        log_error("%s", state_error(st));
        state_close(st);
        manifest_free(m);
        return EXIT_STATE;
    }
    size_t n = only ? 1 : m->nstreams;
    struct view *v = calloc(n, sizeof *v);
    int code = v ? 0 : EXIT_INTERNAL;
    time_t now = wallclock_now();
    for (size_t i = 0; code == 0 && i < n; i++)
        if (view_load(&v[i], only ? only : &m->streams[i], st, now) < 0) {
            log_error("%s", st ? state_error(st) : "out of memory");
            code = st ? EXIT_STATE : EXIT_INTERNAL;
        }
    struct buf b;
    buf_init(&b, (size_t)1 << 30);
    if (code == 0) {
        char t[40];
        fmt_time(now, t, sizeof t);
        if (sc->format == STATUS_JSON) {
            buf_printf(&b, "{\"version\":%d,\"manifest\":", STATUS_JSON_VERSION);
            char abs[4200];
            const char *slash = strrchr(m->path, '/');
            snprintf(abs, sizeof abs, "%s/%s", m->dir, slash ? slash + 1 : m->path);
            jstr(&b, abs);
            buf_puts(&b, ",\"state\":");
            jstr(&b, m->state_path);
            buf_puts(&b, ",\"timezone\":");
            jstr(&b, m->timezone);
            buf_puts(&b, ",\"now\":");
            jstr(&b, t);
            buf_puts(&b, ",\"streams\":[");
            for (size_t i = 0; i < n; i++) {
                if (i)
                    buf_putc(&b, ',');
                json_stream(&b, &v[i], t);
            }
            buf_puts(&b, "]}\n");
        } else if (sc->format == STATUS_PROMETHEUS) {
            prometheus(&b, v, n, now);
        } else {
            table(&b, v, n, only != NULL);
        }
        if (!buf_cstr(&b)) {
            log_error("out of memory");
            code = EXIT_INTERNAL;
        } else if (sc->output) {
            code = write_atomic(sc->output, b.data, b.len);
        } else if (fwrite(b.data, 1, b.len, stdout) != b.len || fflush(stdout) != 0) {
            log_error("cannot write to stdout: %s", strerror(errno));
            code = EXIT_OUTPUT;
        }
    }
    buf_free(&b);
    for (size_t i = 0; v && i < n; i++)
        view_free(&v[i]);
    free(v);
    state_close(st);
    manifest_free(m);
    return code;
}
