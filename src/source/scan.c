/* scan.c - the paging rules of scan.h: statements, pages, bounds, the
 * forward guard and the page-size budget, for every driver. */
#include "source/scan.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SCAN_FIRST_LIMIT 256 /* rows of the first page while widths are unknown */
#define SCAN_GROWTH 4        /* a page is at most this many times the last one */
#define SCAN_BLOCKS_MAX ((uint64_t)1 << 24)

/* What a statement of the scan looks like; the values of one execution
 * are laid out in this order: lower bound, block-range end, upper bound,
 * LIMIT, OFFSET. */
struct shape {
    enum query_kind kind;
    const char *const *columns;
    size_t ncolumns;
    const char *const *key;  /* ORDER BY and row_key */
    size_t nkey;
    size_t nlower;           /* values of the lower bound, 0: none */
    int lower_inclusive;
    int chunk;               /* key < value: the end of a block range */
    size_t nupper;           /* values of the upper bound, 0: none */
    int nulls;               /* count the rows with a NULL cursor instead */
    int desc;                /* ORDER BY ... DESC */
    int one;                 /* LIMIT 1 */
    int limit, offset;       /* LIMIT ? [OFFSET ?] */
    int stream;
    double sample;           /* 0 < percent < 100: a random sample of the rows */
};

struct page_query {
    struct shape shape;
    struct query q;
    struct stmt *st;
};

/* A page: which statement, and what it binds. */
struct page {
    struct page_query *pq;
    struct keytuple after; /* the lower bound's values (pq->shape.nlower) */
    uint64_t hi;           /* block range: rows before block hi */
    uint64_t offset;
    size_t limit;
    struct result *res;    /* executed; NULL: not yet */
};

struct scan {
    struct source *src;
    const struct scan_spec *spec;
    const struct sql_dialect *d;
    struct page_query first;  /* the first page: spec->after's shape */
    struct page_query next;   /* after a full key (and the ctid tail) */
    struct page_query chunk;  /* a block range (block-addressed keys) */
    int chunked;              /* the scan reads block ranges */
    uint64_t nb, blocks;      /* blocks per range; the table's size */
    struct page cur, next_page;
    int has_next;             /* next_page is decided */
    int decided;              /* cur's successor was decided (has_next says if any) */
    struct keytuple last;     /* key of cur's last row (full pages) */
    struct keytuple tmp;
    struct keyval hi_value;   /* the block-range end, bound */
    size_t rows, bytes;       /* of cur so far */
    size_t limit;             /* LIMIT of the next page */
    int in_read, done, err;
    uint64_t warnings;
    struct keyval *values;
    size_t maxvalues;
    char name[300];
};

/* ---- statements --------------------------------------------------------- */

static void quote_col(const struct scan *s, struct query *q, const char *name)
{
    s->d->column_ref(&q->tail, s->spec->table, name);
}

static void glue(struct query *q, int *first)
{
    buf_puts(&q->tail, *first ? " WHERE " : " AND ");
    *first = 0;
}

static int key_nullable(const struct table_desc *t, const char *name)
{
    long c = table_desc_column(t, name);
    return c >= 0 && t->cols[c].nullable;
}

/* key[0..n) OP (values from..), as a row or, for dialects whose optimizer
 * scans a whole index for a row, in the expanded form
 *   (k1 >= a AND (k1 > a OR (k1 = a AND k2 > b)))
 * where `last` is the operator of the final column and `strict` that of
 * the others (> and >= for lower bounds, < and <= for upper bounds). */
static void append_bound(const struct scan *s, struct query *q, const char *const *key,
                         size_t n, size_t from, const char *last, const char *strict)
{
    struct buf *b = &q->tail;
    if (n == 1) {
        quote_col(s, q, key[0]);
        buf_printf(b, " %s ", last);
        query_slot(q, from, key[0]);
        return;
    }
    if (s->d->row_values) {
        buf_putc(b, '(');
        for (size_t i = 0; i < n; i++) {
            buf_puts(b, i ? ", " : "");
            quote_col(s, q, key[i]);
        }
        buf_printf(b, ") %s (", last);
        for (size_t i = 0; i < n; i++) {
            buf_puts(b, i ? ", " : "");
            query_slot(q, from + i, key[i]);
        }
        buf_putc(b, ')');
        return;
    }
    buf_putc(b, '(');
    quote_col(s, q, key[0]);
    buf_printf(b, " %s= ", strict);
    query_slot(q, from, key[0]);
    buf_puts(b, " AND (");
    for (size_t i = 0; i < n; i++) {
        buf_puts(b, i ? " OR (" : "(");
        for (size_t j = 0; j < i; j++) {
            quote_col(s, q, key[j]);
            buf_puts(b, " = ");
            query_slot(q, from + j, key[j]);
            buf_puts(b, " AND ");
        }
        quote_col(s, q, key[i]);
        buf_printf(b, " %s ", i + 1 == n ? last : strict);
        query_slot(q, from + i, key[i]);
        buf_putc(b, ')');
    }
    buf_puts(b, "))");
}

/* The user's condition on lines of its own inside parentheses: a trailing
 * `--` comment ends at the newline, so it cannot swallow what follows. */
static void append_where(const struct scan *s, struct query *q, int *first)
{
    const char *w = s->spec->where;
    if (!w || !*w)
        return;
    glue(q, first);
    buf_puts(&q->tail, "(\n");
    buf_puts(&q->tail, w);
    buf_puts(&q->tail, "\n)");
}

static int build(struct scan *s, struct page_query *pq, const struct shape *sh)
{
    const struct scan_spec *spec = s->spec;
    struct query *q = &pq->q;
    pq->shape = *sh;
    query_init(q, sh->kind, spec->table);
    q->columns = sh->columns;
    q->ncolumns = sh->ncolumns;
    q->key = sh->key;
    q->nkey = sh->nkey;
    q->stream = sh->stream;
    q->fetch_rows = spec->page_size;
    q->fetch_bytes = spec->page_bytes;
    int first = 1;
    size_t v = 0;
    if (sh->sample > 0 && s->d->sample_from)
        s->d->sample_from(&q->tail, sh->sample);
    else if (sh->sample > 0) {
        glue(q, &first);
        s->d->sample_where(&q->tail, sh->sample);
    }
    if (sh->nulls) {
        glue(q, &first);
        buf_putc(&q->tail, '(');
        for (size_t i = 0; i < spec->ncursor; i++) {
            buf_puts(&q->tail, i ? " OR " : "");
            quote_col(s, q, spec->key[i]);
            buf_puts(&q->tail, " IS NULL");
        }
        buf_putc(&q->tail, ')');
        append_where(s, q, &first);
        goto prepare;
    }
    if (sh->nlower) {
        glue(q, &first);
        append_bound(s, q, spec->key, sh->nlower, v, sh->lower_inclusive ? ">=" : ">", ">");
        v += sh->nlower;
    }
    if (sh->chunk) {
        glue(q, &first);
        quote_col(s, q, spec->key[0]);
        buf_puts(&q->tail, " < ");
        query_slot(q, v++, spec->key[0]);
    }
    if (sh->nupper) {
        glue(q, &first);
        append_bound(s, q, spec->key, sh->nupper, v, "<=", "<");
        v += sh->nupper;
    }
    for (size_t i = 0; i < spec->ncursor; i++)
        if (key_nullable(spec->table, spec->key[i])) {
            glue(q, &first);
            quote_col(s, q, spec->key[i]);
            buf_puts(&q->tail, " IS NOT NULL");
        }
    append_where(s, q, &first);
    if (sh->kind == QUERY_ROWS) {
        buf_puts(&q->tail, " ORDER BY ");
        for (size_t i = 0; i < sh->nkey; i++) {
            buf_puts(&q->tail, i ? ", " : "");
            quote_col(s, q, sh->key[i]);
            buf_puts(&q->tail, sh->desc ? " DESC" : "");
        }
    }
    if (sh->one)
        buf_puts(&q->tail, " LIMIT 1");
    if (sh->limit) {
        buf_puts(&q->tail, " LIMIT ");
        query_slot(q, v++, NULL);
    }
    if (sh->offset) {
        buf_puts(&q->tail, " OFFSET ");
        query_slot(q, v++, NULL);
    }
prepare:
    if (q->tail.oom)
        return source_fail(s->src, SOURCE_ENOMEM, "out of memory");
    return source_prepare(s->src, q, &pq->st);
}

static void page_query_free(struct scan *s, struct page_query *pq)
{
    stmt_finalize(s->src, pq->st);
    pq->st = NULL;
    query_free(&pq->q);
}

/* ---- pages ---------------------------------------------------------------- */

static void page_clear(struct scan *s, struct page *p)
{
    if (p->res) {
        s->warnings += p->res->warnings;
        result_close(s->src, p->res);
    }
    key_clear(&p->after);
    memset(p, 0, sizeof *p);
}

static int oom(struct scan *s)
{
    return source_fail(s->src, SOURCE_ENOMEM, "out of memory");
}

static int execute(struct scan *s, struct page *p)
{
    const struct shape *sh = &p->pq->shape;
    size_t v = 0;
    if (sh->nlower) {
        if (p->after.n < sh->nlower)
            return source_fail(s->src, SOURCE_EUSAGE, "%s: lower bound has %zu values, not %zu",
                               s->name, p->after.n, sh->nlower);
        for (size_t i = 0; i < sh->nlower; i++)
            s->values[v++] = p->after.v[i];
    }
    if (sh->chunk) {
        free(s->hi_value.s);
        memset(&s->hi_value, 0, sizeof s->hi_value);
        if (s->d->block_bound(p->hi, &s->hi_value) < 0)
            return oom(s);
        s->values[v++] = s->hi_value;
    }
    for (size_t i = 0; i < sh->nupper; i++)
        s->values[v++] = s->spec->upto->v[i];
    if (sh->limit)
        s->values[v++] = (struct keyval){.kind = KEY_INT, .i = (int64_t)p->limit};
    if (sh->offset)
        s->values[v++] = (struct keyval){.kind = KEY_INT, .i = (int64_t)p->offset};
    return stmt_execute(p->pq->st, s->values, &p->res);
}

/* The LIMIT of the page after one of `rows` rows holding `bytes` bytes of
 * values: about page_bytes of them, growing at most SCAN_GROWTH-fold. */
static void adapt_limit(struct scan *s, size_t rows, size_t bytes)
{
    s->limit = query_next_rows(s->limit, s->spec->page_size, s->spec->page_bytes, rows,
                               bytes);
}

/* <0 when a is known to sort before b on their first n values, 0 when
 * they are equal, >0 otherwise (after, or not comparable here: only
 * integers compare outside the database). */
static int key_order(const struct keytuple *a, const struct keytuple *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const struct keyval *x = &a->v[i], *y = &b->v[i];
        if (x->kind == KEY_INT && y->kind == KEY_INT) {
            if (x->i != y->i)
                return x->i < y->i ? -1 : 1;
            continue;
        }
        if (x->kind != y->kind || x->len != y->len ||
            (x->kind == KEY_REAL ? x->r != y->r : x->len && memcmp(x->s, y->s, x->len) != 0))
            return 1;
    }
    return 0;
}

static void key_text(const struct keytuple *k, char *out, size_t n)
{
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < k->n && used + 1 < n; i++) {
        const struct keyval *v = &k->v[i];
        const char *sep = i ? ", " : "";
        int w;
        switch (v->kind) {
        case KEY_INT: w = snprintf(out + used, n - used, "%s%" PRId64, sep, v->i); break;
        case KEY_REAL: w = snprintf(out + used, n - used, "%s%.17g", sep, v->r); break;
        case KEY_TEXT: w = snprintf(out + used, n - used, "%s'%.40s'", sep, v->s); break;
        case KEY_BLOB: w = snprintf(out + used, n - used, "%s(%zu bytes)", sep, v->len); break;
        default: w = snprintf(out + used, n - used, "%sNULL", sep); break;
        }
        if (w < 0)
            break;
        used += (size_t)w < n - used ? (size_t)w : n - used - 1;
    }
}

/* The guard: key `k` of a row of page p (its first row, or its last) must
 * lie beyond the key p was read after. */
static int check_forward(struct scan *s, const struct page *p, const struct keytuple *k)
{
    const struct shape *sh = &p->pq->shape;
    if (!sh->nlower)
        return 0;
    int order = key_order(k, &p->after, sh->nlower);
    if (order > 0 || (order == 0 && sh->lower_inclusive))
        return 0;
    char was[160];
    key_text(&p->after, was, sizeof was);
    return source_fail(s->src, SOURCE_ERR,
                       "%s: keyset paging stopped: a page read after key (%s) did not move the key forward; "
                       "the database compares the key differently from how it orders it, or --where "
                       "escapes its parentheses (it must be one condition)",
                       s->name, was);
}

/* A key must not hold NULL: the next bound could not be written. */
static int check_key(struct scan *s, const struct keytuple *k)
{
    for (size_t i = 0; i < k->n; i++)
        if (k->v[i].kind == KEY_NULL)
            return source_fail(s->src, SOURCE_ERR,
                               "%s: key column %s is NULL in a row; a paging key must be NOT NULL (choose another with --key)",
                               s->name, s->spec->key[i]);
    return 0;
}

/* Decides the page after cur, which read `n` rows; last: the key of its
 * last row when the page was full. Sets s->has_next. */
static int decide(struct scan *s, size_t n, const struct keytuple *last)
{
    struct page *c = &s->cur, *nx = &s->next_page;
    int full = c->pq->shape.limit && n >= c->limit;
    int rc;
    s->decided = 1;
    s->has_next = 0;
    if (c->pq->shape.stream)
        return 0;
    memset(nx, 0, sizeof *nx);
    nx->limit = s->limit;
    if (c->pq->shape.offset) {
        if (!full)
            return 0;
        if (key_copy(&nx->after, &c->after) < 0)
            return oom(s);
        nx->pq = c->pq;
        nx->offset = c->offset + n;
        s->has_next = 1;
        return 0;
    }
    if (full) {
        if ((rc = check_key(s, last)) < 0 || (rc = check_forward(s, c, last)) < 0)
            return rc;
        if (key_copy(&nx->after, last) < 0)
            return oom(s);
        nx->pq = c->pq == &s->chunk ? &s->chunk : &s->next;
        nx->hi = c->hi;
        if (c->pq == &s->chunk && s->nb > 1)
            s->nb /= 2; /* the range held more than a page: smaller ranges */
        s->has_next = 1;
        return 0;
    }
    if (c->pq != &s->chunk)
        return 0;
    /* The block range is read: the next one starts at its end. */
    if (key_init(&nx->after, 1) < 0 || s->d->block_bound(c->hi, &nx->after.v[0]) < 0)
        return oom(s);
    if (c->hi >= s->blocks) {
        nx->pq = &s->next; /* rows past the size seen at the start */
    } else {
        uint64_t grow = n ? s->nb * s->spec->page_size / n : s->nb * 8;
        if (grow > s->nb * 8)
            grow = s->nb * 8;
        s->nb = grow < 1 ? 1 : grow > SCAN_BLOCKS_MAX ? SCAN_BLOCKS_MAX : grow;
        nx->pq = &s->chunk;
        nx->hi = c->hi + s->nb;
    }
    s->has_next = 1;
    return 0;
}

/* The first row of cur has arrived: check it, and when the whole page is
 * in hand decide (and send) the next one now, so the server works while
 * this page is encoded. */
static int page_arrived(struct scan *s)
{
    struct page *c = &s->cur;
    int rc;
    if (c->pq->shape.nlower) {
        if ((rc = result_row_key(c->res, &s->tmp)) < 0 || (rc = check_key(s, &s->tmp)) < 0 ||
            (rc = check_forward(s, c, &s->tmp)) < 0)
            return rc;
    }
    long n = result_rows_in_hand(c->res);
    if (n < 0)
        return 0;
    int full = c->pq->shape.limit && (size_t)n >= c->limit;
    if (full && (rc = result_key_of_row(c->res, (size_t)n - 1, &s->last)) < 0)
        return rc;
    if ((rc = decide(s, (size_t)n, &s->last)) < 0)
        return rc;
    return s->has_next ? execute(s, &s->next_page) : 0;
}

/* cur is read to its end: the next page becomes cur. 1 when there is one. */
static int advance(struct scan *s)
{
    int rc;
    adapt_limit(s, s->rows, s->bytes);
    if (!s->decided && (rc = decide(s, s->rows, &s->last)) < 0)
        return rc;
    page_clear(s, &s->cur);
    s->rows = s->bytes = 0;
    s->decided = 0;
    if (!s->has_next)
        return 0;
    s->cur = s->next_page;
    memset(&s->next_page, 0, sizeof s->next_page);
    s->has_next = 0;
    if (!s->cur.res && (rc = execute(s, &s->cur)) < 0)
        return rc;
    return 1;
}

static size_t value_bytes(const struct cell *row, size_t n)
{
    size_t b = 0;
    for (size_t i = 0; i < n; i++)
        switch (row[i].kind) {
        case CELL_NUMBER: case CELL_TEXT: case CELL_BYTES: case CELL_JSON:
            b += row[i].len + 2;
            break;
        default:
            b += 8;
        }
    return b;
}

static int next_row(struct scan *s, const struct cell **row)
{
    for (;;) {
        if (s->done)
            return 0;
        int rc = result_next_row(s->cur.res, row);
        if (rc < 0)
            return rc;
        if (rc > 0) {
            s->rows++;
            /* A page's width is sampled: every 8th row, counted 8 times. */
            if ((s->rows & 7) == 1)
                s->bytes += 8 * value_bytes(*row, s->spec->ncolumns);
            if (s->rows == 1 && (rc = page_arrived(s)) < 0)
                return rc;
            /* Streamed: the last row of a full page gives the next bound. */
            if (!s->decided && s->cur.pq->shape.limit && !s->cur.pq->shape.offset &&
                s->rows == s->cur.limit && (rc = result_row_key(s->cur.res, &s->last)) < 0)
                return rc;
            return 1;
        }
        if ((rc = advance(s)) < 0)
            return rc;
        if (rc == 0) {
            s->done = 1;
            if (s->in_read) {
                s->in_read = 0;
                if ((rc = source_end_read(s->src)) < 0)
                    return rc;
            }
        }
    }
}

int scan_next_row(struct scan *s, const struct cell **row)
{
    if (s->err)
        return s->err;
    int rc = next_row(s, row);
    if (rc < 0)
        s->err = rc;
    return rc;
}

int scan_row_key(struct scan *s, struct keytuple *key)
{
    if (!s->cur.res)
        return source_fail(s->src, SOURCE_EUSAGE, "%s: no row to take a key from", s->name);
    int rc = result_row_key(s->cur.res, key);
    return rc < 0 ? rc : check_key(s, key);
}

uint64_t scan_warnings(const struct scan *s)
{
    return s->warnings + (s->cur.res ? s->cur.res->warnings : 0) +
           (s->next_page.res ? s->next_page.res->warnings : 0);
}

void scan_close(struct scan *s)
{
    if (!s)
        return;
    page_clear(s, &s->next_page);
    page_clear(s, &s->cur);
    page_query_free(s, &s->first);
    page_query_free(s, &s->next);
    page_query_free(s, &s->chunk);
    if (s->in_read)
        source_end_read(s->src);
    key_clear(&s->last);
    key_clear(&s->tmp);
    free(s->hi_value.s);
    free(s->values);
    free(s);
}

/* ---- opening ------------------------------------------------------------ */

static int check_spec(struct source *src, const struct scan_spec *spec, const char *name)
{
    const struct keytuple *bounds[2] = {spec->after, spec->upto};
    if (spec->nkey == 0 || spec->page_size == 0 || spec->ncursor > spec->nkey)
        return source_fail(src, SOURCE_EUSAGE, "%s: a scan needs a key and a page size", name);
    for (int i = 0; i < 2; i++)
        if (bounds[i] && (bounds[i]->n == 0 || bounds[i]->n > spec->nkey))
            return source_fail(src, SOURCE_EUSAGE, "%s: %s bound has %zu values, key has %zu",
                               name, i ? "upper" : "lower", bounds[i]->n, spec->nkey);
    return 0;
}

/* The block-addressed implicit key, read in block ranges by keyset. */
static int is_chunked(const struct source *src, const struct scan_spec *spec)
{
    const struct sql_dialect *d = source_dialect(src);
    return d->block_bound && spec->paging == PAGING_KEYSET && spec->nkey == 1 &&
           spec->table->implicit_key && strcmp(spec->key[0], spec->table->implicit_key) == 0;
}

static struct shape rows_shape(const struct scan_spec *spec)
{
    return (struct shape){
        .kind = QUERY_ROWS, .columns = spec->columns, .ncolumns = spec->ncolumns,
        .key = spec->key, .nkey = spec->nkey,
        .nupper = spec->upto ? spec->upto->n : 0,
    };
}

/* Prepares the statements: `first` always; `next` and `chunk` for keyset. */
static int prepare_all(struct scan *s)
{
    const struct scan_spec *spec = s->spec;
    struct shape sh = rows_shape(spec);
    int rc;
    if (spec->paging != PAGING_KEYSET) {
        sh.nlower = spec->after ? spec->after->n : 0;
        sh.lower_inclusive = spec->after && spec->after_inclusive;
        sh.limit = sh.offset = spec->paging == PAGING_OFFSET;
        sh.stream = spec->paging == PAGING_CURSOR;
        return build(s, &s->first, &sh);
    }
    if (s->chunked && spec->after_inclusive)
        return source_fail(s->src, SOURCE_EUSAGE, "%s: a block-addressed key cannot start at an inclusive bound",
                           s->name);
    sh.limit = 1;
    sh.nlower = spec->nkey;
    if ((rc = build(s, &s->next, &sh)) < 0)
        return rc;
    if (s->chunked) {
        sh.chunk = 1;
        if ((rc = build(s, &s->chunk, &sh)) < 0)
            return rc;
        sh.chunk = 0;
    }
    if (spec->after && spec->after->n == spec->nkey && !spec->after_inclusive)
        return 0; /* the first page has the shape of the next ones */
    sh.nlower = spec->after ? spec->after->n : 0;
    sh.lower_inclusive = spec->after && spec->after_inclusive;
    return s->chunked && !spec->after ? 0 : build(s, &s->first, &sh);
}

/* A scan of spec with nothing prepared yet: its name, its values, spec
 * checked. *out may hold it after a failure: close it. */
static int scan_alloc(struct source *src, const struct scan_spec *spec, struct scan **out)
{
    struct scan *s = calloc(1, sizeof *s);
    *out = s;
    if (!s)
        return source_fail(src, SOURCE_ENOMEM, "out of memory");
    s->src = src;
    s->spec = spec;
    s->d = source_dialect(src);
    table_desc_name(spec->table, s->name, sizeof s->name);
    s->maxvalues = 2 * spec->nkey + 3;
    s->values = calloc(s->maxvalues, sizeof *s->values);
    if (!s->values)
        return oom(s);
    return check_spec(src, spec, s->name);
}

static int scan_new(struct source *src, const struct scan_spec *spec, struct scan **out)
{
    int rc = scan_alloc(src, spec, out);
    if (rc < 0)
        return rc;
    (*out)->chunked = is_chunked(src, spec);
    return prepare_all(*out);
}

int scan_check(struct source *src, const struct scan_spec *spec)
{
    struct scan *s;
    int rc = scan_new(src, spec, &s);
    scan_close(s);
    return rc;
}

int scan_open(struct source *src, const struct scan_spec *spec, struct scan **out)
{
    struct scan *s;
    int rc = scan_new(src, spec, &s);
    *out = s;
    if (rc < 0)
        return rc;
    s->limit = spec->page_bytes && spec->page_size > SCAN_FIRST_LIMIT ? SCAN_FIRST_LIMIT
                                                                       : spec->page_size;
    struct page *c = &s->cur;
    c->limit = s->limit;
    c->offset = spec->offset;
    c->pq = s->first.st ? &s->first : &s->next;
    if (spec->after && key_copy(&c->after, spec->after) < 0)
        return oom(s);
    if (s->chunked) {
        /* Block ranges from the resume point; about a page of rows each. */
        uint64_t blk = 0;
        if (spec->after && s->d->block_of(&spec->after->v[0], &blk) < 0)
            return source_fail(src, SOURCE_EUSAGE, "%s: invalid block address in the resume key",
                               s->name);
        if (!spec->after && (key_init(&c->after, 1) < 0 ||
                             s->d->block_bound(0, &c->after.v[0]) < 0))
            return oom(s);
        const struct table_desc *t = spec->table;
        double per_block = t->blocks > 0 && t->row_estimate > 0
                               ? (double)t->row_estimate / (double)t->blocks : 50.0;
        double nb = (double)spec->page_size / (per_block < 1 ? 1 : per_block);
        s->nb = nb < 1 ? 1 : nb > (double)SCAN_BLOCKS_MAX ? SCAN_BLOCKS_MAX : (uint64_t)nb;
        s->blocks = t->blocks > 0 ? (uint64_t)t->blocks : 0;
        c->pq = blk >= s->blocks ? &s->next : &s->chunk;
        c->hi = blk + s->nb;
    }
    if (spec->snapshot) {
        rc = spec->snapshot_at ? source_begin_read_at(src, spec->snapshot_at)
                               : source_begin_read(src);
        if (rc < 0)
            return rc;
        s->in_read = 1;
    }
    return execute(s, c);
}

/* ---- incremental ranges --------------------------------------------------- */

/* Runs a one-row statement of shape sh: its key (n 0: no row) or count. */
static int one_row(struct scan *s, const struct shape *sh, struct keytuple *key,
                   uint64_t *count)
{
    struct page_query pq = {0};
    struct page p = {.pq = &pq};
    const struct cell *row;
    int rc = build(s, &pq, sh);
    if (rc == 0 && sh->nlower && key_copy(&p.after, s->spec->after) < 0)
        rc = oom(s);
    if (rc == 0)
        rc = execute(s, &p);
    if (rc == 0)
        rc = result_next_row(p.res, &row);
    if (rc > 0) {
        if (count)
            *count = row[0].kind == CELL_INT ? (uint64_t)row[0].v.i : 0;
        else
            rc = result_row_key(p.res, key);
        /* Read the result to its end: a streaming driver abandons an
         * unfinished one by dropping the connection. */
        if (rc >= 0)
            rc = result_next_row(p.res, &row) < 0 ? -1 : 0;
        if (rc < 0 && s->src->errcode)
            rc = s->src->errcode;
    } else if (rc == 0 && key) {
        key_clear(key);
    }
    page_clear(s, &p);
    page_query_free(s, &pq);
    return rc;
}

int scan_cursor_range(struct source *src, const struct scan_spec *spec, size_t ncursor,
                      struct keytuple *min, struct keytuple *max, uint64_t *nulls)
{
    struct scan_spec one = *spec;
    one.ncursor = ncursor;
    one.paging = PAGING_KEYSET;
    one.upto = NULL;
    struct scan *s;
    *nulls = 0;
    key_clear(min);
    key_clear(max);
    int rc = scan_alloc(src, &one, &s);
    if (rc < 0)
        goto out;
    if (ncursor == 0 || ncursor > spec->nkey) {
        rc = source_fail(src, SOURCE_EUSAGE, "%s: %zu cursor columns, key has %zu", s->name,
                         ncursor, spec->nkey);
        goto out;
    }
    struct shape sh = {
        .kind = QUERY_ROWS, .key = spec->key, .nkey = ncursor,
        .nlower = spec->after ? spec->after->n : 0,
        .lower_inclusive = spec->after && spec->after_inclusive, .one = 1,
    };
    if ((rc = one_row(s, &sh, min, NULL)) < 0)
        goto out;
    sh.desc = 1;
    if ((rc = one_row(s, &sh, max, NULL)) < 0)
        goto out;
    int nullable = 0;
    for (size_t i = 0; i < ncursor; i++)
        nullable |= key_nullable(spec->table, spec->key[i]);
    if (nullable) {
        struct shape count = {.kind = QUERY_COUNT, .nulls = 1};
        rc = one_row(s, &count, NULL, nulls);
    }
out:
    if (rc < 0) {
        key_clear(min);
        key_clear(max);
    }
    scan_close(s);
    return rc;
}

/* ---- samples for partition planning ------------------------------------- */

int scan_sample(struct source *src, const struct scan_spec *spec, double percent,
                int (*fn)(const struct keytuple *key, void *ctx), void *ctx)
{
    struct scan_spec one = *spec;
    one.paging = PAGING_KEYSET;
    one.columns = NULL;
    one.ncolumns = 0;
    struct scan *s;
    struct page_query pq = {0};
    struct page p = {.pq = &pq};
    struct keytuple key = {0};
    const struct cell *row;
    int rc = scan_alloc(src, &one, &s);
    if (!s)
        return rc;
    if (rc < 0)
        goto out;
    if (percent < 100 && !source_can_sample(src)) {
        rc = source_fail(src, SOURCE_EUSAGE, "%s: this database cannot sample a table", s->name);
        goto out;
    }
    struct shape sh = rows_shape(&one);
    sh.nlower = spec->after ? spec->after->n : 0;
    sh.lower_inclusive = spec->after && spec->after_inclusive;
    sh.stream = 1;
    sh.sample = percent < 100 ? percent : 0;
    if ((rc = build(s, &pq, &sh)) < 0)
        goto out;
    if (spec->after && key_copy(&p.after, spec->after) < 0) {
        rc = oom(s);
        goto out;
    }
    if ((rc = execute(s, &p)) < 0)
        goto out;
    while ((rc = result_next_row(p.res, &row)) > 0) {
        if ((rc = result_row_key(p.res, &key)) < 0 || (rc = check_key(s, &key)) < 0 ||
            (rc = fn(&key, ctx)) < 0)
            break;
    }
out:
    key_clear(&key);
    page_clear(s, &p);
    page_query_free(s, &pq);
    scan_close(s);
    return rc < 0 ? rc : 0;
}