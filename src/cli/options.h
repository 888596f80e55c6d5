/* options.h - the command line: parsing and validating `sluice extract` and
 * `sluice discover` arguments into a stream spec and plain structs.
 * Nothing here touches a database or a file, so every rule is unit-tested.
 * Every option may be given once. */
#ifndef SLUICE_OPTIONS_H
#define SLUICE_OPTIONS_H

#include <getopt.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "cli/daemon.h"
#include "cli/run.h"
#include "cli/status.h"
#include "cli/verify.h"
#include "common/exitcode.h"
#include "job/spec.h"

enum progress_mode { PROGRESS_AUTO, PROGRESS_ALWAYS, PROGRESS_NEVER };

/* `sluice extract`: the stream spec, and how the command reports. */
struct extract_cmd {
    struct stream_spec spec;
    enum progress_mode progress;
    int quiet;
    int verbose;
};

struct discover_opts {
    const char *source;
    const char *table; /* NULL: every table */
};

/* `sluice join FILE`: the parts of a partitioned extraction into FILE. */
struct join_opts {
    const char *output;
    int keep_parts;
    int quiet, verbose;
};

enum command { CMD_NONE, CMD_EXTRACT, CMD_DISCOVER, CMD_HELP, CMD_VERSION, CMD_JOIN,
               CMD_RUN, CMD_STATUS, CMD_DAEMON, CMD_VERIFY };

struct cli {
    enum command cmd;
    enum command help_for; /* CMD_HELP: the command asked about; CMD_NONE: all */
    struct extract_cmd extract;
    struct discover_opts discover;
    struct join_opts join;
    struct run_cmd run;
    struct status_cmd status;
    struct daemon_cmd daemon;
    struct verify_cmd verify;
};

/* How the command line names the stream spec's fields in messages. */
extern const char *const cli_spec_names[SPEC_FIELD_COUNT];

/* Parses argv. 0 on success; EXIT_USAGE with a one-line message in err
 * (no "sluice:" prefix, no newline) otherwise. *cli owns lists: free with
 * cli_free(). Not reentrant (getopt). */
int cli_parse(struct cli *cli, int argc, char **argv, char *err, size_t errlen);
void cli_free(struct cli *cli);

/* Strict number parsing for option values: digits only, within [min, max].
 * 0, or -1 with a message naming the option in err. */
int opt_parse_u64(const char *opt, const char *s, uint64_t min, uint64_t max,
                  uint64_t *out, char *err, size_t errlen);

/* getopt_long's error for the option at argv[optind - 1] as one line in
 * err (getopt's own messages are off); returns EXIT_USAGE. For the
 * commands' parsers. */
int cli_getopt_error(int c, char **argv, const struct option *longopts, char *err,
                     size_t errlen);

/* The rule for every command's options: given twice is a usage error,
 * never a silent choice of the last. c is getopt_long's return; seen has
 * CLI_MAX_OPTIONS slots, zeroed before the loop, one per entry of longopts.
 * 0, or EXIT_USAGE with "--NAME given twice" in err. --help is exempt. */
#define CLI_MAX_OPTIONS 64
int cli_once(int c, const struct option *longopts, unsigned char *seen, char *err,
             size_t errlen);

/* --log-format FORMAT: *json = 0 for text, 1 for json; EXIT_USAGE otherwise. */
int cli_log_format(const char *value, int *json, char *err, size_t errlen);

/* The help text of one command, or the overview (CMD_NONE). */
void cli_usage(FILE *to, enum command cmd);

#endif
