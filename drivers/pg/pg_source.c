/* pg_source.c - the PostgreSQL driver (libpq).
 *
 * URLs: any libpq URI (postgres://, postgresql://), or "postgres:" /
 * "postgresql:" followed by a libpq conninfo string ("postgres:service=x",
 * "postgresql:host=/run/postgresql dbname=app", or nothing: libpq's
 * defaults). So .pgpass, PGPASSWORD, PGSERVICE and sslmode all work.
 * application_name defaults to "sluice" (fallback_application_name: the
 * URL or PGAPPNAME may name it otherwise). Each session runs with TimeZone
 * UTC, DateStyle ISO, IntervalStyle iso_8601, extra_float_digits 3 and
 * client_encoding UTF8, which pg_types.c relies on.
 *
 * Tables are named "name" (searched in search_path, then public) or
 * "schema.name", case-sensitive, unquoted. list_tables() gives "name" for
 * public tables and "schema.name" otherwise; it lists tables, partitioned
 * parents, views, materialized views and foreign tables, but not the
 * partitions of a partitioned table (extract the parent; a partition can
 * still be named explicitly).
 *
 * Paging (results in binary format; one PGresult per page, no per-row
 * allocation; the next page is requested as soon as the current one
 * arrives, so the server works while the core encodes):
 *   keyset  `WHERE (k1,k2) > ($1,$2) ... ORDER BY k1,k2 LIMIT n`, prepared
 *           once per scan; the first page has no lower bound.
 *   offset  `ORDER BY k LIMIT n OFFSET $m`, prepared once.
 *   cursor  DECLARE ... NO SCROLL CURSOR in a REPEATABLE READ READ ONLY
 *           transaction starting after spec->after, FETCH FORWARD n.
 *   ctid    tables with no primary key or unique NOT NULL index page by
 *           ctid through TID range scans (PostgreSQL 14+): block ranges
 *           `ctid > $1 AND ctid < '(hi,0)'` sized to about one page of rows,
 *           then a tail query for rows past the size seen at the start.
 *           ctid paging is only safe while the table is not being updated:
 *           an UPDATE or VACUUM FULL moves rows to other ctids, so a row can
 *           be missed or read twice across pages (use --snapshot for a
 *           consistent run, and never resume across a VACUUM FULL).
 * --snapshot runs all pages of keyset/offset in one REPEATABLE READ READ
 * ONLY transaction (cursor paging always does).
 *
 * Bounds are on key prefixes, compared as rows: spec->after gives
 * `(k1..kn) > ($1..$n)` (`>=` when inclusive) and spec->upto
 * `(k1..km) <= (...)`. keyset applies after to its first page only, then
 * continues from the last row's full key; offset and cursor keep both
 * bounds for the whole scan (offset counts rows inside them); ctid paging
 * takes only an exclusive after.
 *
 * Incremental: cursor_range() reads min/max of the cursor prefix and the
 * NULL count in one statement; oldest_transaction() reads pg_stat_activity
 * (sessions of other roles are invisible without pg_read_all_stats). Both
 * run on the scan's connection: call them while no scan is open. */
#include <libpq-fe.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "pg_types.h"
#include "source/source.h"
#include "source/url.h"

extern const struct source_driver pgsrc_driver;

#define PGSRC_SQL_MAX (64u << 20)
#define PGSRC_ROW_MAX (1u << 30) /* per-row scratch cap */

struct pgsrc {
    struct source base;
    PGconn *conn;
    unsigned seq; /* names prepared statements and cursors */
};

/* One column as the catalog describes it, domains resolved. */
struct pgsrc_col {
    char *name;
    char *db_type;
    int notnull;
    uint32_t base;     /* type oid after domains */
    int is_array;
    uint32_t elem;     /* element type after domains, arrays only */
    int is_enum, elem_is_enum;
    char *outfn;       /* the base type's output function, quoted */
    char delim;        /* the element type's array delimiter */
};

/* Statement parameters: values (text, or binary for bytea), and room to
 * format numbers. */
struct pgparams {
    size_t max;
    const char **v;
    int *len, *fmt;
    char (*num)[48];
};

static int params_alloc(struct pgparams *p, size_t max)
{
    p->max = max;
    p->v = calloc(max, sizeof *p->v);
    p->len = calloc(max, sizeof *p->len);
    p->fmt = calloc(max, sizeof *p->fmt);
    p->num = calloc(max, sizeof *p->num);
    return p->v && p->len && p->fmt && p->num ? 0 : -1;
}

static void params_free(struct pgparams *p)
{
    free(p->v);
    free(p->len);
    free(p->fmt);
    free(p->num);
}

enum pgsrc_mode { MODE_KEYSET, MODE_CTID_RANGE, MODE_CTID_TAIL, MODE_OFFSET, MODE_CURSOR };

struct pgscan {
    struct scan base;
    const struct scan_spec *spec;
    PGconn *conn;
    enum pgsrc_mode mode;
    size_t nout, nres;           /* output columns; all result columns */
    struct pgsrc_decoder *pc;       /* decoder per result column */
    int *key_col;                /* result column of each key column */
    char *sql_first;             /* keyset page 1 / cursor DECLARE */
    char *sql_next;              /* prepared: keyset, ctid range, offset */
    char *sql_tail;              /* prepared: ctid tail */
    char *sql_fetch;             /* cursor FETCH */
    char stmt_next[40], stmt_tail[40], cursor[40];
    int prep_next, prep_tail;
    struct keytuple after;       /* lower bound of the next page */
    int have_after;
    uint64_t offset;
    uint64_t hi, nb, nblocks;    /* ctid: range end block, blocks per range, size */
    PGresult *res;
    int nrows, row;
    int pending;                 /* a page query is in flight */
    const char *pending_sql;
    int last, done, in_tx;
    int err;                     /* first error of this scan, 0 if none */
    struct pgparams p;           /* parameters */
    /* decoding */
    struct cell *cells;
    size_t *offs;
    unsigned char *fix;
    struct buf scratch, tmp, keyscratch;
};

/* ---- messages ------------------------------------------------------- */

/* Replaces each occurrence of secret in msg (capacity cap) with "***". */
static void scrub(char *msg, size_t cap, const char *secret, size_t slen)
{
    if (!secret || slen == 0)
        return;
    char *p;
    while ((p = memmem(msg, strlen(msg), secret, slen)) != NULL) {
        size_t tail = strlen(p + slen);
        if ((size_t)(p - msg) + 3 + tail + 1 > cap)
            tail = cap - (size_t)(p - msg) - 4;
        memmove(p + 3, p + slen, tail);
        p[3 + tail] = '\0';
        memcpy(p, "***", 3);
    }
}

static void trim_nl(char *m)
{
    size_t n = strlen(m);
    while (n && (m[n - 1] == '\n' || m[n - 1] == ' '))
        m[--n] = '\0';
}

/* Records the error of a failed result (or of the connection when r is
 * NULL) with the server's message and the SQL that failed. */
static int res_fail(struct pgsrc *s, const PGresult *r, const char *sql)
{
    const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    const char *primary = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    char msg[600];
    snprintf(msg, sizeof msg, "%s",
             primary ? primary
                     : (r && *PQresultErrorMessage(r)) ? PQresultErrorMessage(r)
                                                       : PQerrorMessage(s->conn));
    trim_nl(msg);
    if (!msg[0])
        snprintf(msg, sizeof msg, "no result from the server");
    int code = SOURCE_ERR;
    if (PQstatus(s->conn) == CONNECTION_BAD ||
        (state && (strncmp(state, "08", 2) == 0 || strcmp(state, "57P01") == 0 ||
                   strcmp(state, "57P02") == 0 || strcmp(state, "57P03") == 0)))
        code = SOURCE_ECONN;
    else if (state && (strcmp(state, "42P01") == 0 || strcmp(state, "42703") == 0 ||
                       strcmp(state, "3F000") == 0))
        code = SOURCE_ENOTFOUND;
    else if (!state && !r)
        code = SOURCE_ECONN;
    /* A long select list is elided in the middle: WHERE, ORDER BY and LIMIT
     * at the end are what a reader needs. */
    int sqllen = sql ? (int)strlen(sql) : 0, head = sqllen > 800 ? 300 : sqllen;
    return source_fail(&s->base, code, "postgres: %s%s%s%s; SQL: %.*s%s%s", msg,
                       state ? " (SQLSTATE " : "", state ? state : "", state ? ")" : "",
                       head, sql ? sql : "", sqllen > 800 ? " ... " : "",
                       sqllen > 800 ? sql + sqllen - 450 : "");
}

static int oom(struct pgsrc *s)
{
    return source_fail(&s->base, SOURCE_ENOMEM, "postgres: out of memory");
}

/* Runs sql with text parameters (NULL entries are SQL NULL) and text
 * results. *out is owned by the caller (PQclear). */
static int query(struct pgsrc *s, const char *sql, int n, const char *const *params,
                 PGresult **out)
{
    *out = NULL;
    PGresult *r = PQexecParams(s->conn, sql, n, NULL, params, NULL, NULL, 0);
    ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
        int rc = res_fail(s, r, sql);
        PQclear(r);
        return rc;
    }
    *out = r;
    return 0;
}

/* Runs sql (one or more statements, no parameters) for its effect. */
static int command(struct pgsrc *s, const char *sql)
{
    PGresult *r = PQexec(s->conn, sql);
    ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    int rc = 0;
    if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK)
        rc = res_fail(s, r, sql);
    PQclear(r);
    return rc;
}

/* ---- open / close --------------------------------------------------- */

static int pgsrc_claims(const char *url)
{
    return strncmp(url, "postgres:", 9) == 0 || strncmp(url, "postgresql:", 11) == 0;
}

/* The libpq connection string inside a sluice URL. */
static const char *conninfo_of(const char *url)
{
    if (strncmp(url, "postgres://", 11) == 0 || strncmp(url, "postgresql://", 13) == 0)
        return url;
    return strchr(url, ':') + 1;
}

/* The password of a URI's userinfo ("scheme://user:PW@host"), raw. */
static void uri_password(const char *url, const char **pw, size_t *len)
{
    *pw = NULL;
    *len = 0;
    const char *auth = strstr(url, "://");
    if (!auth)
        return;
    auth += 3;
    const char *at = strrchr(auth, '@');
    if (!at)
        return;
    const char *colon = memchr(auth, ':', (size_t)(at - auth));
    if (colon) {
        *pw = colon + 1;
        *len = (size_t)(at - colon - 1);
    }
}


/* Values libpq accepts only at connect time, checked up front: ports
 * (comma lists for several hosts) 1-65535, and the known sslmodes. */
static int conninfo_value_ok(const char *kw, const char *val)
{
    if (strcmp(kw, "port") == 0) {
        for (const char *p = val;;) {
            size_t n = strcspn(p, ",");
            long v = 0;
            for (size_t i = 0; i < n && v <= 65535; i++)
                v = p[i] >= '0' && p[i] <= '9' ? v * 10 + (p[i] - '0') : 65536;
            if (n && (v < 1 || v > 65535))
                return 0;
            if (!p[n])
                return 1;
            p += n + 1;
        }
    }
    if (strcmp(kw, "sslmode") == 0) {
        static const char *const modes[] = {"disable", "allow", "prefer", "require",
                                            "verify-ca", "verify-full"};
        for (size_t i = 0; i < sizeof modes / sizeof *modes; i++)
            if (strcmp(val, modes[i]) == 0)
                return 1;
        return 0;
    }
    return 1;
}
/* Server notices (and the FATAL a terminated backend sends while idle)
 * would go to stderr; errors reach the user through the handle instead. */
static void quiet_notices(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

static int pgsrc_open(const char *url, struct source **out)
{
    struct pgsrc *s = calloc(1, sizeof *s);
    if (!s)
        return SOURCE_ENOMEM;
    s->base.drv = &pgsrc_driver;
    *out = &s->base;
    const char *conninfo = conninfo_of(url);
    const char *rawpw;
    size_t rawpwlen;
    uri_password(conninfo, &rawpw, &rawpwlen);

    char *perr = NULL;
    PQconninfoOption *opts = PQconninfoParse(conninfo, &perr);
    if (!opts) {
        char msg[512], red[512];
        snprintf(msg, sizeof msg, "%s", perr ? perr : "out of memory");
        PQfreemem(perr);
        trim_nl(msg);
        url_redact(url, red, sizeof red);
        scrub(msg, sizeof msg, conninfo, strlen(conninfo));
        scrub(msg, sizeof msg, rawpw, rawpwlen);
        return source_fail(&s->base, SOURCE_EUSAGE,
                           "invalid PostgreSQL connection string %s: %s", red, msg);
    }
    char *password = NULL;
    const char *bad = NULL;
    char badval[128] = "";
    for (PQconninfoOption *o = opts; o->keyword; o++) {
        if (strcmp(o->keyword, "password") == 0 && o->val)
            password = strdup(o->val);
        else if (!bad && o->val && !conninfo_value_ok(o->keyword, o->val)) {
            bad = strcmp(o->keyword, "port") == 0 ? "port" : "sslmode";
            snprintf(badval, sizeof badval, "%s", o->val);
        }
    }
    PQconninfoFree(opts);
    if (bad) {
        /* libpq would only say so when connecting: a usage error, not a
         * connection failure. */
        char red[512];
        url_redact(url, red, sizeof red);
        free(password);
        return source_fail(&s->base, SOURCE_EUSAGE,
                           "invalid PostgreSQL connection string %s: bad %s '%s'", red, bad,
                           badval);
    }

    /* Later keywords override the expanded dbname: client_encoding is
     * forced, the application name is only a fallback. */
    const char *const kw[] = {"dbname", "fallback_application_name", "client_encoding", NULL};
    const char *const val[] = {conninfo, "sluice", "UTF8", NULL};
    s->conn = PQconnectdbParams(kw, val, 1);
    if (!s->conn || PQstatus(s->conn) != CONNECTION_OK) {
        char msg[700];
        if (!s->conn) {
            free(password);
            return oom(s);
        }
        snprintf(msg, sizeof msg,
                 "cannot connect to PostgreSQL (host %s port %s dbname %s user %s): %s",
                 PQhost(s->conn) ? PQhost(s->conn) : "?",
                 PQport(s->conn) ? PQport(s->conn) : "?",
                 PQdb(s->conn) ? PQdb(s->conn) : "?",
                 PQuser(s->conn) ? PQuser(s->conn) : "?", PQerrorMessage(s->conn));
        trim_nl(msg);
        scrub(msg, sizeof msg, password, password ? strlen(password) : 0);
        scrub(msg, sizeof msg, rawpw, rawpwlen);
        free(password);
        return source_fail(&s->base, SOURCE_ECONN, "%s", msg);
    }
    free(password);
    PQsetNoticeProcessor(s->conn, quiet_notices, NULL);
    return command(s, "SET TimeZone = 'UTC'; SET DateStyle = 'ISO, MDY'; "
                      "SET IntervalStyle = 'iso_8601'; SET extra_float_digits = 3");
}

static void pgsrc_close(struct source *src)
{
    struct pgsrc *s = (struct pgsrc *)src;
    if (!s)
        return;
    if (s->conn)
        PQfinish(s->conn);
    free(s);
}

/* ---- catalog -------------------------------------------------------- */

static int pgsrc_list_tables(struct source *src, struct strlist *out)
{
    struct pgsrc *s = (struct pgsrc *)src;
    PGresult *r;
    int rc = query(s,
                   "SELECT n.nspname, c.relname FROM pg_catalog.pg_class c "
                   "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
                   "WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') AND NOT c.relispartition "
                   "AND n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\\_%' "
                   "ORDER BY 1, 2",
                   0, NULL, &r);
    if (rc < 0)
        return rc;
    struct buf b;
    buf_init(&b, 1 << 16);
    for (int i = 0; i < PQntuples(r) && rc == 0; i++) {
        buf_reset(&b);
        const char *nsp = PQgetvalue(r, i, 0), *rel = PQgetvalue(r, i, 1);
        if (strcmp(nsp, "public") != 0)
            buf_printf(&b, "%s.", nsp);
        buf_puts(&b, rel);
        const char *name = buf_cstr(&b);
        if (!name || strlist_add(out, name) < 0)
            rc = oom(s);
    }
    buf_free(&b);
    PQclear(r);
    return rc;
}

/* The relation a user's table name means: an exact "schema.name" first,
 * then the whole text as a name in search_path (then public). */
static const char resolve_sql[] =
    "SELECT c.oid, n.nspname, c.relname, c.relkind, "
    "CASE WHEN c.relkind = 'p' THEN (SELECT CASE WHEN bool_or(l.reltuples >= 0) "
    "THEN sum(greatest(l.reltuples, 0)) ELSE -1 END "
    "FROM pg_catalog.pg_partition_tree(c.oid) t JOIN pg_catalog.pg_class l ON l.oid = t.relid "
    "WHERE t.isleaf) WHEN c.relkind IN ('r', 'm', 'f') THEN c.reltuples ELSE -1 END::float8::int8, "
    "c.relpages, pg_catalog.pg_relation_size(c.oid) / "
    "pg_catalog.current_setting('block_size')::int8 "
    "FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
    "WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') AND ((n.nspname = $2 AND c.relname = $3) "
    "OR (c.relname = $1 AND (n.nspname = ANY (pg_catalog.current_schemas(false)) "
    "OR n.nspname = 'public'))) "
    "ORDER BY coalesce(n.nspname = $2 AND c.relname = $3, false) DESC, "
    "coalesce(pg_catalog.array_position(pg_catalog.current_schemas(false), n.nspname), 1000000) "
    "LIMIT 1";

/* Columns in order, with domains resolved to their base type, and the
 * element type (domains resolved) of array types. */
static const char columns_sql[] =
    "WITH RECURSIVE b(attnum, typ) AS ("
    " SELECT a.attnum, a.atttypid FROM pg_catalog.pg_attribute a"
    " WHERE a.attrelid = $1::oid AND a.attnum > 0 AND NOT a.attisdropped"
    " UNION ALL SELECT b.attnum, t.typbasetype FROM b JOIN pg_catalog.pg_type t ON t.oid = b.typ"
    " WHERE t.typtype = 'd'),"
    " e(attnum, typ) AS ("
    " SELECT b.attnum, t.typelem FROM b JOIN pg_catalog.pg_type t ON t.oid = b.typ"
    " WHERE t.typtype <> 'd' AND t.typcategory = 'A' AND t.typelem <> 0"
    " UNION ALL SELECT e.attnum, t.typbasetype FROM e JOIN pg_catalog.pg_type t ON t.oid = e.typ"
    " WHERE t.typtype = 'd') "
    "SELECT a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod), a.attnotnull,"
    " bt.oid, bt.typtype, et.oid, et.typtype,"
    " pg_catalog.quote_ident(pn.nspname) || '.' || pg_catalog.quote_ident(pp.proname), et.typdelim "
    "FROM pg_catalog.pg_attribute a"
    " JOIN b ON b.attnum = a.attnum JOIN pg_catalog.pg_type bt ON bt.oid = b.typ AND bt.typtype <> 'd'"
    " JOIN pg_catalog.pg_proc pp ON pp.oid = bt.typoutput"
    " JOIN pg_catalog.pg_namespace pn ON pn.oid = pp.pronamespace"
    " LEFT JOIN (e JOIN pg_catalog.pg_type et ON et.oid = e.typ AND et.typtype <> 'd')"
    " ON e.attnum = a.attnum "
    "WHERE a.attrelid = $1::oid ORDER BY a.attnum";

static const char indexes_sql[] =
    "SELECT i.indexrelid, i.indisprimary, a.attname, a.attnotnull "
    "FROM pg_catalog.pg_index i CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord) "
    "JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum "
    "WHERE i.indrelid = $1::oid AND k.ord <= i.indnkeyatts AND (i.indisprimary OR "
    "(i.indisunique AND i.indisvalid AND i.indpred IS NULL AND i.indexprs IS NULL)) "
    "ORDER BY i.indisprimary DESC, i.indexrelid, k.ord";

struct pgsrc_rel {
    char oid[16];
    char relkind;
    int64_t estimate;
    int64_t relpages, nblocks;
    char *schema, *name;
};

static void rel_free(struct pgsrc_rel *rel)
{
    free(rel->schema);
    free(rel->name);
}

static int resolve(struct pgsrc *s, const char *table, struct pgsrc_rel *rel)
{
    memset(rel, 0, sizeof *rel);
    char *nsp = NULL;
    const char *dot = strchr(table, '.');
    if (dot && !(nsp = strndup(table, (size_t)(dot - table))))
        return oom(s);
    const char *params[3] = {table, nsp, dot ? dot + 1 : NULL};
    PGresult *r;
    int rc = query(s, resolve_sql, 3, params, &r);
    free(nsp);
    if (rc < 0)
        return rc;
    if (PQntuples(r) == 0) {
        PQclear(r);
        return source_fail(&s->base, SOURCE_ENOTFOUND, "table \"%s\" does not exist", table);
    }
    snprintf(rel->oid, sizeof rel->oid, "%s", PQgetvalue(r, 0, 0));
    rel->schema = strdup(PQgetvalue(r, 0, 1));
    rel->name = strdup(PQgetvalue(r, 0, 2));
    rel->relkind = PQgetvalue(r, 0, 3)[0];
    rel->estimate = PQgetisnull(r, 0, 4) ? -1 : strtoll(PQgetvalue(r, 0, 4), NULL, 10);
    rel->relpages = strtoll(PQgetvalue(r, 0, 5), NULL, 10);
    rel->nblocks = strtoll(PQgetvalue(r, 0, 6), NULL, 10);
    PQclear(r);
    if (!rel->schema || !rel->name) {
        rel_free(rel);
        return oom(s);
    }
    return 0;
}

static void cols_free(struct pgsrc_col *c, size_t n)
{
    for (size_t i = 0; c && i < n; i++) {
        free(c[i].name);
        free(c[i].db_type);
        free(c[i].outfn);
    }
    free(c);
}

static int load_columns(struct pgsrc *s, const char *oid, struct pgsrc_col **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    PGresult *r;
    const char *params[1] = {oid};
    int rc = query(s, columns_sql, 1, params, &r);
    if (rc < 0)
        return rc;
    size_t rows = (size_t)PQntuples(r);
    struct pgsrc_col *c = calloc(rows ? rows : 1, sizeof *c);
    if (!c) {
        PQclear(r);
        return oom(s);
    }
    for (size_t i = 0; i < rows; i++) {
        int k = (int)i;
        c[i].name = strdup(PQgetvalue(r, k, 0));
        c[i].db_type = strdup(PQgetvalue(r, k, 1));
        c[i].notnull = PQgetvalue(r, k, 2)[0] == 't';
        c[i].base = (uint32_t)strtoul(PQgetvalue(r, k, 3), NULL, 10);
        c[i].is_enum = PQgetvalue(r, k, 4)[0] == 'e';
        c[i].is_array = !PQgetisnull(r, k, 5);
        if (c[i].is_array) {
            c[i].elem = (uint32_t)strtoul(PQgetvalue(r, k, 5), NULL, 10);
            c[i].elem_is_enum = PQgetvalue(r, k, 6)[0] == 'e';
            c[i].delim = PQgetvalue(r, k, 8)[0];
        }
        c[i].outfn = strdup(PQgetvalue(r, k, 7));
        if (!c[i].name || !c[i].db_type || !c[i].outfn) {
            PQclear(r);
            cols_free(c, rows);
            return oom(s);
        }
    }
    PQclear(r);
    *out = c;
    *n = rows;
    return 0;
}

static char **str_push(char ***v, size_t *n, const char *s)
{
    char *copy = strdup(s);
    char **nv = copy ? realloc(*v, (*n + 1) * sizeof **v) : NULL;
    if (!nv) {
        free(copy);
        return NULL;
    }
    nv[(*n)++] = copy;
    *v = nv;
    return nv;
}

static int load_keys(struct pgsrc *s, const char *oid, struct table_desc *d)
{
    PGresult *r;
    const char *params[1] = {oid};
    int rc = query(s, indexes_sql, 1, params, &r);
    if (rc < 0)
        return rc;
    int rows = PQntuples(r);
    for (int i = 0; i < rows && rc == 0;) {
        const char *idx = PQgetvalue(r, i, 0);
        int primary = PQgetvalue(r, i, 1)[0] == 't';
        int j = i, allnotnull = 1;
        while (j < rows && strcmp(PQgetvalue(r, j, 0), idx) == 0) {
            allnotnull &= PQgetvalue(r, j, 3)[0] == 't';
            j++;
        }
        if (primary && d->npk == 0) {
            for (int k = i; k < j && rc == 0; k++)
                if (!str_push(&d->pk, &d->npk, PQgetvalue(r, k, 2)))
                    rc = oom(s);
        } else if (!primary && allnotnull) {
            struct unique_key *u = realloc(d->uniq, (d->nuniq + 1) * sizeof *u);
            if (!u) {
                rc = oom(s);
                break;
            }
            d->uniq = u;
            u = &d->uniq[d->nuniq++];
            u->cols = NULL;
            u->n = 0;
            for (int k = i; k < j && rc == 0; k++)
                if (!str_push(&u->cols, &u->n, PQgetvalue(r, k, 2)))
                    rc = oom(s);
        }
        i = j;
    }
    PQclear(r);
    return rc;
}

static int pgsrc_describe(struct source *src, const char *table, struct table_desc **out)
{
    struct pgsrc *s = (struct pgsrc *)src;
    struct pgsrc_rel rel;
    int rc = resolve(s, table, &rel);
    if (rc < 0)
        return rc;
    struct pgsrc_col *cols = NULL;
    size_t ncols = 0;
    struct table_desc *d = calloc(1, sizeof *d);
    if (!d) {
        rel_free(&rel);
        return oom(s);
    }
    d->schema = rel.schema;
    d->name = rel.name;
    d->is_view = rel.relkind == 'v';
    d->row_estimate = rel.estimate < 0 ? -1 : rel.estimate;
    rc = load_columns(s, rel.oid, &cols, &ncols);
    if (rc == 0) {
        d->cols = calloc(ncols ? ncols : 1, sizeof *d->cols);
        if (!d->cols)
            rc = oom(s);
    }
    for (size_t i = 0; rc == 0 && i < ncols; i++) {
        d->cols[i].name = cols[i].name;
        d->cols[i].db_type = cols[i].db_type;
        cols[i].name = cols[i].db_type = NULL;
        d->cols[i].json_type = pgsrc_json_type(cols[i].base, cols[i].is_array);
        d->cols[i].nullable = !cols[i].notnull;
        d->ncols++;
    }
    cols_free(cols, ncols);
    if (rc == 0)
        rc = load_keys(s, rel.oid, d);
    /* ctid identifies a row only in a plain table or materialized view; a
     * partitioned parent's ctids repeat across its partitions. */
    if (rc == 0 && d->npk == 0 && d->nuniq == 0 && (rel.relkind == 'r' || rel.relkind == 'm'))
        d->implicit_key = "ctid";
    if (rc < 0) {
        table_desc_free(d);
        return rc;
    }
    *out = d;
    return 0;
}

/* ---- scans ---------------------------------------------------------- */

static int scan_fail(struct pgscan *sc, int code, const char *fmt, const char *arg)
{
    return source_fail(sc->base.src, code, fmt, arg);
}

static int append_ident(struct pgsrc *s, struct buf *b, const char *name)
{
    char *q = PQescapeIdentifier(s->conn, name, strlen(name));
    if (!q)
        return res_fail(s, NULL, NULL);
    buf_puts(b, q);
    PQfreemem(q);
    return 0;
}

/* "schema"."table"."col": qualified so a select-list cast named like the
 * column never shadows it in WHERE/ORDER BY. */
static int append_keycol(struct pgsrc *s, struct buf *b, const char *qtable, const char *k)
{
    buf_puts(b, qtable);
    buf_putc(b, '.');
    return append_ident(s, b, k);
}

/* (k1, k2, ...): the first n key columns; dir (" DESC") follows each. */
static int append_keylist(struct pgsrc *s, struct buf *b, const struct scan_spec *spec,
                          size_t n, const char *qtable, int paren, const char *dir)
{
    if (paren)
        buf_putc(b, '(');
    for (size_t i = 0; i < n; i++) {
        if (i)
            buf_puts(b, ", ");
        if (append_keycol(s, b, qtable, spec->key[i]) < 0)
            return -1;
        buf_puts(b, dir);
    }
    if (paren)
        buf_putc(b, ')');
    return 0;
}

/* ($first, $first+1, ...) with ::tid for ctid. */
static void append_params(struct buf *b, size_t n, size_t first, int ctid)
{
    buf_putc(b, '(');
    for (size_t i = 0; i < n; i++)
        buf_printf(b, "%s$%zu%s", i ? ", " : "", first + i, ctid ? "::tid" : "");
    buf_putc(b, ')');
}

/* Binds keytuple k (values of key columns key[0..k->n)) to parameters
 * from index at; the text values stay k's. */
static int bind_values(struct source *src, struct pgparams *pp, const char *const *key,
                       const struct keytuple *k, size_t at)
{
    if (at + k->n > pp->max)
        return source_fail(src, SOURCE_EUSAGE, "postgres: too many key values");
    for (size_t i = 0; i < k->n; i++) {
        const struct keyval *v = &k->v[i];
        size_t p = at + i;
        pp->fmt[p] = 0;
        pp->len[p] = 0;
        switch (v->kind) {
        case KEY_INT:
            snprintf(pp->num[p], sizeof pp->num[p], "%" PRId64, v->i);
            pp->v[p] = pp->num[p];
            break;
        case KEY_REAL:
            if (isnan(v->r))
                snprintf(pp->num[p], sizeof pp->num[p], "NaN");
            else if (isinf(v->r))
                snprintf(pp->num[p], sizeof pp->num[p], "%sInfinity", v->r < 0 ? "-" : "");
            else
                snprintf(pp->num[p], sizeof pp->num[p], "%.17g", v->r);
            pp->v[p] = pp->num[p];
            break;
        case KEY_TEXT:
            pp->v[p] = v->s;
            break;
        case KEY_BLOB:
            pp->v[p] = v->s;
            pp->len[p] = (int)v->len;
            pp->fmt[p] = 1;
            break;
        case KEY_NULL:
            return source_fail(src, SOURCE_EUSAGE,
                               "postgres: cannot page after a NULL key value (key column %s is "
                               "nullable)", key[i]);
        }
    }
    return 0;
}

static int bind_key(struct pgscan *sc, const struct keytuple *k, size_t at)
{
    return bind_values(sc->base.src, &sc->p, sc->spec->key, k, at);
}

/* Value (row, col) of res, decoded by pc, into key value i in PostgreSQL
 * input syntax: the one syntax of row_key() and cursor_range(). */
static int key_value(struct pgsrc *s, const PGresult *res, int row, int col,
                     const struct pgsrc_decoder *pc, struct buf *scratch, const char *name,
                     struct keytuple *key, size_t i)
{
    if (PQgetisnull(res, row, col))
        return key_set_null(key, i);
    const char *v = PQgetvalue(res, row, col);
    size_t len = (size_t)PQgetlength(res, row, col);
    struct cell c;
    size_t off = 0;
    buf_reset(scratch);
    int d = pgsrc_decode(pc, v, len, scratch, NULL, &c, &off);
    if (d < 0)
        return d == PGSRC_ENOMEM ? oom(s)
                                 : source_fail(&s->base, SOURCE_ERR,
                                               "postgres: malformed value in key column %s", name);
    if (d == 1)
        c.v.s = scratch->data + off;
    char num[48];
    int rc = 0;
    switch (c.kind) {
    case CELL_INT:
        rc = key_set_int(key, i, c.v.i);
        break;
    case CELL_BOOL:
        rc = key_set_text(key, i, c.v.i ? "true" : "false", c.v.i ? 4 : 5);
        break;
    case CELL_DOUBLE: {
        size_t n;
        if (isnan(c.v.d))
            n = (size_t)snprintf(num, sizeof num, "NaN");
        else if (isinf(c.v.d))
            n = (size_t)snprintf(num, sizeof num, "%sInfinity", c.v.d < 0 ? "-" : "");
        else if (pc->dec == PGDEC_FLOAT4)
            n = pgsrc_float4_text((float)c.v.d, num);
        else
            n = (size_t)snprintf(num, sizeof num, "%.17g", c.v.d);
        rc = key_set_text(key, i, num, n);
        break;
    }
    case CELL_BYTES:
        rc = key_set_blob(key, i, c.v.s, c.len);
        break;
    case CELL_NULL:
        rc = key_set_null(key, i);
        break;
    default: /* text, number, json: already input syntax */
        rc = key_set_text(key, i, c.v.s, c.len);
        break;
    }
    return rc < 0 ? oom(s) : 0;
}

/* The key of result row `row` into key, in PostgreSQL input syntax. */
static int key_of_row(struct pgscan *sc, int row, struct keytuple *key)
{
    struct pgsrc *s = (struct pgsrc *)sc->base.src;
    const struct scan_spec *spec = sc->spec;
    if (key_resize(key, spec->nkey) < 0)
        return oom(s);
    for (size_t i = 0; i < spec->nkey; i++) {
        int col = sc->key_col[i];
        int rc = key_value(s, sc->res, row, col, &sc->pc[col], &sc->keyscratch, spec->key[i],
                           key, i);
        if (rc < 0)
            return rc;
    }
    return 0;
}

static int decode_row(struct pgscan *sc)
{
    buf_reset(&sc->scratch);
    for (size_t i = 0; i < sc->nout; i++) {
        int c = (int)i;
        sc->fix[i] = 0;
        if (PQgetisnull(sc->res, sc->row, c)) {
            sc->cells[i].kind = CELL_NULL;
            continue;
        }
        int rc = pgsrc_decode(&sc->pc[i], PQgetvalue(sc->res, sc->row, c),
                               (size_t)PQgetlength(sc->res, sc->row, c), &sc->scratch,
                               &sc->tmp, &sc->cells[i], &sc->offs[i]);
        if (rc < 0)
            return rc == PGSRC_ENOMEM
                       ? oom((struct pgsrc *)sc->base.src)
                       : scan_fail(sc, SOURCE_ERR, "postgres: malformed binary value in column %s",
                                   sc->spec->columns[i]);
        sc->fix[i] = (unsigned char)rc;
    }
    for (size_t i = 0; i < sc->nout; i++)
        if (sc->fix[i])
            sc->cells[i].v.s = sc->scratch.data + sc->offs[i];
    return 0;
}

static int send_fail(struct pgscan *sc, const char *sql)
{
    return res_fail((struct pgsrc *)sc->base.src, NULL, sql);
}

/* Sends the query of the next page; its result is read by recv_page. */
static int send_page(struct pgscan *sc)
{
    const struct scan_spec *spec = sc->spec;
    size_t nk = spec->nkey, np = 0;
    int rc = 0, ok;
    const struct keytuple *upto = spec->upto;
    switch (sc->mode) {
    case MODE_KEYSET:
        if (sc->have_after) {
            rc = bind_key(sc, &sc->after, 0);
            np = nk;
        } else if (spec->after) {
            rc = bind_key(sc, spec->after, 0);
            np = spec->after->n;
        }
        if (rc == 0 && upto) {
            rc = bind_key(sc, upto, np);
            np += upto->n;
        }
        if (rc < 0)
            return rc;
        if (sc->have_after) {
            ok = PQsendQueryPrepared(sc->conn, sc->stmt_next, (int)np, sc->p.v, sc->p.len,
                                     sc->p.fmt, 1);
            sc->pending_sql = sc->sql_next;
        } else {
            ok = PQsendQueryParams(sc->conn, sc->sql_first, (int)np, NULL, sc->p.v, sc->p.len,
                                   sc->p.fmt, 1);
            sc->pending_sql = sc->sql_first;
        }
        break;
    case MODE_CTID_RANGE:
    case MODE_CTID_TAIL: {
        if ((rc = bind_key(sc, &sc->after, 0)) < 0)
            return rc;
        np = 1;
        if (sc->mode == MODE_CTID_RANGE) {
            snprintf(sc->p.num[np], sizeof sc->p.num[np], "(%" PRIu64 ",0)", sc->hi);
            sc->p.v[np] = sc->p.num[np];
            sc->p.len[np] = sc->p.fmt[np] = 0;
            np++;
        }
        if (upto) {
            if ((rc = bind_key(sc, upto, np)) < 0)
                return rc;
            np++;
        }
        int range = sc->mode == MODE_CTID_RANGE;
        ok = PQsendQueryPrepared(sc->conn, range ? sc->stmt_next : sc->stmt_tail, (int)np,
                                 sc->p.v, sc->p.len, sc->p.fmt, 1);
        sc->pending_sql = range ? sc->sql_next : sc->sql_tail;
        break;
    }
    case MODE_OFFSET:
        if (spec->after) {
            if ((rc = bind_key(sc, spec->after, 0)) < 0)
                return rc;
            np = spec->after->n;
        }
        if (upto) {
            if ((rc = bind_key(sc, upto, np)) < 0)
                return rc;
            np += upto->n;
        }
        snprintf(sc->p.num[np], sizeof sc->p.num[np], "%" PRIu64, sc->offset);
        sc->p.v[np] = sc->p.num[np];
        sc->p.len[np] = sc->p.fmt[np] = 0;
        np++;
        ok = PQsendQueryPrepared(sc->conn, sc->stmt_next, (int)np, sc->p.v, sc->p.len,
                                     sc->p.fmt, 1);
        sc->pending_sql = sc->sql_next;
        break;
    case MODE_CURSOR:
    default:
        ok = PQsendQueryParams(sc->conn, sc->sql_fetch, 0, NULL, NULL, NULL, NULL, 1);
        sc->pending_sql = sc->sql_fetch;
        break;
    }
    if (!ok)
        return send_fail(sc, sc->pending_sql);
    sc->pending = 1;
    return 0;
}

/* Reads the page in flight, then decides what comes next and sends it. */
static int recv_page(struct pgscan *sc)
{
    struct pgsrc *s = (struct pgsrc *)sc->base.src;
    PGresult *r = PQgetResult(sc->conn);
    PGresult *extra;
    while ((extra = PQgetResult(sc->conn)) != NULL)
        PQclear(extra);
    sc->pending = 0;
    if (!r || PQresultStatus(r) != PGRES_TUPLES_OK) {
        int rc = res_fail(s, r, sc->pending_sql);
        PQclear(r);
        return rc;
    }
    if ((size_t)PQnfields(r) != sc->nres) {
        PQclear(r);
        return source_fail(&s->base, SOURCE_ERR, "postgres: unexpected result shape; SQL: %s",
                           sc->pending_sql);
    }
    PQclear(sc->res);
    sc->res = r;
    sc->nrows = PQntuples(r);
    sc->row = -1;
    int full = (size_t)sc->nrows >= sc->spec->page_size;
    int rc;
    switch (sc->mode) {
    case MODE_KEYSET:
    case MODE_CTID_TAIL:
        if (!full) {
            sc->last = 1;
            return 0;
        }
        if ((rc = key_of_row(sc, sc->nrows - 1, &sc->after)) < 0)
            return rc;
        sc->have_after = 1;
        break;
    case MODE_CTID_RANGE:
        if (full) {
            /* Continue inside the range; make the next ranges smaller. */
            if ((rc = key_of_row(sc, sc->nrows - 1, &sc->after)) < 0)
                return rc;
            if (sc->nb > 1)
                sc->nb /= 2;
            break;
        }
        char t[48];
        snprintf(t, sizeof t, "(%" PRIu64 ",0)", sc->hi);
        if (key_set_text(&sc->after, 0, t, strlen(t)) < 0)
            return oom(s);
        if (sc->hi >= sc->nblocks) {
            sc->mode = MODE_CTID_TAIL;
        } else {
            /* Aim the next range at about one page of rows. */
            uint64_t grow = sc->nrows ? sc->nb * sc->spec->page_size / (uint64_t)sc->nrows
                                      : sc->nb * 8;
            if (grow > sc->nb * 8)
                grow = sc->nb * 8;
            sc->nb = grow < 1 ? 1 : grow > (1u << 24) ? (1u << 24) : grow;
            sc->hi += sc->nb;
        }
        break;
    case MODE_OFFSET:
        if (!full) {
            sc->last = 1;
            return 0;
        }
        sc->offset += (uint64_t)sc->nrows;
        break;
    case MODE_CURSOR:
        if (!full) {
            sc->last = 1;
            return 0;
        }
        break;
    }
    return send_page(sc);
}

/* End of data: commits the scan's transaction, if any. */
static int finish(struct pgscan *sc)
{
    struct pgsrc *s = (struct pgsrc *)sc->base.src;
    if (!sc->in_tx)
        return 0;
    sc->in_tx = 0;
    if (sc->mode == MODE_CURSOR) {
        char sql[80];
        snprintf(sql, sizeof sql, "CLOSE %s", sc->cursor);
        int rc = command(s, sql);
        if (rc < 0)
            return rc;
    }
    return command(s, "COMMIT");
}

static int next_row(struct pgscan *sc, const struct cell **row)
{
    while (!sc->res || sc->row + 1 >= sc->nrows) {
        if (sc->last) {
            sc->done = 1;
            int rc = finish(sc);
            return rc < 0 ? rc : 0;
        }
        int rc = sc->pending ? recv_page(sc) : send_page(sc);
        if (rc < 0)
            return rc;
    }
    sc->row++;
    /* Drain the socket into libpq's buffer now and then, so the server
     * keeps producing the next page while this one is encoded instead of
     * stalling on a full socket buffer. Errors surface at PQgetResult. */
    if (sc->pending && (sc->row & 63) == 0 && PQconsumeInput(sc->conn))
        PQisBusy(sc->conn); /* parses what arrived, off the critical path */
    int rc = decode_row(sc);
    if (rc < 0)
        return rc;
    *row = sc->cells;
    return 1;
}

static int pgsrc_next_row(struct scan *scan, const struct cell **row)
{
    struct pgscan *sc = (struct pgscan *)scan;
    if (sc->err)
        return sc->err; /* a failed scan stays failed */
    if (sc->done)
        return 0;
    int rc = next_row(sc, row);
    if (rc < 0)
        sc->err = rc;
    return rc;
}

static int pgsrc_row_key(struct scan *scan, struct keytuple *key)
{
    struct pgscan *sc = (struct pgscan *)scan;
    if (!sc->res || sc->row < 0)
        return source_fail(scan->src, SOURCE_EUSAGE, "postgres: no row to take a key from");
    return key_of_row(sc, sc->row, key);
}

static void pgsrc_close_scan(struct scan *scan)
{
    struct pgscan *sc = (struct pgscan *)scan;
    if (!sc)
        return;
    struct pgsrc *s = (struct pgsrc *)scan->src;
    if (sc->pending) {
        /* Abandoned mid-scan: stop the page in flight rather than read it. */
        PGcancel *cancel = PQgetCancel(sc->conn);
        char errbuf[256];
        if (cancel) {
            PQcancel(cancel, errbuf, sizeof errbuf);
            PQfreeCancel(cancel);
        }
        PGresult *r;
        while ((r = PQgetResult(sc->conn)) != NULL)
            PQclear(r);
    }
    PQclear(sc->res);
    if (PQstatus(s->conn) == CONNECTION_OK) {
        /* Cleanup must not overwrite the scan's first error. */
        if (sc->in_tx)
            PQclear(PQexec(s->conn, "ROLLBACK"));
        char sql[80];
        if (sc->prep_next) {
            snprintf(sql, sizeof sql, "DEALLOCATE %s", sc->stmt_next);
            PQclear(PQexec(s->conn, sql));
        }
        if (sc->prep_tail) {
            snprintf(sql, sizeof sql, "DEALLOCATE %s", sc->stmt_tail);
            PQclear(PQexec(s->conn, sql));
        }
    }
    free(sc->pc);
    free(sc->key_col);
    free(sc->sql_first);
    free(sc->sql_next);
    free(sc->sql_tail);
    free(sc->sql_fetch);
    key_clear(&sc->after);
    params_free(&sc->p);
    free(sc->cells);
    free(sc->offs);
    free(sc->fix);
    buf_free(&sc->scratch);
    buf_free(&sc->tmp);
    buf_free(&sc->keyscratch);
    free(sc);
}

static long find_col(const struct pgsrc_col *c, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(c[i].name, name) == 0)
            return (long)i;
    return -1;
}

/* Appends the select-list expression of column c and sets its decoder.
 * Types without a binary decoder are read as text through their own output
 * function (a ::text cast may differ from it: text(inet) adds "/32").
 * as_text: always read the text form (keys that are arrays). */
static int append_column(struct pgsrc *s, struct buf *sel, const struct pgsrc_col *c,
                         struct pgsrc_decoder *pc, int as_text)
{
    pc->dec = PGDEC_TEXT;
    pc->elem = PGDEC_TEXT;
    pc->delim = c->delim ? c->delim : ',';
    int binary;
    if (c->is_array)
        binary = !as_text && (c->elem_is_enum || pgsrc_binary_decoder(c->elem, &pc->elem));
    else
        binary = c->is_enum || pgsrc_binary_decoder(c->base, &pc->dec);
    if (binary) {
        if (c->is_array)
            pc->dec = PGDEC_ARRAY;
        return append_ident(s, sel, c->name);
    }
    pc->dec = c->is_array && !as_text ? PGDEC_TEXTARRAY : PGDEC_TEXT;
    buf_printf(sel, "pg_catalog.textin(%s(", c->outfn);
    int rc = append_ident(s, sel, c->name);
    buf_puts(sel, "))");
    return rc;
}

/* A bound on a key prefix: (k1..kn) op ($param, ...); param 0: none. */
struct bound {
    size_t n;
    const char *op;
    size_t param;
};

/* The bound spec->after puts on a scan's first query, from parameter param. */
static struct bound lower_bound(const struct scan_spec *spec, size_t param)
{
    struct bound b = {0, ">", 0};
    if (spec->after) {
        b.n = spec->after->n;
        b.op = spec->after_inclusive ? ">=" : ">";
        b.param = param;
    }
    return b;
}

static struct bound upper_bound(const struct scan_spec *spec, size_t param)
{
    struct bound b = {0, "<=", 0};
    if (spec->upto) {
        b.n = spec->upto->n;
        b.param = param;
    }
    return b;
}

/* " AND (k1, ..., kn) op ($p, ...)" */
static void append_bound(struct pgsrc *s, struct buf *b, const struct scan_spec *spec,
                         const char *qtable, struct bound bd, int ctid)
{
    if (!bd.param)
        return;
    buf_puts(b, " AND ");
    append_keylist(s, b, spec, bd.n, qtable, 1, "");
    buf_printf(b, " %s ", bd.op);
    append_params(b, bd.n, bd.param, ctid);
}

/* Builds the statement text: SELECT list FROM table WHERE conds ORDER BY
 * key [LIMIT n] [OFFSET $x]. lower, upto: the bounds (param 0: none); hi:
 * parameter of the ctid range end (0: none). */
static char *build_sql(struct pgsrc *s, struct pgscan *sc, const char *select,
                       const char *qtable, int ctid, struct bound lower, size_t hi,
                       struct bound upto, int limit, size_t offset_param)
{
    const struct scan_spec *spec = sc->spec;
    struct buf b;
    buf_init(&b, PGSRC_SQL_MAX);
    buf_printf(&b, "SELECT %s FROM %s WHERE true", select, qtable);
    append_bound(s, &b, spec, qtable, lower, ctid);
    if (hi) {
        buf_puts(&b, " AND ");
        append_keylist(s, &b, spec, spec->nkey, qtable, 0, "");
        buf_printf(&b, " < $%zu::tid", hi);
    }
    append_bound(s, &b, spec, qtable, upto, ctid);
    if (spec->where && spec->where[0])
        buf_printf(&b, " AND (%s)", spec->where);
    buf_puts(&b, " ORDER BY ");
    append_keylist(s, &b, spec, spec->nkey, qtable, 0, "");
    if (limit)
        buf_printf(&b, " LIMIT %zu", spec->page_size);
    if (offset_param)
        buf_printf(&b, " OFFSET $%zu", offset_param);
    const char *t = buf_cstr(&b);
    if (!t) {
        buf_free(&b);
        return NULL;
    }
    return b.data;
}

static int prepare(struct pgscan *sc, const char *name, const char *sql)
{
    struct pgsrc *s = (struct pgsrc *)sc->base.src;
    PGresult *r = PQprepare(s->conn, name, sql, 0, NULL);
    if (!r || PQresultStatus(r) != PGRES_COMMAND_OK) {
        int rc = res_fail(s, r, sql);
        PQclear(r);
        return rc;
    }
    PQclear(r);
    return 0;
}

static int pgsrc_open_scan(struct source *src, const struct scan_spec *spec, struct scan **out)
{
    struct pgsrc *s = (struct pgsrc *)src;
    struct pgscan *sc = calloc(1, sizeof *sc);
    if (!sc)
        return oom(s);
    sc->base.src = src;
    sc->spec = spec;
    sc->conn = s->conn;
    buf_init(&sc->scratch, PGSRC_ROW_MAX);
    buf_init(&sc->tmp, PGSRC_ROW_MAX);
    buf_init(&sc->keyscratch, PGSRC_ROW_MAX);
    *out = &sc->base;
    if (spec->ncolumns == 0 || spec->nkey == 0 || spec->page_size == 0)
        return source_fail(src, SOURCE_EUSAGE, "postgres: a scan needs columns, a key and a page size");

    const struct table_desc *t = spec->table;
    struct pgsrc_rel rel;
    struct buf name;
    buf_init(&name, 1 << 16);
    buf_printf(&name, "%s.%s", t->schema ? t->schema : "public", t->name);
    /* resolve() prefers the exact schema.name. */
    int rc = buf_cstr(&name) ? resolve(s, name.data, &rel) : oom(s);
    buf_free(&name);
    if (rc < 0)
        return rc;
    struct pgsrc_col *cols = NULL;
    size_t ncols = 0;
    rc = load_columns(s, rel.oid, &cols, &ncols);
    struct buf sel, qt;
    buf_init(&sel, PGSRC_SQL_MAX);
    buf_init(&qt, 1 << 16);
    if (rc < 0)
        goto out;
    append_ident(s, &qt, rel.schema);
    buf_putc(&qt, '.');
    append_ident(s, &qt, rel.name);
    if (!buf_cstr(&qt)) {
        rc = oom(s);
        goto out;
    }

    size_t nk = spec->nkey, nmax = spec->ncolumns + nk;
    sc->pc = calloc(nmax, sizeof *sc->pc);
    sc->key_col = calloc(nk, sizeof *sc->key_col);
    sc->cells = calloc(spec->ncolumns, sizeof *sc->cells);
    sc->offs = calloc(spec->ncolumns, sizeof *sc->offs);
    sc->fix = calloc(spec->ncolumns, 1);
    int pok = params_alloc(&sc->p, 2 * nk + 2);
    if (!sc->pc || !sc->key_col || !sc->cells || !sc->offs || !sc->fix || pok < 0) {
        rc = oom(s);
        goto out;
    }
    sc->nout = spec->ncolumns;
    for (size_t i = 0; i < spec->ncolumns; i++) {
        long c = find_col(cols, ncols, spec->columns[i]);
        if (c < 0) {
            rc = source_fail(src, SOURCE_ENOTFOUND, "column \"%s\" does not exist in table %s",
                             spec->columns[i], qt.data);
            goto out;
        }
        if (i)
            buf_puts(&sel, ", ");
        append_column(s, &sel, &cols[c], &sc->pc[i], 0);
    }
    int ctid = 0;
    size_t nres = spec->ncolumns;
    for (size_t k = 0; k < nk; k++) {
        const char *kn = spec->key[k];
        long c = find_col(cols, ncols, kn);
        if (c < 0 && strcmp(kn, "ctid") == 0 && nk == 1 &&
            (rel.relkind == 'r' || rel.relkind == 'm')) {
            ctid = 1;
            sc->pc[nres].dec = PGDEC_TID;
            sc->key_col[k] = (int)nres++;
            buf_puts(&sel, ", ");
            buf_puts(&sel, qt.data);
            buf_puts(&sel, ".ctid");
            continue;
        }
        if (c < 0) {
            rc = source_fail(src, SOURCE_ENOTFOUND,
                             "key column \"%s\" does not exist in table %s", kn, qt.data);
            goto out;
        }
        long o = -1;
        for (size_t i = 0; i < spec->ncolumns && o < 0; i++)
            if (strcmp(spec->columns[i], kn) == 0)
                o = (long)i;
        if (o >= 0 && sc->pc[o].dec != PGDEC_ARRAY && sc->pc[o].dec != PGDEC_TEXTARRAY) {
            sc->key_col[k] = (int)o;
            continue;
        }
        /* Not an output column, or an array (its JSON is no input syntax):
         * a hidden column, read only by row_key. */
        buf_puts(&sel, ", ");
        append_column(s, &sel, &cols[c], &sc->pc[nres], 1);
        sc->key_col[k] = (int)nres++;
    }
    sc->nres = nres;
    if (!buf_cstr(&sel)) {
        rc = oom(s);
        goto out;
    }

    const struct keytuple *bounds[2] = {spec->after, spec->upto};
    for (int i = 0; i < 2; i++)
        if (bounds[i] && (bounds[i]->n == 0 || bounds[i]->n > nk)) {
            rc = source_fail(src, SOURCE_EUSAGE, "postgres: %s bound has %zu values, key has %zu",
                             i ? "upper" : "lower", bounds[i]->n, nk);
            goto out;
        }
    unsigned id = ++s->seq;
    snprintf(sc->stmt_next, sizeof sc->stmt_next, "sluice_%u_next", id);
    snprintf(sc->stmt_tail, sizeof sc->stmt_tail, "sluice_%u_tail", id);
    snprintf(sc->cursor, sizeof sc->cursor, "sluice_%u_cursor", id);
    /* Parameters: the lower bound's values, then the upper bound's. */
    size_t na = spec->after ? spec->after->n : 0, nu = spec->upto ? spec->upto->n : 0;
    struct bound lower = lower_bound(spec, 1), upto = upper_bound(spec, na + 1);

    if (spec->paging == PAGING_CURSOR) {
        sc->mode = MODE_CURSOR;
        char *q = build_sql(s, sc, sel.data, qt.data, ctid, lower, 0, upto, 0, 0);
        struct buf d;
        buf_init(&d, PGSRC_SQL_MAX);
        if (q)
            buf_printf(&d, "DECLARE %s NO SCROLL CURSOR FOR %s", sc->cursor, q);
        free(q);
        sc->sql_first = buf_cstr(&d) ? d.data : NULL;
        struct buf f;
        buf_init(&f, 256);
        buf_printf(&f, "FETCH FORWARD %zu FROM %s", spec->page_size, sc->cursor);
        sc->sql_fetch = buf_cstr(&f) ? f.data : NULL;
        if (!sc->sql_first || !sc->sql_fetch) {
            if (!sc->sql_first)
                buf_free(&d);
            if (!sc->sql_fetch)
                buf_free(&f);
            rc = oom(s);
            goto out;
        }
        if (spec->after && (rc = bind_key(sc, spec->after, 0)) < 0)
            goto out;
        if (spec->upto && (rc = bind_key(sc, spec->upto, na)) < 0)
            goto out;
        if ((rc = command(s, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")) < 0)
            goto out;
        sc->in_tx = 1;
        PGresult *r = PQexecParams(s->conn, sc->sql_first, (int)(na + nu), NULL, sc->p.v,
                                   sc->p.len, sc->p.fmt, 0);
        if (!r || PQresultStatus(r) != PGRES_COMMAND_OK) {
            rc = res_fail(s, r, sc->sql_first);
            PQclear(r);
            goto out;
        }
        PQclear(r);
    } else if (spec->paging == PAGING_OFFSET) {
        /* Both bounds stay fixed; spec->offset counts rows inside them. */
        sc->mode = MODE_OFFSET;
        sc->offset = spec->offset;
        sc->sql_next = build_sql(s, sc, sel.data, qt.data, ctid, lower, 0, upto, 1, na + nu + 1);
        if (!sc->sql_next) {
            rc = oom(s);
            goto out;
        }
        if ((rc = prepare(sc, sc->stmt_next, sc->sql_next)) < 0)
            goto out;
        sc->prep_next = 1;
    } else if (ctid) {
        /* Full refresh only: every range query continues from sc->after,
         * exclusive. */
        if (spec->after_inclusive) {
            rc = source_fail(src, SOURCE_EUSAGE,
                             "postgres: ctid paging cannot start at an inclusive bound");
            goto out;
        }
        sc->mode = MODE_CTID_RANGE;
        struct bound after1 = {1, ">", 1};
        sc->sql_next = build_sql(s, sc, sel.data, qt.data, 1, after1, 2, upper_bound(spec, 3),
                                 1, 0);
        sc->sql_tail = build_sql(s, sc, sel.data, qt.data, 1, after1, 0, upper_bound(spec, 2),
                                 1, 0);
        if (!sc->sql_next || !sc->sql_tail) {
            rc = oom(s);
            goto out;
        }
        if ((rc = prepare(sc, sc->stmt_next, sc->sql_next)) < 0)
            goto out;
        sc->prep_next = 1;
        if ((rc = prepare(sc, sc->stmt_tail, sc->sql_tail)) < 0)
            goto out;
        sc->prep_tail = 1;
        if (spec->after ? key_copy(&sc->after, spec->after) < 0
                        : key_init(&sc->after, 1) < 0 ||
                              key_set_text(&sc->after, 0, "(0,0)", 5) < 0) {
            rc = oom(s);
            goto out;
        }
        sc->have_after = 1;
        unsigned long long blk = 0, item = 0;
        const struct keyval *a = &sc->after.v[0];
        if (a->kind != KEY_TEXT || sscanf(a->s, "(%llu,%llu)", &blk, &item) != 2) {
            rc = source_fail(src, SOURCE_EUSAGE, "postgres: invalid ctid resume key");
            goto out;
        }
        /* Blocks per range: about one page of rows at the table's density. */
        double per_block = rel.relpages > 0 && rel.estimate > 0
                               ? (double)rel.estimate / (double)rel.relpages : 50.0;
        double nb = (double)spec->page_size / (per_block < 1 ? 1 : per_block);
        sc->nb = nb < 1 ? 1 : nb > (1 << 24) ? (1 << 24) : (uint64_t)nb;
        sc->nblocks = rel.nblocks > 0 ? (uint64_t)rel.nblocks : 0;
        sc->hi = blk + sc->nb;
        if (blk >= sc->nblocks)
            sc->mode = MODE_CTID_TAIL;
    } else {
        /* The first page starts at spec->after (a prefix, maybe inclusive);
         * the next ones after the previous page's last full key. */
        sc->mode = MODE_KEYSET;
        struct bound full = {nk, ">", 1};
        sc->sql_first = build_sql(s, sc, sel.data, qt.data, 0, lower, 0, upto, 1, 0);
        sc->sql_next = build_sql(s, sc, sel.data, qt.data, 0, full, 0, upper_bound(spec, nk + 1),
                                 1, 0);
        if (!sc->sql_first || !sc->sql_next) {
            rc = oom(s);
            goto out;
        }
        if ((rc = prepare(sc, sc->stmt_next, sc->sql_next)) < 0)
            goto out;
        sc->prep_next = 1;
    }
    if (spec->snapshot && !sc->in_tx) {
        if ((rc = command(s, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")) < 0)
            goto out;
        sc->in_tx = 1;
    }
    rc = send_page(sc);
out:
    buf_free(&sel);
    buf_free(&qt);
    cols_free(cols, ncols);
    rel_free(&rel);
    return rc;
}

/* ---- incremental ---------------------------------------------------- */

/* min, max and null count of the cursor in one statement (one snapshot):
 *   SELECT lo.c0.., hi.c0.., nl.n::text FROM
 *     (SELECT count(*) FROM t WHERE (c1 IS NULL OR ..) AND (where)) AS nl(n)
 *     LEFT JOIN (SELECT c1, .. FROM t WHERE c1 IS NOT NULL AND .. AND
 *                (k1..kn) > ($1..$n) AND (where) ORDER BY c1, .. LIMIT 1)
 *       AS lo(c0, ..) ON true
 *     LEFT JOIN (the same, ORDER BY c1 DESC, .. LIMIT 1) AS hi(c0, ..) ON true
 * Results are binary and decoded as row_key() decodes keys. */
static int range_sql(struct pgsrc *s, const struct scan_spec *spec, size_t ncursor,
                     const char *qtable, const char *cols, struct buf *b)
{
    const char *where = spec->where && spec->where[0] ? spec->where : NULL;
    buf_puts(b, "SELECT ");
    for (int side = 0; side < 2; side++)
        for (size_t i = 0; i < ncursor; i++)
            buf_printf(b, "%s.c%zu, ", side ? "hi" : "lo", i);
    buf_printf(b, "nl.n::text FROM (SELECT count(*) FROM %s WHERE (", qtable);
    for (size_t i = 0; i < ncursor; i++) {
        buf_puts(b, i ? " OR " : "");
        append_keycol(s, b, qtable, spec->key[i]);
        buf_puts(b, " IS NULL");
    }
    buf_puts(b, ")");
    if (where)
        buf_printf(b, " AND (%s)", where);
    buf_puts(b, ") AS nl(n)");
    for (int side = 0; side < 2; side++) {
        buf_printf(b, " LEFT JOIN (SELECT %s FROM %s WHERE ", cols, qtable);
        for (size_t i = 0; i < ncursor; i++) {
            buf_puts(b, i ? " AND " : "");
            append_keycol(s, b, qtable, spec->key[i]);
            buf_puts(b, " IS NOT NULL");
        }
        append_bound(s, b, spec, qtable, lower_bound(spec, 1), 0);
        if (where)
            buf_printf(b, " AND (%s)", where);
        buf_puts(b, " ORDER BY ");
        append_keylist(s, b, spec, ncursor, qtable, 0, side ? " DESC" : "");
        buf_printf(b, " LIMIT 1) AS %s(", side ? "hi" : "lo");
        for (size_t i = 0; i < ncursor; i++)
            buf_printf(b, "%sc%zu", i ? ", " : "", i);
        buf_puts(b, ") ON true");
    }
    return buf_cstr(b) ? 0 : oom(s);
}

static int pgsrc_cursor_range(struct source *src, const struct scan_spec *spec, size_t ncursor,
                              struct keytuple *min, struct keytuple *max, uint64_t *nulls)
{
    struct pgsrc *s = (struct pgsrc *)src;
    *nulls = 0;
    if (key_resize(min, 0) < 0 || key_resize(max, 0) < 0)
        return oom(s);
    if (ncursor == 0 || ncursor > spec->nkey)
        return source_fail(src, SOURCE_EUSAGE, "postgres: %zu cursor columns, key has %zu",
                           ncursor, spec->nkey);
    if (spec->after && (spec->after->n == 0 || spec->after->n > spec->nkey))
        return source_fail(src, SOURCE_EUSAGE, "postgres: lower bound has %zu values, key has %zu",
                           spec->after->n, spec->nkey);
    const struct table_desc *t = spec->table;
    struct pgsrc_rel rel;
    struct buf name, qt, cols, sql, scratch;
    buf_init(&name, 1 << 16);
    buf_init(&qt, 1 << 16);
    buf_init(&cols, PGSRC_SQL_MAX);
    buf_init(&sql, PGSRC_SQL_MAX);
    buf_init(&scratch, PGSRC_ROW_MAX);
    buf_printf(&name, "%s.%s", t->schema ? t->schema : "public", t->name);
    int rc = buf_cstr(&name) ? resolve(s, name.data, &rel) : oom(s);
    buf_free(&name);
    if (rc < 0) {
        buf_free(&qt);
        buf_free(&cols);
        buf_free(&sql);
        buf_free(&scratch);
        return rc;
    }
    struct pgsrc_col *pcols = NULL;
    size_t npcols = 0;
    struct pgsrc_decoder *pc = calloc(ncursor, sizeof *pc);
    struct pgparams pp = {0};
    PGresult *r = NULL;
    if (!pc || params_alloc(&pp, spec->nkey) < 0) {
        rc = oom(s);
        goto out;
    }
    if ((rc = load_columns(s, rel.oid, &pcols, &npcols)) < 0)
        goto out;
    append_ident(s, &qt, rel.schema);
    buf_putc(&qt, '.');
    append_ident(s, &qt, rel.name);
    if (!buf_cstr(&qt)) {
        rc = oom(s);
        goto out;
    }
    for (size_t i = 0; i < ncursor; i++) {
        long c = find_col(pcols, npcols, spec->key[i]);
        if (c < 0) {
            rc = source_fail(src, SOURCE_ENOTFOUND,
                             "cursor column \"%s\" does not exist in table %s", spec->key[i],
                             qt.data);
            goto out;
        }
        if (i)
            buf_puts(&cols, ", ");
        if ((rc = append_column(s, &cols, &pcols[c], &pc[i], 1)) < 0)
            goto out;
    }
    if (!buf_cstr(&cols) || (rc = range_sql(s, spec, ncursor, qt.data, cols.data, &sql)) < 0) {
        rc = rc < 0 ? rc : oom(s);
        goto out;
    }
    size_t np = spec->after ? spec->after->n : 0;
    if (spec->after && (rc = bind_values(src, &pp, spec->key, spec->after, 0)) < 0)
        goto out;
    r = PQexecParams(s->conn, sql.data, (int)np, NULL, pp.v, pp.len, pp.fmt, 1);
    if (!r || PQresultStatus(r) != PGRES_TUPLES_OK) {
        rc = res_fail(s, r, sql.data);
        goto out;
    }
    if (PQntuples(r) != 1 || (size_t)PQnfields(r) != 2 * ncursor + 1) {
        rc = source_fail(src, SOURCE_ERR, "postgres: unexpected result shape; SQL: %s", sql.data);
        goto out;
    }
    *nulls = strtoull(PQgetvalue(r, 0, (int)(2 * ncursor)), NULL, 10);
    /* The cursor columns are NOT NULL in lo and hi: NULL means no row. */
    for (int side = 0; side < 2 && rc == 0; side++) {
        struct keytuple *k = side ? max : min;
        int base = side ? (int)ncursor : 0;
        if (PQgetisnull(r, 0, base))
            continue;
        if (key_resize(k, ncursor) < 0) {
            rc = oom(s);
            break;
        }
        for (size_t i = 0; i < ncursor && rc == 0; i++)
            rc = key_value(s, r, 0, base + (int)i, &pc[i], &scratch, spec->key[i], k, i);
    }
    if (rc < 0) {
        key_clear(min);
        key_clear(max);
    }
out:
    PQclear(r);
    params_free(&pp);
    free(pc);
    cols_free(pcols, npcols);
    rel_free(&rel);
    buf_free(&qt);
    buf_free(&cols);
    buf_free(&sql);
    buf_free(&scratch);
    return rc;
}

/* Other client sessions of this database inside a transaction. A role
 * without pg_read_all_stats sees xact_start NULL for other roles' sessions:
 * those are hidden, not counted. */
static const char oldest_sql[] =
    "SELECT pg_catalog.to_char(min(xact_start) AT TIME ZONE 'UTC', "
    "'YYYY-MM-DD HH24:MI:SS.US') FROM pg_catalog.pg_stat_activity "
    "WHERE backend_type = 'client backend' AND datname = pg_catalog.current_database() "
    "AND pid <> pg_catalog.pg_backend_pid() AND xact_start IS NOT NULL";

/* Not while a scan of this source is open (a page of it is in flight). A
 * permission error (SQLSTATE 42501) gives n 0, not an error. */
static int pgsrc_oldest_transaction(struct source *src, struct keytuple *out)
{
    struct pgsrc *s = (struct pgsrc *)src;
    if (key_resize(out, 0) < 0)
        return oom(s);
    PGresult *r = PQexec(s->conn, oldest_sql);
    ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    int rc = 0;
    if (st == PGRES_TUPLES_OK) {
        if (PQntuples(r) == 1 && !PQgetisnull(r, 0, 0) &&
            (key_resize(out, 1) < 0 ||
             key_set_text(out, 0, PQgetvalue(r, 0, 0), (size_t)PQgetlength(r, 0, 0)) < 0)) {
            key_clear(out);
            rc = oom(s);
        }
    } else if (!state || strcmp(state, "42501") != 0) {
        rc = res_fail(s, r, oldest_sql);
    }
    PQclear(r);
    return rc;
}

const struct source_driver pgsrc_driver = {
    .name = "postgres",
    .claims = pgsrc_claims,
    .open = pgsrc_open,
    .close = pgsrc_close,
    .list_tables = pgsrc_list_tables,
    .describe = pgsrc_describe,
    .open_scan = pgsrc_open_scan,
    .next_row = pgsrc_next_row,
    .row_key = pgsrc_row_key,
    .close_scan = pgsrc_close_scan,
    .cursor_range = pgsrc_cursor_range,
    .oldest_transaction = pgsrc_oldest_transaction,
};
