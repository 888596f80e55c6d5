/* log.h - messages on stderr: one line each.
 *
 * Two formats (log_format, set once before any thread starts):
 *  - text: "sluice: [stream] warning: message" (the stream when a job
 *    thread named one, the prefix by level);
 *  - json: one object per line for log collectors,
 *    {"time":"2025-01-01T00:15:00.123Z","level":"warning","stream":"orders","message":"..."}
 *    with time in UTC (milliseconds), level error|warning|notice|info, and
 *    stream null when no stream is named.
 *
 * Safe from several threads: each line is written with one call. A thread
 * running a job names its stream with log_set_context(), and every line it
 * logs then carries it (when more than one job can run at once).
 * log_level is set once, before any thread starts. Callers never pass a
 * source URL unredacted. */
#ifndef SLUICE_LOG_H
#define SLUICE_LOG_H

#include <stddef.h>

enum log_level { LOG_QUIET, LOG_NORMAL, LOG_VERBOSE };
extern enum log_level log_level;

enum log_format { LOG_TEXT, LOG_JSON };
extern enum log_format log_format;

/* The stream this thread's lines name, or NULL for none. Borrowed: it must
 * outlive the lines logged until the next call. */
void log_set_context(const char *stream);

void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* What a command reports as it goes (the daemon's fires and results): at
 * the normal level, without a prefix. Not with -q. */
void log_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Only with -v. */
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The current time as the json format writes it, into out (32 bytes
 * suffice). */
void log_time(char *out, size_t n);

#endif
