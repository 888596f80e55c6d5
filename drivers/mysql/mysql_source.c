/* mysql_source.c - the MySQL/MariaDB driver (MariaDB Connector/C).
 *
 * URLs: mysql://[user[:password]@]host[:port][/db][?opt=v&...], mariadb://
 * the same. user, password, db and option values are percent-decoded.
 * Options: socket=/path, ssl-mode=disabled|preferred|required|verify_ca|
 * verify_identity, ssl-ca, ssl-capath, ssl-cert, ssl-key, ssl-cipher,
 * defaults-file=/path (MYSQL_READ_DEFAULT_FILE; a file that cannot be read
 * is refused, as the mariadb client does), connect-timeout=SECONDS.
 * The [client] group of the option files is always read, so ~/.my.cnf can
 * hold the password; a URL without a password also takes MYSQL_PWD.
 * TLS: without ssl-mode the connection is plain text, or verify_ca when
 * ssl-ca or ssl-capath is given (as the mysql client does); preferred: TLS
 * when the server offers it; required: TLS or fail; verify_ca and
 * verify_identity: TLS with the server's certificate checked against
 * ssl-ca (Connector/C 3.3 checks the host name in both). Host "localhost"
 * means the default Unix socket (the MySQL convention): 127.0.0.1 is TCP.
 * Messages name the target as user@host:port/db, never the password.
 *
 * Session: utf8mb4, time_zone '+00:00' (the server converts TIMESTAMP to
 * UTC), net_write_timeout/net_read_timeout 3600 for long streams, no
 * statement time limit.
 *
 * Statements are the core's (source/scan.h), in a small dialect: backtick
 * quoting and the expanded bound `k1 >= a AND (k1 > a OR (k1 = a AND
 * k2 > b))`, because MariaDB scans the whole index for the row constructor
 * `(k1,k2) > (a,b)` (tests/e2e/mysql_explain.sh proves type=range). prepare
 * writes `SELECT <list> FROM t` + the core's tail as a template and has the
 * server check it (prepared with `?` at each slot and closed unexecuted),
 * so a bad --where fails before anything runs. execute writes each slot as
 * a literal of its column's class (mysql_types.h) and sends the text with
 * mysql_real_query; rows stream through mysql_use_result with no per-row
 * allocation. Prepared statements are never executed: their binary
 * protocol and their cursors (a temporary table per statement) are slower
 * for a table read once.
 *
 * Select list: the output columns, then the key columns not among them.
 * GEOMETRY columns are selected as ST_AsGeoJSON(col) and emitted as
 * GeoJSON objects (MariaDB's text, with its spaces); FLOAT columns as
 * `(col + 0e0)` (a double with the float's exact value), because the
 * server's FLOAT text has only 6 digits; MariaDB's JSON columns (LONGTEXT
 * with a json_valid CHECK) as JSON values. ENUM, SET, FLOAT and JSON
 * columns cannot be keys (their ORDER BY and their comparison with a
 * literal disagree). Tables have no implicit key: without a primary key or
 * unique NOT NULL index the core asks for --key.
 *
 * A streamed result that is closed before its end is abandoned by closing
 * the connection (reading the rest could take as long as the rest of the
 * table); the next call connects again. begin_read/end_read: START
 * TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY (REPEATABLE READ) and
 * COMMIT.
 *
 * Types: see mysql_types.h. */
#include <ctype.h>
#include <errno.h>
#include <mysql.h>
#include <errmsg.h>
#include <mysqld_error.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "common/buf.h"
#include "mysql_types.h"
#include "source/source.h"
#include "source/tablename.h"

extern const struct source_driver mysrc_driver;

#define MYSRC_SQL_MAX ((size_t)64 << 20)
#define MYSRC_SCRATCH_MAX ((size_t)1 << 31)

/* What a connection needs; kept to reconnect after an abandoned stream. */
struct mysrc_conf {
    char *user, *password, *host, *db, *socket;
    char *ssl_mode, *ssl_ca, *ssl_capath, *ssl_cert, *ssl_key, *ssl_cipher;
    char *defaults_file;
    unsigned port;
    unsigned connect_timeout;
};

struct myresult;

struct mysrc {
    struct source base;
    MYSQL *conn;      /* NULL after an abandoned stream: connect again */
    struct mysrc_conf conf;
    char target[512]; /* user@host:port/db for messages: never the password */
    int mariadb;      /* the server is MariaDB (JSON is LONGTEXT + CHECK) */
    int in_read;      /* between begin_read and end_read */
    struct myresult *streaming; /* the result whose rows are still coming */
};

/* One execution's rows. */
struct myresult {
    struct result base;
    MYSQL_RES *res;
    MYSQL_ROW row;        /* the row last returned, or NULL */
    unsigned long *lens;
    int done;             /* the stream reached its end (or failed) */
    struct buf scratch;   /* decoded values of the current row */
};

/* A prepared query: the SQL around its slots, and how to read its rows. */
struct mystmt {
    struct stmt base;
    struct buf head;      /* SELECT <list> FROM <table> */
    enum mysrc_keyclass *slot_class; /* per slot; unused for integer slots */
    size_t nsel;          /* select-list length: columns, then hidden keys */
    int *is_json, *is_float; /* per select-list entry, from the description */
    enum mysrc_kind *kinds;  /* per select-list entry, from the first result */
    int *zerofill;
    int kinds_ready;
    size_t *key_sel;      /* select-list position of each key column */
    enum mysrc_keyclass *key_class;
    int *key_int, *key_unsigned; /* from the first result's metadata */
    struct cell *cells;
    struct buf sql;       /* the statement last sent, for messages */
    struct myresult res;  /* the one execution at a time */
    int live;             /* res is handed out and not closed */
};

/* ---- errors ---------------------------------------------------------- */

static int errno_code(unsigned e)
{
    switch (e) {
    case ER_NO_SUCH_TABLE:
    case ER_BAD_FIELD_ERROR:
    case ER_BAD_TABLE_ERROR:
        return SOURCE_ENOTFOUND;
    case CR_SERVER_GONE_ERROR:
    case CR_SERVER_LOST:
    case CR_SERVER_LOST_EXTENDED:
    case CR_CONNECTION_ERROR:
    case CR_CONN_HOST_ERROR:
    case CR_UNKNOWN_HOST:
    case CR_ERR_NET_READ:
    case CR_ERR_NET_WRITE:
    case ER_SERVER_SHUTDOWN:
    case ER_NET_READ_ERROR:
    case ER_NET_READ_INTERRUPTED:
    case ER_NET_ERROR_ON_WRITE:
    case ER_NET_WRITE_INTERRUPTED:
    case 1927: /* ER_CONNECTION_KILLED (MariaDB) */
        return SOURCE_ECONN;
    case ER_OUT_OF_RESOURCES:
    case ER_OUTOFMEMORY:
        return SOURCE_ERR;
    default:
        return e >= 2000 && e < 3000 ? SOURCE_ECONN : SOURCE_ERR;
    }
}

/* Records the server's error for sql (shortened to fit one message). */
static int fail_sql(struct mysrc *s, const char *sql)
{
    unsigned e = s->conn ? mysql_errno(s->conn) : CR_SERVER_GONE_ERROR;
    const char *msg = s->conn ? mysql_error(s->conn) : "not connected";
    if (!e)
        e = CR_SERVER_LOST, msg = "the stream ended early";
    int n = (int)strlen(sql);
    return source_fail(&s->base, errno_code(e), "mysql: %s (error %u) in: %.*s%s",
                       msg, e, n > 400 ? 400 : n, sql, n > 400 ? " ..." : "");
}

static int fail_oom(struct mysrc *s)
{
    return source_fail(&s->base, SOURCE_ENOMEM, "mysql: out of memory");
}

/* ---- URL ------------------------------------------------------------- */

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = tolower(c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* A percent-decoded copy of s[0..n), or NULL when out of memory or when a
 * % escape is malformed (*bad set). */
static char *pct_decode(const char *s, size_t n, int *bad)
{
    char *out = malloc(n + 1), *o = out;
    if (!out)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '%') {
            int hi = i + 1 < n ? hexval((unsigned char)s[i + 1]) : -1;
            int lo = i + 2 < n ? hexval((unsigned char)s[i + 2]) : -1;
            if (hi < 0 || lo < 0) {
                *bad = 1;
                free(out);
                return NULL;
            }
            *o++ = (char)(hi << 4 | lo);
            i += 2;
        } else {
            *o++ = s[i];
        }
    }
    *o = '\0';
    return out;
}

static void conf_free(struct mysrc_conf *c)
{
    char **f[] = {&c->user, &c->password, &c->host, &c->db, &c->socket,
                  &c->ssl_mode, &c->ssl_ca, &c->ssl_capath, &c->ssl_cert,
                  &c->ssl_key, &c->ssl_cipher, &c->defaults_file};
    for (size_t i = 0; i < sizeof f / sizeof *f; i++) {
        if (*f[i] && f[i] == &c->password)
            memset(*f[i], 0, strlen(*f[i]));
        free(*f[i]);
        *f[i] = NULL;
    }
}

static int scheme_len(const char *url)
{
    if (strncmp(url, "mysql://", 8) == 0)
        return 8;
    if (strncmp(url, "mariadb://", 10) == 0)
        return 10;
    return 0;
}

/* Parses url into c. 0, or a SOURCE_E* code with the message on s. */
static int parse_url(struct mysrc *s, const char *url, struct mysrc_conf *c)
{
    int bad = 0;
    const char *p = url + scheme_len(url);
    const char *q = strchr(p, '?');
    const char *end = q ? q : p + strlen(p);
    /* The last @ before the query: a password may hold an unescaped @. */
    const char *at = NULL;
    for (const char *t = p; t < end; t++)
        if (*t == '@')
            at = t;
    if (at) {
        const char *colon = memchr(p, ':', (size_t)(at - p));
        const char *uend = colon ? colon : at;
        if (uend > p && !(c->user = pct_decode(p, (size_t)(uend - p), &bad)))
            goto fail;
        if (colon && !(c->password = pct_decode(colon + 1, (size_t)(at - colon - 1), &bad)))
            goto fail;
        p = at + 1;
    }
    const char *slash = memchr(p, '/', (size_t)(end - p));
    const char *hend = slash ? slash : end;
    const char *hp = p, *portp = NULL;
    const char *hostend = hend;
    if (*hp == '[') { /* [IPv6]:port */
        const char *rb = memchr(hp, ']', (size_t)(hend - hp));
        if (!rb)
            return source_fail(&s->base, SOURCE_EUSAGE, "mysql: bad host in URL");
        hp++;
        hostend = rb;
        if (rb + 1 < hend && rb[1] == ':')
            portp = rb + 2;
    } else {
        const char *colon = memchr(hp, ':', (size_t)(hend - hp));
        if (colon) {
            hostend = colon;
            portp = colon + 1;
        }
    }
    if (hostend > hp && !(c->host = pct_decode(hp, (size_t)(hostend - hp), &bad)))
        goto fail;
    if (portp && portp < hend) {
        unsigned long v = 0;
        for (const char *t = portp; t < hend; t++) {
            if (*t < '0' || *t > '9' || (v = v * 10 + (unsigned)(*t - '0')) > 65535)
                return source_fail(&s->base, SOURCE_EUSAGE, "mysql: bad port in URL");
        }
        c->port = (unsigned)v;
    }
    if (slash && slash + 1 < end && !(c->db = pct_decode(slash + 1, (size_t)(end - slash - 1), &bad)))
        goto fail;
    c->connect_timeout = 30;
    for (const char *o = q ? q + 1 : NULL; o && *o;) {
        const char *amp = strchr(o, '&');
        const char *oend = amp ? amp : o + strlen(o);
        const char *eq = memchr(o, '=', (size_t)(oend - o));
        char name[32];
        size_t nl = (size_t)((eq ? eq : oend) - o);
        if (nl == 0 || nl >= sizeof name)
            return source_fail(&s->base, SOURCE_EUSAGE, "mysql: bad option in URL");
        for (size_t i = 0; i < nl; i++)
            name[i] = o[i] == '_' ? '-' : (char)tolower((unsigned char)o[i]);
        name[nl] = '\0';
        char *val = eq ? pct_decode(eq + 1, (size_t)(oend - eq - 1), &bad) : strdup("");
        if (!val)
            goto fail;
        char **slot = NULL;
        if (strcmp(name, "socket") == 0)
            slot = &c->socket;
        else if (strcmp(name, "ssl-mode") == 0 || strcmp(name, "sslmode") == 0)
            slot = &c->ssl_mode;
        else if (strcmp(name, "ssl-ca") == 0)
            slot = &c->ssl_ca;
        else if (strcmp(name, "ssl-capath") == 0)
            slot = &c->ssl_capath;
        else if (strcmp(name, "ssl-cert") == 0)
            slot = &c->ssl_cert;
        else if (strcmp(name, "ssl-key") == 0)
            slot = &c->ssl_key;
        else if (strcmp(name, "ssl-cipher") == 0)
            slot = &c->ssl_cipher;
        else if (strcmp(name, "defaults-file") == 0)
            slot = &c->defaults_file;
        else if (strcmp(name, "connect-timeout") == 0) {
            char *e;
            unsigned long t = strtoul(val, &e, 10);
            int ok = *val && !*e && t <= 86400;
            free(val);
            if (!ok)
                return source_fail(&s->base, SOURCE_EUSAGE,
                                   "mysql: connect-timeout must be seconds");
            c->connect_timeout = (unsigned)t;
        } else {
            free(val);
            return source_fail(&s->base, SOURCE_EUSAGE,
                               "mysql: unknown URL option '%s' (known: socket, ssl-mode, "
                               "ssl-ca, ssl-capath, ssl-cert, ssl-key, ssl-cipher, "
                               "defaults-file, connect-timeout)", name);
        }
        if (slot) {
            free(*slot);
            *slot = val;
        }
        o = amp ? amp + 1 : NULL;
    }
    /* As the mysql client does: a CA without a mode means verify against it. */
    if (!c->ssl_mode && (c->ssl_ca || c->ssl_capath) && !(c->ssl_mode = strdup("verify_ca")))
        return fail_oom(s);
    if (c->ssl_mode) {
        static const char *const modes[] = {"disabled", "preferred", "required",
                                            "verify_ca", "verify_identity"};
        int ok = 0;
        for (char *t = c->ssl_mode; *t; t++)
            *t = *t == '-' ? '_' : (char)tolower((unsigned char)*t);
        for (size_t i = 0; i < sizeof modes / sizeof *modes; i++)
            ok |= strcmp(c->ssl_mode, modes[i]) == 0;
        if (!ok)
            return source_fail(&s->base, SOURCE_EUSAGE,
                               "mysql: ssl-mode must be disabled, preferred, required, "
                               "verify_ca or verify_identity");
    }
    return 0;
fail:
    if (bad)
        return source_fail(&s->base, SOURCE_EUSAGE, "mysql: bad %% escape in URL");
    return fail_oom(s);
}

/* ---- connection ------------------------------------------------------ */

static int run(struct mysrc *s, const char *sql)
{
    if (mysql_real_query(s->conn, sql, strlen(sql)) != 0)
        return fail_sql(s, sql);
    return 0;
}

static int connect_session(struct mysrc *s)
{
    struct mysrc_conf *c = &s->conf;
    s->conn = mysql_init(NULL);
    if (!s->conn)
        return fail_oom(s);
    unsigned timeout = c->connect_timeout;
    unsigned net_timeout = 3600;
    my_bool yes = 1;
    mysql_optionsv(s->conn, MYSQL_READ_DEFAULT_GROUP, "client");
    if (c->defaults_file)
        mysql_optionsv(s->conn, MYSQL_READ_DEFAULT_FILE, c->defaults_file);
    mysql_optionsv(s->conn, MYSQL_SET_CHARSET_NAME, "utf8mb4");
    if (timeout)
        mysql_optionsv(s->conn, MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
    mysql_optionsv(s->conn, MYSQL_OPT_READ_TIMEOUT, &net_timeout);
    mysql_optionsv(s->conn, MYSQL_OPT_WRITE_TIMEOUT, &net_timeout);
    int disabled = c->ssl_mode && strcmp(c->ssl_mode, "disabled") == 0;
    if (!disabled) {
        if (c->ssl_ca)
            mysql_optionsv(s->conn, MYSQL_OPT_SSL_CA, c->ssl_ca);
        if (c->ssl_capath)
            mysql_optionsv(s->conn, MYSQL_OPT_SSL_CAPATH, c->ssl_capath);
        if (c->ssl_cert)
            mysql_optionsv(s->conn, MYSQL_OPT_SSL_CERT, c->ssl_cert);
        if (c->ssl_key)
            mysql_optionsv(s->conn, MYSQL_OPT_SSL_KEY, c->ssl_key);
        if (c->ssl_cipher)
            mysql_optionsv(s->conn, MYSQL_OPT_SSL_CIPHER, c->ssl_cipher);
        /* use_ssl: TLS when the server offers it; Connector/C 3.3 then falls
         * back to plain text unless the certificate is verified, so
         * "required" is checked after connecting. */
        if (c->ssl_mode)
            mysql_optionsv(s->conn, MYSQL_OPT_SSL_ENFORCE, &yes);
        if (c->ssl_mode && strncmp(c->ssl_mode, "verify_", 7) == 0)
            mysql_optionsv(s->conn, MYSQL_OPT_SSL_VERIFY_SERVER_CERT, &yes);
    }
    const char *password = c->password ? c->password : getenv("MYSQL_PWD");
    if (!mysql_real_connect(s->conn, c->host, c->user, password, c->db, c->port,
                            c->socket, CLIENT_REMEMBER_OPTIONS)) {
        unsigned e = mysql_errno(s->conn);
        return source_fail(&s->base, SOURCE_ECONN, "mysql: cannot connect to %s: %s (error %u)",
                           s->target, mysql_error(s->conn), e);
    }
    /* Connector/C 3.3 falls back to plain text when the server has no TLS
     * unless the certificate is verified: check what was negotiated. */
    if (c->ssl_mode && strcmp(c->ssl_mode, "disabled") != 0 &&
        strcmp(c->ssl_mode, "preferred") != 0 && !mysql_get_ssl_cipher(s->conn))
        return source_fail(&s->base, SOURCE_ECONN, "mysql: cannot connect to %s: ssl-mode=%s "
                           "but the server did not negotiate TLS", s->target, c->ssl_mode);
    /* Option files may name another character set: ours wins. */
    if (mysql_set_character_set(s->conn, "utf8mb4") != 0)
        return fail_sql(s, "SET NAMES utf8mb4");
    const char *info = mysql_get_server_info(s->conn);
    s->mariadb = info && strstr(info, "MariaDB") != NULL;
    int rc = run(s, "SET time_zone = '+00:00', net_write_timeout = 3600, "
                    "net_read_timeout = 3600");
    if (rc == 0)
        rc = run(s, s->mariadb ? "SET max_statement_time = 0"
                               : "SET max_execution_time = 0");
    return rc;
}

/* Connects and sets the session up; on failure no connection is kept, so
 * the next call tries again. */
static int connect_now(struct mysrc *s)
{
    int rc = connect_session(s);
    if (rc < 0 && s->conn) {
        mysql_close(s->conn);
        s->conn = NULL;
    }
    return rc;
}

static int mysrc_claims(const char *url)
{
    return scheme_len(url) != 0;
}

static void mysrc_close(struct source *src)
{
    struct mysrc *s = (struct mysrc *)src;
    if (!s)
        return;
    if (s->conn)
        mysql_close(s->conn);
    conf_free(&s->conf);
    free(s);
}

static int mysrc_open(const char *url, struct source **out)
{
    struct mysrc *s = calloc(1, sizeof *s);
    if (!s)
        return SOURCE_ENOMEM;
    s->base.drv = &mysrc_driver;
    *out = &s->base;
    int rc = parse_url(s, url, &s->conf);
    if (rc < 0)
        return rc;
    struct mysrc_conf *c = &s->conf;
    /* Connector/C skips an option file it cannot open and connects with
     * other credentials; the mariadb client refuses, and so do we. */
    if (c->defaults_file) {
        struct stat st;
        FILE *f = fopen(c->defaults_file, "r");
        int err = !f ? errno : fstat(fileno(f), &st) != 0 ? errno : S_ISDIR(st.st_mode) ? EISDIR : 0;
        if (f)
            fclose(f);
        if (err)
            return source_fail(&s->base, SOURCE_EUSAGE, "mysql: defaults-file %s: %s",
                               c->defaults_file, strerror(err));
    }
    char port[16] = "";
    if (c->port)
        snprintf(port, sizeof port, ":%u", c->port);
    snprintf(s->target, sizeof s->target, "%s%s%s%s%s%s", c->user ? c->user : "",
             c->user ? "@" : "", c->socket ? c->socket : c->host ? c->host : "localhost",
             c->socket ? "" : port, c->db ? "/" : "", c->db ? c->db : "");
    return connect_now(s);
}

/* Reconnects after close_result abandoned a stream (closing is the only
 * way to stop a streamed result without reading it to the end). Inside a
 * snapshot that would silently start another: an error instead. */
static int ensure_conn(struct mysrc *s)
{
    if (s->conn)
        return 0;
    if (s->in_read)
        return source_fail(&s->base, SOURCE_ECONN,
                           "mysql: the connection was closed inside a snapshot read");
    return connect_now(s);
}

/* ---- SQL text -------------------------------------------------------- */

static void quote_ident(struct buf *b, const char *name)
{
    buf_putc(b, '`');
    for (const char *p = name; *p; p++) {
        if (*p == '`')
            buf_putc(b, '`');
        buf_putc(b, *p);
    }
    buf_putc(b, '`');
}

static void quote_string(struct buf *b, const char *p)
{
    mysrc_string_literal(b, p, strlen(p));
}

static void quote_table(struct buf *b, const struct table_desc *d)
{
    if (d->schema) {
        quote_ident(b, d->schema);
        buf_putc(b, '.');
    }
    quote_ident(b, d->name);
}

/* ---- list_tables, describe ------------------------------------------- */

#define MYSRC_NOT_A_KEY "its sort order and its comparison with a value differ"

static int query_store(struct mysrc *s, const char *sql, MYSQL_RES **res)
{
    int rc = ensure_conn(s);
    if (rc < 0)
        return rc;
    if (mysql_real_query(s->conn, sql, strlen(sql)) != 0 ||
        !(*res = mysql_store_result(s->conn)))
        return fail_sql(s, sql);
    return 0;
}

static int mysrc_list_tables(struct source *src, struct strlist *out)
{
    struct mysrc *s = (struct mysrc *)src;
    /* Without a current database: every user schema, as schema.table. */
    const char *sql = s->conf.db
        ? "SELECT TABLE_NAME, NULL FROM information_schema.TABLES "
          "WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_NAME"
        : "SELECT TABLE_NAME, TABLE_SCHEMA FROM information_schema.TABLES "
          "WHERE TABLE_SCHEMA NOT IN ('mysql', 'information_schema', "
          "'performance_schema', 'sys') ORDER BY TABLE_SCHEMA, TABLE_NAME";
    MYSQL_RES *res = NULL;
    int rc = query_store(s, sql, &res);
    if (rc < 0)
        return rc;
    MYSQL_ROW row;
    struct buf b;
    buf_init(&b, 1 << 20);
    while (rc == 0 && (row = mysql_fetch_row(res))) {
        buf_reset(&b);
        table_name_format(&b, row[1], row[0] ? row[0] : "");
        const char *name = buf_cstr(&b);
        if (!name || strlist_add(out, name) < 0)
            rc = fail_oom(s);
    }
    buf_free(&b);
    mysql_free_result(res);
    return rc;
}

static const char *const geometry_types[] = {
    "geometry", "point", "linestring", "polygon", "multipoint",
    "multilinestring", "multipolygon", "geometrycollection", "geomcollection",
};

static int is_geometry(const char *data_type)
{
    for (size_t i = 0; i < sizeof geometry_types / sizeof *geometry_types; i++)
        if (strcasecmp(data_type, geometry_types[i]) == 0)
            return 1;
    return 0;
}

/* The JSON type of a column from information_schema.COLUMNS. */
static const char *json_type_of(const char *data_type, const char *column_type)
{
    static const struct { const char *dt, *jt; } map[] = {
        {"tinyint", "integer"}, {"smallint", "integer"}, {"mediumint", "integer"},
        {"int", "integer"}, {"integer", "integer"}, {"bigint", "integer"},
        {"year", "integer"}, {"decimal", "number"}, {"numeric", "number"},
        {"float", "number"}, {"double", "number"}, {"real", "number"},
        {"binary", "base64"}, {"varbinary", "base64"}, {"tinyblob", "base64"},
        {"blob", "base64"}, {"mediumblob", "base64"}, {"longblob", "base64"},
        {"date", "date"}, {"time", "time"}, {"datetime", "timestamp"},
        {"timestamp", "timestamptz"}, {"json", "json"}, {"set", "array"},
    };
    if (strcasecmp(data_type, "bit") == 0)
        return strcasecmp(column_type, "bit(1)") == 0 ? "boolean" : "base64";
    if (is_geometry(data_type))
        return "json";
    for (size_t i = 0; i < sizeof map / sizeof *map; i++)
        if (strcasecmp(data_type, map[i].dt) == 0)
            return map[i].jt;
    return "string";
}

/* Why a column of this DATA_TYPE cannot be a paging key, or NULL. MariaDB's
 * JSON (LONGTEXT with a json_valid CHECK) is found later, by describe_json. */
static const char *not_a_key(const char *data_type)
{
    static const char *const bad[] = {"enum", "set", "float", "json"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        if (strcasecmp(data_type, bad[i]) == 0)
            return MYSRC_NOT_A_KEY;
    return is_geometry(data_type) ? MYSRC_NOT_A_KEY : NULL;
}

static char *xstrdup(const char *p)
{
    return p ? strdup(p) : strdup("");
}

/* Finds the table TABLE names (tablename.h): `name` in the current
 * database, or `schema.name`. */
static int find_table(struct mysrc *s, const char *table, struct table_desc *d)
{
    char *schema = NULL, *name = NULL, why[300];
    if (table_name_parse(table, &schema, &name, why, sizeof why) < 0)
        return source_fail(&s->base, SOURCE_EUSAGE, "mysql: %s", why);
    int rc = SOURCE_ENOTFOUND;
    if (schema || s->conf.db) {
        struct buf b;
        buf_init(&b, 1 << 20);
        buf_puts(&b, "SELECT TABLE_SCHEMA, TABLE_NAME, TABLE_TYPE, TABLE_ROWS "
                     "FROM information_schema.TABLES WHERE TABLE_SCHEMA = ");
        if (schema)
            quote_string(&b, schema);
        else
            buf_puts(&b, "DATABASE()");
        buf_puts(&b, " AND TABLE_NAME = ");
        quote_string(&b, name);
        const char *sql = buf_cstr(&b);
        MYSQL_RES *res = NULL;
        if (!sql)
            rc = fail_oom(s);
        else if ((rc = query_store(s, sql, &res)) == 0) {
            MYSQL_ROW row = mysql_fetch_row(res);
            if (row) {
                d->schema = xstrdup(row[0]);
                d->name = xstrdup(row[1]);
                d->is_view = row[2] && strcmp(row[2], "VIEW") == 0;
                d->row_estimate = row[3] ? strtoll(row[3], NULL, 10) : -1;
                rc = d->schema && d->name ? 0 : fail_oom(s);
            } else {
                rc = SOURCE_ENOTFOUND;
            }
            mysql_free_result(res);
        }
        buf_free(&b);
    }
    if (rc == SOURCE_ENOTFOUND)
        rc = source_fail(&s->base, SOURCE_ENOTFOUND,
                         "mysql: no table %s%s%s (or it is not visible to this user)", table,
                         schema || !s->conf.db ? "" : " in database ",
                         schema || !s->conf.db ? "" : s->conf.db);
    free(schema);
    free(name);
    return rc;
}

/* SELECT ... WHERE schema = d->schema AND table = d->name (appended). */
static const char *table_query(struct buf *b, const char *head,
                               const char *schema_col, const char *table_col,
                               const struct table_desc *d, const char *tail)
{
    buf_reset(b);
    buf_puts(b, head);
    buf_printf(b, " WHERE %s = ", schema_col);
    quote_string(b, d->schema);
    buf_printf(b, " AND %s = ", table_col);
    quote_string(b, d->name);
    buf_puts(b, tail);
    return buf_cstr(b);
}

static int describe_columns(struct mysrc *s, struct table_desc *d, struct buf *b)
{
    const char *sql = table_query(b,
        "SELECT COLUMN_NAME, COLUMN_TYPE, DATA_TYPE, IS_NULLABLE "
        "FROM information_schema.COLUMNS", "TABLE_SCHEMA", "TABLE_NAME", d,
        " ORDER BY ORDINAL_POSITION");
    if (!sql)
        return fail_oom(s);
    MYSQL_RES *res = NULL;
    int rc = query_store(s, sql, &res);
    if (rc < 0)
        return rc;
    size_t n = (size_t)mysql_num_rows(res);
    d->cols = calloc(n ? n : 1, sizeof *d->cols);
    if (!d->cols)
        rc = fail_oom(s);
    MYSQL_ROW row;
    while (rc == 0 && (row = mysql_fetch_row(res))) {
        struct column_desc *c = &d->cols[d->ncols++];
        c->name = xstrdup(row[0]);
        c->db_type = xstrdup(row[1]);
        c->json_type = json_type_of(row[2] ? row[2] : "", row[1] ? row[1] : "");
        c->nullable = row[3] && strcmp(row[3], "YES") == 0;
        c->not_a_key = not_a_key(row[2] ? row[2] : "");
        if (!c->name || !c->db_type)
            rc = fail_oom(s);
    }
    mysql_free_result(res);
    if (rc == 0 && d->ncols == 0)
        rc = source_fail(&s->base, SOURCE_ENOTFOUND, "mysql: table %s.%s has no columns "
                         "visible to this user", d->schema, d->name);
    return rc;
}

/* MariaDB's JSON is LONGTEXT with CHECK (json_valid(`col`)). */
static int describe_json(struct mysrc *s, struct table_desc *d, struct buf *b)
{
    if (!s->mariadb)
        return 0;
    const char *sql = table_query(b,
        "SELECT CHECK_CLAUSE FROM information_schema.CHECK_CONSTRAINTS",
        "CONSTRAINT_SCHEMA", "TABLE_NAME", d, "");
    if (!sql)
        return fail_oom(s);
    MYSQL_RES *res = NULL;
    if (mysql_real_query(s->conn, sql, strlen(sql)) != 0 ||
        !(res = mysql_store_result(s->conn)))
        return 0; /* a server without CHECK_CONSTRAINTS has no such columns */
    MYSQL_ROW row;
    struct buf want;
    buf_init(&want, 1 << 16);
    while ((row = mysql_fetch_row(res))) {
        if (!row[0])
            continue;
        for (size_t i = 0; i < d->ncols; i++) {
            struct column_desc *c = &d->cols[i];
            if (strncasecmp(c->db_type, "longtext", 8) != 0 &&
                strncasecmp(c->db_type, "text", 4) != 0)
                continue;
            buf_reset(&want);
            buf_puts(&want, "json_valid(");
            quote_ident(&want, c->name);
            buf_putc(&want, ')');
            const char *w = buf_cstr(&want);
            if (w && strcasecmp(row[0], w) == 0) {
                c->json_type = "json";
                c->not_a_key = MYSRC_NOT_A_KEY;
            }
        }
    }
    buf_free(&want);
    mysql_free_result(res);
    return 0;
}

static int add_key(struct mysrc *s, struct table_desc *d, char **cols, size_t n,
                   int primary)
{
    if (primary) {
        d->pk = cols;
        d->npk = n;
        return 0;
    }
    struct unique_key *u = realloc(d->uniq, (d->nuniq + 1) * sizeof *u);
    if (!u) {
        for (size_t i = 0; i < n; i++)
            free(cols[i]);
        free(cols);
        return fail_oom(s);
    }
    d->uniq = u;
    d->uniq[d->nuniq].cols = cols;
    d->uniq[d->nuniq].n = n;
    d->nuniq++;
    return 0;
}

/* Primary key and unique indexes whose columns are all NOT NULL and whole
 * (a prefix index cannot serve the ORDER BY). */
static int describe_keys(struct mysrc *s, struct table_desc *d, struct buf *b)
{
    const char *sql = table_query(b,
        "SELECT INDEX_NAME, COLUMN_NAME, NULLABLE, SUB_PART "
        "FROM information_schema.STATISTICS", "TABLE_SCHEMA", "TABLE_NAME", d,
        " AND NON_UNIQUE = 0 ORDER BY INDEX_NAME <> 'PRIMARY', INDEX_NAME, SEQ_IN_INDEX");
    if (!sql)
        return fail_oom(s);
    MYSQL_RES *res = NULL;
    int rc = query_store(s, sql, &res);
    if (rc < 0)
        return rc;
    char **cols = NULL;
    size_t n = 0;
    char *index = NULL;
    int usable = 1;
    MYSQL_ROW row;
    for (;;) {
        row = rc == 0 ? mysql_fetch_row(res) : NULL;
        if (index && (!row || strcmp(row[0] ? row[0] : "", index) != 0)) {
            int primary = strcmp(index, "PRIMARY") == 0;
            if (usable || primary) {
                rc = rc ? rc : add_key(s, d, cols, n, primary);
            } else {
                for (size_t i = 0; i < n; i++)
                    free(cols[i]);
                free(cols);
            }
            cols = NULL;
            n = 0;
            free(index);
            index = NULL;
        }
        if (!row)
            break;
        if (!index) {
            index = xstrdup(row[0]);
            usable = 1;
        }
        char **v = realloc(cols, (n + 1) * sizeof *v);
        if (!index || !v) {
            free(v ? v : cols);
            cols = NULL;
            n = 0;
            rc = fail_oom(s);
            continue;
        }
        cols = v;
        if (!(cols[n++] = xstrdup(row[1])))
            rc = fail_oom(s);
        if ((row[2] && strcmp(row[2], "YES") == 0) || row[3])
            usable = 0;
    }
    for (size_t i = 0; i < n; i++)
        free(cols[i]);
    free(cols);
    free(index);
    mysql_free_result(res);
    return rc;
}

static int mysrc_describe(struct source *src, const char *table, struct table_desc **out)
{
    struct mysrc *s = (struct mysrc *)src;
    int rc = ensure_conn(s);
    if (rc < 0)
        return rc;
    struct table_desc *d = calloc(1, sizeof *d);
    if (!d)
        return fail_oom(s);
    d->row_estimate = -1;
    d->blocks = -1;
    struct buf b;
    buf_init(&b, 1 << 20);
    rc = find_table(s, table, d);
    if (rc == 0)
        rc = describe_columns(s, d, &b);
    if (rc == 0)
        rc = describe_json(s, d, &b);
    if (rc == 0)
        rc = describe_keys(s, d, &b);
    buf_free(&b);
    /* MySQL has no implicit row key: the core asks for --key. */
    d->implicit_key = NULL;
    if (rc < 0) {
        table_desc_free(d);
        return rc;
    }
    *out = d;
    return 0;
}

/* ---- statements ------------------------------------------------------ */

static void mysql_column_ref(struct buf *b, const struct table_desc *t, const char *name)
{
    (void)t;
    quote_ident(b, name);
}

/* Partition planning: about percent % of the rows, drawn row by row. */
static void mysql_sample_where(struct buf *b, double percent)
{
    buf_printf(b, "RAND() < %.9f", percent / 100.0);
}

static const struct sql_dialect mysql_dialect = {
    .column_ref = mysql_column_ref,
    .row_values = 0, /* MariaDB scans the whole index for (a, b) > (x, y) */
    .sample_where = mysql_sample_where,
};

static const struct column_desc *find_col(const struct table_desc *d, const char *name)
{
    long i = table_desc_column(d, name);
    return i < 0 ? NULL : &d->cols[i];
}

static int type_is(const struct column_desc *c, const char *prefix)
{
    size_t n = strlen(prefix);
    return strncasecmp(c->db_type, prefix, n) == 0 &&
           (c->db_type[n] == '\0' || c->db_type[n] == '(' || c->db_type[n] == ' ');
}

static int col_is_geometry(const struct column_desc *c)
{
    char dt[32];
    size_t i = 0;
    for (; c->db_type[i] && c->db_type[i] != '(' && c->db_type[i] != ' ' && i + 1 < sizeof dt; i++)
        dt[i] = c->db_type[i];
    dt[i] = '\0';
    return is_geometry(dt);
}

/* How values of column c are kept as keys and written back. */
static enum mysrc_keyclass key_class_of(const struct column_desc *c)
{
    if (type_is(c, "bit"))
        return MYSRC_KEY_BIT;
    if (strcmp(c->json_type, "integer") == 0 || strcmp(c->json_type, "number") == 0)
        return MYSRC_KEY_NUMBER;
    if (strcmp(c->json_type, "base64") == 0)
        return MYSRC_KEY_BINARY;
    return MYSRC_KEY_STRING;
}

/* Appends column c to the select list as entry st->nsel. */
static void select_column(struct mystmt *st, struct buf *b, const struct column_desc *c)
{
    if (st->nsel)
        buf_puts(b, ", ");
    if (col_is_geometry(c)) {
        buf_puts(b, "ST_AsGeoJSON(");
        quote_ident(b, c->name);
        buf_putc(b, ')');
        st->is_json[st->nsel] = 1;
    } else if (type_is(c, "float")) {
        buf_putc(b, '(');
        quote_ident(b, c->name);
        buf_puts(b, " + 0e0)");
        st->is_float[st->nsel] = 1;
    } else {
        quote_ident(b, c->name);
        st->is_json[st->nsel] = strcmp(c->json_type, "json") == 0;
    }
    st->nsel++;
}

/* SELECT <columns>, <key columns not among them> FROM t; count(*) for counts. */
static int build_head(struct mysrc *s, struct mystmt *st, const struct query *q)
{
    const struct table_desc *d = q->table;
    struct buf *b = &st->head;
    buf_puts(b, "SELECT ");
    if (q->kind == QUERY_COUNT) {
        buf_puts(b, "count(*)");
        st->nsel = 1;
    }
    for (size_t i = 0; q->kind == QUERY_ROWS && i < q->ncolumns + q->nkey; i++) {
        const char *name;
        if (i < q->ncolumns) {
            name = q->columns[i];
        } else {
            size_t k = i - q->ncolumns, j = 0;
            while (j < q->ncolumns && strcmp(q->columns[j], q->key[k]) != 0)
                j++;
            if (j < q->ncolumns) {
                st->key_sel[k] = j;
                continue;
            }
            name = q->key[k];
            st->key_sel[k] = st->nsel;
        }
        const struct column_desc *c = find_col(d, name);
        if (!c)
            return source_fail(&s->base, SOURCE_ENOTFOUND, "mysql: no column %s in %s.%s",
                               name, d->schema ? d->schema : "", d->name);
        select_column(st, b, c);
    }
    buf_puts(b, " FROM ");
    quote_table(b, d);
    return b->oom ? fail_oom(s) : 0;
}

static void put_placeholder(struct buf *out, const struct sql_slot *slot, void *ctx)
{
    (void)slot;
    (void)ctx;
    buf_putc(out, '?');
}

/* Has the server parse and check st's SQL, with `?` at each slot, without
 * running it: a bad --where or a missing column fails here. */
static int check_on_server(struct mysrc *s, struct mystmt *st)
{
    const struct query *q = st->base.q;
    buf_reset(&st->sql);
    buf_append(&st->sql, st->head.data, st->head.len);
    if (query_render(q, &st->sql, put_placeholder, NULL) < 0)
        return fail_oom(s);
    MYSQL_STMT *ps = mysql_stmt_init(s->conn);
    if (!ps)
        return fail_oom(s);
    int rc = 0;
    if (mysql_stmt_prepare(ps, st->sql.data, st->sql.len) != 0) {
        unsigned e = mysql_stmt_errno(ps);
        const char *msg = mysql_stmt_error(ps);
        int n = (int)st->sql.len;
        rc = source_fail(&s->base, errno_code(e), "mysql: %s (error %u) in: %.*s%s", msg, e,
                         n > 400 ? 400 : n, st->sql.data, n > 400 ? " ..." : "");
    } else if (mysql_stmt_param_count(ps) != q->nslots) {
        rc = source_fail(&s->base, SOURCE_ERR,
                         "mysql: the statement holds %lu ? placeholders where sluice wrote %zu "
                         "(a ? outside a string in --where?) in: %.400s",
                         mysql_stmt_param_count(ps), q->nslots, st->sql.data);
    }
    mysql_stmt_close(ps);
    return rc;
}

static int mysrc_prepare(struct source *src, const struct query *q, struct stmt **out)
{
    struct mysrc *s = (struct mysrc *)src;
    struct mystmt *st = calloc(1, sizeof *st);
    if (!st)
        return fail_oom(s);
    st->base.src = src;
    st->base.q = q;
    st->res.base.st = &st->base;
    *out = &st->base;
    buf_init(&st->head, MYSRC_SQL_MAX);
    buf_init(&st->sql, MYSRC_SQL_MAX);
    buf_init(&st->res.scratch, MYSRC_SCRATCH_MAX);
    size_t cap = q->ncolumns + q->nkey + 1;
    st->is_json = calloc(cap, sizeof *st->is_json);
    st->is_float = calloc(cap, sizeof *st->is_float);
    st->kinds = calloc(cap, sizeof *st->kinds);
    st->zerofill = calloc(cap, sizeof *st->zerofill);
    st->cells = calloc(cap, sizeof *st->cells);
    st->key_sel = calloc(q->nkey + 1, sizeof *st->key_sel);
    st->key_class = calloc(q->nkey + 1, sizeof *st->key_class);
    st->key_int = calloc(q->nkey + 1, sizeof *st->key_int);
    st->key_unsigned = calloc(q->nkey + 1, sizeof *st->key_unsigned);
    st->slot_class = calloc(q->nslots + 1, sizeof *st->slot_class);
    if (!st->is_json || !st->is_float || !st->kinds || !st->zerofill || !st->cells ||
        !st->key_sel || !st->key_class || !st->key_int || !st->key_unsigned || !st->slot_class)
        return fail_oom(s);
    for (size_t k = 0; k < q->nkey; k++) {
        const struct column_desc *c = find_col(q->table, q->key[k]);
        if (!c)
            return source_fail(src, SOURCE_ENOTFOUND, "mysql: no key column %s in %s",
                               q->key[k], q->table->name);
        st->key_class[k] = key_class_of(c);
    }
    for (size_t i = 0; i < q->nslots; i++) {
        const char *col = q->slots[i].column;
        const struct column_desc *c = col ? find_col(q->table, col) : NULL;
        if (col && !c)
            return source_fail(src, SOURCE_ENOTFOUND, "mysql: no column %s in %s", col,
                               q->table->name);
        st->slot_class[i] = c ? key_class_of(c) : MYSRC_KEY_NUMBER;
    }
    int rc = ensure_conn(s);
    if (rc < 0 || (rc = build_head(s, st, q)) < 0)
        return rc;
    return check_on_server(s, st);
}

/* Writes the slots' values as literals (query_render's callback). */
struct literals {
    struct mystmt *st;
    const struct keyval *values;
    long bad; /* the first slot whose value has no literal, or -1 */
};

static void put_literal(struct buf *out, const struct sql_slot *slot, void *ctx)
{
    struct literals *l = ctx;
    size_t i = (size_t)(slot - l->st->base.q->slots);
    const struct keyval *v = &l->values[slot->value];
    int rc;
    if (!slot->column) /* LIMIT, OFFSET */
        rc = v->kind == KEY_INT && v->i >= 0 ? buf_printf(out, "%lld", (long long)v->i) : -1;
    else
        rc = mysrc_key_literal(out, l->st->slot_class[i], v);
    if (rc < 0 && !out->oom && l->bad < 0)
        l->bad = (long)i;
}

/* Reads the result's column types once per statement. */
static int learn_kinds(struct mysrc *s, struct mystmt *st, MYSQL_RES *res)
{
    const struct query *q = st->base.q;
    if (mysql_num_fields(res) != st->nsel)
        return source_fail(&s->base, SOURCE_ERR,
                           "mysql: the server returned %u columns for %zu asked",
                           mysql_num_fields(res), st->nsel);
    MYSQL_FIELD *f = mysql_fetch_fields(res);
    for (size_t i = 0; i < st->nsel; i++) {
        st->kinds[i] = mysrc_kind_of(&f[i], st->is_json[i], st->is_float[i]);
        st->zerofill[i] = mysrc_field_zerofill(&f[i]);
    }
    for (size_t k = 0; q->kind == QUERY_ROWS && k < q->nkey; k++) {
        st->key_int[k] = st->kinds[st->key_sel[k]] == MYSRC_INT;
        st->key_unsigned[k] = (f[st->key_sel[k]].flags & UNSIGNED_FLAG) != 0;
    }
    st->kinds_ready = 1;
    return 0;
}

static int mysrc_execute(struct stmt *stmt, const struct keyval *values, struct result **out)
{
    struct mystmt *st = (struct mystmt *)stmt;
    struct mysrc *s = (struct mysrc *)stmt->src;
    const struct query *q = stmt->q;
    if (st->live)
        return source_fail(&s->base, SOURCE_EUSAGE, "mysql: a statement runs once at a time");
    if (s->streaming)
        return source_fail(&s->base, SOURCE_EUSAGE,
                           "mysql: a statement was sent while another result streams");
    int rc = ensure_conn(s);
    if (rc < 0)
        return rc;
    struct literals l = {.st = st, .values = values, .bad = -1};
    buf_reset(&st->sql);
    buf_append(&st->sql, st->head.data, st->head.len);
    if (query_render(q, &st->sql, put_literal, &l) < 0)
        return fail_oom(s);
    if (l.bad >= 0) {
        const struct sql_slot *slot = &q->slots[l.bad];
        return source_fail(&s->base, SOURCE_EUSAGE,
                           "mysql: the key value for %s cannot be written as a literal of its "
                           "type (a NULL, or not a number)",
                           slot->column ? slot->column : "LIMIT/OFFSET");
    }
    struct myresult *r = &st->res;
    if (mysql_real_query(s->conn, st->sql.data, st->sql.len) != 0 ||
        !(r->res = mysql_use_result(s->conn)))
        return fail_sql(s, st->sql.data);
    if (!st->kinds_ready && (rc = learn_kinds(s, st, r->res)) < 0) {
        mysql_close(s->conn); /* rather than read the rows nobody wants */
        s->conn = NULL;
        s->in_read = 0;
        mysql_free_result(r->res);
        r->res = NULL;
        return rc;
    }
    r->row = NULL;
    r->done = 0;
    r->base.warnings = 0;
    st->live = 1;
    s->streaming = r;
    *out = &r->base;
    return 0;
}

static int mysrc_next_row(struct result *result, const struct cell **row)
{
    struct myresult *r = (struct myresult *)result;
    struct mystmt *st = (struct mystmt *)result->st;
    struct mysrc *s = (struct mysrc *)result->st->src;
    const struct query *q = result->st->q;
    if (r->done)
        return 0;
    r->row = mysql_fetch_row(r->res);
    if (!r->row) {
        /* NULL is the end or an error: only mysql_errno tells. */
        r->done = 1;
        s->streaming = NULL;
        if (mysql_errno(s->conn))
            return fail_sql(s, st->sql.data);
        return 0;
    }
    r->lens = mysql_fetch_lengths(r->res);
    if (q->kind == QUERY_COUNT) {
        st->cells[0].kind = CELL_INT;
        st->cells[0].v.i = r->row[0] ? strtoll(r->row[0], NULL, 10) : 0;
        *row = st->cells;
        return 1;
    }
    buf_reset(&r->scratch);
    int moved = 0;
    for (size_t i = 0; i < q->ncolumns; i++) {
        struct cell *c = &st->cells[i];
        c->len = 0;
        if (!r->row[i]) {
            c->kind = CELL_NULL;
            continue;
        }
        int rc = mysrc_decode(st->kinds[i], st->zerofill[i], r->row[i], r->lens[i], c,
                              &r->scratch, &r->base.warnings);
        if (rc < 0)
            return fail_oom(s);
        if (rc == 1) {
            c->len |= (size_t)1 << (sizeof(size_t) * 8 - 1); /* mark: in scratch */
            moved = 1;
        }
    }
    if (moved) { /* scratch has stopped moving: point into it */
        const size_t mark = (size_t)1 << (sizeof(size_t) * 8 - 1);
        for (size_t i = 0; i < q->ncolumns; i++) {
            struct cell *c = &st->cells[i];
            if (c->kind != CELL_NULL && (c->len & mark)) {
                c->len &= ~mark;
                c->v.s = r->scratch.data + c->v.u;
            }
        }
    }
    *row = st->cells;
    return 1;
}

static int mysrc_row_key(struct result *result, struct keytuple *key)
{
    struct myresult *r = (struct myresult *)result;
    struct mystmt *st = (struct mystmt *)result->st;
    const struct query *q = result->st->q;
    if (!r->row)
        return source_fail(result->st->src, SOURCE_ERR, "mysql: no current row for its key");
    if (key_resize(key, q->nkey) < 0)
        return fail_oom((struct mysrc *)result->st->src);
    int rc = 0;
    for (size_t i = 0; i < q->nkey && rc == 0; i++) {
        size_t k = st->key_sel[i];
        rc = r->row[k] ? mysrc_key_value(key, i, st->key_class[i], st->key_int[i],
                                         st->key_unsigned[i], r->row[k], r->lens[k])
                       : key_set_null(key, i);
    }
    return rc < 0 ? fail_oom((struct mysrc *)result->st->src) : 0;
}

static void mysrc_close_result(struct result *result)
{
    if (!result)
        return;
    struct myresult *r = (struct myresult *)result;
    struct mystmt *st = (struct mystmt *)result->st;
    struct mysrc *s = (struct mysrc *)result->st->src;
    if (r->res && !r->done && s->conn) {
        /* Reading an unfinished stream to its end could take as long as
         * the rest of the table: drop the connection instead. Any snapshot
         * ended with it. */
        mysql_close(s->conn);
        s->conn = NULL;
        s->in_read = 0;
    }
    if (r->res)
        mysql_free_result(r->res);
    if (s->streaming == r)
        s->streaming = NULL;
    r->res = NULL;
    r->row = NULL;
    r->done = 1;
    st->live = 0;
}

static void mysrc_finalize(struct stmt *stmt)
{
    struct mystmt *st = (struct mystmt *)stmt;
    if (!st)
        return;
    if (st->live)
        mysrc_close_result(&st->res.base);
    buf_free(&st->head);
    buf_free(&st->sql);
    buf_free(&st->res.scratch);
    free(st->slot_class);
    free(st->is_json);
    free(st->is_float);
    free(st->kinds);
    free(st->zerofill);
    free(st->key_sel);
    free(st->key_class);
    free(st->key_int);
    free(st->key_unsigned);
    free(st->cells);
    free(st);
}

/* ---- snapshots ------------------------------------------------------- */

static int mysrc_begin_read(struct source *src)
{
    struct mysrc *s = (struct mysrc *)src;
    int rc = ensure_conn(s);
    if (rc < 0 || (rc = run(s, "SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ")) < 0 ||
        (rc = run(s, "START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY")) < 0)
        return rc;
    s->in_read = 1;
    return 0;
}

static int mysrc_end_read(struct source *src);

/* The partitions of a job: no snapshot can be handed over, so their
 * transactions start together, as mydumper's threads do: under a global
 * read lock when asked (then exactly one snapshot), else one right after
 * the other. The lock is the coordinator's connection's, held only while
 * the transactions start. */
static int mysrc_begin_reads_together(struct source *coord, struct source *const *srcs,
                                      size_t n, int lock)
{
    struct mysrc *c = (struct mysrc *)coord;
    size_t begun = 0;
    int rc = ensure_conn(c);
    if (rc == 0 && lock)
        rc = run(c, "FLUSH TABLES WITH READ LOCK");
    if (rc < 0)
        return rc;
    for (; begun < n && rc == 0; begun++)
        if ((rc = mysrc_begin_read(srcs[begun])) < 0)
            source_fail(coord, rc, "%s", source_error(srcs[begun]));
    if (lock) {
        int unlocked = run(c, "UNLOCK TABLES");
        rc = rc < 0 ? rc : unlocked;
    }
    if (rc < 0)
        for (size_t i = 0; i < begun; i++)
            mysrc_end_read(srcs[i]);
    return rc;
}

/* The snapshot ends with its transaction, or ended with its connection. */
static int mysrc_end_read(struct source *src)
{
    struct mysrc *s = (struct mysrc *)src;
    if (!s->in_read)
        return 0;
    s->in_read = 0;
    return s->conn ? run(s, "COMMIT") : 0;
}

/* InnoDB's open transactions, but this connection's. trx_started is the
 * server process's local time (not the session's time zone) in whole
 * seconds, taken when the transaction first touched InnoDB, which may be
 * after the start of the statement whose NOW() its rows carry: the value
 * is converted to UTC and moved one second earlier. InnoDB refreshes the
 * table only when it was last read more than 0.1 s ago, so a transaction
 * younger than that may be missing. Without the PROCESS privilege (or
 * without InnoDB) the table is refused: n 0, no error. */
static int mysrc_oldest_transaction(struct source *src, struct keytuple *out)
{
    struct mysrc *s = (struct mysrc *)src;
    key_clear(out);
    int rc = ensure_conn(s);
    if (rc < 0)
        return rc;
    static const char sql[] =
        "SELECT DATE_FORMAT(CONVERT_TZ(MIN(trx_started), 'SYSTEM', '+00:00') "
        "- INTERVAL 1 SECOND, '%Y-%m-%d %H:%i:%s') "
        "FROM information_schema.innodb_trx WHERE trx_mysql_thread_id <> CONNECTION_ID()";
    if (mysql_real_query(s->conn, sql, sizeof sql - 1) != 0) {
        switch (mysql_errno(s->conn)) {
        case ER_SPECIFIC_ACCESS_DENIED_ERROR: /* no PROCESS privilege */
        case ER_DBACCESS_DENIED_ERROR:
        case ER_TABLEACCESS_DENIED_ERROR:
        case ER_UNKNOWN_TABLE:
        case ER_NO_SUCH_TABLE:
            return 0;
        default:
            return fail_sql(s, sql);
        }
    }
    MYSQL_RES *res = mysql_store_result(s->conn);
    if (!res)
        return fail_sql(s, sql);
    MYSQL_ROW row = mysql_fetch_row(res);
    if (row && row[0]) {
        unsigned long *lens = mysql_fetch_lengths(res);
        if (key_resize(out, 1) < 0 || key_set_text(out, 0, row[0], lens[0]) < 0) {
            key_clear(out);
            rc = fail_oom(s);
        }
    }
    mysql_free_result(res);
    return rc;
}

const struct source_driver mysrc_driver = {
    .name = "mysql",
    .dialect = &mysql_dialect,
    .claims = mysrc_claims,
    .open = mysrc_open,
    .close = mysrc_close,
    .list_tables = mysrc_list_tables,
    .describe = mysrc_describe,
    .prepare = mysrc_prepare,
    .execute = mysrc_execute,
    .next_row = mysrc_next_row,
    .row_key = mysrc_row_key,
    .close_result = mysrc_close_result,
    .finalize = mysrc_finalize,
    .begin_read = mysrc_begin_read,
    .end_read = mysrc_end_read,
    .oldest_transaction = mysrc_oldest_transaction,
    .begin_reads_together = mysrc_begin_reads_together,
};
