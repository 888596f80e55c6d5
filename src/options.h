/* options.h - the command line: parsing and validating `sluice extract` and
 * `sluice discover` arguments into plain structs. Nothing here touches a
 * database or a file, so every rule is unit-tested. */
#ifndef SLUICE_OPTIONS_H
#define SLUICE_OPTIONS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "source.h"

/* Exit codes, documented in the README and --help. */
enum {
    EXIT_OK = 0,
    EXIT_INTERNAL = 1,    /* a bug or out of memory */
    EXIT_USAGE = 2,       /* bad command line */
    EXIT_SOURCE = 3,      /* the database failed: SQL error, permission, missing table/column */
    EXIT_CONNECT = 4,     /* could not connect, or the connection was lost */
    EXIT_OUTPUT = 5,      /* the output could not be written */
    EXIT_STATE = 6,       /* the state store is unusable, or the stream is busy */
    EXIT_INTERRUPTED = 130, /* SIGINT/SIGTERM: checkpointed, re-run to continue */
};

enum progress_mode { PROGRESS_AUTO, PROGRESS_ALWAYS, PROGRESS_NEVER };
enum sync_mode { MODE_FULL, MODE_INCREMENTAL };
enum compress_opt { COMPRESS_AUTO = -1, COMPRESS_NONE, COMPRESS_GZIP, COMPRESS_ZSTD };

#define OPT_PAGE_SIZE_DEFAULT 10000
#define OPT_PAGE_SIZE_MAX 1000000
#define OPT_CHECKPOINT_DEFAULT 100000
#define OPT_RETRIES_MAX 100
#define OPT_RETRY_WAIT_DEFAULT_MS 1000
#define OPT_RETRY_WAIT_CAP_MS 60000 /* backoff stops doubling here */

struct extract_opts {
    const char *source;   /* URL as given; may hold a password: never print it */
    const char *table;
    const char *output;   /* NULL or "-": stdout */
    enum paging paging;
    enum sync_mode mode;
    struct strlist cursor;  /* --cursor-field: incremental mode's cursor columns */
    const char *start;      /* --start: lower bound of the first incremental job */
    const char *end;        /* --end: upper bound instead of the cursor's maximum */
    const char *lookback;   /* --lookback, --step, --granularity: durations */
    const char *step;       /*   (ISO 8601) or counts, checked by duration_parse */
    const char *granularity;
    struct strlist key;     /* --key, empty: chosen from the table */
    struct strlist columns; /* --columns, empty: all */
    const char *where;
    size_t page_size;
    uint64_t checkpoint_every; /* 0: only at the end */
    const char *state_path;    /* NULL: the default store */
    const char *stream;        /* NULL: derived from source, table, output */
    int restart;
    unsigned retries;          /* --retries: reconnects after a lost connection */
    unsigned retry_wait_ms;    /* --retry-wait: the first wait, doubled each time */
    enum compress_opt compress;
    int compress_level;        /* --compress MODE:LEVEL; 0: the default */
    unsigned threads;          /* --threads: compression threads; 0: one per CPU */
    int snapshot;
    enum progress_mode progress;
    int quiet;
    int verbose;
};

struct discover_opts {
    const char *source;
    const char *table; /* NULL: every table */
};

enum command { CMD_NONE, CMD_EXTRACT, CMD_DISCOVER, CMD_HELP, CMD_VERSION };

struct cli {
    enum command cmd;
    struct extract_opts extract;
    struct discover_opts discover;
};

/* Parses argv. 0 on success; EXIT_USAGE with a one-line message in err
 * (no "sluice:" prefix, no newline) otherwise. *cli owns lists: free with
 * cli_free(). Not reentrant (getopt). */
int cli_parse(struct cli *cli, int argc, char **argv, char *err, size_t errlen);
void cli_free(struct cli *cli);

/* Strict number parsing for option values: digits only, within [min, max].
 * 0, or -1 with a message naming the option in err. */
int opt_parse_u64(const char *opt, const char *s, uint64_t min, uint64_t max,
                  uint64_t *out, char *err, size_t errlen);

/* The --help text. */
void cli_usage(FILE *to);

#endif
