/* exitcode.h - sluice's exit codes, documented in the README, --help and
 * the man page. A job's result carries one; a command exits with the most
 * severe of its jobs'. */
#ifndef SLUICE_EXITCODE_H
#define SLUICE_EXITCODE_H

enum {
    EXIT_OK = 0,
    EXIT_INTERNAL = 1,    /* a bug or out of memory */
    EXIT_USAGE = 2,       /* bad command line, manifest or option value */
    EXIT_SOURCE = 3,      /* the database failed: SQL error, permission, missing table/column */
    EXIT_CONNECT = 4,     /* could not connect, or the connection was lost */
    EXIT_OUTPUT = 5,      /* the output could not be written */
    EXIT_STATE = 6,       /* the state store is unusable, or the stream is busy */
    EXIT_SKIPPED = 7,     /* run: a stream was skipped, another process runs it;
                             nothing failed */
    EXIT_INTERRUPTED = 130, /* SIGINT/SIGTERM: checkpointed, re-run to continue */
    EXIT_PIPE = 141,      /* stdout's reader closed it (128 + SIGPIPE, as a shell
                             reports a writer the closed pipe killed); quiet */
};

#endif
