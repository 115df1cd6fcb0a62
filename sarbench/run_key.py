"""The run key: what must not change for a run folder's predictions to stay valid."""

from __future__ import annotations

import logging
from pathlib import Path

from sarbench.identity import checkpoint_changes
from sarbench.provenance import describe_key_change
from sarbench.run_folder import NewerSchemaError, RunFolderError, predictions_present, read_run_key
from sarbench.run_settings import RunError

log = logging.getLogger("sarbench")

DISCARD = "Use another out=DIR, or runner.overwrite=true to discard those predictions."


def check_run_key(out: Path, key: dict, overwrite: bool) -> dict:
    """Compare with the key stored by earlier runs into `out`; return the merged key to store.

    Model, prompts, protocol and checkpoint must be equal; per-subset generation settings and
    per-file data checksums must be equal where both runs have them (a later run may add subsets).
    A key from before the checkpoint was recorded (schema 0) adopts the current checkpoint.
    """
    try:
        old = read_run_key(out / "run_key.json")
    except RunFolderError as exc:
        if isinstance(exc, NewerSchemaError) or not overwrite:
            raise
        return _discard(out, key, f"unreadable run key ({exc})")
    if old is None:
        present = predictions_present(out)
        if present and not overwrite:
            raise RunError(
                f"{out} holds predictions ({', '.join(p.name for p in present[:3])}) but no "
                "run_key.json, so what made them cannot be checked. Restore run_key.json, move "
                "predictions/ aside, or re-run with runner.overwrite=true to discard them."
            )
        return _discard(out, key, "no run key") if present else key
    conflicts = _conflicts(old, key)
    if conflicts and not overwrite:
        raise RunError(
            f"{out} holds predictions made under a different configuration:\n  "
            + "\n  ".join(conflicts)
            + f"\n{DISCARD}"
        )
    if conflicts:
        return _discard(out, key, "changed configuration")
    merged = {**old, "checkpoint": key.get("checkpoint")}
    merged.pop("data_source", None)  # where the files came from: this session's (their bytes: data_sha256)
    if key.get("data_source") is not None:
        merged["data_source"] = key["data_source"]
    for field_name in ("generation", "data_sha256"):
        merged[field_name] = {**old[field_name], **key[field_name]}
    return merged


def _conflicts(old: dict, key: dict) -> list[str]:
    conflicts = []
    for field_name in ("protocol", "model", "prompts_sha256"):
        if old.get(field_name) != key.get(field_name):
            conflicts += describe_key_change({field_name: old.get(field_name)}, {field_name: key.get(field_name)})
    if "checkpoint" in old:  # absent: a folder from before checkpoints were recorded
        conflicts += checkpoint_changes(old["checkpoint"], key.get("checkpoint"))
    for field_name in ("generation", "data_sha256"):
        mine, theirs = key[field_name], old[field_name]
        for name in sorted(set(mine) & set(theirs)):
            if mine[name] != theirs[name]:
                conflicts.append(f"{field_name}[{name}]: {theirs[name]} -> {mine[name]}")
    return conflicts


def _discard(out: Path, key: dict, why: str) -> dict:
    for prediction_file in (out / "predictions").glob("*.jsonl"):
        prediction_file.unlink()
    log.warning("runner.overwrite=true (%s): discarded earlier predictions in %s", why, out)
    return key
