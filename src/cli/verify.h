/* verify.h - `sluice verify FILE [--against [SOURCE]]`: a backup checked
 * against its sidecar, and (--against) against the table it came from. */
#ifndef SLUICE_CLI_VERIFY_H
#define SLUICE_CLI_VERIFY_H

#include <stddef.h>

struct verify_cmd {
    const char *file;         /* the data file, or its sidecar */
    int against;              /* compare with the database too */
    const char *source;       /* --against SOURCE; NULL: the sidecar's */
    int detail;               /* name each key that differs */
    int json;                 /* one JSON document on stdout */
    const char *deleted_keys; /* write the keys gone from the table here */
    const char *state_path;   /* where the result is recorded; NULL: default */
    int quiet;
};

int verify_parse(struct verify_cmd *v, int argc, char **argv, char *err, size_t errlen,
                 int *help);
/* Returns the exit code (verify/verify.h, common/exitcode.h). */
int verify_command(const struct verify_cmd *v);

#endif
