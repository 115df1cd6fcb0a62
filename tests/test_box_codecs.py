"""Box codecs: each family's documented native box syntax -> protocol pixels, and round trips."""

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from model_adapters.box_codecs import PROTOCOL_BOX, NormalizedBoxCodec, ResizedPixelJsonCodec, SquareView, smart_resize
from model_adapters.deepseek_vl2 import DEEPSEEK_VL2_BOXES
from model_adapters.generic_boxes import GENERIC_BOXES
from model_adapters.internvl2_5 import INTERNVL_BOXES, tile_grid
from model_adapters.llava1_5 import llava_boxes
from model_adapters.qwen2_vl import QWEN2_VL_BOXES


def boxes(text):
    return [tuple(float(v) for v in m.groups()) for m in PROTOCOL_BOX.finditer(text)]


@pytest.mark.parametrize(
    "codec, native, width, height, expected",
    [
        # Qwen2-VL: (x1,y1),(x2,y2) in [0,1000) of the image; special tokens already skipped.
        (QWEN2_VL_BOXES, "ship(100,200),(300,400)", 1000, 500, "ship{<100><100><300><200>}"),
        (QWEN2_VL_BOXES, "<|box_start|>(0,0),(999,999)<|box_end|>", 512, 512, "{<0><0><511><511>}"),
        # InternVL2.5: <ref>..</ref><box>[[x1, y1, x2, y2]]</box> in [0,1000].
        (INTERNVL_BOXES, "<ref>ship</ref><box>[[500, 250, 1000, 750]]</box>", 800, 400, "ship{<400><100><800><300>}"),
        (
            INTERNVL_BOXES,
            "<box>[[0, 0, 100, 100], [900, 900, 1000, 1000]]</box>",
            1000,
            1000,
            "{<0><0><100><100>}{<900><900><1000><1000>}",
        ),
        # DeepSeek-VL2: <|det|>[[...]]<|/det|> in [0,999]: x / 999 * W.
        (
            DEEPSEEK_VL2_BOXES,
            "<|ref|>ship<|/ref|><|det|>[[0, 0, 999, 999]]<|/det|>",
            640,
            480,
            "ship{<0><0><640><480>}",
        ),
        # LLaVA-1.5: fractions of the padded square (800x400 padded to 800x800, 200 px bars).
        (llava_boxes("pad_square"), "[0.25, 0.25, 0.75, 0.75]", 800, 400, "{<200><0><600><400>}"),
        # ... or of the centre crop (400x400 crop from x=200).
        (llava_boxes("crop_square"), "[0.0, 0.5, 1.0, 1.0]", 800, 400, "{<200><200><600><400>}"),
        # Generic: fractions when all <= 1, else per-mille.
        (GENERIC_BOXES, "A ship [0.1, 0.2, 0.3, 0.4].", 1000, 1000, "A ship {<100><200><300><400>}."),
        (GENERIC_BOXES, "A ship [100, 200, 300, 400].", 500, 500, "A ship {<50><100><150><200>}."),
    ],
)
def test_documented_native_examples_decode_to_protocol_pixels(codec, native, width, height, expected):
    assert codec.decode(native, width, height) == expected


def test_text_around_boxes_and_existing_protocol_boxes_are_kept():
    text = "There are 2 ships: {<1><2><3><4>} and (10,20),(30,40) near the harbor."
    assert (
        QWEN2_VL_BOXES.decode(text, 1000, 1000)
        == "There are 2 ships: {<1><2><3><4>} and {<10><20><30><40>} near the harbor."
    )


def test_decoded_boxes_are_clipped_to_the_image():
    assert boxes(INTERNVL_BOXES.decode("[[-10, 0, 1200, 500]]", 100, 100)) == [(0, 0, 100, 50)]


def test_qwen2_5_vl_json_boxes_are_rescaled_from_the_resized_input():
    codec = ResizedPixelJsonCodec(factor=28, min_pixels=56 * 56, max_pixels=28 * 28 * 16384)
    rw, rh = codec.resized_size(1000, 500)  # 1008 x 504
    assert (rw, rh) == (1008, 504)
    text = 'Found: [{"bbox_2d": [504, 252, 1008, 504], "label": "ship"}]'
    assert codec.decode(text, 1000, 500) == "Found: [ship {<500><250><1000><500>}]"
    assert codec.decode('"bbox_2d": [0, 0, 504, 252]', 1000, 500) == "{<0><0><500><250>}"


@pytest.mark.parametrize(
    "height, width, budget",
    [
        (500, 1000, (28, 3136, 12845056)),
        (17, 3000, (28, 3136, 1003520)),
        (4000, 3000, (28, 3136, 1003520)),
        (30, 30, (28, 3136, 12845056)),
    ],
)
def test_smart_resize_matches_transformers(height, width, budget):
    utils = pytest.importorskip("transformers.models.qwen2_vl.image_processing_qwen2_vl")
    factor, low, high = budget
    assert smart_resize(height, width, factor, low, high) == utils.smart_resize(
        height, width, factor=factor, min_pixels=low, max_pixels=high
    )


ROUND_TRIP = [
    QWEN2_VL_BOXES,
    INTERNVL_BOXES,
    DEEPSEEK_VL2_BOXES,
    GENERIC_BOXES,
    llava_boxes("pad_square"),
    llava_boxes("crop_square"),
    llava_boxes("pad_square", scale=999, fractions_when_at_most_1=True),
    ResizedPixelJsonCodec(max_pixels=1003520),
]


@st.composite
def image_and_box(draw, view="image"):
    width, height = draw(st.integers(16, 2000)), draw(st.integers(16, 2000))
    x1, x2 = sorted(draw(st.lists(st.integers(0, width), min_size=2, max_size=2, unique=True)))
    y1, y2 = sorted(draw(st.lists(st.integers(0, height), min_size=2, max_size=2, unique=True)))
    return width, height, (x1, y1, x2, y2)


def tolerance(codec, width, height):
    """Quantisation of the native grid, in pixels, plus rounding."""
    if isinstance(codec, ResizedPixelJsonCodec):
        rw, rh = codec.resized_size(width, height)
        return max(width / rw, height / rh) + 1
    left, top, fw, fh = codec.view.frame(width, height)
    step = 0.01 if codec.encode_decimals else 1 / codec.scale
    return max(fw, fh) * step + 1


@pytest.mark.parametrize("codec", ROUND_TRIP, ids=lambda c: c.describe()["codec"] + "-" + c.describe().get("view", ""))
@settings(max_examples=60, deadline=None)
@given(case=image_and_box())
def test_encode_then_decode_round_trips_within_the_native_grid(codec, case):
    width, height, box = case
    if isinstance(codec, NormalizedBoxCodec) and codec.view.kind == "crop_square":
        left, top, side, _ = codec.view.frame(width, height)  # a crop sees only part of the image
        box = tuple(min(max(v, lo), lo + side) for v, lo in zip(box, (left, top, left, top)))
    question = "[identify] What is at {<%d><%d><%d><%d>}?" % box
    native = codec.encode(question, width, height)
    assert "{<" not in native and native.startswith("[identify] What is at ")
    back = boxes(codec.decode(native, width, height))
    assert len(back) == 1
    assert max(abs(a - b) for a, b in zip(back[0], box)) <= tolerance(codec, width, height)


def test_encoded_question_boxes_use_each_familys_syntax():
    question = "What is at {<100><50><300><150>}?"
    assert QWEN2_VL_BOXES.encode(question, 1000, 500) == "What is at <|box_start|>(100,100),(300,300)<|box_end|>?"
    assert INTERNVL_BOXES.encode(question, 1000, 500) == "What is at <box>[[100, 100, 300, 300]]</box>?"
    assert DEEPSEEK_VL2_BOXES.encode(question, 999, 999) == "What is at <|det|>[[100, 50, 300, 150]]<|/det|>?"
    assert llava_boxes("pad_square").encode(question, 1000, 500) == "What is at [0.10, 0.30, 0.30, 0.40]?"
    assert GENERIC_BOXES.encode(question, 1000, 500) == "What is at [100, 100, 300, 300]?"
    assert re.fullmatch(
        r'What is at \{"bbox_2d": \[\d+, \d+, \d+, \d+\]\}\?', ResizedPixelJsonCodec().encode(question, 1000, 500)
    )


def test_square_views():
    assert SquareView("image").frame(800, 400) == (0, 0, 800, 400)
    assert SquareView("pad_square").frame(800, 400) == (0, -200, 800, 800)
    assert SquareView("crop_square").frame(800, 400) == (200, 0, 400, 400)


@pytest.mark.parametrize(
    "width, height, grid",
    [
        (512, 512, (1, 1)),
        (800, 800, (2, 2)),
        (1600, 400, (4, 1)),
        (448, 4480, (1, 10)),
        (3000, 3000, (3, 3)),
        (1000, 600, (3, 2)),
    ],
)
def test_internvl_dynamic_tiling_grid(width, height, grid):
    assert tile_grid(width, height) == grid
