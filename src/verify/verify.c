/* verify.c - a backup against its sidecar and its table (verify.h). */
#include "verify/verify.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <xxhash.h>

#include "common/errbuf.h"
#include "common/exitcode.h"
#include "encode/json.h"
#include "source/connect.h"
#include "source/scan.h"
#include "verify/segread.h"

void verify_report_free(struct verify_report *rep)
{
    free(rep->segs);
    memset(rep, 0, sizeof *rep);
}

static void hex128(XXH128_hash_t h, char out[33])
{
    XXH128_canonical_t c;
    XXH128_canonicalFromHash(&c, h);
    for (size_t i = 0; i < sizeof c.digest; i++)
        snprintf(out + 2 * i, 3, "%02x", c.digest[i]);
}

/* ---- the file ------------------------------------------------------------ */

struct file_pass {
    EVP_MD_CTX *sha;
    XXH3_state_t *content;
    uint64_t lines;
};

static int count_content(const char *p, size_t n, void *ctx)
{
    struct file_pass *f = ctx;
    XXH3_128bits_update(f->content, p, n);
    for (const char *e = p + n; (p = memchr(p, '\n', (size_t)(e - p))) != NULL; p++)
        f->lines++;
    return 0;
}

static int digest_raw(const char *p, size_t n, void *ctx)
{
    struct file_pass *f = ctx;
    return EVP_DigestUpdate(f->sha, p, n) == 1 ? 0 : -1;
}

int verify_file(const struct record *r, struct verify_report *rep, char *err, size_t errlen)
{
    memset(rep, 0, sizeof *rep);
    int fd = open(r->data_path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errbuf_fail(err, errlen, -1, "%s: cannot open: %s", r->data_path, strerror(errno));
    struct stat st;
    struct file_pass f = {0};
    rep->segs = calloc(r->nsegs ? r->nsegs : 1, sizeof *rep->segs);
    f.sha = EVP_MD_CTX_new();
    f.content = XXH3_createState();
    int rc = 0;
    if (fstat(fd, &st) < 0)
        rc = errbuf_fail(err, errlen, -1, "%s: %s", r->data_path, strerror(errno));
    else if (!rep->segs || !f.sha || !f.content ||
             EVP_DigestInit_ex(f.sha, EVP_sha256(), NULL) != 1)
        rc = errbuf_fail(err, errlen, -1, "out of memory");
    rep->size = rc == 0 ? (uint64_t)st.st_size : 0;
    for (size_t i = 0; rc == 0 && i < r->nsegs; i++) {
        const struct record_segment *seg = &r->segs[i];
        struct segment_result *out = &rep->segs[i];
        struct segread_result got;
        XXH3_128bits_reset(f.content);
        f.lines = 0;
        if ((rc = segread(fd, r, seg, count_content, digest_raw, &f, &got, err, errlen)) != 0)
            break;
        out->rows_found = f.lines;
        hex128(XXH3_128bits_digest(f.content), out->content);
        if (got.read < seg->end - seg->start)
            out->state = got.read ? SEGMENT_TRUNCATED : SEGMENT_MISSING;
        else if (got.undecodable || strcmp(got.digest, seg->digest) != 0 || f.lines != seg->rows)
            out->state = SEGMENT_CHANGED;
        rep->damaged += out->state != SEGMENT_INTACT;
    }
    /* What follows the last segment: counted, and part of the digest. */
    uint64_t end = r->nsegs ? r->segs[r->nsegs - 1].end : 0;
    if (rc == 0 && rep->size > end) {
        rep->extra = rep->size - end;
        char buf[1 << 16];
        for (off_t at = (off_t)end; rc == 0;) {
            ssize_t got = pread(fd, buf, sizeof buf, at);
            if (got < 0 && errno == EINTR)
                continue;
            if (got < 0)
                rc = errbuf_fail(err, errlen, -1, "%s: cannot read: %s", r->data_path, strerror(errno));
            if (got <= 0)
                break;
            digest_raw(buf, (size_t)got, &f);
            at += got;
        }
    }
    if (rc == 0) {
        unsigned char md[32];
        unsigned int mdlen = 0;
        char hex[65];
        EVP_DigestFinal_ex(f.sha, md, &mdlen);
        for (unsigned i = 0; i < 32; i++)
            snprintf(hex + 2 * i, 3, "%02x", md[i]);
        rep->digest_ok = rep->size == r->bytes && strcmp(hex, r->sha256) == 0;
    }
    EVP_MD_CTX_free(f.sha);
    XXH3_freeState(f.content);
    close(fd);
    return rc;
}

/* ---- the table --------------------------------------------------------- */

/* Where the fields of one of our NDJSON lines lie: the encoder writes
 * `{"c1":v1,"c2":v2}` with each value valid JSON, so a value ends where
 * its string, brackets or token ends. */
static size_t skip_string(const char *s, size_t i, size_t n)
{
    for (i++; i < n && s[i] != '"'; i++)
        if (s[i] == '\\')
            i++;
    return i + 1;
}

static size_t skip_value(const char *s, size_t i, size_t n)
{
    if (i >= n)
        return n;
    if (s[i] == '"')
        return skip_string(s, i, n);
    if (s[i] == '[' || s[i] == '{') {
        int depth = 0;
        for (; i < n; i++) {
            char c = s[i];
            if (c == '"') {
                i = skip_string(s, i, n) - 1;
            } else if (c == '[' || c == '{') {
                depth++;
            } else if ((c == ']' || c == '}') && --depth == 0) {
                return i + 1;
            }
        }
        return n;
    }
    while (i < n && s[i] != ',' && s[i] != '}')
        i++;
    return i;
}

struct keymap_entry {
    uint64_t hash;      /* of the key's JSON; 0: empty slot */
    uint64_t line;      /* hash of the whole line */
    size_t key_at;      /* the key's JSON in the arena */
    uint32_t key_len;
    int seen;
};

/* The file segment's rows by key, and what the comparison needs. */
struct compare {
    const struct json_row *enc;
    const size_t *key_col;  /* output column of each key column */
    size_t nkey;
    struct keymap_entry *slot;
    size_t cap, used;
    struct buf arena;       /* key JSON texts */
    struct buf key;         /* the key being built */
    struct buf partial;     /* a line cut between two pieces */
    int bad_line;           /* a line was not one of ours */
};

static uint64_t key_hash(const char *p, size_t n)
{
    uint64_t h = XXH3_64bits(p, n);
    return h ? h : 1;
}

/* The key of a line as a JSON object of its key columns, into c->key. */
static int line_key(struct compare *c, const char *s, size_t n)
{
    const struct json_row *enc = c->enc;
    size_t at = 0, start[256], end[256];
    if (enc->ncols > 256)
        return -1;
    for (size_t i = 0; i < enc->ncols; i++) {
        size_t plen = enc->prefix_len[i];
        if (n - at < plen || memcmp(s + at, enc->prefix[i], plen) != 0)
            return -1;
        start[i] = at + plen;
        at = end[i] = skip_value(s, start[i], n);
    }
    if (at + 1 != n || s[at] != '}')
        return -1;
    buf_reset(&c->key);
    for (size_t k = 0; k < c->nkey; k++) {
        size_t col = c->key_col[k];
        buf_putc(&c->key, k ? ',' : '{');
        /* The column's prefix without its leading '{' or ',': `"name":`. */
        buf_append(&c->key, enc->prefix[col] + 1, enc->prefix_len[col] - 1);
        buf_append(&c->key, s + start[col], end[col] - start[col]);
    }
    buf_putc(&c->key, '}');
    return c->key.oom ? -1 : 0;
}

static struct keymap_entry *lookup(struct compare *c, uint64_t h, const char *k, size_t n)
{
    size_t mask = c->cap - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        struct keymap_entry *e = &c->slot[i];
        if (!e->hash || (e->hash == h && e->key_len == n &&
                         memcmp(c->arena.data + e->key_at, k, n) == 0))
            return e;
    }
}

static int map_grow(struct compare *c)
{
    size_t cap = c->cap ? 2 * c->cap : 1024;
    struct keymap_entry *old = c->slot, *slot = calloc(cap, sizeof *slot);
    if (!slot)
        return -1;
    size_t oldcap = c->cap;
    c->slot = slot;
    c->cap = cap;
    for (size_t i = 0; i < oldcap; i++)
        if (old[i].hash)
            *lookup(c, old[i].hash, c->arena.data + old[i].key_at, old[i].key_len) = old[i];
    free(old);
    return 0;
}

static int map_line(struct compare *c, const char *s, size_t n)
{
    if (line_key(c, s, n) < 0) {
        c->bad_line = 1;
        return 0;
    }
    if (2 * (c->used + 1) > c->cap && map_grow(c) < 0)
        return -1;
    uint64_t h = key_hash(c->key.data, c->key.len);
    struct keymap_entry *e = lookup(c, h, c->key.data, c->key.len);
    if (e->hash)
        return 0; /* a key twice in one segment: not from a unique key */
    e->hash = h;
    e->line = XXH3_64bits(s, n);
    e->key_at = c->arena.len;
    e->key_len = (uint32_t)c->key.len;
    c->used++;
    return buf_append(&c->arena, c->key.data, c->key.len);
}

/* segread_fn: splits the decompressed rows into lines for map_line. */
static int map_content(const char *p, size_t n, void *ctx)
{
    struct compare *c = ctx;
    const char *e = p + n;
    while (p < e) {
        const char *nl = memchr(p, '\n', (size_t)(e - p));
        if (!nl)
            return buf_append(&c->partial, p, (size_t)(e - p)) < 0 ? -1 : 0;
        int rc;
        if (c->partial.len) {
            if (buf_append(&c->partial, p, (size_t)(nl - p)) < 0)
                return -1;
            rc = map_line(c, c->partial.data, c->partial.len);
            buf_reset(&c->partial);
        } else {
            rc = map_line(c, p, (size_t)(nl - p));
        }
        if (rc < 0)
            return -1;
        p = nl + 1;
    }
    return 0;
}

/* The database side of one segment: the rows of its key range, encoded
 * as the extraction encoded them. */
struct table_pass {
    struct scan_spec spec;
    const struct json_row *enc;
    struct buf line;
};

/* Reads the segment's range; per row, fn(line, len, ctx). SOURCE_E* or 0. */
static int scan_range(struct source *src, struct table_pass *t,
                      int (*fn)(const char *line, size_t n, void *ctx), void *ctx)
{
    struct scan *sc;
    int rc = scan_open(src, &t->spec, &sc);
    const struct cell *row;
    while (rc == 0 && (rc = scan_next_row(sc, &row)) > 0) {
        buf_reset(&t->line);
        if (json_row(&t->line, t->enc, row, NULL) < 0) {
            rc = source_fail(src, SOURCE_ENOMEM, "out of memory for a row");
            break;
        }
        rc = fn(t->line.data, t->line.len, ctx);
    }
    scan_close(sc);
    return rc < 0 ? rc : 0;
}

struct digest_pass {
    XXH3_state_t *h;
    uint64_t rows;
};

static int digest_line(const char *line, size_t n, void *ctx)
{
    struct digest_pass *d = ctx;
    XXH3_128bits_update(d->h, line, n);
    d->rows++;
    return 0;
}

struct detail_pass {
    struct compare *c;
    struct segment_result *res;
    size_t segment;
    verify_key_fn *on_key;
    void *ctx;
};

static int detail_line(const char *line, size_t n, void *ctx)
{
    struct detail_pass *d = ctx;
    struct compare *c = d->c;
    if (line_key(c, line, n - 1) < 0) /* without its '\n' */
        return 0;
    uint64_t h = key_hash(c->key.data, c->key.len);
    struct keymap_entry *e = c->cap ? lookup(c, h, c->key.data, c->key.len) : NULL;
    const char *kind = NULL;
    if (!e || !e->hash) {
        kind = "inserted";
        d->res->inserted++;
    } else {
        e->seen = 1;
        if (e->line != XXH3_64bits(line, n - 1)) {
            kind = "changed";
            d->res->changed++;
        }
    }
    if (kind && d->on_key)
        d->on_key(d->ctx, d->segment, kind, c->key.data, c->key.len);
    return 0;
}

/* The columns the file was written with must still be the table's. */
static int check_columns(const struct record *r, const struct table_desc *d, char *err,
                         size_t errlen)
{
    char name[512];
    table_desc_name(d, name, sizeof name);
    for (size_t i = 0; i < r->ncols; i++) {
        long c = table_desc_column(d, r->cols[i].name);
        if (c < 0)
            return errbuf_fail(err, errlen, EXIT_VERIFY_COLUMNS,
                               "table %s changed since the extraction: column '%s' was dropped or renamed",
                               name, r->cols[i].name);
        if (r->cols[i].type && strcmp(d->cols[c].db_type, r->cols[i].type) != 0)
            return errbuf_fail(err, errlen, EXIT_VERIFY_COLUMNS,
                               "table %s changed since the extraction: column '%s' is %s, was %s", name,
                               r->cols[i].name, d->cols[c].db_type, r->cols[i].type);
    }
    for (size_t k = 0; k < r->key.n; k++)
        if (table_desc_column(d, r->key.v[k]) < 0 &&
            !(d->implicit_key && strcmp(d->implicit_key, r->key.v[k]) == 0))
            return errbuf_fail(err, errlen, EXIT_VERIFY_COLUMNS,
                               "table %s changed since the extraction: key column '%s' is gone", name,
                               r->key.v[k]);
    return 0;
}

/* One segment whose rows differ: which keys. */
static int detail(const struct record *r, size_t i, int fd, struct source *src,
                  struct table_pass *t, struct compare *c, struct verify_report *rep,
                  verify_key_fn *on_key, void *ctx, char *err, size_t errlen)
{
    struct segment_result *res = &rep->segs[i];
    memset(c->slot, 0, c->cap * sizeof *c->slot);
    c->used = 0;
    c->bad_line = 0;
    buf_reset(&c->arena);
    buf_reset(&c->partial);
    struct segread_result got;
    int rc = segread(fd, r, &r->segs[i], map_content, NULL, c, &got, err, errlen);
    if (rc != 0)
        return errbuf_fail(err, errlen, EXIT_OUTPUT, "%s", rc < 0 ? err : "out of memory");
    if (c->bad_line) {
        res->no_detail = 1;
        return 0;
    }
    struct detail_pass d = {.c = c, .res = res, .segment = i, .on_key = on_key, .ctx = ctx};
    if ((rc = scan_range(src, t, detail_line, &d)) < 0)
        return errbuf_fail(err, errlen, source_exit_code(rc), "%s", source_error(src));
    for (size_t s = 0; s < c->cap; s++)
        if (c->slot[s].hash && !c->slot[s].seen) {
            res->deleted++;
            if (on_key)
                on_key(ctx, i, "deleted", c->arena.data + c->slot[s].key_at, c->slot[s].key_len);
        }
    return 0;
}

int verify_table(const struct record *r, struct source *src, struct verify_report *rep,
                 verify_key_fn *on_key, void *ctx, char *err, size_t errlen)
{
    struct table_desc *d = NULL;
    int rc = source_describe(src, r->table, &d);
    if (rc < 0)
        return errbuf_fail(err, errlen, source_exit_code(rc), "%s", source_error(src));
    int code = check_columns(r, d, err, errlen);
    const char **cols = calloc(r->ncols, sizeof *cols);
    size_t *key_col = calloc(r->key.n, sizeof *key_col);
    struct json_row enc = {0};
    struct compare c = {0};
    struct table_pass t = {0};
    XXH3_state_t *h = XXH3_createState();
    int fd = -1, reading = 0;
    buf_init(&c.arena, (size_t)1 << 40);
    buf_init(&c.key, (size_t)1 << 30);
    buf_init(&c.partial, (size_t)16 << 30);
    buf_init(&t.line, (size_t)16 << 30);
    if (code)
        goto out;
    if (!cols || !key_col || !h) {
        code = errbuf_fail(err, errlen, EXIT_INTERNAL, "out of memory");
        goto out;
    }
    int have_keys = 1;
    for (size_t i = 0; i < r->ncols; i++)
        cols[i] = r->cols[i].name;
    for (size_t k = 0; k < r->key.n; k++) {
        size_t i = 0;
        while (i < r->ncols && strcmp(cols[i], r->key.v[k]) != 0)
            i++;
        have_keys &= i < r->ncols;
        key_col[k] = i;
    }
    if (json_row_init(&enc, cols, r->ncols) < 0) {
        code = errbuf_fail(err, errlen, EXIT_INTERNAL, "out of memory");
        goto out;
    }
    if ((fd = open(r->data_path, O_RDONLY | O_CLOEXEC)) < 0) {
        code = errbuf_fail(err, errlen, EXIT_OUTPUT, "%s: cannot open: %s", r->data_path,
                           strerror(errno));
        goto out;
    }
    c.enc = &enc;
    c.key_col = key_col;
    c.nkey = r->key.n;
    t.enc = &enc;
    t.spec = (struct scan_spec){
        .paging = PAGING_KEYSET, .table = d, .columns = cols, .ncolumns = r->ncols,
        .key = (const char *const *)r->key.v, .nkey = r->key.n, .ncursor = r->ncursor,
        .page_size = 10000, .page_bytes = (size_t)16 << 20, .where = r->where,
    };
    /* Every segment read in one snapshot: one picture of the table. */
    if ((rc = source_begin_read(src)) < 0) {
        code = errbuf_fail(err, errlen, source_exit_code(rc), "%s", source_error(src));
        goto out;
    }
    reading = 1;
    for (size_t i = 0; i < r->nsegs; i++) {
        const struct record_segment *seg = &r->segs[i];
        struct segment_result *res = &rep->segs[i];
        if (res->state != SEGMENT_INTACT)
            continue;
        /* (the previous segment's last key, this one's], the job's own
         * bounds at both ends. */
        t.spec.after = i ? &r->segs[i - 1].last
                         : (r->has_bounds && r->lower.n ? &r->lower : NULL);
        t.spec.after_inclusive = i == 0 && r->lower_inclusive;
        t.spec.upto = seg->last.n ? &seg->last : (r->has_bounds && r->upper.n ? &r->upper : NULL);
        if (i && r->segs[i - 1].last.n == 0)
            continue; /* only the last segment may end with the job */
        struct digest_pass dp = {.h = h};
        XXH3_128bits_reset(h);
        if ((rc = scan_range(src, &t, digest_line, &dp)) < 0) {
            code = errbuf_fail(err, errlen, source_exit_code(rc), "%s", source_error(src));
            goto out;
        }
        char content[33];
        hex128(XXH3_128bits_digest(h), content);
        res->table_same = dp.rows == res->rows_found && strcmp(content, res->content) == 0;
        if (res->table_same)
            continue;
        rep->moved++;
        if (!have_keys) {
            res->no_detail = 1;
            continue;
        }
        if (!c.cap && map_grow(&c) < 0) {
            code = errbuf_fail(err, errlen, EXIT_INTERNAL, "out of memory");
            goto out;
        }
        if ((code = detail(r, i, fd, src, &t, &c, rep, on_key, ctx, err, errlen)) != 0)
            goto out;
        rep->inserted += res->inserted;
        rep->deleted += res->deleted;
        rep->changed += res->changed;
    }
out:
    if (reading)
        source_end_read(src);
    if (fd >= 0)
        close(fd);
    free(c.slot);
    buf_free(&c.arena);
    buf_free(&c.key);
    buf_free(&c.partial);
    buf_free(&t.line);
    json_row_free(&enc);
    XXH3_freeState(h);
    free(cols);
    free(key_col);
    table_desc_free(d);
    return code;
}
