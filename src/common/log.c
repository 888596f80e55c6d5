#include "common/log.h"

#include <stdarg.h>
#include <stdio.h>

enum log_level log_level = LOG_NORMAL;

static _Thread_local const char *context;

void log_set_context(const char *stream)
{
    context = stream;
}

static void emit(const char *prefix, const char *fmt, va_list ap)
{
    char line[2048];
    vsnprintf(line, sizeof line, fmt, ap);
    /* One fputs per line: stdio locks the stream, so lines of several
     * threads never interleave. */
    char out[2304];
    if (context)
        snprintf(out, sizeof out, "sluice: [%s] %s%s\n", context, prefix, line);
    else
        snprintf(out, sizeof out, "sluice: %s%s\n", prefix, line);
    fputs(out, stderr);
}

void log_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    emit("error: ", fmt, ap);
    va_end(ap);
}

void log_warn(const char *fmt, ...)
{
    if (log_level == LOG_QUIET)
        return;
    va_list ap;
    va_start(ap, fmt);
    emit("warning: ", fmt, ap);
    va_end(ap);
}

void log_info(const char *fmt, ...)
{
    if (log_level != LOG_VERBOSE)
        return;
    va_list ap;
    va_start(ap, fmt);
    emit("", fmt, ap);
    va_end(ap);
}
