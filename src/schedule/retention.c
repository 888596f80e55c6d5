#include "schedule/retention.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "output/sidecar.h"
#include "schedule/wallclock.h"

struct candidate {
    char *path;
    time_t when; /* from the name; -1 when the name fixes no date */
    time_t started; /* from the sidecar; -1 unknown */
};

struct prune {
    int partials;   /* the walk looks for leftover .partial files instead */
    const char *tpl;
    const struct template_vars *vars;
    const char *stream;
    struct candidate *v;
    size_t n, cap;
    char *err;
    size_t errlen;
    int failed;
};

static int fail(struct prune *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(struct prune *p, const char *fmt, ...)
{
    if (!p->failed) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(p->err, p->errlen, fmt, ap);
        va_end(ap);
        p->failed = 1;
    }
    return -1;
}

static int has_suffix(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

/* 1 when the sidecar at side names this stream and the file called name. */
static int ours(struct prune *p, const char *side, const char *name, time_t *started)
{
    struct sidecar_info info;
    int rc = sidecar_read(side, &info, NULL, 0);
    if (rc < 0)
        return fail(p, "out of memory");
    if (rc == 0)
        return 0;
    int mine = strcmp(info.stream, p->stream) == 0 && strcmp(info.file, name) == 0;
    if (started && (!info.started_at || wallclock_parse_iso(info.started_at, started) < 0))
        *started = -1;
    sidecar_info_free(&info);
    return mine;
}

static int add(struct prune *p, const char *path, time_t when, time_t started)
{
    if (p->n == p->cap) {
        size_t cap = p->cap ? 2 * p->cap : 16;
        struct candidate *v = realloc(p->v, cap * sizeof *v);
        if (!v)
            return fail(p, "out of memory");
        p->v = v;
        p->cap = cap;
    }
    if (!(p->v[p->n].path = strdup(path)))
        return fail(p, "out of memory");
    p->v[p->n].when = when;
    p->v[p->n].started = started;
    p->n++;
    return 0;
}

/* A leftover FILE.partial of the stream: its data path is collected. */
static int consider_partial(struct prune *p, const char *path)
{
    static const char suffix[] = ".partial";
    if (!has_suffix(path, suffix))
        return 0;
    char data[4096];
    time_t when;
    snprintf(data, sizeof data, "%.*s", (int)(strlen(path) - strlen(suffix)), path);
    if (template_match(p->tpl, p->vars, data, &when, NULL, 0) != 1)
        return 0;
    return add(p, data, when, -1);
}

/* A regular file found by the walk. */
static int consider(struct prune *p, const char *path)
{
    char side[4096];
    if (p->partials)
        return consider_partial(p, path);
    if (has_suffix(path, SIDECAR_SUFFIX)) {
        /* A sidecar whose file is gone: the rest of an earlier prune. */
        size_t n = strlen(path) - strlen(SIDECAR_SUFFIX);
        char data[4096];
        struct stat st;
        snprintf(data, sizeof data, "%.*s", (int)n, path);
        if (template_match(p->tpl, p->vars, data, NULL, NULL, 0) != 1 || lstat(data, &st) == 0 ||
            errno != ENOENT)
            return 0;
        int mine = ours(p, path, base_name(data), NULL);
        if (mine == 1 && unlink(path) < 0 && errno != ENOENT)
            return fail(p, "cannot remove %s: %s", path, strerror(errno));
        return mine < 0 ? -1 : 0;
    }
    time_t when;
    if (template_match(p->tpl, p->vars, path, &when, NULL, 0) != 1)
        return 0;
    if (sidecar_path(path, side, sizeof side) < 0)
        return 0;
    time_t started = -1;
    int mine = ours(p, side, base_name(path), &started);
    if (mine <= 0)
        return mine;
    return add(p, path, when, started);
}

/* Regular files exactly depth directories below dir; symbolic links are
 * neither followed nor counted. */
static int walk(struct prune *p, const char *dir, int depth)
{
    DIR *d = opendir(dir);
    if (!d) {
        if (errno == ENOENT || errno == ENOTDIR)
            return 0;
        return fail(p, "cannot list %s: %s", dir, strerror(errno));
    }
    int rc = 0;
    struct dirent *e;
    while (rc == 0 && (e = readdir(d))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char path[4096];
        int len = strcmp(dir, "/") == 0 ? snprintf(path, sizeof path, "/%s", e->d_name)
                                        : snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (len < 0 || (size_t)len >= sizeof path)
            continue;
        struct stat st;
        if (lstat(path, &st) < 0)
            continue;
        if (depth > 0 && S_ISDIR(st.st_mode))
            rc = walk(p, path, depth - 1);
        else if (depth == 0 && S_ISREG(st.st_mode))
            rc = consider(p, path);
    }
    closedir(d);
    return rc;
}

/* Newest first. */
static int newer_first(const void *pa, const void *pb)
{
    const struct candidate *a = pa, *b = pb;
    time_t ta = a->when >= 0 ? a->when : a->started, tb = b->when >= 0 ? b->when : b->started;
    if (ta != tb)
        return ta > tb ? -1 : 1;
    return -strcmp(a->path, b->path);
}

int retention_prune(const char *tpl, const struct template_vars *vars, const char *stream,
                    unsigned keep, const char *kept, unsigned *deleted, char *err,
                    size_t errlen)
{
    *deleted = 0;
    struct prune p = {.tpl = tpl, .vars = vars, .stream = stream, .err = err, .errlen = errlen};
    char *root = NULL;
    int depth;
    if (keep == 0)
        return 0;
    if (template_scan_root(&root, &depth, tpl, vars, err, errlen) < 0)
        return -1;
    int rc = walk(&p, root, depth);
    free(root);
    if (rc == 0) {
        qsort(p.v, p.n, sizeof *p.v, newer_first);
        unsigned kept_n = 0;
        int kept_seen = 0;
        for (size_t i = 0; i < p.n; i++)
            kept_seen |= kept && strcmp(p.v[i].path, kept) == 0;
        for (size_t i = 0; rc == 0 && i < p.n; i++) {
            int is_kept = kept && strcmp(p.v[i].path, kept) == 0;
            /* The new output takes one of the places whatever its age. */
            if (is_kept || kept_n + (kept_seen ? 1 : 0) < keep) {
                if (!is_kept)
                    kept_n++;
                continue;
            }
            char side[4096];
            if (unlink(p.v[i].path) < 0 && errno != ENOENT) {
                rc = fail(&p, "cannot remove %s: %s", p.v[i].path, strerror(errno));
                break;
            }
            (*deleted)++;
            if (sidecar_path(p.v[i].path, side, sizeof side) == 0 && unlink(side) < 0 &&
                errno != ENOENT)
                rc = fail(&p, "cannot remove %s: %s", side, strerror(errno));
        }
    }
    for (size_t i = 0; i < p.n; i++)
        free(p.v[i].path);
    free(p.v);
    return p.failed ? -1 : rc;
}

/* 1 when no process holds the lock sluice's output takes on path. */
static int unlocked(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return 0;
    int free_ = flock(fd, LOCK_EX | LOCK_NB) == 0;
    close(fd); /* releases it */
    return free_;
}

int retention_leftover_partial(const char *tpl, const struct template_vars *vars, char **out,
                               char *err, size_t errlen)
{
    *out = NULL;
    struct prune p = {.partials = 1, .tpl = tpl, .vars = vars, .err = err, .errlen = errlen};
    char *root = NULL;
    int depth;
    if (template_scan_root(&root, &depth, tpl, vars, err, errlen) < 0)
        return -1;
    int rc = walk(&p, root, depth);
    free(root);
    if (rc == 0 && p.n) {
        qsort(p.v, p.n, sizeof *p.v, newer_first);
        for (size_t i = 0; i < p.n && !*out; i++) {
            char partial[4200];
            snprintf(partial, sizeof partial, "%s.partial", p.v[i].path);
            if (unlocked(partial) && !(*out = strdup(p.v[i].path)))
                rc = fail(&p, "out of memory");
        }
    }
    for (size_t i = 0; i < p.n; i++)
        free(p.v[i].path);
    free(p.v);
    return p.failed ? -1 : rc;
}
