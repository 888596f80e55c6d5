/* template.h - output path templates of scheduled streams.
 *
 * A template is a path with fields and time conversions, e.g.
 *   backups/{stream}/%Y%m%dT%H%M%SZ.ndjson.zst
 *
 *   {stream} {table} {schema}   the stream's values; {schema} is the empty
 *                               string when the table has none (vars.schema
 *                               NULL or "", e.g. SQLite)
 *   {{  }}                      a literal '{' / '}'
 *   %Y %m %d %H %M %S           the run's start time in UTC, as strftime
 *   %y %j %u %V %G %s           writes them (C locale: digits only)
 *   %F %T                       %Y-%m-%d and %H:%M:%S
 *   %%                          a literal '%'
 * Any other `{name}` or `%c` is an error that names it, so every template
 * expands to digits and the stream's own values only, and each output can
 * be recognised again by template_match.
 *
 * Values cannot leave the template's directory: in a substituted value the
 * bytes '/', '%', 0x01-0x1F and 0x7F are written as %XX (upper-case hex),
 * and a value that is exactly "." or ".." has its dots written as %2E.
 * Everything else (spaces, UTF-8) is kept. The encoding is one-to-one, so
 * two tables never share a file name. The template's own literal text is
 * the manifest author's and is used as written. */
#ifndef SLUICE_SCHEDULE_TEMPLATE_H
#define SLUICE_SCHEDULE_TEMPLATE_H

#include <stddef.h>
#include <time.h>

struct template_vars {
    const char *stream; /* required when the template uses {stream}; not "" */
    const char *table;  /* required when the template uses {table}; not "" */
    const char *schema; /* NULL or "" when the table has no schema */
};

/* What a template uses (template_check's *uses). */
#define TEMPLATE_USES_STREAM 1u
#define TEMPLATE_USES_TABLE  2u
#define TEMPLATE_USES_SCHEMA 4u
#define TEMPLATE_USES_TIME   8u /* at least one time conversion */

/* Validates tpl's syntax (fields, braces, conversions; not empty; not ending
 * in '/'). 0 with *uses set (uses may be NULL), or -1 with a one-line reason
 * in err (err may be NULL when errlen is 0). Every other function here
 * reports the same errors for an invalid template. */
int template_check(const char *tpl, unsigned *uses, char *err, size_t errlen);

/* Expands tpl for vars at the run's start time (UTC) into *out (the caller
 * frees it with free()). Fails on an invalid template, an empty stream or
 * table value that the template uses, or a start time outside 1970..9999.
 * 0, or -1 with *out NULL and the reason in err. */
int template_expand(char **out, const char *tpl, const struct template_vars *vars,
                    time_t start, char *err, size_t errlen);

/* Whether path is exactly what template_expand(tpl, vars, t) returns for
 * some start time t: the literal text and the encoded values must be equal,
 * each conversion must match its digits and range (%m 01-12, %H 00-23, ...),
 * and when the fields fix the date (%s; or a year and either %m with %d, or
 * %j) expanding that time again must give path back, which refuses
 * impossible dates (2025-02-30) and inconsistent repeats. Retention uses it
 * so that it never touches a file sluice did not write.
 * Returns 1 (a match; *when, if not NULL, is the start time encoded in the
 * name, or -1 when the fields do not fix the date), 0 (no match), or -1
 * (invalid template; reason in err). */
int template_match(const char *tpl, const struct template_vars *vars,
                   const char *path, time_t *when, char *err, size_t errlen);

/* Where to look for a stream's outputs: *dir is the expansion of the
 * template's directory part before its first time conversion ("." when
 * there is none; "/" for a root), and *depth the number of '/' in the rest,
 * so the outputs are the files exactly depth directories below *dir (0:
 * directly in it). *dir is freed with free(). 0, or -1 with the reason in err
 * (the errors of template_expand, but for the time). */
int template_scan_root(char **dir, int *depth, const char *tpl,
                       const struct template_vars *vars, char *err, size_t errlen);

#endif
