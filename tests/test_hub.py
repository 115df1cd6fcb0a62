"""data=hub: the bundled sample published in every layout a release can take, read offline from a
hub-style cache (or a local folder), must give the predictions and metrics of data=sample."""

import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile
import time
import zipfile
from pathlib import Path, PurePosixPath

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_run import config, predictions

from sarbench.build import sample_data_dir
from sarbench.evaluate import run_from_config
from sarbench.runner import RunError
from sarbench.subsets import FILE_STEMS, SUBSETS

REPO = Path(__file__).resolve().parents[1]
ORACLE = ("model=oracle", "model.load_images=true", "scoring.meteor=false", "runner.progress=false")


def sample_files() -> dict[str, bytes]:
    root = sample_data_dir()
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def hub_cache(cache: Path, repo: str, files: dict[str, bytes], refs=("main",), kind="dataset") -> str:
    """A huggingface_hub cache entry as the client leaves it: blobs, snapshots/<commit>/ of links
    to them, refs/<name> holding the commit."""
    commit = hashlib.sha1(b"".join(k.encode() + hashlib.sha256(v).digest() for k, v in sorted(files.items())))
    commit = commit.hexdigest()
    folder = cache / f"{kind}s--{repo.replace('/', '--')}"
    for relative, data in files.items():
        blob = folder / "blobs" / hashlib.sha256(data).hexdigest()
        blob.parent.mkdir(parents=True, exist_ok=True)
        blob.write_bytes(data)
        link = folder / "snapshots" / commit / relative
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(os.path.relpath(blob, link.parent))
    for ref in refs:
        (folder / "refs").mkdir(exist_ok=True)
        (folder / "refs" / ref).write_text(commit)
    return commit


def run(out: Path, *overrides) -> dict:
    return run_from_config(config(*ORACLE, f"out={out}", *overrides))


def comparable(out: Path) -> dict:
    """Per sample what the model saw and answered (not where the files lay)."""
    keep = ("response", "labels", "messages", "images", "image_sha256")
    return {
        subset: {line["id"]: {k: line.get(k) for k in keep} for line in lines}
        for subset, lines in predictions(out).items()
    }


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    out = tmp_path_factory.mktemp("sample") / "run"
    result = run(out, "data=sample")
    return result, comparable(out), json.loads((out / "run_key.json").read_text())


def assert_same_as_sample(result: dict, out: Path, reference) -> None:
    expected_result, expected_predictions, _ = reference
    assert result["metrics"] == expected_result["metrics"]
    assert result["n"] == expected_result["n"] and set(result["n"]) == set(SUBSETS)
    assert comparable(out) == expected_predictions


def parquet_bytes(records: list[dict], root: Path) -> bytes:
    """A `datasets` table of ms-swift records with the images embedded (Image features)."""
    from datasets import Dataset, Features, Image, List, Value

    features = Features(
        {"messages": List({"role": Value("string"), "content": Value("string")}), "images": List(Image())}
    )
    rows = {
        "messages": [r["messages"] for r in records],
        "images": [[{"bytes": (root / r["images"][0]).read_bytes(), "path": r["images"][0]}] for r in records],
    }
    buffer = io.BytesIO()
    Dataset.from_dict(rows, features=features).to_parquet(buffer)
    return buffer.getvalue()


def sample_records(subset: str) -> list[dict]:
    return json.loads((sample_data_dir() / f"{FILE_STEMS[subset]}.json").read_text())


def test_json_layout_from_hub_cache_equals_sample_and_records_commit(tmp_path, reference):
    commit = hub_cache(tmp_path / "hub", "sarbench-test/SARChat", sample_files())
    out = tmp_path / "run"
    hub = ("data=hub", "data.repo=sarbench-test/SARChat", f"data.cache_dir={tmp_path / 'hub'}")
    result = run(out, *hub)
    assert_same_as_sample(result, out, reference)
    key = json.loads((out / "run_key.json").read_text())
    assert key["data_sha256"] == reference[2]["data_sha256"]  # the very files of the sample
    source = {"source": "hf", "repo": "sarbench-test/SARChat", "revision": None, "commit": commit, "layout": "json"}
    assert {k: key["data_source"][k] for k in source} == source
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["data_source"] == key["data_source"] and manifest["data"] == "SARChat"
    again = run(out, *hub)  # resume: everything done already
    assert again["metrics"] == result["metrics"]
    assert json.loads((out / "manifest.json").read_text())["samples_resumed"] == sum(result["n"].values())


def test_revision_is_pinned_by_tag_or_commit(tmp_path):
    files = sample_files()
    old = hub_cache(tmp_path / "hub", "org/sarchat", files, refs=("main", "v1"))
    changed = dict(files)
    stem = FILE_STEMS["classify"]
    changed[f"{stem}.json"] = json.dumps(json.loads(files[f"{stem}.json"])[:3]).encode()
    new = hub_cache(tmp_path / "hub", "org/sarchat", changed, refs=("main",))
    common = ("data=hub", "data.repo=org/sarchat", f"data.cache_dir={tmp_path / 'hub'}", "task=classify")
    assert run(tmp_path / "main", *common)["n"] == {"classify": 3}
    for revision, commit in (("v1", old), (old, old)):
        out = tmp_path / f"at-{revision[:8]}"
        assert run(out, *common, f"data.revision={revision}")["n"] == {"classify": 40}
        recorded = json.loads((out / "run_key.json").read_text())["data_source"]
        assert (recorded["revision"], recorded["commit"]) == (revision, commit)
    assert json.loads((tmp_path / "main" / "run_key.json").read_text())["data_source"]["commit"] == new


@pytest.mark.parametrize("kind", ["zip-flat", "tar.gz-nested"])
def test_json_layout_with_image_archive_equals_sample(tmp_path, reference, kind):
    files = {k: v for k, v in sample_files().items() if not k.startswith("images/")}
    images = {k: v for k, v in sample_files().items() if k.startswith("images/")}
    buffer = io.BytesIO()
    if kind == "zip-flat":  # images.zip holding scene_000.png ...: extracted into images/
        with zipfile.ZipFile(buffer, "w") as archive:
            for name, data in images.items():
                archive.writestr(name.split("/", 1)[1], data)
        files["images.zip"] = buffer.getvalue()
    else:  # SARChat_test_images.tar.gz holding images/scene_000.png ...: extracted as it is
        with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
            for name, data in images.items():
                info = tarfile.TarInfo(name)
                info.size = len(data)
                archive.addfile(info, io.BytesIO(data))
        files["SARChat_test_images.tar.gz"] = buffer.getvalue()
    hub_cache(tmp_path / "hub", "org/sarchat-archive", files)
    out = tmp_path / "run"
    result = run(out, "data=hub", "data.repo=org/sarchat-archive", f"data.cache_dir={tmp_path / 'hub'}")
    assert_same_as_sample(result, out, reference)
    assert json.loads((out / "run_key.json").read_text())["data_sha256"] == reference[2]["data_sha256"]


def test_parquet_with_embedded_images_from_hub_cache_equals_sample(tmp_path, reference):
    root = sample_data_dir()
    files = {f"{subset}/test-00000-of-00001.parquet": parquet_bytes(sample_records(subset), root) for subset in SUBSETS}
    files["README.md"] = b"---\nconfigs: one per subset\n---\n"
    hub_cache(tmp_path / "hub", "org/sarchat-parquet", files)
    out = tmp_path / "run"
    result = run(out, "data=hub", "data.repo=org/sarchat-parquet", f"data.cache_dir={tmp_path / 'hub'}")
    assert_same_as_sample(result, out, reference)
    assert json.loads((out / "run_key.json").read_text())["data_source"]["layout"] == "parquet"


def test_local_arrow_folder_with_image_paths_equals_sample(tmp_path, reference):
    """Layout (c): a local folder (no hub); arrow tables as save_to_disk writes them, images as
    path strings relative to the folder."""
    from datasets import Dataset

    local = tmp_path / "SARChat-local"
    (local / "images").mkdir(parents=True)
    for name, data in sample_files().items():
        if name.startswith("images/"):
            (local / name).write_bytes(data)
    for subset in SUBSETS:
        records = sample_records(subset)
        Dataset.from_dict(
            {"messages": [r["messages"] for r in records], "images": [r["images"] for r in records]}
        ).save_to_disk(str(local / "test" / subset))
    out = tmp_path / "run"
    result = run(out, "data=hub", f"data.repo={local}", f"data.cache_dir={tmp_path / 'prepared'}")
    assert_same_as_sample(result, out, reference)
    source = json.loads((out / "run_key.json").read_text())["data_source"]
    assert (source["source"], source["layout"], source["commit"]) == ("local", "arrow", None)


def test_table_without_subset_in_its_path_is_routed_by_content(tmp_path):
    root = sample_data_dir()
    chosen = ("classify", "count", "describe")
    rows = [r for subset in chosen for r in sample_records(subset)]
    hub_cache(tmp_path / "hub", "org/mixed", {"data/test-00000-of-00001.parquet": parquet_bytes(rows, root)})
    out = tmp_path / "run"
    result = run(
        out,
        "data=hub",
        "data.repo=org/mixed",
        f"data.cache_dir={tmp_path / 'hub'}",
        "task.subsets=[classify,count,describe]",
    )
    assert result["n"] == {s: len(sample_records(s)) for s in chosen}
    lines = predictions(out)["count"]
    assert [l["labels"] for l in lines] == [r["messages"][1]["content"] for r in sample_records("count")]


def test_table_without_messages_column_is_named(tmp_path):
    from datasets import Dataset

    buffer = io.BytesIO()
    Dataset.from_dict({"question": ["q"], "images": [["images/a.png"]]}).to_parquet(buffer)
    hub_cache(tmp_path / "hub", "org/bad", {"count/test.parquet": buffer.getvalue()})
    with pytest.raises(RunError, match=r"count/test.parquet.*no 'messages' column"):
        run(tmp_path / "run", "data=hub", "data.repo=org/bad", f"data.cache_dir={tmp_path / 'hub'}")


def test_release_without_sarchat_files_says_what_it_found(tmp_path):
    hub_cache(tmp_path / "hub", "org/other", {"test_notes.json": b"{}", "README.md": b"hello"})
    with pytest.raises(RunError, match=r"org/other has no SARChat test data.*found: README.md, test_notes.json"):
        run(tmp_path / "run", "data=hub", "data.repo=org/other", f"data.cache_dir={tmp_path / 'hub'}")


def test_images_missing_from_the_release_stop_before_any_work(tmp_path):
    files = {k: v for k, v in sample_files().items() if not k.startswith("images/")}
    hub_cache(tmp_path / "hub", "org/noimages", files)
    with pytest.raises(RunError, match=r"none of the 40 images .* is in the download \(first: images/scene_000.png"):
        run(tmp_path / "run", "data=hub", "data.repo=org/noimages", f"data.cache_dir={tmp_path / 'hub'}")
    assert not (tmp_path / "run" / "predictions").exists()


def test_archive_member_outside_the_folder_is_refused(tmp_path):
    files = {k: v for k, v in sample_files().items() if not k.startswith("images/")}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("../evil.png", b"x")
    files["images.zip"] = buffer.getvalue()
    hub_cache(tmp_path / "hub", "org/evil", files)
    with pytest.raises(RunError, match=r"member '../evil.png' would land outside"):
        run(tmp_path / "run", "data=hub", "data.repo=org/evil", f"data.cache_dir={tmp_path / 'hub'}")
    assert not (tmp_path / "evil.png").exists()


@pytest.mark.parametrize("source,hub", [("hf", "Hugging Face Hub"), ("modelscope", "ModelScope")])
def test_offline_and_not_cached_is_one_clear_message(tmp_path, source, hub):
    if source == "modelscope":
        pytest.importorskip("modelscope.hub.snapshot_download", reason="the modelscope client is not installed")
    with pytest.raises(
        RunError, match=rf"cannot get dataset org/absent@default branch from the {hub}: .*HF_HUB_OFFLINE=1"
    ):
        run(tmp_path / "run", "data=hub", "data.repo=org/absent", f"data.source={source}", f"data.cache_dir={tmp_path}")


def test_unreachable_hub_fails_fast_with_one_message(tmp_path):
    env = {**os.environ, "HF_HUB_OFFLINE": "0", "TRANSFORMERS_OFFLINE": "0", "HF_ENDPOINT": "http://127.0.0.1:9"}
    env["PYTHONPATH"] = str(REPO)
    start = time.monotonic()
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "sarbench",
            *ORACLE,
            "data=hub",
            "data.repo=org/absent",
            f"data.cache_dir={tmp_path}",
            f"out={tmp_path / 'run'}",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert time.monotonic() - start < 60  # no minutes of retries (the connection is refused at once)
    assert done.returncode == 2, done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "cannot get dataset org/absent@default branch from the Hugging Face Hub" in errors[0]
    assert "ConnectError" in errors[0] and "HF_ENDPOINT" in errors[0]
    assert "Traceback" not in done.stderr


def test_modelscope_without_its_client_says_how_to_install(tmp_path, monkeypatch):
    for name in ("modelscope", "modelscope.hub", "modelscope.hub.snapshot_download"):
        monkeypatch.setitem(sys.modules, name, None)  # as if not installed (also when imported before)
    with pytest.raises(
        RunError, match=r"data.source=modelscope needs the modelscope client: pip install 'sarbench\[modelscope\]'"
    ):
        run(tmp_path / "run", "data=hub", "data.repo=org/x", "data.source=modelscope")


def run_model(out: Path, *overrides) -> dict:
    common = ("scoring.meteor=false", "runner.progress=false", "task=classify", "runner.limit=2")
    return run_from_config(config(*common, "task.max_new_tokens=6", f"out={out}", *overrides))


def test_hub_model_id_loads_from_the_cache_and_records_its_commit(tmp_path, monkeypatch):
    """model.path=<org>/<repo> loads as transformers does (here offline from a hub cache); the
    commit is in the run key and manifest, and a branch moved to other weights is refused."""
    import huggingface_hub.constants

    from model_adapters.tiny import ensure_tiny_model

    local = ensure_tiny_model("qwen2_vl")
    weights = {p.relative_to(local).as_posix(): p.read_bytes() for p in sorted(local.rglob("*")) if p.is_file()}
    cache = tmp_path / "hub"
    commit = hub_cache(cache, "sarbench-test/tiny-qwen2vl", weights, kind="model")
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(cache))
    files = {f"{s}/test.parquet": parquet_bytes(sample_records(s), sample_data_dir()) for s in ("classify",)}
    hub_cache(cache, "sarbench-test/SARChat", files)
    hub_data = ("data=hub", "data.repo=sarbench-test/SARChat", f"data.cache_dir={cache}")
    from_hub = ("model=tiny-qwen2vl", "model.tiny=null", "model.path=sarbench-test/tiny-qwen2vl")
    run_model(tmp_path / "local", "model=tiny-qwen2vl", "data=sample")
    run_model(tmp_path / "hub-run", *from_hub, *hub_data)
    assert comparable(tmp_path / "hub-run") == comparable(tmp_path / "local")  # same weights, same pixels
    key = json.loads((tmp_path / "hub-run" / "run_key.json").read_text())
    expected = {"hub_id": "sarbench-test/tiny-qwen2vl", "revision": None, "commit": commit}
    assert key["checkpoint"] == expected
    assert json.loads((tmp_path / "hub-run" / "manifest.json").read_text())["checkpoint"] == expected
    moved = dict(weights, **{"generation_config.json": b'{"max_length": 99}'})
    new = hub_cache(cache, "sarbench-test/tiny-qwen2vl", moved, kind="model")  # main now points here
    with pytest.raises(
        RunError, match=rf"checkpoint: sarbench-test/tiny-qwen2vl@default revision \(commit {commit}\) -> .*{new}"
    ):
        run_model(tmp_path / "hub-run", *from_hub, *hub_data)


def test_modelscope_cache_equals_sample(tmp_path, reference):
    pytest.importorskip("modelscope.hub.snapshot_download", reason="the modelscope client is not installed")
    snapshot = tmp_path / "ms" / "datasets" / "org--SARChat" / "snapshots" / "master"
    for name, data in sample_files().items():
        (snapshot / name).parent.mkdir(parents=True, exist_ok=True)
        (snapshot / name).write_bytes(data)
    out = tmp_path / "run"
    result = run(
        out, "data=hub", "data.source=modelscope", "data.repo=org/SARChat", f"data.cache_dir={tmp_path / 'ms'}"
    )
    assert_same_as_sample(result, out, reference)
    source = json.loads((out / "run_key.json").read_text())["data_source"]
    assert (source["source"], source["repo"], source["commit"]) == ("modelscope", "org/SARChat", None)


def test_download_fetches_only_the_split_and_its_images(tmp_path, reference):
    """The real client (the CLI, HF_ENDPOINT) against a hub stand-in on 127.0.0.1: the test
    files, then the image folder they name; the release's training files are never downloaded."""
    from fake_hub import FakeHub

    files = dict(sample_files())
    files["SARChat_classify_count_train.json"] = b"[]"
    files["train_images/scene_999.png"] = b"not fetched"
    files["train_images.zip"] = b"not fetched either"
    out = tmp_path / "run"
    with FakeHub("org/SARChat", files) as hub:
        env = {**os.environ, "HF_HUB_OFFLINE": "0", "TRANSFORMERS_OFFLINE": "0", "HF_ENDPOINT": hub.endpoint}
        done = subprocess.run(
            [sys.executable, "-m", "sarbench", *ORACLE, "data=hub", "data.repo=org/SARChat"]
            + [f"data.cache_dir={tmp_path / 'hub'}", f"out={out}"],
            capture_output=True,
            text=True,
            env={**env, "PYTHONPATH": str(REPO)},
            timeout=300,
        )
    assert done.returncode == 0, done.stderr[-3000:]
    assert json.loads((out / "metrics.json").read_text())["metrics"] == reference[0]["metrics"]
    assert comparable(out) == reference[1]
    expected = [f"{stem}.json" for stem in FILE_STEMS.values()] + [n for n in files if n.startswith("images/")]
    assert sorted(hub.downloaded) == sorted(expected)  # not the README, annotations or training files
    assert json.loads((out / "run_key.json").read_text())["data_source"]["commit"] == hub.commit


def test_a_folder_prepared_meanwhile_by_another_run_is_used(tmp_path):
    from sarbench.hub import COMPLETE, _once

    work = tmp_path / "prepared"

    def build(tmp: Path) -> Path:  # another run finishes the same folder while this one builds
        work.mkdir()
        (work / "theirs").write_text("x")
        (work / COMPLETE).write_text(".\n")
        (tmp / "ours").write_text("y")
        return tmp

    assert _once(work, build) == work
    assert sorted(p.name for p in work.iterdir()) == sorted([COMPLETE, "theirs"])
    assert [p.name for p in tmp_path.iterdir()] == ["prepared"]  # nothing half-built left behind
    assert _once(work, lambda tmp: pytest.fail("a finished folder is not built again")) == work


@given(st.text(alphabet=st.sampled_from("ab./\\:C"), max_size=12))
@settings(max_examples=300, deadline=None)
def test_stored_image_paths_never_leave_the_prepared_folder(stored):
    from sarbench.hub_tables import _clean

    cleaned = _clean(stored)
    assert not cleaned.startswith("/") and ":" not in cleaned and "\\" not in cleaned and cleaned != "."
    assert ".." not in PurePosixPath(cleaned).parts
    target = Path("/prepared")
    assert os.path.normpath(target / (cleaned or "x")).startswith(str(target) + "/")
