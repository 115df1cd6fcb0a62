"""Tiny random-weight checkpoints, built offline and deterministically, for families that
transformers supports natively. `model=tiny-qwen2vl` etc. build one on first use into a cache
folder and then load it exactly like a downloaded checkpoint (same adapter, same code path).
"""

from __future__ import annotations

import importlib
import os
import shutil
import tempfile
from pathlib import Path

# Bump when a builder changes so stale cached builds are not reused.
BUILD_VERSION = "8"

BUILDERS = {
    "qwen2_vl": "model_adapters.tiny.qwen2_vl",
    "qwen2_5_vl": "model_adapters.tiny.qwen2_5_vl",
    "internvl": "model_adapters.tiny.internvl",
    "internvl_chat": "model_adapters.tiny.internvl_chat",
    "llava": "model_adapters.tiny.llava",
    "yi_vl": "model_adapters.tiny.yi_vl",
    "deepseek_vl": "model_adapters.tiny.deepseek_vl",
    "deepseek_vl_hybrid": "model_adapters.tiny.deepseek_vl_hybrid",
    "deepseek_vl2": "model_adapters.tiny.deepseek_vl2",
}


def default_cache_dir() -> Path:
    root = os.environ.get("SARBENCH_TINY_CACHE")
    return Path(root).expanduser() if root else Path.home() / ".cache" / "sarbench" / "tiny"


def ensure_tiny_model(builder: str, cache_dir: str | os.PathLike | None = None) -> Path:
    """Path of the built checkpoint, building it first if absent (atomic: temp dir + rename)."""
    if builder not in BUILDERS:
        raise ValueError(f"unknown tiny model builder {builder!r}; available: {', '.join(sorted(BUILDERS))}")
    root = Path(cache_dir).expanduser() if cache_dir else default_cache_dir()
    final = root / f"{builder}-v{BUILD_VERSION}"
    if (final / "config.json").exists():
        return final
    root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{builder}-", dir=root))
    try:
        importlib.import_module(BUILDERS[builder]).build(tmp)
        try:
            os.rename(tmp, final)
        except OSError:  # another process finished first: keep its build
            if not (final / "config.json").exists():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return final


def seeded(seed: int = 0):
    """Seed torch and python RNGs so weight initialisation is reproducible."""
    import random

    import torch

    random.seed(seed)
    torch.manual_seed(seed)


def save(model, processor, out: Path) -> None:
    model.save_pretrained(out)
    processor.save_pretrained(out)


def rename_weights(out: Path, prefixes: dict[str, str]) -> None:
    """Rewrite the saved weights' names (old prefix -> new prefix), e.g. to the layout hub
    checkpoints have where transformers saves another one that it also loads."""
    from safetensors.torch import load_file, save_file

    path = out / "model.safetensors"
    weights = load_file(path)
    renamed = {}
    for name, tensor in weights.items():
        old = next((o for o in prefixes if name.startswith(o)), None)
        renamed[name if old is None else prefixes[old] + name[len(old) :]] = tensor
    save_file(renamed, path, metadata={"format": "pt"})
