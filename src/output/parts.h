/* parts.h - the files of a partitioned job's output, beside FILE on what
 * may be storage shared by several machines:
 *
 *   FILE.part-NNNN       the rows of partition NNNN, published by its job
 *   FILE.part-NNNN.json  its record: plan, key range, rows, bytes, SHA-256;
 *                        written once the part is published, before its
 *                        job is marked finished
 *   FILE.plan.json       the plan the shards of one job share (the first
 *                        shard to start writes it; the others read it)
 *   FILE.parts.json      the index of every part (--keep-parts), and the
 *                        join's journal while it joins (output/join.h)
 *
 * Every file is written whole (output/durable.h), so a reader never sees
 * half of one. Errors: 0 or -1 with a one-line message in err. */
#ifndef SLUICE_PARTS_H
#define SLUICE_PARTS_H

#include <stddef.h>
#include <stdint.h>

#include "source/key.h"
#include "state/state.h"

#define PARTS_PLAN_ID_LEN 32

/* FILE.part-NNNN, its record, FILE.parts.json and FILE.plan.json. -1 when
 * the name does not fit. */
int parts_path(char *out, size_t n, const char *output, unsigned index);
int parts_record_path(char *out, size_t n, const char *output, unsigned index);
int parts_index_path(char *out, size_t n, const char *output);
int parts_plan_path(char *out, size_t n, const char *output);

/* What a part's record says besides its size and digest. Borrowed. */
struct part_desc {
    const char *plan;          /* the plan's id */
    const char *stream;
    unsigned index, partitions;
    const char *compression;   /* "none", "gzip", "zstd" */
    const struct keytuple *after; /* NULL: from the start */
    int after_inclusive;
    const struct keytuple *upto;  /* NULL: to the end */
    int empty;
    uint64_t rows;
};

/* Writes FILE.part-NNNN.json for the published part FILE.part-NNNN, with
 * its size and SHA-256 read from the file. */
int parts_write_record(const char *output, const struct part_desc *d, char *err, size_t errlen);
/* jansson's object (jansson.h), declared here so that users of this
 * header need not include jansson. */
struct json_t;

/* Reads a record: *out is a new reference. 1 when there is none, 0, or -1
 * (unreadable or not a record). */
int parts_read_record(const char *path, struct json_t **out, char *err, size_t errlen);
/* The rows and bytes the record of part `index` gives; -1 when there is
 * no readable record. */
int parts_record_counts(const char *output, unsigned index, uint64_t *rows, uint64_t *bytes);
/* 1 when the record of part `index` belongs to plan and the part is there
 * with the size the record gives; else 0. */
int parts_record_done(const char *output, const char *plan, unsigned index);

/* The SHA-256 of the file at path, as 64 hex digits, and its size. */
int parts_sha256(const char *path, char hex[65], uint64_t *size, char *err, size_t errlen);

/* Reads a JSON file: 1 when it does not exist, 0 (*out a new reference),
 * or -1. */
int parts_read_json(const char *path, struct json_t **out, char *err, size_t errlen);

/* The plan the shards of one job share. Owns its members. */
struct shared_plan {
    char id[PARTS_PLAN_ID_LEN + 1];
    char *stream;
    char *fingerprint;
    unsigned partitions, shards;
    int incremental;
    struct job_range range;     /* incremental: the frozen bounds */
    struct keytuple *bounds;    /* partitions - 1 split points */
};
void shared_plan_clear(struct shared_plan *p);
/* Writes FILE.plan.json unless one exists: 0 written, 1 exists, -1. */
int parts_write_plan(const char *output, const struct shared_plan *p, char *err, size_t errlen);
/* Reads FILE.plan.json: 1 when absent, 0, or -1. */
int parts_read_plan(const char *output, struct shared_plan *p, char *err, size_t errlen);

#endif
