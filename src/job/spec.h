/* spec.h - a stream spec: everything that says what one stream extracts
 * and where it goes, and nothing about how a command reports it (quiet,
 * verbose, progress belong to the command).
 *
 * The command line fills one from `sluice extract`; the manifest fills one
 * per stream. Values are checked where they are read (numbers in range,
 * durations parsed once); stream_spec_check() then checks the rules that
 * tie fields together, and the plan checks what needs the table. */
#ifndef SLUICE_SPEC_H
#define SLUICE_SPEC_H

#include <stddef.h>
#include <stdint.h>

#include "job/cursorval.h"
#include "source/scan.h"
#include "source/source.h"

enum sync_mode { MODE_FULL, MODE_INCREMENTAL };

/* Output compression: SPEC_COMPRESS_AUTO chooses by the output's suffix. */
#define SPEC_COMPRESS_AUTO (-1)

#define SPEC_PAGE_SIZE_DEFAULT 10000
#define SPEC_PAGE_SIZE_MAX 1000000
#define SPEC_PAGE_BYTES_DEFAULT ((size_t)16 << 20)
#define SPEC_CHECKPOINT_DEFAULT 100000
#define SPEC_RETRIES_MAX 100
#define SPEC_RETRY_WAIT_DEFAULT_MS 1000
#define SPEC_RETRY_WAIT_CAP_MS 60000 /* backoff stops doubling here */

/* A duration option, parsed once: set, and its text for messages. */
struct spec_duration {
    int set;
    struct duration d;
    char text[64];
};

/* Owns every string and list; free with stream_spec_free(). */
struct stream_spec {
    char *name;             /* stream identity; NULL: from source, table, output */
    char *source;           /* URL as given; may hold a password: never print it */
    char *table;
    struct strlist columns; /* empty: all */
    struct strlist key;     /* empty: chosen from the table */
    char *where;            /* trusted SQL condition, or NULL */
    enum paging paging;
    size_t page_size;
    size_t page_bytes;      /* about this many bytes of values per page */
    uint64_t checkpoint_every; /* rows; 0: only at the end */
    enum sync_mode mode;
    struct strlist cursor;  /* incremental: cursor columns */
    char *start;            /* incremental: lower bound of the first job */
    char *end;              /* incremental: upper bound instead of the maximum */
    struct spec_duration lookback, step, granularity;
    char *output;           /* path; NULL or "-": stdout */
    int compress;           /* enum sink_compress, or SPEC_COMPRESS_AUTO */
    int compress_level;     /* 0: the codec's default */
    unsigned threads;       /* compression threads; 0: one per CPU */
    int snapshot;
    unsigned retries;       /* reconnects after a lost connection */
    unsigned retry_wait_ms; /* the first wait, doubled each time */
    int restart;            /* discard the stream's unfinished job */
    char *state_path;       /* NULL: the default store */
    /* A partitioned job (job/parallel.h): the table cut into `partitions`
     * key ranges, each a job unit writing OUTPUT.part-NNNN, joined into
     * the output in key order. 0: one job. */
    unsigned partitions;
    unsigned parallel;      /* partitions run at once; 0: 1 */
    unsigned shard, shards; /* shards > 0: run only shard `shard` of `shards` */
    int keep_parts;         /* keep the parts and write their index instead of joining */
    int snapshot_lock;      /* the partitions' reads begin under a global read lock */
    int meta;               /* write OUTPUT.meta.json beside the published
                               output (job/meta.h); ignored for stdout */
};

/* Defaults: keyset paging, default page size and cadence, full mode. */
void stream_spec_init(struct stream_spec *s);
void stream_spec_free(struct stream_spec *s);

/* The fields whose combinations are checked, for naming them in messages
 * the way the caller's user wrote them ("--cursor-field" or "cursor_field"). */
enum spec_field {
    SPEC_CURSOR, SPEC_START, SPEC_END, SPEC_LOOKBACK, SPEC_STEP, SPEC_GRANULARITY,
    SPEC_MODE, SPEC_PAGING, SPEC_KEY, SPEC_COLUMNS,
    /* Named "--partitions" etc. where names[] has no entry for them. */
    SPEC_PARTITIONS, SPEC_PARALLEL, SPEC_SHARD, SPEC_KEEP_PARTS, SPEC_OUTPUT, SPEC_SNAPSHOT,
    SPEC_SNAPSHOT_LOCK,
    SPEC_FIELD_COUNT
};

/* Checks the rules between fields: the incremental fields need mode
 * incremental, which needs a cursor and no offset paging; granularity
 * needs a step; durations are more than zero; no column named twice;
 * partitions need an output file, and parallel, shards and keep-parts
 * need partitions (parallel at most partitions, shards at most
 * partitions; no --step or --snapshot across shards).
 * 0, or -1 with a one-line message in err naming fields by names[]. */
int stream_spec_check(const struct stream_spec *s, const char *const names[SPEC_FIELD_COUNT],
                      char *err, size_t errlen);

/* Parses a duration field (ISO 8601 like PT15M, or a count) into *out.
 * 0, or -1 with a message (without the field's name) in err. */
int spec_duration_parse(const char *text, struct spec_duration *out, char *err,
                        size_t errlen);

/* Splits a comma list of column names into l (which must be empty). 0, or
 * -1 with a message in err: an empty name, or out of memory. */
int spec_column_list(const char *text, struct strlist *l, char *err, size_t errlen);

#endif
