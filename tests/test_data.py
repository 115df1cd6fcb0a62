"""Loading SARChat test files: subsets from names, routing, ids, image paths, malformed records."""

import json

import pytest

from sarbench.data import load_dataset
from sarbench.records import DataError
from sarbench.subsets import FILE_STEMS, subset_from_filename

REFERENCES = {
    "classify": (
        "Based on these category options (aircraft, bridge, car, harbor, ship, tank), what's visible?",
        "It is ship.",
    ),
    "describe": (
        "What do you observe in this satellite imagery?",
        "A small ship is visible in the top left portion of the image",
    ),
    "count": ("[count] Count the ship in this satellite image.", "There are 1 instances. {<1><2><30><40>}"),
    "grounding_single": ("[grounding] Where are the objects?", "There is a ship {<1><2><30><40>}."),
    "grounding_multi": ("[grounding] Where are the objects?", "Ships {<1><2><30><40>}{<50><2><80><40>}."),
    "identify_single": ("[identify] What is at {<1><2><30><40>}?", "A very small ship in the top left."),
    "identify_multi": ("[identify] What is at {<1><2><30><40>}?", "A very small ship in the top left."),
    "refer_single": ("[refer] Locate 1 ship.", "{<1><2><30><40>} (top left)"),
    "refer_multi": ("[refer] Locate 2 ship.", "{<1><2><30><40>} (top left){<50><2><80><40>} (top left)"),
}


def record(question, answer, image="images/a.png", tag=True):
    return {
        "messages": [
            {"role": "user", "content": ("<image>\n" if tag else "") + question},
            {"role": "assistant", "content": answer},
        ],
        "images": [image],
    }


@pytest.fixture
def data_dir(tmp_path):
    for subset, stem in FILE_STEMS.items():
        question, answer = REFERENCES[subset]
        records = [record(question, answer), record(question, answer, "images/b.png", tag=False)]
        (tmp_path / f"{stem}.json").write_text(json.dumps(records))
    (tmp_path / "build_report.json").write_text("{}")
    return tmp_path


def test_loads_nine_files(data_dir):
    data = load_dataset(data_dir)
    assert sorted(data.samples) == sorted(FILE_STEMS)
    sample = data.samples["refer_multi"][1]
    assert sample.id == "refer_multi/1" and sample.index == 1
    assert sample.prompt == "[refer] Locate 2 ship."
    assert data.samples["refer_multi"][0].prompt == "[refer] Locate 2 ship."
    assert sample.image == str((data_dir / "images/b.png").resolve())
    assert len(data) == 18


def test_subset_filter(data_dir):
    data = load_dataset(data_dir, subsets=["count"])
    assert list(data.samples) == ["count"]


@pytest.mark.parametrize(
    "name,subset",
    [
        ("SARChat_classify_test.json", "classify"),
        ("SARChat_classify_count_test_final_results.jsonl", "count"),
        ("refer_multi.jsonl", "refer_multi"),
        ("my_SARChat_classify_grounding_multi_test.json", "grounding_multi"),
        ("SARChat_describe_test.jsonl", "describe"),
        ("SARChat_classify_identify_single_val.json", "identify_single"),  # another split
        ("SARChat_classify_val.json", "classify"),
        ("SARChat_describe.json", None),
        ("whatever.json", None),
    ],
)
def test_subset_from_filename(name, subset):
    assert subset_from_filename(name) == subset


def test_jsonl_and_routing_for_unknown_names(tmp_path):
    lines = [
        record(*REFERENCES[s])
        for s in (
            "count",
            "grounding_multi",
            "grounding_single",
            "refer_single",
            "refer_multi",
            "classify",
            "describe",
            "identify_single",
        )
    ]
    path = tmp_path / "mixed.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in lines) + "\n\n")
    data = load_dataset(path)
    assert {s: len(v) for s, v in data.samples.items()} == {
        "count": 1,
        "grounding_multi": 1,
        "grounding_single": 1,
        "refer_single": 1,
        "refer_multi": 1,
        "classify": 1,
        "describe": 1,
        "identify_multi": 1,
    }


def test_image_escaping_root_is_refused(tmp_path):
    path = tmp_path / "SARChat_classify_test.json"
    path.write_text(json.dumps([record(*REFERENCES["classify"], image="../../etc/passwd")]))
    with pytest.raises(DataError, match=r"record 0: image path .* escapes the data root"):
        load_dataset(path)


@pytest.mark.parametrize(
    "bad,problem",
    [
        ({"images": ["a.png"]}, "messages"),
        ({"messages": [{"role": "user", "content": "x"}], "images": ["a.png"]}, "assistant"),
        ({"messages": [{"role": "assistant", "content": "It is ship."}], "images": ["a.png"]}, "user"),
        ({**record(*REFERENCES["classify"]), "images": "a.png"}, "images"),
        ({**record(*REFERENCES["classify"]), "images": []}, "images"),
        (record("question", "It is nothing."), "nothing to score"),
        ([1, 2], "expected an object"),
    ],
)
def test_malformed_records_name_file_and_index(tmp_path, bad, problem):
    path = tmp_path / "SARChat_classify_test.json"
    path.write_text(json.dumps([record(*REFERENCES["classify"]), bad]))
    with pytest.raises(DataError, match=rf"SARChat_classify_test.json, record 1: .*{problem}"):
        load_dataset(path)
    data = load_dataset(path, collect_errors=True)
    assert len(data.samples["classify"]) == 1
    assert [(i.index, problem in i.problem) for i in data.issues] == [(1, True)]


def test_invalid_json_lines(tmp_path):
    path = tmp_path / "SARChat_classify_test.jsonl"
    good = json.dumps(record(*REFERENCES["classify"]))
    path.write_text(good + '\n{"messages": [tru\n' + good + "\n")
    with pytest.raises(DataError, match="record 1: invalid JSON on line 2"):
        load_dataset(path)
    data = load_dataset(path, collect_errors=True)
    # ids stay the index in the file (PROTOCOL §1.2): the record after the bad line is classify/2
    assert [s.id for s in data.samples["classify"]] == ["classify/0", "classify/2"]
    assert len(data.issues) == 1


def test_not_an_array(tmp_path):
    path = tmp_path / "SARChat_classify_test.json"
    path.write_text("[1, 2")
    with pytest.raises(DataError, match="invalid JSON"):
        load_dataset(path)


def test_empty_directory(tmp_path):
    with pytest.raises(DataError, match="no SARChat test files"):
        load_dataset(tmp_path)


def test_symlinked_images_inside_root_are_accepted(tmp_path):
    outside = tmp_path / "source" / "img.png"
    outside.parent.mkdir()
    outside.write_bytes(b"x")
    root = tmp_path / "built"
    (root / "images").mkdir(parents=True)
    (root / "images" / "a.png").symlink_to(outside)
    (root / "SARChat_classify_test.json").write_text(json.dumps([record(*REFERENCES["classify"])]))
    sample = load_dataset(root).samples["classify"][0]
    assert sample.image == str(root / "images" / "a.png")
