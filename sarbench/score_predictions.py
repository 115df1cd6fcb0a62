"""Scoring predictions into the `metrics.json` of PROTOCOL §4 (shared by `sarbench.score` and runs)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from metrics import benchmark
from metrics.aggregate import aggregate
from metrics.breakdown import BOX_METRICS, Breakdown
from metrics.parsing import Parsed, parse_answer
from metrics.sample_scores import SampleScore, score_texts
from sarbench import PROTOCOL, __version__
from sarbench.records import DataError, RecordIssue
from sarbench.result_files import Prediction
from sarbench.run_folder import json_line
from sarbench.score_workers import run_units
from sarbench.subsets import SUBSETS

CHUNK = 8192  # predictions per unit of work: units small enough to keep two workers evenly busy
# Rough CPU cost per task: units start in decreasing order of cost, so the last ones to finish are
# small. Only the speed depends on these, never a number. Per loaded sample (relative; chunks):
_COST_OF_TASK = {"classify": 1, "describe": 10, "count": 40, "grounding": 50, "identify": 2, "refer": 25}
_CAPTION_COST = 150  # tokenising and scoring one description
# CPU seconds per MB of result file, read and scored whole (sarbench.score_files; measured on the
# paper-scale set of bench/bench_score.py):
SECONDS_PER_MB_OF_TASK = {
    "classify": 0.07,
    "describe": 0.53,
    "count": 0.5,
    "grounding": 0.23,
    "identify": 0.021,
    "refer": 0.2,
}
CAPTIONS = "captions"  # the unit of the describe subset's corpus-level caption metrics


@dataclass
class ChunkScores:
    """What one run of a subset's predictions adds to the scores (merged in subset, then chunk order)."""

    samples: list[SampleScore]
    breakdown: Breakdown
    details: str  # its lines of --details, "" without
    issues: list[RecordIssue]  # malformed references left out (malformed_reference="collect")
    error: RecordIssue | None = None  # the first malformed reference (malformed_reference="raise")


@dataclass
class CaptionScores:
    scores: dict[str, float | None]  # BLEU, CIDEr, ROUGE-L (no METEOR)
    tokens: tuple[list[str], list[str]] | None  # (hypotheses, references) for METEOR, when it runs


def score_predictions(
    by_subset: Mapping[str, Sequence[Prediction]],
    *,
    meteor: bool | None = None,
    captions: bool = True,
    details: Path | None = None,
    issues: Iterable[RecordIssue] = (),
    malformed_reference: str = "raise",
    workers: int = 1,
) -> dict:
    """Score per-subset predictions; returns the metrics.json document.

    A reference that parses to nothing is a malformed data record: it raises DataError, or
    with malformed_reference="collect" is reported in `malformed` and left out of the scores.
    `workers` > 1 scores in that many processes (sarbench.score_workers), to the same result.
    """
    meteor_note, run_meteor = meteor_plan(meteor) if captions and by_subset.get("describe") else (None, False)
    options = (details is not None, malformed_reference, run_meteor)
    units = _units(by_subset, captions)
    results = run_units(_score_unit, (by_subset, options), units, workers)
    return merged_scores(results, issues=issues, details=details, meteor_note=meteor_note)


def merged_scores(
    results: Iterable[tuple[tuple, ChunkScores | CaptionScores]],
    *,
    issues: Iterable[RecordIssue] = (),
    details: Path | None = None,
    meteor_note: str | None = None,
) -> dict:
    """The metrics.json document of scored units, (unit, result) in any order: chunks are merged
    in subset, then start order, so the numbers never depend on how the work was split.
    Java METEOR starts as soon as the caption tokens come out of `results` and runs while the
    rest comes in."""
    issues = list(issues)
    breakdown = Breakdown()
    scored: dict[str, list[SampleScore]] = {}
    detail_parts: list[str] = []
    caption_scores = None
    meteor_job = None
    chunks: dict[tuple, ChunkScores] = {}
    try:
        for unit, result in results:
            if unit[0] == CAPTIONS:
                caption_scores = result.scores
                if result.tokens is not None:  # Java METEOR (~10 ms a pair) runs while the rest is scored
                    meteor_job = MeteorJob(*result.tokens)
            else:
                chunks[unit] = result
        for unit in sorted(chunks, key=lambda u: (SUBSETS.index(u[0]), u[1])):
            chunk = chunks[unit]
            if chunk.error is not None:
                raise DataError(chunk.error.path, chunk.error.index, chunk.error.problem)
            issues.extend(chunk.issues)
            scored.setdefault(unit[0], []).extend(chunk.samples)
            breakdown.merge(chunk.breakdown)
            detail_parts.append(chunk.details)
        caption = None
        if caption_scores is not None and "describe" in scored:
            caption = dict(caption_scores, meteor=meteor_job.result() if meteor_job is not None else None)
    finally:
        if meteor_job is not None:
            meteor_job.close()
    scored = {s: v for s, v in scored.items() if v}
    metrics, totals = aggregate(scored, caption)
    if details is not None:
        details.parent.mkdir(parents=True, exist_ok=True)
        details.write_text("".join(detail_parts), encoding="utf-8")
    return {
        "protocol": PROTOCOL,
        "metrics": metrics,
        "n": {s: len(v) for s, v in scored.items()},
        "parse_failures": {s: sum(x.parse_fail for x in v) for s, v in scored.items()},
        "totals": totals,
        "breakdowns": breakdown.result(),
        "notes": {"describe.meteor": meteor_note} if meteor_note else {},
        "malformed": [i.to_dict() for i in issues],
        "sarbench_version": __version__,
    }


def whole_subset_results(
    subset: str, samples: int, chunk: ChunkScores, captions: CaptionScores | None
) -> Iterator[tuple[tuple, ChunkScores | CaptionScores]]:
    """(unit, result) pairs, as `merged_scores` takes them, of a subset scored in one piece."""
    yield (subset, 0, samples), chunk
    if captions is not None:
        yield (CAPTIONS, 0, samples), captions


def meteor_plan(meteor: bool | None) -> tuple[str | None, bool]:
    """(why METEOR is absent or None, whether it runs); DataError when it was required but cannot run."""
    from metrics.captions import meteor_unavailable_reason

    if meteor is False:
        return "disabled", False
    reason = meteor_unavailable_reason()
    if reason is None:
        return None, True
    if meteor is True:
        raise DataError("describe", None, f"METEOR was required but cannot run: {reason}")
    return reason, False


def _units(by_subset: Mapping[str, Sequence[Prediction]], captions: bool) -> list[tuple]:
    """(subset, start, stop) chunks of every subset, and the caption metrics, costliest first."""
    costs = {}
    for subset in SUBSETS:
        predictions = by_subset.get(subset) or []
        per_sample = _COST_OF_TASK[benchmark.subset(subset).task]
        for start in range(0, len(predictions), CHUNK):
            stop = min(start + CHUNK, len(predictions))
            costs[(subset, start, stop)] = per_sample * (stop - start)
    if captions and by_subset.get("describe"):
        costs[(CAPTIONS, 0, len(by_subset["describe"]))] = _CAPTION_COST * len(by_subset["describe"])
    return sorted(costs, key=lambda unit: -costs[unit])


def _score_unit(shared, unit: tuple) -> ChunkScores | CaptionScores:
    by_subset, (with_details, malformed_reference, run_meteor) = shared
    name, start, stop = unit
    if name == CAPTIONS:
        return caption_scores(by_subset["describe"], run_meteor)
    return score_chunk(name, by_subset[name][start:stop], with_details, malformed_reference)


def caption_scores(predictions: Sequence[Prediction], run_meteor: bool) -> CaptionScores:
    from metrics.captions import scores_from_tokens, tokenize_pairs

    kept = [p for p in predictions if not parse_answer("describe", p.reference).failed]
    hyps, refs = tokenize_pairs([p.response for p in kept], [p.reference for p in kept])
    return CaptionScores(scores_from_tokens(hyps, refs), (hyps, refs) if run_meteor else None)


def score_chunk(
    subset: str, predictions: Sequence[Prediction], with_details: bool, malformed_reference: str
) -> ChunkScores:
    chunk = ChunkScores([], Breakdown(), "", [])
    lines: list[str] = []
    sized = subset in BOX_METRICS
    for prediction in predictions:
        parsed, reference, sample = score_texts(subset, prediction.response, prediction.reference)
        if reference.failed:
            path, _, index = prediction.source.rpartition(":")
            problem = f"reference answer has nothing to score for subset {subset!r}: {prediction.reference[:120]!r}"
            issue = RecordIssue(path, int(index) if index.isdigit() else None, problem)
            if malformed_reference != "collect":
                chunk.error = issue
                return chunk
            chunk.issues.append(issue)
            continue
        chunk.samples.append(sample)
        size = (prediction.image_size or image_size(prediction.image_file())) if sized else None
        chunk.breakdown.add(subset, parsed, reference, sample.counts, prediction.question, size, sample.count_exact)
        if with_details:
            lines.append(_detail_line(prediction, parsed, reference, sample))
    chunk.details = "".join(lines)
    return chunk


class MeteorJob:
    """Java METEOR in a background thread, started as soon as the descriptions are tokenised."""

    def __init__(self, hyps: list[str], refs: list[str]) -> None:
        from metrics.captions import meteor_score

        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sarbench-meteor")
        self._future = self._pool.submit(meteor_score, hyps, refs)

    def result(self) -> float | None:
        value = self._future.result()
        return None if value is None else 100.0 * value

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


def score_pairs(pairs: Mapping[str, Sequence[tuple[str | None, str]]], **kwargs) -> dict:
    """Score {subset: [(response, reference), ...]} without files (library use, tests)."""
    by_subset = {
        subset: [Prediction(f"{subset}/{i}", subset, r or "", ref, f"<memory>:{i}") for i, (r, ref) in enumerate(items)]
        for subset, items in pairs.items()
    }
    return score_predictions(by_subset, **kwargs)


@lru_cache(maxsize=1 << 16)
def image_size(path: str | None) -> tuple[int, int] | None:
    """(width, height) from the image header, or None when the file cannot be read."""
    from sarbench.images import special_file_kind

    if path is None or special_file_kind(path) is not None:  # a FIFO would block the scorer
        return None
    try:
        from PIL import Image

        with Image.open(path) as image:
            return image.size
    except Exception:  # noqa: BLE001 - a missing/corrupt image only limits the size breakdown
        return None


def _parsed_json(parsed: Parsed) -> dict:
    """The fields of a parse that matter for its subset, as JSON values."""
    out: dict = {}
    if parsed.categories:
        out["categories"] = sorted(parsed.categories)
    if parsed.mentions:
        out["mentions"] = [[list(item), n] for item, n in parsed.mentions]
    if parsed.subset == "count":
        out["count"] = parsed.count
    if parsed.boxes:
        out["boxes"] = [list(b) for b in parsed.boxes]
    if parsed.box_categories:
        out["box_categories"] = list(parsed.box_categories)
    if parsed.relations:
        out["relations"] = [[list(item), n] for item, n in parsed.relations]
    return out


def _detail_line(prediction: Prediction, parsed: Parsed, reference: Parsed, sample: SampleScore) -> str:
    row = {
        "id": prediction.id,
        "subset": prediction.subset,
        "parse_fail": sample.parse_fail,
        "counts": {m: {"tp": c[0], "fp": c[1], "fn": c[2]} for m, c in sample.counts.items()},
        "prediction": _parsed_json(parsed),
        "reference": _parsed_json(reference),
        "response": prediction.response,
        "labels": prediction.reference,
    }
    if sample.count_error is not None:
        row["count_error"] = sample.count_error
        row["count_exact"] = sample.count_exact
    if prediction.image is not None:
        row["image"] = prediction.image_path()
    return json_line(row)  # a run_folder.DetailLine
