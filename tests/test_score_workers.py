"""Scoring in worker processes (sarbench/score_workers.py) gives the bytes of scoring in one."""

import gc
import json
import os
import random

import pytest
from test_data import REFERENCES

import sarbench.score_predictions as scoring
from sarbench.records import DataError
from sarbench.result_files import Prediction
from sarbench.score import main
from sarbench.score_workers import WorkerError, can_fork
from sarbench.subsets import SUBSETS

pytestmark = pytest.mark.skipif(not can_fork(), reason="worker processes need fork (not on this OS)")


def predictions(n=30, malformed=()):
    """Every subset, answers right, wrong, cut short or empty; some with an image size."""
    rng = random.Random(0)
    by_subset = {}
    for subset in SUBSETS:
        question, answer = REFERENCES[subset]
        wrong = answer.replace("ship", "car").replace("1", "7")
        items = []
        for i in range(n):
            response = rng.choice([answer, wrong, answer[: rng.randint(0, len(answer))], "", "It is tank."])
            reference = "nothing to score" if (subset, i) in malformed else answer
            size = (rng.choice([64, 512, 2048]), 512) if i % 3 else None
            items.append(Prediction(f"{subset}/{i}", subset, response, reference, f"x.jsonl:{i}", None, question, size))
        by_subset[subset] = items
    return by_subset


def scored(tmp_path, name, by_subset, workers, **kwargs):
    details = tmp_path / f"{name}.jsonl"
    result = scoring.score_predictions(by_subset, meteor=False, details=details, workers=workers, **kwargs)
    return json.dumps(result), details.read_bytes()


@pytest.mark.parametrize("malformed", [(), (("count", 4), ("identify_multi", 0))])
def test_workers_give_the_same_bytes_as_one_process(tmp_path, monkeypatch, malformed):
    monkeypatch.setattr(scoring, "CHUNK", 7)  # several chunks a subset, merged in order
    by_subset = predictions(malformed=malformed)
    one = scored(tmp_path, "one", by_subset, 1, malformed_reference="collect")
    assert one == scored(tmp_path, "three", by_subset, 3, malformed_reference="collect")
    result = json.loads(one[0])
    assert result["breakdowns"]["coverage"]["box_samples_with_image_size"] > 0
    assert len(result["malformed"]) == len(malformed)
    assert result["metrics"]["describe.cider"] is not None
    in_order = [p.id for s in SUBSETS for i, p in enumerate(by_subset[s]) if (s, i) not in malformed]
    assert [json.loads(line)["id"] for line in one[1].splitlines()] == in_order


def test_the_first_malformed_reference_is_raised_whatever_the_workers(monkeypatch):
    monkeypatch.setattr(scoring, "CHUNK", 7)
    by_subset = predictions(malformed=[("identify_multi", 3), ("count", 20), ("count", 25)])
    for workers in (1, 2):
        with pytest.raises(DataError, match=r"x\.jsonl, record 20: reference answer has nothing to score"):
            scoring.score_predictions(by_subset, meteor=False, workers=workers)


def exits_when_scoring_count(real):
    """`real` (score_chunk), except that the process scoring the count subset exits at once."""

    def dying(subset, *args):
        if subset == "count":
            os._exit(3)
        return real(subset, *args)

    return dying


def test_a_worker_that_dies_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(scoring, "score_chunk", exits_when_scoring_count(scoring.score_chunk))
    with pytest.raises(WorkerError, match="worker process ended abruptly"):
        scoring.score_predictions(predictions(), meteor=False, workers=2)


def test_an_exception_in_a_worker_is_raised_in_the_parent(monkeypatch):
    def broken(subset, *args):
        raise ValueError(f"bug while scoring {subset}")

    monkeypatch.setattr(scoring, "score_chunk", broken)
    with pytest.raises(ValueError, match="bug while scoring"):
        scoring.score_predictions(predictions(), meteor=False, workers=2)


def test_cli_workers_setting(tmp_path, capsys):
    for subset, items in predictions(n=12).items():
        rows = [{"response": p.response, "labels": p.reference} for p in items]
        (tmp_path / f"{subset}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    outputs = []
    for workers in ("1", "2"):
        out = tmp_path / "out" / f"{workers}.json"
        assert main([str(tmp_path), "--no-meteor", "--quiet", "--workers", workers, "--out", str(out)]) == 0
        outputs.append(out.read_text())
    assert outputs[0] == outputs[1]
    assert gc.isenabled()  # paused while scoring only
    with pytest.raises(SystemExit):
        main([str(tmp_path), "--workers", "0"])
    assert "must be at least 1" in capsys.readouterr().err


def test_meteor_runs_beside_the_workers_and_equals_the_caption_scorer():
    from metrics.captions import caption_scores, meteor_unavailable_reason

    reason = meteor_unavailable_reason()
    if reason is not None:
        pytest.skip(f"METEOR cannot run here: {reason}")
    describe = {"describe": predictions(n=6)["describe"]}
    expected = caption_scores([p.response for p in describe["describe"]], [p.reference for p in describe["describe"]])
    metrics = scoring.score_predictions(describe, meteor=True, workers=2)["metrics"]
    assert metrics["describe.meteor"] == expected["meteor"] and metrics["describe.cider"] == expected["cider"]


def test_required_meteor_that_cannot_run_is_an_error_before_scoring(monkeypatch):
    import metrics.captions

    monkeypatch.setattr(metrics.captions, "meteor_unavailable_reason", lambda: "no Java here")
    result = scoring.score_predictions({"describe": predictions(n=3)["describe"]}, meteor=None, workers=2)
    assert result["metrics"]["describe.meteor"] is None and result["notes"] == {"describe.meteor": "no Java here"}
    monkeypatch.setattr(scoring, "score_chunk", lambda *args: pytest.fail("scored before the METEOR check"))
    with pytest.raises(DataError, match="METEOR was required but cannot run: no Java here"):
        scoring.score_predictions(predictions(n=3), meteor=True, workers=2)
