"""The SARChat-Bench test set as one table: its 9 subsets and the 6 tasks they score (PROTOCOL §1.1, §4).

Everything else (file names, parsers, scorers, pooling, task scores, report columns, routing of
unnamed records, breakdowns) looks subsets and tasks up here. Adding a subset of an existing task
is one `Subset` entry; a new task also needs its parser (metrics/parsing.py) and its scorer
(metrics/sample_scores.py), both keyed by the task name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace


@dataclass(frozen=True)
class Subset:
    name: str  # subset id: sample ids are `<name>/<index>`
    task: str
    file_stem: str  # official test file without its extension
    label: str  # short human label (table headers)
    answer_metric: str | None = None  # scored from the categories/mentions of the answer
    box_metrics: tuple[tuple[str, float], ...] = ()  # (metric id, IoU threshold) of box matching
    relation_metric: str | None = None  # scored from relation sentences, where a reference has some
    labelled_boxes: bool = False  # a predicted box matches a reference box only with the same category
    states_count: bool = False  # the answer states a number: count.only and the count errors
    captioned: bool = False  # the corpus-level caption metrics (BLEU, CIDEr, ...) apply
    category_source: str | None = None  # per-category breakdown: "reference", "question" or "boxes"
    arity: str | None = None  # "single"/"multi": one object (of the asked category) or several

    @property
    def metrics(self) -> tuple[str, ...]:
        """The pooled TP/FP/FN metric ids its samples carry (relation metric: only some samples)."""
        ids = [self.answer_metric] + [m for m, _ in self.box_metrics] + [self.relation_metric]
        return tuple(m for m in ids if m is not None)

    @property
    def columns(self) -> tuple[str, ...]:
        """Task-score columns it contributes to (its pooled metrics, and count.only)."""
        return self.metrics + ((EXACT_COUNT_METRIC,) if self.states_count else ())


@dataclass(frozen=True)
class Task:
    name: str
    label: str  # human label (plots)
    columns: tuple[str, ...]  # paper Eq. 4 subtask columns, in the paper's Table 3 order
    paper_test_size: int  # PROTOCOL §1.1: the weight of the task in avg_paper
    prompt_tag: str | None = None  # questions start with `[<tag>]`; None: untagged
    lists_options: bool = False  # untagged questions that list the category options
    unsplit_subset: str | None = None  # where a record goes when nothing tells single from multi
    subsets: tuple[str, ...] = field(default=())  # filled in from SUBSET_TABLE


EXACT_COUNT_METRIC = "count.only"
COUNT_ERROR_METRICS = ("count.mae", "count.rmse", "count.within1")
CAPTION_METRICS = ("bleu1", "bleu2", "bleu3", "bleu4", "cider", "rouge_l", "meteor")
CATEGORY_SOURCES = ("reference", "question", "boxes")
ARITIES = ("single", "multi")


def _refer(arity: str, file_stem: str, label: str) -> Subset:
    prefix = f"refer.{arity}"
    return Subset(
        f"refer_{arity}",
        "refer",
        file_stem,
        label,
        box_metrics=((f"{prefix}.iou25", 0.25), (f"{prefix}.iou50", 0.5)),
        category_source="question",
        arity=arity,
    )


SUBSET_TABLE: tuple[Subset, ...] = (
    Subset(
        "classify",
        "classify",
        "SARChat_classify_test",
        "classify",
        answer_metric="classify.acc",
        category_source="reference",
    ),
    Subset("describe", "describe", "SARChat_describe_test", "describe", answer_metric="describe.acc", captioned=True),
    Subset(
        "count",
        "count",
        "SARChat_classify_count_test",
        "count",
        box_metrics=(("count.iou25", 0.25), ("count.iou50", 0.5)),
        states_count=True,
        category_source="question",
    ),
    Subset(
        "grounding_single",
        "grounding",
        "SARChat_classify_grounding_single_test",
        "ground. single",
        box_metrics=(("grounding.single", 0.5),),
        relation_metric="grounding.abstract",
        labelled_boxes=True,
        category_source="boxes",
        arity="single",
    ),
    Subset(
        "grounding_multi",
        "grounding",
        "SARChat_classify_grounding_multi_test",
        "ground. multi",
        box_metrics=(("grounding.multi", 0.5),),
        relation_metric="grounding.abstract",
        labelled_boxes=True,
        category_source="boxes",
        arity="multi",
    ),
    Subset(
        "identify_single",
        "identify",
        "SARChat_classify_identify_single_test",
        "ident. single",
        answer_metric="identify.single",
        arity="single",
    ),
    Subset(
        "identify_multi",
        "identify",
        "SARChat_classify_identify_multi_test",
        "ident. multi",
        answer_metric="identify.multi",
        arity="multi",
    ),
    _refer("single", "SARChat_classify_refer_single_test", "refer single"),
    _refer("multi", "SARChat_classify_refer_multi_test", "refer multi"),
)

_TASKS_WITHOUT_SUBSETS: tuple[Task, ...] = (
    Task("classify", "Classification", ("classify.acc",), 10_024, lists_options=True),
    Task("describe", "Description", ("describe.acc",), 6_032),
    Task("count", "Counting", ("count.only", "count.iou25", "count.iou50"), 11_704, prompt_tag="count"),
    Task(
        "grounding",
        "Spatial grounding",
        ("grounding.abstract", "grounding.multi", "grounding.single"),
        11_608,
        prompt_tag="grounding",
    ),
    # one record cannot tell (the image's object count is not in it): the paper's bulk is multi
    Task(
        "identify",
        "Cross-modal ID",
        ("identify.multi", "identify.single"),
        175_565,
        prompt_tag="identify",
        unsplit_subset="identify_multi",
    ),
    Task(
        "refer",
        "Referring",
        ("refer.multi.iou25", "refer.multi.iou50", "refer.single.iou25", "refer.single.iou50"),
        11_703,
        prompt_tag="refer",
    ),
)

TASK_TABLE: tuple[Task, ...] = tuple(
    replace(t, subsets=tuple(s.name for s in SUBSET_TABLE if s.task == t.name)) for t in _TASKS_WITHOUT_SUBSETS
)

SUBSETS: tuple[str, ...] = tuple(s.name for s in SUBSET_TABLE)
TASKS: tuple[str, ...] = tuple(t.name for t in TASK_TABLE)
_SUBSET_BY_NAME = {s.name: s for s in SUBSET_TABLE}
_TASK_BY_NAME = {t.name: t for t in TASK_TABLE}

# The paper's Table 3 after Avg: the tasks' columns in this task order (with "avg": 15 columns).
TABLE3_TASK_ORDER = ("count", "grounding", "identify", "refer", "describe", "classify")
TABLE3_COLUMNS: tuple[str, ...] = tuple(c for t in TABLE3_TASK_ORDER for c in _TASK_BY_NAME[t].columns)

# `[count]`, `[grounding]`, ... anywhere in a question; group 1 is the tag.
PROMPT_TAG_PATTERN = re.compile(
    r"\[(" + "|".join(re.escape(t.prompt_tag) for t in TASK_TABLE if t.prompt_tag) + r")\]", re.ASCII | re.IGNORECASE
)


def subset(name: str) -> Subset:
    """The table entry of a subset id; KeyError naming the known ids otherwise."""
    try:
        return _SUBSET_BY_NAME[name]
    except KeyError:
        raise KeyError(f"unknown subset {name!r}; expected one of {sorted(SUBSETS)}") from None


def task(name: str) -> Task:
    """The table entry of a task name; KeyError naming the known tasks otherwise."""
    try:
        return _TASK_BY_NAME[name]
    except KeyError:
        raise KeyError(f"unknown task {name!r}; expected one of {list(TASKS)}") from None


def task_of_tag(tag: str) -> Task | None:
    """The task whose questions carry `[tag]` (case-insensitive), or None."""
    return next((t for t in TASK_TABLE if t.prompt_tag == tag.lower()), None)
