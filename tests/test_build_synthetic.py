"""Synthetic SAR scenes (exact boxes, determinism, PNG) and the bundled sample built from them."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
from PIL import Image
from test_build_support import check_build, expected_images, load_build, parse

from sarbench.build import sample_data_dir
from sarbench.build import synthetic as syn
from sarbench.build.geometry import Box
from sarbench.build.png import encode_gray_png
from sarbench.build.sample import SAMPLE_DIR, regenerate
from sarbench.subsets import SUBSETS


def test_png_writer_round_trips_through_pillow():
    pixels = np.random.default_rng(0).integers(0, 256, size=(37, 53), dtype=np.uint8)
    with Image.open(io.BytesIO(encode_gray_png(pixels))) as image:
        assert image.mode == "L" and np.array_equal(np.asarray(image), pixels)


@pytest.mark.parametrize("flips", [(fx, fy, t) for fx in (0, 1) for fy in (0, 1) for t in (0, 1)])
def test_orient_moves_boxes_with_the_pixels(flips):
    pixels = np.zeros((30, 50), np.uint8)
    pixels[5:9, 20:33] = 255  # box (20, 5, 33, 9)
    turned, (box,) = syn.orient(pixels, [Box(20, 5, 33, 9)], *map(bool, flips))
    rows, cols = np.flatnonzero(turned.any(axis=1)), np.flatnonzero(turned.any(axis=0))
    assert box == Box(cols[0], rows[0], cols[-1] + 1, rows[-1] + 1)


@pytest.mark.parametrize("index", range(len(syn.SCENE_KINDS)))
def test_boxes_are_the_tight_boxes_of_the_painted_targets(index):
    """Repaint each target's mask as a label image, orient it like the scene: boxes must match."""
    rng = np.random.default_rng([5, index])
    kind = syn.SCENE_KINDS[index]
    width, height = syn.SIZES[int(rng.integers(len(syn.SIZES)))]
    canvas = syn.compose(kind, rng, height, width, 0)
    assert canvas.placed, kind
    labels = np.zeros((height, width), np.uint8)
    for i, (target, box) in enumerate(canvas.placed, 1):
        labels[box.y1 : box.y2, box.x1 : box.x2][target.mask] = i
    for flips in [(False, False, False), (True, False, True), (False, True, True)]:
        turned, boxes = syn.orient(labels, [b for _, b in canvas.placed], *flips)
        for i, box in enumerate(boxes, 1):
            rows, cols = np.nonzero(turned == i)
            assert box == Box(cols.min(), rows.min(), cols.max() + 1, rows.max() + 1)


def test_scenes_are_deterministic_and_seeded():
    a_pixels, a_objects, kind = syn.make_scene(3, 2)
    b_pixels, b_objects, _ = syn.make_scene(3, 2)
    c_pixels, c_objects, _ = syn.make_scene(4, 2)
    assert np.array_equal(a_pixels, b_pixels) and a_objects == b_objects
    assert kind == syn.SCENE_KINDS[2]
    assert not (a_pixels.shape == c_pixels.shape and np.array_equal(a_pixels, c_pixels))
    assert min(a_pixels.shape) >= 224


def test_targets_are_brighter_than_their_surroundings():
    pixels, objects, _ = syn.make_scene(0, 3)  # an airport
    background = np.median(pixels)
    for _, box in objects:
        assert pixels[box.y1 : box.y2, box.x1 : box.x2].max() == 255 and background < 120


@pytest.fixture(scope="module")
def fresh_sample(tmp_path_factory):
    out = tmp_path_factory.mktemp("sample")
    report = regenerate(out)
    return out, report


def test_fresh_sample_round_trips_and_fills_every_subset(fresh_sample):
    out, report = fresh_sample
    images = [json.loads(line) for line in (out / "annotations.jsonl").read_text().splitlines()]
    counts = check_build(out, expected_images(images))
    assert all(counts[s] > 0 for s in SUBSETS), counts
    assert 40 <= report["images"]["used"] <= 60 and report["images"]["dropped"] == {}
    assert all(report["objects"]["kept_by_category"].values())
    sizes = {(i["width"], i["height"]) for i in images}
    assert len(sizes) >= 5 and all(min(s) >= 224 for s in sizes)
    grounding = load_build(out)["grounding_multi"]
    assert sum(bool(parse("grounding_multi", r["messages"][1]["content"])[1]) for r in grounding) >= 10


def test_regeneration_is_byte_identical(fresh_sample, tmp_path):
    out, _ = fresh_sample
    again = tmp_path / "again"
    regenerate(again)
    for path in sorted(out.rglob("*")):
        if path.is_file():
            assert path.read_bytes() == (again / path.relative_to(out)).read_bytes(), path


def test_bundled_sample_is_present_small_and_current(fresh_sample):
    folder = sample_data_dir()
    assert folder == SAMPLE_DIR, "the committed sample is missing: run python -m sarbench.build.sample"
    size = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
    assert size < 5_000_000
    images = [json.loads(line) for line in (folder / "annotations.jsonl").read_text().splitlines()]
    check_build(folder, expected_images(images))
    committed = json.loads((folder / "build_report.json").read_text())
    out, report = fresh_sample
    if committed["versions"]["numpy"] != report["versions"]["numpy"]:
        pytest.skip("numpy differs from the one that made the committed sample; pixels may differ in the last bit")
    for name in ["annotations.jsonl", *(p.name for p in out.glob("SARChat_*.json"))]:
        assert (folder / name).read_bytes() == (out / name).read_bytes(), (
            f"{name} is stale: run python -m sarbench.build.sample"
        )
