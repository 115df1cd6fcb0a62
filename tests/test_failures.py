"""Failures are not answers: a served model's outage (a real HTTP server on 127.0.0.1 that is
stopped mid-run) then a plain re-run gives what an uninterrupted run gives; permanent failures
stay failures with their reason and stop a run early; every report marks a run with failures."""

import json
import subprocess
import threading

import pytest
from local_server import JsonHandler, LocalServer
from test_data import REFERENCES
from test_run import REPO, _cli, make_dataset, predictions, run

from model_adapters import AdapterError
from model_adapters.oracle import OracleBackend
from sarbench.failures import (
    EXIT_ALL_FAILED,
    EXIT_FAILURES,
    EXIT_OK,
    FailureStreak,
    exception_kind,
    exit_status,
    failure_counts,
    to_retry,
)
from sarbench.leaderboard import main as leaderboard_main
from sarbench.run_folder import RunFolderError, read_prediction_lines
from sarbench.run_settings import runner_settings
from sarbench.runner import RunError
from sarbench.score import main as score_main

ANSWERS = {question: answer for question, answer in REFERENCES.values()}
COUNT_QUESTION = REFERENCES["count"][0]


class ChatServer(LocalServer):
    """An OpenAI-compatible server answering each question with its reference. `stop_after`:
    it goes down for good (its socket closed: connections refused) after that many answers;
    `refuse_count`: requests for the count question get HTTP 400 (a request it can never serve),
    except a preflight's one-token request."""

    def __init__(self, port=0, stop_after=None, refuse_count=False):
        self.answered = 0
        self.stop_after = stop_after
        self.refuse_count = refuse_count
        self.lock = threading.Lock()
        super().__init__(self._handler(), port)
        self.start()

    def _handler(self):
        server = self

        class Handler(JsonHandler):
            def do_GET(self):  # the model list a preflight may ask for
                self.reply(200, {"object": "list", "data": [{"id": "tiny", "object": "model"}]})

            def do_POST(self):
                body = self.read_json()
                content = body["messages"][-1]["content"]
                text = content if isinstance(content, str) else content[-1].get("text")
                # a one-token request is a preflight check (model_adapters/openai_preflight.py)
                if server.refuse_count and text == COUNT_QUESTION and body.get("max_tokens") != 1:
                    return self.reply(400, {"error": {"message": "image exceeds this model's limit"}})
                with server.lock:
                    server.answered += 1
                    if server.stop_after is not None and server.answered == server.stop_after:
                        server.stop()  # before this answer: every later request is refused
                self.reply(200, {"choices": [{"message": {"role": "assistant", "content": ANSWERS.get(text, "?")}}]})

        return Handler


@pytest.fixture
def servers():
    started = []

    def start(**kwargs):
        started.append(ChatServer(**kwargs))
        return started[-1]

    yield start
    for server in started:
        server.stop()


def served(url, *extra):
    return (
        "model=openai",
        "model.served_model=tiny",
        f"model.base_url={url}",
        "model.max_retries=0",
        "model.timeout_s=10",
        "model.concurrency=4",
        "runner.batch_size=4",
        *extra,
    )


def cli(data, out, *extra):
    return subprocess.run(_cli(data, out, *extra), cwd=REPO, capture_output=True, text=True, timeout=300)


def responses(out):
    return {line["id"]: line.get("response") for lines in predictions(out).values() for line in lines}


def metrics(out):
    document = json.loads((out / "metrics.json").read_text())
    return {key: document[key] for key in ("metrics", "n", "inference_failures", "inference_failure_summary")}


def test_an_outage_then_a_plain_rerun_equals_an_uninterrupted_run(tmp_path, servers):
    data = make_dataset(tmp_path / "data", per_subset=4)
    clean = tmp_path / "clean"
    done = cli(data, clean, *served(servers().url))
    assert done.returncode == EXIT_OK, done.stderr
    # the server dies after 10 answers; the run stops on 8 failures in a row, saving what it has
    outage = tmp_path / "outage"
    server = servers(stop_after=10)
    done = cli(data, outage, *served(server.url, "runner.max_consecutive_failures=8"))
    assert done.returncode == 2 and "stopped: 8 samples failed in a row" in done.stderr, done.stderr
    failed = [line for lines in predictions(outage).values() for line in lines if "error" in line]
    assert failed and {line["error_kind"] for line in failed} == {"transient"}
    assert "Connection" in failed[0]["error"] or "refused" in failed[0]["error"]
    session = json.loads((outage / "manifest.json").read_text())["sessions"][-1]
    assert session["outcome"] == "errored" and "8 samples failed in a row" in session["error"]
    assert not (outage / "metrics.json").exists()
    # back up on the same port: the same command predicts the failed samples again
    servers(port=server.port)
    done = cli(data, outage, *served(server.url, "runner.max_consecutive_failures=8"))
    assert done.returncode == EXIT_OK, done.stderr
    assert responses(outage) == responses(clean)
    assert metrics(outage) == metrics(clean)
    assert metrics(clean)["inference_failure_summary"]["failed"] == 0


def test_a_run_with_failures_is_marked_everywhere_and_exits_4(tmp_path, servers):
    data = make_dataset(tmp_path / "data", per_subset=4)
    runs = tmp_path / "runs"
    assert cli(data, runs / "clean", *served(servers().url)).returncode == EXIT_OK
    server = servers(stop_after=32)
    done = cli(data, runs / "outage", *served(server.url, "model.name=down"))
    assert done.returncode == EXIT_FAILURES, done.stderr
    assert "samples failed inference" in done.stderr and "runner.allow_failures=true" in done.stderr
    summary = json.loads((runs / "outage" / "metrics.json").read_text())["inference_failure_summary"]
    failed = summary["failed"]
    assert 0 < failed < 36 and summary == {
        "failed": failed,
        "samples": 36,
        "percent": round(100 * failed / 36, 2),
        "transient": failed,
        "permanent": 0,
    }
    share = f"{failed} of 36 samples ({100 * failed / 36:.2f} %"
    # re-scoring the predictions folder marks them the same way
    rescored = tmp_path / "rescored.json"
    assert score_main([str(runs / "outage" / "predictions"), "--out", str(rescored), "--quiet"]) == 0
    assert json.loads(rescored.read_text())["inference_failure_summary"] == summary
    assert f"inference failures: {share}; {failed} transient), scored as empty answers" in done.stdout
    # listed, daggered, footnoted, and not ranked above the (default 5 %) threshold
    table = tmp_path / "table.md"
    leaderboard_main([str(runs), "--out", str(table)])
    text = table.read_text()
    rows = [line for line in text.splitlines() if line.startswith("| ")][1:]
    assert rows[0].startswith("| openai-tiny (data) |") and rows[1].startswith("| down (data) † ‡ |")
    assert "**" not in rows[1]
    assert f"† inference failures, scored as empty answers: down (data): {share})" in text
    assert "‡ listed, not ranked: runs with more failed samples than --max-failure-rate" in text
    leaderboard_main([str(runs), "--out", str(table), "--max-failure-rate", "20"])
    assert "‡" not in table.read_text() and "down (data) † |" in table.read_text()
    latex = tmp_path / "table.tex"
    leaderboard_main([str(runs), "--out", str(latex)])
    assert r"down (data) \ensuremath{\dagger}" in latex.read_text()
    assert r"\ensuremath{\dagger} inference failures" in latex.read_text()
    # the plots explain the legend's dagger under each figure
    import matplotlib

    from sarbench.plot import write_plots
    from sarbench.reports.runs import load_runs

    with matplotlib.rc_context({"svg.fonttype": "none"}):  # text kept as text
        figures = write_plots(load_runs([runs]), tmp_path / "plots", ["svg"])
    assert all("† inference failures, scored as empty answers" in path.read_text() for path in figures)
    # accepted failures exit 0
    accepted = ("model.name=down", "runner.retry_failed=none", "runner.allow_failures=true")
    assert cli(data, runs / "outage", *served(servers(port=server.port).url, *accepted)).returncode == EXIT_OK


def test_permanent_failures_stay_failures_and_a_run_of_them_stops_early(tmp_path, servers):
    data = make_dataset(tmp_path / "data", per_subset=10)
    out = tmp_path / "run"
    server = servers(refuse_count=True)
    done = cli(data, out, *served(server.url, "task=count"))
    assert done.returncode == 2, done.stderr
    assert "stopped: 8 samples in a row failed for a reason a retry cannot fix" in done.stderr
    assert "HTTP 400" in done.stderr and "image exceeds this model's limit" in done.stderr
    lines = predictions(out)["count"]
    assert len(lines) == 8 and {line["error_kind"] for line in lines} == {"permanent"}
    # a plain re-run keeps them (with their reason) and does the rest; exit 4
    server.refuse_count = False
    done = cli(data, out, *served(server.url, "task=count"))
    assert done.returncode == EXIT_FAILURES, done.stderr
    assert json.loads((out / "metrics.json").read_text())["inference_failures"] == {"count": 8}
    assert sum("HTTP 400" in line.get("error", "") for line in predictions(out)["count"]) == 8
    done = cli(data, out, *served(server.url, "task=count", "runner.retry_failed=all"))
    assert done.returncode == EXIT_OK, done.stderr
    assert json.loads((out / "metrics.json").read_text())["inference_failures"] == {"count": 0}


def test_an_adapter_error_stops_the_run_with_its_message(tmp_path, monkeypatch):
    data = make_dataset(tmp_path / "data", per_subset=2)

    def refuse(self, requests):
        raise AdapterError("model.served_model 'x' is not served here; served: tiny")

    monkeypatch.setattr(OracleBackend, "generate", refuse)
    with pytest.raises(RunError, match="is not served here; served: tiny"):
        run(data, tmp_path / "run", "task=classify")
    assert not (tmp_path / "run" / "metrics.json").exists()
    session = json.loads((tmp_path / "run" / "manifest.json").read_text())["sessions"][-1]
    assert session["outcome"] == "errored" and "not served here" in session["error"]


def test_a_corrupt_image_is_a_permanent_failure_kept_by_a_plain_rerun(tmp_path):
    data = make_dataset(tmp_path / "data", per_subset=2)
    good = (data / "images" / "b.png").read_bytes()
    (data / "images" / "b.png").write_bytes(b"broken")
    out = tmp_path / "run"
    result = run(data, out, "task=classify")
    assert result["inference_failure_summary"] == {
        "failed": 1,
        "samples": 2,
        "percent": 50.0,
        "transient": 0,
        "permanent": 1,
    }
    (data / "images" / "b.png").write_bytes(good)
    assert run(data, out, "task=classify")["inference_failures"] == {"classify": 1}
    assert run(data, out, "task=classify", "runner.retry_failed=all")["inference_failures"] == {"classify": 0}


def settings(**overrides):
    from test_run import config

    cfg = config()
    return runner_settings({**dict(cfg.runner), **overrides})


def test_failure_kinds_retry_choices_and_streaks():
    assert exception_kind(ConnectionRefusedError()) == exception_kind(TimeoutError()) == "transient"
    assert exception_kind(ValueError("bad")) == "permanent"
    records = [
        {"id": "a", "response": "x"},
        {"id": "b", "response": None, "error": "HTTP 503", "error_kind": "transient"},
        {"id": "c", "response": None, "error": "HTTP 400", "error_kind": "permanent"},
        {"id": "d", "response": None, "error": "written before kinds"},  # retried: never an answer
    ]
    assert to_retry(records, "transient") == {"b", "d"}
    assert to_retry(records, "all") == {"b", "c", "d"} and to_retry(records, "none") == set()
    streak = FailureStreak(settings(max_consecutive_failures=3, max_consecutive_permanent_failures=2))
    streak.update(records[:3])  # an answer resets both counts
    with pytest.raises(RunError, match="2 samples in a row failed for a reason a retry cannot fix"):
        streak.update([records[2]])
    streak = FailureStreak(settings(max_consecutive_failures=3))
    with pytest.raises(RunError, match="3 samples failed in a row.*last error: HTTP 400"):
        streak.update([records[1], records[3], records[2]])


def test_exit_status_and_counts_of_old_metrics_files():
    old = {"n": {"count": 4}, "inference_failures": {"count": 1}}  # before the summary existed
    assert failure_counts(old) == (1, 4) and failure_counts({"n": {"count": 4}}) == (0, 4)
    assert exit_status(old, allow_failures=False) == EXIT_FAILURES
    assert exit_status(old, allow_failures=True) == EXIT_OK
    assert exit_status({"n": {"count": 4}, "inference_failures": {"count": 4}}, True) == EXIT_ALL_FAILED


def test_an_unknown_error_kind_is_a_corrupt_line(tmp_path):
    path = tmp_path / "count.jsonl"
    path.write_text(json.dumps({"id": "count/0", "response": None, "error": "x", "error_kind": "flaky"}) + "\n")
    with pytest.raises(RunFolderError, match="line 1: 'error_kind' is 'flaky', not one of transient, permanent"):
        read_prediction_lines(path)
