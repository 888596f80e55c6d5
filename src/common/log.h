/* log.h - messages on stderr: one line each, prefixed "sluice: ".
 *
 * Safe from several threads: each line is written with one call. A thread
 * running a job names its stream with log_set_context(), and every line it
 * logs then carries "[stream]" (when more than one job can run at once).
 * log_level is set once, before any thread starts. Callers never pass a
 * source URL unredacted. */
#ifndef SLUICE_LOG_H
#define SLUICE_LOG_H

enum log_level { LOG_QUIET, LOG_NORMAL, LOG_VERBOSE };
extern enum log_level log_level;

/* The stream this thread's lines name, or NULL for none. Borrowed: it must
 * outlive the lines logged until the next call. */
void log_set_context(const char *stream);

void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Only with -v. */
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
