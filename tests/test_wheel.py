"""The wheel works outside the checkout: built, installed into a folder of its own, run from an
empty directory with nothing of the checkout importable (deselect with `-m "not wheel"`)."""

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGE_ROOTS = ("sarbench", "metrics", "model_adapters")
SOURCES = ("pyproject.toml", "README.md", "conf", *PACKAGE_ROOTS)

pytestmark = pytest.mark.wheel


def pip(*args: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", *args, "--no-deps", "--no-cache-dir", "-q"],
        check=True,
        capture_output=True,
        timeout=300,
    )


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """Built from a copy of the sources, so no stale build/ folder of the checkout can leak in."""
    work = tmp_path_factory.mktemp("wheel")
    source = work / "src"
    source.mkdir()
    for name in SOURCES:
        if (REPO / name).is_dir():
            shutil.copytree(REPO / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(REPO / name, source / name)
    pip("wheel", "--no-build-isolation", "-w", str(work / "dist"), str(source))
    (built,) = (work / "dist").glob("sarbench-*.whl")
    return built


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory) -> Path:
    target = tmp_path_factory.mktemp("site")
    pip("install", "--target", str(target), str(wheel))
    return target


def run_installed(installed: Path, cwd: Path, *command: str) -> subprocess.CompletedProcess:
    # PYTHONPATH replaced, not extended: only the installed copy of sarbench comes before site-packages
    env = {**os.environ, "PYTHONPATH": str(installed)}
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def test_wheel_holds_every_package_config_and_data_file(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for root in PACKAGE_ROOTS:
        for init in (REPO / root).rglob("__init__.py"):
            assert init.relative_to(REPO).as_posix() in names, f"package {init.parent} missing: see pyproject.toml"
    for config in (REPO / "conf").rglob("*.yaml"):
        assert f"sarbench/conf/{config.relative_to(REPO / 'conf').as_posix()}" in names
    for data in (REPO / "sarbench" / "sample_data").rglob("*"):
        if data.is_file():
            assert data.relative_to(REPO).as_posix() in names
    for module in (REPO / "model_adapters" / "tiny").glob("*.py"):
        assert module.relative_to(REPO).as_posix() in names
    assert "sarbench/build/README.md" in names
    for static in (REPO / "sarbench" / "view" / "static").iterdir():
        assert static.relative_to(REPO).as_posix() in names, f"{static} missing: see pyproject package-data"


def test_installed_copy_is_the_one_imported(installed, tmp_path):
    code = "import sarbench, sarbench.__main__ as m; print(sarbench.__file__); print(m.CONF_DIR)"
    done = run_installed(installed, tmp_path, sys.executable, "-c", code)
    assert done.returncode == 0, done.stderr
    module_file, conf_dir = map(Path, done.stdout.split())
    assert module_file.is_relative_to(installed) and conf_dir == installed / "sarbench" / "conf"


def test_help_and_resolved_config_from_an_empty_directory(installed, tmp_path):
    help_text = run_installed(installed, tmp_path, sys.executable, "-m", "sarbench", "--help")
    assert help_text.returncode == 0, help_text.stderr
    assert "tiny-qwen2vl" in help_text.stdout and "grounding" in help_text.stdout  # groups listed
    job = run_installed(installed, tmp_path, sys.executable, "-m", "sarbench", "model=oracle", "--cfg", "job")
    assert job.returncode == 0, job.stderr
    assert "backend: oracle" in job.stdout
    assert list(tmp_path.iterdir()) == []


def test_oracle_run_and_console_script_from_an_empty_directory(installed, tmp_path):
    run = ("model=oracle", "task=all", "runner.progress=false", "scoring.meteor=false")
    done = run_installed(installed, tmp_path, sys.executable, "-m", "sarbench", *run)
    assert done.returncode == 0, done.stderr
    metrics = json.loads((tmp_path / "results" / "oracle" / "sample" / "metrics.json").read_text())
    assert metrics["metrics"]["avg"] == 100.0 and sum(metrics["n"].values()) == 425
    script = installed / "bin" / "sarbench"
    listing = run_installed(installed, tmp_path, str(script), "--help")
    assert listing.returncode == 0, listing.stderr
    assert all(verb in listing.stdout for verb in ("run", "score", "build", "leaderboard", "compare", "plot", "view"))
    score = ("results/oracle/sample/predictions", "--no-meteor", "--quiet", "--out", "scored.json")
    scored = run_installed(installed, tmp_path, str(script), "score", *score)
    assert scored.returncode == 0, scored.stderr
    assert json.loads((tmp_path / "scored.json").read_text())["metrics"]["avg"] == 100.0
    viewed = run_installed(installed, tmp_path, str(script), "view", "results/oracle/sample", "-o", "view.html")
    assert viewed.returncode == 0, viewed.stderr
    assert "sarbench-data" in (tmp_path / "view.html").read_text(encoding="utf-8")
    legacy = run_installed(installed, tmp_path, str(installed / "bin" / "sarbench-score"), "--help")
    assert legacy.returncode == 0 and "usage:" in legacy.stdout
