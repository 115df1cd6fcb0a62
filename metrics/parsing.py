"""PROTOCOL §3: what is read from a reference or a response, per subset.

One parser serves references and predictions alike. Parsed values are immutable (tuples,
sorted item counts) so results can be cached: templated references and model outputs repeat
a lot, and caching them is the main reason scoring 226k samples takes seconds.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache

from metrics import benchmark
from metrics.lexicon import (
    ATTRIBUTE_OF_PHRASE,
    ATTRIBUTE_RE,
    BOX_RE,
    CATEGORY_RE,
    GRID_PHRASES,
    GRID_RE,
    NUMBER_RE,
    NUMBER_WORDS,
    RELATION_HINT_RE,
    RELATION_PHRASES,
    RELATION_RE,
    THERE_ARE_RE,
    category_of,
    normalize_phrase,
)

Box = tuple[float, float, float, float]
Multiset = tuple[tuple[object, int], ...]  # sorted (item, multiplicity) pairs


def multiset(items) -> Multiset:
    return tuple(sorted(Counter(items).items(), key=repr))


@dataclass(frozen=True)
class Parsed:
    """What one text says for its subset. Unused fields stay empty."""

    subset: str
    categories: frozenset[str] = frozenset()  # classify
    mentions: Multiset = ()  # describe: (category, cell) ; identify: (attribute, value)
    count: int | None = None  # count
    boxes: tuple[Box, ...] = ()  # count, refer, grounding (parallel to box_categories)
    box_categories: tuple[str, ...] = ()  # grounding: category of each box or "none"
    relations: Multiset = ()  # grounding: (c1, rel, c2)
    failed: bool = False  # parse failure as defined per subset


def _text(text: str | None) -> str:
    return "" if text is None else text.lower()


def find_boxes(text: str) -> list[tuple[int, Box]]:
    """(start offset, box) for every `{<x1><y1><x2><y2>}` in lower-cased text."""
    return [(m.start(), tuple(map(float, m.groups()))) for m in BOX_RE.finditer(text)]


def box_values(text: str) -> tuple[Box, ...]:
    """The boxes of `find_boxes` without their offsets (findall builds no match objects)."""
    return tuple([tuple(map(float, groups)) for groups in BOX_RE.findall(text)])


def find_categories(text: str) -> list[tuple[int, int, str]]:
    return [(m.start(), m.end(), category_of(m.group())) for m in CATEGORY_RE.finditer(text)]


def find_cells(text: str) -> list[tuple[int, str]]:
    return [(m.start(), GRID_PHRASES[normalize_phrase(m.group())]) for m in GRID_RE.finditer(text)]


def find_relations(text: str) -> list[tuple[str, str, str]]:
    if RELATION_HINT_RE.search(text) is None:  # the usual case, found ~5x faster
        return []
    return [
        (category_of(m["c1"]), RELATION_PHRASES[normalize_phrase(m["rel"])], category_of(m["c2"]))
        for m in RELATION_RE.finditer(text)
    ]


def _number_value(match) -> int:
    if match["int"] is not None:
        return parse_digits(match["int"])
    return NUMBER_WORDS[normalize_phrase(match["word"])]


RUNAWAY_DIGITS = 4_299  # Python's own int/str limit is 4,300 digits (details stay writable)


def parse_digits(digits: str) -> int:
    """Exact int of a digit string of up to RUNAWAY_DIGITS significant digits, in linear time.

    A longer number (a looping greedy decode) is a runaway: it becomes 10**4299 + h * 10**400,
    h a 128-bit hash of its digits. Its metrics are those of its exact value whenever the other
    count is below 10**4298: never equal, |error| far beyond float range (mae/rmse inf, not
    within 1). Two identical runaways stay equal and two different ones differ (by >= 10**400),
    so only two different runaways closer than 1e308 to each other would score differently.
    Exact conversion would cost minutes for ten million digits (CPython's int() is quadratic).
    """
    significant = digits.lstrip("0")
    if len(significant) <= RUNAWAY_DIGITS:
        return int(significant) if significant else 0
    digest = hashlib.blake2b(significant.encode("ascii"), digest_size=16).digest()
    return 10**RUNAWAY_DIGITS + int.from_bytes(digest, "big") * 10**400


def find_count(text: str, n_boxes: int) -> int | None:
    """§3 count: `there is/are N instance(s)`, else the first number, else the box count."""
    without_boxes = BOX_RE.sub(" ", text)
    stated = THERE_ARE_RE.search(without_boxes)
    if stated is not None:
        return _number_value(stated)
    first = NUMBER_RE.search(without_boxes)
    if first is not None:
        return _number_value(first)
    return n_boxes if n_boxes > 0 else None


def parse_classify(text: str) -> Parsed:
    categories = frozenset(c for _, _, c in find_categories(text))
    return Parsed("classify", categories=categories, failed=not categories)


def parse_describe(text: str) -> Parsed:
    categories = find_categories(text)
    cells = find_cells(text)
    pairs = []
    next_cell = 0
    for i, (_, end, category) in enumerate(categories):
        limit = categories[i + 1][0] if i + 1 < len(categories) else len(text) + 1
        while next_cell < len(cells) and cells[next_cell][0] < end:
            next_cell += 1
        cell = "none"
        if next_cell < len(cells) and cells[next_cell][0] < limit:
            cell = cells[next_cell][1]
        pairs.append((category, cell))
    return Parsed("describe", mentions=multiset(pairs), failed=not pairs)


def parse_count(text: str) -> Parsed:
    boxes = box_values(text)
    count = find_count(text, len(boxes))
    return Parsed("count", count=count, boxes=boxes, failed=count is None)


def parse_grounding(text: str, subset: str = "grounding") -> Parsed:
    categories = find_categories(text)
    labelled = []
    i = 0
    current = "none"
    for start, box in find_boxes(text):
        while i < len(categories) and categories[i][0] < start:
            current = categories[i][2]
            i += 1
        labelled.append((current, box))
    relations = find_relations(text)
    return Parsed(
        subset,
        boxes=tuple(b for _, b in labelled),
        box_categories=tuple(c for c, _ in labelled),
        relations=multiset(relations),
        failed=not labelled and not relations,
    )


def parse_identify(text: str, subset: str = "identify") -> Parsed:
    mentions = []
    for m in ATTRIBUTE_RE.finditer(text):
        if m["category"] is not None:
            mentions.append(("category", category_of(m["category"])))
        else:
            mentions.append(ATTRIBUTE_OF_PHRASE[normalize_phrase(m["phrase"])])
    return Parsed(subset, mentions=multiset(mentions), failed=not mentions)


def parse_refer(text: str, subset: str = "refer") -> Parsed:
    boxes = box_values(text)
    return Parsed(subset, boxes=boxes, failed=not boxes)


# Parser of each task (metrics.benchmark), called with the lowered text and the subset id.
_PARSERS_OF_TASK = {
    "classify": lambda text, _subset: parse_classify(text),
    "describe": lambda text, _subset: parse_describe(text),
    "count": lambda text, _subset: parse_count(text),
    "grounding": parse_grounding,
    "identify": parse_identify,
    "refer": parse_refer,
}


@lru_cache(maxsize=1 << 17)
def _parse_lowered(subset: str, lowered: str) -> Parsed:
    return _PARSERS_OF_TASK[benchmark.subset(subset).task](lowered, subset)


def parse_answer(subset: str, text: str | None) -> Parsed:
    """Parse a reference or a response of `subset` (a missing/None text is the empty string)."""
    benchmark.subset(subset)  # KeyError naming the known subsets
    return _parse_lowered(subset, _text(text))
