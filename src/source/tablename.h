/* tablename.h - TABLE as a user writes it: `name` or `schema.name`, where
 * either part may be written in double quotes (as psql and SQL do) to hold
 * a dot or a quote: `"x.y".t`, `public."my ""table"""`. Unquoted parts are
 * taken as written (no case folding). Every driver's describe() reads TABLE
 * through this, and list_tables() writes names this way, so what discover
 * lists, extract accepts. */
#ifndef SLUICE_TABLENAME_H
#define SLUICE_TABLENAME_H

#include <stddef.h>

#include "common/buf.h"

/* Splits text into *schema (NULL when there is none) and *name, both
 * malloc'ed and owned by the caller. 0, or -1 with a one-line reason in
 * err (empty part, unclosed quote, more than two parts, out of memory). */
int table_name_parse(const char *text, char **schema, char **name, char *err, size_t errlen);

/* Appends `schema.name` (schema may be NULL) to b, quoting a part only
 * when it must be: when it holds a dot or a double quote, or is empty. */
void table_name_format(struct buf *b, const char *schema, const char *name);

#endif
