#include "job/spec.h"
#include "common/errbuf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void stream_spec_init(struct stream_spec *s)
{
    memset(s, 0, sizeof *s);
    s->paging = PAGING_KEYSET;
    s->page_size = SPEC_PAGE_SIZE_DEFAULT;
    s->page_bytes = SPEC_PAGE_BYTES_DEFAULT;
    s->checkpoint_every = SPEC_CHECKPOINT_DEFAULT;
    s->mode = MODE_FULL;
    s->compress = SPEC_COMPRESS_AUTO;
    s->retry_wait_ms = SPEC_RETRY_WAIT_DEFAULT_MS;
}

void stream_spec_free(struct stream_spec *s)
{
    free(s->name);
    free(s->source);
    free(s->table);
    strlist_free(&s->columns);
    strlist_free(&s->key);
    free(s->where);
    strlist_free(&s->cursor);
    free(s->start);
    free(s->end);
    free(s->output);
    free(s->state_path);
    memset(s, 0, sizeof *s);
}

int spec_duration_parse(const char *text, struct spec_duration *out, char *err,
                        size_t errlen)
{
    struct duration d;
    char why[160];
    if (duration_parse(text, &d, why, sizeof why) < 0)
        return errbuf_fail(err, errlen, -1, "%s", why);
    if (d.is_count ? d.count == 0 : (d.months == 0 && d.days == 0 && d.usec == 0))
        return errbuf_fail(err, errlen, -1, "must be more than zero, got '%s'", text);
    out->set = 1;
    out->d = d;
    snprintf(out->text, sizeof out->text, "%s", text);
    return 0;
}

int spec_column_list(const char *text, struct strlist *l, char *err, size_t errlen)
{
    const char *p = text;
    for (;;) {
        const char *comma = strchr(p, ',');
        size_t n = comma ? (size_t)(comma - p) : strlen(p);
        if (n == 0)
            return errbuf_fail(err, errlen, -1, "empty column name in '%s'", text);
        char *name = strndup(p, n);
        int rc = name ? strlist_add(l, name) : -1;
        free(name);
        if (rc < 0)
            return errbuf_fail(err, errlen, -1, "out of memory");
        if (!comma)
            return 0;
        p = comma + 1;
    }
}

static int twice(const struct strlist *l, const char *field, char *err, size_t errlen)
{
    for (size_t i = 0; i < l->n; i++)
        for (size_t j = 0; j < i; j++)
            if (strcmp(l->v[i], l->v[j]) == 0)
                return errbuf_fail(err, errlen, -1, "%s: column '%s' named twice", field, l->v[i]);
    return 0;
}

/* names[f], or the command line's name of a field added after names[]
 * was written. */
static const char *field(const char *const *names, enum spec_field f)
{
    static const char *const cli[SPEC_FIELD_COUNT] = {
        [SPEC_PARTITIONS] = "--partitions", [SPEC_PARALLEL] = "--parallel",
        [SPEC_SHARD] = "--shard", [SPEC_KEEP_PARTS] = "--keep-parts", [SPEC_OUTPUT] = "-o",
        [SPEC_SNAPSHOT] = "--snapshot", [SPEC_STEP] = "--step",
        [SPEC_SNAPSHOT_LOCK] = "--snapshot-lock",
    };
    return names[f] ? names[f] : cli[f] ? cli[f] : "option";
}

/* The rules of a partitioned job. */
static int check_partitions(const struct stream_spec *s, const char *const *names, char *err,
                            size_t errlen)
{
    const char *parts = field(names, SPEC_PARTITIONS);
    if (s->snapshot_lock && !s->snapshot)
        return errbuf_fail(err, errlen, -1, "%s needs %s", field(names, SPEC_SNAPSHOT_LOCK),
                           field(names, SPEC_SNAPSHOT));
    if (!s->partitions) {
        const enum spec_field needs[] = {SPEC_PARALLEL, SPEC_SHARD, SPEC_KEEP_PARTS,
                                         SPEC_SNAPSHOT_LOCK};
        const int given[] = {s->parallel > 0, s->shards > 0, s->keep_parts, s->snapshot_lock};
        for (size_t i = 0; i < 4; i++)
            if (given[i])
                return errbuf_fail(err, errlen, -1, "%s needs %s N", field(names, needs[i]), parts);
        return 0;
    }
    if (!s->output || strcmp(s->output, "-") == 0)
        return errbuf_fail(err, errlen, -1, "%s needs %s FILE: each partition writes FILE.part-NNNN, joined into FILE",
                           parts, field(names, SPEC_OUTPUT));
    if (s->parallel > s->partitions)
        return errbuf_fail(err, errlen, -1, "%s %u is more than %s %u: at most one worker per partition",
                           field(names, SPEC_PARALLEL), s->parallel, parts, s->partitions);
    if (s->shards && s->shard >= s->shards)
        return errbuf_fail(err, errlen, -1, "%s %u/%u: there is no shard %u; the shards of %u are numbered 0 to %u",
                           field(names, SPEC_SHARD), s->shard, s->shards, s->shard, s->shards,
                           s->shards - 1);
    if (s->shards > s->partitions)
        return errbuf_fail(err, errlen, -1, "%s %u/%u: %u shards need at least %u partitions (%s %u)",
                           field(names, SPEC_SHARD), s->shard, s->shards, s->shards, s->shards, parts,
                           s->partitions);
    if (s->shards > 1 && s->keep_parts)
        return errbuf_fail(err, errlen, -1, "%s with %s: a shard never joins; pass %s to `sluice join` instead",
                           field(names, SPEC_KEEP_PARTS), field(names, SPEC_SHARD),
                           field(names, SPEC_KEEP_PARTS));
    if (s->shards > 1 && s->snapshot && s->partitions > 1)
        return errbuf_fail(err, errlen, -1, "%s with %s: shards run as separate processes and cannot share one snapshot",
                           field(names, SPEC_SNAPSHOT), field(names, SPEC_SHARD));
    if (s->step.set)
        return errbuf_fail(err, errlen, -1, "%s with %s: each partition is a range of its own; leave out %s",
                           field(names, SPEC_STEP), parts, field(names, SPEC_STEP));
    return 0;
}

int stream_spec_check(const struct stream_spec *s, const char *const names[SPEC_FIELD_COUNT],
                      char *err, size_t errlen)
{
    if (check_partitions(s, names, err, errlen) < 0)
        return -1;
    static const enum spec_field incremental_only[] = {
        SPEC_CURSOR, SPEC_START, SPEC_END, SPEC_LOOKBACK, SPEC_STEP, SPEC_GRANULARITY,
    };
    const int given[] = {s->cursor.n > 0, s->start != NULL, s->end != NULL,
                         s->lookback.set, s->step.set, s->granularity.set};
    if (twice(&s->key, names[SPEC_KEY], err, errlen) < 0 ||
        twice(&s->columns, names[SPEC_COLUMNS], err, errlen) < 0 ||
        twice(&s->cursor, names[SPEC_CURSOR], err, errlen) < 0)
        return -1;
    if (s->mode == MODE_FULL) {
        for (size_t i = 0; i < sizeof given / sizeof *given; i++)
            if (given[i])
                return errbuf_fail(err, errlen, -1, "%s needs %s incremental", names[incremental_only[i]],
                                   names[SPEC_MODE]);
        return 0;
    }
    if (!s->cursor.n)
        return errbuf_fail(err, errlen, -1, "%s incremental needs %s COL[,COL]", names[SPEC_MODE],
                           names[SPEC_CURSOR]);
    if (s->paging == PAGING_OFFSET)
        return errbuf_fail(err, errlen, -1, "%s incremental pages by the cursor: use %s keyset or cursor, not offset",
                           names[SPEC_MODE], names[SPEC_PAGING]);
    if (s->granularity.set && !s->step.set)
        return errbuf_fail(err, errlen, -1, "%s needs %s", names[SPEC_GRANULARITY], names[SPEC_STEP]);
    return 0;
}
