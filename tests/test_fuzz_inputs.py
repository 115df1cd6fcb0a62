"""Fuzzing the three input readers with arbitrary JSON and bytes: a message and exit code 2 (or a
counted failure), never a traceback or a hang; a hostile scored record never moves the others."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sarbench.build.__main__ import main as build_main
from sarbench.data import load_dataset
from sarbench.records import DataError
from sarbench.score import main as score_main

FUZZ = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

scalar = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**30), 10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
)
json_value = st.recursive(
    scalar,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=6), inner, max_size=4)),
    max_leaves=12,
)
KEYS = (
    "response",
    "labels",
    "messages",
    "images",
    "id",
    "image_size",
    "image",
    "width",
    "height",
    "objects",
    "bbox",
    "category",
    "role",
    "content",
)
keyed_record = st.dictionaries(st.sampled_from(KEYS), json_value, max_size=5)
record = st.one_of(keyed_record, json_value)
raw_line = st.one_of(
    record.map(json.dumps),
    st.binary(max_size=30).map(lambda b: b.decode("latin-1")),
    st.sampled_from(["[" * 5000, '{"a":' * 5000, "\ud800", "NaN", "1e999"]),
)

CLEAN = [{"response": "It is ship.", "labels": "It is ship."}, {"response": "It is car.", "labels": "It is tank."}]


def write_lines(path: Path, lines: list[str]) -> Path:
    path.write_bytes("".join(line + "\n" for line in lines).encode("utf-8", "surrogatepass"))
    return path


def run_score(paths: list[Path], *extra: str) -> tuple[int, dict | None]:
    out = paths[0].parent / "out.json"
    code = score_main([*map(str, paths), "--no-meteor", "--quiet", "--out", str(out), *extra])
    return code, json.loads(out.read_text()) if code == 0 else None


@FUZZ
@given(st.lists(raw_line, min_size=1, max_size=4), st.sampled_from(["classify.jsonl", "count.jsonl", "results.jsonl"]))
def test_result_files_give_a_message_or_a_score(lines, name):
    with tempfile.TemporaryDirectory() as folder:
        path = write_lines(Path(folder) / name, lines)
        code, result = run_score([path], "--collect-errors")
        assert code in (0, 2)
        code, _ = run_score([path])
        assert code in (0, 2)


@FUZZ
@given(st.lists(raw_line, min_size=1, max_size=3))
def test_a_hostile_record_never_moves_the_untouched_samples(lines):
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        (root / "a").mkdir()
        (root / "b").mkdir()
        clean = write_lines(root / "a" / "classify.jsonl", [json.dumps(r) for r in CLEAN])
        hostile = write_lines(root / "b" / "classify.jsonl", [json.dumps(r) for r in CLEAN] + lines)
        assert run_score([clean], "--details", str(root / "a.jsonl"))[0] == 0
        code, after = run_score([hostile], "--collect-errors", "--details", str(root / "b.jsonl"))
        assert code == 0 and 2 <= after["n"]["classify"] <= 2 + len(lines)
        before_rows = (root / "a.jsonl").read_text().splitlines()
        after_rows = (root / "b.jsonl").read_text().splitlines()
        assert after_rows[:2] == before_rows


@FUZZ
@given(st.lists(raw_line, min_size=1, max_size=3), st.booleans())
def test_data_files_load_or_raise_a_data_error(lines, as_array):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "SARChat_classify_test.json"
        if as_array:
            path.write_bytes(("[" + ",".join(lines) + "]").encode("utf-8", "surrogatepass"))
        else:
            write_lines(path, lines)
        try:
            load_dataset(path, collect_errors=True)
        except DataError as exc:
            assert str(path) in str(exc)


@FUZZ
@given(st.lists(raw_line, min_size=1, max_size=3), st.sampled_from(["jsonl", "coco"]))
def test_annotation_files_build_or_exit_2(lines, fmt):
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        if fmt == "jsonl":
            annotations = write_lines(root / "annotations.jsonl", lines)
        else:
            (root / "Annotations").mkdir()
            annotations = root
            body = {"images": lines[0], "annotations": lines[1:], "categories": [{"id": 1, "name": "ship"}]}
            text = json.dumps(body).replace(json.dumps(lines[0]), lines[0], 1)
            (root / "Annotations" / "test.json").write_bytes(text.encode("utf-8", "surrogatepass"))
        code = build_main(
            ["--annotations", str(annotations), "--format", fmt, "--out", str(root / "out"), "--link", "none"]
        )
        assert code in (0, 2)
