/* plan.c - a stream spec and a described table become one extraction:
 * which key pages it, which columns it writes, what it scans, and the
 * stream identity and fingerprint a resumed job must match. Everything a
 * spec can get wrong about its table is found here, before the job
 * creates or changes anything. */
#include "job/plan.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/errbuf.h"
#include "common/exitcode.h"
#include "job/cursorval.h"
#include "source/url.h"

static int is_implicit(const struct table_desc *d, const char *name)
{
    return d->implicit_key && strcmp(d->implicit_key, name) == 0;
}

static int all_not_null(const struct table_desc *d, char *const *cols, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        long c = table_desc_column(d, cols[i]);
        if (c < 0 || d->cols[c].nullable)
            return 0;
    }
    return n > 0;
}

static int copy_list(struct strlist *dst, char *const *src, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strlist_add(dst, src[i]) < 0)
            return -1;
    return 0;
}

static int in_list(const struct strlist *l, const char *name)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->v[i], name) == 0)
            return 1;
    return 0;
}

static int covers(const struct strlist *l, char *const *cols, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!in_list(l, cols[i]))
            return 0;
    return n > 0;
}

/* The table's own unique NOT NULL key: the primary key, else the first
 * unique NOT NULL index, else its implicit key. NULL when it has none. */
static char *const *table_key(const struct table_desc *d, size_t *n)
{
    static const char *implicit[1];
    if (all_not_null(d, d->pk, d->npk)) {
        *n = d->npk;
        return d->pk;
    }
    if (d->nuniq) {
        *n = d->uniq[0].n;
        return d->uniq[0].cols;
    }
    if (d->implicit_key) {
        implicit[0] = d->implicit_key;
        *n = 1;
        return (char *const *)implicit;
    }
    *n = 0;
    return NULL;
}

/* A --key that holds no unique key of the table gets the table's key
 * appended: ties on the user's columns at a page boundary would otherwise
 * lose rows. */
static int add_tiebreaker(struct plan *p)
{
    const struct table_desc *d = p->desc;
    if (covers(&p->key, d->pk, d->npk) && all_not_null(d, d->pk, d->npk))
        return 0;
    for (size_t i = 0; i < d->nuniq; i++)
        if (covers(&p->key, d->uniq[i].cols, d->uniq[i].n))
            return 0;
    if (d->implicit_key && in_list(&p->key, d->implicit_key))
        return 0;
    size_t n;
    char *const *cols = table_key(d, &n);
    for (size_t i = 0; i < n; i++)
        if (!in_list(&p->key, cols[i]) && strlist_add(&p->key, cols[i]) < 0)
            return -1;
    return 0;
}

/* --key if given (made unique), else the table's own key. NULL-able key
 * columns would drop rows from a `key > x` scan, so they are refused. A
 * view has neither declared keys nor NOT NULL facts: its --key is trusted
 * to be unique and NOT NULL, as --help says. */
static int choose_key(struct plan *p, const struct stream_spec *o, const char *const *names,
                      char *err, size_t errlen)
{
    const struct table_desc *d = p->desc;
    const char *opt = names[SPEC_KEY];
    char name[512];
    table_desc_name(d, name, sizeof name);
    if (o->key.n) {
        for (size_t i = 0; i < o->key.n; i++) {
            const char *k = o->key.v[i];
            if (is_implicit(d, k))
                continue;
            long c = table_desc_column(d, k);
            if (c < 0)
                return errbuf_fail(err, errlen, EXIT_SOURCE, "%s: table %s has no column '%s'", opt, name, k);
            if (d->cols[c].nullable && !d->is_view)
                return errbuf_fail(err, errlen, EXIT_USAGE,
                                   "%s: column '%s' of %s is nullable; rows with a NULL key cannot be paged (choose NOT NULL columns)",
                                   opt, k, name);
        }
        if (copy_list(&p->key, o->key.v, o->key.n) < 0 || add_tiebreaker(p) < 0)
            return errbuf_fail(err, errlen, EXIT_INTERNAL, "out of memory");
        return 0;
    }
    size_t n;
    char *const *cols = table_key(d, &n);
    if (!cols)
        return errbuf_fail(err, errlen, EXIT_USAGE,
                           "%s %s has no primary key or unique NOT NULL index to page by; name one with %s COL[,COL]",
                           d->is_view ? "view" : "table", name, opt);
    return copy_list(&p->key, cols, n) < 0 ? errbuf_fail(err, errlen, EXIT_INTERNAL, "out of memory") : 0;
}

/* Every key column must be one the database can order and bound by: the
 * driver says which cannot (an order that differs from its comparisons, a
 * type whose values do not bind back). */
static int check_key_types(const struct plan *p, const char *const *names, char *err,
                           size_t errlen)
{
    const struct table_desc *d = p->desc;
    for (size_t i = 0; i < p->key.n; i++) {
        long c = table_desc_column(d, p->key.v[i]);
        if (c >= 0 && d->cols[c].not_a_key)
            return errbuf_fail(err, errlen, EXIT_USAGE,
                               "key column '%s' (%s) cannot page a table: %s; choose another with %s",
                               d->cols[c].name, d->cols[c].db_type, d->cols[c].not_a_key,
                               names[i < p->ncursor ? SPEC_CURSOR : SPEC_KEY]);
    }
    return 0;
}

static int is_float_type(const char *db_type)
{
    char low[64];
    size_t i;
    for (i = 0; db_type[i] && i < sizeof low - 1; i++)
        low[i] = (char)(db_type[i] >= 'A' && db_type[i] <= 'Z' ? db_type[i] + 32 : db_type[i]);
    low[i] = '\0';
    return strstr(low, "float") || strstr(low, "double") || strncmp(low, "real", 4) == 0;
}

/* Incremental mode: the key becomes (cursor columns, key columns), so rows
 * that share a cursor value are ordered, and resumed, by their key. Float
 * cursors are refused: a value that does not round-trip exactly could skip
 * or repeat rows at a bound. NULL-able cursors are allowed; the job checks
 * for NULLs before it starts. */
static int prepend_cursor(struct plan *p, const struct stream_spec *o, const char *const *names,
                          char *err, size_t errlen)
{
    static const char *const usable[] = {"integer", "number", "date", "timestamp",
                                         "timestamptz", "string"};
    const struct table_desc *d = p->desc;
    const char *opt = names[SPEC_CURSOR];
    char name[512];
    table_desc_name(d, name, sizeof name);
    if (d->implicit_key && in_list(&p->key, d->implicit_key) &&
        strcmp(d->implicit_key, "rowid") != 0)
        return errbuf_fail(err, errlen, EXIT_USAGE,
                           "%s has no primary key or unique NOT NULL index to break cursor ties; name one with %s COL[,COL]",
                           name, names[SPEC_KEY]);
    struct strlist key = {0};
    for (size_t i = 0; i < o->cursor.n; i++) {
        const char *c = o->cursor.v[i];
        long col = table_desc_column(d, c);
        if (col < 0) {
            strlist_free(&key);
            return errbuf_fail(err, errlen, EXIT_SOURCE, "%s: table %s has no column '%s'", opt, name, c);
        }
        const struct column_desc *cd = &d->cols[col];
        int ok = 0;
        for (size_t t = 0; t < sizeof usable / sizeof *usable; t++)
            ok |= strcmp(cd->json_type, usable[t]) == 0;
        if (!ok || is_float_type(cd->db_type)) {
            strlist_free(&key);
            return errbuf_fail(err, errlen, EXIT_USAGE,
                               "%s: column '%s' is %s; a cursor must be an integer, numeric, date, timestamp or text column (floating point values cannot bound a range exactly)",
                               opt, c, cd->db_type);
        }
        if (i == 0)
            p->cursor_type = cd->json_type;
        if (strlist_add(&key, c) < 0) {
            strlist_free(&key);
            return errbuf_fail(err, errlen, EXIT_INTERNAL, "out of memory");
        }
    }
    p->ncursor = key.n;
    for (size_t i = 0; i < p->key.n; i++)
        if (!in_list(&key, p->key.v[i]) && strlist_add(&key, p->key.v[i]) < 0) {
            strlist_free(&key);
            return errbuf_fail(err, errlen, EXIT_INTERNAL, "out of memory");
        }
    strlist_free(&p->key);
    p->key = key;
    return 0;
}

/* A --start or --end value must be one of the cursor's own: checked now,
 * so a bad one is refused before any job or store exists. */
static int check_cursor_value(const struct plan *p, const char *opt, const char *text,
                              char *err, size_t errlen)
{
    const char *t = p->cursor_type;
    if (strcmp(t, "integer") == 0) {
        char *end;
        errno = 0;
        long long v = strtoll(text, &end, 10);
        (void)v;
        if (errno || end == text || *end)
            return errbuf_fail(err, errlen, EXIT_USAGE,
                               "%s: cursor column '%s' is an integer column; '%s' is not a whole number in range",
                               opt, p->key.v[0], text);
        return 0;
    }
    if (strcmp(t, "number") == 0) {
        const char *c = text;
        int digits = 0;
        if (*c == '-' || *c == '+')
            c++;
        for (; *c >= '0' && *c <= '9'; c++)
            digits++;
        if (*c == '.')
            for (c++; *c >= '0' && *c <= '9'; c++)
                digits++;
        if (!digits || *c)
            return errbuf_fail(err, errlen, EXIT_USAGE,
                               "%s: cursor column '%s' is numeric; '%s' is not a decimal number",
                               opt, p->key.v[0], text);
        return 0;
    }
    if (strcmp(t, "string") == 0)
        return 0;
    struct keyval k = {.kind = KEY_TEXT, .s = (char *)text, .len = strlen(text)};
    struct cursor_value cv;
    char why[200];
    if (cv_parse(&k, &cv, why, sizeof why) < 0 || cv.type == CV_INT ||
        (strcmp(t, "date") == 0 && cv.type != CV_DATE))
        return errbuf_fail(err, errlen, EXIT_USAGE,
                           "%s: cursor column '%s' is a %s; '%s' is not one (write it as YYYY-MM-DD%s)",
                           opt, p->key.v[0], t, text,
                           strcmp(t, "date") == 0 ? "" : "[THH:MM:SS[.ffffff][Z|+HH:MM]]");
    return 0;
}

/* --lookback, --step and --granularity must fit the first cursor column:
 * a count for an integer, an ISO 8601 duration for a date (whole days) or
 * a timestamp. A text or numeric column (SQLite's dates are text) may hold
 * either; its values are checked when the job reads them. */
static int check_duration(const struct plan *p, const char *opt, const struct spec_duration *d,
                          int fixed, char *err, size_t errlen)
{
    if (!d->set)
        return 0;
    const char *t = p->cursor_type;
    int is_int = strcmp(t, "integer") == 0, is_date = strcmp(t, "date") == 0;
    if (fixed && d->d.months)
        return errbuf_fail(err, errlen, EXIT_USAGE,
                           "%s %s: must have a fixed length (days, hours, minutes, seconds; not months or years)",
                           opt, d->text);
    if (strcmp(t, "string") == 0 || strcmp(t, "number") == 0)
        return 0;
    if (is_int != d->d.is_count)
        return errbuf_fail(err, errlen, EXIT_USAGE,
                           is_int ? "%s %s: cursor column '%s' is an integer column: give a count, e.g. 1000"
                           : "%s %s: cursor column '%s' is a date or timestamp: give an ISO 8601 duration, e.g. PT1H or P1D",
                           opt, d->text, p->key.v[0]);
    if (is_date && d->d.usec)
        return errbuf_fail(err, errlen, EXIT_USAGE, "%s %s: cursor column '%s' is a date: give whole days",
                           opt, d->text, p->key.v[0]);
    return 0;
}

static int check_incremental(const struct plan *p, const struct stream_spec *o,
                             const char *const *names, char *err, size_t errlen)
{
    int rc;
    if ((o->start && (rc = check_cursor_value(p, names[SPEC_START], o->start, err, errlen))) ||
        (o->end && (rc = check_cursor_value(p, names[SPEC_END], o->end, err, errlen))) ||
        (rc = check_duration(p, names[SPEC_LOOKBACK], &o->lookback, 0, err, errlen)) ||
        (rc = check_duration(p, names[SPEC_STEP], &o->step, 0, err, errlen)) ||
        (rc = check_duration(p, names[SPEC_GRANULARITY], &o->granularity, 1, err, errlen)))
        return rc;
    return 0;
}

static int choose_columns(struct plan *p, const struct stream_spec *o, const char *const *names,
                          char *err, size_t errlen)
{
    const struct table_desc *d = p->desc;
    char name[512];
    table_desc_name(d, name, sizeof name);
    if (!o->columns.n) {
        for (size_t i = 0; i < d->ncols; i++)
            if (strlist_add(&p->columns, d->cols[i].name) < 0)
                return errbuf_fail(err, errlen, EXIT_INTERNAL, "out of memory");
        return 0;
    }
    for (size_t i = 0; i < o->columns.n; i++)
        if (table_desc_column(d, o->columns.v[i]) < 0)
            return errbuf_fail(err, errlen, EXIT_SOURCE, "%s: table %s has no column '%s'",
                               names[SPEC_COLUMNS], name, o->columns.v[i]);
    return copy_list(&p->columns, o->columns.v, o->columns.n) < 0
               ? errbuf_fail(err, errlen, EXIT_INTERNAL, "out of memory") : 0;
}

static char *join_path(const char *dir, size_t dirlen, const char *name)
{
    size_t n = dirlen + strlen(name) + 2;
    char *abs = malloc(n);
    if (abs)
        snprintf(abs, n, "%.*s/%s", (int)dirlen, dir, name);
    return abs;
}

/* The output as an absolute path. An output that is a symbolic link is
 * written through: the path becomes the file the link points to (followed
 * as often as links lead on, up to 40), so publishing replaces that file
 * and leaves the link in place, as cp would. */
static char *absolute_path(const char *path)
{
    if (!path || strcmp(path, "-") == 0)
        return strdup("-");
    char *abs;
    if (path[0] == '/') {
        abs = strdup(path);
    } else {
        char cwd[PATH_MAX];
        abs = getcwd(cwd, sizeof cwd) ? join_path(cwd, strlen(cwd), path) : strdup(path);
    }
    for (int hops = 0; abs && hops < 40; hops++) {
        char target[PATH_MAX];
        struct stat st;
        if (lstat(abs, &st) != 0 || !S_ISLNK(st.st_mode))
            break;
        ssize_t n = readlink(abs, target, sizeof target - 1);
        if (n <= 0)
            break;
        target[n] = '\0';
        char *next;
        if (target[0] == '/') {
            next = strdup(target);
        } else {
            const char *slash = strrchr(abs, '/');
            next = join_path(abs, slash ? (size_t)(slash - abs) : 0, target);
        }
        free(abs);
        abs = next;
    }
    return abs;
}

static void list_text(struct buf *b, const struct strlist *l)
{
    buf_putc(b, '[');
    for (size_t i = 0; i < l->n; i++) {
        if (i)
            buf_putc(b, ',');
        buf_printf(b, "%zu:%s", strlen(l->v[i]), l->v[i]); /* unambiguous */
    }
    buf_putc(b, ']');
}

/* "LEN:NAME LEN:TYPE" items, comma-separated: each name with its column's
 * type ("(implicit)" for rowid or ctid), read back by plan_changed_key(). */
static void typed_list(struct buf *b, const struct table_desc *d, const struct strlist *l)
{
    for (size_t i = 0; i < l->n; i++) {
        long c = table_desc_column(d, l->v[i]);
        const char *type = c < 0 ? "(implicit)" : d->cols[c].db_type;
        buf_printf(b, "%s%zu:%s %zu:%s", i ? "," : "", strlen(l->v[i]), l->v[i],
                   strlen(type), type);
    }
}

/* Reads the length-prefixed text at *p ("LEN:TEXT") into *text, *len and
 * moves *p past it; 0, or -1 when it is not one. */
static int prefixed(const char **p, const char *end, const char **text, size_t *len)
{
    char *colon;
    unsigned long n = strtoul(*p, &colon, 10);
    if (colon == *p || *colon != ':' || (size_t)(end - colon - 1) < n)
        return -1;
    *text = colon + 1;
    *len = n;
    *p = colon + 1 + n;
    return 0;
}

void plan_changed_key(const char *had, const char *now, char *out, size_t n)
{
    *out = '\0';
    const char *h = strstr(had, PLAN_SCHEMA_MARK), *w = strstr(now, PLAN_SCHEMA_MARK);
    if (!h || !w)
        return;
    h += strlen(PLAN_SCHEMA_MARK);
    w += strlen(PLAN_SCHEMA_MARK);
    const char *h_end = strstr(h, " columns="), *w_end = strstr(w, " columns=");
    if (!h_end || !w_end)
        return;
    while (h < h_end) {
        const char *item = h, *name, *type;
        size_t nlen, tlen;
        if (prefixed(&h, h_end, &name, &nlen) < 0 || *h++ != ' ' ||
            prefixed(&h, h_end, &type, &tlen) < 0)
            return;
        size_t ilen = (size_t)(h - item);
        int found = 0;
        for (const char *q = w; q + ilen <= w_end && !found;) {
            const char *next = strchr(q, ',');
            found = strncmp(q, item, ilen) == 0 && (q + ilen == w_end || q[ilen] == ',');
            /* items start after a comma, but names and types may hold commas */
            q = next && next < w_end ? next + 1 : w_end + 1;
        }
        if (!found) {
            snprintf(out, n, "%.*s", (int)nlen, name);
            return;
        }
        if (*h == ',')
            h++;
    }
}

int plan_build(struct plan *p, const struct stream_spec *o, const char *const *names,
               struct table_desc *desc, char *err, size_t errlen)
{
    static const char *const pagings[] = {"keyset", "offset", "cursor"};
    static const char *const compressions[] = {"none", "gzip", "zstd"};
    memset(p, 0, sizeof *p);
    p->desc = desc;
    p->partition = "";
    int rc;
    if ((rc = choose_columns(p, o, names, err, errlen)) ||
        (rc = choose_key(p, o, names, err, errlen)))
        return rc;
    if (o->mode == MODE_INCREMENTAL && ((rc = prepend_cursor(p, o, names, err, errlen)) ||
                                        (rc = check_incremental(p, o, names, err, errlen))))
        return rc;
    if ((rc = check_key_types(p, names, err, errlen)))
        return rc;
    p->output_abs = absolute_path(o->output);
    if (!p->output_abs)
        return errbuf_fail(err, errlen, EXIT_INTERNAL, "out of memory");
    if (o->compress != SPEC_COMPRESS_AUTO)
        p->compress = (enum sink_compress)o->compress;
    else
        p->compress = sink_compress_for_path(o->output);
    p->level = o->compress_level ? o->compress_level : sink_level_default(p->compress);

    char table[512], source[2048];
    table_desc_name(desc, table, sizeof table);
    url_redact(o->source, source, sizeof source);
    struct buf b;
    buf_init(&b, 1 << 20);
    /* An incremental stream outlives its outputs: one file per run is the
     * normal pattern, and the high-water mark must carry over. */
    if (o->name)
        buf_puts(&b, o->name);
    else if (o->mode == MODE_INCREMENTAL)
        buf_printf(&b, "%s %s incremental", source, table);
    else
        buf_printf(&b, "%s %s -> %s", source, table, p->output_abs);
    p->stream = b.oom ? NULL : strdup(buf_cstr(&b));
    buf_reset(&b);
    /* The options part: what the user asked for. */
    buf_printf(&b, "source=%zu:%s table=%s paging=%s key=", strlen(source), source,
               table, pagings[o->paging]);
    list_text(&b, &o->key);
    buf_puts(&b, " columns=");
    list_text(&b, &o->columns);
    buf_printf(&b, " where=%zu:%s compress=%s", o->where ? strlen(o->where) : 0,
               o->where ? o->where : "", compressions[p->compress]);
    /* A level changes the bytes; the thread count never does. The default
     * level is left out, so the fingerprint reads as it always did. */
    if (p->level != sink_level_default(p->compress))
        buf_printf(&b, ":%d", p->level);
    if (o->mode == MODE_INCREMENTAL) {
        buf_puts(&b, " mode=incremental cursor=");
        list_text(&b, &o->cursor);
    }
    /* The schema part: what the table made of it. A resumed job must read
     * the same columns with the same types, or the file would mix them and
     * the checkpoint would not bind back. */
    buf_puts(&b, PLAN_SCHEMA_MARK);
    typed_list(&b, desc, &p->key);
    buf_puts(&b, " columns=");
    typed_list(&b, desc, &p->columns);
    p->fingerprint = b.oom ? NULL : strdup(buf_cstr(&b));
    buf_free(&b);
    if (!p->stream || !p->fingerprint)
        return errbuf_fail(err, errlen, EXIT_INTERNAL, "out of memory");

    struct scan_spec *s = &p->spec;
    s->paging = o->paging;
    s->table = desc;
    s->columns = (const char *const *)p->columns.v;
    s->ncolumns = p->columns.n;
    s->key = (const char *const *)p->key.v;
    s->nkey = p->key.n;
    s->ncursor = p->ncursor;
    s->page_size = o->page_size;
    s->page_bytes = o->page_bytes;
    s->where = o->where;
    s->snapshot = o->snapshot;
    return 0;
}

void plan_free(struct plan *p)
{
    table_desc_free(p->desc);
    strlist_free(&p->columns);
    strlist_free(&p->key);
    free(p->stream);
    free(p->fingerprint);
    free(p->output_abs);
    memset(p, 0, sizeof *p);
}

int plan_tag_fingerprint(struct plan *p, const char *tag)
{
    const char *mark = strstr(p->fingerprint, PLAN_SCHEMA_MARK);
    size_t at = mark ? (size_t)(mark - p->fingerprint) : strlen(p->fingerprint);
    size_t n = strlen(p->fingerprint) + strlen(tag) + 2;
    char *f = malloc(n);
    if (!f)
        return -1;
    snprintf(f, n, "%.*s %s%s", (int)at, p->fingerprint, tag, p->fingerprint + at);
    free(p->fingerprint);
    p->fingerprint = f;
    return 0;
}
