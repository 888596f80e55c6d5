/* keyjson.h - key tuples as JSON values (jansson), so that the boundaries
 * of a partitioned job can be written to files other processes read back
 * exactly: integers as numbers, UTF-8 text as strings, other text as
 * {"text_base64": "..."}, blobs as {"base64": "..."}, reals as
 * {"real": "<C99 hex float>"}, NULL as null; a tuple is an array. */
#ifndef SLUICE_KEYJSON_H
#define SLUICE_KEYJSON_H

#include "source/key.h"

struct json_t; /* jansson's (jansson.h), so users need not include it */

/* A new reference to the tuple's array; NULL when out of memory. */
struct json_t *keyjson_tuple(const struct keytuple *t);
/* Reads an array written by keyjson_tuple() into *out (cleared first).
 * 0, or -1 when j is not one (or out of memory). */
int keyjson_parse(const struct json_t *j, struct keytuple *out);
/* 1 when a and b hold the same values of the same kinds. */
int keyjson_equal(const struct keytuple *a, const struct keytuple *b);

#endif
