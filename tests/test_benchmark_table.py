"""The one benchmark table (metrics/benchmark.py) is self-consistent and matches PROTOCOL §1.1."""

from __future__ import annotations

import pytest

from metrics import benchmark
from metrics.aggregate import task_score_arrays, task_scores
from metrics.benchmark import SUBSET_TABLE, TABLE3_COLUMNS, TASK_TABLE
from metrics.parsing import _PARSERS_OF_TASK
from metrics.sample_scores import SCORERS_OF_TASK
from sarbench.build.generators import subset_for
from sarbench.records import route_by_content
from sarbench.subsets import FILE_STEMS, subset_from_filename


def test_every_subset_belongs_to_a_task_that_lists_it():
    for subset in SUBSET_TABLE:
        assert subset.name in benchmark.task(subset.task).subsets
    assert sorted(s for t in TASK_TABLE for s in t.subsets) == sorted(benchmark.SUBSETS)


def test_task_columns_are_exactly_what_its_subsets_produce():
    for task in TASK_TABLE:
        produced = {c for name in task.subsets for c in benchmark.subset(name).columns}
        assert set(task.columns) == produced, task.name
        assert len(set(task.columns)) == len(task.columns)


def test_table3_holds_every_task_column_once():
    assert len(TABLE3_COLUMNS) == 14 == len(set(TABLE3_COLUMNS))
    assert set(TABLE3_COLUMNS) == {c for t in TASK_TABLE for c in t.columns}
    assert TABLE3_COLUMNS[:3] == ("count.only", "count.iou25", "count.iou50")
    assert TABLE3_COLUMNS[-2:] == ("describe.acc", "classify.acc")


def test_file_stems_are_unique_and_recognised():
    stems = [s.file_stem for s in SUBSET_TABLE]
    assert len(set(stems)) == len(stems) == 9
    for subset in SUBSET_TABLE:
        assert FILE_STEMS[subset.name] == subset.file_stem
        assert subset_from_filename(f"{subset.file_stem}.json") == subset.name


def test_paper_sizes_sum_as_protocol_says():
    sizes = {t.name: t.paper_test_size for t in TASK_TABLE}
    assert sizes == {
        "classify": 10_024,
        "describe": 6_032,
        "count": 11_704,
        "grounding": 11_608,
        "identify": 175_565,
        "refer": 11_703,
    }
    assert sum(sizes.values()) == 226_636


def test_field_values_are_from_their_vocabularies():
    for subset in SUBSET_TABLE:
        assert subset.arity in benchmark.ARITIES + (None,)
        assert subset.category_source in benchmark.CATEGORY_SOURCES + (None,)
        assert all(0 < threshold <= 1 for _, threshold in subset.box_metrics)
        assert not subset.labelled_boxes or subset.box_metrics
        assert subset.metrics, subset.name
    for task in TASK_TABLE:
        arities = sorted(benchmark.subset(s).arity or "" for s in task.subsets)
        assert arities in ([""], ["multi", "single"]), task.name
        assert task.unsplit_subset in task.subsets + (None,)
    assert len(benchmark.SUBSETS) == len(set(benchmark.SUBSETS))


def test_every_task_has_a_parser_and_a_scorer():
    assert set(_PARSERS_OF_TASK) == set(benchmark.TASKS) == set(SCORERS_OF_TASK)


def test_untagged_tasks_are_told_apart_by_the_option_list():
    untagged = [t for t in TASK_TABLE if t.prompt_tag is None]
    assert sorted(t.lists_options for t in untagged) == [False, True]
    assert all(len(t.subsets) == 1 for t in untagged)


def test_lookups_name_the_known_entries():
    with pytest.raises(KeyError, match="unknown subset 'nope'.*classify"):
        benchmark.subset("nope")
    with pytest.raises(KeyError, match="unknown task 'nope'"):
        benchmark.task("nope")
    assert benchmark.task_of_tag("REFER").name == "refer"
    assert benchmark.task_of_tag("classify") is None


@pytest.mark.parametrize(
    "question, reference, expected",
    [
        ("<image>\n[refer] Locate 1 ship.", "{<1><2><3><4>} (top left)", "refer_single"),
        ("[Refer] Identify 2 ship.", "{<1><2><3><4>}{<5><6><7><8>}", "refer_multi"),
        ("[grounding] What objects?", "There is a ship {<1><2><3><4>}.", "grounding_single"),
        ("[identify] What is at {<1><2><3><4>}?", "a small ship.", "identify_multi"),
        ("[count] Count the ship.", "There is 1 instance. {<1><2><3><4>}", "count"),
        ("Options (ship, car, tank): what is visible?", "It is ship.", "classify"),
        ("What do you observe?", "A small ship is visible.", "describe"),
    ],
)
def test_routing_by_content_uses_the_table(question, reference, expected):
    assert route_by_content(question, reference) == expected


def test_generator_subsets_follow_the_arity():
    assert subset_for("refer", 1) == "refer_single"
    assert subset_for("grounding", 3) == "grounding_multi"
    assert subset_for("count", 1) == subset_for("count", 5) == "count"


def test_task_scores_scalar_path_is_the_array_path():
    import numpy as np

    metrics = {
        "count.only": 50.0,
        "count.iou25": 40.0,
        "count.iou50": 30.0,
        "grounding.single": 10.0,
        "grounding.multi": 20.0,
        "grounding.abstract": None,
        "classify.acc": 90.0,
    }
    n = {"count": 3, "grounding_single": 1, "grounding_multi": 2, "classify": 4}
    scores = task_scores(metrics, n)
    assert scores["task.count"] == pytest.approx(40.0)
    assert scores["task.grounding"] == pytest.approx(15.0)  # the undefined column is left out
    assert scores["avg"] == pytest.approx((40 * 3 + 15 * 3 + 90 * 4) / 10)
    assert scores["avg_paper"] == pytest.approx((40 * 11_704 + 15 * 11_608 + 90 * 10_024) / 33_336)
    assert "task.refer" not in scores
    arrays = task_score_arrays(
        {k: np.array([np.nan if v is None else v, np.nan]) for k, v in metrics.items()},
        {k: np.array([v, v], dtype=float) for k, v in n.items()},
    )
    assert {k: v[0] for k, v in arrays.items()} == scores  # bit-identical
    assert all(np.isnan(v[1]) for v in arrays.values())  # nothing defined: NaN, not an error
