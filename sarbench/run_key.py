"""The run key: what must not change for a run folder's predictions to stay valid."""
from __future__ import annotations

import json
import logging
from pathlib import Path

from sarbench.provenance import describe_key_change
from sarbench.run_settings import RunError

log = logging.getLogger("sarbench")


def check_run_key(out: Path, key: dict, overwrite: bool) -> dict:
    """Compare with the key stored by earlier runs into `out`; return the merged key to store.

    Model, prompts and protocol must be equal; per-subset generation settings and per-file data
    checksums must be equal where both runs have them (a later run may add subsets).
    """
    path = out / "run_key.json"
    if not path.exists():
        return key
    old = json.loads(path.read_text())
    conflicts = []
    for field_name in ("protocol", "model", "prompts_sha256"):
        if old.get(field_name) != key.get(field_name):
            conflicts += describe_key_change({field_name: old.get(field_name)},
                                             {field_name: key.get(field_name)})
    for field_name in ("generation", "data_sha256"):
        mine, theirs = key[field_name], old.get(field_name, {})
        for name in sorted(set(mine) & set(theirs)):
            if mine[name] != theirs[name]:
                conflicts.append(f"{field_name}[{name}]: {theirs[name]} -> {mine[name]}")
    if conflicts and not overwrite:
        raise RunError(
            f"{out} holds predictions made under a different configuration:\n  "
            + "\n  ".join(conflicts)
            + "\nUse another out=DIR, or runner.overwrite=true to discard those predictions."
        )
    if conflicts:
        for prediction_file in (out / "predictions").glob("*.jsonl"):
            prediction_file.unlink()
        log.warning("runner.overwrite=true: discarded earlier predictions in %s", out)
        return key
    merged = dict(old)
    for field_name in ("generation", "data_sha256"):
        merged[field_name] = {**old.get(field_name, {}), **key[field_name]}
    return merged
