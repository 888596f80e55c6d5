/* keyjson.h - a key tuple (a checkpoint, a bound, a high-water mark) as a
 * JSON array, for the sidecar and status: integers as numbers, reals by
 * the float rule, text as strings, blobs as base64 strings, NULL as null. */
#ifndef SLUICE_KEYJSON_H
#define SLUICE_KEYJSON_H

#include "common/buf.h"
#include "source/key.h"

/* Appends `[v, ...]`, or `null` when t is NULL or empty. 0, or -1 when the
 * buffer ran out (its oom flag is set). */
int json_keytuple(struct buf *out, const struct keytuple *t);

#endif
