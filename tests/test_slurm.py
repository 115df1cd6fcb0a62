"""Sharded runs through a real SLURM (slurm-wlm on localhost, scripts/slurm_local.sh) and Hydra's
submitit launcher (conf/hydra/launcher/slurm.yaml): the merged result equals one process; a
cancelled job resubmitted completes the run."""

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_run import make_dataset, run
from test_shards import assert_same_run

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "scripts" / "slurm_local.sh"

pytest.importorskip("hydra_plugins.hydra_submitit_launcher", reason="pip install 'sarbench[slurm]'")


@pytest.fixture(scope="module")
def slurm(tmp_path_factory):
    folder = tmp_path_factory.mktemp("slurm")
    env = {**os.environ, "SARBENCH_SLURM_DIR": str(folder)}
    started = subprocess.run(["bash", str(SCRIPT), "start"], env=env, capture_output=True, text=True, timeout=600)
    if started.returncode == 3:
        pytest.skip(f"no local SLURM: {started.stderr.strip()}")
    assert started.returncode == 0, started.stderr + started.stdout
    yield {**env, "SLURM_CONF": str(folder / "slurm.conf"), "PYTHONPATH": str(REPO)}
    subprocess.run(["bash", str(SCRIPT), "stop"], env=env, capture_output=True, timeout=120)


def submit(data: Path, out: Path, sweep: Path, env: dict, shards: str, *extra: str) -> subprocess.Popen:
    command = [
        sys.executable,
        "-m",
        "sarbench",
        "-m",
        "hydra/launcher=slurm",
        "hydra.launcher.gpus_per_task=null",
        "hydra.launcher.cpus_per_task=1",
        f"hydra.sweep.dir={sweep}",
        "data=built",
        f"data.root={data}",
        f"out={out}",
        "scoring.meteor=false",
        "runner.progress=false",
        "runner.num_shards=3",
        f"runner.shard={shards}",
        *extra,
    ]
    return subprocess.Popen(
        command, env=env, cwd=sweep.parent, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )


def squeue(env: dict) -> list[str]:
    listed = subprocess.run(["squeue", "-h", "-o", "%i %t"], env=env, capture_output=True, text=True, check=True)
    return listed.stdout.split("\n")[:-1]


def test_sharded_run_through_slurm_equals_one_process(tmp_path, slurm):
    data = make_dataset(tmp_path / "data", per_subset=4)
    single = tmp_path / "single"
    run(data, single)
    out = tmp_path / "sharded"
    submitter = submit(data, out, tmp_path / "sweep", slurm, "range(3)")
    log, _ = submitter.communicate(timeout=300)
    assert submitter.returncode == 0, log
    assert "#2 : " in log and len(list((tmp_path / "sweep" / ".submitit").iterdir())) >= 3  # three jobs
    assert_same_run(out, single)


def test_cancelled_shard_job_resubmitted_completes_the_run(tmp_path, slurm):
    data = make_dataset(tmp_path / "data", per_subset=4)
    single = tmp_path / "single"
    run(data, single)
    out = tmp_path / "sharded"
    slow = ("model.delay_s=0.5", "runner.batch_size=1")
    submitter = submit(data, out, tmp_path / "sweep", slurm, "range(3)", *slow)
    deadline = time.monotonic() + 180
    while not list((out / "predictions").glob("*.shard-1-of-3.jsonl")) and time.monotonic() < deadline:
        time.sleep(0.2)
    job = next(line.split()[0] for line in squeue(slurm) if line.split()[0].endswith("_1"))
    subprocess.run(["scancel", job], env=slurm, check=True)
    while any(line.split()[0].rsplit("_", 1)[-1] in ("0", "2") for line in squeue(slurm)):
        assert time.monotonic() < deadline, squeue(slurm)
        time.sleep(0.5)
    # Without an accounting database (slurmdbd) the submitter may wait on the cancelled job for
    # ever; it holds nothing, so it is stopped. README "Scale out" says the same for clusters.
    try:
        submitter.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        submitter.send_signal(signal.SIGKILL)
        submitter.communicate()
    assert not (out / "metrics.json").exists()
    status = subprocess.run([sys.executable, "-m", "sarbench.status", str(out)], capture_output=True, text=True)
    assert "2/3 shards done" in status.stdout, status.stdout
    shutil.rmtree(tmp_path / "sweep")
    again = submit(data, out, tmp_path / "sweep", slurm, "1", *slow)
    log, _ = again.communicate(timeout=300)
    assert again.returncode == 0, log
    assert_same_run(out, single)
