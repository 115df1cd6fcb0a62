"""Built references scored against themselves with the project's scorer: 100 everywhere, no parse failure."""

from __future__ import annotations

import json

import pytest
from shared_data import needs_shared
from test_build_pipeline import REAL_SAR

from sarbench.build import BuildOptions, build, sample_data_dir
from sarbench.build.output import subset_file_name
from sarbench.subsets import SUBSETS

scoring = pytest.importorskip(
    "sarbench.score_predictions", reason="sarbench.score_predictions (lead's scorer) is not importable yet"
)

ERRORS = {"count.mae", "count.rmse"}


def self_pairs(folder):
    pairs = {}
    for subset in SUBSETS:
        records = json.loads((folder / subset_file_name(subset, "test")).read_text(encoding="utf-8"))
        pairs[subset] = [(r["messages"][1]["content"], r["messages"][1]["content"]) for r in records]
    return pairs


def assert_perfect(result: dict, pairs: dict, absent: frozenset = frozenset()) -> None:
    assert result["protocol"] == "sarchat-v1"
    assert result["n"] == {s: len(p) for s, p in pairs.items() if p}
    for name, value in result["metrics"].items():
        if name in absent:
            assert value is None, name
        elif name.endswith(".parse_fail") or name in ERRORS:
            assert value == 0, name
        else:
            assert value == 100, name


def test_bundled_sample_scores_100_against_itself():
    pairs = self_pairs(sample_data_dir())
    result = scoring.score_pairs(pairs, captions=False)  # caption metrics of a text with itself are not 100
    assert_perfect(result, pairs)
    assert result["metrics"]["grounding.abstract"] == 100  # the sample has relation sentences


@needs_shared(REAL_SAR / "annotations.jsonl")
def test_real_sar_build_scores_100_against_itself(tmp_path):
    build(BuildOptions(annotations=REAL_SAR / "annotations.jsonl", format="jsonl", out=tmp_path, link="none"))
    pairs = self_pairs(tmp_path)
    # ships and aircraft never share an image there, so no relation sentence: abstract is absent (§4)
    absent = frozenset({"grounding.abstract", "grounding.abstract.sample_mean"})
    assert_perfect(scoring.score_pairs(pairs, captions=False), pairs, absent)
