"""The 9 SARChat test subsets, their files, and the 6 tasks they belong to (PROTOCOL §1.1)."""
from __future__ import annotations

import re
from pathlib import PurePath

SUBSETS: tuple[str, ...] = (
    "classify",
    "describe",
    "count",
    "grounding_single",
    "grounding_multi",
    "identify_single",
    "identify_multi",
    "refer_single",
    "refer_multi",
)

# Official test-file stem of each subset.
FILE_STEMS: dict[str, str] = {
    "classify": "SARChat_classify_test",
    "describe": "SARChat_describe_test",
    "count": "SARChat_classify_count_test",
    "grounding_single": "SARChat_classify_grounding_single_test",
    "grounding_multi": "SARChat_classify_grounding_multi_test",
    "identify_single": "SARChat_classify_identify_single_test",
    "identify_multi": "SARChat_classify_identify_multi_test",
    "refer_single": "SARChat_classify_refer_single_test",
    "refer_multi": "SARChat_classify_refer_multi_test",
}

TASK_OF_SUBSET: dict[str, str] = {
    "classify": "classify",
    "describe": "describe",
    "count": "count",
    "grounding_single": "grounding",
    "grounding_multi": "grounding",
    "identify_single": "identify",
    "identify_multi": "identify",
    "refer_single": "refer",
    "refer_multi": "refer",
}

TASKS: tuple[str, ...] = ("classify", "describe", "count", "grounding", "identify", "refer")

SUBSETS_OF_TASK: dict[str, tuple[str, ...]] = {
    task: tuple(s for s in SUBSETS if TASK_OF_SUBSET[s] == task) for task in TASKS
}

# Paper test sizes per task (PROTOCOL §1.1): the weights of `avg_paper`.
PAPER_TASK_SIZES: dict[str, int] = {
    "classify": 10_024,
    "describe": 6_032,
    "count": 11_704,
    "grounding": 11_608,
    "identify": 175_565,
    "refer": 11_703,
}

_RESULT_SUFFIXES = (".jsonl", ".json")


def _stem(name: str) -> str:
    base = PurePath(name).name
    for suffix in _RESULT_SUFFIXES:
        if base.lower().endswith(suffix):
            return base[: -len(suffix)]
    return base


def subset_from_filename(name: str) -> str | None:
    """Subset of a data or result file from its name, or None when the name says nothing.

    Accepts `<subset id>.json[l]` and names containing an official stem (of any split), e.g.
    the authors' merged `SARChat_classify_count_test_final_results.jsonl`. Several stems can be
    contained in one name (`SARChat_classify_test` is not a substring of the others, but a
    user's file could contain two); the longest contained stem wins.
    """
    stem = _stem(name)
    if stem in SUBSETS:
        return stem
    lowered = stem.lower()
    # "SARChat_classify_count_" also names other splits (`_val`, as `sarbench.build --split` writes)
    hits = [s for s in SUBSETS if split_file_stem(s, "").lower() in lowered]
    if not hits:
        return None
    return max(hits, key=lambda s: len(FILE_STEMS[s]))


def split_file_stem(subset: str, split: str = "test") -> str:
    """`SARChat_<...>_<split>`: the official stem with another split name."""
    return FILE_STEMS[subset][: -len("test")] + split


def official_file_names(split: str = "test") -> dict[str, str]:
    """File name -> subset of the official files of a split (`.json`, or `.jsonl`)."""
    return {f"{split_file_stem(s, split)}{suffix}": s for s in SUBSETS for suffix in (".json", ".jsonl")}


TAG_PATTERN = re.compile(r"\[(count|grounding|identify|refer)\]", re.ASCII | re.IGNORECASE)
