"""Per-category and per-size breakdowns of the box and classification metrics.

Not part of protocol v1's headline numbers; these are diagnostics with these rules:
- category: classify.acc per reference category (a sample with two reference categories counts
  in both); count and refer metrics per category asked in the question (first category word of
  the user text; samples without one are not broken down); grounding per category by matching
  only the boxes labelled with that category (grounding matching requires equal categories, so
  the buckets add up to the pooled counts).
- size: box metrics per size word of PROTOCOL §2 (area ratio to the image): a matched pair and
  an unmatched reference box count in the reference box's bin, an unmatched predicted box in its
  own bin. Needs the image size; samples without one are left out (`coverage` says how many).
- `n` of a bucket counts its samples (size: its reference boxes); `samples[kind][bucket][metric]`
  counts the samples behind one cell: those with a reference item in it (the category's reference
  label, asked category or labelled reference box; a reference box of that size).
"""

from __future__ import annotations

from collections import defaultdict

from metrics import benchmark
from metrics.aggregate import accuracy
from metrics.attributes import size_word
from metrics.benchmark import EXACT_COUNT_METRIC, SUBSET_TABLE, Subset
from metrics.boxes import match_pairs
from metrics.lexicon import CATEGORY_RE, category_of
from metrics.parsing import Parsed

SIZE_WORDS = ("very small", "small", "medium", "large", "very large")
# Subset id -> (metric id, IoU threshold) of the subsets whose answers are boxes.
BOX_METRICS = {s.name: s.box_metrics for s in SUBSET_TABLE if s.box_metrics}


def asked_category(question: str | None) -> str | None:
    if not question:
        return None
    match = CATEGORY_RE.search(question.lower())
    return category_of(match.group()) if match else None


def _zero_counts() -> list[int]:  # module-level (not a lambda): a Breakdown is pickled between processes
    return [0, 0, 0]


def _zero_exact() -> list[int]:
    return [0, 0]


class Breakdown:
    def __init__(self) -> None:
        self.counts: dict[tuple[str, str, str], list[int]] = defaultdict(_zero_counts)
        self.samples: dict[tuple[str, str], int] = defaultdict(int)
        self.cell_samples: dict[tuple[str, str, str], int] = defaultdict(int)
        self.exact: dict[str, list[int]] = defaultdict(_zero_exact)
        self.sized = 0
        self.box_samples = 0

    def merge(self, other: Breakdown) -> None:
        """Add another breakdown's samples, as if they had been added here after this one's.

        Merging the breakdowns of consecutive runs of samples in their order gives the same
        result, key order included, as adding all the samples to one breakdown."""
        for (kind, bucket, metric), (tp, fp, fn) in other.counts.items():
            self._add(kind, bucket, metric, tp, fp, fn)
        for key, n in other.samples.items():
            self.samples[key] += n
        for key, n in other.cell_samples.items():
            self.cell_samples[key] += n
        for category, (exact, n) in other.exact.items():
            cell = self.exact[category]
            cell[0] += exact
            cell[1] += n
        self.sized += other.sized
        self.box_samples += other.box_samples

    def _add(self, kind: str, bucket: str, metric: str, tp: int, fp: int, fn: int) -> None:
        cell = self.counts[(kind, bucket, metric)]
        cell[0] += tp
        cell[1] += fp
        cell[2] += fn

    def add(
        self,
        subset_name: str,
        predicted: Parsed,
        reference: Parsed,
        counts: dict,
        question: str | None,
        image_size: tuple[int, int] | None,
        count_exact: bool | None = None,
    ) -> None:
        subset = benchmark.subset(subset_name)
        if subset.category_source == "reference":
            for category in reference.categories:
                self._add("category", category, subset.answer_metric, *counts[subset.answer_metric])
                self.samples[("category", category)] += 1
                self.cell_samples[("category", category, subset.answer_metric)] += 1
            return
        if not subset.box_metrics:
            return
        self.box_samples += 1
        if subset.category_source == "boxes":
            self._box_label_categories(subset, predicted, reference)
        elif subset.category_source == "question":
            self._asked_category(subset, counts, question, count_exact)
        if image_size is not None:
            self.sized += 1
            self._sizes(subset, predicted, reference, image_size)

    def _asked_category(self, subset: Subset, counts: dict, question: str | None, count_exact: bool | None) -> None:
        category = asked_category(question)
        if category is None:
            return
        self.samples[("category", category)] += 1
        for metric, _ in subset.box_metrics:
            self._add("category", category, metric, *counts[metric])
            self.cell_samples[("category", category, metric)] += 1
        if subset.states_count:
            self.exact[category][0] += int(bool(count_exact))
            self.exact[category][1] += 1
            self.cell_samples[("category", category, EXACT_COUNT_METRIC)] += 1

    def _box_label_categories(self, subset: Subset, predicted: Parsed, reference: Parsed) -> None:
        """Each labelled category scored on the boxes of that label (the buckets add up)."""
        for category in set(reference.box_categories) | set(predicted.box_categories):
            if category == "none":
                continue
            pred = [b for b, c in zip(predicted.boxes, predicted.box_categories) if c == category]
            ref = [b for b, c in zip(reference.boxes, reference.box_categories) if c == category]
            for metric, threshold in subset.box_metrics:
                tp = len(match_pairs(pred, ref, threshold))
                self._add("category", category, metric, tp, len(pred) - tp, len(ref) - tp)
                self.cell_samples[("category", category, metric)] += bool(ref)
            if ref:
                self.samples[("category", category)] += 1

    def _sizes(self, subset: Subset, predicted: Parsed, reference: Parsed, image_size) -> None:
        width, height = image_size
        ref_bins = [size_word(b, width, height) for b in reference.boxes]
        pred_bins = [size_word(b, width, height) for b in predicted.boxes]
        labelled = subset.labelled_boxes
        for metric, threshold in subset.box_metrics:
            pairs = match_pairs(
                predicted.boxes,
                reference.boxes,
                threshold,
                predicted.box_categories if labelled else None,
                reference.box_categories if labelled else None,
            )
            matched_pred = {i for i, _ in pairs}
            matched_ref = {j for _, j in pairs}
            for _, j in pairs:
                self._add("size", ref_bins[j], metric, 1, 0, 0)
            for j, bin_ in enumerate(ref_bins):
                if j not in matched_ref:
                    self._add("size", bin_, metric, 0, 0, 1)
            for i, bin_ in enumerate(pred_bins):
                if i not in matched_pred:
                    self._add("size", bin_, metric, 0, 1, 0)
            for bin_ in set(ref_bins):
                self.cell_samples[("size", bin_, metric)] += 1
        for bin_ in ref_bins:
            self.samples[("size", bin_)] += 1

    def result(self) -> dict:
        out: dict[str, dict] = {"category": {}, "size": {}}
        for (kind, bucket, metric), (tp, fp, fn) in sorted(self.counts.items()):
            out[kind].setdefault(bucket, {})[metric] = accuracy(tp, fp, fn)
        for category, (exact, n) in self.exact.items():
            out["category"].setdefault(category, {})[EXACT_COUNT_METRIC] = 100.0 * exact / n
        for (kind, bucket), n in self.samples.items():
            out[kind].setdefault(bucket, {})["n"] = n
        out["size"] = {w: out["size"][w] for w in SIZE_WORDS if w in out["size"]}
        samples: dict[str, dict] = {"category": {}, "size": {}}
        for kind, buckets in (("category", out["category"]), ("size", out["size"])):
            for bucket, values in buckets.items():
                samples[kind][bucket] = {m: self.cell_samples.get((kind, bucket, m), 0) for m in values if m != "n"}
        out["samples"] = samples
        out["coverage"] = {"box_samples": self.box_samples, "box_samples_with_image_size": self.sized}
        return out
