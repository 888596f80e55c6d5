#include "incremental.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cursorval.h"
#include "log.h"
#include "extract.h"

/* A user's --start or --end as a value of the first cursor column: integer
 * columns bind integers; everything else goes as text in the database's
 * own syntax, which the database checks when the query runs. */
static int user_value(const struct plan *p, const char *opt, const char *text,
                      struct keytuple *out)
{
    if (key_init(out, 1) < 0) {
        log_error("out of memory");
        return EXIT_INTERNAL;
    }
    if (strcmp(p->cursor_type, "integer") == 0) {
        char *end;
        errno = 0;
        long long v = strtoll(text, &end, 10);
        if (errno || end == text || *end) {
            log_error("%s: cursor column '%s' is an integer column; '%s' is not a whole number in range",
                      opt, p->key.v[0], text);
            return EXIT_USAGE;
        }
        return key_set_int(out, 0, v) < 0 ? EXIT_INTERNAL : 0;
    }
    return key_set_text(out, 0, text, strlen(text)) < 0 ? EXIT_INTERNAL : 0;
}

/* Parses a duration option already checked by the option parser. */
static void duration_of(const char *text, struct duration *d)
{
    char why[160];
    if (duration_parse(text, d, why, sizeof why) < 0)
        memset(d, 0, sizeof *d);
}

static int value_of(const char *opt, const struct keyval *k, struct cursor_value *cv)
{
    char why[200];
    if (cv_parse(k, cv, why, sizeof why) < 0) {
        log_error("%s needs an integer, date or timestamp cursor: %s", opt, why);
        return EXIT_USAGE;
    }
    return 0;
}

/* lower := the first cursor value of hw moved back by --lookback, inclusive. */
static int lookback_lower(const struct extract_opts *o, const struct keytuple *hw,
                          struct job_range *range)
{
    struct cursor_value cv;
    struct duration d;
    char why[200];
    int code = value_of("--lookback", &hw->v[0], &cv);
    if (code)
        return code;
    duration_of(o->lookback, &d);
    if (cv_add(&cv, &d, -1, why, sizeof why) < 0) {
        log_error("--lookback %s: %s", o->lookback, why);
        return EXIT_USAGE;
    }
    if (key_init(&range->lower, 1) < 0 || cv_to_key(&cv, &range->lower, 0) < 0) {
        log_error("out of memory");
        return EXIT_INTERNAL;
    }
    range->lower_inclusive = 1;
    return 0;
}

/* Lowers range->upper to just before the oldest open transaction, when
 * there is one the server shows: such a transaction may still commit rows
 * whose timestamps (taken when it started) lie at or below the bound. Sets
 * *empty when the held-back bound falls below the lower one. */
static int hold_back(struct source *src, const struct plan *p,
                     struct job_range *range, int *empty)
{
    struct keytuple oldest = {0};
    int code = 0, rc = source_oldest_transaction(src, &oldest);
    if (rc < 0) {
        log_error("%s", source_error(src));
        code = extract_source_exit(rc);
        goto out;
    }
    if (oldest.n == 0)
        goto out;
    struct cursor_value t, up, lo;
    char why[200];
    if (cv_parse(&oldest.v[0], &t, why, sizeof why) < 0 ||
        cv_parse(&range->upper.v[0], &up, why, sizeof why) < 0) {
        log_warn("cannot compare the oldest open transaction with the cursor (%s); the upper bound is not held back",
                 why);
        goto out;
    }
    /* One microsecond before it began, written in the shape of the
     * cursor's own values (zone and all). */
    struct duration us = {.usec = 1};
    if (cv_add(&t, &us, -1, why, sizeof why) < 0)
        goto out;
    struct cursor_value held = up;
    held.type = CV_TIMESTAMP;
    held.v = t.v + (up.zone == 2 ? (int64_t)up.offset_min * 60 * 1000000 : 0);
    if (cv_cmp(&held, &up) >= 0)
        goto out;
    key_clear(&range->upper);
    if (key_init(&range->upper, 1) < 0 || cv_to_key(&held, &range->upper, 0) < 0) {
        log_error("out of memory");
        code = EXIT_INTERNAL;
        goto out;
    }
    log_info("%s: upper bound held back to %s: a transaction open since then may still commit rows below the cursor's maximum",
             p->stream, range->upper.v[0].s);
    if (range->lower.n && cv_parse(&range->lower.v[0], &lo, why, sizeof why) == 0 &&
        cv_cmp(&held, &lo) < 0) {
        log_info("%s: nothing is safe to read yet (an open transaction began before the high-water mark)",
                 p->stream);
        *empty = 1;
    }
out:
    key_clear(&oldest);
    return code;
}

int incr_new_range(struct source *src, const struct extract_opts *o,
                   const struct plan *p, const struct keytuple *high_water,
                   struct job_range *range, int *empty)
{
    int code = 0;
    *empty = 0;
    if (high_water->n) {
        if (o->lookback)
            code = lookback_lower(o, high_water, range);
        else if (key_copy(&range->lower, high_water) < 0)
            code = EXIT_INTERNAL;
        if (o->start)
            log_info("%s: --start ignored: the stream continues from its high-water mark",
                     p->stream);
    } else if (o->start) {
        code = user_value(p, "--start", o->start, &range->lower);
        range->lower_inclusive = 1;
    }
    if (code)
        return code;

    struct scan_spec spec = p->spec;
    spec.after = range->lower.n ? &range->lower : NULL;
    spec.after_inclusive = range->lower_inclusive;
    spec.upto = NULL;
    struct keytuple min = {0}, max = {0};
    uint64_t nulls = 0;
    int rc = source_cursor_range(src, &spec, p->ncursor, &min, &max, &nulls);
    if (rc < 0) {
        log_error("%s", source_error(src));
        code = extract_source_exit(rc);
        goto out;
    }
    if (nulls) {
        char names[512] = ""; /* the cursor columns lead the plan's key */
        for (size_t i = 0, len = 0; i < p->ncursor && len < sizeof names; i++)
            len += (size_t)snprintf(names + len, sizeof names - len, "%s%s", i ? ", " : "",
                                    p->key.v[i]);
        log_error("%" PRIu64 " rows of %s have a NULL in cursor column%s %s and could never be read incrementally; fill them, or leave them out knowingly with --where",
                  nulls, p->desc->name, p->ncursor > 1 ? "s" : "", names);
        code = EXIT_SOURCE;
        goto out;
    }
    if (o->end) {
        code = user_value(p, "--end", o->end, &range->upper);
        goto out;
    }
    if (max.n == 0) {
        *empty = 1; /* no row beyond the high-water mark */
        goto out;
    }
    range->upper = max;
    max = (struct keytuple){0};
    if (strcmp(p->cursor_type, "timestamptz") == 0)
        code = hold_back(src, p, range, empty);
out:
    if (*empty)
        key_clear(&range->upper); /* an empty job keeps the old high-water mark */
    key_clear(&min);
    key_clear(&max);
    return code;
}

int incr_next_window(struct source *src, const struct extract_opts *o,
                     const struct plan *p, const struct job_range *range,
                     const struct keytuple *from, struct keytuple *wend, int *last)
{
    struct keytuple min = {0};
    int code = 0;
    *last = 1;
    if (!o->step || range->upper.n == 0)
        return 0;
    if (from->n == 0) {
        /* The first window starts at the least cursor value in range. */
        struct scan_spec spec = p->spec;
        spec.after = range->lower.n ? &range->lower : NULL;
        spec.after_inclusive = range->lower_inclusive;
        struct keytuple max = {0};
        uint64_t nulls;
        int rc = source_cursor_range(src, &spec, p->ncursor, &min, &max, &nulls);
        key_clear(&max);
        if (rc < 0) {
            log_error("%s", source_error(src));
            code = extract_source_exit(rc);
            goto out;
        }
        if (min.n == 0)
            goto out;
        from = &min;
    }
    struct cursor_value pos, end, upper;
    struct duration step, gran;
    char why[200];
    if ((code = value_of("--step", &from->v[0], &pos)) ||
        (code = value_of("--step", &range->upper.v[0], &upper)))
        goto out;
    duration_of(o->step, &step);
    end = pos;
    if (cv_add(&end, &step, 1, why, sizeof why) < 0) {
        log_error("--step %s: %s", o->step, why);
        code = EXIT_USAGE;
        goto out;
    }
    if (o->granularity) {
        struct cursor_value aligned = end;
        duration_of(o->granularity, &gran);
        if (cv_floor(&aligned, &gran, why, sizeof why) < 0) {
            log_error("--granularity %s: %s", o->granularity, why);
            code = EXIT_USAGE;
            goto out;
        }
        if (cv_cmp(&aligned, &pos) > 0)
            end = aligned;
    }
    if (cv_cmp(&end, &upper) >= 0)
        goto out; /* the last window ends at the job's own bound */
    key_clear(wend);
    if (key_init(wend, 1) < 0 || cv_to_key(&end, wend, 0) < 0) {
        log_error("out of memory");
        code = EXIT_INTERNAL;
        goto out;
    }
    *last = 0;
out:
    key_clear(&min);
    return code;
}
