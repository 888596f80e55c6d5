/* manifest.h - many streams in one YAML file: their sources, options,
 * schedules, output templates and retention (README, "Manifests").
 *
 *   version: 1                      optional; the only version there is
 *   state: state.db                 the state store (default: extract's)
 *   timezone: Europe/Berlin         schedules' zone (default UTC)
 *   concurrency: 2                  streams at once (default 1)
 *   defaults: {KEY: VALUE, ...}     any stream key but name and table
 *   sources:
 *     shop: postgresql://app@db/shop             a URL, or
 *     crm: {url: "mysql://app@${CRM_HOST}/crm", password_file: /run/secrets/crm}
 *   streams:
 *     - name: orders                letters, digits, '_', '-', '.'
 *       source: shop
 *       table: public.orders
 *       schedule: "*" "/15 * * * *"   (one string in the file)
 *       output: backups/{stream}/%Y%m%dT%H%M%SZ.ndjson.zst
 *       keep: 96
 *
 * Relative paths (state, output, password_file) are taken from the
 * manifest's directory. ${NAME} and ${NAME:-default} are expanded in
 * source URLs and password_file paths (schedule/envsubst.h).
 *
 * Parsing is libyaml's; every error is one line, "FILE:LINE: KEY: what is
 * wrong" (sluice.yml:14: streams[2].schedule: minute: 61 is out of range
 * 0-59), and never shows a password, a password file's content or a
 * substituted value. */
#ifndef SLUICE_MANIFEST_H
#define SLUICE_MANIFEST_H

#include <stddef.h>

#include "job/spec.h"
#include "schedule/cron.h"

#define MANIFEST_VERSION 1
#define MANIFEST_CONCURRENCY_MAX 64

struct manifest_stream {
    char *name;
    char *source_name;
    /* What job_run needs, but the output: name (the stream's identity in
     * the state store), source (the URL with its password: never print
     * it), table, options, state_path, meta on. output is NULL: the
     * launcher fills in the template's expansion. */
    struct stream_spec spec;
    char *output;          /* the output template, absolute: the manifest's
                              directory (its '%', '{', '}' escaped) + as written */
    char *output_text;     /* the template as written */
    char *schedule;        /* as written; NULL: no schedule */
    struct cron_spec cron; /* parsed schedule, when there is one */
    unsigned keep;         /* finished outputs to retain; 0: keep all */
    int enabled;
    int verify;            /* verify each new backup against its sidecar */
    int line;              /* where the stream starts in the file */
};

struct manifest {
    char *path;          /* as given */
    char *dir;           /* the absolute directory relative paths start from */
    char *state_path;    /* absolute */
    char *timezone;      /* "UTC" unless the manifest names another zone */
    unsigned concurrency;
    struct manifest_stream *streams;
    size_t nstreams;
};

/* Reads and checks the manifest at path. 0 with *out (free with
 * manifest_free), or -1 with *out NULL and one line in err. The time zone
 * is checked (cron_check_timezone) but not put in use. */
int manifest_load(struct manifest **out, const char *path, char *err, size_t errlen);
void manifest_free(struct manifest *m);

/* The stream named name, or NULL. Borrowed from m. */
const struct manifest_stream *manifest_stream(const struct manifest *m, const char *name);

/* A "did you mean" for a stream name not in m: the closest name, or NULL. */
const char *manifest_suggest_stream(const struct manifest *m, const char *name);

/* How stream_spec_check and the job name spec fields in messages. */
extern const char *const manifest_spec_names[SPEC_FIELD_COUNT];

#endif
