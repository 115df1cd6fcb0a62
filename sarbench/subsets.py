"""Which SARChat subset a data or result file holds, from its name (PROTOCOL §1.1).

The subsets themselves are defined once, in `metrics.benchmark`.
"""

from __future__ import annotations

import re
from pathlib import PurePath

from metrics.benchmark import SUBSET_TABLE, SUBSETS, TASKS

__all__ = ["FILE_STEMS", "SUBSETS", "TASKS", "official_file_names", "split_file_stem", "subset_from_filename"]

# Official test-file stem of each subset (from the benchmark table).
FILE_STEMS: dict[str, str] = {s.name: s.file_stem for s in SUBSET_TABLE}

_RESULT_SUFFIXES = (".jsonl", ".json")


_SHARD_SUFFIX = re.compile(r"\.shard-\d+-of-\d+$")


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
    stem = _SHARD_SUFFIX.sub("", _stem(name))  # a sharded run's `<subset>.shard-K-of-N.jsonl`
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
