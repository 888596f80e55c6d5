/* keytext.h - a key tuple (a checkpoint, a bound, a high-water mark) as
 * JSON text for the sidecar and status, in output/keyjson.h's exact form:
 * integers as numbers, UTF-8 text as strings, other text as
 * {"text_base64": ...}, blobs as {"base64": ...}, reals as {"real": hex},
 * NULL as null; a tuple is an array. Readers of a sidecar parse it back
 * with keyjson_parse(). */
#ifndef SLUICE_KEYTEXT_H
#define SLUICE_KEYTEXT_H

#include "common/buf.h"
#include "source/key.h"

/* Appends the tuple's array, or `null` when t is NULL or empty. 0, or -1
 * when out of memory (the buffer's oom flag is then set). */
int json_keytuple(struct buf *out, const struct keytuple *t);

#endif
