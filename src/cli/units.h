/* units.h - sizes written for a person to read, in the summary lines of
 * `run` and the table of `status`. */
#ifndef SLUICE_UNITS_H
#define SLUICE_UNITS_H

#include <stddef.h>
#include <stdint.h>

/* "512 B", "1.5 KiB", ... "3.0 TiB": bytes below 1 KiB exactly, larger
 * sizes in binary units with one decimal. */
void human_bytes(uint64_t b, char *out, size_t n);

#endif
