"""Hostile inputs: each case here gave a wrong number, a traceback or a hang before (issue P8)."""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path

import pytest
from test_build_pipeline import write_jsonl_fixture
from test_build_readers import COCO_CATEGORIES, write_coco

from sarbench.build.__main__ import main as build_main
from sarbench.build.readers import AnnotationError, read_jsonl
from sarbench.score import main as score_main

CLASSIFY = [{"response": "It is ship.", "labels": "It is ship."}, {"response": "It is tank.", "labels": "It is ship."}]
DEEP = "[" * 100_000 + "]" * 100_000


def write_jsonl(path: Path, records) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def score(argv, capsys) -> tuple[int, dict | None, str]:
    out = Path(argv[0]).parent / "metrics_out.json" if argv else None
    code = score_main([*argv, "--no-meteor", "--quiet", "--out", str(out)])
    err = capsys.readouterr().err
    return code, json.loads(out.read_text()) if code == 0 else None, err


def finishes(function, seconds: float = 10.0):
    """Run function in a thread; fail (instead of hanging the suite) if it blocks."""
    result: dict = {}
    thread = threading.Thread(target=lambda: result.setdefault("value", function()), daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"{function} still running after {seconds} s"
    return result.get("value")


# --- 1. the same result file twice is scored once -------------------------------------------------


@pytest.mark.parametrize("how", ["named twice", "symlink", "renamed copy", "file and its folder"])
def test_a_result_file_read_twice_is_scored_once_with_a_warning(tmp_path, capsys, how):
    folder = tmp_path / "results"
    folder.mkdir()
    first = write_jsonl(folder / "classify.jsonl", CLASSIFY)
    _, once, _ = score([str(first)], capsys)
    if how == "named twice":
        argv = [str(first), str(first)]
    elif how == "symlink":
        os.symlink(first, tmp_path / "link.jsonl")
        argv = [str(first), str(tmp_path / "link.jsonl")]
    elif how == "renamed copy":
        (folder / "SARChat_classify_test_results.jsonl").write_bytes(first.read_bytes())
        argv = [str(folder)]
    else:
        argv = [str(first), str(folder)]
    code, twice, err = score(argv, capsys)
    assert code == 0
    assert twice["metrics"] == once["metrics"] and twice["n"] == {"classify": 2}
    [duplicate] = twice["duplicate_files"]
    assert {Path(duplicate["path"]).name, Path(duplicate["same_as"]).name} <= {
        "classify.jsonl",
        "link.jsonl",
        "SARChat_classify_test_results.jsonl",
    }
    assert "warning: skipped" in err and duplicate["path"] in err and duplicate["same_as"] in err


def test_only_files_of_one_subset_and_size_are_compared_byte_for_byte(tmp_path, capsys, monkeypatch):
    import sarbench.result_files as result_files

    hashed = []
    real = result_files._content_sha256
    monkeypatch.setattr(result_files, "_content_sha256", lambda path: hashed.append(path.name) or real(path))
    first = write_jsonl(tmp_path / "classify.jsonl", CLASSIFY)
    same_size = first.read_bytes().replace(b"It is", b"It`is")  # other bytes, same length
    (tmp_path / "SARChat_classify_test_results.jsonl").write_bytes(same_size)
    write_jsonl(tmp_path / "count.jsonl", [{"response": "", "labels": "There are 0 instances."}] * 2)
    code, result, _ = score([str(tmp_path)], capsys)
    assert code == 0 and result["n"]["classify"] == 2 * len(CLASSIFY) and "duplicate_files" not in result
    assert sorted(hashed) == ["SARChat_classify_test_results.jsonl", "classify.jsonl"]


def test_identical_files_of_different_subsets_are_both_scored(tmp_path, capsys):
    record = {"response": "<ship><[[1, 1, 50, 50]]>", "labels": "<ship><[[1, 1, 50, 50]]>"}
    write_jsonl(tmp_path / "identify_single.jsonl", [record])
    write_jsonl(tmp_path / "identify_multi.jsonl", [record])
    code, result, _ = score([str(tmp_path / "identify_single.jsonl"), str(tmp_path / "identify_multi.jsonl")], capsys)
    assert code == 0 and result["n"] == {"identify_single": 1, "identify_multi": 1}
    assert "duplicate_files" not in result


# --- 4. deeply nested JSON -------------------------------------------------------------------------


@pytest.mark.parametrize("layout", ["jsonl", "array"])
def test_deeply_nested_result_file_is_a_located_error(tmp_path, capsys, layout):
    path = tmp_path / "classify.jsonl"
    if layout == "jsonl":
        path.write_text(json.dumps(CLASSIFY[0]) + "\n" + DEEP + "\n")
    else:
        path.write_text("[" + json.dumps(CLASSIFY[0]) + "," + DEEP + "]")
    code, _, err = score([str(path)], capsys)
    assert code == 2 and "nested too deeply" in err and str(path) in err
    assert ("line 2" in err) == (layout == "jsonl")


def test_deeply_nested_data_file_is_a_located_error(tmp_path):
    from sarbench.data import load_dataset
    from sarbench.records import DataError

    path = tmp_path / "SARChat_classify_test.json"
    path.write_text(DEEP + "\n")
    with pytest.raises(DataError, match="SARChat_classify_test.json: invalid JSON: nested too deeply"):
        load_dataset(path)
    path.write_text("\n" + '{"a":' * 50_000 + "\n")  # not an array: JSONL, the line is named
    with pytest.raises(DataError, match="record 0: invalid JSON: nested too deeply.* on line 2"):
        load_dataset(path)


def test_deeply_nested_annotations_are_located_errors(tmp_path, capsys):
    path = tmp_path / "annotations.jsonl"
    path.write_text(DEEP + "\n")
    with pytest.raises(AnnotationError, match="line 1: invalid JSON: nested too deeply"):
        list(read_jsonl(path))
    coco = write_coco(tmp_path / "coco", [], [], COCO_CATEGORIES)
    coco.write_text(json.dumps({"images": []})[:-1] + ', "extra": ' + DEEP + "}")
    code = build_main(["--annotations", str(tmp_path / "coco"), "--format", "coco", "--out", str(tmp_path / "o")])
    assert code == 2 and "nested too deeply" in capsys.readouterr().err


# --- 2. builder: inconsistent ids, non-finite and huge numbers, bad bytes, bad --split -----------


def build_coco(tmp_path, capsys, images, annotations, categories=COCO_CATEGORIES) -> str:
    write_coco(tmp_path / "coco", [IMAGE_A, IMAGE_B], [], COCO_CATEGORIES)  # the pixels
    (tmp_path / "coco" / "Annotations" / "test.json").write_text(
        json.dumps({"annotations": annotations, "images": images, "categories": categories})
    )
    code = build_main(["--annotations", str(tmp_path / "coco"), "--format", "coco", "--out", str(tmp_path / "o")])
    assert code == 2
    return capsys.readouterr().err


IMAGE_A = {"id": 1, "file_name": "a.png", "width": 300, "height": 256}
IMAGE_B = {"id": 2, "file_name": "b.png", "width": 300, "height": 256}
BOX = {"image_id": 1, "category_id": 1, "bbox": [10, 10, 50, 40]}


@pytest.mark.parametrize(
    "images, annotations, message",
    [
        ([IMAGE_A, {**IMAGE_B, "id": 1}], [BOX], "images[1]: image id 1 is already used by images[0]"),
        ([IMAGE_A], [{**BOX, "image_id": 10**30}], "annotations[0]: an annotation needs integer 'image_id'"),
        ([IMAGE_A], [{**BOX, "bbox": [float("nan"), 1, 2, 3]}], "annotations[0]: 'bbox' must be"),
        ([IMAGE_A], [{**BOX, "bbox": [1, 1, float("inf"), 3]}], "annotations[0]: 'bbox' must be"),
        ([IMAGE_A], [{**BOX, "bbox": [1, 1, 1e308, 3]}], "annotations[0]: 'bbox' must be"),
        ([{**IMAGE_A, "width": float("inf")}], [BOX], "images[0]: width must be a positive integer"),
        ([{**IMAGE_A, "height": float("nan")}], [BOX], "images[0]: height must be a positive integer"),
        ([{**IMAGE_A, "width": 10**5000}], [BOX], "images[0]: width must be a positive integer"),
        ([IMAGE_A], [{**BOX, "image_id": 5}], "annotations[0]: image_id is not in 'images'"),
    ],
)
def test_coco_inconsistent_or_non_finite_input_is_a_located_error(tmp_path, capsys, images, annotations, message):
    import sys

    sys.set_int_max_str_digits(0)  # only so that json.dumps can write the 5,000-digit fixture
    try:
        err = build_coco(tmp_path, capsys, images, annotations)
    finally:
        sys.set_int_max_str_digits(4300)
    assert message in err and "Traceback" not in err


def test_coco_category_id_with_two_names_is_refused(tmp_path, capsys):
    categories = [{"id": 1, "name": "ship"}, {"id": 1, "name": "tank"}]
    assert "category id 1 is already 'ship'" in build_coco(tmp_path, capsys, [IMAGE_A], [BOX], categories)


@pytest.mark.parametrize(
    "content, message",
    [
        (
            b'{"image": "a.png", "width": 300, "height": 256, "objects": []}\n{"image": "\xff\xfe"}\n',
            "line 2: not UTF-8 text",
        ),
        (
            b'{"image": "a.png", "width": 300, "height": 256, "objects": [{"category": "ship", "bbox": [1, 2, NaN, 4]}]}\n',  # noqa: E501
            "bbox value must be a finite number",
        ),
        (b'{"image": "a.png", "width": 1e999, "height": 256}\n', "width must be a positive integer"),
        (
            b'{"image": "a.png", "width": 300, "height": 256, "objects": [{"category": "ship", "bbox": [1, 2, 1e300, 4]}]}\n',  # noqa: E501
            "is not a pixel coordinate",
        ),
    ],
)
def test_jsonl_annotation_bad_bytes_and_numbers_are_located_errors(tmp_path, capsys, content, message):
    path = tmp_path / "annotations.jsonl"
    path.write_bytes(content)
    code = build_main(["--annotations", str(path), "--format", "jsonl", "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 2 and message in err and str(path) in err


@pytest.mark.parametrize("value", ["nan", "inf", "1e400"])
def test_voc_non_finite_sizes_are_located_errors(tmp_path, capsys, value):
    folder = tmp_path / "Annotations"
    folder.mkdir()
    (folder / "x.xml").write_text(
        f"<annotation><filename>x.png</filename><size><width>{value}</width><height>256</height></size></annotation>"
    )
    code = build_main(
        ["--annotations", str(tmp_path), "--format", "voc", "--out", str(tmp_path / "o"), "--link", "none"]
    )
    err = capsys.readouterr().err
    assert code == 2 and "x.xml" in err and "<width> is not a pixel value" in err


@pytest.mark.parametrize("split", ["../escape", "a/b", "", ".hidden", "x\x00y"])
def test_split_with_path_characters_is_refused(tmp_path, capsys, split):
    annotations = write_jsonl_fixture(tmp_path)
    code = build_main(
        ["--annotations", str(annotations), "--format", "jsonl", "--out", str(tmp_path / "o"), "--split", split]
    )
    assert code == 2 and "--split" in capsys.readouterr().err
    assert not (tmp_path / "escape").exists()


# --- 5. images that are FIFOs, folders ---------------------------------------------------------


@pytest.fixture
def fifo(tmp_path) -> Path:
    path = tmp_path / "image.png"
    os.mkfifo(path)
    return path


def test_a_fifo_or_folder_image_is_an_inference_failure_not_a_hang(fifo, tmp_path):
    from sarbench.images import ImageError, load_image

    error = finishes(lambda: load_image(str(fifo)))
    assert isinstance(error, ImageError) and "is a FIFO" in str(error)
    assert "is a directory" in str(load_image(str(tmp_path)))


def test_scoring_does_not_open_a_fifo_for_the_size_breakdown(fifo):
    from sarbench.score_predictions import image_size

    assert finishes(lambda: image_size(str(fifo))) is None


def test_builder_refuses_a_fifo_image(tmp_path, capsys):
    annotations = write_jsonl_fixture(tmp_path)
    (tmp_path / "c.png").unlink()
    os.mkfifo(tmp_path / "c.png")
    code = finishes(
        lambda: build_main(["--annotations", str(annotations), "--format", "jsonl", "--out", str(tmp_path / "o")])
    )
    assert code == 2 and "c.png is a FIFO" in capsys.readouterr().err


# --- 3. a runaway count is bounded work, with the same metrics ------------------------------------


def test_ten_million_digit_count_is_fast_and_scores_as_its_exact_value(tmp_path, capsys):
    from metrics.parsing import parse_answer, parse_digits

    assert parse_digits("0" * 10_000 + "42") == 42
    assert parse_digits("9" * 4299) == int("9" * 4299)
    started = time.perf_counter()
    parsed = parse_answer("count", "There are " + "7" * 10_000_000 + " ships.")
    assert time.perf_counter() - started < 10
    assert parsed.count > 10**4299
    assert parse_digits("7" * 5000) == parse_digits("0" + "7" * 5000) != parse_digits("7" * 4999 + "8")
    path = write_jsonl(
        tmp_path / "count.jsonl",
        [
            {"response": "There are " + "7" * 200_000 + " ships.", "labels": "There are 3 ships."},
            {"response": "There are 2 ships.", "labels": "There are 3 ships."},
        ],
    )
    code, result, _ = score([str(path), "--details", str(tmp_path / "details.jsonl")], capsys)
    assert code == 0
    metrics = result["metrics"]
    # exact: |7...7 - 3| is beyond float range: mae/rmse inf; one of two within 1, none exact
    assert metrics["count.only"] == 0.0 and metrics["count.within1"] == 50.0
    assert metrics["count.mae"] == float("inf") and metrics["count.rmse"] == float("inf")
    assert len((tmp_path / "details.jsonl").read_text().splitlines()) == 2


# --- 6. lone surrogates -----------------------------------------------------------------------


def test_lone_surrogates_do_not_crash_scoring_or_details_nor_move_other_samples(tmp_path, capsys):
    (tmp_path / "a").mkdir()
    clean = write_jsonl(tmp_path / "a" / "classify.jsonl", CLASSIFY)
    _, before, _ = score([str(clean)], capsys)
    hostile = tmp_path / "b" / "classify.jsonl"
    hostile.parent.mkdir()
    hostile.write_text(
        clean.read_text() + '{"response": "It is ship \\ud800.", "labels": "It is \\udfff ship.", '
        '"messages": [{"role": "user", "content": "<image>\\ud800 options"}]}\n'
    )
    details = tmp_path / "details.jsonl"
    code, after, _ = score([str(hostile), "--details", str(details)], capsys)
    assert code == 0 and after["n"] == {"classify": 3}
    rows = [json.loads(line) for line in details.read_text(encoding="utf-8").splitlines()]
    assert rows[2]["response"] == "It is ship \ud800." and rows[2]["labels"] == "It is \udfff ship."
    assert after["totals"]["classify.acc"]["tp"] == before["totals"]["classify.acc"]["tp"] + 1


def test_a_data_prompt_with_a_lone_surrogate_loads(tmp_path):
    from sarbench.data import load_dataset

    (tmp_path / "a.png").write_bytes(b"")
    record = {
        "messages": [
            {
                "role": "user",
                "content": "<image>\ud800 Based on these category options (aircraft, ship, tank), what is here?",
            },
            {"role": "assistant", "content": "It is ship."},
        ],
        "images": ["a.png"],
    }
    path = tmp_path / "SARChat_classify_test.json"
    path.write_text(json.dumps([record]))
    assert load_dataset(path).samples["classify"][0].prompt.startswith("\ud800")


# --- 7. model names with TeX characters are shown literally ----------------------------------


def test_plot_labels_with_dollar_signs_render_literally(tmp_path, capsys):
    from test_plot import write_run

    from sarbench.plot import literal_label
    from sarbench.plot import main as plot_main

    assert literal_label("a$b_c^d$\\e") == "a\\$b_c^d\\$\\e"
    write_run(tmp_path / "runs" / "a", "model$^$ x_1 \\alpha $", 70.0)
    write_run(tmp_path / "runs" / "b", "$\\frac{1}{$", 50.0)
    assert plot_main([str(tmp_path / "runs"), "--out", str(tmp_path / "f"), "--format", "png"]) == 0
