/* extract.h - `sluice extract`: one table to NDJSON, as a resumable job. */
#ifndef SLUICE_EXTRACT_H
#define SLUICE_EXTRACT_H

#include <signal.h>

#include "cli/options.h"

/* Runs or resumes the job the options describe. Returns an EXIT_* code;
 * every failure has been reported on stderr as one line. *stop raised
 * (SIGINT/SIGTERM) checkpoints and returns EXIT_INTERRUPTED. */
int extract_run(const struct extract_opts *o, const volatile sig_atomic_t *stop);

/* Opens the source a URL names: finds its driver and connects. Returns 0,
 * or an EXIT_* code after reporting the failure. Shared with discover. */
int extract_open_source(const char *url, struct source **out);

/* The exit code for a SOURCE_E* code. */
int extract_source_exit(int source_code);

#endif
