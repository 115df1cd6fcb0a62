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

PACKAGES = ("sarbench", "torch", "torchvision", "transformers", "accelerate", "vllm", "numpy",
            "pillow", "hydra-core", "pycocoevalcap", "scipy", "pandas")


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
            done = subprocess.run(["git", *args], cwd=path, capture_output=True, text=True, timeout=10)
        except (OSError, subprocess.SubprocessError):
            return None
        return done.stdout.strip() if done.returncode == 0 else None

    sha = git("rev-parse", "HEAD")
    if sha is None:
        return {"sha": None, "dirty": None}
    status = git("status", "--porcelain", "--untracked-files=no")
    return {"sha": sha, "dirty": bool(status)}


def hardware() -> dict[str, Any]:
    info: dict[str, Any] = {"platform": platform.platform(), "python": platform.python_version(),
                            "machine": platform.machine(), "cpu_count": os.cpu_count()}
    torch = sys.modules.get("torch")  # only when the model already loaded it: importing costs seconds
    if torch is not None and torch.cuda.is_available():
        info["gpus"] = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
    return info


def run_key(model_fingerprint: dict, prompts_hash: str, generation: dict,
            data_checksums: dict[str, str]) -> dict[str, Any]:
    """Everything that, if changed, makes earlier predictions invalid."""
    return {
        "protocol": PROTOCOL,
        "model": model_fingerprint,
        "prompts_sha256": prompts_hash,
        "generation": generation,
        "data_sha256": data_checksums,
    }


def describe_key_change(old: dict, new: dict) -> list[str]:
    """Human-readable list of what differs between two run keys."""
    changes = []
    for field in sorted(set(old) | set(new)):
        if old.get(field) != new.get(field):
            changes.append(f"{field}: {json.dumps(old.get(field), default=str)[:200]} -> "
                           f"{json.dumps(new.get(field), default=str)[:200]}")
    return changes


def manifest(*, key: dict, config: dict, started: str, finished: str | None, stats: dict,
             repo: Path) -> dict[str, Any]:
    return {
        "sarbench_version": __version__,
        "protocol": PROTOCOL,
        "git": git_state(repo),
        "packages": package_versions(),
        "hardware": hardware(),
        "data_sha256": key["data_sha256"],
        "run_key_sha256": stable_hash(key),
        "model": config.get("model", {}).get("name"),
        "data": config.get("data", {}).get("name"),
        "started": started,
        "finished": finished,
        **stats,
    }
