/* verify.c - `sluice verify` (verify.h): reading, checking, reporting. */
#include "cli/verify.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/options.h"
#include "common/buf.h"
#include "common/errbuf.h"
#include "common/exitcode.h"
#include "common/log.h"
#include "encode/json.h"
#include "encode/keytext.h"
#include "job/job.h"
#include "source/connect.h"
#include "source/url.h"
#include "state/state.h"
#include "verify/verify.h"

enum { OPT_AGAINST = 256, OPT_DETAIL, OPT_JSON, OPT_DELETED, OPT_STATE };

static const struct option longopts[] = {
    {"against", no_argument, NULL, OPT_AGAINST},
    {"detail", no_argument, NULL, OPT_DETAIL},
    {"json", no_argument, NULL, OPT_JSON},
    {"deleted-keys", required_argument, NULL, OPT_DELETED},
    {"state", required_argument, NULL, OPT_STATE},
    {"quiet", no_argument, NULL, 'q'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

int verify_parse(struct verify_cmd *v, int argc, char **argv, char *err, size_t errlen,
                 int *help)
{
    memset(v, 0, sizeof *v);
    unsigned char seen[CLI_MAX_OPTIONS] = {0};
    int c;
    while ((c = getopt_long(argc, argv, ":qh", longopts, NULL)) != -1) {
        if (cli_once(c, longopts, seen, err, errlen))
            return EXIT_USAGE;
        switch (c) {
        case OPT_AGAINST: v->against = 1; break;
        case OPT_DETAIL: v->detail = 1; break;
        case OPT_JSON: v->json = 1; break;
        case OPT_DELETED:
            if (!*optarg)
                return errbuf_fail(err, errlen, EXIT_USAGE, "--deleted-keys: empty FILE");
            v->deleted_keys = optarg;
            break;
        case OPT_STATE:
            if (!*optarg)
                return errbuf_fail(err, errlen, EXIT_USAGE, "--state: empty FILE");
            v->state_path = optarg;
            break;
        case 'q': v->quiet = 1; break;
        case 'h': *help = 1; return 0;
        default: return cli_getopt_error(c, argv, longopts, err, errlen);
        }
    }
    int left = argc - optind;
    if (left < 1)
        return errbuf_fail(err, errlen, EXIT_USAGE, "verify needs FILE (see sluice verify --help)");
    /* `FILE --against SOURCE`: SOURCE is the second argument. */
    if (left == 2 && v->against)
        v->source = argv[optind + 1];
    else if (left > 1)
        return errbuf_fail(err, errlen, EXIT_USAGE, "unexpected argument '%s'%s", argv[optind + 1],
                           v->against ? "" : " (a SOURCE goes with --against)");
    if (v->source && !*v->source)
        return errbuf_fail(err, errlen, EXIT_USAGE, "SOURCE is empty");
    v->file = argv[optind];
    if (!*v->file)
        return errbuf_fail(err, errlen, EXIT_USAGE, "FILE is empty");
    if ((v->detail || v->deleted_keys) && !v->against)
        return errbuf_fail(err, errlen, EXIT_USAGE, "%s needs --against (keys are compared with the table)",
                           v->detail ? "--detail" : "--deleted-keys");
    if (v->json && v->quiet)
        return errbuf_fail(err, errlen, EXIT_USAGE, "--json and --quiet exclude each other");
    return 0;
}

static const char *state_name(enum segment_state s)
{
    static const char *const names[] = {"intact", "changed", "truncated", "missing"};
    return names[s];
}

/* "after [k] up to [k]" for segment i: its key range, JSON key tuples. */
static void key_range(struct buf *b, const struct record *r, size_t i)
{
    const struct keytuple *after = i ? &r->segs[i - 1].last : (r->has_bounds ? &r->lower : NULL);
    const struct keytuple *upto = r->segs[i].last.n ? &r->segs[i].last
                                                    : (r->has_bounds ? &r->upper : NULL);
    if (after && after->n) {
        buf_puts(b, i == 0 && r->lower_inclusive ? "from " : "after ");
        json_keytuple(b, after);
    } else {
        buf_puts(b, "from the start");
    }
    if (upto && upto->n) {
        buf_puts(b, " up to ");
        json_keytuple(b, upto);
    } else {
        buf_puts(b, " to the end");
    }
}

/* The keys verify_table() reported, one JSON object per line:
 * {"segment":N,"kind":"...","key":{...}}. */
struct keys {
    struct buf lines;
    FILE *deleted;     /* --deleted-keys: the keys alone */
    int write_failed;
};

static void on_key(void *ctx, size_t segment, const char *kind, const char *key, size_t len)
{
    struct keys *k = ctx;
    buf_printf(&k->lines, "{\"segment\":%zu,\"kind\":\"%s\",\"key\":", segment, kind);
    buf_append(&k->lines, key, len);
    buf_puts(&k->lines, "}\n");
    if (k->deleted && strcmp(kind, "deleted") == 0 &&
        (fwrite(key, 1, len, k->deleted) != len || fputc('\n', k->deleted) == EOF))
        k->write_failed = 1;
}

static void print_report(FILE *out, const struct verify_cmd *v, const struct record *r,
                         const struct verify_report *rep, const struct keys *keys)
{
    struct buf b;
    buf_init(&b, (size_t)1 << 30);
    for (size_t i = 0; i < r->nsegs; i++) {
        const struct segment_result *s = &rep->segs[i];
        int table_differs = v->against && s->state == SEGMENT_INTACT && !s->table_same;
        if (s->state == SEGMENT_INTACT && !table_differs)
            continue;
        buf_reset(&b);
        buf_printf(&b, "segment %zu, bytes %llu-%llu, ", i, (unsigned long long)r->segs[i].start,
                   (unsigned long long)r->segs[i].end);
        key_range(&b, r, i);
        if (s->state != SEGMENT_INTACT)
            buf_printf(&b, ": %s (%llu of %llu rows readable)", state_name(s->state),
                       (unsigned long long)s->rows_found, (unsigned long long)r->segs[i].rows);
        else if (s->no_detail)
            buf_puts(&b, ": the table differs (the file holds no key columns to say which rows)");
        else
            buf_printf(&b, ": the table differs: %llu inserted, %llu deleted, %llu changed",
                       (unsigned long long)s->inserted, (unsigned long long)s->deleted,
                       (unsigned long long)s->changed);
        fprintf(out, "%s\n", buf_cstr(&b));
        if (!v->detail || !keys->lines.len)
            continue;
        /* This segment's keys. */
        char tag[48];
        int tl = snprintf(tag, sizeof tag, "{\"segment\":%zu,", i);
        for (const char *p = keys->lines.data, *e = p + keys->lines.len; p < e;) {
            const char *nl = memchr(p, '\n', (size_t)(e - p));
            /* A line of on_key: {"segment":N,"kind":"KIND","key":KEY}, and
             * not NUL-terminated: read it by its known layout only. */
            if (strncmp(p, tag, (size_t)tl) == 0) {
                const char *kind = p + tl + strlen("\"kind\":\"");
                const char *kend = memchr(kind, '"', (size_t)(nl - kind));
                const char *key = kend + 1 + strlen(",\"key\":");
                fprintf(out, "  %.*s %.*s\n", (int)(kend - kind), kind, (int)(nl - 1 - key),
                        key);
            }
            p = nl + 1;
        }
    }
    if (rep->extra)
        fprintf(out, "bytes %llu-%llu after the last segment: extended\n",
                (unsigned long long)(rep->size - rep->extra), (unsigned long long)rep->size);
    if (!rep->digest_ok)
        fprintf(out, "the file is %llu bytes, recorded %llu; its SHA-256 %s the record\n",
                (unsigned long long)rep->size, (unsigned long long)r->bytes,
                rep->size == r->bytes ? "differs from" : "cannot match");
    buf_free(&b);
}

static void print_json(FILE *out, const struct verify_cmd *v, const struct record *r,
                       const struct verify_report *rep, const struct keys *keys,
                       const char *result)
{
    struct buf b;
    buf_init(&b, (size_t)1 << 34);
    buf_puts(&b, "{\"file\":");
    json_quoted(&b, r->data_path, strlen(r->data_path), NULL);
    buf_puts(&b, ",\"sidecar\":");
    json_quoted(&b, r->sidecar_path, strlen(r->sidecar_path), NULL);
    buf_printf(&b, ",\"result\":\"%s\",\"rows\":%llu,\"bytes\":%llu,\"size\":%llu,"
                   "\"extra_bytes\":%llu,\"digest_ok\":%s,\"against\":%s,\"segments\":[",
               result, (unsigned long long)r->rows, (unsigned long long)r->bytes,
               (unsigned long long)rep->size, (unsigned long long)rep->extra,
               rep->digest_ok ? "true" : "false", v->against ? "true" : "false");
    for (size_t i = 0; i < r->nsegs; i++) {
        const struct segment_result *s = &rep->segs[i];
        buf_printf(&b, "%s{\"segment\":%zu,\"bytes\":[%llu,%llu],\"rows\":%llu,"
                       "\"rows_found\":%llu,\"first\":",
                   i ? "," : "", i, (unsigned long long)r->segs[i].start,
                   (unsigned long long)r->segs[i].end, (unsigned long long)r->segs[i].rows,
                   (unsigned long long)s->rows_found);
        json_keytuple(&b, &r->segs[i].first);
        buf_puts(&b, ",\"last\":");
        json_keytuple(&b, &r->segs[i].last);
        buf_printf(&b, ",\"state\":\"%s\"", state_name(s->state));
        if (v->against)
            buf_printf(&b, ",\"table\":\"%s\",\"inserted\":%llu,\"deleted\":%llu,\"changed\":%llu",
                       s->state != SEGMENT_INTACT ? "unchecked"
                       : s->table_same            ? "same"
                       : s->no_detail             ? "differs-no-keys"
                                                  : "differs",
                       (unsigned long long)s->inserted, (unsigned long long)s->deleted,
                       (unsigned long long)s->changed);
        buf_putc(&b, '}');
    }
    buf_puts(&b, "]");
    if (v->detail) {
        buf_puts(&b, ",\"keys\":[");
        int first = 1;
        for (const char *p = keys->lines.data, *e = p + keys->lines.len; p && p < e;) {
            const char *nl = memchr(p, '\n', (size_t)(e - p));
            buf_puts(&b, first ? "" : ",");
            buf_append(&b, p, (size_t)(nl - p));
            first = 0;
            p = nl + 1;
        }
        buf_putc(&b, ']');
    }
    buf_puts(&b, "}\n");
    if (buf_cstr(&b))
        fputs(b.data, out);
    buf_free(&b);
}

/* The source to compare with: the sidecar's (its URL has no password:
 * the usual places give it), or the user's, which must name the same
 * database. 0 or an exit code (reported). */
static int open_source(const struct verify_cmd *v, const struct record *r, struct source **src)
{
    char err[1024];
    if (v->source) {
        char shown[2048];
        url_redact(v->source, shown, sizeof shown);
        if (strcmp(shown, r->source) != 0) {
            log_error("%s is not the source %s was extracted from (%s)", shown, r->data_path,
                      r->source);
            return EXIT_VERIFY_OTHER_SOURCE;
        }
    }
    int rc = source_connect(v->source ? v->source : r->source, src, err, sizeof err);
    if (rc < 0) {
        log_error("%s", err);
        return source_exit_code(rc);
    }
    return 0;
}

static int record_exit(enum record_status st)
{
    switch (st) {
    case RECORD_NO_SIDECAR: return EXIT_VERIFY_NO_SIDECAR;
    case RECORD_OTHER_FILE: return EXIT_VERIFY_OTHER_FILE;
    case RECORD_NEWER: return EXIT_VERIFY_NEWER;
    case RECORD_NOMEM: return EXIT_INTERNAL;
    default: return EXIT_OUTPUT;
    }
}

/* The result into the state store: --state, else the sidecar's store if
 * it exists (never a new store). */
static void remember(const struct verify_cmd *v, const struct record *r, const char *status,
                     const char *detail)
{
    const char *path = v->state_path ? v->state_path : r->state_path;
    if (!path || (!v->state_path && access(path, W_OK) != 0))
        return;
    struct state *st = NULL;
    char abs[PATH_MAX];
    if (!realpath(r->data_path, abs))
        snprintf(abs, sizeof abs, "%s", r->data_path);
    if (state_open(&st, path) < 0 ||
        state_record_verification(st, r->stream, abs, v->against ? "source" : "sidecar", status,
                                  detail) < 0)
        log_warn("the result is not recorded: %s", st ? state_error(st) : "out of memory");
    state_close(st);
}

int verify_command(const struct verify_cmd *v)
{
    struct record r;
    struct verify_report rep = {0};
    struct keys keys = {0};
    struct source *src = NULL;
    char err[1024], deleted_tmp[PATH_MAX] = "";
    buf_init(&keys.lines, (size_t)1 << 34);
    enum record_status rs = record_load(v->file, &r, err, sizeof err);
    int code = 0;
    if (rs != RECORD_OK) {
        log_error("%s", err);
        code = record_exit(rs);
        goto out;
    }
    if (verify_file(&r, &rep, err, sizeof err) < 0) {
        log_error("%s", err);
        code = EXIT_OUTPUT;
        goto out;
    }
    if (v->against) {
        if ((code = open_source(v, &r, &src)))
            goto out;
        if (v->deleted_keys) {
            snprintf(deleted_tmp, sizeof deleted_tmp, "%s.partial", v->deleted_keys);
            if (!(keys.deleted = fopen(deleted_tmp, "w"))) {
                log_error("cannot write %s: %s", deleted_tmp, strerror(errno));
                code = EXIT_OUTPUT;
                goto out;
            }
        }
        code = verify_table(&r, src, &rep, on_key, &keys, err, sizeof err);
        if (code) {
            log_error("%s", err);
            goto out;
        }
        if (keys.deleted) {
            int bad = keys.write_failed || fflush(keys.deleted) != 0 ||
                      fsync(fileno(keys.deleted)) != 0;
            bad |= fclose(keys.deleted) != 0;
            keys.deleted = NULL;
            if (bad || rename(deleted_tmp, v->deleted_keys) != 0) {
                log_error("cannot write %s: %s", v->deleted_keys, strerror(errno));
                code = EXIT_OUTPUT;
                goto out;
            }
            deleted_tmp[0] = '\0';
        }
    }
    int damaged = rep.damaged || rep.extra || !rep.digest_ok;
    const char *result = damaged ? "damaged" : v->against && rep.moved ? "moved" : "intact";
    code = damaged ? EXIT_VERIFY_DAMAGED : v->against && rep.moved ? EXIT_VERIFY_TABLE_MOVED : 0;
    char summary[512];
    if (damaged)
        snprintf(summary, sizeof summary, "damaged: %zu of %zu segments%s%s", rep.damaged,
                 r.nsegs, rep.extra ? ", extended" : "",
                 !rep.digest_ok ? ", SHA-256 or size differ" : "");
    else if (v->against && rep.moved)
        snprintf(summary, sizeof summary,
                 "intact; the table moved since: %zu of %zu segments differ, %llu rows inserted, %llu deleted, %llu changed",
                 rep.moved, r.nsegs, (unsigned long long)rep.inserted,
                 (unsigned long long)rep.deleted, (unsigned long long)rep.changed);
    else
        snprintf(summary, sizeof summary, "intact: %llu rows in %zu segments, SHA-256 matches%s",
                 (unsigned long long)r.rows, r.nsegs,
                 v->against ? "; the table holds the same rows" : "");
    if (v->json) {
        print_json(stdout, v, &r, &rep, &keys, result);
    } else if (!v->quiet) {
        print_report(stdout, v, &r, &rep, &keys);
        printf("%s: %s\n", r.data_path, summary);
    }
    remember(v, &r, result, summary);
out:
    if (keys.deleted)
        fclose(keys.deleted);
    if (deleted_tmp[0])
        unlink(deleted_tmp);
    buf_free(&keys.lines);
    source_close(src);
    verify_report_free(&rep);
    record_free(&r);
    return code;
}
