/* run.h - `sluice run MANIFEST [STREAM...]`: the manifest's streams (all,
 * or those named), each resuming its own unfinished job, up to the
 * manifest's concurrency at once, with one summary line per stream on
 * stdout. */
#ifndef SLUICE_CLI_RUN_H
#define SLUICE_CLI_RUN_H

#include <stdatomic.h>
#include <stddef.h>

struct run_cmd {
    const char *manifest;
    char **streams;  /* borrowed from argv; nstreams 0: all */
    size_t nstreams;
    int due;         /* only streams whose schedule fired (due.h) */
    int dry_run;     /* say what would run and why; change nothing */
    int restart;     /* discard the named streams' unfinished jobs */
    int json;        /* --log-format json */
    int list_streams; /* print the manifest's stream names (shell completion) */
    int quiet, verbose;
};

/* Parses `run`'s arguments (argv[0] is "run"). 0, or EXIT_USAGE with one
 * line in err. *help: --help was asked for. r->streams is allocated: free
 * it with run_cmd_free. */
int run_parse(struct run_cmd *r, int argc, char **argv, char *err, size_t errlen, int *help);
void run_cmd_free(struct run_cmd *r);

/* Runs the command; returns its exit code: 0 when every stream that ran
 * succeeded, else the most severe of their codes (README, "Exit codes"). */
int run_command(const struct run_cmd *r, const atomic_int *stop);

/* What run, status and daemon do first: start the clock (wallclock.h),
 * load the manifest and use its timezone. 0, or EXIT_USAGE after logging
 * why. */
struct manifest;
int run_open_manifest(const char *path, struct manifest **out);

/* --list-streams: the manifest's stream names on stdout, one a line. */
int run_list_streams(const char *path);

/* The order in which `run` reports the worst of several exit codes:
 * higher is more severe. */
int run_severity(int code);

#endif
