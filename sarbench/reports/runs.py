"""Finding run folders (every metrics.json below a path) and naming them for tables."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

from metrics.benchmark import TASK_TABLE
from sarbench import PROTOCOL
from sarbench.configs import default_generation
from sarbench.failures import failure_counts, failure_percent
from sarbench.run_folder import NewerSchemaError, RunFolderError, read_metrics, read_run_key
from sarbench.shards import SHARDS_FILE, partial_note
from sarbench.subsets import SUBSETS

FAILED_MARK = "\u2020"  # a dagger; the tables explain it in a footnote


@dataclass
class Run:
    name: str
    folder: Path
    result: dict  # the metrics.json document

    @property
    def metrics(self) -> dict:
        return self.result["metrics"]

    @property
    def failure_percent(self) -> float:
        """Share of the scored samples that failed inference (scored as empty answers)."""
        return failure_percent(self.result)


def _walk(top: Path, name: str = "metrics.json") -> list[Path]:
    """Every file `name` below `top`, following symlinked folders (a results tree of links to
    run folders is common); a link back to a folder above it is followed once."""
    found, seen = [], set()
    for root, dirs, files in os.walk(top, followlinks=True):
        real = os.path.realpath(root)
        if real in seen:
            dirs[:] = []
            continue
        seen.add(real)
        dirs.sort()
        if name in files:
            found.append(Path(root) / name)
    return found


def find_metrics_files(paths: list[Path]) -> list[Path]:
    """Every metrics.json at or below `paths`; one reached twice (through a link, or named twice)
    is read once, with a note."""
    found: list[Path] = []
    for path in paths:
        if path.is_file() and path.name == "metrics.json":
            found.append(path)
        elif path.is_dir():
            found.extend(_walk(path))
        else:
            raise SystemExit(f"error: {path} is neither a directory nor a metrics.json")
    unique: dict[Path, Path] = {}
    for path in found:
        first = unique.setdefault(path.resolve(), path)
        if first != path:
            print(f"note: {path} is {first} (read once)", file=sys.stderr)
    return list(unique.values())


def _display_path(folder: Path, bases: list[Path]) -> str:
    for base in bases:
        if base.is_dir() and (folder == base or base in folder.parents):
            relative = folder.relative_to(base)
            return str(base.name / relative) if str(relative) != "." else base.name or str(base)
    return str(folder)


def not_attempted_label(result: dict) -> str:
    """The subsets a model declared it does not attempt (metrics.json `not_attempted`), named by
    task where it skipped all of a task's subsets: `classify, describe, grounding`."""
    skipped = set(result.get("not_attempted") or {})
    names = []
    for task in TASK_TABLE:
        if task.subsets and set(task.subsets) <= skipped:
            names.append(task.name)
        else:
            names += [s for s in task.subsets if s in skipped]
    return ", ".join(names)


def generation_label(folder: Path) -> str:
    """The run's generation settings that differ from the defaults every task starts from
    (`max_new_tokens=32`; per subset where they differ), from its run_key.json; "" if none."""
    try:
        key = read_run_key(folder / "run_key.json")
    except RunFolderError:
        return ""
    generation = (key or {}).get("generation")
    if not isinstance(generation, dict):
        return ""
    defaults = default_generation()
    changed = []
    for setting, default in defaults.items():
        values = {s: v.get(setting) for s, v in sorted(generation.items()) if isinstance(v, dict)}
        odd = {s: v for s, v in values.items() if v is not None and v != default}
        if not odd:
            continue
        if len(set(odd.values())) == 1 and len(odd) == len(values):
            changed.append(f"{setting}={next(iter(odd.values()))}")
        else:
            changed += [f"{setting}={v} ({s})" for s, v in odd.items()]
    return ", ".join(changed)


def run_name(result: dict, folder: Path, bases: list[Path]) -> str:
    """`model (data)`, qualified when the run is partial (a runner.limit, fewer than the 9
    subsets) or generated with non-default settings (`max_new_tokens=32`), so neither is mistaken
    for a full default run in a table, and marked with
    FAILED_MARK when samples failed inference (their empty answers are in its scores)."""
    run = result.get("run") or {}
    if run.get("model"):
        name = f"{run['model']} ({run['data']})" if run.get("data") else str(run["model"])
    else:
        name = _display_path(folder, bases)
    partial = []
    if run.get("limit"):
        partial.append(f"limit {run['limit']}")
    skipped = not_attempted_label(result)
    evaluated = len(result.get("n") or {})
    if skipped:
        partial.append(f"not attempted: {skipped}")
    elif evaluated and evaluated < len(SUBSETS):
        partial.append(f"{evaluated}/{len(SUBSETS)} subsets")
    settings = generation_label(folder)
    name = f"{name} [{', '.join(partial + ([settings] if settings else []))}]" if partial or settings else name
    return f"{name} {FAILED_MARK}" if failure_counts(result)[0] else name


def _malformed(result) -> str | None:
    """Why a parsed metrics.json cannot be tabulated, or None."""
    if not isinstance(result, dict) or result.get("protocol") != PROTOCOL or "metrics" not in result:
        return "not a protocol metrics file"
    metrics = result["metrics"]
    if not isinstance(metrics, dict):
        return "'metrics' is not an object"
    bad = [k for k, v in metrics.items() if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float)))]
    return f"non-numeric metric values ({', '.join(bad[:3])})" if bad else None


def partial_sharded_runs(paths: list[Path]) -> list[tuple[Path, str]]:
    """Sharded run folders below `paths` without their metrics.json yet, with 'k/N shards'."""
    found = [p.parent for path in paths if path.is_dir() for p in _walk(path, SHARDS_FILE)]
    return [(folder, note) for folder in found if (note := partial_note(folder))]


def load_runs(paths: list[Path]) -> list[Run]:
    """Every protocol-v1 metrics.json below `paths`; equal names get their folder appended."""
    runs: list[Run] = []
    for metrics_path in find_metrics_files(paths):
        try:
            result = read_metrics(metrics_path)
        except RunFolderError as exc:
            if isinstance(exc, NewerSchemaError):  # leaving it out would silently change the table
                raise SystemExit(f"error: {exc}") from None
            print(f"note: skipped {metrics_path}: {exc}", file=sys.stderr)
            continue
        problem = _malformed(result)
        if problem is not None:
            if isinstance(result, dict) and result.get("protocol") == PROTOCOL:
                print(f"note: skipped {metrics_path}: {problem}", file=sys.stderr)
            continue
        folder = metrics_path.parent.absolute()  # a linked run folder is named by its link
        runs.append(Run(run_name(result, folder, [p.absolute() for p in paths]), folder, result))
    for folder, note in partial_sharded_runs(paths):
        print(f"note: {folder} is a sharded run not yet complete ({note}): not ranked", file=sys.stderr)
    if not runs:
        raise SystemExit(f"error: no {PROTOCOL} metrics.json below {', '.join(map(str, paths))}")
    names = [r.name for r in runs]
    bases = [p.absolute() for p in paths]
    for run in runs:
        if names.count(run.name) > 1:
            run.name = f"{run.name} [{_display_path(run.folder, bases)}]"
    return runs


def failure_notes(runs: list[Run]) -> list[str]:
    """The footnote for runs with inference failures (their empty answers are in the scores)."""
    failed = [run for run in runs if run.failure_percent > 0]
    if not failed:
        return []
    listed = "; ".join(f"{run.name.removesuffix(' ' + FAILED_MARK)}: {_failed_share(run)}" for run in failed)
    return [f"{FAILED_MARK} inference failures, scored as empty answers: {listed}."]


def _failed_share(run: Run) -> str:
    failed, samples = failure_counts(run.result)
    return f"{failed} of {samples} samples ({run.failure_percent:.2f} %)"
