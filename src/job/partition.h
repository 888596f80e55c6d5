/* partition.h - the plan of a partitioned job: N contiguous key ranges of
 * about equal rows, cut at keys taken from the data, and the bounds each
 * partition reads.
 *
 * Split points are whole key tuples of rows (or block addresses for a
 * block-addressed implicit key), in the database's own order, so
 * partition i reads  split[i-1] < key <= split[i]:  every row belongs to
 * exactly one partition, ties on a key prefix included, whatever the key's
 * type. A split point of no values lies before every row: the partitions
 * it closes are empty (a table with fewer rows than partitions). */
#ifndef SLUICE_PARTITION_H
#define SLUICE_PARTITION_H

#include <stddef.h>

#include "job/plan.h"
#include "source/source.h"
#include "state/state.h"

#define PARTITIONS_MAX 10000

/* What one partition reads. Borrowed from the plan and the job's range. */
struct part_range {
    const struct keytuple *after; /* NULL: from the start */
    int after_inclusive;
    const struct keytuple *upto;  /* NULL: to the end */
    int empty;                    /* nothing to read */
};

/* 1 when the database can split p's table: it can sample a table, or the
 * key is a block-addressed implicit key (PostgreSQL's ctid). */
int partition_supported(struct source *src, const struct plan *p);

/* Cuts the rows p->spec reads within range (an incremental job's frozen
 * bounds; NULL or n 0: none) into n ranges of about equal rows, into
 * out->partitions and out->bounds. A block-addressed key is cut by blocks
 * from the table's size, the last range open-ended. Any other key is cut
 * at the keys of a sample: every row's of a table with up to a few ten
 * thousand rows (exact), a random sample of a larger one (TABLESAMPLE,
 * RAND() below a fraction) of enough rows that no range holds much more
 * than its share, let alone twice it. 0, or an EXIT_* code with a one-line
 * message in err. */
int partition_split(struct source *src, const struct plan *p, const struct job_range *range,
                    unsigned n, struct partition_plan *out, char *err, size_t errlen);

/* The bounds of partition i of pp: from split point i-1 (the first: from
 * range's lower bound) up to split point i (the last: to range's upper
 * bound). all_empty: the job has nothing to read. */
void partition_range(const struct partition_plan *pp, const struct job_range *range,
                     int all_empty, unsigned i, struct part_range *out);

/* The detail a partitioned job records with its plan (state_plan_set_detail
 * and friends): the plan's id, the shards and this shard, and the
 * snapshot's state ("none", "one", "broken"), as one line of JSON. NULL
 * when out of memory; free(). */
char *partition_detail(const char *id, unsigned shards, unsigned shard, const char *snapshot);
/* Reads a detail back: 0, or -1 when text is not one. *snapshot is one of
 * the static strings above. */
int partition_detail_parse(const char *text, char *id, size_t idlen, unsigned *shards,
                           unsigned *shard, const char **snapshot);

#endif
