/* partition.c - planning a partitioned job (partition.h). */
#include "job/partition.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/errbuf.h"
#include "common/exitcode.h"
#include "common/log.h"
#include "source/connect.h"
#include "source/scan.h"

/* Sample sizes: at least PLAN_SAMPLE_MIN rows and PLAN_SAMPLE_PER rows per
 * partition, at most PLAN_SAMPLE_MAX. A table of up to PLAN_EXACT_FACTOR
 * times that is read whole, which makes the split exact. With m sampled
 * rows per partition a range holds its share within about 1/sqrt(m) of it
 * (3% at 1000, 10% at 100, past 1,000 partitions); a block sample
 * (TABLESAMPLE SYSTEM), whose rows come in runs that share blocks, is
 * coarser but stays well inside twice the share. */
#define PLAN_SAMPLE_MIN 20000
#define PLAN_SAMPLE_PER 1000
#define PLAN_SAMPLE_MAX 1000000 /* 100 per partition at 10,000 partitions */
#define PLAN_EXACT_FACTOR 4

static int block_addressed(struct source *src, const struct plan *p)
{
    const struct sql_dialect *d = source_dialect(src);
    const struct table_desc *t = p->desc;
    return d->block_bound && p->key.n == 1 && t->implicit_key &&
           strcmp(p->key.v[0], t->implicit_key) == 0;
}

int partition_supported(struct source *src, const struct plan *p)
{
    return source_can_sample(src) || block_addressed(src, p);
}

/* Keys in key order: every `stride`-th row's, at most cap of them; when
 * full, every other one is dropped and the stride doubles, so the kept
 * keys stay evenly spread over the rows read. The array grows as keys
 * come (alloc entries so far). */
struct sampler {
    struct source *src;
    struct keytuple *v;
    size_t n, cap, alloc, stride;
    uint64_t seen;
};

static int take(const struct keytuple *key, void *ctx)
{
    struct sampler *s = ctx;
    uint64_t r = s->seen++;
    if (r % s->stride)
        return 0;
    if (s->n == s->cap) {
        for (size_t i = 0; i < s->n; i++) {
            if (i % 2)
                key_clear(&s->v[i]);
            else if (i)
                s->v[i / 2] = s->v[i];
        }
        for (size_t i = (s->n + 1) / 2; i < s->n; i++)
            memset(&s->v[i], 0, sizeof s->v[i]);
        s->n = (s->n + 1) / 2;
        s->stride *= 2;
        if (r % s->stride)
            return 0;
    }
    if (s->n == s->alloc) {
        size_t grow = s->alloc ? 2 * s->alloc : 1024;
        if (grow > s->cap)
            grow = s->cap;
        struct keytuple *v = realloc(s->v, grow * sizeof *v);
        if (!v)
            return source_fail(s->src, SOURCE_ENOMEM, "out of memory");
        memset(v + s->alloc, 0, (grow - s->alloc) * sizeof *v);
        s->v = v;
        s->alloc = grow;
    }
    if (key_copy(&s->v[s->n], key) < 0)
        return source_fail(s->src, SOURCE_ENOMEM, "out of memory");
    s->n++;
    return 0;
}

static void sampler_reset(struct sampler *s)
{
    for (size_t i = 0; i < s->n; i++)
        key_clear(&s->v[i]);
    s->n = 0;
    s->seen = 0;
    s->stride = 1;
}

static int sample(struct sampler *s, const struct plan *p, const struct job_range *range,
                  double percent)
{
    struct scan_spec spec = p->spec;
    spec.after = range && range->lower.n ? &range->lower : NULL;
    spec.after_inclusive = range && range->lower.n && range->lower_inclusive;
    spec.upto = range && range->upper.n ? &range->upper : NULL;
    spec.snapshot = 0;
    sampler_reset(s);
    return scan_sample(s->src, &spec, percent, take, s);
}

static int split_blocks(struct source *src, const struct plan *p, unsigned n,
                        struct partition_plan *out, char *err, size_t errlen)
{
    const struct sql_dialect *d = source_dialect(src);
    uint64_t blocks = p->desc->blocks > 0 ? (uint64_t)p->desc->blocks : 0;
    for (unsigned i = 1; i < n; i++) {
        uint64_t b = blocks * i / n;
        if (b == 0)
            continue; /* before every row */
        if (key_init(&out->bounds[i - 1], 1) < 0 ||
            d->block_bound(b, &out->bounds[i - 1].v[0]) < 0)
            return errbuf_fail(err, errlen, EXIT_INTERNAL, "out of memory");
    }
    log_info("%s: %u partitions of about %llu blocks each (the last open-ended)", p->stream, n,
             (unsigned long long)(blocks / n));
    return 0;
}

int partition_split(struct source *src, const struct plan *p, const struct job_range *range,
                    unsigned n, struct partition_plan *out, char *err, size_t errlen)
{
    partition_plan_clear(out);
    out->partitions = n;
    out->nbounds = n - 1;
    out->bounds = n > 1 ? calloc(n - 1, sizeof *out->bounds) : NULL;
    if (n > 1 && !out->bounds)
        return errbuf_fail(err, errlen, EXIT_INTERNAL, "out of memory");
    if (n == 1)
        return 0;
    if (block_addressed(src, p))
        return split_blocks(src, p, n, out, err, errlen);
    if (!source_can_sample(src))
        return errbuf_fail(err, errlen, EXIT_USAGE,
                           "--partitions: splitting a table is not supported by this database (%s)",
                           src->drv->name);
    size_t target = (size_t)n * PLAN_SAMPLE_PER;
    target = target < PLAN_SAMPLE_MIN ? PLAN_SAMPLE_MIN
             : target > PLAN_SAMPLE_MAX ? PLAN_SAMPLE_MAX : target;
    struct sampler s = {.src = src, .cap = PLAN_EXACT_FACTOR * target, .stride = 1};
    int64_t est = p->desc->row_estimate;
    double percent = est > (int64_t)s.cap ? 100.0 * (double)target / (double)est : 100.0;
    int rc = sample(&s, p, range, percent);
    /* Far fewer rows than the estimate promised: read every key instead. */
    if (rc == 0 && percent < 100 && s.n < target / 4) {
        log_info("%s: the sample held %zu rows; reading every key instead", p->stream, s.n);
        percent = 100;
        rc = sample(&s, p, range, percent);
    }
    int code = 0;
    if (rc < 0) {
        code = errbuf_fail(err, errlen, source_exit_code(rc), "%s", source_error(src));
    } else {
        for (unsigned i = 1; i < n && !code; i++) {
            size_t rank = (size_t)((uint64_t)i * s.n / n);
            if (rank && key_copy(&out->bounds[i - 1], &s.v[rank - 1]) < 0)
                code = errbuf_fail(err, errlen, EXIT_INTERNAL, "out of memory");
        }
        if (percent < 100)
            log_info("%s: %u partitions cut at a %.3g%% sample (%zu keys)", p->stream, n,
                     percent, s.n);
        else
            log_info("%s: %u partitions cut at the keys of %llu rows (every %zu%s row)",
                     p->stream, n, (unsigned long long)s.seen, s.stride,
                     s.stride == 1 ? "st" : "th");
    }
    sampler_reset(&s);
    free(s.v);
    return code;
}

void partition_range(const struct partition_plan *pp, const struct job_range *range,
                     int all_empty, unsigned i, struct part_range *out)
{
    memset(out, 0, sizeof *out);
    unsigned n = (unsigned)pp->partitions;
    const struct keytuple *lo = i ? &pp->bounds[i - 1] : NULL;
    const struct keytuple *hi = i + 1 < n ? &pp->bounds[i] : NULL;
    if (all_empty || (hi && hi->n == 0)) {
        out->empty = 1;
        return;
    }
    if (lo && lo->n) {
        out->after = lo;
    } else if (range && range->lower.n) {
        out->after = &range->lower;
        out->after_inclusive = range->lower_inclusive;
    }
    if (hi)
        out->upto = hi;
    else if (range && range->upper.n)
        out->upto = &range->upper;
}

char *partition_detail(const char *id, unsigned shards, unsigned shard, const char *snapshot)
{
    json_t *j = json_pack("{sssisiss}", "plan", id, "shards", (int)shards, "shard", (int)shard,
                          "snapshot", snapshot);
    char *text = j ? json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(j);
    return text;
}

int partition_detail_parse(const char *text, char *id, size_t idlen, unsigned *shards,
                           unsigned *shard, const char **snapshot)
{
    json_error_t je;
    json_t *j = text ? json_loads(text, 0, &je) : NULL;
    const char *p = json_string_value(json_object_get(j, "plan"));
    const char *s = json_string_value(json_object_get(j, "snapshot"));
    int rc = -1;
    if (p && strlen(p) < idlen && json_is_integer(json_object_get(j, "shards"))) {
        snprintf(id, idlen, "%s", p);
        *shards = (unsigned)json_integer_value(json_object_get(j, "shards"));
        *shard = (unsigned)json_integer_value(json_object_get(j, "shard"));
        *snapshot = s && strcmp(s, "one") == 0      ? "one"
                    : s && strcmp(s, "broken") == 0 ? "broken"
                                                    : "none";
        rc = 0;
    }
    json_decref(j);
    return rc;
}
