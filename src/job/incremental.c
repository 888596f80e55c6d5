/* incremental.c - the bounds of incremental jobs (incremental.h). */
#include "job/incremental.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/errbuf.h"
#include "common/exitcode.h"
#include "common/log.h"
#include "job/cursorval.h"
#include "source/connect.h"
#include "source/scan.h"

static int source_failed(struct source *src, int rc, char *err, size_t errlen)
{
    return errbuf_fail(err, errlen, source_exit_code(rc), "%s", source_error(src));
}

/* A user's --start or --end as a value of the first cursor column (checked
 * by the plan): integer columns bind integers; everything else goes as
 * text in the database's own syntax. */
static int user_value(const struct plan *p, const char *text, struct keytuple *out,
                      char *err, size_t errlen)
{
    if (key_init(out, 1) < 0)
        return errbuf_fail(err, errlen, EXIT_INTERNAL, "out of memory");
    int rc = strcmp(p->cursor_type, "integer") == 0
                 ? key_set_int(out, 0, strtoll(text, NULL, 10))
                 : key_set_text(out, 0, text, strlen(text));
    return rc < 0 ? errbuf_fail(err, errlen, EXIT_INTERNAL, "out of memory") : 0;
}

static int value_of(const char *opt, const struct keyval *k, struct cursor_value *cv,
                    char *err, size_t errlen)
{
    char why[200];
    if (cv_parse(k, cv, why, sizeof why) < 0)
        return errbuf_fail(err, errlen, EXIT_USAGE, "%s needs an integer, date or timestamp cursor: %s",
                           opt, why);
    return 0;
}

/* lower := the first cursor value of hw moved back by --lookback, inclusive. */
static int lookback_lower(const struct stream_spec *o, const struct keytuple *hw,
                          struct job_range *range, char *err, size_t errlen)
{
    struct cursor_value cv;
    char why[200];
    int code = value_of("--lookback", &hw->v[0], &cv, err, errlen);
    if (code)
        return code;
    if (cv_add(&cv, &o->lookback.d, -1, why, sizeof why) < 0)
        return errbuf_fail(err, errlen, EXIT_USAGE, "--lookback %s: %s", o->lookback.text, why);
    if (key_init(&range->lower, 1) < 0 || cv_to_key(&cv, &range->lower, 0) < 0)
        return errbuf_fail(err, errlen, EXIT_INTERNAL, "out of memory");
    range->lower_inclusive = 1;
    return 0;
}

/* Lowers range->upper to just before the oldest open transaction, when
 * there is one the server shows: such a transaction may still commit rows
 * whose timestamps (taken when it started) lie at or below the bound. Sets
 * *empty when the held-back bound falls below the lower one. */
static int hold_back(struct source *src, const struct plan *p, struct job_range *range,
                     int *empty, char *err, size_t errlen)
{
    if (!source_has_oldest_transaction(src))
        return 0;
    struct keytuple oldest = {0};
    int code = 0, rc = source_oldest_transaction(src, &oldest);
    if (rc < 0) {
        code = source_failed(src, rc, err, errlen);
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
        code = errbuf_fail(err, errlen, EXIT_INTERNAL, "out of memory");
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

/* "a, b" from the cursor columns, for messages. */
static void cursor_names(const struct plan *p, char *out, size_t n)
{
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < p->ncursor && used < n; i++) {
        int w = snprintf(out + used, n - used, "%s%s", i ? ", " : "", p->key.v[i]);
        if (w < 0)
            break;
        used += (size_t)w;
    }
}

int incr_new_range(struct source *src, const struct stream_spec *o,
                   const struct plan *p, const struct keytuple *high_water,
                   struct job_range *range, int *empty, char *err, size_t errlen)
{
    int code = 0;
    *empty = 0;
    if (high_water->n) {
        if (o->lookback.set)
            code = lookback_lower(o, high_water, range, err, errlen);
        else if (key_copy(&range->lower, high_water) < 0)
            code = errbuf_fail(err, errlen, EXIT_INTERNAL, "out of memory");
        if (o->start)
            log_info("%s: --start ignored: the stream continues from its high-water mark",
                     p->stream);
    } else if (o->start) {
        code = user_value(p, o->start, &range->lower, err, errlen);
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
    int rc = scan_cursor_range(src, &spec, p->ncursor, &min, &max, &nulls);
    if (rc < 0) {
        code = source_failed(src, rc, err, errlen);
        goto out;
    }
    if (nulls) {
        char cols[512];
        cursor_names(p, cols, sizeof cols);
        code = errbuf_fail(err, errlen, EXIT_SOURCE,
                           "%" PRIu64 " rows of %s have a NULL in cursor column%s %s and could never be read incrementally; fill them, or leave them out knowingly with --where",
                           nulls, p->desc->name, p->ncursor > 1 ? "s" : "", cols);
        goto out;
    }
    if (o->end) {
        code = user_value(p, o->end, &range->upper, err, errlen);
        goto out;
    }
    if (max.n == 0) {
        *empty = 1; /* no row beyond the high-water mark */
        goto out;
    }
    range->upper = max;
    max = (struct keytuple){0};
    if (strcmp(p->cursor_type, "timestamptz") == 0)
        code = hold_back(src, p, range, empty, err, errlen);
out:
    if (*empty)
        key_clear(&range->upper); /* an empty job keeps the old high-water mark */
    key_clear(&min);
    key_clear(&max);
    return code;
}

int incr_next_window(struct source *src, const struct stream_spec *o,
                     const struct plan *p, const struct job_range *range,
                     const struct keytuple *from, struct keytuple *wend, int *last,
                     char *err, size_t errlen)
{
    struct keytuple min = {0};
    int code = 0;
    *last = 1;
    if (!o->step.set || range->upper.n == 0)
        return 0;
    if (from->n == 0) {
        /* The first window starts at the least cursor value in range. */
        struct scan_spec spec = p->spec;
        spec.after = range->lower.n ? &range->lower : NULL;
        spec.after_inclusive = range->lower_inclusive;
        spec.upto = NULL;
        struct keytuple max = {0};
        uint64_t nulls;
        int rc = scan_cursor_range(src, &spec, p->ncursor, &min, &max, &nulls);
        key_clear(&max);
        if (rc < 0) {
            code = source_failed(src, rc, err, errlen);
            goto out;
        }
        if (min.n == 0)
            goto out;
        from = &min;
    }
    struct cursor_value pos, end, upper;
    char why[200];
    if ((code = value_of("--step", &from->v[0], &pos, err, errlen)) ||
        (code = value_of("--step", &range->upper.v[0], &upper, err, errlen)))
        goto out;
    end = pos;
    if (cv_add(&end, &o->step.d, 1, why, sizeof why) < 0) {
        code = errbuf_fail(err, errlen, EXIT_USAGE, "--step %s: %s", o->step.text, why);
        goto out;
    }
    if (o->granularity.set) {
        struct cursor_value aligned = end;
        if (cv_floor(&aligned, &o->granularity.d, why, sizeof why) < 0) {
            code = errbuf_fail(err, errlen, EXIT_USAGE, "--granularity %s: %s", o->granularity.text, why);
            goto out;
        }
        if (cv_cmp(&aligned, &pos) > 0)
            end = aligned;
    }
    if (cv_cmp(&end, &upper) >= 0)
        goto out; /* the last window ends at the job's own bound */
    key_clear(wend);
    if (key_init(wend, 1) < 0 || cv_to_key(&end, wend, 0) < 0) {
        code = errbuf_fail(err, errlen, EXIT_INTERNAL, "out of memory");
        goto out;
    }
    *last = 0;
out:
    key_clear(&min);
    return code;
}
