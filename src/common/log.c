#include "common/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "common/buf.h"
#include "encode/json.h"

enum log_level log_level = LOG_NORMAL;
enum log_format log_format = LOG_TEXT;

static _Thread_local const char *context;

void log_set_context(const char *stream)
{
    context = stream;
}

void log_time(char *out, size_t n)
{
    struct timeval tv;
    struct tm tm;
    gettimeofday(&tv, NULL);
    time_t t = tv.tv_sec;
    gmtime_r(&t, &tm);
    char whole[32];
    strftime(whole, sizeof whole, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out, n, "%s.%03dZ", whole, (int)(tv.tv_usec / 1000));
}

static void emit_json(const char *level, const char *line)
{
    char time[40];
    log_time(time, sizeof time);
    struct buf b;
    buf_init(&b, 1 << 16);
    buf_printf(&b, "{\"time\":\"%s\",\"level\":\"%s\",\"stream\":", time, level);
    if (context)
        json_quoted(&b, context, strlen(context), NULL);
    else
        buf_puts(&b, "null");
    buf_puts(&b, ",\"message\":");
    json_quoted(&b, line, strlen(line), NULL);
    buf_puts(&b, "}\n");
    if (buf_cstr(&b))
        fputs(b.data, stderr);
    buf_free(&b);
}

static void emit(const char *level, const char *prefix, const char *fmt, va_list ap)
{
    char line[2048];
    vsnprintf(line, sizeof line, fmt, ap);
    if (log_format == LOG_JSON) {
        emit_json(level, line);
        return;
    }
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
    emit("error", "error: ", fmt, ap);
    va_end(ap);
}

void log_warn(const char *fmt, ...)
{
    if (log_level == LOG_QUIET)
        return;
    va_list ap;
    va_start(ap, fmt);
    emit("warning", "warning: ", fmt, ap);
    va_end(ap);
}

void log_note(const char *fmt, ...)
{
    if (log_level == LOG_QUIET)
        return;
    va_list ap;
    va_start(ap, fmt);
    emit("notice", "", fmt, ap);
    va_end(ap);
}

void log_info(const char *fmt, ...)
{
    if (log_level != LOG_VERBOSE)
        return;
    va_list ap;
    va_start(ap, fmt);
    emit("info", "", fmt, ap);
    va_end(ap);
}
