"""Whole builds from JSONL, COCO and VOC inputs: round trips, filters, determinism, paths, errors."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
from shared_data import needs_shared, shared_path
from test_build_readers import VOC, coco_fixture
from test_build_support import check_build, expected_images, load_build

from sarbench.build import BuildError, BuildOptions, build
from sarbench.build.__main__ import main
from sarbench.build.output import OutputError
from sarbench.build.png import write_gray_png
from sarbench.build.readers import AnnotationError

IMAGES = [
    {
        "image": "scenes/a.png",
        "width": 400,
        "height": 300,
        "objects": [
            {"category": "ship", "bbox": [10, 10, 60, 40]},
            {"category": "ship", "bbox": [300, 200, 390, 290]},
            {"category": "harbor", "bbox": [150, 100, 260, 220]},
            {"category": "ship", "bbox": [0, 0, 5, 4]},  # under 1%: left out of the description only
            {"category": "ship", "bbox": [100, 10, 320, 30]},  # 11:1 -> dropped
            {"category": "ship", "bbox": [390, 100, 420, 120]},  # out of bounds -> dropped
            {"category": "ship", "bbox": [50, 50, 50, 80]},  # degenerate -> dropped
        ],
    },
    {
        "image": "scenes/b.png",
        "width": 256,
        "height": 256,
        "objects": [{"category": "Boeing737", "bbox": [100.4, 90.5, 160.5, 150]}],
    },
    {"image": "small.png", "width": 200, "height": 300, "objects": [{"category": "ship", "bbox": [1, 1, 50, 50]}]},
    {"image": "empty.png", "width": 300, "height": 300, "objects": []},
    {
        "image": "c.png",
        "width": 300,
        "height": 240,
        "objects": [
            {"category": "car", "bbox": [10, 10, 20, 16]},
            {"category": "tank", "bbox": [200, 180, 230, 210]},
            {"category": "bridge", "bbox": [100, 100, 200, 130]},
            {"category": "car", "bbox": [30, 10, 40, 16]},
        ],
    },
]
MAPPED = [
    {
        **i,
        "objects": [
            {**o, "category": "aircraft" if o["category"] == "Boeing737" else o["category"]} for o in i["objects"]
        ],
    }
    for i in IMAGES
]


def write_jsonl_fixture(root: Path, images=IMAGES) -> Path:
    for image in images:
        (root / image["image"]).parent.mkdir(parents=True, exist_ok=True)
        write_gray_png(root / image["image"], np.zeros((image["height"], image["width"]), np.uint8))
    path = root / "annotations.jsonl"
    path.write_text("".join(json.dumps(i) + "\n" for i in images))
    return path


def jsonl_build(tmp_path, out="out", **options) -> tuple[Path, dict]:
    annotations = write_jsonl_fixture(tmp_path / "src")
    report = build(BuildOptions(annotations=annotations, format="jsonl", out=tmp_path / out, **options))
    return tmp_path / out, report


def test_jsonl_build_round_trips_and_counts_every_drop(tmp_path):
    out, report = jsonl_build(tmp_path)
    counts = check_build(out, expected_images(MAPPED))
    assert report["records"] == counts and all(counts.values())
    assert report["images"] == {"read": 5, "used": 3, "dropped": {"image_smaller_than_224": 1, "no_objects": 1}}
    assert report["objects"]["dropped"] == {
        "aspect_ratio_over_10": 1,
        "box_out_of_bounds": 1,
        "degenerate_box": 1,
        "in_dropped_image": 1,
    }
    assert report["objects"]["left_out_of_descriptions_under_1_percent"] == 3  # the tiny ship and both cars
    assert report["objects"]["kept_by_category"]["aircraft"] == 1
    assert report["seed"] == 0 and len(report["source"]["annotations_sha256"]) == 64
    assert sorted(p.relative_to(out).as_posix() for p in (out / "images").rglob("*.png")) == [
        "images/c.png",
        "images/scenes/a.png",
        "images/scenes/b.png",
    ]


def test_same_seed_same_bytes_other_seed_other_templates_same_content(tmp_path):
    first, _ = jsonl_build(tmp_path, "one")
    second = tmp_path / "two"
    build(BuildOptions(annotations=tmp_path / "src" / "annotations.jsonl", format="jsonl", out=second))
    third, _ = jsonl_build(tmp_path, "three", seed=7)
    names = sorted(p.name for p in first.glob("*.json"))
    assert all((first / n).read_bytes() == (second / n).read_bytes() for n in names)
    assert any((first / n).read_bytes() != (third / n).read_bytes() for n in names if n != "build_report.json")
    check_build(third, expected_images(MAPPED))


def test_records_do_not_depend_on_input_order(tmp_path):
    forward, _ = jsonl_build(tmp_path, "forward")
    src = tmp_path / "reversed"
    annotations = write_jsonl_fixture(src, IMAGES[::-1])
    build(BuildOptions(annotations=annotations, format="jsonl", out=tmp_path / "backward"))
    a, b = load_build(forward), load_build(tmp_path / "backward")
    for subset in a:
        assert sorted(map(json.dumps, a[subset])) == sorted(map(json.dumps, b[subset]))


def test_unknown_categories_error_lists_them_all_and_leaves_nothing(tmp_path):
    images = [
        {**IMAGES[0], "objects": [{"category": "windmill", "bbox": [1, 1, 50, 50]}]},
        {
            **IMAGES[1],
            "objects": [{"category": "other", "bbox": [1, 1, 50, 50]}, {"category": "ship", "bbox": [60, 60, 90, 90]}],
        },
    ]
    annotations = write_jsonl_fixture(tmp_path / "src", images)
    with pytest.raises(BuildError) as caught:
        build(BuildOptions(annotations=annotations, format="jsonl", out=tmp_path / "out"))
    message = str(caught.value)
    assert "'other'" in message and "'windmill'" in message and "line 1" in message and "--category-map" in message
    assert not any((tmp_path / "out").iterdir())
    report = build(
        BuildOptions(annotations=annotations, format="jsonl", out=tmp_path / "out", unknown_categories="drop")
    )
    assert report["unknown_categories"]["dropped"] == {"other": 1, "windmill": 1}
    assert report["objects"]["dropped"]["unknown_category"] == 2 and report["images"]["used"] == 1


def test_category_map_file_maps_and_ignores(tmp_path):
    mapping = tmp_path / "map.json"
    mapping.write_text(json.dumps({"Boeing737": "ship", "harbor": None}))
    out, report = jsonl_build(tmp_path, category_map=mapping)
    assert report["objects"]["kept_by_category"]["aircraft"] == 0 and report["objects"]["kept_by_category"]["ship"] == 4
    assert report["objects"]["dropped"]["ignored_category"] == 1
    assert report["category_map_overrides"] == {"Boeing737": "ship", "harbor": None}


def test_coco_build_from_a_sardet_root(tmp_path):
    coco_fixture(tmp_path / "sardet")
    out = tmp_path / "out"
    report = build(BuildOptions(annotations=tmp_path / "sardet", format="coco", out=out))
    expected = expected_images(
        [
            {
                "image": "a.png",
                "width": 300,
                "height": 256,
                "objects": [
                    {"category": "ship", "bbox": [0, 0, 50, 20]},
                    {"category": "ship", "bbox": [200, 150, 240.5, 230]},
                ],
            },
            {
                "image": "b.png",
                "width": 256,
                "height": 256,
                "objects": [
                    {"category": "aircraft", "bbox": [10.4, 20.5, 40.6, 60.5]},
                    {"category": "aircraft", "bbox": [100, 100, 160, 160]},
                ],
            },
        ]
    )
    check_build(out, expected)
    assert (
        report["objects"]["kept"] == 4
        and "{<200><150><241><230>}" in (out / "SARChat_classify_count_test.json").read_text()
    )


def test_voc_build_reads_missing_sizes_from_the_image(tmp_path):
    root = tmp_path / "ssdd"
    (root / "Annotations").mkdir(parents=True)
    (root / "JPEGImages").mkdir()
    (root / "Annotations" / "a.xml").write_text(VOC.format(name="a.png", size=""))
    (root / "Annotations" / "b.xml").write_text(
        VOC.format(name="b.png", size="<size><width>400</width><height>300</height></size>")
    )
    write_gray_png(root / "JPEGImages" / "a.png", np.zeros((250, 320), np.uint8))
    write_gray_png(root / "JPEGImages" / "b.png", np.zeros((300, 400), np.uint8))
    out = tmp_path / "out"
    build(BuildOptions(annotations=root, format="voc", out=out))
    objects = [{"category": "ship", "bbox": [10, 20, 60.5, 70]}, {"category": "aircraft", "bbox": [100, 100, 150, 130]}]
    check_build(
        out,
        expected_images(
            [
                {"image": "a.png", "width": 320, "height": 250, "objects": objects},
                {"image": "b.png", "width": 400, "height": 300, "objects": objects},
            ]
        ),
    )


@pytest.mark.parametrize("mode", ["symlink", "hardlink", "none"])
def test_link_modes(tmp_path, mode):
    out, report = jsonl_build(tmp_path, link=mode)
    image = out / "images" / "scenes" / "a.png"
    if mode == "none":
        assert not image.exists()
        check_build(out, expected_images(MAPPED), check_images=False)
    else:
        assert (
            image.is_symlink() == (mode == "symlink")
            and image.read_bytes() == (tmp_path / "src" / "scenes" / "a.png").read_bytes()
        )
        assert mode != "hardlink" or os.stat(image).st_nlink == 2


def test_output_folder_rules(tmp_path):
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "precious.txt").write_text("keep me")
    with pytest.raises(OutputError, match="not empty"):
        jsonl_build(tmp_path, "foreign")
    assert (foreign / "precious.txt").read_text() == "keep me"
    out, _ = jsonl_build(tmp_path, "again")
    (out / "images" / "stale.png").write_bytes(b"old")
    jsonl_build(tmp_path, "again")  # an earlier build is replaced, images folder included
    assert not (out / "images" / "stale.png").exists() and not (out / ".sarbench-build-staging").exists()


def test_missing_image_names_the_record(tmp_path):
    annotations = write_jsonl_fixture(tmp_path / "src")
    (tmp_path / "src" / "c.png").unlink()
    with pytest.raises(BuildError, match=r"annotations\.jsonl, line 5: cannot copy image"):
        build(BuildOptions(annotations=annotations, format="jsonl", out=tmp_path / "out"))


def test_duplicate_image_is_an_error(tmp_path):
    annotations = write_jsonl_fixture(tmp_path / "src", [IMAGES[1], IMAGES[1]])
    with pytest.raises(AnnotationError, match="listed twice"):
        build(BuildOptions(annotations=annotations, format="jsonl", out=tmp_path / "out"))


def test_cli(tmp_path, capsys):
    annotations = write_jsonl_fixture(tmp_path / "src")
    assert (
        main(["--annotations", str(annotations), "--format", "jsonl", "--out", str(tmp_path / "out"), "--seed", "3"])
        == 0
    )
    assert "records from 3 images" in capsys.readouterr().out
    assert json.loads((tmp_path / "out" / "build_report.json").read_text())["seed"] == 3
    assert (
        main(["--annotations", str(tmp_path / "nope.jsonl"), "--format", "jsonl", "--out", str(tmp_path / "o2")]) == 2
    )
    assert "nope.jsonl: not found" in capsys.readouterr().err


def test_split_names_the_files(tmp_path):
    out, _ = jsonl_build(tmp_path, split="val")
    assert (out / "SARChat_classify_count_val.json").is_file() and not (
        out / "SARChat_classify_count_test.json"
    ).exists()


REAL_SAR = shared_path("real-sar", "SARBENCH_REAL_SAR")


@needs_shared(REAL_SAR / "annotations.jsonl")
def test_real_sar_sample_builds_and_round_trips(tmp_path):
    annotations = REAL_SAR / "annotations.jsonl"
    report = build(BuildOptions(annotations=annotations, format="jsonl", out=tmp_path / "out", link="symlink"))
    images = [json.loads(line) for line in annotations.read_text().splitlines() if line.strip()]
    counts = check_build(tmp_path / "out", expected_images(images))
    assert report["records"] == counts and all(counts.values())
    assert report["images"]["dropped"].get("image_smaller_than_224", 0) >= 100  # the MSTAR chips


def test_relative_paths_and_an_explicit_image_root(tmp_path, monkeypatch):
    write_jsonl_fixture(tmp_path / "src")
    lines = (tmp_path / "src" / "annotations.jsonl").read_text()
    (tmp_path / "lists").mkdir()
    (tmp_path / "lists" / "ann.jsonl").write_text(lines.replace('"scenes/', '"scenes\\\\'))  # Windows separators
    monkeypatch.chdir(tmp_path)
    assert (
        main(
            [
                "--annotations",
                "lists/ann.jsonl",
                "--images",
                "src",
                "--format",
                "jsonl",
                "--out",
                "out",
                "--link",
                "symlink",
            ]
        )
        == 0
    )
    check_build(tmp_path / "out", expected_images(MAPPED))
    assert (tmp_path / "out" / "images" / "scenes" / "a.png").resolve() == (
        tmp_path / "src" / "scenes" / "a.png"
    ).resolve()


def test_missing_image_is_an_error_with_symlinks_too(tmp_path):
    annotations = write_jsonl_fixture(tmp_path / "src")
    (tmp_path / "src" / "c.png").unlink()
    with pytest.raises(BuildError, match=r"line 5: cannot symlink image .*c\.png: No such file"):
        build(BuildOptions(annotations=annotations, format="jsonl", out=tmp_path / "out", link="symlink"))


def test_a_declared_size_that_is_not_the_images_is_an_error(tmp_path):
    wrong = [{**IMAGES[0], "width": 10000}] + IMAGES[1:]
    annotations = write_jsonl_fixture(tmp_path / "src", wrong)
    write_gray_png(tmp_path / "src" / "scenes" / "a.png", np.zeros((300, 400), np.uint8))  # the real size
    with pytest.raises(AnnotationError, match=r"declares the image 10000x300, but .*a\.png is 400x300"):
        build(BuildOptions(annotations=annotations, format="jsonl", out=tmp_path / "out"))
