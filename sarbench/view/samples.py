"""A run folder's samples as the viewer's records: details.jsonl joined with the prompts and
failures of predictions/, each box matched the way the scorer matched it.

A record is a small JSON object with short keys (the page embeds one per sample, 226k for the
full test set), written for `static/viewer.js`:

    id, s (subset), q (prompt), r (raw response), l (reference answer), pf (parse failure),
    c {metric: [tp, fp, fn]}, ok (correct), p / g (parsed prediction / reference: boxes `b`,
    box labels `bl`, categories, mentions, count), m {box metric: [[pred, ref], ...]} (the
    matched pairs), ce / cx (count error / exact), qb (boxes named in the prompt), cat, sz
    (category and size indices), img (image index), err (inference failure).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from metrics import benchmark
from metrics.boxes import match_pairs
from metrics.breakdown import SIZE_WORDS, asked_category, size_word
from metrics.lexicon import CATEGORY_RE, category_of
from metrics.parsing import find_boxes
from sarbench.records import message_text
from sarbench.reports.runs import run_name
from sarbench.run_folder import RunFolderError, details_location, read_detail_lines, read_metrics, read_prediction_lines

PARSED_KEYS = {"boxes": "b", "box_categories": "bl", "categories": "cats", "mentions": "men", "count": "n"}
RERUN = "re-score the run (re-run the same command) to write it again"


class ViewError(SystemExit):
    """A run folder the viewer cannot show; the message names the file and the problem."""

    def __init__(self, message: str) -> None:
        super().__init__(f"error: {message}")


@dataclass
class RunRecords:
    name: str
    folder: Path
    records: list[dict]
    image_paths: list[str | None]  # per record, the image path details.jsonl names
    metrics: dict = field(default_factory=dict)

    def only(self, subsets: set[str]) -> RunRecords:
        kept = [i for i, record in enumerate(self.records) if record["s"] in subsets]
        records, images = [self.records[i] for i in kept], [self.image_paths[i] for i in kept]
        return RunRecords(self.name, self.folder, records, images, self.metrics)


def prediction_lines(folder: Path) -> dict[str, dict]:
    """Sample id -> its latest prediction line (prompt, inference error); {} without predictions/."""
    by_id: dict[str, dict] = {}
    predictions = folder / "predictions"
    if not predictions.is_dir():
        return by_id
    try:
        for path in sorted(predictions.glob("*.jsonl")):
            for line in read_prediction_lines(path):
                by_id[line["id"]] = line  # append-only: a retried sample's last line is the one scored
    except RunFolderError as exc:
        raise ViewError(str(exc)) from None
    return by_id


def _details_file(run: Path) -> Path:
    path, _ = details_location(run)
    if not path.is_file():
        raise ViewError(
            f"{path} not found: the viewer reads the per-sample details a run writes "
            "(or `sarbench score ... --details FILE`)"
        )
    return path


def _metrics_document(folder: Path) -> dict:
    if not (folder / "metrics.json").is_file():
        return {}
    try:
        return read_metrics(folder / "metrics.json")
    except RunFolderError as exc:
        raise ViewError(str(exc)) from None


def load_run(run: Path) -> RunRecords:
    """The viewer's records of one run folder (or a details.jsonl file), in details order."""
    details = _details_file(run)
    folder = details.parent
    metrics = _metrics_document(folder)
    prompts = prediction_lines(folder)
    try:
        rows = read_detail_lines(details)
    except RunFolderError as exc:
        raise ViewError(str(exc)) from None
    if not rows:
        raise ViewError(f"{details} holds no samples")
    seen: set[str] = set()
    records, images = [], []
    for number, row in enumerate(rows, start=1):
        if row["id"] in seen:
            raise ViewError(f"{details} line {number}: sample id {row['id']!r} again; {RERUN}")
        seen.add(row["id"])
        try:
            records.append(sample_record(row, prompts.get(row["id"])))
        except (KeyError, TypeError, ValueError, IndexError) as exc:
            raise ViewError(f"{details} line {number} ({row['id']!r}) cannot be shown: {exc!r}; {RERUN}") from None
        images.append(row.get("image") if isinstance(row.get("image"), str) else None)
    name = run_name(metrics, folder, [folder.parent]) if metrics else str(folder)
    return RunRecords(name, folder, records, images, metrics)


def _parsed(parsed: dict) -> dict:
    return {short: parsed[key] for key, short in PARSED_KEYS.items() if key in parsed}


def matched_pairs(subset_name: str, prediction: dict, reference: dict) -> dict[str, list[list[int]]]:
    """Per box metric of the subset, the (predicted, reference) index pairs the scorer matched."""
    entry = benchmark.subset(subset_name)
    predicted, expected = prediction.get("boxes") or [], reference.get("boxes") or []
    labels = (
        (prediction.get("box_categories"), reference.get("box_categories")) if entry.labelled_boxes else (None, None)
    )
    return {
        metric: [list(pair) for pair in match_pairs(predicted, expected, threshold, *labels)]
        for metric, threshold in entry.box_metrics
    }


def correct(row: dict) -> bool:
    """No false positive and no miss in any metric, and the stated count (if any) exact."""
    counts_clean = all(c["fp"] == 0 and c["fn"] == 0 for c in row["counts"].values())
    return counts_clean and row.get("count_exact") is not False


def sample_categories(row: dict, prompt: str | None) -> set[str]:
    """The object categories a sample is about: in its reference answer and its reference boxes'
    labels, and, where the subset's questions ask for one (count, refer), the one asked; a
    question listing the options (classify) names no category of the sample."""
    reference = row.get("reference") or {}
    found = set(reference.get("categories") or []) | set(reference.get("box_categories") or [])
    found |= {category_of(m.group()) for m in CATEGORY_RE.finditer(str(row.get("labels") or "").lower())}
    if benchmark.subset(row["subset"]).category_source == "question":
        asked = asked_category(prompt)
        if asked is not None:
            found.add(asked)
    found.discard("none")
    return found


def sample_record(row: dict, prediction_line: dict | None) -> dict:
    """The viewer record of one details row (module docstring); sizes are filled in later."""
    prompt = message_text(prediction_line, "user") if prediction_line else None
    reference, prediction = row.get("reference") or {}, row.get("prediction") or {}
    record: dict = {
        "id": row["id"],
        "s": row["subset"],
        "r": row.get("response") or "",
        "l": row.get("labels") or "",
        "pf": 1 if row.get("parse_fail") else 0,
        "c": {metric: [c["tp"], c["fp"], c["fn"]] for metric, c in row["counts"].items()},
        "ok": 1 if correct(row) else 0,
        "p": _parsed(prediction),
        "g": _parsed(reference),
        "cat": sorted(sample_categories(row, prompt)),
    }
    if prompt is not None:
        record["q"] = prompt
        asked_boxes = [list(box) for _, box in find_boxes(prompt.lower())]
        if asked_boxes:
            record["qb"] = asked_boxes
    if benchmark.subset(row["subset"]).box_metrics:
        record["m"] = matched_pairs(row["subset"], prediction, reference)
    if row.get("count_error") is not None:
        record["ce"] = row["count_error"]
        record["cx"] = 1 if row.get("count_exact") else 0
    if prediction_line and prediction_line.get("error"):
        record["err"] = prediction_line["error"]
    return record


def size_words(record: dict, width: int, height: int) -> list[str]:
    """PROTOCOL §2 size words of the reference boxes (or of the box the question names)."""
    boxes = record["g"].get("b") or record.get("qb") or []
    return sorted({size_word(box, width, height) for box in boxes}, key=SIZE_WORDS.index)
