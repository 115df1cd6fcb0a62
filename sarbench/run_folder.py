"""The run folder's files, typed and versioned: every read and write of a run folder goes here.

    out/
      run_key.json          RunKey: what must not change for the predictions to stay valid
      manifest.json         Manifest: provenance of every session that wrote into the folder
      config.yaml           the resolved config of the latest session (not versioned: informative)
      predictions/<s>.jsonl PredictionLine per sample, append-only
      metrics.json          the scores (PROTOCOL §4), plus schema_version
      details.jsonl         DetailLine per scored sample
      .lock                 the exclusive writer's lock (sarbench.run_lock)

`schema_version` (an int) is in run_key.json, manifest.json and metrics.json; the line files are
covered by their folder's version. A document without it is the layout of sarbench before the
schema (version 0): every field it has is read the same way, so it is accepted. A version above
SCHEMA_VERSION was written by a newer sarbench and is refused with a message saying so.

Lines are written with `ensure_ascii=False` (readable UTF-8), except a line holding a lone
surrogate (text a model or an API can produce, e.g. "\\ud800"), which cannot be encoded as UTF-8:
that line is written with `ensure_ascii=True`, so it reads back as exactly the same string and
scores the same as the in-memory record.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any, TypedDict

from sarbench.failures import ERROR_KINDS
from sarbench.run_settings import RunError

try:
    from typing import NotRequired
except ImportError:  # Python 3.10
    from typing_extensions import NotRequired

SCHEMA_VERSION = 1


class RunFolderError(RunError):
    """A run-folder file that cannot be read or written; the message names it and the fix."""


class NewerSchemaError(RunFolderError):
    """A file written by a newer sarbench: never discarded or skipped, only refused."""


class RunKey(TypedDict):
    schema_version: NotRequired[int]
    protocol: str
    model: dict
    prompts_sha256: str
    generation: dict[str, dict]
    data_sha256: dict[str, str]
    checkpoint: NotRequired[dict | None]  # absent in version 0
    data_source: NotRequired[dict]  # data=hub only: source, repo, revision, commit, layout


class PredictionLine(TypedDict):
    id: str
    response: str | None
    labels: NotRequired[str]
    messages: NotRequired[list]
    images: NotRequired[list]
    latency_s: NotRequired[float]
    batch_size: NotRequired[int]
    error: NotRequired[str]
    error_kind: NotRequired[str]  # transient | permanent (sarbench/failures.py); absent before kinds
    raw_response: NotRequired[str]
    image_sha256: NotRequired[str]  # the bytes the prediction's image was decoded from
    image_stat: NotRequired[list[int]]  # [size, mtime_ns] of that file, to re-hash only on change


class DetailLine(TypedDict):
    id: str
    subset: str
    parse_fail: bool
    counts: dict[str, dict[str, int]]  # metric -> {"tp", "fp", "fn"}
    prediction: dict
    reference: dict
    response: str
    labels: str
    count_error: NotRequired[float]
    count_exact: NotRequired[bool]
    image: NotRequired[str]


RUN_KEY_FIELDS = {"protocol": str, "model": dict, "prompts_sha256": str, "generation": dict, "data_sha256": dict}
MOVE_ASIDE = "move it aside (or restore it), or re-run with runner.overwrite=true to discard the predictions"


# -- versions ---------------------------------------------------------------------------------
def schema_version(document: dict, path: Path) -> int:
    """The document's schema version (0 when absent); a newer or nonsensical one is an error."""
    version = document.get("schema_version", 0)
    if isinstance(version, bool) or not isinstance(version, int) or version < 0:
        raise RunFolderError(f"{path}: schema_version must be a whole number, got {version!r}; {MOVE_ASIDE}")
    if version > SCHEMA_VERSION:
        raise NewerSchemaError(
            f"{path} was written by a newer sarbench (schema {version}, this one reads "
            f"{SCHEMA_VERSION}): upgrade sarbench, or use another out= folder"
        )
    return version


def read_document(path: Path, what: str, fix: str = MOVE_ASIDE) -> dict | None:
    """A JSON object file (None when absent), its version checked; anything else names the file."""
    try:
        text = path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise RunFolderError(f"cannot read {what} {path}: {exc}; {fix}") from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise RunFolderError(f"{what} {path} is corrupt (line {exc.lineno}: {exc.msg}); {fix}") from None
    except RecursionError:
        raise RunFolderError(f"{what} {path} is corrupt (JSON nested too deeply to read); {fix}") from None
    if not isinstance(document, dict):
        raise RunFolderError(f"{what} {path} is not a JSON object (a {type(document).__name__}); {fix}")
    schema_version(document, path)
    return document


def read_run_key(path: Path) -> RunKey | None:
    key = read_document(path, "run key")
    if key is None:
        return None
    wrong = [name for name, kind in RUN_KEY_FIELDS.items() if not isinstance(key.get(name), kind)]
    if wrong:
        raise RunFolderError(f"run key {path} lacks or mistypes {', '.join(wrong)}; {MOVE_ASIDE}")
    return key  # type: ignore[return-value]


def read_metrics(path: Path) -> dict:
    """A metrics.json (of a run or of `sarbench.score`); RunFolderError when unusable."""
    document = read_document(path, "metrics file", "re-score the run (re-run the same command)")
    if document is None:
        raise RunFolderError(f"{path} not found")
    return document


def read_manifest(path: Path) -> dict | None:
    return read_document(path, "manifest")


def keep_corrupt_manifest(path: Path, stamp: str) -> tuple[dict | None, str | None]:
    """The previous manifest, or (None, note) after moving an unreadable one aside as
    `manifest.json.corrupt-<stamp>`: the manifest is append-only history, never silently replaced."""
    try:
        return read_manifest(path), None
    except NewerSchemaError:
        raise
    except RunFolderError as exc:
        kept = path.with_name(f"{path.name}.corrupt-{stamp}")
        try:
            path.replace(kept)
        except OSError as move_error:
            raise RunFolderError(f"{exc}; and it cannot be moved aside: {move_error}") from None
        return None, f"{path.name} was unreadable ({exc}); kept as {kept.name}, session history restarts"


# -- lines ------------------------------------------------------------------------------------
def json_line(record: dict) -> str:
    """One JSON line, surrogate-safe (see the module docstring)."""
    return _dumps(record, None) + "\n"


def _dumps(value: Any, indent: int | None) -> str:
    text = json.dumps(value, ensure_ascii=False, indent=indent, default=str)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = json.dumps(value, ensure_ascii=True, indent=indent, default=str)
    return text


def _line_problem(record: Any) -> str | None:
    if not isinstance(record, dict):
        return f"a {type(record).__name__}, not a prediction record"
    if not isinstance(record.get("id"), str):
        return "no string 'id'"
    if record.get("response") is not None and not isinstance(record["response"], str):
        return f"'response' is a {type(record['response']).__name__}, not a string"
    if "error" in record and not isinstance(record["error"], str):
        return "'error' is not a string"
    if "error_kind" in record and record["error_kind"] not in ERROR_KINDS:
        return f"'error_kind' is {record['error_kind']!r}, not one of {', '.join(ERROR_KINDS)}"
    if "image_sha256" in record and not (
        isinstance(record["image_sha256"], str) and _is_stat(record.get("image_stat"))
    ):
        return "'image_sha256' without a valid 'image_stat'"
    return None


def _is_stat(value: Any) -> bool:
    return (
        isinstance(value, list)
        and len(value) == 2
        and all(isinstance(v, int) and not isinstance(v, bool) for v in value)
    )


def read_prediction_lines(path: Path) -> list[PredictionLine]:
    """Every record of a predictions file; a line that is not a record names the file and line."""
    if not path.exists():
        return []
    if not path.is_file():  # a device or pipe would be read forever
        raise RunFolderError(f"{path} is not a regular file; move it aside")
    fix = (
        f"delete that line (its sample is generated again), or move {path.name} aside, or "
        "re-run with runner.overwrite=true to discard this file's predictions"
    )
    return _json_lines(path, "prediction", _line_problem, fix)


def _json_lines(path: Path, what: str, problem_of, fix: str) -> list:
    """The records of a JSON-lines file; a line that is no JSON or that `problem_of` refuses
    names the file, the line and the fix."""
    records = []
    try:
        with open(path, "rb") as handle:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                except RecursionError:
                    raise RunFolderError(
                        f"{path}: corrupt {what} on line {number} (JSON nested too deeply); {fix}"
                    ) from None
                except ValueError as exc:  # JSONDecodeError or UnicodeDecodeError
                    raise RunFolderError(f"{path}: corrupt {what} on line {number} ({exc}); {fix}") from None
                problem = problem_of(record)
                if problem is not None:
                    raise RunFolderError(f"{path}: corrupt {what} on line {number}: {problem}; {fix}")
                records.append(record)
    except OSError as exc:
        raise RunFolderError(f"cannot read {path}: {exc}") from None
    return records


DETAILS_FILE = "details.jsonl"


def details_location(run: Path) -> tuple[Path, Path]:
    """(details.jsonl, its run folder) for a run folder or for its details.jsonl given directly."""
    folder = run.parent if run.name == DETAILS_FILE else run
    return folder / DETAILS_FILE, folder


def read_detail_lines(path: Path) -> list[DetailLine]:
    """Every row of a details.jsonl; a row that is not a detail record names the file and line."""
    return _json_lines(path, "detail", detail_problem, "re-score the run (re-run the same command) to write it again")


def detail_problem(row: Any) -> str | None:
    """Why a details.jsonl row cannot be used, or None."""
    if not isinstance(row, dict):
        return f"a {type(row).__name__}, not a detail record"
    for name, kind in (("id", str), ("subset", str), ("counts", dict)):
        if not isinstance(row.get(name), kind):
            return f"no {kind.__name__} {name!r}"
    for metric, counts in row["counts"].items():
        if not (isinstance(counts, dict) and all(isinstance(counts.get(k), int) for k in ("tp", "fp", "fn"))):
            return f"counts of {metric!r} are not tp/fp/fn numbers"
    error = row.get("count_error")
    if error is not None and (isinstance(error, bool) or not isinstance(error, (int, float))):
        return "'count_error' is not a number"
    return None


# -- writing ----------------------------------------------------------------------------------
def write_text(path: Path, text: str) -> None:
    """Atomically (temp file, then rename); an OSError becomes a 'cannot write' RunFolderError."""
    tmp = path.with_name(path.name + ".tmp")
    try:
        with open(tmp, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except OSError as exc:
        _remove_quietly(tmp)
        raise RunFolderError(f"cannot write {path}: {exc}") from None


def _remove_quietly(path: Path) -> None:
    try:
        path.unlink(missing_ok=True)
    except OSError:
        pass  # the write error being reported is the one that matters


def write_document(path: Path, document: dict) -> None:
    """run_key.json, manifest.json or metrics.json, stamped with this SCHEMA_VERSION."""
    stamped = {"schema_version": SCHEMA_VERSION, **{k: v for k, v in document.items() if k != "schema_version"}}
    write_text(path, _dumps(stamped, 2) + "\n")


def path_segment(name: str) -> str:
    """A name as one folder name: a hub id (`Qwen/Qwen2-VL-7B-Instruct`) or a served model's
    absolute path would otherwise nest folders under `results/`. Separators become `--` (as in
    the hub's cache), characters unsafe in file names `_`; never empty, `.` or `..`."""
    parts = [part for part in re.split(r"[/\\]+", name) if part not in ("", ".", "..")]
    segment = re.sub(r"[^\w.+=@,-]+", "_", "--".join(parts)).lstrip(".")
    return segment or "_"


def predictions_present(out: Path) -> list[Path]:
    folder = out / "predictions"
    return sorted(p for p in folder.glob("*.jsonl") if p.stat().st_size > 0) if folder.is_dir() else []
