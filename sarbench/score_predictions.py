"""Scoring predictions into the `metrics.json` of PROTOCOL §4 (shared by `sarbench.score` and runs)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from pathlib import Path

from metrics.aggregate import aggregate
from metrics.breakdown import BOX_METRICS, Breakdown
from metrics.parsing import Parsed, parse_answer
from metrics.sample_scores import SampleScore, score_texts
from sarbench import PROTOCOL, __version__
from sarbench.records import DataError, RecordIssue
from sarbench.result_files import Prediction
from sarbench.run_folder import json_line
from sarbench.subsets import SUBSETS


class CaptionJob:
    """Caption metrics of the describe subset. Java METEOR is slow (about 10 ms a pair), so it
    starts in a background thread right away and runs while the other subsets are scored."""

    def __init__(self, predictions: Sequence[Prediction], meteor: bool | None) -> None:
        from metrics.captions import meteor_score, meteor_unavailable_reason, tokenize_pairs

        self.hyps, self.refs = tokenize_pairs([p.response for p in predictions], [p.reference for p in predictions])
        self._pool = None
        self._meteor = None
        self.meteor_note = None
        if meteor is False:
            self.meteor_note = "disabled"
            return
        reason = meteor_unavailable_reason()
        if reason is not None:
            if meteor is True:
                raise DataError("describe", None, f"METEOR was required but cannot run: {reason}")
            self.meteor_note = reason
            return
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sarbench-meteor")
        self._meteor = self._pool.submit(meteor_score, self.hyps, self.refs)

    def result(self) -> dict[str, float | None]:
        from metrics.captions import scores_from_tokens

        scores = scores_from_tokens(self.hyps, self.refs)
        scores["meteor"] = None
        if self._meteor is not None:
            value = self._meteor.result()
            self._pool.shutdown()
            scores["meteor"] = None if value is None else 100.0 * value
        return scores


def score_predictions(
    by_subset: Mapping[str, Sequence[Prediction]],
    *,
    meteor: bool | None = None,
    captions: bool = True,
    details: Path | None = None,
    issues: Iterable[RecordIssue] = (),
    malformed_reference: str = "raise",
) -> dict:
    """Score per-subset predictions; returns the metrics.json document.

    A reference that parses to nothing is a malformed data record: it raises DataError, or
    with malformed_reference="collect" is reported in `malformed` and left out of the scores.
    """
    issues = list(issues)
    caption_job = None
    describe = by_subset.get("describe") or []
    if captions and describe:
        caption_job = CaptionJob([p for p in describe if not parse_answer("describe", p.reference).failed], meteor)
    breakdown = Breakdown()
    scored: dict[str, list[SampleScore]] = {}
    detail_lines: list[str] = []
    for subset in SUBSETS:
        predictions = by_subset.get(subset) or []
        samples: list[SampleScore] = []
        for prediction in predictions:
            parsed, reference, sample = score_texts(subset, prediction.response, prediction.reference)
            if reference.failed:
                path, _, index = prediction.source.rpartition(":")
                problem = f"reference answer has nothing to score for subset {subset!r}: {prediction.reference[:120]!r}"
                if malformed_reference != "collect":
                    raise DataError(path, int(index) if index.isdigit() else None, problem)
                issues.append(RecordIssue(path, int(index) if index.isdigit() else None, problem))
                continue
            samples.append(sample)
            size = None
            if subset in BOX_METRICS:
                size = prediction.image_size or image_size(prediction.image_path())
            breakdown.add(subset, parsed, reference, sample.counts, prediction.question, size, sample.count_exact)
            if details is not None:
                detail_lines.append(_detail_line(prediction, parsed, reference, sample))
        if samples:
            scored[subset] = samples
    caption = caption_job.result() if caption_job is not None and "describe" in scored else None
    metrics, totals = aggregate(scored, caption)
    if details is not None:
        details.parent.mkdir(parents=True, exist_ok=True)
        details.write_text("".join(detail_lines), encoding="utf-8")
    return {
        "protocol": PROTOCOL,
        "metrics": metrics,
        "n": {s: len(v) for s, v in scored.items()},
        "parse_failures": {s: sum(x.parse_fail for x in v) for s, v in scored.items()},
        "totals": totals,
        "breakdowns": breakdown.result(),
        "notes": {"describe.meteor": caption_job.meteor_note} if caption_job and caption_job.meteor_note else {},
        "malformed": [i.to_dict() for i in issues],
        "sarbench_version": __version__,
    }


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
