"""`sarbench.score --workers N`: each subset's files read and scored in a worker
(sarbench/score_files.py) give the bytes of one process, and whatever the one-process reading
would refuse is refused with its words."""

import json

import pytest
from test_score_workers import exits_when_scoring_count, predictions

import sarbench.score as cli
import sarbench.score_files as score_files
from sarbench.score_workers import can_fork
from sarbench.subsets import SUBSETS

pytestmark = pytest.mark.skipif(not can_fork(), reason="worker processes need fork (not on this OS)")


def write_results(folder, n=12):
    """Every subset; describe in two files; sarbench-style ids, a failure and a missing
    response in some; image sizes; one malformed reference (collected with --collect-errors)."""
    folder.mkdir(exist_ok=True)
    for subset, items in predictions(n=n).items():
        rows = []
        for i, p in enumerate(items):
            row = {"response": p.response, "labels": p.reference, "images": [f"img/{subset}-{i}.png"]}
            if p.image_size:
                row["image_size"] = list(p.image_size)
            if subset == "count":
                row["id"] = f"count-{i}"
            if subset == "refer_single" and i == 2:
                row["error"], row["error_kind"] = "connection reset", "transient"
            if subset == "classify" and i == 1:
                del row["response"]
            rows.append(row)
        if subset == "describe":
            (folder / "SARChat_describe_test_results.jsonl").write_text(_lines(rows[: n // 2]))
            rows = rows[n // 2 :]
        (folder / f"{subset}.jsonl").write_text(_lines(rows))
    return folder


def _lines(rows):
    return "".join(json.dumps(row) + "\n" for row in rows)


def score(folder, workers, *extra):
    out, details = folder.parent / f"m{workers}.json", folder.parent / f"d{workers}.jsonl"
    code = cli.main(
        [str(folder), "--no-meteor", "--quiet", "--workers", str(workers), "--out", str(out)]
        + [
            "--details",
            str(details),
            *extra,
        ]
    )
    return code, (out.read_bytes(), details.read_bytes()) if code == 0 else None


def test_subsets_scored_in_workers_give_the_bytes_of_one_process(tmp_path, monkeypatch):
    folder = write_results(tmp_path / "results")
    one = score(folder, 1)
    monkeypatch.setattr(cli, "load_predictions", lambda *a, **k: pytest.fail("read in the parent"))
    assert score(folder, 2) == one and score(folder, 3) == one
    result = json.loads(one[1][0])
    assert result["no_response_field"] == {"classify": 1}
    assert result["inference_failures"]["refer_single"] == 1 and result["n"]["describe"] == 12
    assert result["breakdowns"]["coverage"]["box_samples_with_image_size"] > 0
    ids = [json.loads(line)["id"] for line in one[1][1].splitlines()]
    assert ids[:3] == ["classify/0", "classify/1", "classify/2"] and ids.count("count-0") == 1
    assert ids.index("describe/11") + 1 == ids.index("count-0")  # the subset's own order


def test_a_malformed_reference_is_raised_or_collected_as_in_one_process(tmp_path, monkeypatch, capsys):
    folder = write_results(tmp_path / "results")
    lines = (folder / "grounding_multi.jsonl").read_text().splitlines(keepends=True)
    lines[4] = json.dumps({"response": "x", "labels": "nothing to score"}) + "\n"
    (folder / "grounding_multi.jsonl").write_text("".join(lines))
    assert score(folder, 1, "--collect-errors") == score(folder, 2, "--collect-errors")
    assert score(folder, 1) == score(folder, 2) == (2, None)
    errors = capsys.readouterr().err.splitlines()
    assert errors[0] == errors[1] and "grounding_multi.jsonl, record 4: reference answer has nothing" in errors[0]


@pytest.mark.parametrize(
    "damage",
    ["broken line", "not an object", "id twice in a file", "id in two subsets"],
)
def test_what_one_process_would_refuse_is_refused_with_its_words(tmp_path, capsys, damage):
    folder = write_results(tmp_path / "results")
    append = {
        "broken line": ("refer_multi", "{broken\n"),
        "not an object": ("classify", "[1, 2]\n"),
        "id twice in a file": ("count", json.dumps({"id": "count-3", "response": "", "labels": "x"}) + "\n"),
        "id in two subsets": ("identify_single", json.dumps({"id": "count-3", "response": "", "labels": "x"}) + "\n"),
    }
    subset, text = append[damage]
    with (folder / f"{subset}.jsonl").open("a") as file:
        file.write(text)
    assert score(folder, 1) == score(folder, 2) == (2, None)
    errors = capsys.readouterr().err.splitlines()
    assert len(errors) == 2 and errors[0] == errors[1] and errors[0].startswith("error: ")
    assert score(folder, 1, "--collect-errors") == score(folder, 2, "--collect-errors")


def test_files_that_do_not_name_their_subset_are_read_in_one_process(tmp_path, monkeypatch):
    folder = write_results(tmp_path / "results")
    (folder / "count.jsonl").rename(folder / "my_results.jsonl")  # routed record by record
    calls = []
    real = score_files.score_files_in_workers
    monkeypatch.setattr(cli, "score_files_in_workers", lambda *a, **k: calls.append(real(*a, **k)) or calls[-1])
    assert score(folder, 1) == score(folder, 2)
    assert calls == [None, None]


def test_a_worker_that_dies_is_a_clear_error(tmp_path, monkeypatch, capsys):
    folder = write_results(tmp_path / "results")
    monkeypatch.setattr(score_files, "score_chunk", exits_when_scoring_count(score_files.score_chunk))
    assert score(folder, 2) == (2, None)
    assert "worker process ended abruptly" in capsys.readouterr().err


def test_units_start_with_the_costliest_subset(tmp_path, monkeypatch):
    folder = write_results(tmp_path / "results", n=30)
    order = []
    real = score_files.run_units

    def recorded(function, shared, units, workers):
        order.extend(subset for subset, _ in units)
        return real(function, shared, units, workers)

    monkeypatch.setattr(score_files, "run_units", recorded)
    assert score(folder, 2)[0] == 0
    costs = [score_files._cost(subset, [folder / f"{subset}.jsonl"]) for subset in order if subset != "describe"]
    assert sorted(order) == sorted(SUBSETS) and costs == sorted(costs, reverse=True)
