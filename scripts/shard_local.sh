#!/usr/bin/env bash
# One node, many GPUs: run a model as N shards at once, one process per GPU group, into one run
# folder (README "Scale out"). The last shard to finish scores the union (metrics.json).
#   bash scripts/shard_local.sh N GPUS_PER_SHARD model=qwen2vl-7b task=all out=results/q7 [key=value ...]
# Shard K sees GPUs K*G .. K*G+G-1 through CUDA_VISIBLE_DEVICES (G=0: no GPU, e.g. the oracle or a
# CPU run). Each shard logs to OUT/shard-K.log; the exit status is the first failing shard's, and
# `sarbench status OUT` shows which shards to re-run (the same command resumes them).
# $PYTHON (default python) runs sarbench.
set -uo pipefail
if [ $# -lt 2 ]; then
    echo "usage: $0 N GPUS_PER_SHARD [sarbench overrides ...]" >&2
    exit 2
fi
N=$1
G=$2
shift 2
PYTHON=${PYTHON:-python}
out=$("$PYTHON" -m sarbench "$@" --cfg job --resolve 2>/dev/null | awk '/^out:/ {print $2}')
if [ -z "$out" ]; then
    echo "shard_local: cannot resolve out= from the overrides (see: $PYTHON -m sarbench $* --cfg job)" >&2
    exit 2
fi
mkdir -p "$out"
pids=()
for ((k = 0; k < N; k++)); do
    if [ "$G" -gt 0 ]; then
        devices=$(seq -s, $((k * G)) $((k * G + G - 1)))
    else
        devices=""
    fi
    CUDA_VISIBLE_DEVICES=$devices "$PYTHON" -m sarbench "$@" runner.num_shards="$N" runner.shard="$k" \
        runner.progress=false >"$out/shard-$k.log" 2>&1 &
    pids+=($!)
    echo "shard_local: shard $k/$N pid $! CUDA_VISIBLE_DEVICES=$devices log $out/shard-$k.log"
done
status=0
for k in "${!pids[@]}"; do
    wait "${pids[$k]}"
    code=$?
    if [ "$code" != 0 ]; then
        echo "shard_local: shard $k failed (exit $code); see $out/shard-$k.log" >&2
        [ "$status" = 0 ] && status=$code
    fi
done
"$PYTHON" -m sarbench.status "$out"
exit "$status"
