"""PROTOCOL §3 parsing: golden cases for every lexicon and subset, and properties."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from metrics.parsing import parse_answer


def mentions(parsed):
    return dict(parsed.mentions)


class TestBoxes:
    def test_box_variants(self):
        parsed = parse_answer("refer_multi", "{<1><2><3><4>}{ < 1.5 >< -2 ><30.25><4 > }")
        assert parsed.boxes == ((1, 2, 3, 4), (1.5, -2, 30.25, 4))

    @pytest.mark.parametrize(
        "text",
        ["[1, 2, 3, 4]", '{"bbox_2d": [1,2,3,4]}', "{<1><2><3>}", "(1,2),(3,4)", "{<1><2><3><4.>}", "{<a><2><3><4>}"],
    )
    def test_other_formats_are_not_boxes(self, text):
        assert parse_answer("refer_single", text).failed

    def test_degenerate_box_still_counts(self):
        assert parse_answer("refer_single", "{<5><5><5><9>}").boxes == ((5, 5, 5, 9),)


class TestCategories:
    @pytest.mark.parametrize(
        "text,expected",
        [
            ("It is ship.", {"ship"}),
            ("Ships and AIRPLANES", {"ship", "aircraft"}),
            ("planes, aircrafts, airplane", {"aircraft"}),
            ("harbours and a harbor", {"harbor"}),
            ("cars tanks bridges", {"car", "tank", "bridge"}),
            ("spaceship warships shipyard carrier tanker", set()),
            ("ship-shaped", {"ship"}),
            ("there is no ship", {"ship"}),  # negation is not interpreted
        ],
    )
    def test_classify(self, text, expected):
        parsed = parse_answer("classify", text)
        assert set(parsed.categories) == expected
        assert parsed.failed == (not expected)


class TestGrid:
    @pytest.mark.parametrize(
        "phrase,cell",
        [
            ("top left", "top left"),
            ("upper right", "top right"),
            ("lower left", "bottom left"),
            ("central left", "middle left"),
            ("centre centre", "middle center"),
            ("middle center", "middle center"),
            ("top-left", "top left"),
            ("bottom   right", "bottom right"),
            ("left side", "middle left"),
            ("right side", "middle right"),
            ("top side", "top center"),
            ("top part", "top center"),
            ("upper part", "top center"),
            ("bottom side", "bottom center"),
            ("bottom part", "bottom center"),
            ("lower part", "bottom center"),
            ("central region", "middle center"),
            ("center of the image", "middle center"),
            ("centre of the image", "middle center"),
            ("middle of the image", "middle center"),
            ("image center", "middle center"),
            ("image centre", "middle center"),
            ("bottom center of the image", "bottom center"),
            ("center\n\tof  the image", "middle center"),
        ],
    )
    def test_cells(self, phrase, cell):
        assert mentions(parse_answer("identify_single", f"a ship at the {phrase}.")) == {
            ("category", "ship"): 1,
            ("cell", cell): 1,
        }

    @pytest.mark.parametrize(
        "text", ["center", "top", "left", "the middle", "topleft", "top rightmost", "leftside", "top - left"]
    )
    def test_lone_words_are_not_cells(self, text):
        assert not any(k[0] == "cell" for k in mentions(parse_answer("identify_single", text)))


class TestSizesShapes:
    @pytest.mark.parametrize(
        "text,expected",
        [
            ("very small", {("size", "very small"): 1}),
            ("a small and a very large one", {("size", "small"): 1, ("size", "very large"): 1}),
            ("medium-sized", {("size", "medium"): 1}),
            ("medium  sized", {("size", "medium"): 1}),
            ("medium", {("size", "medium"): 1}),
            ("large", {("size", "large"): 1}),
            ("very-small", {("size", "small"): 1}),
            ("smaller larger", {}),
            ("wide-body and tall-body", {("shape", "wide"): 1, ("shape", "tall"): 1}),
            ("approximately square", {("shape", "square"): 1}),
            (
                "approximately   square, wide, tall",
                {("shape", "square"): 1, ("shape", "wide"): 1, ("shape", "tall"): 1},
            ),
            ("widespread tallest squared", {}),
        ],
    )
    def test_attributes(self, text, expected):
        assert mentions(parse_answer("identify_multi", text)) == expected

    def test_identify_examples(self):
        parsed = parse_answer(
            "identify_multi",
            "This is a medium-sized ship located in the top "
            "right portion of the image. It appears to be wide in shape.",
        )
        assert mentions(parsed) == {
            ("size", "medium"): 1,
            ("category", "ship"): 1,
            ("cell", "top right"): 1,
            ("shape", "wide"): 1,
        }
        parsed = parse_answer("identify_multi", "Present in the middle center area is a very small aircraft.")
        assert mentions(parsed) == {
            ("cell", "middle center"): 1,
            ("size", "very small"): 1,
            ("category", "aircraft"): 1,
        }

    def test_identify_failure(self):
        assert parse_answer("identify_single", "I cannot tell.").failed


class TestNumbersAndCount:
    @pytest.mark.parametrize(
        "text,count",
        [
            ("There are 4 instances. {<294><358><329><427>}", 4),
            ("there   is 1 instance", 1),
            ("There are twenty-one instances", 21),
            ("There are twenty one instances", 21),
            ("There is a single instance.", 1),
            ("There are no instances", 0),
            ("There is none instance", 0),
            ("I count 7 ships. There are 3 instances.", 3),  # the stated form wins
            ("I count 7 ships.", 7),
            ("4ships or 3.5 ships, finally 6.", 6),
            ("It has 12.", 12),
            ("none", 0),
            ("Zero ships", 0),
            ("ninety-nine", 99),
            ("seventeen", 17),
            ("someone has one", 1),
            ("{<1><2><3><4>}{<5><6><7><8>}", 2),  # box coordinates are never numbers
            ("boxes: {<1><2><3><4>} x", 1),
            ("a single", 1),
            ("x1.5", None),
        ],
    )
    def test_count(self, text, count):
        parsed = parse_answer("count", text)
        assert parsed.count == count
        assert parsed.failed == (count is None)

    def test_count_without_anything_fails(self):
        assert parse_answer("count", "").failed
        assert parse_answer("count", None).failed


class TestDescribe:
    def test_paper_example(self):
        text = (
            "In this satellite image, we can observe the following: A small ship is visible in "
            "the bottom left portion of the image There is one more small ship on the left side "
            "of the image Also, we can observe another small ship in the central region of the image."
        )
        assert mentions(parse_answer("describe", text)) == {
            ("ship", "bottom left"): 1,
            ("ship", "middle left"): 1,
            ("ship", "middle center"): 1,
        }

    def test_cell_pairing_rules(self):
        text = "top left here. A ship, then a tank at the bottom right and top left, a car."
        assert mentions(parse_answer("describe", text)) == {
            ("ship", "none"): 1,
            ("tank", "bottom right"): 1,
            ("car", "none"): 1,
        }

    def test_no_category_is_failure(self):
        assert parse_answer("describe", "something at the top left").failed


class TestGrounding:
    def test_boxes_take_last_category(self):
        text = (
            "{<0><0><1><1>} There is a ship in the top right portion {<1><2><3><4>}. "
            "There are 2 tanks: one {<5><6><7><8>}, another {<9><9><19><19>}."
        )
        parsed = parse_answer("grounding_multi", text)
        assert parsed.box_categories == ("none", "ship", "tank", "tank")

    @pytest.mark.parametrize(
        "text,triple",
        [
            ("The ship is far from the aircraft.", ("ship", "far", "aircraft")),
            ("the tanks are near the bridge", ("tank", "near", "bridge")),
            ("ship is close to harbour", ("ship", "near", "harbor")),
            ("The car is next to the tank", ("car", "near", "tank")),
            ("The plane is to the left of the ship", ("aircraft", "left_of", "ship")),
            ("The ship is to  the right of the car", ("ship", "right_of", "car")),
            ("The bridge is above the ship", ("bridge", "above", "ship")),
            ("The ship is below the bridge", ("ship", "below", "bridge")),
        ],
    )
    def test_relations(self, text, triple):
        assert dict(parse_answer("grounding_single", text).relations) == {triple: 1}

    def test_relations_do_not_overlap(self):
        text = "the ship is near the tank is far from the car. The car is above the car"
        assert dict(parse_answer("grounding_multi", text).relations) == {
            ("ship", "near", "tank"): 1,
            ("car", "above", "car"): 1,
        }

    def test_failure(self):
        assert parse_answer("grounding_single", "There is a ship.").failed
        assert not parse_answer("grounding_single", "The ship is near the car.").failed


def test_unknown_subset():
    with pytest.raises(KeyError):
        parse_answer("nope", "x")


@given(st.text(alphabet="abcdefghilmnoprstuvwy -,.{}<>0123456789\n", max_size=80))
def test_parsing_never_crashes_and_is_case_insensitive(text):
    for subset in ("classify", "describe", "count", "grounding_multi", "identify_multi", "refer_multi"):
        assert parse_answer(subset, text) == parse_answer(subset, text.upper())


@given(st.lists(st.tuples(*(st.integers(-50, 999),) * 4), max_size=6))
def test_box_strings_round_trip(boxes):
    text = " (left) ".join("{<%d><%d><%d><%d>}" % b for b in boxes)
    parsed = parse_answer("refer_multi", text)
    assert parsed.boxes == tuple(tuple(float(v) for v in b) for b in boxes)
    counted = parse_answer("count", text)
    assert counted.count == (len(boxes) or None)


# Words and symbols of the relation, category and box grammar, so that hypothesis composes real
# relations ("the ship is far from the car"), near misses and boxes.
RELATION_PIECES = ["the", "ship", "ships", "car", "harbour", "is", "are", "far", "from", "near", "close", "to",
                   "the left of", "next", "above", "below", "this", "{<1><2><30><40>}", "{ < 5 ><6><7><8>}", ".", ",",
                   " ", "  ", "\n", "-", "a"]  # fmt: skip


@given(st.lists(st.sampled_from(RELATION_PIECES), max_size=30).map(" ".join))
def test_fast_paths_find_what_the_full_scans_find(text):
    import metrics.parsing as parsing
    from metrics.lexicon import BOX_RE, RELATION_PHRASES, RELATION_RE, category_of, normalize_phrase

    full = [
        (category_of(m["c1"]), RELATION_PHRASES[normalize_phrase(m["rel"])], category_of(m["c2"]))
        for m in RELATION_RE.finditer(text)
    ]
    assert parsing.find_relations(text) == full  # the hint scan only skips texts with none
    assert parsing.box_values(text) == tuple(tuple(float(v) for v in m.groups()) for m in BOX_RE.finditer(text))
    assert [b for _, b in parsing.find_boxes(text)] == list(parsing.box_values(text))
