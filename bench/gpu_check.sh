#!/usr/bin/env bash
# The GPU check, set-up included, in about 10 minutes on one GPU box (bench/gpu_check.py says
# what it runs): every runnable tiny family on backend=hf (bf16) and backend=vllm, batch 1 =
# batch 8, samples/s of HF batched vs vLLM vs raw LLM.generate, the shard recipe on several GPUs.
# Writes gpu_check.json and gpu_check.md into --out (default results/gpu_check).
#
#   bash bench/gpu_check.sh [--cpu] [--out DIR] [further bench/gpu_check.py options]
#
# --cpu: the dry run the test suite does (CPU, float32, 1 sample per subset, 4 tokens).
# Set-up: the interpreter is $SARBENCH_PYTHON (default python3) with torch and transformers
# installed (and vllm for the vLLM part, skipped without it); the project's own light
# dependencies are installed into it if missing, from wheels in .whl/ when that folder exists
# (a machine without a registry: see bench/RESULTS.md), else from the registry.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${SARBENCH_PYTHON:-python3}"
OUT=results/gpu_check
CPU=()
ARGS=()
while [ $# -gt 0 ]; do
    case "$1" in
        --cpu) CPU=(--cpu) ;;
        --out) OUT="$2"; shift ;;
        *) ARGS+=("$1") ;;
    esac
    shift
done
if ! "$PY" -c "import hydra, omegaconf, scipy, PIL, tqdm, matplotlib, safetensors, msgspec" 2>/dev/null; then
    if [ -d .whl ]; then
        "$PY" -m pip install -q --no-index --find-links .whl hydra-core omegaconf msgspec
    else
        "$PY" -m pip install -q "hydra-core>=1.3" "omegaconf>=2.3" scipy pillow tqdm matplotlib safetensors "msgspec>=0.18"
    fi
fi
"$PY" -c "import torch, transformers" || { echo "gpu_check: $PY needs torch and transformers" >&2; exit 2; }
if [ ${#CPU[@]} -eq 0 ] && ! "$PY" -c "import torch, sys; sys.exit(not torch.cuda.is_available())"; then
    echo "gpu_check: no CUDA device visible; --cpu runs the dry run" >&2
    exit 2
fi
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
# the whole check stays inside the box's window; what finished is in the JSON only at the end
timeout "${SARBENCH_GPU_CHECK_TIMEOUT:-570}" "$PY" bench/gpu_check.py --out "$OUT" "${CPU[@]}" "${ARGS[@]}"
