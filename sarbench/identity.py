"""What produced a prediction: the checkpoint's files and the image's bytes.

A local checkpoint folder is fingerprinted by every file's name, size and mtime_ns, plus the
sha256 of its small files (configs, tokenizer and processor files, the weight index: < 1 MB), so a
multi-GB checkpoint costs a stat per file, not a read (bench/RESULTS.md: 15 GB in milliseconds).
A re-merged LoRA or re-saved checkpoint changes sizes or mtimes and is seen; a copy that does
not preserve mtimes (`cp` without `-p`) is seen too, by design: only the small files are hashed.
A hub id is recorded with its revision and the commit the hub cache resolved it to (what
transformers loaded: a moved branch is a changed checkpoint). Dot-folders (.git, .cache) are left out: git and the
hub client touch them without changing the weights.

Images are checked on resume by stat: a done sample's image whose size or mtime differs from its
prediction line is hashed and compared with the recorded sha256.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

SMALL_FILE_BYTES = 1 << 20


def checkpoint_identity(location: str | None, revision: str | None = None) -> dict | None:
    if location is None:
        return None
    folder = Path(location).expanduser()
    if not folder.is_dir():
        return {"hub_id": location, "revision": revision, "commit": hub_commit(location, revision)}
    files = {}
    for directory, subdirectories, names in os.walk(folder, followlinks=True):
        subdirectories[:] = sorted(d for d in subdirectories if not d.startswith("."))
        for name in sorted(names):
            path = Path(directory) / name
            stat = path.stat()  # through symlinks: a hub cache snapshot links to its blobs
            entry = {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns}
            if stat.st_size < SMALL_FILE_BYTES:
                entry["sha256"] = file_sha256(path)
            files[path.relative_to(folder).as_posix()] = entry
    return {"local": str(folder.resolve()), "files": files}


def hub_commit(repo_id: str, revision: str | None, repo_type: str = "model") -> str | None:
    """The commit of `repo_id` at `revision` in the hub cache (where transformers and vLLM put
    what they load), from its refs; None when the cache has no config.json of it."""
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:
        return None
    try:
        found = try_to_load_from_cache(repo_id, "config.json", revision=revision, repo_type=repo_type)
    except ValueError:  # not a valid hub id: nothing in the cache either
        return None
    return Path(found).parent.name if isinstance(found, str) else None


def checkpoint_summary(identity: dict | None) -> dict | None:
    """The checkpoint as the manifest shows it: a hub id with revision and commit, or the folder."""
    if identity is None or "hub_id" in identity:
        return identity
    return {"local": identity["local"], "files": len(identity["files"])}


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def checkpoint_changes(old: dict | None, new: dict | None, shown: int = 5) -> list[str]:
    """What differs between two checkpoint identities, file by file (first `shown` of each kind)."""
    if old and new and "hub_id" in old and "commit" not in old:  # recorded before commits were
        new = {k: v for k, v in new.items() if k != "commit"}
    if old == new:
        return []
    if not (old and new and "files" in old and "files" in new):
        return [f"checkpoint: {_where(old)} -> {_where(new)}"]
    changes = []
    if old["local"] != new["local"]:
        changes.append(f"checkpoint folder: {old['local']} -> {new['local']}")
    before, after = old["files"], new["files"]
    changed = [
        f"{name} ({', '.join(k for k in ('size', 'mtime_ns', 'sha256') if before[name].get(k) != after[name].get(k))})"
        for name in sorted(set(before) & set(after))
        if before[name] != after[name]
    ]
    for label, names in (
        ("changed", changed),
        ("added", sorted(set(after) - set(before))),
        ("removed", sorted(set(before) - set(after))),
    ):
        if names:
            more = f" and {len(names) - shown} more" if len(names) > shown else ""
            changes.append(f"checkpoint files {label}: {', '.join(names[:shown])}{more}")
    return changes


def _where(identity: dict | None) -> str:
    if identity is None:
        return "none"
    if "hub_id" in identity:
        commit = f" (commit {identity['commit']})" if identity.get("commit") else ""
        return f"{identity['hub_id']}@{identity.get('revision') or 'default revision'}{commit}"
    return identity.get("local", "?")


def changed_images(records: list[dict], image_of: dict[str, str]) -> list[str]:
    """Images of done predictions whose bytes are no longer those the prediction was made from.
    Stat only, unless the stat differs (then the file is hashed); one verdict per image file."""
    verdicts: dict[tuple, bool] = {}  # (path, recorded sha256, recorded stat) -> unchanged
    for record in records:
        path = image_of.get(record["id"])
        if path is None or "image_sha256" not in record:
            continue
        seen = (path, record["image_sha256"], tuple(record["image_stat"]))
        if seen not in verdicts:
            verdicts[seen] = _unchanged(Path(path), record["image_sha256"], record["image_stat"])
    return sorted({path for (path, *_), same in verdicts.items() if not same})


def _unchanged(path: Path, sha256: str, stat: list[int]) -> bool:
    try:
        now = path.stat()
        return [now.st_size, now.st_mtime_ns] == stat or file_sha256(path) == sha256
    except OSError:
        return False  # gone or unreadable: the prediction can no longer be vouched for
