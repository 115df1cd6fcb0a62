"""What is recorded with every run: the run key that guards resume, and the manifest."""

from __future__ import annotations

import hashlib
import json
import os
import platform
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

from sarbench import PROTOCOL, __version__
from sarbench.identity import checkpoint_summary

PACKAGES = (
    "sarbench",
    "torch",
    "torchvision",
    "transformers",
    "accelerate",
    "vllm",
    "numpy",
    "pillow",
    "hydra-core",
    "pycocoevalcap",
    "scipy",
)


def stable_hash(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()


def package_versions() -> dict[str, str | None]:
    versions: dict[str, str | None] = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def git_state(path: Path) -> dict[str, Any]:
    def git(*args: str) -> str | None:
        try:
            # no optional locks: `git status` of a run must never write (or leave) the repo's index.lock
            done = subprocess.run(
                ["git", *args],
                cwd=path,
                capture_output=True,
                text=True,
                timeout=10,
                env={**os.environ, "GIT_OPTIONAL_LOCKS": "0"},
            )
        except (OSError, subprocess.SubprocessError):
            return None
        return done.stdout.strip() if done.returncode == 0 else None

    sha = git("rev-parse", "HEAD")
    if sha is None:
        return {"sha": None, "dirty": None}
    status = git("status", "--porcelain", "--untracked-files=no")
    return {"sha": sha, "dirty": bool(status)}


def hardware() -> dict[str, Any]:
    info: dict[str, Any] = {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
    }
    torch = sys.modules.get("torch")  # only when the model already loaded it: importing costs seconds
    if torch is not None and torch.cuda.is_available():
        info["gpus"] = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
    return info


def run_key(
    model_fingerprint: dict,
    prompts_hash: str,
    generation: dict,
    data_checksums: dict[str, str],
    checkpoint: dict | None = None,
    data_source: dict | None = None,
) -> dict[str, Any]:
    """Everything that, if changed, makes earlier predictions invalid (sarbench.run_folder.RunKey;
    the images' bytes are checked per prediction line instead). Only plain JSON values: a key is
    compared with one read back from run_key.json, so an object here would never equal its text."""
    _check_plain_json(model_fingerprint, "model fingerprint")
    key = {
        "protocol": PROTOCOL,
        "model": model_fingerprint,
        "prompts_sha256": prompts_hash,
        "generation": generation,
        "data_sha256": data_checksums,
        "checkpoint": checkpoint,
    }
    if data_source is not None:  # data=hub: repo, revision and resolved commit (the files: data_sha256)
        key["data_source"] = data_source
    return key


def _check_plain_json(value: Any, where: str) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            _check_plain_json(item, f"{where}.{key}")
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            _check_plain_json(item, f"{where}[{index}]")
    elif not (value is None or isinstance(value, (str, int, float, bool))):
        raise TypeError(f"{where} is a {type(value).__name__}, not a JSON value: the run key could never match it")


def _leaves(value: Any, prefix: str) -> dict[str, Any]:
    if isinstance(value, dict) and (value or not prefix):
        return {k: v for key, item in value.items() for k, v in _leaves(item, f"{prefix}.{key}").items()}
    return {prefix: value}


def describe_key_change(old: dict, new: dict) -> list[str]:
    """Human-readable list of what differs between two run keys, down to the changed setting."""
    old_leaves, new_leaves = _leaves(old, ""), _leaves(new, "")
    missing = object()
    changes = []
    for path in sorted(set(old_leaves) | set(new_leaves)):
        before, after = old_leaves.get(path, missing), new_leaves.get(path, missing)
        if before != after:
            shown = ["(absent)" if v is missing else json.dumps(v, default=str)[:200] for v in (before, after)]
            changes.append(f"{path.lstrip('.')}: {shown[0]} -> {shown[1]}")
    return changes


def session_history(previous: dict | None, current: dict) -> list[dict]:
    """Every session that wrote predictions into this run folder, oldest first: a resumed run's
    predictions may come from several package versions or commits, and each is recorded."""
    history = list((previous or {}).get("sessions") or [])
    if previous and "sessions" not in previous and previous.get("started"):  # from before this field
        history = [{k: previous.get(k) for k in SESSION_FIELDS}]
    return history + [{k: current.get(k) for k in SESSION_FIELDS}]


SESSION_FIELDS = (
    "started",
    "finished",
    "outcome",
    "error",
    "git",
    "packages",
    "samples_generated",
    "samples_resumed",
    "shard",
)


def manifest(
    *,
    key: dict,
    config: dict,
    started: str,
    finished: str | None,
    stats: dict,
    repo: Path,
    previous: dict | None = None,
) -> dict[str, Any]:
    document = {
        "sarbench_version": __version__,
        "protocol": PROTOCOL,
        "git": git_state(repo),
        "packages": package_versions(),
        "hardware": hardware(),
        "data_sha256": key["data_sha256"],
        **({"data_source": key["data_source"]} if key.get("data_source") else {}),
        "checkpoint": checkpoint_summary(key.get("checkpoint")),
        "run_key_sha256": stable_hash(key),
        "model": config.get("model", {}).get("name"),
        "data": config.get("data", {}).get("name"),
        "started": started,
        "finished": finished,
        **stats,
    }
    document["sessions"] = session_history(previous, document)
    return document
