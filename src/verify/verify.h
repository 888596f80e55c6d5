/* verify.h - is a backup still what was extracted, and how far has its
 * table moved since?
 *
 * verify_file() re-reads the file against its sidecar, segment by segment:
 * each segment's stored bytes (XXH3-128), its rows once decompressed, and
 * the whole file's size and SHA-256. verify_table() then reads each
 * segment's key range from the database with the sidecar's columns and
 * filter, encodes the rows as the extraction did, and compares; where a
 * segment differs it names the keys inserted, deleted or changed since.
 * Both stream: memory holds one segment's keys at most. Neither writes to
 * the database or the file. */
#ifndef SLUICE_VERIFY_H
#define SLUICE_VERIFY_H

#include <stdint.h>
#include <stdio.h>

#include "source/source.h"
#include "verify/record.h"

/* Exit codes of `sluice verify` beyond the common ones (README). */
enum {
    EXIT_VERIFY_DAMAGED = 10,     /* the file does not match its sidecar */
    EXIT_VERIFY_TABLE_MOVED = 11, /* --against: the table no longer holds these rows */
    EXIT_VERIFY_NO_SIDECAR = 12,
    EXIT_VERIFY_OTHER_FILE = 13,  /* the sidecar describes another file */
    EXIT_VERIFY_NEWER = 14,       /* a sidecar from a newer sluice */
    EXIT_VERIFY_OTHER_SOURCE = 15,/* --against SOURCE is not the sidecar's */
    EXIT_VERIFY_COLUMNS = 16,     /* the table's columns changed since */
};

enum segment_state {
    SEGMENT_INTACT,
    SEGMENT_CHANGED,   /* its bytes or rows differ */
    SEGMENT_TRUNCATED, /* the file ends inside it */
    SEGMENT_MISSING,   /* the file ends before it */
};

struct segment_result {
    enum segment_state state;
    uint64_t rows_found;   /* rows in the file's bytes of the segment */
    char content[33];      /* XXH3-128 of its decompressed rows */
    /* verify_table() */
    int table_same;        /* the database's rows are these, byte for byte */
    uint64_t inserted, deleted, changed;
    int no_detail;         /* differs, but the file lacks key columns to say which rows */
};

struct verify_report {
    uint64_t size;          /* the file's bytes now */
    uint64_t extra;         /* bytes after the last segment */
    int digest_ok;          /* SHA-256 and size as the sidecar records */
    size_t damaged;         /* segments not SEGMENT_INTACT */
    struct segment_result *segs; /* one per record segment */
    /* verify_table() */
    size_t moved;           /* segments whose rows differ in the database */
    uint64_t inserted, deleted, changed;
};

void verify_report_free(struct verify_report *rep);

/* 0 (rep filled; rep->damaged and digest_ok say what holds), or -1 with a
 * message in err when the file cannot be read at all. */
int verify_file(const struct record *r, struct verify_report *rep, char *err, size_t errlen);

/* What verify_table() found for one key: kind is "inserted", "deleted" or
 * "changed"; key_json is the row's key as a JSON object of its key
 * columns, as in the output. */
typedef void verify_key_fn(void *ctx, size_t segment, const char *kind, const char *key_json,
                           size_t len);

/* Compares the intact segments of rep with the database src holds now.
 * Returns 0, or an EXIT_* code with a one-line message in err (source
 * errors, EXIT_VERIFY_COLUMNS). on_key (may be NULL) hears each key that
 * differs. */
int verify_table(const struct record *r, struct source *src, struct verify_report *rep,
                 verify_key_fn *on_key, void *ctx, char *err, size_t errlen);

#endif
