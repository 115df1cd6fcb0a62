"""sarbench view: the page's data (records, matches, sizes, thumbnails), its escaping and its errors.
The page in a real browser: tests/test_view_browser.py."""

import base64
import gzip
import hashlib
import io
import json
import re
import shutil

import pytest
from PIL import Image
from view_runs import HOSTILE, HOSTILE_ID, details, make_run

from sarbench.cli import main as cli_main
from sarbench.view.__main__ import write_view
from sarbench.view.page import embedded_data as embedded_data_of
from sarbench.view.samples import ViewError
from sarbench.view.thumbnails import image_entry, original_href


@pytest.fixture(scope="module")
def run_a(tmp_path_factory):
    return make_run(tmp_path_factory.mktemp("view") / "a", 0, failed="classify/1")


@pytest.fixture(scope="module")
def run_b(tmp_path_factory, run_a):
    return make_run(run_a.parent / "b", 1, model="model-b")


def embedded_data(page: str) -> dict:
    match = re.search(r'<script type="application/octet-stream" id="sarbench-data">(.*?)</script>', page, re.S)
    return json.loads(gzip.decompress(base64.b64decode(match.group(1))))


def records(data: dict, run: int = 0) -> dict[str, dict]:
    return {r["id"]: r for r in data["runs"][run]["samples"]}


def test_records_carry_the_scorers_matches_sizes_and_outcomes(run_a, tmp_path):
    data = write_view([run_a], tmp_path / "page.html")
    by_id = records(data)
    grounding = by_id["grounding_multi/0"]
    assert grounding["c"] == {"grounding.multi": [1, 1, 1]}
    assert grounding["m"] == {"grounding.multi": [[0, 0]]}  # first predicted box on first reference box
    assert grounding["p"]["b"] == [[22, 20, 120, 80], [300, 10, 380, 60]] and grounding["p"]["bl"] == ["ship"] * 2
    assert grounding["sz"] == ["small", "medium"] and grounding["cat"] == ["ship"] and grounding["ok"] == 0
    count = by_id["count/0"]
    assert count["m"] == {"count.iou25": [[0, 0]], "count.iou50": []}
    assert count["ce"] == 0 and count["cx"] == 1 and count["ok"] == 0  # the box misses at IoU 0.5
    assert by_id["classify/0"]["ok"] == 1 and "m" not in by_id["classify/0"]
    assert by_id["classify/2"]["pf"] == 1 and by_id["classify/2"]["ok"] == 0
    assert by_id["classify/1"]["err"].startswith("RuntimeError: out of memory")
    assert by_id["identify_single/0"]["qb"] == [[20, 20, 120, 80]]
    assert by_id["identify_single/0"]["q"].endswith("{<20><20><120><80>}?")
    # every record agrees with details.jsonl: one pair per true positive
    rows = details(run_a)
    for sample_id, record in by_id.items():
        for metric, pairs in record.get("m", {}).items():
            assert len(pairs) == rows[sample_id]["counts"][metric]["tp"], (sample_id, metric)
        assert record["pf"] == rows[sample_id]["parse_fail"] and record["r"] == rows[sample_id]["response"]


def test_hostile_strings_cannot_leave_the_data_element(run_a, tmp_path):
    out = tmp_path / "page.html"
    data = write_view([run_a], out)
    page = out.read_text(encoding="utf-8")
    assert page.count("<script") == 2 and page.count("</script>") == 2  # the template's own two
    assert "<img" not in page and "__pwned" not in page  # compressed, base64: no markup of the run's
    assert embedded_data(page) == json.loads(json.dumps(data))
    assert records(embedded_data(page))[HOSTILE_ID]["r"] == HOSTILE
    lone_surrogate = {"s": "\ud800</script>"}  # text a model can emit, not encodable as UTF-8
    assert json.loads(gzip.decompress(base64.b64decode(embedded_data_of(lone_surrogate)))) == lone_surrogate


def test_content_security_policy_allows_only_the_pages_own_script_and_style(run_a, tmp_path):
    out = tmp_path / "page.html"
    write_view([run_a], out)
    page = out.read_text(encoding="utf-8")
    policy = re.search(r'http-equiv="Content-Security-Policy" content="([^"]*)"', page).group(1)
    script = re.findall(r"<script>(.*?)</script>", page, re.S)[0]
    style = re.search(r"<style>(.*?)</style>", page, re.S).group(1)
    for text, directive in ((script, "script-src"), (style, "style-src")):
        digest = base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()
        assert f"{directive} 'sha256-{digest}'" in policy
    assert "unsafe-inline" not in policy and "default-src 'none'" in policy


def test_thumbnails_are_small_jpegs_and_keep_the_original_size(run_a, tmp_path):
    data = write_view([run_a], tmp_path / "page.html")
    [image] = data["images"]  # every sample shows the same scene: embedded once
    assert (image["w"], image["h"]) == (400, 200)
    header, payload = image["src"].split(",", 1)
    assert header == "data:image/jpeg;base64"
    with Image.open(io.BytesIO(base64.b64decode(payload))) as thumbnail:
        assert thumbnail.format == "JPEG" and thumbnail.size == (256, 128)
    assert image["href"] == "../a/../images/scene.png" or image["href"].endswith("images/scene.png")
    assert (tmp_path / image["href"]).resolve() == (run_a.parent / "images" / "scene.png").resolve()


def test_linked_originals_sixteen_bit_and_missing_images(tmp_path):
    wide = tmp_path / "deep" / "sar 16#bit.png"
    wide.parent.mkdir()
    Image.frombytes("I;16", (300, 100), bytes(range(256)) * 234 + bytes(96)).save(wide)
    entry = image_entry(str(wide), tmp_path, 64)
    with Image.open(io.BytesIO(base64.b64decode(entry["src"].split(",", 1)[1]))) as thumbnail:
        assert thumbnail.size == (64, 21) and thumbnail.getextrema() != (0, 0)
    linked = image_entry(str(wide), tmp_path, 0)
    assert linked == {"w": 300, "h": 100, "src": "deep/sar%2016%23bit.png", "href": "deep/sar%2016%23bit.png"}
    assert original_href("/x/javascript:alert(1)", tmp_path).endswith("javascript%3Aalert%281%29")
    missing = image_entry(str(tmp_path / "gone.png"), tmp_path, 64)
    assert missing["missing"].startswith("image not found") and "src" not in missing
    assert image_entry(str(tmp_path), tmp_path, 64) == {"missing": f"{tmp_path} is a directory"}


def test_two_runs_are_joined_by_sample_id(run_a, run_b, tmp_path):
    data = write_view([run_a, run_b], tmp_path / "page.html")
    names = [r["name"] for r in data["runs"]]  # named as the leaderboard names them
    assert names[0].startswith("model-a (viewer-test)") and names[1].startswith("model-b (viewer-test)")
    assert len(data["runs"][0]["samples"]) == len(data["runs"][1]["samples"]) + 1
    assert records(data, 1)["grounding_multi/0"]["m"] == {"grounding.multi": [[0, 0], [1, 1]]}


def test_unusable_runs_are_refused_with_the_file_and_problem(run_a, tmp_path):
    with pytest.raises(ViewError, match=r"details.jsonl not found"):
        write_view([tmp_path], tmp_path / "page.html")
    broken = tmp_path / "broken"
    broken.mkdir()
    lines = (run_a / "details.jsonl").read_text().strip().split("\n")
    (broken / "details.jsonl").write_text("\n".join([lines[0], "{not json", *lines[1:]]) + "\n")
    with pytest.raises(ViewError, match=r"broken/details.jsonl: corrupt detail on line 2"):
        write_view([broken], tmp_path / "page.html")
    (broken / "details.jsonl").write_text(lines[0] + "\n" + lines[0] + "\n")
    with pytest.raises(ViewError, match=r"line 2: sample id .* again"):
        write_view([broken], tmp_path / "page.html")
    with pytest.raises(ViewError, match="one run or two"):
        write_view([run_a, run_a, run_a], tmp_path / "page.html")
    other = tmp_path / "other"
    other.mkdir()
    (other / "details.jsonl").write_text(lines[0].replace('"id": "', '"id": "other-') + "\n")
    with pytest.raises(ViewError, match="share no sample ids"):
        write_view([run_a, other], tmp_path / "page.html")


def test_cli_verb_writes_the_page(run_a, tmp_path, capsys):
    out = tmp_path / "sub" / "v.html"
    assert cli_main(["view", str(run_a), "-o", str(out)]) == 0
    assert f"wrote {out} (8 samples, 1 images" in capsys.readouterr().out
    assert embedded_data(out.read_text(encoding="utf-8"))["title"].startswith("sarbench: model-a (viewer-test)")
    assert cli_main(["view", str(tmp_path / "nothing")]) == 1
    assert "details.jsonl not found" in capsys.readouterr().err
    assert cli_main(["--help"]) == 0 and "view" in capsys.readouterr().out


def test_what_the_page_cannot_show_is_said(run_a, tmp_path):
    folder = tmp_path / "run"
    shutil.copytree(run_a, folder)
    metrics = json.loads((folder / "metrics.json").read_text())
    metrics["malformed"] = [{"path": "x.json", "index": 3, "problem": "no labels"}]
    metrics["not_attempted"] = {"describe": "needs a category per object"}
    (folder / "metrics.json").write_text(json.dumps(metrics))
    data = write_view([folder], tmp_path / "page.html")
    assert data["runs"][0]["notes"] == [
        "1 malformed record(s) left out of the scores: listed in metrics.json",
        "describe: not attempted (needs a category per object)",
    ]


def test_a_page_of_some_subsets(run_a, run_b, tmp_path, capsys):
    data = write_view([run_a, run_b], tmp_path / "page.html", subsets=["count", "grounding_multi"])
    assert [[r["id"] for r in run["samples"]] for run in data["runs"]] == [["count/0", "grounding_multi/0"]] * 2
    with pytest.raises(ViewError, match="unknown subset.*counting; the subsets are: classify"):
        write_view([run_a], tmp_path / "page.html", subsets=["counting"])
    with pytest.raises(ViewError, match="no sample of describe in"):
        write_view([run_a], tmp_path / "page.html", subsets=["describe"])
    assert cli_main(["view", str(run_a), "--subsets", "count, classify", "-o", str(tmp_path / "v.html")]) == 0
    assert "(6 samples, 1 images" in capsys.readouterr().out
