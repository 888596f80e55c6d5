/* discover.h - `sluice discover`: what a source holds, as JSON on stdout. */
#ifndef SLUICE_DISCOVER_H
#define SLUICE_DISCOVER_H

#include "cli/options.h"

/* Prints {"tables":[...]} with, per table: schema, name, type, row
 * estimate, primary key, unique NOT NULL keys, the key sluice would page
 * by, and columns (name, database type, JSON type, nullable). Returns an
 * EXIT_* code; failures are reported on stderr. */
int discover_run(const struct discover_opts *o);

#endif
