"""PROTOCOL §4 scores: golden cases with hand-computed IoUs (transcribed InternVL2.5-8B predictions)."""

import json
import math
import os

import pytest
from shared_data import needs_shared, shared_path

from sarbench.records import DataError
from sarbench.result_files import Prediction
from sarbench.score_predictions import score_pairs

EXAMPLES = shared_path("reference/sarchat_examples.json")

REF_BOXES = "{<294><358><329><427>}{<61><448><122><503>}{<27><199><78><261>}{<193><157><245><306>}"


def metrics_of(pairs, **kw):
    return score_pairs(pairs, captions=False, **kw)["metrics"]


def test_classify():
    m = metrics_of(
        {"classify": [("It is ship.", "It is ship."), ("ships and tanks", "It is ship."), ("no idea", "It is car.")]}
    )
    # TP 1+1+0, FP 0+1+0, FN 0+0+1
    assert m["classify.acc"] == pytest.approx(100 * 2 / 4)
    assert m["classify.acc.sample_mean"] == pytest.approx((100 + 50 + 0) / 3)
    assert m["classify.parse_fail"] == pytest.approx(100 / 3)
    assert m["task.classify"] == m["classify.acc"]


def test_describe_paper_example():
    ref = (
        "In this satellite image, we can observe the following: A small ship is visible in the "
        "bottom left portion of the image There is one more small ship on the left side of the "
        "image Also, we can observe another small ship in the central region of the image."
    )
    pred = (
        "In this satellite image, we can observe the following: A small ship is visible in the "
        "bottom left portion of the image."
    )
    m = metrics_of({"describe": [(pred, ref)]})
    assert m["describe.acc"] == pytest.approx(100 / 3)


def test_count_example():
    ref = "There are 4 instances. " + REF_BOXES
    pred = (
        "There are 4 instances. {<291><355><320><428>}{<205><195><226><293>}{<12><203><78><263>}{<49><453><120><501>}"
    )
    # IoUs by hand: P1-A 1794/2738=.655, P2-D 2058/7748=.266, P3-C 2958/4164=.710, P4-B 2832/3931=.720
    m = metrics_of({"count": [(pred, ref)]})
    assert m["count.only"] == 100
    assert m["count.iou25"] == 100
    assert m["count.iou50"] == pytest.approx(100 * 3 / 5)
    assert m["count.mae"] == 0 and m["count.rmse"] == 0 and m["count.within1"] == 100
    assert m["task.count"] == pytest.approx((100 + 100 + 60) / 3)


def test_count_errors():
    ref = "There are 4 instances. " + REF_BOXES
    m = metrics_of({"count": [("There are 2 instances.", ref), ("nothing", ref), ("5", ref)]})
    # errors 2, 4 (no count -> 0), 1
    assert m["count.only"] == 0
    assert m["count.mae"] == pytest.approx(7 / 3)
    assert m["count.rmse"] == pytest.approx(math.sqrt((4 + 16 + 1) / 3))
    assert m["count.within1"] == pytest.approx(100 / 3)
    assert m["count.parse_fail"] == pytest.approx(100 / 3)
    assert m["count.iou25"] == 0 and m["count.iou25.sample_mean"] == 0
    assert "count.only.sample_mean" not in m


def test_grounding_multi_example():
    ref = (
        "In this SAR image, I can identify several objects and their locations: There are 4 ships: "
        "one in the bottom center portion {<294><358><329><427>}, one in the bottom left portion "
        "{<61><448><122><503>}, one in the middle left portion {<27><199><78><261>}, one in the "
        "middle center portion {<193><157><245><306>}."
    )
    pred = (
        "In this SAR image, I can identify several objects and their locations: There are 5 ships: "
        "one in the middle left portion {<10><203><75><260>}, one in the middle center portion "
        "{<197><187><230><285>}, one in the bottom center portion {<289><355><322><429>}, one in "
        "the bottom left portion {<53><453><116><501>}, one in the bottom center portion "
        "{<196><479><221><511>}."
    )
    # Q1-C .662, Q2-D 3234/7748=.417 (miss), Q3-A .661, Q4-B .706, Q5 none -> TP 3, FP 2, FN 1
    m = metrics_of({"grounding_multi": [(pred, ref)]})
    assert m["grounding.multi"] == pytest.approx(50.0)
    assert m["grounding.abstract"] is None  # no reference relation
    assert m["task.grounding"] == pytest.approx(50.0)
    # the same boxes under another category do not match
    m = metrics_of({"grounding_multi": [(pred.replace("ships", "tanks"), ref)]})
    assert m["grounding.multi"] == 0


def test_grounding_abstract_pooled_over_samples_with_reference_relations():
    with_rel = "There is a ship {<0><0><10><10>}. The ship is far from the car. The car is above the ship."
    single = [
        ("There is a ship {<0><0><10><10>}. The ship is far from the car.", with_rel),
        ("a ship {<0><0><10><10>}. The ship is near the car.", "a ship {<0><0><10><10>}"),
    ]
    m = metrics_of({"grounding_single": single})
    # only the first sample counts: TP 1, FP 0, FN 1
    assert m["grounding.abstract"] == pytest.approx(50.0)
    assert m["grounding.single"] == 100
    assert m["task.grounding"] == pytest.approx(75.0)


def test_refer_multi_example():
    ref = "{<294><358><329><427>} (bottom center){<61><448><122><503>} (bottom left){<27><199><78><261>} (middle left){<193><157><245><306>} (middle center)"  # noqa: E501
    pred = "{<10><0><37><56>} (top left){<17><203><75><260>} (middle left){<201><187><224><285>} (middle center){<291><355><320><428>} (bottom center)"  # noqa: E501
    # R2-C 2736/3732=.733, R3-D 2254/7748=.291, R4-A .655, R1 none
    m = metrics_of({"refer_multi": [(pred, ref)]})
    assert m["refer.multi.iou25"] == pytest.approx(60.0)
    assert m["refer.multi.iou50"] == pytest.approx(100 * 2 / 6)


def test_identify_multiset():
    ref = "This is a medium-sized ship located in the top right portion of the image. It appears to be wide in shape."
    m = metrics_of(
        {"identify_multi": [("A small ship at the top right, wide and wide.", ref)], "identify_single": [(ref, ref)]}
    )
    # pred: size small, ship, top right, wide x2 -> TP 3 (ship, cell, wide), FP 2, FN 1
    assert m["identify.multi"] == pytest.approx(50.0)
    assert m["identify.single"] == 100
    assert m["task.identify"] == pytest.approx(75.0)


def test_empty_denominator_scores_100():
    m = metrics_of({"refer_single": [("{<0><0><1><1>}", "{<0><0><1><1>}")]})
    assert m["refer.single.iou50"] == 100


def test_avg_weights():
    m = metrics_of({"classify": [("It is ship.", "It is ship.")] * 3, "refer_single": [("none", "{<0><0><1><1>}")]})
    assert m["task.classify"] == 100 and m["task.refer"] == 0
    assert m["avg"] == pytest.approx(75.0)
    assert m["avg_paper"] == pytest.approx(100 * 10024 / (10024 + 11703))
    assert "task.count" not in m and "count.only" not in m


def test_missing_response_is_empty():
    m = metrics_of({"classify": [(None, "It is ship.")]})
    assert m["classify.acc"] == 0 and m["classify.parse_fail"] == 100


def test_malformed_reference():
    with pytest.raises(DataError, match="nothing to score"):
        metrics_of({"count": [("3", "nothing to see")]})
    result = score_pairs(
        {"count": [("3", "nothing to see"), ("3", "There are 3 instances.")]},
        captions=False,
        malformed_reference="collect",
    )
    assert result["n"] == {"count": 1} and len(result["malformed"]) == 1


@needs_shared(EXAMPLES)
def test_transcribed_examples_parse_and_self_score():
    subset_of = {
        "classification": "classify",
        "fine_grained_description": "describe",
        "instance_counting": "count",
        "cross_modal_identification": "identify_multi",
    }
    pairs = {}
    for example in json.loads(EXAMPLES.read_text()):
        task = example["_task"]
        multi = "multi" in example.get("_subtask", "")
        subset = subset_of.get(task) or {"spatial_grounding": "grounding", "referring": "refer"}[task] + (
            "_multi" if multi else "_single"
        )
        ref = example["messages"][1]["content"]
        pairs.setdefault(subset, []).append((ref, ref))
    m = metrics_of(pairs)
    for key, value in m.items():
        if key.endswith("parse_fail"):
            assert value == 0, key
        elif not key.startswith("count.") or key in ("count.only", "count.iou25", "count.iou50"):
            assert value is None or value == pytest.approx(100), key


def test_runaway_counts_do_not_crash():
    ref = "There are 4 instances."
    m = metrics_of({"count": [("9" * 155, ref), ("1" * 5000, ref), ("There are 4 instances.", ref)]})
    assert m["count.only"] == pytest.approx(100 / 3)
    assert m["count.mae"] == math.inf and m["count.within1"] == pytest.approx(100 / 3)
    m = metrics_of({"count": [("9" * 155, ref)]})
    assert m["count.mae"] == pytest.approx(1e155) and m["count.rmse"] == pytest.approx(1e155)


def test_repeated_pairs_score_as_fresh_ones():
    """score_texts caches pairs: a pair seen before gives what a fresh parse and match give."""
    from metrics.parsing import _parse_lowered, parse_answer
    from metrics.sample_scores import score_sample, score_texts

    pairs = [
        ("count", "There are 2 instances. " + REF_BOXES[:46], "There are 4 instances. " + REF_BOXES),
        ("refer_multi", REF_BOXES[23:], REF_BOXES),
        ("identify_multi", "This is a small ship located in the top left portion.", "This is a large ship."),
    ]
    for subset, response, reference in pairs * 3:
        _, _, cached = score_texts(subset, response, reference)
        _parse_lowered.cache_clear()
        fresh = score_sample(subset, parse_answer(subset, response), parse_answer(subset, reference))
        assert cached == fresh
    assert score_texts("refer_single", REF_BOXES, "no boxes here")[2] is None  # nothing to score


def test_result_images_resolve_under_root_as_given_or_beside_the_file(tmp_path):
    from sarbench.result_files import load_predictions

    (tmp_path / "root").mkdir()
    (tmp_path / "root" / "a.png").write_bytes(b"x")
    (tmp_path / "b.png").write_bytes(b"x")
    line = {"response": "It is ship.", "labels": "It is ship."}
    rows = [dict(line, images=[name]) for name in ("a.png", "b.png", "c.png", "a.png", "b.png")]
    (tmp_path / "classify.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    by_subset, _, _ = load_predictions([tmp_path], image_root=tmp_path / "root")
    root_a, beside_b = str(tmp_path / "root" / "a.png"), str(tmp_path / "b.png")
    assert [p.image_path() for p in by_subset["classify"]] == [root_a, beside_b, "c.png", root_a, beside_b]
    assert [p.image for p in by_subset["classify"]] == ["a.png", "b.png", "c.png", "a.png", "b.png"]  # found on use
    assert [p.image_file() for p in by_subset["classify"]] == [root_a, beside_b, None, root_a, beside_b]
    os.mkfifo(tmp_path / "d.png")
    in_memory = Prediction("x", "classify", "", "", "m:0", str(tmp_path / "d.png"))  # a run's resolved path
    assert in_memory.image_file() is None and in_memory._replace(image=beside_b).image_file() == beside_b
