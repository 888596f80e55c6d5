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
 * Paging: keyset and offset prepare one statement per scan and re-run it per
 * page; cursor steps one statement through the whole table. Tables without
 * a declared key page by rowid. */
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
};

struct litescan {
    struct scan base;
    const struct scan_spec *spec;
    sqlite3_stmt *stmt;
    char *sql;
    struct cell *cells;
    int *key_col;          /* result column of each key column */
    int limit_param;       /* parameter index of LIMIT, 0 for cursor paging */
    size_t page_rows;      /* rows returned by the current page so far */
    uint64_t offset;       /* offset paging: rows before the current page */
    struct keytuple after; /* the lower bound: spec->after (a prefix), then the
                              key of the last row of the last full page */
    int after_inclusive;   /* the lower bound is `>=` (spec->after only) */
    int have_after;
    int with_lower;        /* the prepared statement has the lower bound ... */
    size_t lower_n;        /* ... on this many key columns ... */
    int lower_inclusive;   /* ... and this operator */
    int in_txn;            /* --snapshot: one read transaction for all pages */
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
    *out = d;
    return 0;
}

/* ---- scans ------------------------------------------------------------ */

static void key_list(struct buf *b, const struct scan_spec *spec, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (i)
            buf_putc(b, ',');
        if (spec->table->implicit_key && strcmp(spec->key[i], spec->table->implicit_key) == 0)
            buf_puts(b, spec->key[i]); /* rowid is a keyword-ish alias, unquoted */
        else
            quote_ident(b, spec->key[i]);
    }
}

/* Row-value bound `(k1..kn) OP (?N...)` on the first n key columns;
 * returns the next parameter number. */
static int key_bound(struct buf *b, const struct scan_spec *spec, size_t n,
                     const char *op, int param)
{
    buf_putc(b, '(');
    key_list(b, spec, n);
    buf_printf(b, ") %s (", op);
    for (size_t i = 0; i < n; i++)
        buf_printf(b, "%s?%d", i ? "," : "", param++);
    buf_putc(b, ')');
    return param;
}

static int column_index(const struct scan_spec *spec, const char *name)
{
    for (size_t i = 0; i < spec->ncolumns; i++)
        if (strcmp(spec->columns[i], name) == 0)
            return (int)i;
    return -1;
}

/* SELECT columns..., hidden keys... FROM t WHERE ... ORDER BY key [LIMIT].
 * Parameters, numbered in this order: the lower bound (when with_lower),
 * the upper bound (spec->upto), then LIMIT and OFFSET. */
static int build_sql(struct litescan *sc, struct buf *b, int with_lower)
{
    const struct scan_spec *spec = sc->spec;
    int param = 1, hidden = (int)spec->ncolumns;
    buf_puts(b, "SELECT ");
    for (size_t i = 0; i < spec->ncolumns; i++) {
        if (i)
            buf_putc(b, ',');
        quote_ident(b, spec->columns[i]);
    }
    for (size_t i = 0; i < spec->nkey; i++) {
        int at = column_index(spec, spec->key[i]);
        if (at < 0) {
            at = hidden++;
            buf_puts(b, spec->ncolumns || i ? "," : "");
            if (spec->table->implicit_key && strcmp(spec->key[i], spec->table->implicit_key) == 0)
                buf_puts(b, spec->key[i]);
            else
                quote_ident(b, spec->key[i]);
        }
        sc->key_col[i] = at;
    }
    buf_puts(b, " FROM ");
    quote_table(b, spec->table);
    const char *glue = " WHERE ";
    if (with_lower) {
        buf_puts(b, glue);
        param = key_bound(b, spec, sc->after.n, sc->after_inclusive ? ">=" : ">", param);
        glue = " AND ";
    }
    if (spec->upto) {
        buf_puts(b, glue);
        param = key_bound(b, spec, spec->upto->n, "<=", param);
        glue = " AND ";
    }
    if (spec->where) {
        buf_puts(b, glue);
        buf_printf(b, "(%s)", spec->where);
    }
    buf_puts(b, " ORDER BY ");
    key_list(b, spec, spec->nkey);
    sc->limit_param = 0;
    if (spec->paging == PAGING_KEYSET) {
        sc->limit_param = param;
        buf_printf(b, " LIMIT ?%d", param);
    } else if (spec->paging == PAGING_OFFSET) {
        sc->limit_param = param;
        buf_printf(b, " LIMIT ?%d OFFSET ?%d", param, param + 1);
    }
    return buf_cstr(b) ? 0 : -1;
}

static int bind_key(sqlite3_stmt *st, int param, const struct keytuple *k)
{
    int rc = SQLITE_OK;
    for (size_t i = 0; i < k->n && rc == SQLITE_OK; i++, param++) {
        const struct keyval *v = &k->v[i];
        switch (v->kind) {
        case KEY_INT:  rc = sqlite3_bind_int64(st, param, v->i); break;
        case KEY_REAL: rc = sqlite3_bind_double(st, param, v->r); break;
        case KEY_TEXT: rc = sqlite3_bind_text(st, param, v->s, (int)v->len, SQLITE_STATIC); break;
        case KEY_BLOB: rc = sqlite3_bind_blob(st, param, v->s, (int)v->len, SQLITE_STATIC); break;
        case KEY_NULL: rc = sqlite3_bind_null(st, param); break;
        }
    }
    return rc;
}

/* Prepares the scan's statement, with a lower bound or without. */
static int prepare(struct litescan *sc, int with_lower)
{
    struct litesrc *s = (struct litesrc *)sc->base.src;
    struct buf sql;
    buf_init(&sql, 1 << 20);
    if (build_sql(sc, &sql, with_lower) < 0) {
        buf_free(&sql);
        return source_fail(&s->base, SOURCE_ENOMEM, "out of memory");
    }
    sqlite3_finalize(sc->stmt);
    sc->stmt = NULL;
    free(sc->sql);
    sc->sql = sql.data; /* owned by the scan now */
    sc->with_lower = with_lower;
    sc->lower_n = with_lower ? sc->after.n : 0;
    sc->lower_inclusive = with_lower && sc->after_inclusive;
    if (sqlite3_prepare_v2(s->db, sc->sql, -1, &sc->stmt, NULL) != SQLITE_OK) {
        int code = strstr(sqlite3_errmsg(s->db), "no such column") ? SOURCE_ENOTFOUND
                                                                   : SOURCE_ERR;
        return fail_db(s, code, "cannot prepare", sc->sql);
    }
    return 0;
}

/* (Re)binds the statement for the next page and resets it. */
static int start_page(struct litescan *sc)
{
    const struct scan_spec *spec = sc->spec;
    struct litesrc *s = (struct litesrc *)sc->base.src;
    int rc = SQLITE_OK, param = 1;
    /* The first lower bound may be a prefix or inclusive; the pages after it
     * continue from a whole key, exclusive: a new statement. */
    if (sc->have_after &&
        (!sc->with_lower || sc->lower_n != sc->after.n ||
         sc->lower_inclusive != sc->after_inclusive) &&
        (rc = prepare(sc, 1)) < 0)
        return rc;
    sqlite3_stmt *st = sc->stmt;
    sqlite3_reset(st);
    if (sc->with_lower) {
        rc = bind_key(st, param, &sc->after);
        param += (int)sc->after.n;
    }
    if (rc == SQLITE_OK && spec->upto) {
        rc = bind_key(st, param, spec->upto);
        param += (int)spec->upto->n;
    }
    if (rc == SQLITE_OK && sc->limit_param)
        rc = sqlite3_bind_int64(st, sc->limit_param, (sqlite3_int64)spec->page_size);
    if (rc == SQLITE_OK && spec->paging == PAGING_OFFSET)
        rc = sqlite3_bind_int64(st, sc->limit_param + 1, (sqlite3_int64)sc->offset);
    if (rc != SQLITE_OK)
        return fail_db(s, SOURCE_ERR, "cannot bind", sc->sql);
    sc->page_rows = 0;
    return 0;
}

static void litesrc_close_scan(struct scan *scan)
{
    struct litescan *sc = (struct litescan *)scan;
    if (!sc)
        return;
    struct litesrc *s = (struct litesrc *)sc->base.src;
    sqlite3_finalize(sc->stmt);
    if (sc->in_txn)
        sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
    key_clear(&sc->after);
    free(sc->sql);
    free(sc->cells);
    free(sc->key_col);
    free(sc);
}

static int litesrc_open_scan(struct source *src, const struct scan_spec *spec,
                             struct scan **out)
{
    struct litesrc *s = (struct litesrc *)src;
    struct litescan *sc = calloc(1, sizeof *sc);
    if (!sc)
        return source_fail(src, SOURCE_ENOMEM, "out of memory");
    sc->base.src = src;
    sc->spec = spec;
    sc->offset = spec->offset;
    sc->cells = calloc(spec->ncolumns ? spec->ncolumns : 1, sizeof *sc->cells);
    sc->key_col = calloc(spec->nkey ? spec->nkey : 1, sizeof *sc->key_col);
    *out = &sc->base;
    if (!sc->cells || !sc->key_col)
        return source_fail(src, SOURCE_ENOMEM, "out of memory");
    if (spec->after && spec->paging != PAGING_OFFSET) {
        if (key_copy(&sc->after, spec->after) < 0)
            return source_fail(src, SOURCE_ENOMEM, "out of memory");
        sc->have_after = 1;
        sc->after_inclusive = spec->after_inclusive;
    }
    if (spec->snapshot) {
        if (sqlite3_exec(s->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
            return fail_db(s, SOURCE_ERR, "cannot begin", "BEGIN");
        sc->in_txn = 1;
    }
    int rc = prepare(sc, sc->have_after && spec->paging != PAGING_OFFSET);
    if (rc < 0)
        return rc;
    return start_page(sc);
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

static int litesrc_row_key(struct scan *scan, struct keytuple *key);

static int litesrc_next_row(struct scan *scan, const struct cell **row)
{
    struct litescan *sc = (struct litescan *)scan;
    struct litesrc *s = (struct litesrc *)scan->src;
    const struct scan_spec *spec = sc->spec;
    if (sc->done)
        return 0;
    /* A full page ends where the next one begins. */
    if (sc->limit_param && sc->page_rows == spec->page_size) {
        if (spec->paging == PAGING_OFFSET)
            sc->offset += sc->page_rows;
        else {
            sc->have_after = 1; /* sc->after was copied from the page's last row */
            sc->after_inclusive = 0;
        }
        int rc = start_page(sc);
        if (rc < 0)
            return rc;
    }
    int rc = sqlite3_step(sc->stmt);
    if (rc == SQLITE_DONE) {
        sc->done = 1;
        return 0;
    }
    if (rc != SQLITE_ROW)
        return fail_db(s, SOURCE_ERR, "cannot read", sc->sql);
    for (size_t i = 0; i < spec->ncolumns; i++)
        decode_cell(sc->stmt, (int)i, &sc->cells[i]);
    sc->page_rows++;
    if (spec->paging == PAGING_KEYSET && sc->page_rows == spec->page_size) {
        if ((rc = litesrc_row_key(scan, &sc->after)) < 0)
            return rc;
    }
    *row = sc->cells;
    return 1;
}

/* Values of result columns cols[0..n) of st's current row as a key tuple,
 * each with its storage class. 0 or -1 (out of memory). */
static int key_from_row(sqlite3_stmt *st, const int *cols, size_t n,
                        struct keytuple *key)
{
    if (key_resize(key, n) < 0)
        return -1;
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        int col = cols ? cols[i] : (int)i;
        switch (sqlite3_column_type(st, col)) {
        case SQLITE_INTEGER:
            rc = key_set_int(key, i, sqlite3_column_int64(st, col));
            break;
        case SQLITE_FLOAT:
            rc = key_set_real(key, i, sqlite3_column_double(st, col));
            break;
        case SQLITE_TEXT: {
            const char *t = (const char *)sqlite3_column_text(st, col);
            rc = key_set_text(key, i, t, (size_t)sqlite3_column_bytes(st, col));
            break;
        }
        case SQLITE_BLOB: {
            const void *p = sqlite3_column_blob(st, col);
            rc = key_set_blob(key, i, p, (size_t)sqlite3_column_bytes(st, col));
            break;
        }
        default:
            rc = key_set_null(key, i);
            break;
        }
    }
    return rc;
}

static int litesrc_row_key(struct scan *scan, struct keytuple *key)
{
    struct litescan *sc = (struct litescan *)scan;
    if (key_from_row(sc->stmt, sc->key_col, sc->spec->nkey, key) < 0)
        return source_fail(scan->src, SOURCE_ENOMEM, "out of memory");
    return 0;
}

/* ---- incremental ------------------------------------------------------ */

/* Runs sql, binding the lower bound b (may be NULL) from parameter 1, and
 * reads the first n columns of its first row into out (n 0: no row), or
 * an integer into *count when out is NULL. */
static int query_bound(struct litesrc *s, const char *sql, const struct keytuple *b,
                       size_t n, struct keytuple *out, uint64_t *count)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) {
        int code = strstr(sqlite3_errmsg(s->db), "no such column") ? SOURCE_ENOTFOUND
                                                                   : SOURCE_ERR;
        return fail_db(s, code, "cannot prepare", sql);
    }
    int rc = b ? bind_key(st, 1, b) : SQLITE_OK;
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        rc = 0;
        if (!out)
            *count = (uint64_t)sqlite3_column_int64(st, 0);
        else if (key_from_row(st, NULL, n, out) < 0)
            rc = source_fail(&s->base, SOURCE_ENOMEM, "out of memory");
    } else if (rc == SQLITE_DONE) {
        rc = 0;
        if (out)
            key_clear(out);
    } else {
        rc = fail_db(s, SOURCE_ERR, "cannot read", sql);
    }
    sqlite3_finalize(st);
    return rc;
}

/* SELECT cursor FROM t WHERE cursor NOT NULL [AND lower] [AND (where)]
 * ORDER BY cursor (DESC) LIMIT 1, into b. */
static void extreme_sql(struct buf *b, const struct scan_spec *spec, size_t ncursor,
                        int desc)
{
    buf_puts(b, "SELECT ");
    key_list(b, spec, ncursor);
    buf_puts(b, " FROM ");
    quote_table(b, spec->table);
    buf_puts(b, " WHERE ");
    for (size_t i = 0; i < ncursor; i++) {
        quote_ident(b, spec->key[i]);
        buf_puts(b, " IS NOT NULL AND ");
    }
    if (spec->after) {
        key_bound(b, spec, spec->after->n, spec->after_inclusive ? ">=" : ">", 1);
        buf_puts(b, " AND ");
    }
    buf_printf(b, "(%s) ORDER BY ", spec->where ? spec->where : "1");
    for (size_t i = 0; i < ncursor; i++) {
        buf_puts(b, i ? ", " : "");
        quote_ident(b, spec->key[i]);
        buf_puts(b, desc ? " DESC" : "");
    }
    buf_puts(b, " LIMIT 1");
}

static int litesrc_cursor_range(struct source *src, const struct scan_spec *spec,
                                size_t ncursor, struct keytuple *min,
                                struct keytuple *max, uint64_t *nulls)
{
    struct litesrc *s = (struct litesrc *)src;
    struct buf b;
    buf_init(&b, 1 << 20);
    int rc = 0, nullable = 0;
    for (size_t i = 0; i < ncursor; i++) {
        long c = table_desc_column(spec->table, spec->key[i]);
        nullable |= c < 0 || spec->table->cols[c].nullable;
    }
    *nulls = 0;
    for (int desc = 0; desc <= 1 && rc == 0; desc++) {
        buf_reset(&b);
        extreme_sql(&b, spec, ncursor, desc);
        rc = buf_cstr(&b) ? query_bound(s, b.data, spec->after, ncursor,
                                        desc ? max : min, NULL)
                          : source_fail(src, SOURCE_ENOMEM, "out of memory");
    }
    if (rc == 0 && nullable) {
        buf_reset(&b);
        buf_puts(&b, "SELECT count(*) FROM ");
        quote_table(&b, spec->table);
        buf_puts(&b, " WHERE (");
        for (size_t i = 0; i < ncursor; i++) {
            buf_puts(&b, i ? " OR " : "");
            quote_ident(&b, spec->key[i]);
            buf_puts(&b, " IS NULL");
        }
        buf_printf(&b, ") AND (%s)", spec->where ? spec->where : "1");
        rc = buf_cstr(&b) ? query_bound(s, b.data, NULL, 0, NULL, nulls)
                          : source_fail(src, SOURCE_ENOMEM, "out of memory");
    }
    buf_free(&b);
    return rc;
}

/* SQLite shows no other connection's transactions: none to hold back for. */
static int litesrc_oldest_transaction(struct source *src, struct keytuple *out)
{
    (void)src;
    key_clear(out);
    return 0;
}

const struct source_driver litesrc_driver = {
    .name = "sqlite",
    .claims = litesrc_claims,
    .open = litesrc_open,
    .close = litesrc_close,
    .list_tables = litesrc_list_tables,
    .describe = litesrc_describe,
    .open_scan = litesrc_open_scan,
    .next_row = litesrc_next_row,
    .row_key = litesrc_row_key,
    .close_scan = litesrc_close_scan,
    .cursor_range = litesrc_cursor_range,
    .oldest_transaction = litesrc_oldest_transaction,
};
