/* mysql_source.c - the MySQL/MariaDB driver (MariaDB Connector/C).
 *
 * URLs: mysql://[user[:password]@]host[:port][/db][?opt=v&...], mariadb://
 * the same. user, password, db and option values are percent-decoded.
 * Options: socket=/path, ssl-mode=disabled|preferred|required|verify_ca|
 * verify_identity, ssl-ca, ssl-capath, ssl-cert, ssl-key, ssl-cipher,
 * defaults-file=/path (MYSQL_READ_DEFAULT_FILE), connect-timeout=SECONDS.
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
 * Every query uses the text protocol and mysql_use_result (rows stream, no
 * per-row allocation); prepared statements and their cursors are never used.
 * keyset: one statement per page, `WHERE k1 >= ? AND (k1 > ? OR (k1 = ? AND
 * k2 > ?)) ORDER BY k1, k2 LIMIT n` with escaped literals - the expanded form, because MariaDB scans
 * the whole index for the row constructor `(k1,k2) > (?,?)` (tests/e2e/
 * mysql_explain.sh proves type=range, key=PRIMARY). offset: ORDER BY k LIMIT
 * n OFFSET m. cursor: one streamed query from `after` for the whole scan.
 *
 * --snapshot: START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY around
 * the whole scan. Key columns must be NOT NULL (offset paging excepted);
 * ENUM, SET, FLOAT and JSON columns are refused as keys, because their
 * ORDER BY and their comparison with a literal disagree. Tables have no
 * implicit key: without a primary key or unique NOT NULL index the core
 * asks for --key.
 *
 * Types: see mysql_types.h. GEOMETRY columns are selected as
 * ST_AsGeoJSON(col) and emitted as GeoJSON objects (MariaDB's text, with
 * its spaces); FLOAT columns as `col + 0e0` (a double with the float's
 * exact value), because the server's FLOAT text has only 6 digits. */
#include <ctype.h>
#include <errno.h>
#include <mysql.h>
#include <errmsg.h>
#include <mysqld_error.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "mysql_types.h"
#include "source/source.h"

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

struct mysrc {
    struct source base;
    MYSQL *conn;
    struct mysrc_conf conf;
    char target[512]; /* user@host:port/db for messages: never the password */
    int mariadb;      /* the server is MariaDB (JSON is LONGTEXT + CHECK) */
};

/* How a key column's values are written back as SQL literals. */
enum mysrc_keyclass {
    MYSRC_KEY_NUMBER, /* bare digits: a quoted number would compare as double */
    MYSRC_KEY_STRING, /* quoted and escaped: strings and temporal values */
    MYSRC_KEY_BINARY, /* X'hex' */
};

enum mysrc_bound {
    MYSRC_AFTER, /* (k1..kn) >  (l1..ln) */
    MYSRC_FROM,  /* (k1..kn) >= (l1..ln) */
    MYSRC_UPTO,  /* (k1..kn) <= (l1..ln) */
};

struct mysrc_scan {
    struct scan base;
    const struct scan_spec *spec;
    struct buf sql;       /* the statement of the current page */
    size_t sql_head;      /* bytes of `SELECT ... FROM t` at the start of sql */
    struct buf lits;      /* literals of the lower bound, NUL-separated */
    int have_lower;       /* lits holds a lower bound */
    size_t nlower;        /* ... on this many key columns */
    enum mysrc_bound lower_kind; /* MYSRC_AFTER or MYSRC_FROM */
    struct buf upto;      /* fixed conditions: IS NOT NULL of the nullable key
                             columns a bound covers, the upper bound; or empty */
    struct buf scratch;   /* decoded values of the current row */
    MYSQL_RES *res;
    MYSQL_ROW row;
    unsigned long *lens;
    size_t nsel;          /* select-list length: columns, then extra key columns */
    int *is_json, *is_float; /* per select-list entry, from the description */
    enum mysrc_kind *kinds;
    int *zerofill;
    int kinds_ready;
    size_t *key_sel;      /* select-list position of each key column */
    enum mysrc_keyclass *keyclass;
    int *key_unsigned;
    struct cell *cells;
    uint64_t page_rows;   /* rows of the current statement so far */
    uint64_t offset;      /* offset paging: rows before the current page */
    int streaming;        /* res has rows not read yet */
    int in_txn;
    int done;
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

static int connect_now(struct mysrc *s)
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
    char port[16] = "";
    if (c->port)
        snprintf(port, sizeof port, ":%u", c->port);
    snprintf(s->target, sizeof s->target, "%s%s%s%s%s%s", c->user ? c->user : "",
             c->user ? "@" : "", c->socket ? c->socket : c->host ? c->host : "localhost",
             c->socket ? "" : port, c->db ? "/" : "", c->db ? c->db : "");
    return connect_now(s);
}

/* Reconnects after close_scan abandoned a stream (closing is the only way
 * to stop a streamed result without reading it to the end). */
static int ensure_conn(struct mysrc *s)
{
    return s->conn ? 0 : connect_now(s);
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

static void quote_string(struct mysrc *s, struct buf *b, const char *p, size_t n)
{
    if (buf_reserve(b, 2 * n + 3) < 0)
        return;
    b->data[b->len++] = '\'';
    b->len += mysql_real_escape_string(s->conn, b->data + b->len, p, (unsigned long)n);
    b->data[b->len++] = '\'';
}

static void hex_literal(struct buf *b, const unsigned char *p, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    buf_puts(b, "X'");
    for (size_t i = 0; i < n; i++) {
        buf_putc(b, hex[p[i] >> 4]);
        buf_putc(b, hex[p[i] & 15]);
    }
    buf_putc(b, '\'');
}

/* Digits, sign, point and exponent only: a number the server sent us. */
static int numeric_text(const char *p, size_t n)
{
    if (n == 0 || n > 80)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!strchr("0123456789+-.eE", p[i]) || p[i] == '\0')
            return 0;
    return 1;
}

/* Appends one key value as a literal of the column's class. */
static int append_literal(struct mysrc *s, struct buf *b, enum mysrc_keyclass kc,
                          const char *p, size_t n, const char *col)
{
    switch (kc) {
    case MYSRC_KEY_NUMBER:
        if (!numeric_text(p, n))
            return source_fail(&s->base, SOURCE_EUSAGE,
                               "mysql: key value for column %s is not a number", col);
        buf_append(b, p, n);
        break;
    case MYSRC_KEY_STRING:
        quote_string(s, b, p, n);
        break;
    case MYSRC_KEY_BINARY:
        hex_literal(b, (const unsigned char *)p, n);
        break;
    }
    return b->oom ? fail_oom(s) : 0;
}

/* ---- list_tables, describe ------------------------------------------- */

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
        if (row[1]) {
            buf_puts(&b, row[1]);
            buf_putc(&b, '.');
        }
        buf_puts(&b, row[0]);
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

static char *xstrdup(const char *p)
{
    return p ? strdup(p) : strdup("");
}

/* Finds the table: `name` in the current database, else `schema.name`. */
static int find_table(struct mysrc *s, const char *table, struct table_desc *d)
{
    struct buf b;
    buf_init(&b, 1 << 20);
    const char *dot = strchr(table, '.');
    int rc = SOURCE_ENOTFOUND;
    for (int attempt = 0; attempt < 2 && rc == SOURCE_ENOTFOUND; attempt++) {
        const char *name = table;
        buf_reset(&b);
        buf_puts(&b, "SELECT TABLE_SCHEMA, TABLE_NAME, TABLE_TYPE, TABLE_ROWS "
                     "FROM information_schema.TABLES WHERE TABLE_SCHEMA = ");
        if (attempt == 0) {
            if (!s->conf.db)
                continue;
            buf_puts(&b, "DATABASE()");
        } else {
            if (!dot)
                break;
            quote_string(s, &b, table, (size_t)(dot - table));
            name = dot + 1;
        }
        buf_puts(&b, " AND TABLE_NAME = ");
        quote_string(s, &b, name, strlen(name));
        const char *sql = buf_cstr(&b);
        if (!sql) {
            rc = fail_oom(s);
            break;
        }
        MYSQL_RES *res = NULL;
        if ((rc = query_store(s, sql, &res)) < 0)
            break;
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
    if (rc == SOURCE_ENOTFOUND)
        return source_fail(&s->base, SOURCE_ENOTFOUND,
                           "mysql: no table %s%s%s (or it is not visible to this user)", table,
                           dot || !s->conf.db ? "" : " in database ",
                           dot || !s->conf.db ? "" : s->conf.db);
    return rc;
}

/* SELECT ... WHERE schema = d->schema AND table = d->name (appended). */
static const char *table_query(struct mysrc *s, struct buf *b, const char *head,
                               const char *schema_col, const char *table_col,
                               const struct table_desc *d, const char *tail)
{
    buf_reset(b);
    buf_puts(b, head);
    buf_printf(b, " WHERE %s = ", schema_col);
    quote_string(s, b, d->schema, strlen(d->schema));
    buf_printf(b, " AND %s = ", table_col);
    quote_string(s, b, d->name, strlen(d->name));
    buf_puts(b, tail);
    return buf_cstr(b);
}

static int describe_columns(struct mysrc *s, struct table_desc *d, struct buf *b)
{
    const char *sql = table_query(s, b,
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
    const char *sql = table_query(s, b,
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
            if (w && strcasecmp(row[0], w) == 0)
                c->json_type = "json";
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
    const char *sql = table_query(s, b,
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

/* ---- scans ----------------------------------------------------------- */

static const struct column_desc *find_col(const struct table_desc *d, const char *name)
{
    for (size_t i = 0; i < d->ncols; i++)
        if (strcmp(d->cols[i].name, name) == 0)
            return &d->cols[i];
    return NULL;
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

/* Checks that column c can order and bound a keyset, and how its values are
 * written back. A nullable column is refused unless offset paging or a
 * bound covers it (bounded): the scan then reads only its non-NULL rows
 * (incremental mode counts the others with cursor_range). */
static int key_class(struct mysrc *s, const struct scan_spec *spec,
                     const struct column_desc *c, int bounded, enum mysrc_keyclass *kc)
{
    const char *jt = c->json_type;
    if (c->nullable && spec->paging != PAGING_OFFSET && !bounded)
        return source_fail(&s->base, SOURCE_EUSAGE,
                           "mysql: key column %s is nullable: rows with NULL would be "
                           "skipped; choose a NOT NULL key with --key or use --paging offset",
                           c->name);
    if (type_is(c, "enum") || type_is(c, "set") || type_is(c, "float") ||
        strcmp(jt, "json") == 0)
        return source_fail(&s->base, SOURCE_EUSAGE,
                           "mysql: column %s (%s) cannot be a paging key: its order and its "
                           "comparisons differ; choose another with --key", c->name, c->db_type);
    if (strcmp(jt, "integer") == 0 || strcmp(jt, "number") == 0)
        *kc = MYSRC_KEY_NUMBER;
    else if (strcmp(jt, "base64") == 0 || strcmp(jt, "boolean") == 0)
        *kc = MYSRC_KEY_BINARY;
    else
        *kc = MYSRC_KEY_STRING;
    return 0;
}

/* The row comparison of the first n key columns with n NUL-separated
 * literals, in the expanded form the range optimizer understands (it scans
 * the whole index for a row constructor):
 *   n 1:  k1 > l1                      (>=, <= for FROM, UPTO)
 *   n 2+: (k1 >= l1 AND ((k1 > l1) OR (k1 = l1 AND k2 > l2) OR ...))
 * where the last column compares with > (AFTER) or >= (FROM); UPTO is the
 * mirror image with <= and <. */
static void bound_predicate(struct buf *b, const char *const *key, size_t n,
                            const char *lits, enum mysrc_bound kind)
{
    const char *lit[64];
    const char *p = lits;
    for (size_t i = 0; i < n; i++) {
        lit[i] = p;
        p += strlen(p) + 1;
    }
    const char *strict = kind == MYSRC_UPTO ? "<" : ">";
    const char *last = kind == MYSRC_AFTER ? ">" : kind == MYSRC_FROM ? ">=" : "<=";
    if (n == 1) {
        quote_ident(b, key[0]);
        buf_printf(b, " %s %s", last, lit[0]);
        return;
    }
    buf_putc(b, '(');
    quote_ident(b, key[0]);
    buf_printf(b, " %s %s AND (", kind == MYSRC_UPTO ? "<=" : ">=", lit[0]);
    for (size_t i = 0; i < n; i++) {
        if (i)
            buf_puts(b, " OR ");
        buf_putc(b, '(');
        for (size_t j = 0; j < i; j++) {
            quote_ident(b, key[j]);
            buf_printf(b, " = %s AND ", lit[j]);
        }
        quote_ident(b, key[i]);
        buf_printf(b, " %s %s)", i + 1 == n ? last : strict, lit[i]);
    }
    buf_puts(b, "))");
}

/* Literals of a stored key tuple (a prefix of 1..nkey values),
 * NUL-separated, into b. */
static int tuple_literals(struct mysrc *s, const struct scan_spec *spec,
                          const enum mysrc_keyclass *keyclass, const struct keytuple *t,
                          struct buf *b)
{
    if (t->n == 0 || t->n > spec->nkey)
        return source_fail(&s->base, SOURCE_EUSAGE,
                           "mysql: a key bound has %zu values but the key has %zu columns",
                           t->n, spec->nkey);
    buf_reset(b);
    for (size_t i = 0; i < t->n; i++) {
        const struct keyval *v = &t->v[i];
        char num[32];
        int rc;
        switch (v->kind) {
        case KEY_INT:
            snprintf(num, sizeof num, "%lld", (long long)v->i);
            rc = append_literal(s, b, keyclass[i], num, strlen(num), spec->key[i]);
            break;
        case KEY_REAL:
            snprintf(num, sizeof num, "%.17g", v->r);
            rc = append_literal(s, b, keyclass[i], num, strlen(num), spec->key[i]);
            break;
        case KEY_TEXT:
        case KEY_BLOB:
            rc = append_literal(s, b, keyclass[i], v->s, v->len, spec->key[i]);
            break;
        default:
            rc = source_fail(&s->base, SOURCE_EUSAGE,
                             "mysql: the saved key holds NULL for column %s", spec->key[i]);
        }
        if (rc < 0)
            return rc;
        buf_putc(b, '\0');
    }
    return b->oom ? fail_oom(s) : 0;
}

/* Literals of the current row's key, NUL-separated, into sc->lits. */
static int row_literals(struct mysrc_scan *sc)
{
    struct mysrc *s = (struct mysrc *)sc->base.src;
    buf_reset(&sc->lits);
    for (size_t i = 0; i < sc->spec->nkey; i++) {
        size_t k = sc->key_sel[i];
        if (!sc->row[k])
            return source_fail(&s->base, SOURCE_ERR, "mysql: key column %s is NULL",
                               sc->spec->key[i]);
        int rc = append_literal(s, &sc->lits, sc->keyclass[i], sc->row[k], sc->lens[k],
                                sc->spec->key[i]);
        if (rc < 0)
            return rc;
        buf_putc(&sc->lits, '\0');
    }
    sc->have_lower = 1;
    sc->nlower = sc->spec->nkey;
    sc->lower_kind = MYSRC_AFTER;
    return sc->lits.oom ? fail_oom(s) : 0;
}

/* Builds the statement of the next page (or of the whole cursor scan). */
static const char *page_sql(struct mysrc_scan *sc)
{
    const struct scan_spec *spec = sc->spec;
    struct buf *b = &sc->sql;
    b->len = sc->sql_head;
    const char *glue = " WHERE ";
    if (sc->have_lower) {
        buf_puts(b, glue);
        bound_predicate(b, spec->key, sc->nlower, sc->lits.data, sc->lower_kind);
        glue = " AND ";
    }
    if (sc->upto.len) {
        buf_puts(b, glue);
        buf_append(b, sc->upto.data, sc->upto.len);
        glue = " AND ";
    }
    if (spec->where && *spec->where) {
        buf_puts(b, glue);
        /* On its own line: a trailing -- comment must not eat ORDER BY. */
        buf_puts(b, "(");
        buf_puts(b, spec->where);
        buf_puts(b, "\n)");
    }
    buf_puts(b, " ORDER BY ");
    for (size_t i = 0; i < spec->nkey; i++) {
        if (i)
            buf_puts(b, ", ");
        quote_ident(b, spec->key[i]);
    }
    if (spec->paging == PAGING_KEYSET)
        buf_printf(b, " LIMIT %zu", spec->page_size);
    else if (spec->paging == PAGING_OFFSET)
        buf_printf(b, " LIMIT %zu OFFSET %llu", spec->page_size,
                   (unsigned long long)sc->offset);
    return buf_cstr(b);
}

static int start_page(struct mysrc_scan *sc)
{
    struct mysrc *s = (struct mysrc *)sc->base.src;
    const char *sql = page_sql(sc);
    if (!sql)
        return fail_oom(s);
    if (mysql_real_query(s->conn, sql, sc->sql.len) != 0 ||
        !(sc->res = mysql_use_result(s->conn)))
        return fail_sql(s, sql);
    sc->streaming = 1;
    sc->page_rows = 0;
    if (!sc->kinds_ready) {
        if (mysql_num_fields(sc->res) != sc->nsel)
            return source_fail(&s->base, SOURCE_ERR, "mysql: the server returned %u "
                               "columns for %zu asked", mysql_num_fields(sc->res), sc->nsel);
        MYSQL_FIELD *f = mysql_fetch_fields(sc->res);
        for (size_t i = 0; i < sc->nsel; i++) {
            sc->kinds[i] = mysrc_kind_of(&f[i], sc->is_json[i], sc->is_float[i]);
            sc->zerofill[i] = mysrc_field_zerofill(&f[i]);
        }
        for (size_t i = 0; i < sc->spec->nkey; i++) {
            const MYSQL_FIELD *kf = &f[sc->key_sel[i]];
            sc->key_unsigned[i] = (kf->flags & UNSIGNED_FLAG) != 0;
        }
        sc->kinds_ready = 1;
    }
    return 0;
}

/* Ends the current statement: the rest of a stream is read and checked. */
static int end_page(struct mysrc_scan *sc)
{
    struct mysrc *s = (struct mysrc *)sc->base.src;
    int rc = 0;
    if (sc->res) {
        if (sc->streaming) {
            while (mysql_fetch_row(sc->res))
                ;
            if (mysql_errno(s->conn))
                rc = fail_sql(s, sc->sql.data);
        }
        mysql_free_result(sc->res);
        sc->res = NULL;
        sc->streaming = 0;
    }
    return rc;
}

static void mysrc_close_scan(struct scan *scan)
{
    struct mysrc_scan *sc = (struct mysrc_scan *)scan;
    if (!sc)
        return;
    struct mysrc *s = (struct mysrc *)sc->base.src;
    if (sc->res) {
        if (sc->streaming && s->conn) {
            /* Reading an unfinished stream to its end could take as long as
             * the rest of the table: drop the connection instead. */
            mysql_close(s->conn);
            s->conn = NULL;
            sc->in_txn = 0;
        }
        mysql_free_result(sc->res);
    }
    if (sc->in_txn && s->conn)
        mysql_real_query(s->conn, "COMMIT", 6);
    buf_free(&sc->sql);
    buf_free(&sc->lits);
    buf_free(&sc->upto);
    buf_free(&sc->scratch);
    free(sc->is_json);
    free(sc->is_float);
    free(sc->kinds);
    free(sc->zerofill);
    free(sc->key_sel);
    free(sc->keyclass);
    free(sc->key_unsigned);
    free(sc->cells);
    free(sc);
}

static int mysrc_open_scan(struct source *src, const struct scan_spec *spec,
                           struct scan **out)
{
    struct mysrc *s = (struct mysrc *)src;
    const struct table_desc *d = spec->table;
    struct mysrc_scan *sc = calloc(1, sizeof *sc);
    if (!sc)
        return fail_oom(s);
    sc->base.src = src;
    sc->spec = spec;
    sc->offset = spec->offset;
    *out = &sc->base;
    buf_init(&sc->sql, MYSRC_SQL_MAX);
    buf_init(&sc->lits, MYSRC_SQL_MAX);
    buf_init(&sc->upto, MYSRC_SQL_MAX);
    buf_init(&sc->scratch, MYSRC_SCRATCH_MAX);
    int rc = ensure_conn(s);
    if (rc < 0)
        return rc;
    if (spec->nkey == 0 || spec->nkey > 64)
        return source_fail(src, SOURCE_EUSAGE, "mysql: a paging key needs 1 to 64 columns");
    if (spec->paging != PAGING_CURSOR && spec->page_size == 0)
        return source_fail(src, SOURCE_EUSAGE, "mysql: page size must be positive");
    size_t cap = spec->ncolumns + spec->nkey;
    sc->is_json = calloc(cap, sizeof *sc->is_json);
    sc->is_float = calloc(cap, sizeof *sc->is_float);
    sc->kinds = calloc(cap, sizeof *sc->kinds);
    sc->zerofill = calloc(cap, sizeof *sc->zerofill);
    sc->key_sel = calloc(spec->nkey, sizeof *sc->key_sel);
    sc->keyclass = calloc(spec->nkey, sizeof *sc->keyclass);
    sc->key_unsigned = calloc(spec->nkey, sizeof *sc->key_unsigned);
    sc->cells = calloc(cap, sizeof *sc->cells);
    if (!sc->is_json || !sc->is_float || !sc->kinds || !sc->zerofill || !sc->key_sel ||
        !sc->keyclass || !sc->key_unsigned || !sc->cells)
        return fail_oom(s);

    /* SELECT list: the output columns, then key columns not among them. */
    struct buf *b = &sc->sql;
    buf_puts(b, "SELECT ");
    for (size_t i = 0; i < spec->ncolumns + spec->nkey; i++) {
        const char *name;
        if (i < spec->ncolumns) {
            name = spec->columns[i];
        } else {
            size_t k = i - spec->ncolumns;
            size_t j = 0;
            while (j < spec->ncolumns && strcmp(spec->columns[j], spec->key[k]) != 0)
                j++;
            if (j < spec->ncolumns) {
                sc->key_sel[k] = j;
                continue;
            }
            name = spec->key[k];
            sc->key_sel[k] = sc->nsel;
        }
        const struct column_desc *c = find_col(d, name);
        if (!c)
            return source_fail(src, SOURCE_ENOTFOUND, "mysql: no column %s in %s.%s", name,
                               d->schema ? d->schema : "", d->name);
        if (sc->nsel)
            buf_puts(b, ", ");
        if (col_is_geometry(c)) {
            buf_puts(b, "ST_AsGeoJSON(");
            quote_ident(b, name);
            buf_putc(b, ')');
            sc->is_json[sc->nsel] = 1;
        } else if (type_is(c, "float")) {
            buf_putc(b, '(');
            quote_ident(b, name);
            buf_puts(b, " + 0e0)");
            sc->is_float[sc->nsel] = 1;
        } else {
            quote_ident(b, name);
            sc->is_json[sc->nsel] = strcmp(c->json_type, "json") == 0;
        }
        sc->nsel++;
    }
    buf_puts(b, " FROM ");
    if (d->schema) {
        quote_ident(b, d->schema);
        buf_putc(b, '.');
    }
    quote_ident(b, d->name);
    if (b->oom)
        return fail_oom(s);
    sc->sql_head = b->len;

    for (size_t k = 0; k < spec->nkey; k++) {
        const struct column_desc *c = find_col(d, spec->key[k]);
        if (!c)
            return source_fail(src, SOURCE_ENOTFOUND, "mysql: no key column %s in %s",
                               spec->key[k], d->name);
        int bounded = (spec->after && spec->after->n > k) || (spec->upto && spec->upto->n > k);
        if ((rc = key_class(s, spec, c, bounded, &sc->keyclass[k])) < 0)
            return rc;
    }
    /* The lower bound holds for every strategy: offset paging skips
     * spec->offset rows of those beyond it. */
    if (spec->after) {
        if ((rc = tuple_literals(s, spec, sc->keyclass, spec->after, &sc->lits)) < 0)
            return rc;
        sc->have_lower = 1;
        sc->nlower = spec->after->n;
        sc->lower_kind = spec->after_inclusive ? MYSRC_FROM : MYSRC_AFTER;
    }
    /* A bound compares only the first column in every branch of its
     * expanded form: NULLs in the others are left out explicitly. */
    for (size_t k = 0; k < spec->nkey; k++) {
        int bounded = (spec->after && spec->after->n > k) || (spec->upto && spec->upto->n > k);
        if (bounded && find_col(d, spec->key[k])->nullable) {
            if (sc->upto.len)
                buf_puts(&sc->upto, " AND ");
            quote_ident(&sc->upto, spec->key[k]);
            buf_puts(&sc->upto, " IS NOT NULL");
        }
    }
    if (sc->upto.oom)
        return fail_oom(s);
    if (spec->upto) {
        struct buf lits;
        buf_init(&lits, MYSRC_SQL_MAX);
        rc = tuple_literals(s, spec, sc->keyclass, spec->upto, &lits);
        if (rc == 0) {
            if (sc->upto.len)
                buf_puts(&sc->upto, " AND ");
            bound_predicate(&sc->upto, spec->key, spec->upto->n, lits.data, MYSRC_UPTO);
            if (sc->upto.oom)
                rc = fail_oom(s);
        }
        buf_free(&lits);
        if (rc < 0)
            return rc;
    }
    if (spec->snapshot) {
        if ((rc = run(s, "SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ")) < 0 ||
            (rc = run(s, "START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY")) < 0)
            return rc;
        sc->in_txn = 1;
    }
    return start_page(sc);
}

static int mysrc_next_row(struct scan *scan, const struct cell **row)
{
    struct mysrc_scan *sc = (struct mysrc_scan *)scan;
    struct mysrc *s = (struct mysrc *)scan->src;
    const struct scan_spec *spec = sc->spec;
    int rc;
    if (sc->done)
        return 0;
    if (!sc->res)
        return source_fail(&s->base, SOURCE_ERR, "mysql: the scan has no statement");
    for (;;) {
        /* A full page: the next one starts after its last row, whose data is
         * still valid until the next fetch. */
        if (spec->paging != PAGING_CURSOR && sc->page_rows == spec->page_size) {
            if (spec->paging == PAGING_KEYSET && (rc = row_literals(sc)) < 0)
                return rc;
            if (spec->paging == PAGING_OFFSET)
                sc->offset += sc->page_rows;
            if ((rc = end_page(sc)) < 0 || (rc = start_page(sc)) < 0)
                return rc;
        }
        sc->row = mysql_fetch_row(sc->res);
        if (sc->row)
            break;
        /* NULL is the end or an error: only mysql_errno tells. */
        sc->streaming = 0;
        if (mysql_errno(s->conn))
            return fail_sql(s, sc->sql.data);
        /* A short page (or the cursor's one statement) ends the scan: a full
         * page never gets here, the next one starts above. */
        mysql_free_result(sc->res);
        sc->res = NULL;
        sc->done = 1;
        return 0;
    }
    sc->lens = mysql_fetch_lengths(sc->res);
    sc->page_rows++;
    buf_reset(&sc->scratch);
    int moved = 0;
    for (size_t i = 0; i < spec->ncolumns; i++) {
        struct cell *c = &sc->cells[i];
        c->len = 0;
        if (!sc->row[i]) {
            c->kind = CELL_NULL;
            continue;
        }
        rc = mysrc_decode(sc->kinds[i], sc->zerofill[i], sc->row[i], sc->lens[i], c,
                          &sc->scratch, &sc->base.warnings);
        if (rc < 0)
            return fail_oom(s);
        if (rc == 1) {
            c->len |= (size_t)1 << (sizeof(size_t) * 8 - 1); /* mark: in scratch */
            moved = 1;
        }
    }
    if (moved) {
        const size_t mark = (size_t)1 << (sizeof(size_t) * 8 - 1);
        for (size_t i = 0; i < spec->ncolumns; i++) {
            struct cell *c = &sc->cells[i];
            if (c->kind != CELL_NULL && (c->len & mark)) {
                c->len &= ~mark;
                c->v.s = sc->scratch.data + c->v.u;
            }
        }
    }
    *row = sc->cells;
    return 1;
}

/* Value i of key from the server's text v[0..n) (NULL: SQL NULL): integers
 * as KEY_INT (UNSIGNED above INT64_MAX as text), binary as KEY_BLOB, the
 * rest as text in the server's own syntax. 0 or -1 (out of memory). */
static int set_key_value(struct keytuple *key, size_t i, enum mysrc_keyclass kc,
                         int is_int, int is_unsigned, const char *v, size_t n)
{
    if (!v)
        return key_set_null(key, i);
    if (kc == MYSRC_KEY_BINARY)
        return key_set_blob(key, i, v, n);
    if (kc == MYSRC_KEY_NUMBER && is_int) {
        errno = 0;
        char *end;
        long long x = strtoll(v, &end, 10);
        if (errno == 0 && end == v + n && !(is_unsigned && x < 0))
            return key_set_int(key, i, x);
    }
    return key_set_text(key, i, v, n);
}

static int mysrc_row_key(struct scan *scan, struct keytuple *key)
{
    struct mysrc_scan *sc = (struct mysrc_scan *)scan;
    const struct scan_spec *spec = sc->spec;
    if (!sc->row)
        return source_fail(scan->src, SOURCE_ERR, "mysql: no current row for its key");
    if (key_resize(key, spec->nkey) < 0)
        return source_fail(scan->src, SOURCE_ENOMEM, "mysql: out of memory");
    int rc = 0;
    for (size_t i = 0; i < spec->nkey && rc == 0; i++) {
        size_t k = sc->key_sel[i];
        rc = set_key_value(key, i, sc->keyclass[i], sc->kinds[k] == MYSRC_INT,
                           sc->key_unsigned[i], sc->row[k], sc->lens[k]);
    }
    return rc < 0 ? source_fail(scan->src, SOURCE_ENOMEM, "mysql: out of memory") : 0;
}

/* ---- incremental mode ------------------------------------------------ */

/* ` FROM t WHERE c1 IS [NOT] NULL AND/OR ...` for the first n key columns. */
static void range_from(struct buf *b, const struct scan_spec *spec, size_t n, int nulls)
{
    const struct table_desc *d = spec->table;
    buf_puts(b, " FROM ");
    if (d->schema) {
        quote_ident(b, d->schema);
        buf_putc(b, '.');
    }
    quote_ident(b, d->name);
    buf_puts(b, nulls ? " WHERE (" : " WHERE ");
    for (size_t i = 0; i < n; i++) {
        if (i)
            buf_puts(b, nulls ? " OR " : " AND ");
        quote_ident(b, spec->key[i]);
        buf_puts(b, nulls ? " IS NULL" : " IS NOT NULL");
    }
    if (nulls)
        buf_putc(b, ')');
}

static void range_where(struct buf *b, const struct scan_spec *spec)
{
    if (spec->where && *spec->where) {
        /* On its own line: a trailing -- comment must not eat ORDER BY. */
        buf_puts(b, " AND (");
        buf_puts(b, spec->where);
        buf_puts(b, "\n)");
    }
}

/* Runs sql and reads its one row (or none) into *res / *row. */
static int query_one(struct mysrc *s, const char *sql, MYSQL_RES **res, MYSQL_ROW *row)
{
    int rc = query_store(s, sql, res);
    if (rc < 0)
        return rc;
    *row = mysql_fetch_row(*res);
    return 0;
}

/* The least (desc 0) or greatest cursor prefix, into out (n 0: no row). */
static int cursor_end(struct mysrc *s, const struct scan_spec *spec, size_t ncursor,
                      const enum mysrc_keyclass *kc, const char *lower, int desc,
                      struct keytuple *out, struct buf *b)
{
    buf_reset(b);
    buf_puts(b, "SELECT ");
    for (size_t i = 0; i < ncursor; i++) {
        if (i)
            buf_puts(b, ", ");
        quote_ident(b, spec->key[i]);
    }
    range_from(b, spec, ncursor, 0);
    if (lower) {
        buf_puts(b, " AND ");
        buf_puts(b, lower);
    }
    range_where(b, spec);
    buf_puts(b, " ORDER BY ");
    for (size_t i = 0; i < ncursor; i++) {
        if (i)
            buf_puts(b, ", ");
        quote_ident(b, spec->key[i]);
        if (desc)
            buf_puts(b, " DESC");
    }
    buf_puts(b, " LIMIT 1");
    const char *sql = buf_cstr(b);
    if (!sql)
        return fail_oom(s);
    MYSQL_RES *res = NULL;
    MYSQL_ROW row;
    int rc = query_one(s, sql, &res, &row);
    if (rc < 0)
        return rc;
    key_clear(out);
    if (row) {
        unsigned long *lens = mysql_fetch_lengths(res);
        MYSQL_FIELD *f = mysql_fetch_fields(res);
        if (key_resize(out, ncursor) < 0)
            rc = fail_oom(s);
        for (size_t i = 0; i < ncursor && rc == 0; i++) {
            if (!row[i])
                rc = source_fail(&s->base, SOURCE_ERR, "mysql: cursor column %s is NULL in: %s",
                                 spec->key[i], sql);
            else if (set_key_value(out, i, kc[i], mysrc_kind_of(&f[i], 0, 0) == MYSRC_INT,
                                   (f[i].flags & UNSIGNED_FLAG) != 0, row[i], lens[i]) < 0)
                rc = fail_oom(s);
        }
        if (rc < 0)
            key_clear(out);
    }
    mysql_free_result(res);
    return rc;
}

/* Three small statements (the connection must not be streaming a scan):
 *   SELECT c1, c2 FROM t WHERE c1 IS NOT NULL AND c2 IS NOT NULL
 *     [AND <lower bound as a scan>] [AND (where)] ORDER BY c1, c2 LIMIT 1
 *   the same with ORDER BY c1 DESC, c2 DESC
 *   SELECT COUNT(*) FROM t WHERE (c1 IS NULL OR c2 IS NULL) [AND (where)] */
static int mysrc_cursor_range(struct source *src, const struct scan_spec *spec,
                              size_t ncursor, struct keytuple *min, struct keytuple *max,
                              uint64_t *nulls)
{
    struct mysrc *s = (struct mysrc *)src;
    *nulls = 0;
    key_clear(min);
    key_clear(max);
    int rc = ensure_conn(s);
    if (rc < 0)
        return rc;
    if (ncursor == 0 || ncursor > spec->nkey || spec->nkey > 64)
        return source_fail(src, SOURCE_EUSAGE, "mysql: %zu cursor columns of a %zu-column key",
                           ncursor, spec->nkey);
    enum mysrc_keyclass kc[64];
    for (size_t k = 0; k < spec->nkey; k++) {
        const struct column_desc *c = find_col(spec->table, spec->key[k]);
        if (!c)
            return source_fail(src, SOURCE_ENOTFOUND, "mysql: no key column %s in %s",
                               spec->key[k], spec->table->name);
        if ((rc = key_class(s, spec, c, 1, &kc[k])) < 0)
            return rc;
    }
    struct buf lower, b;
    buf_init(&lower, MYSRC_SQL_MAX);
    buf_init(&b, MYSRC_SQL_MAX);
    const char *lowsql = NULL;
    if (spec->after) {
        struct buf lits;
        buf_init(&lits, MYSRC_SQL_MAX);
        rc = tuple_literals(s, spec, kc, spec->after, &lits);
        if (rc == 0) {
            bound_predicate(&lower, spec->key, spec->after->n, lits.data,
                            spec->after_inclusive ? MYSRC_FROM : MYSRC_AFTER);
            if (!(lowsql = buf_cstr(&lower)))
                rc = fail_oom(s);
        }
        buf_free(&lits);
    }
    if (rc == 0)
        rc = cursor_end(s, spec, ncursor, kc, lowsql, 0, min, &b);
    if (rc == 0)
        rc = cursor_end(s, spec, ncursor, kc, lowsql, 1, max, &b);
    if (rc == 0) {
        buf_reset(&b);
        buf_puts(&b, "SELECT COUNT(*)");
        range_from(&b, spec, ncursor, 1);
        range_where(&b, spec);
        const char *sql = buf_cstr(&b);
        MYSQL_RES *res = NULL;
        MYSQL_ROW row;
        if (!sql)
            rc = fail_oom(s);
        else if ((rc = query_one(s, sql, &res, &row)) == 0) {
            if (row && row[0])
                *nulls = strtoull(row[0], NULL, 10);
            else
                rc = source_fail(src, SOURCE_ERR, "mysql: no count from: %s", sql);
            mysql_free_result(res);
        }
    }
    if (rc < 0) {
        key_clear(min);
        key_clear(max);
    }
    buf_free(&lower);
    buf_free(&b);
    return rc;
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
    .claims = mysrc_claims,
    .open = mysrc_open,
    .close = mysrc_close,
    .list_tables = mysrc_list_tables,
    .describe = mysrc_describe,
    .open_scan = mysrc_open_scan,
    .next_row = mysrc_next_row,
    .row_key = mysrc_row_key,
    .close_scan = mysrc_close_scan,
    .cursor_range = mysrc_cursor_range,
    .oldest_transaction = mysrc_oldest_transaction,
};
