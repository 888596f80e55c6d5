/* parallel.h - a partitioned job: one table cut into N key ranges of about
 * equal rows (job/partition.h), each extracted by a job unit of its own
 * (own connection, state handle, output FILE.part-NNNN and checkpoints,
 * under the stream's partition "NNNN"), up to --parallel of them at once
 * on threads of this process; then the parts joined in key order into FILE
 * (output/join.h), or indexed with --keep-parts.
 *
 * The job itself is the stream's partition "" in the state store: RUNNING
 * with its plan (the split points, partition_plans) from the moment it
 * starts until the join is done, then IDLE with, in incremental mode, its
 * frozen upper bound as the high-water mark - which so moves only when
 * every partition is done. A re-run resumes it: finished partitions are
 * skipped, the others resume at their checkpoints, an interrupted join is
 * finished. A re-run with other partitions or shards is refused.
 *
 * Shards (--shard I/N): the same command run as N processes, on N
 * machines, each with its own state store and the output directory
 * shared: the first to start writes the plan to FILE.plan.json and the
 * others adopt it, each runs the partitions p with p mod N = I, and
 * `sluice join FILE` assembles FILE once every part is there.
 *
 * --snapshot: where the database can share a snapshot between connections
 * (source_has_shared_snapshot), this process opens a read, exports its
 * snapshot and every partition reads in it, so the parts are one
 * consistent image; the exporting read stays open until the last
 * partition is done. A crash ends that snapshot: a resumed job reads the
 * rest in a new one, and its plan's detail and its run's last_error say
 * the snapshot was broken. */
#ifndef SLUICE_PARALLEL_H
#define SLUICE_PARALLEL_H

#include "job/job.h"

/* Runs or resumes the partitioned job spec describes (spec->partitions >
 * 0) and fills *res as job_run() does, res->rows and res->bytes for the
 * whole job. Progress hooks get the sum over the partitions. Returns
 * res->code. */
int parallel_run(const struct stream_spec *spec, const struct job_env *env,
                 struct job_result *res);

#endif
