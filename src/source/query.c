#include "source/query.h"

#include <stdlib.h>
#include <string.h>

#define QUERY_SQL_MAX ((size_t)64 << 20)

void query_init(struct query *q, enum query_kind kind, const struct table_desc *t)
{
    memset(q, 0, sizeof *q);
    q->kind = kind;
    q->table = t;
    buf_init(&q->tail, QUERY_SQL_MAX);
}

void query_free(struct query *q)
{
    buf_free(&q->tail);
    free(q->slots);
    q->slots = NULL;
    q->nslots = 0;
}

int query_slot(struct query *q, size_t value, const char *column)
{
    struct sql_slot *s = realloc(q->slots, (q->nslots + 1) * sizeof *s);
    if (!s) {
        q->tail.oom = 1;
        return -1;
    }
    q->slots = s;
    s[q->nslots++] = (struct sql_slot){.at = q->tail.len, .value = value, .column = column};
    if (value >= q->nvalues)
        q->nvalues = value + 1;
    return 0;
}

int query_render(const struct query *q, struct buf *out,
                 void (*put)(struct buf *out, const struct sql_slot *slot, void *ctx),
                 void *ctx)
{
    size_t from = 0;
    for (size_t i = 0; i < q->nslots; i++) {
        if (q->slots[i].at > from)
            buf_append(out, q->tail.data + from, q->slots[i].at - from);
        put(out, &q->slots[i], ctx);
        from = q->slots[i].at;
    }
    if (q->tail.len > from)
        buf_append(out, q->tail.data + from, q->tail.len - from);
    return buf_cstr(out) && !q->tail.oom ? 0 : -1;
}

size_t query_next_rows(size_t asked, size_t max, size_t budget, size_t rows, size_t bytes)
{
    if (!budget)
        return max;
    double fit = bytes ? (double)budget * (double)rows / (double)bytes : (double)max;
    double grow = (double)asked * 4;
    double n = fit < grow ? fit : grow;
    if (n > (double)max)
        n = (double)max;
    return n < 1 ? 1 : (size_t)n;
}
