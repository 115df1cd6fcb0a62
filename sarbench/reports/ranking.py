"""Which table rows are ranked together, and the best / second-best marks within them.

A run is ranked only against runs it can honestly be compared with: complete runs (every subset,
every sample) on the same data. Partial runs and runs on other data are listed, unmarked, with a
footnote; the paper's published rows are ranked among themselves unless asked otherwise.

Other parts of sarbench add reasons a run is partial by appending a check to PARTIAL_CHECKS: a
function of the metrics.json document returning a short reason (shown in the footnote), or None.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sarbench.failures import failure_percent
from sarbench.reports.runs import not_attempted_label
from sarbench.run_folder import RunFolderError, read_manifest
from sarbench.subsets import SUBSETS

BEST, SECOND = 1, 2
NOT_RANKED = "‡"  # marks a listed-but-not-ranked row (the dagger † is for inference failures)
PAPER_GROUP = "paper"


def _limited(result: dict) -> str | None:
    limit = (result.get("run") or {}).get("limit")
    return f"runner.limit={limit}" if limit else None


def _fewer_subsets(result: dict) -> str | None:
    evaluated = len(result.get("n") or {})
    return f"{evaluated}/{len(SUBSETS)} subsets" if evaluated and evaluated < len(SUBSETS) else None


def _not_attempted(result: dict) -> str | None:
    label = not_attempted_label(result)
    return f"not attempted: {label}" if label else None


PartialCheck = Callable[[dict], "str | None"]
PARTIAL_CHECKS: list[PartialCheck] = [_limited, _fewer_subsets, _not_attempted]


def partial_reasons(result: dict) -> list[str]:
    """Why a run's numbers are not those of a complete run ([] when complete)."""
    return [reason for check in PARTIAL_CHECKS if (reason := check(result))]


def data_identity(result: dict, folder: Path | None) -> str:
    """The data a run was scored on: its data name, refined by the data files' checksums where
    the run folder's manifest records them (two copies named alike but differing are different)."""
    name = str((result.get("run") or {}).get("data") or "unknown data")
    try:
        manifest = read_manifest(folder / "manifest.json") if folder is not None else None
    except RunFolderError:
        manifest = None
    checksums = (manifest or {}).get("data_sha256")
    if not isinstance(checksums, dict) or not checksums:
        return name
    digest = hashlib.sha256(json.dumps(checksums, sort_keys=True).encode()).hexdigest()[:8]
    return f"{name} #{digest}"


@dataclass(frozen=True)
class Standing:
    group: str | None  # rows with the same group are ranked together; None: listed, not ranked
    why_not: str = ""  # why the row is not ranked


def standings(documents: list[tuple[dict, Path | None]], max_failure_rate: float = 100.0) -> list[Standing]:
    """Per run (metrics.json document, folder), in the order given (best first): the largest group
    of complete runs on the same data is ranked (ties: the one holding the earliest run). A run
    with more than `max_failure_rate` % of its samples failed at inference is not ranked."""
    identities = [data_identity(result, folder) for result, folder in documents]
    partial = [partial_reasons(result) for result, _ in documents]
    failed = [failure_percent(result) for result, _ in documents]
    complete = [
        identity
        for identity, reasons, rate in zip(identities, partial, failed)
        if not reasons and rate <= max_failure_rate
    ]
    ranked = max(dict.fromkeys(complete), key=complete.count) if complete else None
    out = []
    for identity, reasons, rate in zip(identities, partial, failed):
        if reasons:
            out.append(Standing(None, "partial run (" + ", ".join(reasons) + ")"))
        elif rate > max_failure_rate:
            out.append(Standing(None, f"inference failures ({rate:.2f} % > {max_failure_rate:g} %)"))
        elif identity != ranked:
            out.append(Standing(None, f"other data ({identity}) than the ranked runs ({ranked})"))
        else:
            out.append(Standing(identity))
    return out


def not_ranked_note(standings_: list[Standing]) -> str | None:
    """The footnote for the rows that are listed but not ranked, or None when every row is ranked."""
    reasons = list(dict.fromkeys(s.why_not.split(" (")[0] for s in standings_ if s.group is None))
    if not reasons:
        return None
    kinds = {
        "partial run": "partial runs (a runner.limit or fewer subsets)",
        "other data": "runs on other data than the ranked ones",
        "inference failures": "runs with more failed samples than --max-failure-rate",
    }
    return f"{NOT_RANKED} listed, not ranked: " + " and ".join(kinds.get(r, r) for r in reasons) + "."


def marks(
    values: list[float | None], lower_is_better: bool, groups: list[str | None], enough: list[bool]
) -> list[int | None]:
    """BEST / SECOND / None per row of one column, on the values as printed (2 decimals).

    Ranks count distinct values, within each group: ties share a mark; a group whose values are
    all equal marks nothing; SECOND goes to the second distinct value only when a worse one exists
    (with two distinct values, "second best" would just be "worst"). Rows outside every group,
    absent values and cells resting on too few samples (`enough` False) are neither marked nor
    counted.
    """
    out: list[int | None] = [None] * len(values)
    for group in dict.fromkeys(g for g in groups if g is not None):
        shown = {
            i: round(v, 2)
            for i, (v, g, ok) in enumerate(zip(values, groups, enough))
            if g == group and ok and v is not None and v == v  # NaN: absent
        }
        distinct = sorted(set(shown.values()), reverse=not lower_is_better)
        if len(distinct) < 2:
            continue
        for i, value in shown.items():
            if value == distinct[0]:
                out[i] = BEST
            elif value == distinct[1] and len(distinct) >= 3:
                out[i] = SECOND
    return out
