"""The run folder: versioned files, corrupt files named with a fix that works, identity of the
checkpoint and images behind each prediction, write failures."""

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from test_run import REPO, make_dataset, predictions, run

from model_adapters.oracle import OracleBackend
from sarbench.identity import checkpoint_identity
from sarbench.run_folder import SCHEMA_VERSION
from sarbench.runner import RunError
from sarbench.subsets import FILE_STEMS


def test_documents_carry_the_schema_version_and_a_pre_schema_folder_resumes(tmp_path):
    data = make_dataset(tmp_path / "data", per_subset=4)
    out = tmp_path / "run"
    run(data, out, "task=count", "runner.limit=2")
    for name in ("run_key.json", "manifest.json", "metrics.json"):
        assert json.loads((out / name).read_text())["schema_version"] == SCHEMA_VERSION, name
    key = json.loads((out / "run_key.json").read_text())
    del key["schema_version"], key["checkpoint"]  # today's main wrote neither
    (out / "run_key.json").write_text(json.dumps(key))
    for line in predictions(out)["count"]:
        assert "image_sha256" in line
    assert run(data, out, "task=count")["n"] == {"count": 4}


def test_a_folder_of_a_newer_sarbench_is_refused_for_runs_and_tables(tmp_path):
    from sarbench.reports.runs import load_runs

    data = make_dataset(tmp_path / "data", per_subset=2)
    out = tmp_path / "run"
    run(data, out, "task=classify")
    for name in ("run_key.json", "metrics.json"):
        document = json.loads((out / name).read_text())
        (out / name).write_text(json.dumps({**document, "schema_version": 3}))
    message = r"newer sarbench \(schema 3, this one reads 1\): upgrade"
    with pytest.raises(RunError, match=message):
        run(data, out, "task=classify", "runner.overwrite=true")
    with pytest.raises(SystemExit, match=message):
        load_runs([out])


def test_a_predictions_path_that_is_not_a_file_is_refused_not_read_forever(tmp_path):
    data = make_dataset(tmp_path / "data", per_subset=2)
    out = tmp_path / "run"
    (out / "predictions").mkdir(parents=True)
    (out / "predictions" / "classify.jsonl").symlink_to("/dev/zero")
    with pytest.raises(RunError, match="classify.jsonl is not a regular file"):
        run(data, out, "task=classify")


@pytest.mark.parametrize(
    "line",
    [
        "42",
        "[1, 2]",
        '{"response": "It is ship."}',
        '{"id": 7}',
        '{"id": "classify/1", "response": 5}',
        '"\\ud800"',
        "nonsense",
        "[" * 100_000 + "]" * 100_000,  # nested too deeply for the JSON reader
    ],
)
def test_a_predictions_line_that_is_not_a_record_is_named_and_both_fixes_work(tmp_path, line):
    data = make_dataset(tmp_path / "data", per_subset=3)
    out = tmp_path / "run"
    run(data, out, "task=classify", "runner.limit=2")
    path = out / "predictions" / "classify.jsonl"
    path.write_text(path.read_text() + line + "\n")
    with pytest.raises(RunError, match=r"classify.jsonl: corrupt prediction on line 3.*move classify.jsonl aside"):
        run(data, out, "task=classify")
    with pytest.raises(RunError, match="line 3"):  # still refused, not silently skipped
        run(data, out, "task=classify")
    assert run(data, out, "task=classify", "runner.overwrite=true")["n"] == {"classify": 3}
    path.write_text(path.read_text() + line + "\n")
    path.rename(tmp_path / "aside.jsonl")
    assert run(data, out, "task=classify")["n"] == {"classify": 3}


@pytest.mark.parametrize(
    "text", ['{"protocol": "sarchat-v1", "mod', "[]", '"key"', '{"protocol": 1}', "", "[" * 100_000 + "]" * 100_000]
)
def test_an_unreadable_run_key_is_named_and_overwrite_starts_afresh(tmp_path, text):
    data = make_dataset(tmp_path / "data", per_subset=2)
    out = tmp_path / "run"
    run(data, out, "task=classify")
    (out / "run_key.json").write_text(text)
    with pytest.raises(RunError, match=r"run_key.json.*runner.overwrite=true"):
        run(data, out, "task=classify")
    assert run(data, out, "task=classify", "runner.overwrite=true")["n"] == {"classify": 2}
    assert json.loads((out / "run_key.json").read_text())["protocol"] == "sarchat-v1"


def test_a_missing_run_key_beside_predictions_is_refused_not_recreated(tmp_path):
    data = make_dataset(tmp_path / "data", per_subset=2)
    out = tmp_path / "run"
    run(data, out, "task=classify")
    (out / "run_key.json").unlink()
    with pytest.raises(RunError, match="no run_key.json.*runner.overwrite=true"):
        run(data, out, "task=classify")
    assert not (out / "run_key.json").exists()
    assert run(data, out, "task=classify", "runner.overwrite=true")["n"] == {"classify": 2}


def test_a_corrupt_manifest_is_kept_aside_and_reported(tmp_path):
    data = make_dataset(tmp_path / "data", per_subset=2)
    out = tmp_path / "run"
    run(data, out, "task=classify")
    (out / "manifest.json").write_text('{"sessions": [')
    run(data, out, "task=classify")
    kept = list(out.glob("manifest.json.corrupt-*"))
    assert len(kept) == 1 and kept[0].read_text() == '{"sessions": ['
    manifest = json.loads((out / "manifest.json").read_text())
    assert any(kept[0].name in event for event in manifest["events"])


def fake_checkpoint(folder: Path) -> Path:
    folder.mkdir()
    (folder / "config.json").write_text('{"model_type": "fake"}')
    (folder / "model.safetensors").write_bytes(b"\0" * 4096)
    return folder


def test_a_changed_checkpoint_is_refused_listing_the_files(tmp_path, monkeypatch):
    data = make_dataset(tmp_path / "data", per_subset=2)
    checkpoint = fake_checkpoint(tmp_path / "ckpt")
    monkeypatch.setattr(OracleBackend, "checkpoint_location", lambda self: str(checkpoint))
    out = tmp_path / "run"
    run(data, out, "task=classify", "runner.limit=1")
    key = json.loads((out / "run_key.json").read_text())
    assert key["checkpoint"]["files"]["model.safetensors"]["size"] == 4096
    (checkpoint / "model.safetensors").write_bytes(b"\1" * 5000)  # a re-merged LoRA
    (checkpoint / "config.json").write_text('{"model_type": "other"}')
    with pytest.raises(
        RunError,
        match=r"checkpoint files changed: config.json \(size, mtime_ns, sha256\), "
        r"model.safetensors \(size, mtime_ns, sha256\)",
    ):
        run(data, out, "task=classify")
    assert run(data, out, "task=classify", "runner.overwrite=true")["n"] == {"classify": 2}


def test_checkpoint_identity_hashes_only_small_files_and_skips_dot_folders(tmp_path):
    checkpoint = fake_checkpoint(tmp_path / "ckpt")
    (checkpoint / ".cache").mkdir()
    (checkpoint / ".cache" / "x").write_text("touched by the hub client")
    os.truncate(checkpoint / "model.safetensors", 2 << 20)
    identity = checkpoint_identity(str(checkpoint))
    assert set(identity["files"]) == {"config.json", "model.safetensors"}
    assert "sha256" in identity["files"]["config.json"] and "sha256" not in identity["files"]["model.safetensors"]
    assert checkpoint_identity("org/model", "abc") == {"hub_id": "org/model", "revision": "abc", "commit": None}


def test_changed_image_bytes_are_refused_naming_them_but_a_touch_is_not(tmp_path):
    data = make_dataset(tmp_path / "data", per_subset=4)
    out = tmp_path / "run"
    run(data, out, "task=count", "runner.limit=2")
    image = data / "images" / "a.png"
    os.utime(image, ns=(1, 1))  # same bytes, new mtime: hashed once, accepted
    assert run(data, out, "task=count", "runner.limit=3")["n"] == {"count": 3}
    from PIL import Image

    Image.new("L", (256, 256), 200).save(image)
    with pytest.raises(RunError, match=r"1 image\(s\) of done count predictions changed.*a.png.*runner.overwrite=true"):
        run(data, out, "task=count")
    result = run(data, out, "task=count", "runner.overwrite=true")
    assert result["n"] == {"count": 4}
    lines = predictions(out)["count"]
    assert sorted(l["id"] for l in lines) == [f"count/{i}" for i in range(4)]


def test_a_lone_surrogate_in_prompt_and_answer_is_written_and_scores_the_same(tmp_path):
    from sarbench.score import main as score_main

    data = make_dataset(tmp_path / "data", per_subset=2)
    path = data / f"{FILE_STEMS['classify']}.json"
    records = json.loads(path.read_text())
    records[0]["messages"][0]["content"] += "\ud800"
    records[0]["messages"][1]["content"] = "It is ship.\udcff"
    path.write_text(json.dumps(records))  # ensure_ascii: the file holds the escapes
    out = tmp_path / "run"
    result = run(data, out, "task=classify")
    assert predictions(out)["classify"][0]["response"] == "It is ship.\udcff"
    rescored = tmp_path / "rescored.json"
    assert score_main([str(out / "predictions"), "--out", str(rescored), "--quiet"]) == 0
    assert json.loads(rescored.read_text())["metrics"] == result["metrics"]
    assert "\\udcff" in (out / "details.jsonl").read_text()


# -- other processes: the lock, and a user who may not write ------------------------------------
def _cli(data: Path, out: Path, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "sarbench",
        "data=built",
        f"data.root={data}",
        f"out={out}",
        "scoring.meteor=false",
        "runner.progress=false",
        "task=count",
        *extra,
    ]


def _env() -> dict:
    return {**os.environ, "PYTHONPATH": str(REPO), "PYTHONUNBUFFERED": "1"}


def test_a_second_writer_is_refused_naming_the_holder_and_a_dead_ones_lock_is_taken_over(tmp_path):
    import time

    data = make_dataset(tmp_path / "data", per_subset=40)
    out = tmp_path / "run"
    first = subprocess.Popen(
        _cli(data, out, "model.delay_s=0.5", "runner.batch_size=1"),
        env=_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        while not (out / ".lock").is_file() or f'"pid": {first.pid}' not in (out / ".lock").read_text():
            assert first.poll() is None and time.monotonic() < deadline, "first run did not take the lock"
            time.sleep(0.2)
        second = subprocess.run(
            _cli(data, out, "model.delay_s=0.5"), env=_env(), capture_output=True, text=True, timeout=300
        )
        assert second.returncode == 2
        assert f"being written by another sarbench run (pid {first.pid} on " in second.stderr
        assert "Traceback" not in second.stderr
    finally:
        first.kill()
        first.wait()
    assert f'"pid": {first.pid}' in (out / ".lock").read_text()  # left behind by the dead run
    third = subprocess.run(
        _cli(data, out, "model.delay_s=0.5", "runner.batch_size=40"),
        env=_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert third.returncode == 0, third.stderr
    assert (out / ".lock").read_text() == ""


RUN_AS_USER = """
import sys
from hydra import compose, initialize_config_dir
from sarbench.__main__ import CONF_DIR
from sarbench.evaluate import RunError, run_from_config
with initialize_config_dir(config_dir=str(CONF_DIR), version_base=None):
    cfg = compose(config_name="config", overrides=sys.argv[1:])
try:
    run_from_config(cfg)
except RunError as exc:
    print(f"error: {exc}", file=sys.stderr)
    sys.exit(2)
"""


FILE_SIZE_LIMIT = """
import resource, signal, sys
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # writes past the limit fail with EFBIG, like a full disk
resource.setrlimit(resource.RLIMIT_FSIZE, (20000, 20000))
"""


def test_a_full_disk_gives_the_cannot_write_message_and_the_next_run_resumes(tmp_path):
    data = make_dataset(tmp_path / "data", per_subset=100)
    overrides = [
        "data=built",
        f"data.root={data}",
        f"out={tmp_path / 'run'}",
        "scoring.meteor=false",
        "runner.progress=false",
        "task=count",
        "runner.batch_size=7",
    ]
    full = subprocess.run(
        [sys.executable, "-c", FILE_SIZE_LIMIT + RUN_AS_USER, *overrides],
        env=_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert full.returncode == 2, full.stderr
    assert "cannot write predictions to" in full.stderr and "File too large" in full.stderr
    assert "intact" in full.stderr and "Traceback" not in full.stderr
    done = predictions_of_valid_lines(tmp_path / "run" / "predictions" / "count.jsonl")
    assert 0 < len(done) < 100
    assert run(data, tmp_path / "run", "task=count", "runner.batch_size=7")["n"] == {"count": 100}


def predictions_of_valid_lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines(keepends=True) if line.endswith("\n")]


def _runs_as(user: int) -> bool:
    try:
        return subprocess.run([sys.executable, "-c", "pass"], user=user, timeout=60).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


def test_read_only_output_and_predictions_in_process(tmp_path, monkeypatch):
    """The same cases as below, with the permission errors a non-root user gets simulated."""
    from sarbench import prediction_store

    data = make_dataset(tmp_path / "data", per_subset=2)
    out = tmp_path / "run"
    real_open, real_os_open = open, os.open

    def read_only_open(path, mode="r", *args, **kwargs):
        if str(path).startswith(str(out / "predictions")) and any(m in mode for m in "wa+"):
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, mode, *args, **kwargs)

    def read_only_os_open(path, flags, *args, **kwargs):
        if str(path).startswith(str(out)) and flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT):
            raise PermissionError(13, "Permission denied", str(path))
        return real_os_open(path, flags, *args, **kwargs)

    out.mkdir()
    with monkeypatch.context() as patch:
        patch.setattr(os, "open", read_only_os_open)
        with pytest.raises(RunError, match=r"cannot write .*\.lock.*Permission denied"):
            run(data, out, "task=classify")
    run(data, out, "task=classify")
    monkeypatch.setattr(prediction_store, "open", read_only_open, raising=False)
    assert run(data, out, "task=classify")["n"] == {"classify": 2}


@pytest.mark.skipif(
    os.geteuid() != 0 or not _runs_as(65534), reason="needs root, and an interpreter an unprivileged user may run"
)
def test_read_only_folders_as_an_unprivileged_user(tmp_path):
    nobody = 65534
    base = Path(tempfile.mkdtemp(dir="/tmp"))
    try:
        base.chmod(0o755)
        data = make_dataset(base / "data", per_subset=2)
        out = base / "run"
        overrides = [
            "data=built",
            f"data.root={data}",
            f"out={out}",
            "scoring.meteor=false",
            "runner.progress=false",
            "task=classify",
        ]

        def as_nobody():
            return subprocess.run(
                [sys.executable, "-c", RUN_AS_USER, *overrides],
                env=_env(),
                user=nobody,
                capture_output=True,
                text=True,
                timeout=300,
            )

        out.mkdir()
        out.chmod(0o555)  # a read-only output folder
        refused = as_nobody()
        assert refused.returncode == 2 and "cannot write" in refused.stderr, refused.stderr
        assert "Traceback" not in refused.stderr
        shutil.chown(out, nobody, nobody)
        out.chmod(0o755)
        assert as_nobody().returncode == 0
        for path in [out / "predictions", *(out / "predictions").iterdir()]:
            path.chmod(0o555 if path.is_dir() else 0o444)  # done predictions, nothing to repair
        shutil.chown(out / "predictions", 0, 0)
        again = as_nobody()
        assert again.returncode == 0, again.stderr
    finally:
        shutil.rmtree(base)


def _hypothesis_lines():
    from hypothesis import strategies as st

    json_values = st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=8),
        lambda inner: (
            st.lists(inner, max_size=3)
            | st.dictionaries(st.sampled_from(["id", "response", "error", "x"]), inner, max_size=3)
        ),
        max_leaves=6,
    )
    as_json = json_values.map(lambda v: json.dumps(v).encode())
    return st.one_of(as_json, st.binary(max_size=30))


def test_any_predictions_line_resumes_or_stops_with_a_message(tmp_path_factory):
    from hypothesis import HealthCheck, given, settings

    base = tmp_path_factory.mktemp("fuzz")
    data = make_dataset(base / "data", per_subset=3)
    clean = base / "clean"
    run(data, clean, "task=count", "runner.limit=2")
    original = (clean / "predictions" / "count.jsonl").read_bytes()
    untouched = [json.loads(l) for l in original.splitlines()]

    @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
    @given(line=_hypothesis_lines(), position=st_integers())
    def check(line, position):
        out = base / "case"
        shutil.rmtree(out, ignore_errors=True)
        shutil.copytree(clean, out)
        kept = original.splitlines(keepends=True)
        kept.insert(position % (len(kept) + 1), line + b"\n")
        (out / "predictions" / "count.jsonl").write_bytes(b"".join(kept))
        try:
            run(data, out, "task=count")
        except RunError as exc:
            assert "count.jsonl" in str(exc)
            return
        details = {row["id"]: row for row in map(json.loads, (out / "details.jsonl").read_text().splitlines())}
        for record in untouched:  # untouched samples keep their answer and score
            if record["id"] in details:
                assert details[record["id"]]["response"] == record["response"]
                assert details[record["id"]]["parse_fail"] is False

    check()


def st_integers():
    from hypothesis import strategies as st

    return st.integers(min_value=0, max_value=3)
