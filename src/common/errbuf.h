/* errbuf.h - how a function hands an error message to its caller.
 *
 * A fallible function takes the caller's buffer (char *err, size_t errlen)
 * and returns a status; on failure it writes one line, without a trailing
 * newline, that names the problem. errbuf_fail() is that step in one call:
 *
 *     return errbuf_fail(err, errlen, EXIT_USAGE, "--step: %s", why);
 *
 * The message is truncated to errlen - 1 bytes and always NUL-terminated. */
#ifndef SLUICE_ERRBUF_H
#define SLUICE_ERRBUF_H

#include <stddef.h>

/* Formats the message into err (unless err is NULL or errlen 0) and
 * returns status. */
int errbuf_fail(char *err, size_t errlen, int status, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* The same, but keeps a message already in err: the first error of a job
 * is the one worth reporting. Returns status. */
int errbuf_first(char *err, size_t errlen, int status, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
