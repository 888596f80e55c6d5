/* daemon.c - `sluice daemon MANIFEST`: one main thread keeps the
 * schedules (cron is computed on it alone) and starts each run on a thread
 * of its own (launch.h), at most `concurrency` at once. The main thread
 * sleeps in poll() on one pipe that signals and finished runs write to,
 * with a timeout until the next fire.
 *
 *  - A fire while the stream's previous run still goes is skipped (and
 *    logged): a stream never runs twice at once.
 *  - At start-up, streams that are due (due.h: fires missed while the
 *    daemon was down, interrupted jobs, streams that never ran) run once.
 *  - SIGTERM/SIGINT: no new runs; every running job checkpoints and ends;
 *    then the daemon exits 0.
 *  - SIGHUP: the manifest is read again; a bad one is logged and the
 *    running one kept. Runs in progress finish with the options they
 *    started with. A new timezone needs a restart (TZ is process-wide). */
#include "cli/daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/options.h"
#include "cli/run.h"
#include "common/errbuf.h"
#include "common/log.h"
#include "manifest/manifest.h"
#include "schedule/due.h"
#include "schedule/launch.h"
#include "schedule/wallclock.h"
#include "state/state.h"

enum { OPT_LOG_FORMAT = 256 };

static const struct option daemon_longopts[] = {
    {"log-format", required_argument, NULL, OPT_LOG_FORMAT},
    {"quiet", no_argument, NULL, 'q'},
    {"verbose", no_argument, NULL, 'v'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

int daemon_parse(struct daemon_cmd *d, int argc, char **argv, char *err, size_t errlen,
                 int *help)
{
    unsigned char seen[CLI_MAX_OPTIONS] = {0};
    int c;
    while ((c = getopt_long(argc, argv, ":qvh", daemon_longopts, NULL)) != -1) {
        if (cli_once(c, daemon_longopts, seen, err, errlen))
            return EXIT_USAGE;
        switch (c) {
        case OPT_LOG_FORMAT:
            if (cli_log_format(optarg, &d->json, err, errlen))
                return EXIT_USAGE;
            break;
        case 'q': d->quiet = 1; break;
        case 'v': d->verbose = 1; break;
        case 'h': *help = 1; return 0;
        default: return cli_getopt_error(c, argv, daemon_longopts, err, errlen);
        }
    }
    if (d->quiet && d->verbose)
        return errbuf_fail(err, errlen, EXIT_USAGE, "--quiet and --verbose exclude each other");
    int left = argc - optind;
    if (left < 1)
        return errbuf_fail(err, errlen, EXIT_USAGE, "daemon needs MANIFEST (see sluice daemon --help)");
    if (left > 1)
        return errbuf_fail(err, errlen, EXIT_USAGE, "unexpected argument '%s' (the daemon runs every stream of the manifest)",
                           argv[optind + 1]);
    d->manifest = argv[optind];
    if (!*d->manifest)
        return errbuf_fail(err, errlen, EXIT_USAGE, "MANIFEST is empty");
    return 0;
}

/* ---- signals -------------------------------------------------------- */

static atomic_int *stop_flag;
static volatile sig_atomic_t reload_asked;
static int wake_fd = -1; /* the pipe's write end */

static void wake(void)
{
    int saved = errno;
    char b = 0;
    if (write(wake_fd, &b, 1) < 0) {
        /* full: the main loop is awake anyway */
    }
    errno = saved;
}

static void on_stop(int sig)
{
    (void)sig;
    atomic_store(stop_flag, 1);
    wake();
}

static void on_hup(int sig)
{
    (void)sig;
    reload_asked = 1;
    wake();
}

static void install(int sig, void (*fn)(int))
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = fn;
    sigemptyset(&sa.sa_mask);
    sigaction(sig, &sa, NULL);
}

/* ---- the schedule --------------------------------------------------- */

struct entry {
    const struct manifest_stream *s; /* in the current manifest */
    time_t next_fire;                /* 0: none (no schedule, disabled) */
    int pending;                     /* due: starts when a slot is free */
    struct launch *running;          /* NULL: not running */
};

struct daemon {
    const struct daemon_cmd *cmd;
    struct manifest *m;
    struct manifest **retired; /* replaced while runs of theirs went on */
    size_t nretired;
    struct entry *e;
    size_t n;
    struct launch **orphans;   /* runs of streams a reload removed */
    size_t norphans;
    struct state *st;
    unsigned running;
    atomic_int *stop;
    int pipe[2];
};

static void fmt_time(time_t t, char *out, size_t n)
{
    if (cron_format_time(t, out, n) < 0)
        snprintf(out, n, "@%lld", (long long)t);
}

static void plan_entry(struct entry *e, time_t now)
{
    e->next_fire = 0;
    time_t next;
    if (e->s->enabled && e->s->schedule && cron_next(&e->s->cron, now, &next) == 0)
        e->next_fire = next;
}

/* Logs the end of a run, as `run`'s summary line says it. */
static void log_result(const struct launch *l)
{
    const struct job_result *r = &l->res;
    log_set_context(l->stream->name);
    if (r->busy)
        log_warn("skipped: another sluice process is running it");
    else if (r->code == 0 && l->prune_error[0])
        log_error("done (%s), but retention failed: %s", r->output, l->prune_error);
    else if (r->code == 0)
        log_note("done%s: %llu rows (%llu this run), %llu bytes in %.1f s -> %s%s",
                 r->resumed ? ", resumed" : "", (unsigned long long)r->rows,
                 (unsigned long long)r->run_rows, (unsigned long long)r->bytes, r->seconds,
                 r->output, l->pruned ? "; retention deleted old outputs" : "");
    else if (r->code == EXIT_INTERRUPTED)
        log_note("interrupted (exit %d): %s", r->code, r->error);
    else
        log_error("failed (exit %d): %s", r->code, r->error);
    log_set_context(NULL);
}

static void free_retired(struct daemon *d)
{
    if (d->running)
        return;
    for (size_t i = 0; i < d->nretired; i++)
        manifest_free(d->retired[i]);
    d->nretired = 0;
}

static void finish_run(struct daemon *d, struct launch *l)
{
    launch_join(l);
    log_result(l);
    launch_free(l);
    free(l);
    d->running--;
}

/* Collects every run that ended. */
static void reap(struct daemon *d)
{
    for (size_t i = 0; i < d->n; i++)
        if (d->e[i].running && atomic_load(&d->e[i].running->done)) {
            finish_run(d, d->e[i].running);
            d->e[i].running = NULL;
        }
    for (size_t i = 0; i < d->norphans;)
        if (atomic_load(&d->orphans[i]->done)) {
            finish_run(d, d->orphans[i]);
            d->orphans[i] = d->orphans[--d->norphans];
        } else {
            i++;
        }
    free_retired(d);
}

static void start(struct daemon *d, struct entry *e, time_t now)
{
    const struct manifest_stream *s = e->s;
    struct due_facts f;
    char err[1024];
    e->pending = 0;
    log_set_context(s->name);
    if (due_facts_load(d->st, s->name, &f) < 0) {
        log_error("cannot read the state store: %s", state_error(d->st));
        log_set_context(NULL);
        return;
    }
    if (f.busy) {
        log_warn("skipped: another sluice process is running it");
    } else {
        struct launch *l = calloc(1, sizeof *l);
        if (!l) {
            log_error("out of memory");
        } else if (launch_prepare(l, s, f.unfinished ? f.output : NULL, now, 0, d->stop, err,
                                  sizeof err) < 0) {
            log_error("%s", err);
            launch_free(l);
            free(l);
        } else if (launch_start(l, d->pipe[1]) < 0) {
            log_error("cannot start a thread");
            launch_free(l);
            free(l);
        } else {
            log_info("started -> %s", l->output);
            e->running = l;
            d->running++;
        }
    }
    due_facts_clear(&f);
    log_set_context(NULL);
}

static int open_store(struct daemon *d)
{
    state_close(d->st);
    d->st = NULL;
    if (state_open(&d->st, d->m->state_path) == 0)
        return 0;
    log_error("%s", state_error(d->st));
    state_close(d->st);
    d->st = NULL;
    return -1;
}

/* The streams of m, with what carries over from the old entries: a run
 * in progress, a pending start. */
static int adopt(struct daemon *d, struct manifest *m, time_t now)
{
    struct entry *e = calloc(m->nstreams, sizeof *e);
    if (!e)
        return -1;
    for (size_t i = 0; i < m->nstreams; i++) {
        e[i].s = &m->streams[i];
        plan_entry(&e[i], now);
        for (size_t j = 0; j < d->n; j++)
            if (d->e[j].s && strcmp(d->e[j].s->name, m->streams[i].name) == 0) {
                e[i].running = d->e[j].running;
                e[i].pending = d->e[j].pending && e[i].s->enabled;
                d->e[j].running = NULL;
                d->e[j].s = NULL;
            }
    }
    for (size_t j = 0; j < d->n; j++) {
        if (!d->e[j].running)
            continue;
        struct launch **o = realloc(d->orphans, (d->norphans + 1) * sizeof *o);
        if (!o) {
            finish_run(d, d->e[j].running); /* waits; out of memory is rare */
            continue;
        }
        d->orphans = o;
        d->orphans[d->norphans++] = d->e[j].running;
    }
    free(d->e);
    d->e = e;
    d->n = m->nstreams;
    return 0;
}

static void reload(struct daemon *d, time_t now)
{
    char err[2048];
    struct manifest *nm;
    if (manifest_load(&nm, d->cmd->manifest, err, sizeof err) < 0) {
        log_error("reload failed; the running manifest stays: %s", err);
        return;
    }
    if (strcmp(nm->timezone, d->m->timezone) != 0) {
        log_error("reload refused; the running manifest stays: timezone changed from %s to %s, which needs a restart of the daemon",
                  d->m->timezone, nm->timezone);
        manifest_free(nm);
        return;
    }
    struct manifest **r = realloc(d->retired, (d->nretired + 1) * sizeof *r);
    if (!r || adopt(d, nm, now) < 0) {
        if (r)
            d->retired = r;
        log_error("reload failed; the running manifest stays: out of memory");
        manifest_free(nm);
        return;
    }
    d->retired = r;
    d->retired[d->nretired++] = d->m;
    int new_store = strcmp(nm->state_path, d->m->state_path) != 0;
    d->m = nm;
    free_retired(d);
    if (new_store && open_store(d) < 0)
        log_error("the new state store cannot be opened; runs will report it");
    log_note("reloaded %s: %zu streams", d->m->path, d->m->nstreams);
}

/* Streams that are due at start-up run once now. */
static void catch_up(struct daemon *d, time_t now)
{
    for (size_t i = 0; i < d->n; i++) {
        struct entry *e = &d->e[i];
        struct due_facts f;
        char why[512];
        log_set_context(e->s->name);
        if (!e->s->schedule) {
            log_note("has no schedule: the daemon does not run it");
        } else if (due_facts_load(d->st, e->s->name, &f) < 0) {
            log_error("cannot read the state store: %s", state_error(d->st));
        } else {
            enum due_verdict v = due_decide(e->s, &f, now, 1, why, sizeof why);
            if (v == DUE_RUN) {
                e->pending = 1;
                log_note("%s", why);
            } else {
                log_info("%s", why);
            }
            due_facts_clear(&f);
        }
        log_set_context(NULL);
    }
}

/* Real milliseconds until the next fire (at most a minute). */
static int timeout_ms(const struct daemon *d, time_t now)
{
    double ms = 60000;
    for (size_t i = 0; i < d->n; i++)
        if (d->e[i].next_fire) {
            double wait = (double)(d->e[i].next_fire - now) * 1000.0 / wallclock_rate();
            if (wait < ms)
                ms = wait;
        }
    return ms < 0 ? 0 : (int)ms + 1;
}

static void drain(int fd)
{
    char b[64];
    while (read(fd, b, sizeof b) > 0)
        ;
}

int daemon_command(const struct daemon_cmd *cmd, atomic_int *stop)
{
    log_format = cmd->json ? LOG_JSON : LOG_TEXT;
    log_level = cmd->quiet ? LOG_QUIET : cmd->verbose ? LOG_VERBOSE : LOG_NORMAL;
    struct daemon d = {.cmd = cmd, .stop = stop, .pipe = {-1, -1}};
    if (run_open_manifest(cmd->manifest, &d.m))
        return EXIT_USAGE;
    if (open_store(&d) < 0) {
        manifest_free(d.m);
        return EXIT_STATE;
    }
    if (pipe2(d.pipe, O_CLOEXEC | O_NONBLOCK) < 0) {
        log_error("cannot create a pipe: %s", strerror(errno));
        state_close(d.st);
        manifest_free(d.m);
        return EXIT_INTERNAL;
    }
    stop_flag = stop;
    wake_fd = d.pipe[1];
    install(SIGTERM, on_stop);
    install(SIGINT, on_stop);
    install(SIGHUP, on_hup);

    time_t now = wallclock_now();
    adopt(&d, d.m, now);
    char t[40];
    fmt_time(now, t, sizeof t);
    log_note("daemon started at %s (%s): %zu streams, concurrency %u, state %s", t,
             d.m->timezone, d.m->nstreams, d.m->concurrency, d.m->state_path);
    catch_up(&d, now);
    while (!atomic_load(stop)) {
        if (reload_asked) {
            reload_asked = 0;
            reload(&d, wallclock_now());
        }
        reap(&d);
        now = wallclock_now();
        for (size_t i = 0; i < d.n; i++) {
            struct entry *e = &d.e[i];
            if (!e->next_fire || now < e->next_fire)
                continue;
            fmt_time(e->next_fire, t, sizeof t);
            log_set_context(e->s->name);
            if (e->running) {
                log_note("the fire at %s is skipped: the previous run is still going", t);
            } else {
                log_info("fire at %s", t);
                e->pending = 1;
            }
            log_set_context(NULL);
            plan_entry(e, now);
        }
        for (size_t i = 0; i < d.n && d.running < d.m->concurrency && !atomic_load(stop); i++)
            if (d.e[i].pending && !d.e[i].running)
                start(&d, &d.e[i], now);
        if (atomic_load(stop) || reload_asked)
            continue;
        struct pollfd pfd = {.fd = d.pipe[0], .events = POLLIN};
        int rc = poll(&pfd, 1, timeout_ms(&d, now));
        if (rc < 0 && errno != EINTR) {
            log_error("poll: %s", strerror(errno));
            break;
        }
        drain(d.pipe[0]);
    }
    if (d.running)
        log_note("stopping: waiting for %u running job%s to checkpoint and end", d.running,
                 d.running == 1 ? "" : "s");
    for (size_t i = 0; i < d.n; i++)
        if (d.e[i].running) {
            finish_run(&d, d.e[i].running);
            d.e[i].running = NULL;
        }
    for (size_t i = 0; i < d.norphans; i++)
        finish_run(&d, d.orphans[i]);
    free(d.orphans);
    free_retired(&d);
    free(d.retired);
    free(d.e);
    log_note("stopped");
    signal(SIGHUP, SIG_DFL);
    wake_fd = -1;
    close(d.pipe[0]);
    close(d.pipe[1]);
    state_close(d.st);
    manifest_free(d.m);
    return 0;
}
