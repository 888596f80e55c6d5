/* sqlite_source.c - the SQLite driver.
 *
 * URLs: sqlite:///abs/path.db, sqlite:/abs/path.db, sqlite:relative.db, or a
 * plain path ending in .db, .sqlite or .sqlite3. The database is opened
 * read-only: sluice never writes to a source.
 *
 * Values follow SQLite's storage classes, not the declared types: INTEGER
 * -> number, REAL -> shortest double, TEXT -> string, BLOB -> base64. Key
 * values keep their storage class, so a resumed comparison is the same one.
 *
 * Statements are prepared once and re-run per page (the core's paging
 * rules, source/scan.h); a stream (cursor paging) steps one statement
 * through the whole table. Tables without a declared key page by rowid. */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/buf.h"
#include "source/source.h"

struct litesrc {
    struct source base;
    sqlite3 *db;
    char *path;
    int in_read;           /* begin_read: one read transaction */
};

/* A prepared statement; its one result is the statement being stepped. */
struct litestmt {
    struct stmt base;
    sqlite3_stmt *st;
    char *sql;
    int *key_col;          /* result column of each key column */
    struct cell *cells;
    struct result res;     /* the execution being read */
    int live;              /* res is handed out and not closed */
    int done;
};

static int has_suffix(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n > m && strcmp(s + n - m, suffix) == 0;
}

static int litesrc_claims(const char *url)
{
    if (strncmp(url, "sqlite:", 7) == 0)
        return 1;
    if (strstr(url, "://"))
        return 0;
    return has_suffix(url, ".db") || has_suffix(url, ".sqlite") ||
           has_suffix(url, ".sqlite3");
}

/* The file path inside a sqlite URL: sqlite:///abs -> /abs,
 * sqlite://rel -> rel, sqlite:/abs -> /abs, sqlite:rel -> rel. */
static const char *url_path(const char *url)
{
    if (strncmp(url, "sqlite:", 7) != 0)
        return url;
    url += 7;
    if (strncmp(url, "//", 2) == 0)
        url += 2;
    return url;
}

static int fail_db(struct litesrc *s, int code, const char *what, const char *sql)
{
    if (sql)
        return source_fail(&s->base, code, "sqlite %s: %s: %s (SQL: %s)", s->path,
                           what, sqlite3_errmsg(s->db), sql);
    return source_fail(&s->base, code, "sqlite %s: %s: %s", s->path, what,
                       sqlite3_errmsg(s->db));
}

static int litesrc_open(const char *url, struct source **out)
{
    extern const struct source_driver litesrc_driver;
    struct litesrc *s = calloc(1, sizeof *s);
    if (!s)
        return SOURCE_ENOMEM;
    s->base.drv = &litesrc_driver;
    *out = &s->base;
    const char *path = url_path(url);
    s->path = strdup(path);
    if (!s->path)
        return source_fail(&s->base, SOURCE_ENOMEM, "out of memory");
    if (!*path)
        return source_fail(&s->base, SOURCE_EUSAGE,
                           "sqlite URL names no file: %s", url);
    struct stat st;
    if (stat(path, &st) != 0)
        return source_fail(&s->base, SOURCE_ECONN,
                           "sqlite %s: no such database file", path);
    if (!S_ISREG(st.st_mode))
        return source_fail(&s->base, SOURCE_ECONN,
                           "sqlite %s: not a regular file", path);
    /* NOMUTEX: one thread uses the connection; no lock per column read. */
    int rc = sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK)
        return fail_db(s, SOURCE_ECONN, "cannot open", NULL);
    sqlite3_busy_timeout(s->db, 10000);
    /* Reading the schema proves it is a database at all. */
    rc = sqlite3_exec(s->db, "SELECT count(*) FROM sqlite_schema", NULL, NULL, NULL);
    if (rc != SQLITE_OK)
        return fail_db(s, SOURCE_ECONN, "cannot read", NULL);
    return 0;
}

static void litesrc_close(struct source *src)
{
    struct litesrc *s = (struct litesrc *)src;
    if (!s)
        return;
    sqlite3_close(s->db);
    free(s->path);
    free(s);
}

static int litesrc_list_tables(struct source *src, struct strlist *out)
{
    struct litesrc *s = (struct litesrc *)src;
    static const char sql[] =
        "SELECT name FROM sqlite_schema WHERE type IN ('table','view') "
        "AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name";
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
        return fail_db(s, SOURCE_ERR, "cannot list tables", sql);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        if (strlist_add(out, (const char *)sqlite3_column_text(st, 0)) < 0) {
            sqlite3_finalize(st);
            return source_fail(src, SOURCE_ENOMEM, "out of memory");
        }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return fail_db(s, SOURCE_ERR, "cannot list tables", sql);
    return 0;
}

/* JSON type of a declared type, by SQLite's affinity rules (§3.1 of the
 * datatype documentation). Values still follow their storage class. */
static const char *affinity_json_type(const char *decl)
{
    char up[64];
    size_t i;
    for (i = 0; decl && decl[i] && i < sizeof up - 1; i++)
        up[i] = (char)(decl[i] >= 'a' && decl[i] <= 'z' ? decl[i] - 32 : decl[i]);
    up[i] = '\0';
    if (strstr(up, "INT"))
        return "integer";
    if (strstr(up, "CHAR") || strstr(up, "CLOB") || strstr(up, "TEXT"))
        return "string";
    if (!up[0] || strstr(up, "BLOB"))
        return "base64";
    if (strstr(up, "REAL") || strstr(up, "FLOA") || strstr(up, "DOUB"))
        return "number";
    return "number";
}

/* Finds a table or view by name (case-insensitive, as SQLite resolves
 * names) in schema, or in any attached schema when schema is NULL, main
 * first. Fills d->schema and d->name with the stored spelling. 1 found,
 * 0 not found, negative on error. */
static int find_table(struct litesrc *s, const char *schema, const char *table,
                      struct table_desc *d, int *without_rowid)
{
    static const char sql[] =
        "SELECT schema, name, type, wr FROM pragma_table_list "
        "WHERE name = ?1 COLLATE NOCASE AND (?2 IS NULL OR schema = ?2 COLLATE NOCASE) "
        "AND type IN ('table','view','virtual') AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' "
        "ORDER BY schema = 'main' DESC LIMIT 1";
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
        return fail_db(s, SOURCE_ERR, "cannot look up table", sql);
    sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
    if (schema)
        sqlite3_bind_text(st, 2, schema, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st), found = 0;
    if (rc == SQLITE_ROW) {
        found = 1;
        d->schema = strdup((const char *)sqlite3_column_text(st, 0));
        d->name = strdup((const char *)sqlite3_column_text(st, 1));
        d->is_view = strcmp((const char *)sqlite3_column_text(st, 2), "view") == 0;
        *without_rowid = sqlite3_column_int(st, 3);
        if (!d->schema || !d->name)
            found = source_fail(&s->base, SOURCE_ENOMEM, "out of memory");
    } else if (rc != SQLITE_DONE) {
        found = fail_db(s, SOURCE_ERR, "cannot look up table", sql);
    }
    sqlite3_finalize(st);
    return found;
}

static char *dup_or_null(const unsigned char *s)
{
    return s ? strdup((const char *)s) : NULL;
}

static int describe_columns(struct litesrc *s, struct table_desc *d,
                            int without_rowid)
{
    static const char sql[] =
        "SELECT name, type, \"notnull\", pk FROM pragma_table_info(?1, ?2) ORDER BY cid";
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
        return fail_db(s, SOURCE_ERR, "cannot describe table", sql);
    sqlite3_bind_text(st, 1, d->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, d->schema, -1, SQLITE_STATIC);
    int rc, pkpos[256] = {0}, oom = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct column_desc *c = realloc(d->cols, (d->ncols + 1) * sizeof *c);
        if (!c) {
            oom = 1;
            break;
        }
        d->cols = c;
        c = &d->cols[d->ncols++];
        memset(c, 0, sizeof *c);
        c->name = dup_or_null(sqlite3_column_text(st, 0));
        c->db_type = dup_or_null(sqlite3_column_text(st, 1));
        oom |= !c->name || !c->db_type;
        c->json_type = affinity_json_type(c->db_type);
        c->nullable = !sqlite3_column_int(st, 2);
        int pk = sqlite3_column_int(st, 3);
        if (pk > 0 && pk <= 256)
            pkpos[pk - 1] = (int)d->ncols;
    }
    sqlite3_finalize(st);
    if (oom)
        return source_fail(&s->base, SOURCE_ENOMEM, "out of memory");
    if (rc != SQLITE_DONE)
        return fail_db(s, SOURCE_ERR, "cannot describe table", sql);
    while (d->npk < 256 && pkpos[d->npk])
        d->npk++;
    if (!d->npk)
        return 0;
    d->pk = calloc(d->npk, sizeof *d->pk);
    if (!d->pk)
        return source_fail(&s->base, SOURCE_ENOMEM, "out of memory");
    for (size_t i = 0; i < d->npk; i++) {
        struct column_desc *c = &d->cols[pkpos[i] - 1];
        if (!(d->pk[i] = strdup(c->name)))
            return source_fail(&s->base, SOURCE_ENOMEM, "out of memory");
        /* A rowid table's PRIMARY KEY may hold NULLs unless declared NOT
         * NULL, except a lone INTEGER PRIMARY KEY, which is the rowid. */
        int rowid_alias = d->npk == 1 && sqlite3_stricmp(c->db_type, "INTEGER") == 0;
        if (without_rowid || rowid_alias)
            c->nullable = 0;
    }
    return 0;
}

static void drop_last_unique(struct table_desc *d)
{
    struct unique_key *u = &d->uniq[--d->nuniq];
    for (size_t j = 0; j < u->n; j++)
        free(u->cols[j]);
    free(u->cols);
}

/* Unique indexes whose columns are all NOT NULL (and not expressions). */
static int describe_unique(struct litesrc *s, struct table_desc *d)
{
    static const char sql[] =
        "SELECT il.seq, ii.name FROM pragma_index_list(?1, ?2) il "
        "JOIN pragma_index_info(il.name, ?2) ii "
        "WHERE il.\"unique\" AND il.origin <> 'pk' AND il.partial = 0 "
        "ORDER BY il.seq, ii.seqno";
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
        return fail_db(s, SOURCE_ERR, "cannot describe indexes", sql);
    sqlite3_bind_text(st, 1, d->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, d->schema, -1, SQLITE_STATIC);
    int64_t last = -1;
    int usable = 0, rc, oom = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t idx = sqlite3_column_int64(st, 0);
        const char *col = (const char *)sqlite3_column_text(st, 1);
        if (idx != last) {
            if (d->nuniq && !usable) /* drop the previous unusable index */
                drop_last_unique(d);
            last = idx;
            struct unique_key *u = realloc(d->uniq, (d->nuniq + 1) * sizeof *u);
            if (!u) {
                oom = 1;
                break;
            }
            d->uniq = u;
            memset(&d->uniq[d->nuniq++], 0, sizeof *u);
            usable = 1;
        }
        long ci = col ? table_desc_column(d, col) : -1;
        if (ci < 0 || d->cols[ci].nullable) {
            usable = 0;
            continue;
        }
        struct unique_key *u = &d->uniq[d->nuniq - 1];
        char **cols = realloc(u->cols, (u->n + 1) * sizeof *cols);
        char *name = cols ? strdup(col) : NULL;
        if (cols)
            u->cols = cols;
        if (!name) {
            oom = 1;
            break;
        }
        u->cols[u->n++] = name;
    }
    sqlite3_finalize(st);
    if (d->nuniq && !usable)
        drop_last_unique(d);
    if (oom)
        return source_fail(&s->base, SOURCE_ENOMEM, "out of memory");
    if (rc != SQLITE_DONE && rc != SQLITE_ROW)
        return fail_db(s, SOURCE_ERR, "cannot describe indexes", sql);
    return 0;
}

/* The name by which the rowid is reachable: a column may shadow "rowid". */
static const char *rowid_alias(const struct table_desc *d)
{
    static const char *const names[] = {"rowid", "_rowid_", "oid"};
    for (size_t i = 0; i < 3; i++) {
        size_t c = 0;
        while (c < d->ncols && sqlite3_stricmp(d->cols[c].name, names[i]) != 0)
            c++;
        if (c == d->ncols)
            return names[i];
    }
    return NULL;
}

static void quote_ident(struct buf *b, const char *name)
{
    buf_putc(b, '"');
    for (const char *p = name; *p; p++) {
        if (*p == '"')
            buf_putc(b, '"');
        buf_putc(b, *p);
    }
    buf_putc(b, '"');
}

static void quote_table(struct buf *b, const struct table_desc *d)
{
    quote_ident(b, d->schema);
    buf_putc(b, '.');
    quote_ident(b, d->name);
}

static int64_t estimate_rows(struct litesrc *s, const struct table_desc *d)
{
    if (d->is_view || !d->implicit_key)
        return -1;
    /* max(rowid) is one b-tree descent; count(*) would read the table. */
    struct buf sql;
    buf_init(&sql, 4096);
    buf_printf(&sql, "SELECT max(%s) FROM ", d->implicit_key);
    quote_table(&sql, d);
    sqlite3_stmt *st = NULL;
    int64_t n = -1;
    if (buf_cstr(&sql) &&
        sqlite3_prepare_v2(s->db, sql.data, -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_type(st, 0) == SQLITE_NULL ? 0 : sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    buf_free(&sql);
    return n;
}

static int litesrc_describe(struct source *src, const char *table,
                            struct table_desc **out)
{
    struct litesrc *s = (struct litesrc *)src;
    struct table_desc *d = calloc(1, sizeof *d);
    if (!d)
        return source_fail(src, SOURCE_ENOMEM, "out of memory");
    int without_rowid = 0, rc;
    /* "a.b" is table "a.b" if there is one, else table b of schema a. */
    const char *dot = strchr(table, '.');
    rc = find_table(s, NULL, table, d, &without_rowid);
    if (rc == 0 && dot && dot != table) {
        char *schema = strndup(table, (size_t)(dot - table));
        rc = schema ? find_table(s, schema, dot + 1, d, &without_rowid)
                    : source_fail(src, SOURCE_ENOMEM, "out of memory");
        free(schema);
    }
    if (rc <= 0) {
        table_desc_free(d);
        return rc < 0 ? rc
                      : source_fail(src, SOURCE_ENOTFOUND, "sqlite %s: no such table: %s",
                                    s->path, table);
    }
    if ((rc = describe_columns(s, d, without_rowid)) < 0 ||
        (rc = describe_unique(s, d)) < 0) {
        table_desc_free(d);
        return rc;
    }
    if (!d->is_view && !without_rowid)
        d->implicit_key = rowid_alias(d);
    d->row_estimate = estimate_rows(s, d);
    d->blocks = -1;
    *out = d;
    return 0;
}

/* ---- statements --------------------------------------------------------- */

/* The rowid is named unquoted (a quoted "rowid" could be read as a string);
 * every other column is quoted. */
static void lite_column_ref(struct buf *b, const struct table_desc *t, const char *name)
{
    if (t->implicit_key && strcmp(name, t->implicit_key) == 0)
        buf_puts(b, name);
    else
        quote_ident(b, name);
}

/* About percent % of the rows: the low 20 bits of random() (uniform over
 * 0..2^20-1) below the fraction. SQLite cannot skip pages, so a sample
 * still reads the table once, but hands the core only the sample. */
static void lite_sample_where(struct buf *b, double percent)
{
    double below = percent / 100.0 * 1048576.0;
    buf_printf(b, "(random() & 1048575) < %.0f", below < 1 ? 1.0 : below);
}

static const struct sql_dialect lite_dialect = {
    .column_ref = lite_column_ref,
    .row_values = 1, /* SQLite 3.15+ answers row-value bounds from an index */
    .sample_where = lite_sample_where,
};

static void put_param(struct buf *out, const struct sql_slot *slot, void *ctx)
{
    (void)ctx;
    buf_printf(out, "?%zu", slot->value + 1);
}

static int column_index(const char *const *cols, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(cols[i], name) == 0)
            return (int)i;
    return -1;
}

/* SELECT columns..., hidden keys... FROM t <tail>; count(*) for counts. */
static int build_sql(struct litestmt *ls, const struct query *q, struct buf *b)
{
    const struct table_desc *t = q->table;
    buf_puts(b, "SELECT ");
    if (q->kind == QUERY_COUNT) {
        buf_puts(b, "count(*)");
    } else {
        int hidden = (int)q->ncolumns;
        for (size_t i = 0; i < q->ncolumns; i++) {
            buf_puts(b, i ? "," : "");
            lite_column_ref(b, t, q->columns[i]);
        }
        for (size_t i = 0; i < q->nkey; i++) {
            int at = column_index(q->columns, q->ncolumns, q->key[i]);
            if (at < 0) {
                at = hidden++;
                buf_puts(b, at ? "," : "");
                lite_column_ref(b, t, q->key[i]);
            }
            ls->key_col[i] = at;
        }
    }
    buf_puts(b, " FROM ");
    quote_table(b, t);
    return query_render(q, b, put_param, NULL);
}

static int litesrc_prepare(struct source *src, const struct query *q, struct stmt **out)
{
    struct litesrc *s = (struct litesrc *)src;
    struct litestmt *ls = calloc(1, sizeof *ls);
    if (!ls)
        return source_fail(src, SOURCE_ENOMEM, "out of memory");
    ls->base.src = src;
    ls->base.q = q;
    ls->res.st = &ls->base;
    *out = &ls->base;
    size_t ncells = q->kind == QUERY_COUNT ? 1 : q->ncolumns;
    ls->cells = calloc(ncells ? ncells : 1, sizeof *ls->cells);
    ls->key_col = calloc(q->nkey ? q->nkey : 1, sizeof *ls->key_col);
    if (!ls->cells || !ls->key_col)
        return source_fail(src, SOURCE_ENOMEM, "out of memory");
    struct buf sql;
    buf_init(&sql, 64u << 20);
    if (build_sql(ls, q, &sql) < 0) {
        buf_free(&sql);
        return source_fail(src, SOURCE_ENOMEM, "out of memory");
    }
    ls->sql = sql.data; /* owned by the statement now */
    if (sqlite3_prepare_v2(s->db, ls->sql, -1, &ls->st, NULL) != SQLITE_OK) {
        int code = strstr(sqlite3_errmsg(s->db), "no such column") ? SOURCE_ENOTFOUND
                                                                   : SOURCE_ERR;
        return fail_db(s, code, "cannot prepare", ls->sql);
    }
    return 0;
}

static int litesrc_execute(struct stmt *st, const struct keyval *values, struct result **out)
{
    struct litestmt *ls = (struct litestmt *)st;
    struct litesrc *s = (struct litesrc *)st->src;
    if (ls->live)
        return source_fail(st->src, SOURCE_EUSAGE, "sqlite: a statement runs once at a time");
    sqlite3_reset(ls->st);
    int rc = SQLITE_OK;
    for (size_t i = 0; i < st->q->nvalues && rc == SQLITE_OK; i++) {
        const struct keyval *v = &values[i];
        int p = (int)i + 1;
        switch (v->kind) {
        case KEY_INT:  rc = sqlite3_bind_int64(ls->st, p, v->i); break;
        case KEY_REAL: rc = sqlite3_bind_double(ls->st, p, v->r); break;
        case KEY_TEXT: rc = sqlite3_bind_text(ls->st, p, v->s, (int)v->len, SQLITE_TRANSIENT); break;
        case KEY_BLOB: rc = sqlite3_bind_blob(ls->st, p, v->s, (int)v->len, SQLITE_TRANSIENT); break;
        case KEY_NULL: rc = sqlite3_bind_null(ls->st, p); break;
        }
    }
    if (rc != SQLITE_OK)
        return fail_db(s, SOURCE_ERR, "cannot bind", ls->sql);
    ls->live = 1;
    ls->done = 0;
    ls->res.warnings = 0;
    *out = &ls->res;
    return 0;
}

static void decode_cell(sqlite3_stmt *st, int i, struct cell *c)
{
    switch (sqlite3_column_type(st, i)) {
    case SQLITE_INTEGER:
        c->kind = CELL_INT;
        c->v.i = sqlite3_column_int64(st, i);
        break;
    case SQLITE_FLOAT:
        c->kind = CELL_DOUBLE;
        c->v.d = sqlite3_column_double(st, i);
        break;
    case SQLITE_TEXT:
        c->kind = CELL_TEXT;
        c->v.s = (const char *)sqlite3_column_text(st, i);
        c->len = (size_t)sqlite3_column_bytes(st, i);
        break;
    case SQLITE_BLOB:
        c->kind = CELL_BYTES;
        c->v.s = sqlite3_column_blob(st, i);
        c->len = (size_t)sqlite3_column_bytes(st, i);
        break;
    default:
        c->kind = CELL_NULL;
        break;
    }
}

static int litesrc_next_row(struct result *r, const struct cell **row)
{
    struct litestmt *ls = (struct litestmt *)r->st;
    struct litesrc *s = (struct litesrc *)r->st->src;
    if (ls->done)
        return 0;
    int rc = sqlite3_step(ls->st);
    if (rc == SQLITE_DONE) {
        ls->done = 1;
        return 0;
    }
    if (rc != SQLITE_ROW)
        return fail_db(s, SOURCE_ERR, "cannot read", ls->sql);
    size_t n = r->st->q->kind == QUERY_COUNT ? 1 : r->st->q->ncolumns;
    for (size_t i = 0; i < n; i++)
        decode_cell(ls->st, (int)i, &ls->cells[i]);
    *row = ls->cells;
    return 1;
}

/* The key columns of the current row, each with its storage class. */
static int litesrc_row_key(struct result *r, struct keytuple *key)
{
    struct litestmt *ls = (struct litestmt *)r->st;
    size_t n = r->st->q->nkey;
    if (key_resize(key, n) < 0)
        return source_fail(r->st->src, SOURCE_ENOMEM, "out of memory");
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        int col = ls->key_col[i];
        switch (sqlite3_column_type(ls->st, col)) {
        case SQLITE_INTEGER:
            rc = key_set_int(key, i, sqlite3_column_int64(ls->st, col));
            break;
        case SQLITE_FLOAT:
            rc = key_set_real(key, i, sqlite3_column_double(ls->st, col));
            break;
        case SQLITE_TEXT: {
            const char *t = (const char *)sqlite3_column_text(ls->st, col);
            rc = key_set_text(key, i, t, (size_t)sqlite3_column_bytes(ls->st, col));
            break;
        }
        case SQLITE_BLOB: {
            const void *p = sqlite3_column_blob(ls->st, col);
            rc = key_set_blob(key, i, p, (size_t)sqlite3_column_bytes(ls->st, col));
            break;
        }
        default:
            rc = key_set_null(key, i);
            break;
        }
    }
    return rc < 0 ? source_fail(r->st->src, SOURCE_ENOMEM, "out of memory") : 0;
}

static void litesrc_close_result(struct result *r)
{
    if (!r)
        return;
    struct litestmt *ls = (struct litestmt *)r->st;
    sqlite3_reset(ls->st);
    ls->live = 0;
}

static void litesrc_finalize(struct stmt *st)
{
    struct litestmt *ls = (struct litestmt *)st;
    if (!ls)
        return;
    sqlite3_finalize(ls->st);
    free(ls->sql);
    free(ls->cells);
    free(ls->key_col);
    free(ls);
}

static int litesrc_begin_read(struct source *src)
{
    struct litesrc *s = (struct litesrc *)src;
    if (sqlite3_exec(s->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
        return fail_db(s, SOURCE_ERR, "cannot begin", "BEGIN");
    s->in_read = 1;
    return 0;
}

static int litesrc_end_read(struct source *src)
{
    struct litesrc *s = (struct litesrc *)src;
    if (!s->in_read)
        return 0;
    s->in_read = 0;
    if (sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
        return fail_db(s, SOURCE_ERR, "cannot end the read", "COMMIT");
    return 0;
}

/* SQLite shows no other connection's transactions: no oldest_transaction. */
const struct source_driver litesrc_driver = {
    .name = "sqlite",
    .dialect = &lite_dialect,
    .claims = litesrc_claims,
    .open = litesrc_open,
    .close = litesrc_close,
    .list_tables = litesrc_list_tables,
    .describe = litesrc_describe,
    .prepare = litesrc_prepare,
    .execute = litesrc_execute,
    .next_row = litesrc_next_row,
    .row_key = litesrc_row_key,
    .close_result = litesrc_close_result,
    .finalize = litesrc_finalize,
    .begin_read = litesrc_begin_read,
    .end_read = litesrc_end_read,
};
