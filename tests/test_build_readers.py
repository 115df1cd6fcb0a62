"""Annotation readers (JSONL, COCO, VOC): conversions, streaming, category maps and located errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from sarbench.build import coco
from sarbench.build.categories import CategoryMapError, CategoryMapper
from sarbench.build.formats import open_reader
from sarbench.build.png import write_gray_png
from sarbench.build.readers import AnnotationError


def write_coco(root: Path, images: list[dict], annotations: list[dict], categories: list[dict], split="test") -> Path:
    (root / "Annotations").mkdir(parents=True, exist_ok=True)
    path = root / "Annotations" / f"{split}.json"
    # keys in an unusual order: categories last, annotations before images
    path.write_text(
        json.dumps(
            {
                "info": {"version": 1.0},
                "annotations": annotations,
                "licenses": [],
                "images": images,
                "categories": categories,
            },
            indent=1,
        )
    )
    folder = root / "JPEGImages" / split
    folder.mkdir(parents=True, exist_ok=True)
    for image in images:
        write_gray_png(folder / image["file_name"], np.zeros((image["height"], image["width"]), np.uint8))
    return path


COCO_CATEGORIES = [{"id": 1, "name": "ship"}, {"id": 2, "name": "Aircraft"}, {"id": 7, "name": "A220"}]


def coco_fixture(root: Path) -> Path:
    images = [
        {"id": 10, "file_name": "a.png", "width": 300, "height": 256},
        {"id": 3, "file_name": "b.png", "width": 256, "height": 256},
    ]
    annotations = [
        {"id": 1, "image_id": 3, "category_id": 7, "bbox": [10.4, 20.5, 30.2, 40.0]},
        {"id": 2, "image_id": 10, "category_id": 1, "bbox": [0, 0, 50, 20]},
        {"id": 3, "image_id": 3, "category_id": 2, "bbox": [100, 100, 60, 60]},
        {"id": 4, "image_id": 10, "category_id": 1, "bbox": [200, 150, 40.5, 80]},
    ]
    return write_coco(root, images, annotations, COCO_CATEGORIES)


def test_coco_boxes_become_corners_and_join_in_file_order(tmp_path):
    coco_fixture(tmp_path)
    reader = open_reader("coco", tmp_path, "test")  # a SARDet-100K root folder works
    images = list(reader.images())
    assert [i.image for i in images] == ["a.png", "b.png"]
    assert [tuple(o) for o in images[0].objects] == [("ship", 0, 0, 50, 20), ("ship", 200, 150, 240.5, 230)]
    assert [tuple(o) for o in images[1].objects] == [("A220", 10.4, 20.5, 40.6, 60.5), ("Aircraft", 100, 100, 160, 160)]
    assert reader.used_category_names() == {"ship", "Aircraft", "A220"}


def test_coco_stream_survives_tiny_read_chunks(tmp_path, monkeypatch):
    path = coco_fixture(tmp_path)
    expected = [(i.image, i.objects) for i in open_reader("coco", path, "test").images()]
    monkeypatch.setattr(coco, "_CHUNK", 3)
    assert [(i.image, i.objects) for i in open_reader("coco", path, "test").images()] == expected


@pytest.mark.parametrize(
    "mutate, where",
    [
        (lambda d: d["annotations"][1].pop("bbox"), "annotations[1]"),
        (lambda d: d["annotations"][0].update(category_id=99), "annotations[0]"),
        (lambda d: d["annotations"][2].update(image_id=12345), "annotations[2]"),
        (lambda d: d["images"][1].pop("width"), "images[1]"),
        (lambda d: d["images"][0].update(file_name="../escape.png"), "images[0]"),
        (lambda d: d["categories"][0].pop("name"), "categories[0]"),
    ],
)
def test_coco_errors_name_the_file_and_record(tmp_path, mutate, where):
    path = coco_fixture(tmp_path)
    data = json.loads(path.read_text())
    mutate(data)
    path.write_text(json.dumps(data))
    with pytest.raises(AnnotationError) as caught:
        list(open_reader("coco", path, "test").images())
    assert str(path) in str(caught.value) and where in str(caught.value)


def test_coco_truncated_file_is_a_clear_error(tmp_path):
    path = coco_fixture(tmp_path)
    path.write_text(path.read_text()[:-40])
    with pytest.raises(AnnotationError, match="invalid JSON"):
        list(open_reader("coco", path, "test").images())


def test_jsonl_reader_and_errors(tmp_path):
    path = tmp_path / "a.jsonl"
    good = {"image": "x/1.png", "width": 300, "height": 300, "objects": [{"category": "ship", "bbox": [1, 2, 3, 4]}]}
    path.write_text(json.dumps(good) + "\n\n" + json.dumps({**good, "image": "2.png", "objects": []}) + "\n")
    images = list(open_reader("jsonl", path, "test").images())
    assert [(i.image, i.width, len(i.objects)) for i in images] == [("x/1.png", 300, 1), ("2.png", 300, 0)]
    for bad, problem in [
        ("{not json", "line 2: invalid JSON"),
        (json.dumps({**good, "width": 0}), "line 2: width must be a positive integer"),
        (json.dumps({**good, "objects": [{"category": "ship", "bbox": [1, 2, 3]}]}), "line 2, objects[0]"),
        (json.dumps({"width": 3, "height": 3}), "line 2: missing field 'image'"),
        (json.dumps({**good, "image": "/abs.png"}), "must stay inside"),
    ]:
        path.write_text(json.dumps(good) + "\n" + bad + "\n")
        with pytest.raises(AnnotationError, match=problem.replace("[", r"\[").replace("]", r"\]")) as caught:
            list(open_reader("jsonl", path, "test").images())
        assert str(path) in str(caught.value)


VOC = """<annotation><filename>{name}</filename>{size}
<object><name>ship</name><difficult>0</difficult><bndbox><xmin>10</xmin><ymin>20</ymin><xmax>60.5</xmax><ymax>70</ymax></bndbox></object>
<object><name>Boeing737</name><bndbox><xmin>100</xmin><ymin>100</ymin><xmax>150</xmax><ymax>130</ymax></bndbox></object>
</annotation>"""


def test_voc_reader(tmp_path):
    (tmp_path / "Annotations").mkdir()
    (tmp_path / "Annotations" / "b.xml").write_text(
        VOC.format(name="b.jpg", size="<size><width>400</width><height>300</height><depth>1</depth></size>")
    )
    (tmp_path / "Annotations" / "a.xml").write_text(VOC.format(name="a.jpg", size=""))
    images = list(open_reader("voc", tmp_path / "Annotations", "test").images())
    assert [(i.image, i.width, i.height) for i in images] == [("a.jpg", 0, 0), ("b.jpg", 400, 300)]  # 0: read later
    assert [tuple(o) for o in images[1].objects] == [("ship", 10, 20, 60.5, 70), ("Boeing737", 100, 100, 150, 130)]
    (tmp_path / "Annotations" / "c.xml").write_text(
        "<annotation><filename>c.jpg</filename><object><name>ship</name></object></annotation>"
    )
    with pytest.raises(AnnotationError, match=r"c\.xml, <object> 0: missing <bndbox>"):
        list(open_reader("voc", tmp_path, "test").images())
    (tmp_path / "Annotations" / "c.xml").write_text("<annotation><oops></annotation>")
    with pytest.raises(AnnotationError, match=r"c\.xml: invalid XML"):
        list(open_reader("voc", tmp_path, "test").images())


def test_category_map_defaults_overrides_and_validation(tmp_path):
    mapper = CategoryMapper()
    assert mapper.resolve("Aircraft") == (True, "aircraft")
    assert mapper.resolve("A320/321") == (True, "aircraft") and mapper.resolve("Boeing787") == (True, "aircraft")
    assert mapper.resolve("Oil_Tank") == (True, "tank") and mapper.resolve("harbour") == (True, "harbor")
    assert mapper.resolve("other") == (False, None)
    path = tmp_path / "map.json"
    path.write_text(json.dumps({"other": "aircraft", "ship": None}))
    mapper = CategoryMapper.from_file(path)
    assert mapper.resolve("other") == (True, "aircraft") and mapper.resolve("Ship") == (True, None)
    path.write_text(json.dumps({"boat": "vessel"}))
    with pytest.raises(CategoryMapError, match="'vessel' is not one of"):
        CategoryMapper.from_file(path)
    path.write_text("[1, 2]")
    with pytest.raises(CategoryMapError, match="must be a JSON object"):
        CategoryMapper.from_file(path)
