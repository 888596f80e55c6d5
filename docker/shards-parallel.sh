#!/bin/sh
# shards-parallel.sh - one table extracted by SHARDS processes on one machine
# with GNU parallel, then joined: what the Kubernetes Indexed Job in k8s/
# does across machines.
#
#   docker/shards-parallel.sh SOURCE TABLE FILE [SHARDS [PARTITIONS]]
#
# The table is cut into PARTITIONS key ranges (default 4 per shard); shard I
# extracts the partitions p with p mod SHARDS = I, with a state store of its
# own (in $SLUICE_STATE_DIR, default FILE's directory/.sluice-state), into
# FILE.part-NNNN; `sluice join` then writes FILE. When one shard fails, GNU
# parallel stops the others (SIGTERM: they checkpoint and exit 130); run the
# same command again: finished shards have nothing to do, the others resume
# at their checkpoints, and the join finishes what it began.
# SLUICE names the binary (default: sluice on PATH).
set -eu
[ $# -ge 3 ] && [ $# -le 5 ] || { echo "usage: $0 SOURCE TABLE FILE [SHARDS [PARTITIONS]]" >&2; exit 2; }
source=$1 table=$2 out=$3 shards=${4:-4}
parts=${5:-$((shards * 4))}
sluice=${SLUICE:-sluice}
state_dir=${SLUICE_STATE_DIR:-$(dirname -- "$out")/.sluice-state}
mkdir -p -- "$state_dir"
# -q: the arguments go to sluice as they are, spaces and all.
seq 0 $((shards - 1)) | parallel --will-cite -q --halt now,fail=1 --jobs "$shards" \
    "$sluice" extract "$source" "$table" -o "$out" --partitions "$parts" \
    --shard "{}/$shards" --state "$state_dir/shard-{}.db"
exec "$sluice" join "$out"
