"""The 9 SARChat subsets generated from one image's kept objects (PROTOCOL §2).

Every choice of template comes from a `TemplateChooser` keyed by (seed, image key, task), so an
image's records depend only on the seed and that image, never on processing order or on other
tasks' pools.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

from metrics import benchmark
from sarbench.build import geometry as geo
from sarbench.build import templates as tpl
from sarbench.build.categories import OPTION_ORDER, SARCHAT_CATEGORIES
from sarbench.build.geometry import Box

OPTIONS_TEXT = ", ".join(OPTION_ORDER)


@dataclass
class PreparedImage:
    key: str  # stable identity for the RNG: the source image path
    path: str  # image path written into records, relative to the output folder
    width: int
    height: int
    objects: list[tuple[str, Box]]  # (SARChat category, box), filtered, in source order


@dataclass(frozen=True)
class Generated:
    subset: str
    record: dict
    categories: tuple[str, ...]  # categories the record is about (for the report)


T = TypeVar("T")


class Chooser(Protocol):
    def choice(self, options: Sequence[T]) -> T: ...


class TemplateChooser:
    """The n-th choice is BLAKE2b(seed, key, task, n) mod len(options).

    A hash stream rather than `random.Random`: it is cheaper to start (one per image and task)
    and its output is fixed by the hash, not by a Python version's RNG internals.
    """

    __slots__ = ("_prefix", "_count")

    def __init__(self, seed: int, key: str, task: str) -> None:
        self._prefix = hashlib.blake2b(f"{seed}\x00{key}\x00{task}".encode(), digest_size=16).digest()
        self._count = 0

    def choice(self, options: Sequence[T]) -> T:
        digest = hashlib.blake2b(self._prefix + self._count.to_bytes(4, "little"), digest_size=8).digest()
        self._count += 1
        return options[int.from_bytes(digest, "little") % len(options)]


def task_rng(seed: int, key: str, task: str) -> TemplateChooser:
    return TemplateChooser(seed, key, task)


def record(question: str, answer: str, image_path: str) -> dict:
    return {
        "messages": [
            {"role": "user", "content": "<image>\n" + question},
            {"role": "assistant", "content": answer},
        ],
        "images": [image_path],
    }


def join_categories(categories: list[str]) -> str:
    """'ship', 'aircraft and ship', 'aircraft, car and ship'."""
    if len(categories) == 1:
        return categories[0]
    return ", ".join(categories[:-1]) + " and " + categories[-1]


def plural(category: str) -> str:
    return category + "s"  # the paper writes "aircrafts"; §3 reads every plural with a final s


def article(word: str) -> str:
    return "an" if word[0] in "aeiou" else "a"


def location_phrase(cell: str, rng: Chooser) -> str:
    row, col = cell.split(" ")
    choices = [p.format(row=row, col=col) for p in tpl.LOCATIONS_ANY_CELL]
    if row in tpl.ROW_SYNONYMS:
        choices.append(tpl.LOCATIONS_ANY_CELL[0].format(row=tpl.ROW_SYNONYMS[row], col=col))
    choices.extend(tpl.LOCATIONS_OF_CELL.get(cell, ()))
    return rng.choice(choices)


def groups_of(objects: list[tuple[str, Box]]) -> list[tuple[str, list[Box]]]:
    """Boxes by category, categories in SARChat order, boxes in source order."""
    by_category: dict[str, list[Box]] = {}
    for category, box in objects:
        by_category.setdefault(category, []).append(box)
    return [(c, by_category[c]) for c in SARCHAT_CATEGORIES if c in by_category]


def subset_for(task: str, n_objects: int) -> str:
    """The subset of `task` for a record about n objects (its arity where the task splits)."""
    names = benchmark.task(task).subsets
    if len(names) == 1:
        return names[0]
    arity = "single" if n_objects == 1 else "multi"
    return next(name for name in names if benchmark.subset(name).arity == arity)


def generate(image: PreparedImage, seed: int) -> Iterator[Generated]:
    groups = groups_of(image.objects)
    yield from _classify(image, groups, seed)
    yield from _describe(image, seed)
    yield from _count(image, groups, seed)
    yield from _grounding(image, groups, seed)
    yield from _identify(image, seed)
    yield from _refer(image, groups, seed)


def _classify(image: PreparedImage, groups, seed: int) -> Iterator[Generated]:
    rng = task_rng(seed, image.key, "classify")
    present = sorted((c for c, _ in groups), key=OPTION_ORDER.index)
    question = rng.choice(tpl.CLASSIFY_QUESTIONS).format(options=OPTIONS_TEXT)
    answer = rng.choice(tpl.CLASSIFY_ANSWERS).format(categories=join_categories(present))
    yield Generated(subset_for("classify", len(present)), record(question, answer, image.path), tuple(present))


def describable_objects(image: PreparedImage) -> list[tuple[str, Box]]:
    return [(c, b) for c, b in image.objects if geo.describable(b, image.width, image.height)]


def _describe(image: PreparedImage, seed: int) -> Iterator[Generated]:
    objects = describable_objects(image)
    if not objects:
        return
    rng = task_rng(seed, image.key, "describe")
    question = rng.choice(tpl.DESCRIBE_QUESTIONS)
    sentences = [rng.choice(tpl.DESCRIBE_INTROS)]
    for i, (category, box) in enumerate(objects):
        pool = tpl.DESCRIBE_FIRST if i == 0 else tpl.DESCRIBE_MORE
        sentences.append(
            rng.choice(pool).format(
                size=geo.size_word(box, image.width, image.height),
                category=category,
                location=location_phrase(geo.grid_cell(box, image.width, image.height), rng),
            )
        )
    # The paper joins the sentences without periods and ends the answer with one.
    answer = sentences[0] + " " + " ".join(sentences[1:]) + "."
    yield Generated(
        subset_for("describe", len(objects)),
        record(question, answer, image.path),
        tuple(sorted({c for c, _ in objects})),
    )


def count_answer(boxes: list[Box]) -> str:
    head = "There is 1 instance." if len(boxes) == 1 else f"There are {len(boxes)} instances."
    return head + " " + "".join(geo.box_text(b) for b in boxes)


def _count(image: PreparedImage, groups, seed: int) -> Iterator[Generated]:
    rng = task_rng(seed, image.key, "count")
    for category, boxes in groups:
        question = rng.choice(tpl.COUNT_QUESTIONS).format(category=category)
        yield Generated(subset_for("count", len(boxes)), record(question, count_answer(boxes), image.path), (category,))


def grounding_answer(image: PreparedImage, groups, rng: Chooser) -> str:
    w, h = image.width, image.height
    single = len(image.objects) == 1
    parts = [tpl.GROUNDING_INTRO_SINGLE if single else tpl.GROUNDING_INTRO_MULTI]
    for category, boxes in groups:
        if len(boxes) == 1:
            box = boxes[0]
            parts.append(
                f"There is {article(category)} {category} in the "
                f"{geo.grid_cell(box, w, h)} portion {geo.box_text(box)}."
            )
        else:
            items = ", ".join(f"one in the {geo.grid_cell(b, w, h)} portion {geo.box_text(b)}" for b in boxes)
            parts.append(f"There are {len(boxes)} {plural(category)}: {items}.")
    sizes = {category: len(boxes) for category, boxes in groups}
    for first, relation, second in geo.group_relations(groups, w, h):
        subject = first if sizes[first] == 1 else plural(first)
        verb = "is" if sizes[first] == 1 else "are"
        target = second if sizes[second] == 1 else plural(second)
        phrase = rng.choice(tpl.NEAR_PHRASES) if relation == "near" else tpl.RELATION_PHRASE[relation]
        parts.append(f"The {subject} {verb} {phrase} the {target}.")
    return " ".join(parts)


def _grounding(image: PreparedImage, groups, seed: int) -> Iterator[Generated]:
    rng = task_rng(seed, image.key, "grounding")
    subset = subset_for("grounding", len(image.objects))
    question = rng.choice(tpl.GROUNDING_QUESTIONS)
    answer = grounding_answer(image, groups, rng)
    yield Generated(subset, record(question, answer, image.path), tuple(c for c, _ in groups))


def identify_answer(category: str, box: Box, width: int, height: int, template: str) -> str:
    size = geo.size_word(box, width, height)
    return template.format(
        cell=geo.grid_cell(box, width, height),
        size=size,
        size_sized="medium-sized" if size == "medium" else size,
        shape=geo.shape_word(box),
        category=category,
    )


def _identify(image: PreparedImage, seed: int) -> Iterator[Generated]:
    rng = task_rng(seed, image.key, "identify")
    subset = subset_for("identify", len(image.objects))
    for category, box in image.objects:
        question = rng.choice(tpl.IDENTIFY_QUESTIONS).format(box=geo.box_text(box))
        answer = identify_answer(category, box, image.width, image.height, rng.choice(tpl.IDENTIFY_ANSWERS))
        yield Generated(subset, record(question, answer, image.path), (category,))


def refer_answer(boxes: list[Box], width: int, height: int) -> str:
    return "".join(f"{geo.box_text(b)} ({geo.grid_cell(b, width, height)})" for b in boxes)


def _refer(image: PreparedImage, groups, seed: int) -> Iterator[Generated]:
    rng = task_rng(seed, image.key, "refer")
    for category, boxes in groups:
        subset = subset_for("refer", len(boxes))
        question = rng.choice(tpl.REFER_QUESTIONS).format(n=len(boxes), category=category)
        answer = refer_answer(boxes, image.width, image.height)
        yield Generated(subset, record(question, answer, image.path), (category,))
