/* run.c - `sluice run MANIFEST [STREAM...] [--due] [--dry-run]`. */
#include "cli/run.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/options.h"
#include "cli/units.h"
#include "common/buf.h"
#include "common/errbuf.h"
#include "common/log.h"
#include "encode/json.h"
#include "manifest/manifest.h"
#include "schedule/due.h"
#include "schedule/launch.h"
#include "schedule/wallclock.h"
#include "state/state.h"
#include "verify/verify.h"

enum { OPT_DUE = 256, OPT_DRY_RUN, OPT_RESTART, OPT_LOG_FORMAT, OPT_LIST };

static const struct option run_longopts[] = {
    {"due", no_argument, NULL, OPT_DUE},
    {"dry-run", no_argument, NULL, OPT_DRY_RUN},
    {"restart", no_argument, NULL, OPT_RESTART},
    {"log-format", required_argument, NULL, OPT_LOG_FORMAT},
    {"list-streams", no_argument, NULL, OPT_LIST},
    {"quiet", no_argument, NULL, 'q'},
    {"verbose", no_argument, NULL, 'v'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

int run_parse(struct run_cmd *r, int argc, char **argv, char *err, size_t errlen, int *help)
{
    unsigned char seen[CLI_MAX_OPTIONS] = {0};
    int c;
    while ((c = getopt_long(argc, argv, ":qvh", run_longopts, NULL)) != -1) {
        if (cli_once(c, run_longopts, seen, err, errlen))
            return EXIT_USAGE;
        switch (c) {
        case OPT_DUE: r->due = 1; break;
        case OPT_DRY_RUN: r->dry_run = 1; break;
        case OPT_RESTART: r->restart = 1; break;
        case OPT_LIST: r->list_streams = 1; break;
        case OPT_LOG_FORMAT:
            if (cli_log_format(optarg, &r->json, err, errlen))
                return EXIT_USAGE;
            break;
        case 'q': r->quiet = 1; break;
        case 'v': r->verbose = 1; break;
        case 'h': *help = 1; return 0;
        default: return cli_getopt_error(c, argv, run_longopts, err, errlen);
        }
    }
    if (r->quiet && r->verbose)
        return errbuf_fail(err, errlen, EXIT_USAGE, "--quiet and --verbose exclude each other");
    int left = argc - optind;
    if (left < 1)
        return errbuf_fail(err, errlen, EXIT_USAGE, "run needs MANIFEST (see sluice run --help)");
    r->manifest = argv[optind];
    if (!*r->manifest)
        return errbuf_fail(err, errlen, EXIT_USAGE, "MANIFEST is empty");
    if (left > 1) {
        r->nstreams = (size_t)left - 1;
        if (!(r->streams = calloc(r->nstreams, sizeof *r->streams)))
            return errbuf_fail(err, errlen, EXIT_USAGE, "out of memory");
        memcpy(r->streams, argv + optind + 1, r->nstreams * sizeof *r->streams);
    }
    if (r->restart && !r->nstreams)
        return errbuf_fail(err, errlen, EXIT_USAGE, "--restart discards unfinished jobs: name the streams (sluice run MANIFEST STREAM... --restart)");
    if (r->restart && r->due)
        return errbuf_fail(err, errlen, EXIT_USAGE, "--restart and --due exclude each other");
    return 0;
}

void run_cmd_free(struct run_cmd *r)
{
    free(r->streams);
    r->streams = NULL;
}

int run_severity(int code)
{
    switch (code) {
    case EXIT_OK: return 0;
    case EXIT_SKIPPED: return 1;
    case EXIT_CONNECT: return 2;
    case EXIT_SOURCE: return 3;
    case EXIT_USAGE: return 4;
    case EXIT_OUTPUT: return 5;
    case EXIT_STATE: return 6;
    case EXIT_VERIFY_DAMAGED: return 5; /* as an output error */
    case EXIT_INTERRUPTED: return 8;
    default: return 7; /* EXIT_INTERNAL and anything unknown */
    }
}

static int worse(int a, int b)
{
    return run_severity(b) > run_severity(a) ? b : a;
}

/* ---- summary lines -------------------------------------------------- */

struct summary {
    const char *stream;
    const char *status; /* done, failed, interrupted, skipped, disabled, not started */
    int code;
    const struct launch *l; /* NULL when it did not run */
    const char *message;    /* for streams that did not run */
};

static void put_json_str(struct buf *b, const char *key, const char *v)
{
    buf_printf(b, ",\"%s\":", key);
    if (v)
        json_quoted(b, v, strlen(v), NULL);
    else
        buf_puts(b, "null");
}

static void print_summary(const struct run_cmd *r, const struct summary *s)
{
    char line[4096], size[32];
    const struct job_result *res = s->l ? &s->l->res : NULL;
    if (res && s->code == EXIT_OK) {
        human_bytes(res->bytes, size, sizeof size);
        int n = snprintf(line, sizeof line, "%s: %s: %llu rows (%llu this run), %s in %.1f s -> %s",
                         s->stream, res->resumed ? "done, resumed" : "done",
                         (unsigned long long)res->rows, (unsigned long long)res->run_rows, size,
                         res->seconds, res->output);
        if (s->l->pruned && n > 0 && (size_t)n < sizeof line)
            snprintf(line + n, sizeof line - (size_t)n, "; retention deleted %u old output%s",
                     s->l->pruned, s->l->pruned == 1 ? "" : "s");
    } else if (res) {
        snprintf(line, sizeof line, "%s: %s (exit %d): %s", s->stream, s->status, s->code,
                 s->message ? s->message : res->error);
    } else if (s->code) {
        snprintf(line, sizeof line, "%s: %s (exit %d): %s", s->stream, s->status, s->code,
                 s->message);
    } else {
        snprintf(line, sizeof line, "%s: %s", s->stream, s->message);
    }
    if (!r->json) {
        printf("%s\n", line);
        fflush(stdout);
        return;
    }
    char time[40];
    log_time(time, sizeof time);
    struct buf b;
    buf_init(&b, 1 << 20);
    buf_printf(&b, "{\"time\":\"%s\",\"level\":\"%s\"", time, s->code ? "error" : "notice");
    put_json_str(&b, "stream", s->stream);
    put_json_str(&b, "message", line);
    put_json_str(&b, "status", s->status);
    buf_printf(&b, ",\"exit_code\":%d", s->code);
    if (res) {
        buf_printf(&b, ",\"rows\":%llu,\"run_rows\":%llu,\"bytes\":%llu,\"warnings\":%llu,"
                       "\"seconds\":%.3f,\"resumed\":%s,\"pruned\":%u",
                   (unsigned long long)res->rows, (unsigned long long)res->run_rows,
                   (unsigned long long)res->bytes, (unsigned long long)res->warnings,
                   res->seconds, res->resumed ? "true" : "false", s->l->pruned);
        put_json_str(&b, "output", res->output[0] ? res->output : NULL);
        put_json_str(&b, "error", s->code ? (s->message ? s->message : res->error) : NULL);
    }
    buf_puts(&b, "}\n");
    if (buf_cstr(&b)) {
        fputs(b.data, stdout);
        fflush(stdout);
    }
    buf_free(&b);
}

/* The summary of a finished launch; returns its exit code. */
static int report(const struct run_cmd *r, struct launch *l)
{
    struct summary s = {.stream = l->stream->name, .l = l, .code = l->res.code,
                        .status = l->res.status};
    char msg[PATH_MAX + 1200];
    if (l->res.busy) {
        s.code = EXIT_SKIPPED;
        s.status = "skipped";
        s.message = "another sluice process is running it";
    } else if (l->res.code == EXIT_OK && l->verified < 0) {
        s.code = EXIT_VERIFY_DAMAGED;
        s.status = "failed";
        snprintf(msg, sizeof msg, "the backup does not verify (kept, nothing pruned): %s",
                 l->verify_error);
        s.message = msg;
    } else if (l->res.code == EXIT_OK && l->prune_error[0]) {
        s.code = EXIT_OUTPUT;
        s.status = "failed";
        snprintf(msg, sizeof msg, "the backup is complete (%s), but retention failed: %s",
                 l->res.output, l->prune_error);
        s.message = msg;
    }
    print_summary(r, &s);
    return s.code;
}

/* ---- the command ---------------------------------------------------- */

static int open_store(const struct manifest *m, int create, struct state **st)
{
    *st = NULL;
    if (!create && access(m->state_path, F_OK) != 0)
        return 0; /* nothing has run yet: every stream is new */
    if (state_open(st, m->state_path) < 0) {
        log_error("%s", state_error(*st));
        state_close(*st);
        *st = NULL;
        return EXIT_STATE;
    }
    return 0;
}

/* The streams asked for, as indexes into m; NULL on a usage error. */
static size_t *select_streams(const struct run_cmd *r, const struct manifest *m, size_t *n)
{
    size_t *v = calloc(m->nstreams ? m->nstreams : 1, sizeof *v);
    *n = 0;
    if (!v) {
        log_error("out of memory");
        return NULL;
    }
    if (!r->nstreams) {
        for (size_t i = 0; i < m->nstreams; i++)
            v[(*n)++] = i;
        return v;
    }
    for (size_t i = 0; i < r->nstreams; i++) {
        const struct manifest_stream *s = manifest_stream(m, r->streams[i]);
        if (!s) {
            const char *near = manifest_suggest_stream(m, r->streams[i]);
            if (near)
                log_error("%s has no stream '%s'; did you mean '%s'?", m->path, r->streams[i], near);
            else
                log_error("%s has no stream '%s'", m->path, r->streams[i]);
            free(v);
            return NULL;
        }
        size_t idx = (size_t)(s - m->streams), j;
        for (j = 0; j < *n && v[j] != idx; j++)
            ;
        if (j == *n)
            v[(*n)++] = idx;
    }
    return v;
}

static int stopped(const atomic_int *stop)
{
    return atomic_load(stop) != 0;
}

/* The names of the manifest's streams, one a line (for shell completion). */
int run_list_streams(const char *path)
{
    char err[2048];
    struct manifest *m;
    if (manifest_load(&m, path, err, sizeof err) < 0) {
        log_error("%s", err);
        return EXIT_USAGE;
    }
    for (size_t i = 0; i < m->nstreams; i++)
        printf("%s\n", m->streams[i].name);
    manifest_free(m);
    return fflush(stdout) == 0 ? 0 : EXIT_OUTPUT;
}

int run_open_manifest(const char *path, struct manifest **out)
{
    char err[2048];
    if (wallclock_init(err, sizeof err) < 0) {
        log_error("%s", err);
        return EXIT_USAGE;
    }
    if (manifest_load(out, path, err, sizeof err) < 0) {
        log_error("%s", err);
        return EXIT_USAGE;
    }
    if (cron_use_timezone((*out)->timezone, err, sizeof err) < 0) {
        log_error("%s: timezone: %s", (*out)->path, err);
        manifest_free(*out);
        *out = NULL;
        return EXIT_USAGE;
    }
    return 0;
}

int run_command(const struct run_cmd *r, const atomic_int *stop)
{
    if (r->list_streams)
        return run_list_streams(r->manifest);
    log_format = r->json ? LOG_JSON : LOG_TEXT;
    log_level = r->quiet ? LOG_QUIET : r->verbose ? LOG_VERBOSE : LOG_NORMAL;
    struct manifest *m;
    if (run_open_manifest(r->manifest, &m))
        return EXIT_USAGE;
    size_t n, *pick = select_streams(r, m, &n);
    struct state *st = NULL;
    int code = pick ? open_store(m, !r->dry_run, &st) : EXIT_USAGE;
    if (code) {
        free(pick);
        manifest_free(m);
        return code;
    }
    time_t now = wallclock_now();
    /* Decide first, from one look at the store; run after. */
    size_t *queue = calloc(n ? n : 1, sizeof *queue), nqueue = 0;
    int worst = 0;
    if (!queue)
        code = EXIT_INTERNAL;
    for (size_t i = 0; code == 0 && i < n; i++) {
        const struct manifest_stream *s = &m->streams[pick[i]];
        struct due_facts f;
        char why[512];
        if (due_facts_load(st, s->name, &f) < 0) {
            log_error("%s", state_error(st));
            code = EXIT_STATE;
            break;
        }
        enum due_verdict v = due_decide(s, &f, now, r->due, why, sizeof why);
        if (r->dry_run) {
            char target[4200] = "";
            if (v == DUE_RUN && f.unfinished && f.output)
                snprintf(target, sizeof target, " into %s", f.output);
            else if (v == DUE_RUN) {
                char e[512], *path = NULL;
                if (launch_output(s, NULL, now, &path, e, sizeof e) == 0)
                    snprintf(target, sizeof target, " into %s", path);
                free(path);
            }
            printf("%s: %s: %s%s\n", s->name,
                   v == DUE_RUN ? "would run" : v == DUE_BUSY ? "would skip" : "would not run",
                   why, target);
        } else if (v == DUE_RUN) {
            queue[nqueue++] = pick[i];
        } else if (v == DUE_BUSY) {
            struct summary sm = {.stream = s->name, .status = "skipped", .code = EXIT_SKIPPED,
                                 .message = "another sluice process is running it"};
            print_summary(r, &sm);
            worst = worse(worst, EXIT_SKIPPED);
        } else if (v == DUE_DISABLED && !r->due) {
            struct summary sm = {.stream = s->name, .status = "disabled",
                                 .message = "disabled (enabled: false)"};
            print_summary(r, &sm);
        } else {
            log_info("%s: %s", s->name, why);
        }
        due_facts_clear(&f);
    }
    if (r->dry_run || code) {
        free(queue);
        free(pick);
        state_close(st);
        manifest_free(m);
        return code;
    }

    /* Run the queue, concurrency at a time; each launch writes a byte to
     * the pipe when it ends. */
    int fds[2];
    struct launch *ls = calloc(nqueue ? nqueue : 1, sizeof *ls);
    if (!ls || pipe(fds) < 0) {
        log_error("cannot start: %s", ls ? strerror(errno) : "out of memory");
        free(ls);
        free(queue);
        free(pick);
        state_close(st);
        manifest_free(m);
        return EXIT_INTERNAL;
    }
    size_t next = 0, running = 0, ended = 0;
    int *state_of = calloc(nqueue ? nqueue : 1, sizeof *state_of); /* 0 new, 1 running, 2 ended */
    while (ended < nqueue && state_of) {
        while (next < nqueue && running < m->concurrency && !stopped(stop)) {
            const struct manifest_stream *s = &m->streams[queue[next]];
            struct due_facts f;
            char e[1024];
            /* Fresh facts: another process may have moved the stream since. */
            if (due_facts_load(st, s->name, &f) < 0) {
                struct summary sm = {.stream = s->name, .status = "failed", .code = EXIT_STATE,
                                     .message = state_error(st)};
                print_summary(r, &sm);
                worst = worse(worst, EXIT_STATE);
                state_of[next++] = 2;
                ended++;
                continue;
            }
            int rc = launch_prepare(&ls[next], s, f.unfinished ? f.output : NULL, now,
                                    r->restart, stop, e, sizeof e);
            due_facts_clear(&f);
            if (rc == 0 && launch_start(&ls[next], fds[1]) < 0) {
                snprintf(e, sizeof e, "cannot start a thread");
                rc = -1;
            }
            if (rc < 0) {
                struct summary sm = {.stream = s->name, .status = "failed", .code = EXIT_OUTPUT,
                                     .message = e};
                print_summary(r, &sm);
                worst = worse(worst, EXIT_OUTPUT);
                launch_free(&ls[next]);
                state_of[next++] = 2;
                ended++;
                continue;
            }
            state_of[next++] = 1;
            running++;
        }
        if (stopped(stop) && running == 0) {
            for (; next < nqueue; next++) {
                struct summary sm = {.stream = m->streams[queue[next]].name,
                                     .status = "not started", .code = EXIT_INTERRUPTED,
                                     .message = "interrupted before it started; run again"};
                print_summary(r, &sm);
                worst = worse(worst, EXIT_INTERRUPTED);
                state_of[next] = 2;
                ended++;
            }
            break;
        }
        if (running == 0)
            continue;
        char b;
        ssize_t got = read(fds[0], &b, 1);
        if (got < 0 && errno != EINTR)
            break;
        for (size_t i = 0; i < next; i++) {
            if (state_of[i] != 1 || !atomic_load(&ls[i].done))
                continue;
            launch_join(&ls[i]);
            worst = worse(worst, report(r, &ls[i]));
            launch_free(&ls[i]);
            state_of[i] = 2;
            running--;
            ended++;
        }
    }
    for (size_t i = 0; i < next && state_of; i++)
        if (state_of[i] == 1) {
            launch_join(&ls[i]);
            worst = worse(worst, report(r, &ls[i]));
            launch_free(&ls[i]);
        }
    close(fds[0]);
    close(fds[1]);
    free(state_of);
    free(ls);
    free(queue);
    free(pick);
    state_close(st);
    manifest_free(m);
    return worst;
}
