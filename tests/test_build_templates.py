"""Every answer template, rendered with every slot value, parses to exactly what it was meant to say."""

from __future__ import annotations

import itertools
import json
import random
from collections import Counter

import pytest
from test_build_support import assert_parses_to

from sarbench.build import generators as gen
from sarbench.build import geometry as geo
from sarbench.build import templates as tpl
from sarbench.build.categories import SARCHAT_CATEGORIES
from sarbench.build.geometry import Box

CELLS = [f"{r} {c}" for r in geo.ROWS for c in geo.COLUMNS]
SIZES = ["very small", "small", "medium", "large", "very large"]
SHAPES = ["wide", "square", "tall"]


def test_pool_sizes_match_the_paper():
    assert len(tpl.CLASSIFY_QUESTIONS) == 20 and len(tpl.CLASSIFY_ANSWERS) == 20
    assert len(tpl.DESCRIBE_QUESTIONS) >= 20
    assert len(tpl.COUNT_QUESTIONS) == 15
    assert len(tpl.GROUNDING_QUESTIONS) == 15
    assert len(tpl.IDENTIFY_ANSWERS) == 20 and len(tpl.IDENTIFY_QUESTIONS) == 20
    assert len(tpl.REFER_QUESTIONS) == 30
    for name, pool in tpl.all_pools().items():
        assert len(set(pool)) == len(pool), f"{name} has duplicates"


def test_paper_examples_are_in_the_pools():
    options = gen.OPTIONS_TEXT
    assert f"Based on these category options ({options}), what's visible in this scene?" == (
        "Based on these category options (aircraft, bridge, car, harbor, ship, tank), what's visible in this scene?"
    )
    assert tpl.CLASSIFY_ANSWERS[0].format(categories="ship") == "It is ship."
    assert "What do you observe in this satellite imagery?" in tpl.DESCRIBE_QUESTIONS
    assert tpl.COUNT_QUESTIONS[0].format(category="ship") == "[count] Count the ship in this satellite image."
    assert (
        tpl.GROUNDING_QUESTIONS[0]
        == "[grounding] What objects can you identify in this SAR image and where are they located?"
    )
    assert tpl.IDENTIFY_QUESTIONS[0].format(box="{<294><358><329><427>}") == (
        "[identify] What can you identify within these coordinates: {<294><358><329><427>}?"
    )
    assert tpl.REFER_QUESTIONS[0].format(n=1, category="aircraft") == "[refer] Locate 1 aircraft."
    assert tpl.REFER_QUESTIONS[1].format(n=4, category="ship") == "[refer] Identify 4 ship."
    # Identify: the paper's sentences open the templates; the appendix one is verbatim.
    assert tpl.IDENTIFY_ANSWERS[0].startswith("Examining the {cell} area reveals a {size} {category}.")
    assert gen.identify_answer("ship", Box(300, 10, 400, 60), 512, 512, tpl.IDENTIFY_ANSWERS[2]) == (
        "This is a very small ship located in the top right portion of the image. It appears to be wide in shape."
    )
    assert gen.identify_answer("ship", Box(300, 10, 500, 170), 512, 512, tpl.IDENTIFY_ANSWERS[2]).startswith(
        "This is a medium-sized ship located"
    )


@pytest.mark.parametrize("template", tpl.CLASSIFY_ANSWERS)
def test_classify_answers(template):
    for k in (1, 2, 3, 6):
        for chosen in itertools.combinations(sorted(SARCHAT_CATEGORIES), k):
            assert_parses_to("classify", template.format(categories=gen.join_categories(list(chosen))), set(chosen))


def test_describe_sentences_pair_each_category_with_its_cell():
    rng = random.Random(0)
    for template in tpl.DESCRIBE_FIRST + tpl.DESCRIBE_MORE:
        for category, cell in itertools.product(SARCHAT_CATEGORIES, CELLS):
            for location in _all_locations(cell):
                text = template.format(size=rng.choice(SIZES), category=category, location=location)
                assert_parses_to("describe", text, Counter({(category, cell): 1}))
    for intro in tpl.DESCRIBE_INTROS:
        assert_parses_to(
            "describe",
            intro + " A small ship is visible at the top left of the image.",
            Counter({("ship", "top left"): 1}),
        )


def _all_locations(cell: str) -> list[str]:
    row, col = cell.split(" ")
    phrases = [p.format(row=row, col=col) for p in tpl.LOCATIONS_ANY_CELL]
    if row in tpl.ROW_SYNONYMS:
        phrases.append(tpl.LOCATIONS_ANY_CELL[0].format(row=tpl.ROW_SYNONYMS[row], col=col))
    return phrases + list(tpl.LOCATIONS_OF_CELL.get(cell, ()))


def test_location_phrase_only_draws_from_the_phrases_checked_above():
    rng = random.Random(1)
    for cell in CELLS:
        drawn = {gen.location_phrase(cell, rng) for _ in range(200)}
        assert drawn == set(_all_locations(cell))


@pytest.mark.parametrize("template", tpl.IDENTIFY_ANSWERS)
def test_identify_answers_state_one_cell_size_shape_and_category(template):
    for category, cell, size, shape in itertools.product(SARCHAT_CATEGORIES, CELLS, SIZES, SHAPES):
        text = template.format(
            cell=cell,
            size=size,
            size_sized="medium-sized" if size == "medium" else size,
            shape=shape,
            category=category,
        )
        expected = Counter({("cell", cell): 1, ("size", size): 1, ("shape", shape): 1, ("category", category): 1})
        assert_parses_to("identify_multi", text, expected)


def test_count_answers():
    boxes = [Box(1, 2, 30, 40), Box(5, 6, 70, 80), Box(100, 100, 120, 130)]
    for n in (1, 2, 3):
        text = gen.count_answer(boxes[:n])
        assert text.startswith("There is 1 instance. " if n == 1 else f"There are {n} instances. ")
        assert_parses_to("count", text, (n, [tuple(b) for b in boxes[:n]]))


def test_grounding_relation_sentences_every_phrase_and_number():
    image = gen.PreparedImage(
        "k",
        "images/k.png",
        300,
        300,
        [
            ("ship", Box(0, 280, 10, 290)),
            ("ship", Box(20, 280, 30, 290)),
            ("harbor", Box(280, 280, 300, 300)),
            ("car", Box(100, 100, 110, 110)),
            ("tank", Box(115, 100, 125, 110)),
            ("aircraft", Box(280, 140, 290, 150)),
        ],
    )
    groups = gen.groups_of(image.objects)
    relations = Counter(geo.group_relations(groups, 300, 300))
    assert {r for _, r, _ in relations} == {"near", "far", "left_of", "right_of", "above", "below"}
    labelled = [(c, tuple(b)) for c, bs in groups for b in bs]
    near_phrases = set()
    for seed in range(30):
        text = gen.grounding_answer(image, groups, random.Random(seed))
        near_phrases.update(p for p in tpl.NEAR_PHRASES if f" {p} the " in text)
        assert_parses_to("grounding_multi", text, (labelled, relations))
    assert near_phrases == set(tpl.NEAR_PHRASES)


def test_refer_answer_lists_each_box_with_its_cell():
    boxes = [Box(393, 426, 470, 494), Box(0, 0, 10, 10)]
    text = gen.refer_answer(boxes, 512, 512)
    assert text == "{<393><426><470><494>} (bottom right){<0><0><10><10>} (top left)"
    assert_parses_to("refer_multi", text, [tuple(b) for b in boxes])


def test_records_are_ms_swift_messages():
    record = gen.record("[refer] Locate 1 aircraft.", "{<393><426><470><494>} (bottom right)", "images/a.png")
    assert json.dumps(record) == (
        '{"messages": [{"role": "user", "content": "<image>\\n[refer] Locate 1 aircraft."}, '
        '{"role": "assistant", "content": "{<393><426><470><494>} (bottom right)"}], "images": ["images/a.png"]}'
    )


def test_fast_record_serialisation_equals_json_dumps():
    from sarbench.build.output import record_json

    for record in [
        gen.record("[refer] Locate 1 aircraft.", "{<1><2><3><4>} (top left)", "images/a b.png"),
        gen.record('quote " backslash \\ tab \t newline \n', "ünïcödé ✓ \u2028", "images/é.png"),
        {"images": ["x"], "messages": []},
        {"messages": [{"content": "c", "role": "user"}, {"role": "a", "content": "b"}], "images": []},
    ]:
        assert record_json(record) == json.dumps(record, ensure_ascii=False)
