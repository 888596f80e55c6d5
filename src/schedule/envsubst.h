/* envsubst.h - environment variables in manifest strings (source URLs).
 *
 * Syntax, the common subset of POSIX sh and docker compose:
 *   ${NAME}           the variable's value; an error if it is not set
 *   ${NAME:-default}  the value, or `default` when the variable is unset or
 *                     empty; the default is the text up to the first `}`,
 *                     taken verbatim (no nested ${...}, no $$ inside it)
 *   $$                one literal `$`
 * NAME is [A-Za-z_][A-Za-z0-9_]*. Any other `$` is an error, so a `$HOME`
 * meant as a variable is never passed on silently. Values are inserted
 * verbatim and never expanded again.
 *
 * Error messages name the variable or the character position (1-based) and
 * never quote the surrounding text or any value: a URL holds passwords. */
#ifndef SLUICE_SCHEDULE_ENVSUBST_H
#define SLUICE_SCHEDULE_ENVSUBST_H

#include <stddef.h>

/* Returns the value of name, or NULL when it is not set. The string must
 * stay valid until envsubst returns. */
typedef const char *(*envsubst_lookup_fn)(const char *name, void *ctx);

/* Expands in into *out (NUL-terminated; the caller frees it with free()).
 * lookup NULL means getenv (ctx is then unused). 0, or -1 with *out NULL and
 * a one-line reason in err (err may be NULL when errlen is 0). */
int envsubst(char **out, const char *in, envsubst_lookup_fn lookup, void *ctx,
             char *err, size_t errlen);

#endif
