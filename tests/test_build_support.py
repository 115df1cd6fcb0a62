"""Helpers for the builder tests: a small independent reading of PROTOCOL §3 and a build checker.

The mini parser covers the phrases the builder can emit plus their §3 synonyms; it is kept apart
from `metrics.parsing` on purpose, so the generated references are checked by two readings.
The tests at the bottom pin the mini parser to the paper's verbatim examples.
"""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from pathlib import Path

from sarbench.build import geometry as geo
from sarbench.build.generators import groups_of
from sarbench.build.output import subset_file_name
from sarbench.subsets import SUBSETS

_F = re.ASCII
_CATEGORY = {
    "ship": "ship",
    "aircraft": "aircraft",
    "plane": "aircraft",
    "airplane": "aircraft",
    "car": "car",
    "tank": "tank",
    "bridge": "bridge",
    "harbor": "harbor",
    "harbour": "harbor",
}
_ROW = {
    "top": "top",
    "upper": "top",
    "middle": "middle",
    "center": "middle",
    "centre": "middle",
    "central": "middle",
    "bottom": "bottom",
    "lower": "bottom",
}
_COL = {"left": "left", "center": "center", "centre": "center", "right": "right"}
_GRID = {f"{r}{sep}{c}": f"{_ROW[r]} {_COL[c]}" for r in _ROW for c in _COL for sep in (" ", "-")}
_GRID.update(
    {
        "left side": "middle left",
        "right side": "middle right",
        "top side": "top center",
        "top part": "top center",
        "upper part": "top center",
        "bottom side": "bottom center",
        "bottom part": "bottom center",
        "lower part": "bottom center",
        "central region": "middle center",
        "center of the image": "middle center",
        "centre of the image": "middle center",
        "middle of the image": "middle center",
        "image center": "middle center",
        "image centre": "middle center",
    }
)
_SIZE = {
    "very small": "very small",
    "small": "small",
    "medium": "medium",
    "medium-sized": "medium",
    "medium sized": "medium",
    "large": "large",
    "very large": "very large",
}
_SHAPE = {
    "wide": "wide",
    "wide-body": "wide",
    "square": "square",
    "approximately square": "square",
    "tall": "tall",
    "tall-body": "tall",
}
_REL = {
    "far from": "far",
    "near": "near",
    "close to": "near",
    "next to": "near",
    "to the left of": "left_of",
    "to the right of": "right_of",
    "above": "above",
    "below": "below",
}


def _alternation(phrases) -> str:
    ordered = sorted(phrases, key=len, reverse=True)
    return "|".join(r"\s+".join(map(re.escape, p.split(" "))) for p in ordered)


_CAT_ALT = "|".join(sorted((w + "s?" for w in _CATEGORY), key=len, reverse=True))
CATEGORY_RE = re.compile(rf"\b(?:{_CAT_ALT})\b", _F)
GRID_RE = re.compile(rf"\b(?:{_alternation(_GRID)})\b", _F)
ATTR_RE = re.compile(rf"\b(?:(?P<cat>{_CAT_ALT})|(?P<p>{_alternation({**_GRID, **_SIZE, **_SHAPE})}))\b", _F)
BOX_RE = re.compile(
    r"\{\s*<\s*(-?\d+(?:\.\d+)?)\s*>\s*<\s*(-?\d+(?:\.\d+)?)\s*>\s*<\s*(-?\d+(?:\.\d+)?)\s*>\s*<\s*(-?\d+(?:\.\d+)?)\s*>\s*\}",
    _F,
)
COUNT_RE = re.compile(r"\bthere\s+(?:is|are)\s+(\d+)\s+instances?\b", _F)
REL_RE = re.compile(
    rf"(?:the\s+)?\b(?P<a>{_CAT_ALT})\b\s+(?:is|are)\s+(?P<r>{_alternation(_REL)})\s+(?:the\s+)?\b(?P<b>{_CAT_ALT})\b",
    _F,
)


def _cat(word: str) -> str:
    return _CATEGORY.get(word) or _CATEGORY[word[:-1]]


def _norm(phrase: str) -> str:
    return " ".join(phrase.split())


def boxes(text: str) -> list[tuple[int, int, int, int]]:
    return [tuple(int(float(v)) for v in m.groups()) for m in BOX_RE.finditer(text.lower())]


def parse(subset: str, text: str):
    """What §3 reads from a text, as plain Python values; None marks a parse failure."""
    t = text.lower()
    task = subset.split("_")[0]
    if task == "classify":
        return {_cat(m.group()) for m in CATEGORY_RE.finditer(t)} or None
    if task == "describe":
        cats = [(m.start(), m.end(), _cat(m.group())) for m in CATEGORY_RE.finditer(t)]
        cells = [(m.start(), _GRID[_norm(m.group())]) for m in GRID_RE.finditer(t)]
        out = Counter()
        for i, (_, end, cat) in enumerate(cats):
            limit = cats[i + 1][0] if i + 1 < len(cats) else len(t) + 1
            out[(cat, next((c for s, c in cells if end <= s < limit), "none"))] += 1
        return out or None
    if task == "count":
        m = COUNT_RE.search(BOX_RE.sub(" ", t))
        return None if m is None else (int(m.group(1)), boxes(t))
    if task == "grounding":
        cats = [(m.start(), _cat(m.group())) for m in CATEGORY_RE.finditer(t)]
        labelled = []
        for m in BOX_RE.finditer(t):
            before = [c for s, c in cats if s < m.start()]
            labelled.append((before[-1] if before else "none", tuple(int(float(v)) for v in m.groups())))
        relations = Counter((_cat(m["a"]), _REL[_norm(m["r"])], _cat(m["b"])) for m in REL_RE.finditer(t))
        return (labelled, relations) if labelled or relations else None
    if task == "identify":
        out = Counter()
        for m in ATTR_RE.finditer(t):
            if m["cat"]:
                out[("category", _cat(m["cat"]))] += 1
            else:
                p = _norm(m["p"])
                kind = "cell" if p in _GRID else "size" if p in _SIZE else "shape"
                out[(kind, {**_GRID, **_SIZE, **_SHAPE}[p])] += 1
        return out or None
    if task == "refer":
        return boxes(t) or None
    raise KeyError(subset)


def protocol_parse(subset: str, text: str):
    """The project's own §3 parser (`metrics.parsing`), converted to the mini parser's values;
    None when that module is not importable."""
    try:
        from metrics.parsing import parse_answer
    except ImportError:
        return None
    p = parse_answer(subset, text)
    if p.failed:
        return "failed"
    task = subset.split("_")[0]
    as_ints = [tuple(int(v) for v in b) for b in p.boxes]
    return {
        "classify": lambda: set(p.categories),
        "describe": lambda: Counter(dict(p.mentions)),
        "identify": lambda: Counter(dict(p.mentions)),
        "count": lambda: (p.count, as_ints),
        "grounding": lambda: (list(zip(p.box_categories, as_ints)), Counter(dict(p.relations))),
        "refer": lambda: as_ints,
    }[task]()


def assert_parses_to(subset: str, text: str, expected) -> None:
    """Both readings of §3 (the mini parser and, when present, metrics.parsing) give `expected`."""
    assert parse(subset, text) == expected, text
    lead = protocol_parse(subset, text)
    assert lead is None or lead == expected, (text, lead)


# --- the build checker -------------------------------------------------------------------------


def expected_images(images: list[dict]) -> dict[str, dict]:
    """Source images (simple-JSONL dicts, SARChat category names) after the paper's filters,
    keyed by their output path: {path: {"width", "height", "objects": [(category, Box)]}}."""
    out = {}
    for image in images:
        w, h = image["width"], image["height"]
        if geo.image_too_small(w, h):
            continue
        kept = []
        for obj in image["objects"]:
            box = geo.to_pixel_box(*obj["bbox"])
            if not (geo.degenerate(box) or geo.out_of_bounds(box, w, h) or geo.too_elongated(box)):
                kept.append((obj["category"], box))
        if kept:
            path = image["image"] if image["image"].startswith("images/") else "images/" + image["image"]
            out[path] = {"width": w, "height": h, "objects": kept}
    return out


def load_build(out: Path) -> dict[str, list[dict]]:
    return {s: json.loads((out / subset_file_name(s, "test")).read_text(encoding="utf-8")) for s in SUBSETS}


def _texts(record: dict) -> tuple[str, str]:
    user, assistant = record["messages"]
    assert user["role"] == "user" and assistant["role"] == "assistant"
    assert user["content"].startswith("<image>\n")
    return user["content"][len("<image>\n") :], assistant["content"]


TAGS = {"count": "[count] ", "grounding": "[grounding] ", "identify": "[identify] ", "refer": "[refer] "}


def check_build(out: Path, expected: dict[str, dict], check_images: bool = True) -> dict[str, int]:
    """Assert that every record of the build at `out` says exactly what the boxes imply."""
    built = load_build(out)
    seen = defaultdict(lambda: defaultdict(list))
    for subset, records in built.items():
        task = subset.split("_")[0]
        for record in records:
            question, answer = _texts(record)
            assert question.startswith(TAGS.get(task, "")) and (task in TAGS or not question.startswith("["))
            (path,) = record["images"]
            assert not Path(path).is_absolute() and path.startswith("images/")
            if check_images:
                assert (out / path).is_file(), path
            parsed = parse(subset, answer)
            assert parsed is not None, (subset, answer)
            assert protocol_parse(subset, answer) in (None, parsed), (subset, answer)
            seen[path][subset].append((question, answer, parsed))
    assert set(seen) == set(expected), set(seen) ^ set(expected)
    for path, image in expected.items():
        _check_image(seen[path], image)
    return {s: len(r) for s, r in built.items()}


def _check_image(records: dict, image: dict) -> None:
    w, h, objects = image["width"], image["height"], image["objects"]
    groups = groups_of(objects)
    categories = {c for c, _ in objects}
    (classify,) = records["classify"]
    assert classify[2] == categories
    describable = [(c, b) for c, b in objects if geo.describable(b, w, h)]
    if describable:
        (describe,) = records["describe"]
        assert describe[2] == Counter((c, geo.grid_cell(b, w, h)) for c, b in describable)
        assert describe[1].count(".") == 1 and describe[1].endswith(".")  # sentences joined without periods
    else:
        assert not records["describe"]
    category_of_box = {b: c for c, b in objects}
    counts = {}
    for question, _, (n, listed) in records["count"]:
        category = category_of_box[listed[0]]
        assert f" {category} " in question
        counts[category] = (n, listed)
    assert counts == {c: (len(bs), list(bs)) for c, bs in groups}
    single = len(objects) == 1
    (grounding,) = records["grounding_single" if single else "grounding_multi"]
    assert not records["grounding_multi" if single else "grounding_single"]
    labelled, relations = grounding[2]
    assert labelled == [(c, b) for c, bs in groups for b in bs]
    assert relations == Counter(geo.group_relations(groups, w, h))
    identify = records["identify_single" if single else "identify_multi"]
    assert not records["identify_multi" if single else "identify_single"]
    asked = []
    for question, _, attributes in identify:
        (box,) = boxes(question)
        category = category_of_box[box]
        asked.append(box)
        assert attributes == Counter(
            {
                ("cell", geo.grid_cell(geo.Box(*box), w, h)): 1,
                ("size", geo.size_word(geo.Box(*box), w, h)): 1,
                ("shape", geo.shape_word(geo.Box(*box))): 1,
                ("category", category): 1,
            }
        )
    assert sorted(asked) == sorted(b for _, b in objects)
    refer = {}
    for subset in ("refer_single", "refer_multi"):
        for question, answer, listed in records[subset]:
            n, named = re.search(r"(\d+) (\w+)", question).groups()
            category = category_of_box[listed[0]]
            assert named == category and int(n) == len(listed) and (subset == "refer_single") == (len(listed) == 1)
            cells = re.findall(r"\} \(([a-z]+ [a-z]+)\)", answer)
            assert cells == [geo.grid_cell(geo.Box(*b), w, h) for b in listed]
            refer[category] = listed
    assert refer == {c: list(bs) for c, bs in groups}


# --- the mini parser against the paper's verbatim examples ---------------------------------------


def test_mini_parser_reads_the_paper_examples():
    assert parse("classify", "It is ship.") == {"ship"}
    text = (
        "In this satellite image, we can observe the following: A small ship is visible in the bottom left portion "
        "of the image There is one more small ship on the left side of the image Also, we can observe another "
        "small ship in the central region of the image."
    )
    assert parse("describe", text) == Counter(
        {("ship", "bottom left"): 1, ("ship", "middle left"): 1, ("ship", "middle center"): 1}
    )
    assert parse("count", "There are 4 instances. {<294><358><329><427>}{<61><448><122><503>}") == (
        4,
        [(294, 358, 329, 427), (61, 448, 122, 503)],
    )
    assert parse("identify_multi", "Examining the bottom center area reveals a very small ship.") == Counter(
        {("cell", "bottom center"): 1, ("size", "very small"): 1, ("category", "ship"): 1}
    )
    labelled, relations = parse(
        "grounding_multi",
        "There is a ship in the top right portion {<1><2><3><4>}. The ship is far from the aircrafts.",
    )
    assert labelled == [("ship", (1, 2, 3, 4))] and relations == Counter({("ship", "far", "aircraft"): 1})
    assert parse("refer_multi", "{<294><358><329><427>} (bottom center){<61><448><122><503>} (bottom left)") == [
        (294, 358, 329, 427),
        (61, 448, 122, 503),
    ]
    assert parse("identify_single", "It is in the middle. Nothing else.") is None
