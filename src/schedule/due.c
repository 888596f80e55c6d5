#include "schedule/due.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schedule/wallclock.h"

int due_facts_load(struct state *st, const char *stream, struct due_facts *f)
{
    memset(f, 0, sizeof *f);
    if (!st)
        return 0;
    struct state_stream *v = NULL;
    size_t n = 0;
    if (state_list_streams(st, stream, &v, &n) < 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (v[i].partition[0] || v[i].s.phase == PHASE_IDLE)
            continue;
        f->unfinished = 1;
        if (v[i].s.output && !(f->output = strdup(v[i].s.output))) {
            state_streams_free(v, n);
            return -1;
        }
    }
    state_streams_free(v, n);
    struct state_run *runs = NULL;
    if (state_list_runs(st, stream, NULL, NULL, 1, &runs, &n) < 0) {
        due_facts_clear(f);
        return -1;
    }
    if (n) {
        time_t t;
        if (runs[0].started_at && wallclock_parse_iso(runs[0].started_at, &t) == 0)
            f->last_start = t;
        snprintf(f->last_status, sizeof f->last_status, "%s", runs[0].status ? runs[0].status : "");
    }
    state_runs_free(runs, n);
    int busy = state_stream_busy(st, stream, "");
    if (busy < 0) {
        due_facts_clear(f);
        return -1;
    }
    f->busy = busy;
    return 0;
}

void due_facts_clear(struct due_facts *f)
{
    free(f->output);
    memset(f, 0, sizeof *f);
}

static void fmt_time(time_t t, char *out, size_t n)
{
    if (cron_format_time(t, out, n) < 0)
        snprintf(out, n, "@%lld", (long long)t);
}

enum due_verdict due_decide(const struct manifest_stream *s, const struct due_facts *f,
                            time_t now, int scheduled, char *why, size_t n)
{
    char a[40], b[40], c[40];
    int interrupted = f->unfinished && (strcmp(f->last_status, "interrupted") == 0 ||
                                        strcmp(f->last_status, "running") == 0);
    if (!s->enabled) {
        snprintf(why, n, "disabled (enabled: false)");
        return DUE_DISABLED;
    }
    if (f->busy) {
        snprintf(why, n, "skipped: another sluice process is running it");
        return DUE_BUSY;
    }
    const char *what = f->unfinished ? "resumes its unfinished job" : "starts a new job";
    if (!scheduled) {
        snprintf(why, n, "%s", what);
        return DUE_RUN;
    }
    if (!s->schedule) {
        snprintf(why, n, "has no schedule: runs only when named or without --due");
        return DUE_NO_SCHEDULE;
    }
    if (interrupted) {
        snprintf(why, n, "due: its last run was interrupted; resumes its unfinished job");
        return DUE_RUN;
    }
    if (f->last_start == 0) {
        snprintf(why, n, "due: it has never run; %s", what);
        return DUE_RUN;
    }
    time_t fire, next;
    fmt_time(f->last_start, a, sizeof a);
    if (cron_due(&s->cron, f->last_start, now, &fire)) {
        fmt_time(fire, b, sizeof b);
        snprintf(why, n, "due: the fire at %s came after its last run started (%s); %s", b, a,
                 what);
        return DUE_RUN;
    }
    if (cron_next(&s->cron, now, &next) == 0)
        fmt_time(next, c, sizeof c);
    else
        snprintf(c, sizeof c, "never");
    if (cron_prev(&s->cron, now, &fire) == 0) {
        fmt_time(fire, b, sizeof b);
        snprintf(why, n, "not due: its last run started %s, after the latest fire (%s); next fire %s",
                 a, b, c);
    } else {
        snprintf(why, n, "not due: no fire yet; next fire %s", c);
    }
    return DUE_NOT_DUE;
}
