/* join.c - joining a partitioned job's parts (join.h). */
#include "output/join.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "common/errbuf.h"
#include "common/exitcode.h"
#include "common/log.h"
#include "output/durable.h"
#include "output/parts.h"
#include "output/sidecar.h"

#define JOIN_COPY_BUF ((size_t)1 << 20)

struct join {
    const struct join_request *rq;
    struct join_result *res;
    char index[4200], partial[4200], plan_path[4200];
    json_t *idx;      /* the index (journal) of the plan being joined, or NULL */
    json_t *records;  /* array of the plan's records, by index */
    int fd;           /* FILE.partial, locked; -1 */
    int created;      /* this call created FILE.partial */
};

/* Records the first error of the join; returns code. */
#define jfail(j, code, ...) \
    errbuf_first((j)->res->error, sizeof (j)->res->error, (code), __VA_ARGS__)

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

static const char *str(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

static json_int_t num(const json_t *o, const char *key)
{
    return json_integer_value(json_object_get(o, key));
}

/* The part index named by a directory entry "BASE.part-NNNN.json", or -1. */
static long record_index(const char *entry, const char *base)
{
    size_t b = strlen(base), n = strlen(entry);
    if (n < b + 6 + 5 || strncmp(entry, base, b) != 0 || strncmp(entry + b, ".part-", 6) != 0 ||
        strcmp(entry + n - 5, ".json") != 0)
        return -1;
    long v = 0;
    for (const char *p = entry + b + 6; p < entry + n - 5; p++) {
        if (*p < '0' || *p > '9' || v > 1000000)
            return -1;
        v = v * 10 + (*p - '0');
    }
    return entry + n - 5 - (entry + b + 6) >= 4 ? v : -1;
}

/* Reads every record beside the output. Sets j->records to those of the
 * plan to join (rq->plan, else the only one found). */
static int read_records(struct join *j)
{
    const char *out = j->rq->output, *base = base_name(out);
    char dir[4200];
    const char *slash = strrchr(out, '/');
    snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash - out) + (slash == out) : 1,
             slash ? out : ".");
    DIR *d = opendir(dir);
    if (!d)
        return jfail(j, EXIT_OUTPUT, "join: cannot read directory %s: %s", dir, strerror(errno));
    json_t *all = json_array();
    char first[4200] = "", plan[64] = "";
    struct dirent *e;
    int code = all ? 0 : jfail(j, EXIT_INTERNAL, "out of memory");
    while (code == 0 && (e = readdir(d))) {
        long i = record_index(e->d_name, base);
        if (i < 0)
            continue;
        char path[8400], why[512];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        json_t *r;
        int rc = parts_read_record(path, &r, why, sizeof why);
        if (rc < 0)
            code = jfail(j, EXIT_USAGE, "join: %s", why);
        if (rc != 0)
            continue;
        const char *p = str(r, "plan");
        if (num(r, "index") != i) {
            code = jfail(j, EXIT_USAGE, "join: %s names part %lld, not %ld", path,
                         (long long)num(r, "index"), i);
        } else if (j->rq->plan && strcmp(p, j->rq->plan) != 0) {
            /* another job's record: not ours to join */
        } else if (!j->rq->plan && plan[0] && strcmp(p, plan) != 0) {
            code = jfail(j, EXIT_USAGE,
                         "join: the parts of %s belong to two different jobs: %s (plan %s) and %s (plan %s); remove the older job's files",
                         out, first, plan, e->d_name, p);
        } else {
            if (!plan[0]) {
                snprintf(plan, sizeof plan, "%s", p);
                snprintf(first, sizeof first, "%s", e->d_name);
            }
            if (json_array_append(all, r) < 0)
                code = jfail(j, EXIT_INTERNAL, "out of memory");
        }
        json_decref(r);
    }
    closedir(d);
    if (code) {
        json_decref(all);
        return code;
    }
    j->records = all;
    return 0;
}

/* The records of the plan in index order, checked: one of each index, all
 * present, each part there with its size. Returns the array in *parts. */
static int complete_parts(struct join *j, json_t **parts)
{
    size_t n = json_array_size(j->records);
    json_t *r0 = json_array_get(j->records, 0);
    json_int_t total = j->rq->partitions ? (json_int_t)j->rq->partitions : num(r0, "partitions");
    if (total < 1 || total > 1000000)
        return jfail(j, EXIT_USAGE, "join: the record of part %lld gives no number of parts",
                     (long long)num(r0, "index"));
    json_t **by = calloc((size_t)total, sizeof *by);
    if (!by)
        return jfail(j, EXIT_INTERNAL, "out of memory");
    int code = 0;
    for (size_t i = 0; i < n && !code; i++) {
        json_t *r = json_array_get(j->records, i);
        json_int_t idx = num(r, "index");
        if (num(r, "partitions") != total || idx < 0 || idx >= total)
            code = jfail(j, EXIT_USAGE,
                         "join: part %lld of %s says the job has %lld parts, another says %lld",
                         (long long)idx, j->rq->output, (long long)num(r, "partitions"),
                         (long long)total);
        else
            by[idx] = r;
    }
    char missing[512] = "";
    size_t nmissing = 0, used = 0;
    for (json_int_t i = 0; i < total && !code; i++) {
        if (by[i]) {
            char part[4200];
            struct stat st;
            parts_path(part, sizeof part, j->rq->output, (unsigned)i);
            if (stat(part, &st) != 0)
                code = jfail(j, EXIT_USAGE, "join: %s is missing although its record exists", part);
            else if ((json_int_t)st.st_size != num(by[i], "bytes"))
                code = jfail(j, EXIT_USAGE,
                             "join: %s is %lld bytes but its record says %lld: it was changed or is being rewritten",
                             part, (long long)st.st_size, (long long)num(by[i], "bytes"));
            continue;
        }
        if (nmissing++ < 20 && used < sizeof missing) {
            int w = snprintf(missing + used, sizeof missing - used, "%s%04lld", used ? ", " : "",
                             (long long)i);
            used += w > 0 ? (size_t)w : 0;
        }
    }
    if (!code && nmissing)
        code = jfail(j, EXIT_USAGE,
                     "join: %zu of %lld parts of %s are not finished yet (part%s %s%s); run the missing shards or partitions first",
                     nmissing, (long long)total, j->rq->output, nmissing > 1 ? "s" : "", missing,
                     nmissing > 20 ? ", ..." : "");
    json_t *a = code ? NULL : json_array();
    for (json_int_t i = 0; a && i < total; i++)
        if (json_array_append(a, by[i]) < 0) {
            json_decref(a);
            a = NULL;
        }
    free(by);
    if (!code && !a)
        code = jfail(j, EXIT_INTERNAL, "out of memory");
    *parts = a;
    return code;
}

static int write_index(struct join *j, json_t *parts, const char *mode)
{
    json_t *r0 = json_array_get(parts, 0);
    json_int_t rows = 0, bytes = 0;
    for (size_t i = 0; i < json_array_size(parts); i++) {
        rows += num(json_array_get(parts, i), "rows");
        bytes += num(json_array_get(parts, i), "bytes");
    }
    json_t *idx = json_pack("{sssisssOsssIsssssIsIsO}", "sluice", "parts", "version", 1,
                            "plan", str(r0, "plan"), "stream", json_object_get(r0, "stream"),
                            "output", base_name(j->rq->output),
                            "partitions", (json_int_t)json_array_size(parts),
                            "compression", str(r0, "compression"), "mode", mode,
                            "rows", rows, "bytes", bytes, "parts", parts);
    if (!idx)
        return jfail(j, EXIT_INTERNAL, "out of memory");
    char *text = json_dumps(idx, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
    char why[1024];
    int code = !text ? jfail(j, EXIT_INTERNAL, "out of memory")
               : durable_write(j->index, text, strlen(text), 0, why, sizeof why) < 0
                   ? jfail(j, EXIT_OUTPUT, "join: %s", why) : 0;
    free(text);
    json_decref(j->idx);
    j->idx = code ? NULL : idx;
    if (code)
        json_decref(idx);
    return code;
}

/* Creates (or opens) FILE.partial and locks it against other sluice
 * processes. */
static int lock_partial(struct join *j)
{
    if (j->fd >= 0)
        return 0;
    j->fd = open(j->partial, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    j->created = j->fd >= 0;
    if (j->fd < 0 && errno == EEXIST)
        j->fd = open(j->partial, O_WRONLY | O_CLOEXEC);
    if (j->fd < 0)
        return jfail(j, EXIT_OUTPUT, "join: cannot create %s: %s", j->partial, strerror(errno));
    while (flock(j->fd, LOCK_EX | LOCK_NB) < 0) {
        if (errno == EINTR)
            continue;
        if (errno == EWOULDBLOCK)
            return jfail(j, EXIT_STATE, "another sluice process is writing %s", j->rq->output);
        return jfail(j, EXIT_OUTPUT, "join: cannot lock %s: %s", j->partial, strerror(errno));
    }
    return 0;
}

static int write_all(int fd, const unsigned char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Appends one part to the partial file, checking its SHA-256. */
static int copy_part(struct join *j, const json_t *rec, unsigned char *buf)
{
    char part[4200], hex[65];
    unsigned i = (unsigned)num(rec, "index");
    parts_path(part, sizeof part, j->rq->output, i);
    int in = open(part, O_RDONLY | O_CLOEXEC);
    if (in < 0)
        return jfail(j, EXIT_OUTPUT, "join: cannot open %s: %s", part, strerror(errno));
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    int code = md && EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1
                   ? 0 : jfail(j, EXIT_INTERNAL, "out of memory");
    json_int_t copied = 0;
    while (!code) {
        ssize_t n = read(in, buf, JOIN_COPY_BUF);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            code = jfail(j, EXIT_OUTPUT, "join: cannot read %s: %s", part, strerror(errno));
        if (n <= 0)
            break;
        EVP_DigestUpdate(md, buf, (size_t)n);
        if (write_all(j->fd, buf, (size_t)n) < 0)
            code = jfail(j, EXIT_OUTPUT, "join: cannot write %s: %s", j->partial, strerror(errno));
        copied += n;
    }
    unsigned char d[32];
    unsigned dlen = 0;
    if (!code && EVP_DigestFinal_ex(md, d, &dlen) != 1)
        code = jfail(j, EXIT_INTERNAL, "join: SHA-256 failed");
    for (unsigned k = 0; !code && k < 32; k++)
        snprintf(hex + 2 * k, 3, "%02x", d[k]);
    if (!code && (copied != num(rec, "bytes") || strcmp(hex, str(rec, "sha256")) != 0))
        code = jfail(j, EXIT_OUTPUT,
                     "join: %s changed since it was written (%lld bytes, SHA-256 %.12s...; its record says %lld bytes, %.12s...); extract it again",
                     part, (long long)copied, hex, (long long)num(rec, "bytes"), str(rec, "sha256"));
    EVP_MD_CTX_free(md);
    close(in);
    return code;
}

/* The parts' sidecars (jobs run with --meta), in part order; *n_found of
 * them exist. Missing ones are NULL. */
static json_t **part_sidecars(struct join *j, json_t *parts, size_t *n_found)
{
    size_t n = json_array_size(parts);
    json_t **side = calloc(n ? n : 1, sizeof *side);
    *n_found = 0;
    for (size_t i = 0; side && i < n; i++) {
        char part[4200], path[4300];
        unsigned k = (unsigned)num(json_array_get(parts, i), "index");
        if (parts_path(part, sizeof part, j->rq->output, k) < 0 ||
            sidecar_path(part, path, sizeof path) < 0)
            continue;
        if ((side[i] = json_load_file(path, 0, NULL)))
            (*n_found)++;
    }
    return side;
}

static void free_sidecars(json_t **side, size_t n)
{
    for (size_t i = 0; side && i < n; i++)
        json_decref(side[i]);
    free(side);
}

/* The joined file's sidecar, merged from its parts': their segments one
 * after another, each byte range moved by the sizes of the parts before
 * it, and a part's last segment ending at its partition's upper bound
 * (not at the end of the job); bounds from the first part's lower to the
 * last part's upper; the rows, size and SHA-256 of the whole file; the
 * earliest start and the latest end. Without part sidecars there is nothing to write
 * (the job ran without --meta); with only some, a warning. Written after
 * FILE is in place and before the parts' sidecars are removed, so a join
 * killed in between writes it on its next call. */
static int write_joined_sidecar(struct join *j, json_t *parts)
{
    size_t n = json_array_size(parts), found;
    json_t **side = part_sidecars(j, parts, &found);
    if (!side)
        return jfail(j, EXIT_INTERNAL, "out of memory");
    if (found < n) {
        if (found)
            log_warn("%s: %zu of %zu parts have a sidecar, so the joined file gets none",
                     j->rq->output, found, n);
        free_sidecars(side, n);
        return 0;
    }
    json_t *merged = json_deep_copy(side[0]), *segs = json_array();
    json_int_t rows = 0, offset = 0, attempts = 0;
    const char *started = NULL, *finished = NULL;
    int code = merged && segs ? 0 : jfail(j, EXIT_INTERNAL, "out of memory");
    for (size_t i = 0; !code && i < n; i++) {
        const json_t *job = json_object_get(side[i], "job");
        const char *s = json_string_value(json_object_get(job, "started_at"));
        const char *e = json_string_value(json_object_get(job, "finished_at"));
        if (s && (!started || strcmp(s, started) < 0))
            started = s;
        if (e && (!finished || strcmp(e, finished) > 0))
            finished = e;
        if (num(job, "attempts") > attempts)
            attempts = num(job, "attempts");
        rows += num(side[i], "rows");
        size_t k;
        json_t *seg;
        const json_t *own = json_object_get(side[i], "segments");
        const json_t *upper = json_object_get(json_object_get(side[i], "bounds"), "upper");
        json_array_foreach(own, k, seg) {
            json_t *copy = json_deep_copy(seg);
            const json_t *b = json_object_get(seg, "bytes");
            json_t *moved = json_pack("[II]", json_integer_value(json_array_get(b, 0)) + offset,
                                      json_integer_value(json_array_get(b, 1)) + offset);
            if (copy && i + 1 < n && k + 1 == json_array_size(own) && upper &&
                json_is_null(json_object_get(seg, "last")))
                json_object_set(copy, "last", (json_t *)upper);
            if (!copy || !moved || json_object_set_new(copy, "bytes", moved) < 0 ||
                json_array_append_new(segs, copy) < 0) {
                code = jfail(j, EXIT_INTERNAL, "out of memory");
                break;
            }
        }
        offset += num(side[i], "bytes");
    }
    char hex[65], why[1024];
    uint64_t size = 0;
    if (!code && sidecar_digest_file(j->rq->output, hex, &size, why, sizeof why) < 0)
        code = jfail(j, EXIT_OUTPUT, "join: %s", why);
    if (!code && (json_int_t)size != offset)
        code = jfail(j, EXIT_OUTPUT,
                     "join: the parts' sidecars describe %lld bytes, %s has %llu; extract it again",
                     (long long)offset, j->rq->output, (unsigned long long)size);
    if (!code) {
        json_t *job = json_object_get(merged, "job");
        json_object_del(merged, "partition");
        json_object_set_new(merged, "file", json_string(base_name(j->rq->output)));
        json_object_set_new(merged, "rows", json_integer(rows));
        json_object_set_new(merged, "bytes", json_integer((json_int_t)size));
        json_object_set_new(merged, "digest",
                            json_pack("{ssss}", "algorithm", SIDECAR_DIGEST, "value", hex));
        json_object_set(merged, "segments", segs);
        json_t *bounds = json_object_get(merged, "bounds");
        const json_t *last_upper = json_object_get(json_object_get(side[n - 1], "bounds"), "upper");
        if (json_is_object(bounds))
            json_object_set(bounds, "upper", last_upper ? (json_t *)last_upper : json_null());
        json_object_set_new(merged, "partitions", json_integer((json_int_t)n));
        if (json_is_object(job)) {
            json_object_set_new(job, "attempts", json_integer(attempts));
            json_object_set_new(job, "started_at", started ? json_string(started) : json_null());
            json_object_set_new(job, "finished_at", finished ? json_string(finished) : json_null());
        }
        char *text = json_dumps(merged, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        if (!text)
            code = jfail(j, EXIT_INTERNAL, "out of memory");
        else if (sidecar_write(j->rq->output, text, strlen(text), why, sizeof why) < 0)
            code = jfail(j, EXIT_OUTPUT, "join: %s", why);
        free(text);
    }
    json_decref(segs);
    json_decref(merged);
    free_sidecars(side, n);
    return code;
}

/* Removes the parts, their records and the shared plan; last the index. */
static int clean_up(struct join *j, json_t *parts, int remove_parts)
{
    char path[4200], why[512];
    for (size_t i = 0; i < json_array_size(parts); i++) {
        unsigned k = (unsigned)num(json_array_get(parts, i), "index");
        if (remove_parts && parts_path(path, sizeof path, j->rq->output, k) == 0) {
            unlink(path);
            sidecar_remove(path, why, sizeof why);
        }
        if (parts_record_path(path, sizeof path, j->rq->output, k) == 0)
            unlink(path);
    }
    struct shared_plan sp;
    if (parts_read_plan(j->rq->output, &sp, why, sizeof why) == 0) {
        if (strcmp(sp.id, str(j->idx, "plan")) == 0)
            unlink(j->plan_path);
        shared_plan_clear(&sp);
    }
    if (remove_parts)
        unlink(j->index);
    if (durable_sync_dir(j->index, why, sizeof why) < 0)
        return jfail(j, EXIT_OUTPUT, "join: %s", why);
    return 0;
}

static int join_parts(struct join *j, json_t *parts)
{
    int code = lock_partial(j);
    if (code)
        return code;
    if (ftruncate(j->fd, 0) < 0 || lseek(j->fd, 0, SEEK_SET) < 0)
        return jfail(j, EXIT_OUTPUT, "join: cannot truncate %s: %s", j->partial, strerror(errno));
    unsigned char *buf = malloc(JOIN_COPY_BUF);
    if (!buf)
        return jfail(j, EXIT_INTERNAL, "out of memory");
    for (size_t i = 0; i < json_array_size(parts) && !code; i++)
        code = copy_part(j, json_array_get(parts, i), buf);
    free(buf);
    if (code)
        return code;
    if (fsync(j->fd) < 0)
        return jfail(j, EXIT_OUTPUT, "join: cannot fsync %s: %s", j->partial, strerror(errno));
    char why[1024];
    /* An earlier file's sidecar would describe the wrong file. */
    if (sidecar_remove(j->rq->output, why, sizeof why) < 0)
        return jfail(j, EXIT_OUTPUT, "join: %s", why);
    if (rename(j->partial, j->rq->output) < 0)
        return jfail(j, EXIT_OUTPUT, "join: cannot rename %s to %s: %s", j->partial,
                     j->rq->output, strerror(errno));
    if (durable_sync_dir(j->rq->output, why, sizeof why) < 0)
        return jfail(j, EXIT_OUTPUT, "join: %s", why);
    log_info("joined %zu parts into %s", json_array_size(parts), j->rq->output);
    if ((code = write_joined_sidecar(j, parts)))
        return code;
    return clean_up(j, parts, 1);
}

static void totals(struct join *j, json_t *parts)
{
    j->res->parts = (unsigned)json_array_size(parts);
    for (size_t i = 0; i < json_array_size(parts); i++) {
        j->res->rows += (uint64_t)num(json_array_get(parts, i), "rows");
        j->res->bytes += (uint64_t)num(json_array_get(parts, i), "bytes");
    }
}

static int run(struct join *j)
{
    const struct join_request *rq = j->rq;
    char why[1024];
    int code, rc;
    if (parts_index_path(j->index, sizeof j->index, rq->output) < 0 ||
        parts_plan_path(j->plan_path, sizeof j->plan_path, rq->output) < 0 ||
        snprintf(j->partial, sizeof j->partial, "%s.partial", rq->output) >= (int)sizeof j->partial)
        return jfail(j, EXIT_USAGE, "join: %s: path too long", rq->output);
    if ((code = read_records(j)))
        return code;
    json_t *idx = NULL;
    if ((rc = parts_read_json(j->index, &idx, why, sizeof why)) < 0)
        return jfail(j, EXIT_OUTPUT, "join: %s", why);
    const char *plan = rq->plan ? rq->plan
                       : json_array_size(j->records) ? str(json_array_get(j->records, 0), "plan")
                       : idx ? str(idx, "plan") : NULL;
    if (idx && (strcmp(str(idx, "sluice"), "parts") != 0 || !plan || strcmp(str(idx, "plan"), plan) != 0 ||
                !json_is_array(json_object_get(idx, "parts")))) {
        json_decref(idx); /* another job's index: replaced below */
        idx = NULL;
    }
    j->idx = idx;
    if (idx) {
        json_t *parts = json_object_get(idx, "parts");
        totals(j, parts);
        struct stat st;
        int keep = strcmp(str(idx, "mode"), "keep") == 0;
        if (keep && rq->keep_parts) {
            j->res->already = 1;
            return clean_up(j, parts, 0);
        }
        if (!keep && stat(j->partial, &st) != 0 && stat(rq->output, &st) == 0 &&
            (json_int_t)st.st_size == num(idx, "bytes")) {
            /* Renamed: the sidecar (unless written) and the clean-up were left. */
            char side[4300];
            j->res->already = json_array_size(j->records) == 0;
            if (sidecar_path(rq->output, side, sizeof side) == 0 && stat(side, &st) != 0 &&
                (code = write_joined_sidecar(j, parts)))
                return code;
            return clean_up(j, parts, 1);
        }
        if (keep || rq->keep_parts) {
            /* Switch modes: the journal must say join only once FILE.partial exists. */
            if (!rq->keep_parts && (code = lock_partial(j)))
                return code;
            json_incref(parts);
            code = write_index(j, parts, rq->keep_parts ? "keep" : "join");
            json_t *p = json_object_get(j->idx, "parts");
            json_decref(parts);
            if (code)
                return code;
            return rq->keep_parts ? clean_up(j, p, 0) : join_parts(j, p);
        }
        return join_parts(j, parts);
    }
    if (json_array_size(j->records) == 0) {
        struct stat st;
        if (stat(rq->output, &st) == 0 && stat(j->partial, &st) != 0) {
            j->res->already = 1;
            return 0;
        }
        return jfail(j, EXIT_USAGE, "join: no parts of %s to join (no %s.part-NNNN.json)",
                     rq->output, base_name(rq->output));
    }
    json_t *parts;
    if ((code = complete_parts(j, &parts)))
        return code;
    totals(j, parts);
    if (!rq->keep_parts && (code = lock_partial(j))) {
        json_decref(parts);
        return code;
    }
    code = write_index(j, parts, rq->keep_parts ? "keep" : "join");
    json_decref(parts);
    if (code)
        return code;
    parts = json_object_get(j->idx, "parts");
    return rq->keep_parts ? clean_up(j, parts, 0) : join_parts(j, parts);
}

int join_run(const struct join_request *rq, struct join_result *res)
{
    memset(res, 0, sizeof *res);
    struct join j = {.rq = rq, .res = res, .fd = -1};
    res->code = run(&j);
    if (j.fd >= 0) {
        /* A partial file that holds nothing of a started join is litter. */
        if (res->code && j.created && !j.idx)
            unlink(j.partial);
        close(j.fd);
    }
    json_decref(j.idx);
    json_decref(j.records);
    return res->code;
}
