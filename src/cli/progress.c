#include "cli/progress.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void draw(struct progress *p, double t, uint64_t rows, uint64_t bytes);

void progress_init(struct progress *p, enum progress_mode mode, int quiet,
                   int64_t estimate, uint64_t base_rows, const char *label)
{
    memset(p, 0, sizeof *p);
    p->tty = isatty(STDERR_FILENO);
    p->enabled = !quiet && (mode == PROGRESS_ALWAYS || (mode == PROGRESS_AUTO && p->tty));
    p->estimate = estimate;
    p->base_rows = base_rows;
    p->start = p->last = now();
    snprintf(p->label, sizeof p->label, "%s", label);
    /* The first frame at once, so even a run shorter than one interval
     * shows that it started (and what the job had done before). */
    if (p->enabled)
        draw(p, p->start, base_rows, 0);
}

void progress_update(uint64_t rows, uint64_t bytes, struct progress *p)
{
    if (!p->enabled)
        return;
    double t = now();
    if (t - p->last < (p->tty ? 0.25 : 5.0))
        return;
    draw(p, t, rows, bytes);
}

static void draw(struct progress *p, double t, uint64_t rows, uint64_t bytes)
{
    p->last = t;
    double elapsed = t - p->start;
    double rate = elapsed > 0 ? (double)(rows - p->base_rows) / elapsed : 0;
    char tail[64] = "";
    if (p->estimate > 0 && rows <= (uint64_t)p->estimate && rate > 0) {
        double left = (double)((uint64_t)p->estimate - rows) / rate;
        unsigned s = (unsigned)left;
        snprintf(tail, sizeof tail, "  %3.0f%%  ETA %u:%02u:%02u",
                 100.0 * (double)rows / (double)p->estimate, s / 3600, s / 60 % 60, s % 60);
    }
    fprintf(stderr, "%ssluice: %s  %llu rows  %.0f rows/s  %.1f MB%s%s",
            p->tty ? "\r" : "", p->label, (unsigned long long)rows, rate,
            (double)bytes / 1e6, tail, p->tty ? "\033[K" : "\n");
    p->drawn = p->tty;
}

void progress_clear(struct progress *p)
{
    if (p->drawn)
        fputs("\r\033[K", stderr);
    p->drawn = 0;
}
