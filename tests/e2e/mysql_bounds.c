/* mysql_bounds.c - the MySQL driver's incremental-mode calls, through the
 * driver interface: prefix lower bounds (exclusive and inclusive) with
 * prefix upper bounds on every paging strategy, cursor_range and
 * oldest_transaction. Run by tests/e2e/mysql_bounds.sh after it loaded
 * sql/mysql/bounds.sql; reads the server from SLUICE_TEST_MYSQL_* (the env
 * file of scripts/mariadb-server.sh). Each scan's ids are compared, in
 * order, with what the server itself returns for the same condition
 * written as a row comparison. Prints one line per check; exits 1 on any
 * failure. */
#include <mysql.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "source/source.h"

static int fails, passes;
static MYSQL *ref;           /* the test user's own connection: expectations */
static struct source *src;   /* the driver, as the test user */
static struct table_desc *ev;

static void check(int cond, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    printf(cond ? "ok   - " : "FAIL - ");
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
    cond ? passes++ : fails++;
}

static const char *env(const char *name)
{
    const char *v = getenv(name);
    if (!v || !*v) {
        fprintf(stderr, "mysql_bounds: %s is not set\n", name);
        exit(2);
    }
    return v;
}

static MYSQL *connect_as(const char *user, const char *password, const char *socket)
{
    MYSQL *m = mysql_init(NULL);
    unsigned port = socket ? 0 : (unsigned)atoi(env("SLUICE_TEST_MYSQL_PORT"));
    if (!m || !mysql_real_connect(m, socket ? NULL : env("SLUICE_TEST_MYSQL_HOST"), user,
                                  password, env("SLUICE_TEST_MYSQL_DB"), port, socket, 0) ||
        mysql_query(m, "SET time_zone = '+00:00'")) {
        fprintf(stderr, "mysql_bounds: cannot connect as %s: %s\n", user,
                m ? mysql_error(m) : "out of memory");
        exit(2);
    }
    return m;
}

static void sql_ok(MYSQL *m, const char *sql)
{
    if (mysql_query(m, sql)) {
        fprintf(stderr, "mysql_bounds: %s in: %s\n", mysql_error(m), sql);
        exit(2);
    }
    MYSQL_RES *r = mysql_store_result(m);
    if (r)
        mysql_free_result(r);
}

/* The first column of every row of sql, as text joined with ','. */
static char *sql_list(MYSQL *m, const char *sql)
{
    if (mysql_query(m, sql)) {
        fprintf(stderr, "mysql_bounds: %s in: %s\n", mysql_error(m), sql);
        exit(2);
    }
    MYSQL_RES *r = mysql_store_result(m);
    size_t cap = 64, len = 0;
    char *out = calloc(1, cap);
    MYSQL_ROW row;
    while (r && (row = mysql_fetch_row(r))) {
        const char *v = row[0] ? row[0] : "NULL";
        size_t n = strlen(v);
        while (len + n + 2 > cap)
            out = realloc(out, cap *= 2);
        if (len)
            out[len++] = ',';
        memcpy(out + len, v, n + 1);
        len += n;
    }
    if (r)
        mysql_free_result(r);
    return out;
}

/* The ids a scan returns, joined with ','; NULL when open_scan or a row
 * fails (the message in *err). */
static char *scan_ids(const struct scan_spec *spec, int *err)
{
    struct scan *sc = NULL;
    *err = source_open_scan(src, spec, &sc);
    size_t cap = 64, len = 0;
    char *out = calloc(1, cap);
    const struct cell *row;
    int rc = *err;
    struct keytuple k = {0};
    while (rc == 0 && (rc = scan_next_row(sc, &row)) == 1) {
        char num[32];
        if (row[0].kind == CELL_INT)
            snprintf(num, sizeof num, "%lld", (long long)row[0].v.i);
        else
            snprintf(num, sizeof num, "%.*s", (int)row[0].len, row[0].v.s);
        size_t n = strlen(num);
        while (len + n + 2 > cap)
            out = realloc(out, cap *= 2);
        if (len)
            out[len++] = ',';
        memcpy(out + len, num, n + 1);
        len += n;
        /* A checkpoint at any row: row_key must work mid-page. */
        if (scan_row_key(sc, &k) < 0 || k.n != spec->nkey)
            rc = -1;
        else
            rc = 0;
    }
    key_clear(&k);
    if (rc < 0) {
        *err = rc;
        printf("  # %s\n", source_error(src));
        free(out);
        out = NULL;
    }
    scan_close(sc);
    return out;
}

static struct keytuple tup(const char *a, const char *b)
{
    struct keytuple t = {0};
    key_init(&t, b ? 2 : 1);
    const char *v[2] = {a, b};
    for (size_t i = 0; i < t.n; i++) {
        char *end;
        long long x = strtoll(v[i], &end, 10);
        if (*end == '\0')
            key_set_int(&t, i, x);
        else
            key_set_text(&t, i, v[i], strlen(v[i]));
    }
    return t;
}

static const char *V(int c)
{
    static char buf[8][40];
    static int slot;
    char *b = buf[slot++ % 8];
    snprintf(b, 40, "2024-03-01 10:%02d:00.000250", c);
    return b;
}

static const char *const paging_name[] = {"keyset", "offset", "cursor"};

/* One bounded scan on every strategy against the server's own answer. */
static void scan_case(const char *what, const char *const *key, size_t nkey,
                      const struct keytuple *after, int inclusive,
                      const struct keytuple *upto, const char *where, const char *cond,
                      uint64_t offset)
{
    char sql[2048];
    char order[128] = "";
    for (size_t i = 0; i < nkey; i++)
        snprintf(order + strlen(order), sizeof order - strlen(order), "%s`%s`", i ? ", " : "",
                 key[i]);
    snprintf(sql, sizeof sql, "SELECT id FROM ev WHERE %s%s%s%s ORDER BY %s",
             cond, where ? " AND (" : "", where ? where : "", where ? ")" : "", order);
    char *want = sql_list(ref, sql);
    const char *cols[] = {"id"};
    for (int p = PAGING_KEYSET; p <= PAGING_CURSOR; p++) {
        if (offset && p != PAGING_OFFSET)
            continue;
        struct scan_spec spec = {
            .paging = (enum paging)p, .table = ev, .columns = cols, .ncolumns = 1,
            .key = key, .nkey = nkey, .after = after, .after_inclusive = inclusive,
            .upto = upto, .page_size = 7, .where = where, .offset = offset,
        };
        int err;
        char *got = scan_ids(&spec, &err);
        /* offset: the first `offset` rows of the bounded order are skipped */
        const char *w = want;
        for (uint64_t i = 0; i < offset && w; i++)
            w = strchr(w, ',') ? strchr(w, ',') + 1 : NULL;
        size_t nrows = *want ? 1 : 0;
        for (const char *t = want; *t; t++)
            nrows += *t == ',';
        check(got && w && strcmp(got, w) == 0, "%s, %s: %zu rows in order, each once (%s)",
              what, paging_name[p], nrows - (size_t)offset, cond);
        if (got && w && strcmp(got, w) != 0)
            printf("  # want %.200s\n  # got  %.200s\n", w, got);
        free(got);
    }
    free(want);
}

static void scans(void)
{
    const char *k2[] = {"updated_at", "id"};
    char cond[512];
    struct keytuple a5 = tup(V(5), NULL), u12 = tup(V(12), NULL);
    struct keytuple a5full = tup(V(5), "795"), u12full = tup(V(12), "472");
    struct keytuple u3 = tup(V(3), NULL), a18 = tup(V(18), NULL), a19 = tup(V(19), NULL);

    snprintf(cond, sizeof cond, "updated_at > '%s' AND updated_at <= '%s'", V(5), V(12));
    scan_case("after prefix exclusive, upto prefix", k2, 2, &a5, 0, &u12, NULL, cond, 0);
    snprintf(cond, sizeof cond, "updated_at >= '%s' AND updated_at <= '%s'", V(5), V(12));
    scan_case("after prefix inclusive, upto prefix", k2, 2, &a5, 1, &u12, NULL, cond, 0);
    scan_case("after prefix inclusive, upto prefix, offset 10", k2, 2, &a5, 1, &u12, NULL, cond, 10);
    snprintf(cond, sizeof cond, "updated_at >= '%s' AND updated_at <= '%s' AND (grp = 1)", V(5), V(12));
    scan_case("after prefix inclusive, upto prefix, where", k2, 2, &a5, 1, &u12, "grp = 1", cond, 0);
    snprintf(cond, sizeof cond, "(updated_at, id) > ('%s', 795) AND updated_at <= '%s'", V(5), V(12));
    scan_case("after full key (resume), upto prefix", k2, 2, &a5full, 0, &u12, NULL, cond, 0);
    snprintf(cond, sizeof cond, "(updated_at, id) >= ('%s', 795) AND updated_at <= '%s'", V(5), V(12));
    scan_case("after full key inclusive, upto prefix", k2, 2, &a5full, 1, &u12, NULL, cond, 0);
    snprintf(cond, sizeof cond, "updated_at >= '%s' AND (updated_at, id) <= ('%s', 472)", V(5), V(12));
    scan_case("after prefix inclusive, upto full key", k2, 2, &a5, 1, &u12full, NULL, cond, 0);
    snprintf(cond, sizeof cond, "updated_at <= '%s'", V(3));
    scan_case("upto prefix only (NULL cursors left out)", k2, 2, NULL, 0, &u3, NULL, cond, 0);
    snprintf(cond, sizeof cond, "updated_at > '%s'", V(18));
    scan_case("after prefix only", k2, 2, &a18, 0, NULL, NULL, cond, 0);
    snprintf(cond, sizeof cond, "updated_at > '%s'", V(19));
    scan_case("after the last value: no rows", k2, 2, &a19, 0, NULL, NULL, cond, 0);

    /* TIMESTAMP cursor: values and bounds in UTC. */
    const char *kts[] = {"ts", "id"};
    struct keytuple t5 = tup("2024-03-01 10:00:05.500000", NULL);
    struct keytuple t9 = tup("2024-03-01 10:00:09.500000", NULL);
    scan_case("timestamp cursor, exclusive prefix bounds", kts, 2, &t5, 0, &t9, NULL,
              "ts > '2024-03-01 10:00:05.5' AND ts <= '2024-03-01 10:00:09.5'", 0);

    /* Two cursor columns (bucket, tag), both nullable, then the key. */
    const char *k3[] = {"bucket", "tag", "id"};
    struct keytuple b3 = tup("3", NULL), b5t2 = tup("5", "t2"), b3t1 = tup("3", "t1");
    scan_case("3-column key: after (bucket) inclusive, upto (bucket, tag)", k3, 3, &b3, 1,
              &b5t2, NULL, "bucket >= 3 AND (bucket, tag) <= (5, 't2') AND tag IS NOT NULL", 0);
    scan_case("3-column key: after (bucket, tag) exclusive, upto (bucket, tag)", k3, 3, &b3t1, 0,
              &b5t2, NULL, "(bucket, tag) > (3, 't1') AND (bucket, tag) <= (5, 't2') AND tag IS NOT NULL", 0);
    scan_case("3-column key: after (bucket, tag) inclusive", k3, 3, &b3t1, 1, NULL, NULL,
              "(bucket, tag) >= (3, 't1') AND tag IS NOT NULL", 0);

    /* Unbounded, a nullable key would drop its NULL rows: still refused. */
    const char *cols[] = {"id"};
    struct scan_spec spec = {.paging = PAGING_KEYSET, .table = ev, .columns = cols,
                             .ncolumns = 1, .key = k2, .nkey = 2, .page_size = 7};
    int err;
    free(scan_ids(&spec, &err));
    check(err == SOURCE_EUSAGE, "nullable key without a bound on it is refused (%d)", err);
    struct keytuple three = {0};
    key_init(&three, 3);
    spec.after = &three;
    free(scan_ids(&spec, &err));
    check(err == SOURCE_EUSAGE, "a bound longer than the key is refused (%d)", err);
    key_clear(&three);

    struct keytuple *all[] = {&a5, &u12, &a5full, &u12full, &u3, &a18, &a19, &t5, &t9,
                              &b3, &b5t2, &b3t1};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        key_clear(all[i]);
}

/* key as text: "v1|v2", KEY_INT prefixed with "i:". */
static char *show(const struct keytuple *k)
{
    static char buf[4][256];
    static int slot;
    char *b = buf[slot++ % 4];
    b[0] = '\0';
    for (size_t i = 0; i < k->n; i++) {
        size_t n = strlen(b);
        if (k->v[i].kind == KEY_INT)
            snprintf(b + n, 256 - n, "%si:%lld", i ? "|" : "", (long long)k->v[i].i);
        else
            snprintf(b + n, 256 - n, "%s%s", i ? "|" : "", k->v[i].kind == KEY_TEXT ? k->v[i].s : "?");
    }
    return b;
}

static void range_case(const char *what, const char *const *key, size_t nkey, size_t ncursor,
                       const struct keytuple *after, int inclusive, const char *where,
                       const char *want_min, const char *want_max, uint64_t want_nulls)
{
    const char *cols[] = {"id"};
    struct scan_spec spec = {.paging = PAGING_KEYSET, .table = ev, .columns = cols,
                             .ncolumns = 1, .key = key, .nkey = nkey, .after = after,
                             .after_inclusive = inclusive, .page_size = 7, .where = where};
    struct keytuple min = {0}, max = {0};
    uint64_t nulls = 99;
    int rc = source_cursor_range(src, &spec, ncursor, &min, &max, &nulls);
    if (rc < 0)
        printf("  # %s\n", source_error(src));
    check(rc == 0 && strcmp(show(&min), want_min) == 0 && strcmp(show(&max), want_max) == 0 &&
              nulls == want_nulls,
          "cursor_range %s: min [%s] max [%s] nulls %llu", what, show(&min), show(&max),
          (unsigned long long)nulls);
    key_clear(&min);
    key_clear(&max);
}

static void ranges(void)
{
    const char *k2[] = {"updated_at", "id"};
    char wmin[64], wmax[64];
    range_case("of the whole table", k2, 2, 1, NULL, 0, NULL, V(0), V(19), 13);
    /* grp = 1: expectations from the server */
    char *mn = sql_list(ref, "SELECT MIN(updated_at) FROM ev WHERE grp = 1");
    char *mx = sql_list(ref, "SELECT MAX(updated_at) FROM ev WHERE grp = 1");
    char *nn = sql_list(ref, "SELECT COUNT(*) FROM ev WHERE updated_at IS NULL AND grp = 1");
    range_case("with where", k2, 2, 1, NULL, 0, "grp = 1", mn, mx, strtoull(nn, NULL, 10));
    free(mn), free(mx), free(nn);
    struct keytuple a5 = tup(V(5), NULL), a19 = tup(V(19), NULL);
    struct keytuple a5last = tup(V(5), "995"), a5mid = tup(V(5), "975");
    range_case("after a prefix, exclusive", k2, 2, 1, &a5, 0, NULL, V(6), V(19), 13);
    range_case("after a prefix, inclusive", k2, 2, 1, &a5, 1, NULL, V(5), V(19), 13);
    range_case("after the last value (no row; nulls still counted)", k2, 2, 1, &a19, 0, NULL,
               "", "", 13);
    range_case("after a value's last full key", k2, 2, 1, &a5last, 0, NULL, V(6), V(19), 13);
    range_case("after a value's last-but-one full key", k2, 2, 1, &a5mid, 0, NULL, V(5), V(19), 13);
    range_case("after with where", k2, 2, 1, &a19, 1, "grp = 2 AND id < 0", "", "", 0);
    const char *kts[] = {"ts", "id"};
    range_case("timestamp cursor, in UTC", kts, 2, 1, NULL, 0, NULL,
               "2024-03-01 10:00:00.500000", "2024-03-01 10:00:19.500000", 13);
    const char *k3[] = {"bucket", "tag", "id"};
    mn = sql_list(ref, "SELECT CONCAT('i:', bucket, '|', tag) FROM ev WHERE bucket IS NOT NULL "
                       "AND tag IS NOT NULL ORDER BY bucket, tag LIMIT 1");
    mx = sql_list(ref, "SELECT CONCAT('i:', bucket, '|', tag) FROM ev WHERE bucket IS NOT NULL "
                       "AND tag IS NOT NULL ORDER BY bucket DESC, tag DESC LIMIT 1");
    snprintf(wmin, sizeof wmin, "%s", mn);
    snprintf(wmax, sizeof wmax, "%s", mx);
    range_case("two cursor columns (integer and text)", k3, 3, 2, NULL, 0, NULL, wmin, wmax, 9);
    free(mn), free(mx);
    struct keytuple b8 = tup("3", "t1");
    mn = sql_list(ref, "SELECT CONCAT('i:', bucket, '|', tag) FROM ev WHERE (bucket, tag) > (3, 't1') "
                       "ORDER BY bucket, tag LIMIT 1");
    range_case("two cursor columns after a prefix of both", k3, 3, 2, &b8, 0, NULL, mn, wmax, 9);
    free(mn);

    /* The bounds bind back: min inclusive .. max covers every non-NULL row. */
    const char *cols[] = {"id"};
    struct scan_spec spec = {.paging = PAGING_KEYSET, .table = ev, .columns = cols,
                             .ncolumns = 1, .key = k2, .nkey = 2, .page_size = 7};
    struct keytuple min = {0}, max = {0};
    uint64_t nulls;
    int rc = source_cursor_range(src, &spec, 1, &min, &max, &nulls);
    spec.after = &min;
    spec.after_inclusive = 1;
    spec.upto = &max;
    int err;
    char *got = rc == 0 ? scan_ids(&spec, &err) : NULL;
    size_t n = got && *got ? 1 : 0;
    for (const char *t = got; t && *t; t++)
        n += *t == ',';
    check(got && n == 1000, "cursor_range's min and max bind back as bounds: %zu rows", n);
    free(got);
    key_clear(&min);
    key_clear(&max);
    key_clear(&a5), key_clear(&a19), key_clear(&a5last), key_clear(&a5mid), key_clear(&b8);
}

/* Server UTC time plus delta seconds, as "YYYY-MM-DD HH:MM:SS". */
static char *utc(int delta)
{
    char sql[160];
    snprintf(sql, sizeof sql, "SELECT DATE_FORMAT(UTC_TIMESTAMP() + INTERVAL %d SECOND, "
                              "'%%Y-%%m-%%d %%H:%%i:%%s')", delta);
    return sql_list(ref, sql);
}

/* InnoDB refreshes its copy of innodb_trx only when it was last read more
 * than 0.1 s ago. */
static void settle(void)
{
    nanosleep(&(struct timespec){0, 200 * 1000 * 1000}, NULL);
}

static void oldest(const char *url_proc)
{
    struct keytuple k = {0};
    MYSQL *other = connect_as(env("SLUICE_TEST_MYSQL_USER"), env("SLUICE_TEST_MYSQL_PASSWORD"),
                              NULL);
    sql_ok(other, "START TRANSACTION");
    sql_ok(other, "SELECT COUNT(*) FROM ev");
    int rc = source_oldest_transaction(src, &k);
    check(rc == 0 && k.n == 0, "oldest_transaction without PROCESS: no error, n 0 (rc %d, n %zu)",
          rc, k.n);
    sql_ok(other, "COMMIT");
    if (!url_proc) {
        printf("skip - oldest_transaction with PROCESS: no root access\n");
        mysql_close(other);
        return;
    }
    const struct source_driver *drv = source_find(url_proc);
    struct source *ps = NULL;
    if (source_open(drv, url_proc, &ps) < 0) {
        check(0, "open as the PROCESS user: %s", source_error(ps));
        source_close(ps);
        mysql_close(other);
        return;
    }
    rc = source_oldest_transaction(ps, &k);
    check(rc == 0 && k.n == 0, "oldest_transaction, no other transaction: n 0 (rc %d, n %zu)", rc,
          k.n);
    char *lo = utc(-2);
    sql_ok(other, "START TRANSACTION");
    sql_ok(other, "SELECT COUNT(*) FROM ev");
    char *hi = utc(0);
    settle();
    rc = source_oldest_transaction(ps, &k);
    check(rc == 0 && k.n == 1 && k.v[0].kind == KEY_TEXT && strcmp(k.v[0].s, lo) >= 0 &&
              strcmp(k.v[0].s, hi) <= 0,
          "oldest_transaction, another session's open transaction: [%s] in UTC [%s, %s]",
          k.n ? k.v[0].s : "", lo, hi);
    /* Its own transaction does not count: a snapshot scan read to its end
     * keeps its transaction open until close_scan. */
    sql_ok(other, "COMMIT");
    const char *k2[] = {"updated_at", "id"};
    const char *cols[] = {"id"};
    struct keytuple a18 = tup(V(18), NULL);
    struct scan_spec spec = {.paging = PAGING_KEYSET, .table = ev, .columns = cols, .ncolumns = 1,
                             .key = k2, .nkey = 2, .after = &a18, .page_size = 7, .snapshot = 1};
    struct scan *sc = NULL;
    const struct cell *row;
    rc = source_open_scan(ps, &spec, &sc);
    while (rc == 0 && (rc = scan_next_row(sc, &row)) == 1)
        rc = 0;
    settle();
    int rc2 = rc == 0 ? source_oldest_transaction(ps, &k) : -1;
    scan_close(sc);
    check(rc2 == 0 && k.n == 0, "oldest_transaction leaves out its own session's transaction "
          "(n %zu)", k.n);
    key_clear(&a18);
    key_clear(&k);
    free(lo), free(hi);
    source_close(ps);
    mysql_close(other);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    const char *url = env("SLUICE_TEST_MYSQL_URL");
    ref = connect_as(env("SLUICE_TEST_MYSQL_USER"), env("SLUICE_TEST_MYSQL_PASSWORD"), NULL);
    const struct source_driver *drv = source_find(url);
    if (!drv || !drv->cursor_range || !drv->oldest_transaction) {
        fprintf(stderr, "mysql_bounds: no mysql driver with cursor_range\n");
        return 2;
    }
    if (source_open(drv, url, &src) < 0 || source_describe(src, "ev", &ev) < 0) {
        fprintf(stderr, "mysql_bounds: %s\n", source_error(src));
        return 2;
    }
    scans();
    ranges();
    /* A second user with PROCESS, made by root over the socket when we can. */
    char *url_proc = NULL;
    const char *sock = getenv("SLUICE_TEST_MYSQL_SOCKET");
    MYSQL *root = mysql_init(NULL);
    if (sock && *sock && mysql_real_connect(root, NULL, "root", "", NULL, 0, sock, 0)) {
        char sql[512], esc[256];
        const char *pw = env("SLUICE_TEST_MYSQL_PASSWORD");
        mysql_real_escape_string(root, esc, pw, (unsigned long)strlen(pw));
        sql_ok(root, "DROP USER IF EXISTS 'sluice_proc'@'%'");
        snprintf(sql, sizeof sql, "CREATE USER 'sluice_proc'@'%%' IDENTIFIED BY '%s'", esc);
        sql_ok(root, sql);
        sql_ok(root, "GRANT PROCESS ON *.* TO 'sluice_proc'@'%'");
        snprintf(sql, sizeof sql, "GRANT SELECT ON `%s`.* TO 'sluice_proc'@'%%'",
                 env("SLUICE_TEST_MYSQL_DB"));
        sql_ok(root, sql);
        const char *at = strstr(url, "sluice:");
        if (at) {
            url_proc = malloc(strlen(url) + 8);
            sprintf(url_proc, "%.*ssluice_proc:%s", (int)(at - url), url, at + 7);
        }
    }
    oldest(url_proc);
    if (url_proc)
        sql_ok(root, "DROP USER IF EXISTS 'sluice_proc'@'%'");
    mysql_close(root);
    free(url_proc);
    table_desc_free(ev);
    source_close(src);
    mysql_close(ref);
    mysql_library_end();
    printf("%d passed, %d failed\n", passes, fails);
    return fails || !passes ? 1 : 0;
}
