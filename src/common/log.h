/* log.h - messages on stderr: one line each, prefixed "sluice: ".
 * Callers never pass a source URL unredacted. */
#ifndef SLUICE_LOG_H
#define SLUICE_LOG_H

enum log_level { LOG_QUIET, LOG_NORMAL, LOG_VERBOSE };
extern enum log_level log_level;

void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Only with -v. */
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
