/* pg_source.c - the PostgreSQL driver (libpq).
 *
 * SOURCE: any libpq URI (postgres://, postgresql://), "postgres:" or
 * "postgresql:" followed by a libpq conninfo string ("postgres:service=x",
 * "postgresql:host=/run/postgresql dbname=app", or nothing: libpq's
 * defaults), or a bare keyword conninfo ("host=127.0.0.1 dbname=app"): a
 * string that starts with a libpq keyword and "=". So .pgpass,
 * PGPASSWORD, PGSERVICE and sslmode all work. application_name defaults to
 * "sluice" (fallback_application_name: the URL or PGAPPNAME may name it
 * otherwise). Each session runs with TimeZone UTC, DateStyle ISO,
 * IntervalStyle iso_8601, extra_float_digits 3 and client_encoding UTF8,
 * which pg_types.c relies on - except in a SQL_ASCII database, which is
 * read in its own encoding (its bytes as stored; the encoder replaces
 * invalid UTF-8 and counts it) - and plan_cache_mode force_custom_plan
 * (LIMIT is a parameter: a generic plan must not pick a sort).
 *
 * TABLE is read by tablename.h: "name" (searched in search_path, then
 * public), "schema.name", either part double-quoted to hold a dot or a
 * quote. list_tables() gives "name" for public tables and "schema.name"
 * otherwise, quoted where needed; it lists tables, partitioned parents,
 * views, materialized views and foreign tables, but not the partitions of
 * a partitioned table (extract the parent; a partition can still be named).
 *
 * Statements are the core's (source/scan.h): this driver writes the select
 * list and `FROM "schema"."table"`, and gives each placeholder the type of
 * the column it is compared with (`$1::comp`, `$2::tid`, `$3::bigint`), so
 * every key value binds back as the type it came from, composites and
 * enums included. Statements are prepared once; results come in binary
 * format, one PGresult per page and no allocation per row. execute() only
 * sends: the core asks for the next page as soon as the current one has
 * arrived, so the server works while the core encodes.
 *
 * A stream (cursor paging) is a NO SCROLL cursor in a REPEATABLE READ READ
 * ONLY transaction (begin_read's, or its own), read with FETCH FORWARD in
 * batches sized by query_next_rows(); the next FETCH is sent as soon as a
 * batch arrives.
 *
 * Tables with no primary key or unique NOT NULL index page by ctid: the
 * core reads block ranges (TID range scans, PostgreSQL 14+). ctid paging is
 * only safe while the table is not being updated: an UPDATE or VACUUM FULL
 * moves rows to other ctids, so a row can be missed or read twice across
 * pages (use --snapshot for a consistent run, and never resume across a
 * VACUUM FULL).
 *
 * oldest_transaction() reads pg_stat_activity (sessions of other roles are
 * invisible without pg_read_all_stats). */
#include <libpq-fe.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/buf.h"
#include "pg_types.h"
#include "source/source.h"
#include "source/tablename.h"
#include "source/url.h"

extern const struct source_driver pgsrc_driver;

#define PGSRC_SQL_MAX (64u << 20)
#define PGSRC_ROW_MAX (1u << 30) /* per-row scratch cap */
#define PGSRC_FIRST_FETCH 256    /* rows of a stream's first FETCH while widths are unknown */
#define OID_MONEY 790

struct pgres;

struct pgsrc {
    struct source base;
    PGconn *conn;
    unsigned seq;       /* names prepared statements and cursors */
    int in_read;        /* begin_read's transaction is open */
    struct pgres *busy; /* the result whose query is in flight, or NULL */
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
    char *cast;        /* the base type as a cast target: format_type(base, NULL) */
    int orderable;     /* the type has a default btree ordering */
};

/* A prepared statement. Its parameter arrays are filled by each execute()
 * and sent at once (libpq copies them). */
struct pgstmt {
    struct stmt base;
    char name[32];
    char *sql;
    int nres;                 /* result columns */
    struct pgsrc_decoder *pc; /* decoder per result column */
    int *key_col;             /* result column of each key column */
    size_t ncells;
    const char **pv;
    int *plen, *pfmt;
    char (*num)[48];
    struct pgres *spare;      /* a closed result kept for the next execute */
};

/* One execution: a page, or the batches of a stream. */
struct pgres {
    struct result base;
    PGresult *res;             /* the rows in hand */
    int nrows, row;
    int pending;               /* a query of it is sent, its result not read */
    const char *pending_sql;
    int failed;                /* first error, 0 if none */
    /* stream */
    int stream, own_tx, open;  /* a stream; it began the transaction; cursor open */
    size_t asked;              /* rows the FETCH in flight asked for */
    char cursor[32];
    char fetch_sql[96];
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

/* A bare conninfo string: it starts with a libpq keyword and "=" ("host=x
 * dbname=y"). A lone word that names a SQLite file ("dbname=x.db") is the
 * SQLite driver's. */
static int is_keyword_conninfo(const char *url)
{
    while (*url == ' ' || *url == '\t')
        url++;
    size_t n = strspn(url, "abcdefghijklmnopqrstuvwxyz_");
    const char *p = url + n;
    while (*p == ' ' || *p == '\t')
        p++;
    if (n == 0 || *p != '=')
        return 0;
    if (!strpbrk(url, " \t")) {
        static const char *const lite[] = {".db", ".sqlite", ".sqlite3"};
        size_t len = strlen(url);
        for (size_t i = 0; i < sizeof lite / sizeof *lite; i++) {
            size_t m = strlen(lite[i]);
            if (len > m && strcmp(url + len - m, lite[i]) == 0)
                return 0;
        }
    }
    /* Every keyword this libpq knows, without reading the environment or
     * a service file as PQconndefaults() would. */
    PQconninfoOption *kws = PQconninfoParse("", NULL);
    int known = 0;
    for (PQconninfoOption *o = kws; o && o->keyword && !known; o++)
        known = strlen(o->keyword) == n && strncmp(o->keyword, url, n) == 0;
    PQconninfoFree(kws);
    return known;
}

static int pgsrc_claims(const char *url)
{
    return strncmp(url, "postgres:", 9) == 0 || strncmp(url, "postgresql:", 11) == 0 ||
           (!strstr(url, "://") && is_keyword_conninfo(url));
}

/* The libpq connection string inside a sluice URL. */
static const char *conninfo_of(const char *url)
{
    if (strncmp(url, "postgres://", 11) == 0 || strncmp(url, "postgresql://", 13) == 0)
        return url;
    if (strncmp(url, "postgres:", 9) == 0 || strncmp(url, "postgresql:", 11) == 0)
        return strchr(url, ':') + 1;
    return url; /* a bare conninfo */
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
 * would go to stderr; errors reach the user through the handle instead.
 * Installed before the connection starts, so connect-time ones too. */
static void quiet_notices(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Drives a started connection to its end: 0 when it is made, -1 when it
 * failed (PQerrorMessage says why), -2 when connect_timeout expired. The
 * timeout is libpq's connect_timeout (seconds, at least 2; none when 0 or
 * absent), here for the whole attempt over every host. */
static int connect_poll(PGconn *conn)
{
    double timeout = 0;
    PQconninfoOption *opts = PQconninfo(conn);
    for (PQconninfoOption *o = opts; o && o->keyword; o++)
        if (strcmp(o->keyword, "connect_timeout") == 0 && o->val)
            timeout = atof(o->val);
    PQconninfoFree(opts);
    if (timeout > 0 && timeout < 2)
        timeout = 2;
    double deadline = now_seconds() + timeout;
    PostgresPollingStatusType st = PGRES_POLLING_WRITING;
    for (;;) {
        if (st == PGRES_POLLING_OK)
            return 0;
        if (st == PGRES_POLLING_FAILED)
            return -1;
        struct pollfd p = {.fd = PQsocket(conn),
                           .events = st == PGRES_POLLING_READING ? POLLIN : POLLOUT};
        int wait = -1;
        if (timeout > 0) {
            double left = deadline - now_seconds();
            if (left <= 0)
                return -2;
            wait = (int)(left * 1000) + 1;
        }
        int n = p.fd < 0 ? 1 : poll(&p, 1, wait);
        if (n < 0 && errno != EINTR)
            return -1;
        if (n == 0)
            return -2;
        if (n > 0)
            st = PQconnectPoll(conn);
    }
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
    s->conn = PQconnectStartParams(kw, val, 1);
    if (!s->conn) {
        free(password);
        return oom(s);
    }
    PQsetNoticeProcessor(s->conn, quiet_notices, NULL);
    int polled = PQstatus(s->conn) == CONNECTION_BAD ? -1 : connect_poll(s->conn);
    if (polled < 0) {
        char msg[700];
        snprintf(msg, sizeof msg,
                 "cannot connect to PostgreSQL (host %s port %s dbname %s user %s): %s",
                 PQhost(s->conn) ? PQhost(s->conn) : "?",
                 PQport(s->conn) ? PQport(s->conn) : "?",
                 PQdb(s->conn) ? PQdb(s->conn) : "?",
                 PQuser(s->conn) ? PQuser(s->conn) : "?",
                 polled == -2 ? "timeout expired" : PQerrorMessage(s->conn));
        trim_nl(msg);
        scrub(msg, sizeof msg, password, password ? strlen(password) : 0);
        scrub(msg, sizeof msg, rawpw, rawpwlen);
        free(password);
        return source_fail(&s->base, SOURCE_ECONN, "%s", msg);
    }
    free(password);
    struct buf set;
    buf_init(&set, 1024);
    buf_puts(&set, "SET TimeZone = 'UTC'; SET DateStyle = 'ISO, MDY'; "
                   "SET IntervalStyle = 'iso_8601'; SET extra_float_digits = 3");
    if (PQserverVersion(s->conn) >= 120000)
        buf_puts(&set, "; SET plan_cache_mode = force_custom_plan");
    /* A SQL_ASCII database holds bytes in no known encoding: conversion
     * to UTF8 would fail on the first non-UTF-8 byte. */
    const char *enc = PQparameterStatus(s->conn, "server_encoding");
    if (enc && strcmp(enc, "SQL_ASCII") == 0)
        buf_puts(&set, "; SET client_encoding = 'SQL_ASCII'");
    int rc = buf_cstr(&set) ? command(s, set.data) : oom(s);
    buf_free(&set);
    return rc;
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
        table_name_format(&b, strcmp(nsp, "public") != 0 ? nsp : NULL, rel);
        const char *name = buf_cstr(&b);
        if (!name || strlist_add(out, name) < 0)
            rc = oom(s);
    }
    buf_free(&b);
    PQclear(r);
    return rc;
}

/* The relation a user's table name means: $2.$3 exactly (schema given),
 * else $1 in search_path (then public). $1 is also the whole unquoted text
 * "a.b" when a schema was given, so a table named with a dot is still found
 * without quotes. The size in blocks: the core reads ctid block ranges up
 * to it. */
static const char resolve_sql[] =
    "SELECT c.oid, n.nspname, c.relname, c.relkind, "
    "CASE WHEN c.relkind = 'p' THEN (SELECT CASE WHEN bool_or(l.reltuples >= 0) "
    "THEN sum(greatest(l.reltuples, 0)) ELSE -1 END "
    "FROM pg_catalog.pg_partition_tree(c.oid) t JOIN pg_catalog.pg_class l ON l.oid = t.relid "
    "WHERE t.isleaf) WHEN c.relkind IN ('r', 'm', 'f') THEN c.reltuples ELSE -1 END::float8::int8, "
    "CASE WHEN c.relkind IN ('r', 'm') THEN pg_catalog.pg_relation_size(c.oid) / "
    "pg_catalog.current_setting('block_size')::int8 ELSE -1 END "
    "FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
    "WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') AND ((n.nspname = $2 AND c.relname = $3) "
    "OR (c.relname = $1 AND (n.nspname = ANY (pg_catalog.current_schemas(false)) "
    "OR n.nspname = 'public'))) "
    "ORDER BY coalesce(n.nspname = $2 AND c.relname = $3, false) DESC, "
    "coalesce(pg_catalog.array_position(pg_catalog.current_schemas(false), n.nspname), 1000000) "
    "LIMIT 1";

/* Columns of relation $1.$2 in order, with domains resolved to their base
 * type, the element type (domains resolved) of array types, the base type
 * as a cast target, and whether the type can order a keyset: it has a
 * default btree operator class (directly, by a binary-coercible cast, or
 * as an enum, range, array of such, or composite of such). */
static const char columns_sql[] =
    "WITH RECURSIVE rel(oid) AS ("
    " SELECT c.oid FROM pg_catalog.pg_class c"
    " JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
    " WHERE n.nspname = $1 AND c.relname = $2),"
    " b(attnum, typ) AS ("
    " SELECT a.attnum, a.atttypid FROM pg_catalog.pg_attribute a"
    " WHERE a.attrelid = (SELECT oid FROM rel) AND a.attnum > 0 AND NOT a.attisdropped"
    " UNION ALL SELECT b.attnum, t.typbasetype FROM b JOIN pg_catalog.pg_type t ON t.oid = b.typ"
    " WHERE t.typtype = 'd'),"
    " e(attnum, typ) AS ("
    " SELECT b.attnum, t.typelem FROM b JOIN pg_catalog.pg_type t ON t.oid = b.typ"
    " WHERE t.typtype <> 'd' AND t.typcategory = 'A' AND t.typelem <> 0"
    " UNION ALL SELECT e.attnum, t.typbasetype FROM e JOIN pg_catalog.pg_type t ON t.oid = e.typ"
    " WHERE t.typtype = 'd'),"
    " ops(typ) AS ("
    " SELECT oc.opcintype FROM pg_catalog.pg_opclass oc"
    " JOIN pg_catalog.pg_am am ON am.oid = oc.opcmethod"
    " WHERE am.amname = 'btree' AND oc.opcdefault),"
    " scalar(typ) AS ("
    " SELECT typ FROM ops"
    " UNION SELECT c.castsource FROM pg_catalog.pg_cast c JOIN ops ON ops.typ = c.casttarget"
    " WHERE c.castmethod = 'b'"
    " UNION SELECT t.oid FROM pg_catalog.pg_type t WHERE t.typtype IN ('e', 'r', 'm')),"
    " ordered(typ) AS ("
    " SELECT typ FROM scalar"
    " UNION SELECT t.oid FROM pg_catalog.pg_type t JOIN scalar ON scalar.typ = t.typelem"
    " WHERE t.typcategory = 'A') "
    "SELECT a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod), a.attnotnull,"
    " bt.oid, bt.typtype, et.oid, et.typtype,"
    " pg_catalog.quote_ident(pn.nspname) || '.' || pg_catalog.quote_ident(pp.proname), et.typdelim,"
    " pg_catalog.format_type(bt.oid, NULL),"
    " CASE WHEN coalesce(et.typtype, bt.typtype) = 'c' THEN NOT EXISTS ("
    "  SELECT 1 FROM pg_catalog.pg_attribute fa JOIN pg_catalog.pg_type ft ON ft.oid = fa.atttypid"
    "  WHERE fa.attrelid = coalesce(et.typrelid, bt.typrelid) AND fa.attnum > 0"
    "  AND NOT fa.attisdropped"
    "  AND CASE WHEN ft.typtype = 'd' THEN ft.typbasetype ELSE ft.oid END"
    "  NOT IN (SELECT typ FROM ordered))"
    " ELSE coalesce(et.oid, bt.oid) IN (SELECT typ FROM ordered) END "
    "FROM pg_catalog.pg_attribute a"
    " JOIN b ON b.attnum = a.attnum JOIN pg_catalog.pg_type bt ON bt.oid = b.typ AND bt.typtype <> 'd'"
    " JOIN pg_catalog.pg_proc pp ON pp.oid = bt.typoutput"
    " JOIN pg_catalog.pg_namespace pn ON pn.oid = pp.pronamespace"
    " LEFT JOIN (e JOIN pg_catalog.pg_type et ON et.oid = e.typ AND et.typtype <> 'd')"
    " ON e.attnum = a.attnum "
    "WHERE a.attrelid = (SELECT oid FROM rel) ORDER BY a.attnum";

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
    int64_t nblocks;
    char *schema, *name;
};

static void rel_free(struct pgsrc_rel *rel)
{
    free(rel->schema);
    free(rel->name);
}

/* table: TABLE as the user wrote it (tablename.h). */
static int resolve(struct pgsrc *s, const char *table, struct pgsrc_rel *rel)
{
    memset(rel, 0, sizeof *rel);
    char *nsp = NULL, *name = NULL, err[300];
    /* Text that is no valid TABLE syntax ('a "b" c') is one whole name. */
    int parsed = table_name_parse(table, &nsp, &name, err, sizeof err) == 0;
    const char *whole = !parsed ? table : !nsp ? name : strchr(table, '"') ? NULL : table;
    const char *params[3] = {whole, nsp, nsp ? name : NULL};
    PGresult *r;
    int rc = query(s, resolve_sql, 3, params, &r);
    free(nsp);
    free(name);
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
    rel->nblocks = strtoll(PQgetvalue(r, 0, 5), NULL, 10);
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
        free(c[i].cast);
    }
    free(c);
}

/* The columns of schema.name; SOURCE_ENOTFOUND when there is no such
 * relation (dropped since it was described). */
static int load_columns(struct pgsrc *s, const char *schema, const char *name,
                        struct pgsrc_col **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    PGresult *r;
    const char *params[2] = {schema, name};
    int rc = query(s, columns_sql, 2, params, &r);
    if (rc < 0)
        return rc;
    size_t rows = (size_t)PQntuples(r);
    if (rows == 0) {
        PQclear(r);
        return source_fail(&s->base, SOURCE_ENOTFOUND, "table \"%s.%s\" does not exist",
                           schema, name);
    }
    struct pgsrc_col *c = calloc(rows, sizeof *c);
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
        c[i].cast = strdup(PQgetvalue(r, k, 9));
        c[i].orderable = PQgetvalue(r, k, 10)[0] == 't';
        if (!c[i].name || !c[i].db_type || !c[i].outfn || !c[i].cast) {
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

/* money is read as numeric (an exact number, not a locale string). */
static const char *column_json_type(const struct pgsrc_col *c)
{
    if (c->is_array)
        return "array";
    return c->base == OID_MONEY ? "number" : pgsrc_json_type(c->base, 0);
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
    d->blocks = rel.nblocks;
    rc = load_columns(s, d->schema, d->name, &cols, &ncols);
    if (rc == 0) {
        d->cols = calloc(ncols ? ncols : 1, sizeof *d->cols);
        if (!d->cols)
            rc = oom(s);
    }
    for (size_t i = 0; rc == 0 && i < ncols; i++) {
        d->cols[i].name = cols[i].name;
        d->cols[i].db_type = cols[i].db_type;
        cols[i].name = cols[i].db_type = NULL;
        d->cols[i].json_type = column_json_type(&cols[i]);
        d->cols[i].nullable = !cols[i].notnull;
        if (!cols[i].orderable)
            d->cols[i].not_a_key = "PostgreSQL has no default btree ordering for its type";
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

/* ---- dialect -------------------------------------------------------- */

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

static void quote_table(struct buf *b, const struct table_desc *t)
{
    quote_ident(b, t->schema ? t->schema : "public");
    buf_putc(b, '.');
    quote_ident(b, t->name);
}

static int is_implicit(const struct table_desc *t, const char *name)
{
    return t->implicit_key && strcmp(name, t->implicit_key) == 0;
}

/* "schema"."table"."col": qualified, so a select-list expression named
 * like the column (`"m"::numeric`) never shadows it in WHERE or ORDER BY. */
static void pg_column_ref(struct buf *b, const struct table_desc *t, const char *name)
{
    quote_table(b, t);
    buf_putc(b, '.');
    if (is_implicit(t, name))
        buf_puts(b, name);
    else
        quote_ident(b, name);
}

/* ctid values are "(block,item)": the first of a block is "(b,0)". */
static int pg_block_bound(uint64_t block, struct keyval *out)
{
    char t[48];
    int n = snprintf(t, sizeof t, "(%" PRIu64 ",0)", block);
    char *s = strdup(t);
    if (!s)
        return -1;
    free(out->s);
    *out = (struct keyval){.kind = KEY_TEXT, .s = s, .len = (size_t)n};
    return 0;
}

static int pg_block_of(const struct keyval *v, uint64_t *block)
{
    unsigned long long b = 0, item = 0;
    char end;
    if (v->kind != KEY_TEXT || !v->s || sscanf(v->s, "(%llu,%llu%c", &b, &item, &end) != 3 ||
        end != ')')
        return -1;
    *block = b;
    return 0;
}

/* Partition planning: a sample of whole blocks, so the server reads only
 * about percent % of the table. */
static void pg_sample_from(struct buf *b, double percent)
{
    buf_printf(b, " TABLESAMPLE SYSTEM (%.6f)", percent);
}

static const struct sql_dialect pg_dialect = {
    .column_ref = pg_column_ref,
    .row_values = 1, /* PostgreSQL answers (a, b) > ($1, $2) from a btree index */
    .block_bound = pg_block_bound,
    .block_of = pg_block_of,
    .sample_from = pg_sample_from,
};

/* ---- statements ----------------------------------------------------- */

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
 * money is read as numeric (and money[] as numeric[]): an exact number.
 * as_text: a key read back by row_key: arrays and money in their own text
 * form, which binds back to the same value. */
static void append_column(struct buf *sel, const struct pgsrc_col *c,
                          struct pgsrc_decoder *pc, int as_text)
{
    pc->dec = PGDEC_TEXT;
    pc->elem = PGDEC_TEXT;
    pc->delim = c->delim ? c->delim : ',';
    if (!as_text && (c->is_array ? c->elem : c->base) == OID_MONEY) {
        pc->dec = c->is_array ? PGDEC_ARRAY : PGDEC_NUMERIC;
        pc->elem = PGDEC_NUMERIC;
        quote_ident(sel, c->name);
        buf_puts(sel, c->is_array ? "::pg_catalog.numeric[]" : "::pg_catalog.numeric");
        return;
    }
    int binary;
    if (c->is_array)
        binary = !as_text && (c->elem_is_enum || pgsrc_binary_decoder(c->elem, &pc->elem));
    else
        binary = c->base != OID_MONEY && (c->is_enum || pgsrc_binary_decoder(c->base, &pc->dec));
    if (binary) {
        if (c->is_array)
            pc->dec = PGDEC_ARRAY;
        quote_ident(sel, c->name);
        return;
    }
    pc->dec = c->is_array && !as_text ? PGDEC_TEXTARRAY : PGDEC_TEXT;
    buf_printf(sel, "pg_catalog.textin(%s(", c->outfn);
    quote_ident(sel, c->name);
    buf_puts(sel, "))");
}

/* What a placeholder renders with: the columns of the statement's table. */
struct slot_ctx {
    const struct table_desc *t;
    const struct pgsrc_col *cols;
    size_t ncols;
};

/* $n cast to the type of the column it is compared with, so composite,
 * enum and domain keys bind back exactly; plain integers as bigint. */
static void put_slot(struct buf *out, const struct sql_slot *slot, void *ctx)
{
    const struct slot_ctx *c = ctx;
    buf_printf(out, "$%zu", slot->value + 1);
    if (!slot->column) {
        buf_puts(out, "::pg_catalog.int8");
    } else if (is_implicit(c->t, slot->column)) {
        buf_puts(out, "::pg_catalog.tid");
    } else {
        long i = find_col(c->cols, c->ncols, slot->column);
        if (i >= 0)
            buf_printf(out, "::%s", c->cols[i].cast);
    }
}

static struct pgres *res_new(struct pgstmt *ps);
static void res_free(struct pgres *pr);

static int pgsrc_prepare(struct source *src, const struct query *q, struct stmt **out)
{
    struct pgsrc *s = (struct pgsrc *)src;
    struct pgstmt *ps = calloc(1, sizeof *ps);
    if (!ps)
        return oom(s);
    ps->base.src = src;
    ps->base.q = q;
    *out = &ps->base;
    const struct table_desc *t = q->table;
    int count = q->kind == QUERY_COUNT;
    size_t nmax = count ? 1 : q->ncolumns + q->nkey;
    ps->ncells = count ? 1 : q->ncolumns;
    ps->pc = calloc(nmax ? nmax : 1, sizeof *ps->pc);
    ps->key_col = calloc(q->nkey ? q->nkey : 1, sizeof *ps->key_col);
    size_t np = q->nvalues ? q->nvalues : 1;
    ps->pv = calloc(np, sizeof *ps->pv);
    ps->plen = calloc(np, sizeof *ps->plen);
    ps->pfmt = calloc(np, sizeof *ps->pfmt);
    ps->num = calloc(np, sizeof *ps->num);
    if (!ps->pc || !ps->key_col || !ps->pv || !ps->plen || !ps->pfmt || !ps->num)
        return oom(s);
    struct pgsrc_col *cols = NULL;
    size_t ncols = 0;
    int rc = load_columns(s, t->schema ? t->schema : "public", t->name, &cols, &ncols);
    if (rc < 0)
        return rc;
    struct buf sql, tname;
    buf_init(&sql, PGSRC_SQL_MAX);
    buf_init(&tname, 1 << 16);
    table_name_format(&tname, t->schema, t->name);
    if (!buf_cstr(&tname)) {
        rc = oom(s);
        goto out;
    }
    buf_puts(&sql, "SELECT ");
    int nres = 0;
    if (count) {
        buf_puts(&sql, "count(*)");
        ps->pc[nres++].dec = PGDEC_INT8;
    }
    for (size_t i = 0; !count && i < q->ncolumns; i++) {
        long c = find_col(cols, ncols, q->columns[i]);
        if (c < 0) {
            rc = source_fail(src, SOURCE_ENOTFOUND, "column \"%s\" does not exist in table %s",
                             q->columns[i], tname.data);
            goto out;
        }
        buf_puts(&sql, i ? ", " : "");
        append_column(&sql, &cols[c], &ps->pc[nres++], 0);
    }
    for (size_t k = 0; !count && k < q->nkey; k++) {
        const char *kn = q->key[k];
        if (is_implicit(t, kn)) {
            ps->pc[nres].dec = PGDEC_TID;
            ps->key_col[k] = nres++;
            buf_puts(&sql, nres > 1 ? ", " : "");
            pg_column_ref(&sql, t, kn);
            continue;
        }
        long c = find_col(cols, ncols, kn);
        if (c < 0) {
            rc = source_fail(src, SOURCE_ENOTFOUND, "key column \"%s\" does not exist in table %s",
                             kn, tname.data);
            goto out;
        }
        long o = -1;
        for (size_t i = 0; i < q->ncolumns && o < 0; i++)
            if (strcmp(q->columns[i], kn) == 0)
                o = (long)i;
        enum pgsrc_dec od = o >= 0 ? ps->pc[o].dec : PGDEC_TEXT;
        if (o >= 0 && od != PGDEC_ARRAY && od != PGDEC_TEXTARRAY && cols[c].base != OID_MONEY) {
            ps->key_col[k] = (int)o;
            continue;
        }
        /* Not an output column, or one whose JSON is no input syntax
         * (arrays; money read as numeric): a hidden column for row_key. */
        buf_puts(&sql, nres ? ", " : "");
        append_column(&sql, &cols[c], &ps->pc[nres], 1);
        ps->key_col[k] = nres++;
    }
    ps->nres = nres;
    buf_puts(&sql, " FROM ");
    quote_table(&sql, t);
    struct slot_ctx ctx = {t, cols, ncols};
    if (query_render(q, &sql, put_slot, &ctx) < 0) {
        rc = oom(s);
        goto out;
    }
    ps->sql = sql.data; /* owned by the statement now */
    sql.data = NULL;
    snprintf(ps->name, sizeof ps->name, "sluice_%u", ++s->seq);
    PGresult *r = PQprepare(s->conn, ps->name, ps->sql, 0, NULL);
    if (!r || PQresultStatus(r) != PGRES_COMMAND_OK) {
        ps->name[0] = '\0';
        rc = res_fail(s, r, ps->sql);
    }
    PQclear(r);
out:
    buf_free(&sql);
    buf_free(&tname);
    cols_free(cols, ncols);
    return rc;
}

static void pgsrc_finalize(struct stmt *st)
{
    struct pgstmt *ps = (struct pgstmt *)st;
    if (!ps)
        return;
    struct pgsrc *s = (struct pgsrc *)st->src;
    if (ps->name[0] && !s->busy && PQstatus(s->conn) == CONNECTION_OK &&
        PQtransactionStatus(s->conn) != PQTRANS_INERROR) {
        char sql[64];
        snprintf(sql, sizeof sql, "DEALLOCATE %s", ps->name);
        PQclear(PQexec(s->conn, sql)); /* cleanup never overwrites the first error */
    }
    res_free(ps->spare);
    free(ps->sql);
    free(ps->pc);
    free(ps->key_col);
    free(ps->pv);
    free(ps->plen);
    free(ps->pfmt);
    free(ps->num);
    free(ps);
}

/* ---- executions ----------------------------------------------------- */

/* Binds values[0 .. n) to ps's parameters: text in PostgreSQL input
 * syntax, binary for bytea (KEY_BLOB). */
static int bind_values(struct pgstmt *ps, const struct keyval *values, size_t n)
{
    struct source *src = ps->base.src;
    for (size_t p = 0; p < n; p++) {
        const struct keyval *v = &values[p];
        ps->pfmt[p] = 0;
        ps->plen[p] = 0;
        switch (v->kind) {
        case KEY_INT:
            snprintf(ps->num[p], sizeof ps->num[p], "%" PRId64, v->i);
            ps->pv[p] = ps->num[p];
            break;
        case KEY_REAL:
            if (isnan(v->r))
                snprintf(ps->num[p], sizeof ps->num[p], "NaN");
            else if (isinf(v->r))
                snprintf(ps->num[p], sizeof ps->num[p], "%sInfinity", v->r < 0 ? "-" : "");
            else
                snprintf(ps->num[p], sizeof ps->num[p], "%.17g", v->r);
            ps->pv[p] = ps->num[p];
            break;
        case KEY_TEXT:
            ps->pv[p] = v->s;
            break;
        case KEY_BLOB:
            ps->pv[p] = v->s;
            ps->plen[p] = (int)v->len;
            ps->pfmt[p] = 1;
            break;
        case KEY_NULL:
            return source_fail(src, SOURCE_EUSAGE, "postgres: cannot bind a NULL key value");
        }
    }
    return 0;
}

static struct pgres *res_new(struct pgstmt *ps)
{
    struct pgres *pr = ps->spare;
    if (pr) {
        ps->spare = NULL;
        return pr;
    }
    pr = calloc(1, sizeof *pr);
    if (!pr)
        return NULL;
    pr->base.st = &ps->base;
    pr->cells = calloc(ps->ncells ? ps->ncells : 1, sizeof *pr->cells);
    pr->offs = calloc(ps->ncells ? ps->ncells : 1, sizeof *pr->offs);
    pr->fix = calloc(ps->ncells ? ps->ncells : 1, 1);
    buf_init(&pr->scratch, PGSRC_ROW_MAX);
    buf_init(&pr->tmp, PGSRC_ROW_MAX);
    buf_init(&pr->keyscratch, PGSRC_ROW_MAX);
    if (!pr->cells || !pr->offs || !pr->fix) {
        res_free(pr);
        return NULL;
    }
    return pr;
}

static void res_free(struct pgres *pr)
{
    if (!pr)
        return;
    PQclear(pr->res);
    free(pr->cells);
    free(pr->offs);
    free(pr->fix);
    buf_free(&pr->scratch);
    buf_free(&pr->tmp);
    buf_free(&pr->keyscratch);
    free(pr);
}

/* Sends sql (no parameters, binary results) for pr; read by receive(). */
static int send_fetch(struct pgsrc *s, struct pgres *pr, size_t rows)
{
    pr->asked = rows ? rows : 1;
    snprintf(pr->fetch_sql, sizeof pr->fetch_sql, "FETCH FORWARD %zu FROM %s", pr->asked,
             pr->cursor);
    if (!PQsendQueryParams(s->conn, pr->fetch_sql, 0, NULL, NULL, NULL, NULL, 1))
        return res_fail(s, NULL, pr->fetch_sql);
    pr->pending = 1;
    pr->pending_sql = pr->fetch_sql;
    s->busy = pr;
    return 0;
}

/* Opens the stream's cursor: a transaction of its own unless begin_read's
 * is open, DECLARE with the values, and the first FETCH sent. */
static int open_stream(struct pgsrc *s, struct pgstmt *ps, struct pgres *pr)
{
    const struct query *q = ps->base.q;
    int rc = 0;
    pr->stream = 1;
    if (!s->in_read) {
        if ((rc = command(s, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")) < 0)
            return rc;
        pr->own_tx = 1;
    }
    snprintf(pr->cursor, sizeof pr->cursor, "sluice_c%u", ++s->seq);
    struct buf d;
    buf_init(&d, PGSRC_SQL_MAX);
    buf_printf(&d, "DECLARE %s NO SCROLL CURSOR FOR %s", pr->cursor, ps->sql);
    if (!buf_cstr(&d)) {
        buf_free(&d);
        return oom(s);
    }
    PGresult *r = PQexecParams(s->conn, d.data, (int)q->nvalues, NULL, ps->pv, ps->plen,
                               ps->pfmt, 0);
    if (!r || PQresultStatus(r) != PGRES_COMMAND_OK)
        rc = res_fail(s, r, d.data);
    else
        pr->open = 1;
    PQclear(r);
    buf_free(&d);
    if (rc < 0)
        return rc;
    size_t first = q->fetch_bytes && q->fetch_rows > PGSRC_FIRST_FETCH ? PGSRC_FIRST_FETCH
                                                                       : q->fetch_rows;
    return send_fetch(s, pr, first);
}

static int pgsrc_execute(struct stmt *st, const struct keyval *values, struct result **out)
{
    struct pgstmt *ps = (struct pgstmt *)st;
    struct pgsrc *s = (struct pgsrc *)st->src;
    const struct query *q = st->q;
    if (s->busy)
        return source_fail(st->src, SOURCE_EUSAGE,
                           "postgres: a statement was executed while another one's result was awaited");
    int rc = bind_values(ps, values, q->nvalues);
    if (rc < 0)
        return rc;
    struct pgres *pr = res_new(ps);
    if (!pr)
        return oom(s);
    *out = &pr->base;
    if (q->stream)
        return open_stream(s, ps, pr);
    if (!PQsendQueryPrepared(s->conn, ps->name, (int)q->nvalues, ps->pv, ps->plen, ps->pfmt, 1))
        return res_fail(s, NULL, ps->sql);
    pr->pending = 1;
    pr->pending_sql = ps->sql;
    s->busy = pr;
    return 0;
}

/* Ends a stream whose last batch arrived: CLOSE, and COMMIT what it began. */
static int close_stream(struct pgsrc *s, struct pgres *pr)
{
    char sql[64];
    int rc = 0;
    if (pr->open) {
        pr->open = 0;
        snprintf(sql, sizeof sql, "CLOSE %s", pr->cursor);
        rc = command(s, sql);
    }
    if (rc == 0 && pr->own_tx) {
        pr->own_tx = 0;
        rc = command(s, "COMMIT");
    }
    return rc;
}

/* Reads the result in flight into pr->res. A stream then sends its next
 * FETCH at once, or ends when the batch was short. */
static int receive(struct pgsrc *s, struct pgres *pr)
{
    struct pgstmt *ps = (struct pgstmt *)pr->base.st;
    PGresult *r = PQgetResult(s->conn), *extra;
    while ((extra = PQgetResult(s->conn)) != NULL)
        PQclear(extra);
    pr->pending = 0;
    s->busy = NULL;
    if (!r || PQresultStatus(r) != PGRES_TUPLES_OK) {
        int rc = res_fail(s, r, pr->pending_sql);
        PQclear(r);
        return rc;
    }
    if (PQnfields(r) != ps->nres) {
        PQclear(r);
        return source_fail(&s->base, SOURCE_ERR, "postgres: unexpected result shape; SQL: %s",
                           pr->pending_sql);
    }
    PQclear(pr->res);
    pr->res = r;
    pr->nrows = PQntuples(r);
    pr->row = -1;
    if (!pr->stream)
        return 0;
    const struct query *q = ps->base.q;
    if ((size_t)pr->nrows < pr->asked)
        return close_stream(s, pr);
    size_t bytes = PQresultMemorySize(r);
    return send_fetch(s, pr, query_next_rows(pr->asked, q->fetch_rows, q->fetch_bytes,
                                             (size_t)pr->nrows, bytes));
}

static int decode_row(struct pgres *pr)
{
    struct pgstmt *ps = (struct pgstmt *)pr->base.st;
    const struct query *q = ps->base.q;
    buf_reset(&pr->scratch);
    for (size_t i = 0; i < ps->ncells; i++) {
        int c = (int)i;
        pr->fix[i] = 0;
        if (PQgetisnull(pr->res, pr->row, c)) {
            pr->cells[i].kind = CELL_NULL;
            continue;
        }
        int rc = pgsrc_decode(&ps->pc[i], PQgetvalue(pr->res, pr->row, c),
                              (size_t)PQgetlength(pr->res, pr->row, c), &pr->scratch, &pr->tmp,
                              &pr->cells[i], &pr->offs[i]);
        if (rc < 0)
            return rc == PGSRC_ENOMEM
                       ? oom((struct pgsrc *)ps->base.src)
                       : source_fail(ps->base.src, SOURCE_ERR,
                                     "postgres: malformed binary value in column %s",
                                     q->kind == QUERY_COUNT ? "count" : q->columns[i]);
        pr->fix[i] = (unsigned char)rc;
    }
    for (size_t i = 0; i < ps->ncells; i++)
        if (pr->fix[i])
            pr->cells[i].v.s = pr->scratch.data + pr->offs[i];
    return 0;
}

static int next_row(struct pgsrc *s, struct pgres *pr, const struct cell **row)
{
    while (!pr->res || pr->row + 1 >= pr->nrows) {
        if (!pr->pending)
            return 0;
        int rc = receive(s, pr);
        if (rc < 0)
            return rc;
    }
    pr->row++;
    /* Drain the socket into libpq's buffer now and then, so the server
     * keeps producing the next page while this one is encoded instead of
     * stalling on a full socket buffer. Errors surface at PQgetResult. */
    if (s->busy && (pr->row & 63) == 0 && PQconsumeInput(s->conn))
        PQisBusy(s->conn); /* parses what arrived, off the critical path */
    int rc = decode_row(pr);
    if (rc < 0)
        return rc;
    *row = pr->cells;
    return 1;
}

static int pgsrc_next_row(struct result *r, const struct cell **row)
{
    struct pgres *pr = (struct pgres *)r;
    if (pr->failed)
        return pr->failed; /* a failed result stays failed */
    int rc = next_row((struct pgsrc *)r->st->src, pr, row);
    if (rc < 0)
        pr->failed = rc;
    return rc;
}

/* Value (row, col) of res, decoded by pc, into key value i in PostgreSQL
 * input syntax (integers as KEY_INT, bytea as KEY_BLOB): what execute()
 * binds back, cast to the column's type. */
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

static int key_of_row(struct pgres *pr, int row, struct keytuple *key)
{
    struct pgstmt *ps = (struct pgstmt *)pr->base.st;
    struct pgsrc *s = (struct pgsrc *)ps->base.src;
    const struct query *q = ps->base.q;
    if (!pr->res || row < 0 || row >= pr->nrows)
        return source_fail(&s->base, SOURCE_EUSAGE, "postgres: no row to take a key from");
    if (key_resize(key, q->nkey) < 0)
        return oom(s);
    for (size_t i = 0; i < q->nkey; i++) {
        int col = ps->key_col[i];
        int rc = key_value(s, pr->res, row, col, &ps->pc[col], &pr->keyscratch, q->key[i], key, i);
        if (rc < 0)
            return rc;
    }
    return 0;
}

static int pgsrc_row_key(struct result *r, struct keytuple *key)
{
    struct pgres *pr = (struct pgres *)r;
    return key_of_row(pr, pr->row, key);
}

/* A page holds all its rows once it arrived; a stream does not. */
static long pgsrc_rows_in_hand(struct result *r)
{
    struct pgres *pr = (struct pgres *)r;
    return pr->stream || pr->pending || !pr->res ? -1 : pr->nrows;
}

static int pgsrc_key_of_row(struct result *r, size_t row, struct keytuple *key)
{
    return key_of_row((struct pgres *)r, row > (size_t)INT32_MAX ? -1 : (int)row, key);
}

/* Stops the query in flight: the server is told to cancel it unless its
 * whole result has already arrived; what arrives is dropped. */
static void abandon(struct pgsrc *s)
{
    if (PQconsumeInput(s->conn) && PQisBusy(s->conn)) {
        PGcancel *cancel = PQgetCancel(s->conn);
        char errbuf[256];
        if (cancel) {
            PQcancel(cancel, errbuf, sizeof errbuf);
            PQfreeCancel(cancel);
        }
    }
    PGresult *r;
    while ((r = PQgetResult(s->conn)) != NULL)
        PQclear(r);
    s->busy = NULL;
}

static void pgsrc_close_result(struct result *r)
{
    struct pgres *pr = (struct pgres *)r;
    if (!pr)
        return;
    struct pgstmt *ps = (struct pgstmt *)r->st;
    struct pgsrc *s = (struct pgsrc *)r->st->src;
    if (pr->pending && s->busy == pr)
        abandon(s);
    if ((pr->open || pr->own_tx) && PQstatus(s->conn) == CONNECTION_OK) {
        /* An unfinished stream; cleanup never overwrites the first error. */
        if (pr->own_tx) {
            PQclear(PQexec(s->conn, "ROLLBACK"));
        } else if (pr->open && PQtransactionStatus(s->conn) != PQTRANS_INERROR) {
            char sql[64];
            snprintf(sql, sizeof sql, "CLOSE %s", pr->cursor);
            PQclear(PQexec(s->conn, sql));
        }
    }
    PQclear(pr->res);
    struct pgres keep = {.base = pr->base, .cells = pr->cells, .offs = pr->offs, .fix = pr->fix,
                         .scratch = pr->scratch, .tmp = pr->tmp, .keyscratch = pr->keyscratch};
    keep.base.warnings = 0;
    *pr = keep;
    if (!ps->spare)
        ps->spare = pr;
    else
        res_free(pr);
}

/* ---- snapshots and transactions ------------------------------------- */

static int pgsrc_begin_read(struct source *src)
{
    struct pgsrc *s = (struct pgsrc *)src;
    int rc = command(s, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
    if (rc == 0)
        s->in_read = 1;
    return rc;
}

static int pgsrc_end_read(struct source *src)
{
    struct pgsrc *s = (struct pgsrc *)src;
    if (!s->in_read)
        return 0;
    s->in_read = 0;
    if (s->busy)
        abandon(s);
    return command(s, "COMMIT");
}

/* One snapshot for the partitions of a job: the read begun here is
 * exported; the others import it while it stays open. */
static int pgsrc_export_snapshot(struct source *src, char **token)
{
    struct pgsrc *s = (struct pgsrc *)src;
    static const char sql[] = "SELECT pg_catalog.pg_export_snapshot()";
    if (!s->in_read)
        return source_fail(src, SOURCE_EUSAGE, "postgres: a snapshot is exported from a read");
    PGresult *r = PQexec(s->conn, sql);
    int rc = 0;
    if (!r || PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1)
        rc = res_fail(s, r, sql);
    else if (!(*token = strdup(PQgetvalue(r, 0, 0))))
        rc = oom(s);
    PQclear(r);
    return rc;
}

static int pgsrc_begin_read_at(struct source *src, const char *token)
{
    struct pgsrc *s = (struct pgsrc *)src;
    char sql[128];
    /* An exported snapshot's name is hex digits and dashes: safe to quote. */
    if (!*token || strlen(token) > 64 || strspn(token, "0123456789ABCDEFabcdef-") != strlen(token))
        return source_fail(src, SOURCE_EUSAGE, "postgres: '%s' is not a snapshot name", token);
    snprintf(sql, sizeof sql, "SET TRANSACTION SNAPSHOT '%s'", token);
    int rc = command(s, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
    if (rc == 0) {
        s->in_read = 1;
        rc = command(s, sql);
    }
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

/* A permission error (SQLSTATE 42501) gives n 0, not an error. */
static int pgsrc_oldest_transaction(struct source *src, struct keytuple *out)
{
    struct pgsrc *s = (struct pgsrc *)src;
    if (key_resize(out, 0) < 0)
        return oom(s);
    if (s->busy)
        return source_fail(src, SOURCE_EUSAGE, "postgres: oldest_transaction while a result is awaited");
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
    .dialect = &pg_dialect,
    .claims = pgsrc_claims,
    .open = pgsrc_open,
    .close = pgsrc_close,
    .list_tables = pgsrc_list_tables,
    .describe = pgsrc_describe,
    .prepare = pgsrc_prepare,
    .execute = pgsrc_execute,
    .next_row = pgsrc_next_row,
    .row_key = pgsrc_row_key,
    .rows_in_hand = pgsrc_rows_in_hand,
    .key_of_row = pgsrc_key_of_row,
    .close_result = pgsrc_close_result,
    .finalize = pgsrc_finalize,
    .begin_read = pgsrc_begin_read,
    .end_read = pgsrc_end_read,
    .oldest_transaction = pgsrc_oldest_transaction,
    .export_snapshot = pgsrc_export_snapshot,
    .begin_read_at = pgsrc_begin_read_at,
};
