"""sarbench.compare: paired cluster bootstrap, McNemar, disagreements, same-data checks."""

import json
import random
import shutil

import numpy as np
import pytest
from test_data import REFERENCES

from sarbench.compare import BETTER, SAME, WORSE, compare_runs, main, verdict
from sarbench.reports.bootstrap import scores
from sarbench.reports.paired import mcnemar_exact
from sarbench.result_files import Prediction
from sarbench.score_predictions import score_predictions
from sarbench.subsets import SUBSETS

SHA = {"SARChat_classify_test.json": "a" * 64, "SARChat_classify_count_test.json": "b" * 64}
WRONG = {"count": "There are 7 instances.", "classify": "It is tank."}


def make_run(
    folder, skill, *, seed=0, per_subset=30, images=15, model="model", sha=SHA, one_image=False, subsets=SUBSETS
):
    """Score a synthetic run: each response is the reference with probability `skill`."""
    rng = random.Random(seed)
    by_subset = {}
    for subset in subsets:
        question, answer = REFERENCES[subset]
        by_subset[subset] = []
        for i in range(per_subset):
            if subset.startswith("grounding") and i % 3 == 0:  # feeds grounding.abstract
                reference = answer + " The ship is near the ship."
            else:
                reference = answer
            response = reference if rng.random() < skill else WRONG.get(subset, "no idea")
            image = "img.png" if one_image else f"images/{i % images}.png"
            by_subset[subset].append(
                Prediction(f"{subset}/{i}", subset, response, reference, f"x.json:{i}", image, question)
            )
    folder.mkdir(parents=True)
    result = score_predictions(by_subset, captions=False, details=folder / "details.jsonl")
    result["run"] = {"model": model, "data": "synthetic"}
    (folder / "metrics.json").write_text(json.dumps(result))
    (folder / "manifest.json").write_text(json.dumps({"data_sha256": sha}))
    return folder


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("runs")
    weak = make_run(root / "weak", 0.4, seed=1, model="weak")
    strong = make_run(root / "strong", 0.95, seed=2, model="strong")
    twin = root / "twin"
    shutil.copytree(weak, twin)
    return weak, strong, twin


def rows(comparison):
    return {r["metric"]: r for r in comparison["scores"]}


def test_run_against_itself_is_zero_and_not_significant(runs):
    weak, _, twin = runs
    [comparison] = compare_runs([weak, twin], replicates=200)
    for row in comparison["scores"]:
        assert row["delta"] == 0 and row["ci_low"] == 0 == row["ci_high"], row["metric"]
        assert row["verdict"] == SAME
    assert all(t["p_value"] == 1 and t["verdict"] == SAME for t in comparison["mcnemar"])
    assert comparison["disagreements"] == [] and comparison["warnings"] == []


def test_clearly_better_run_is_significantly_better(runs):
    weak, strong, _ = runs
    [comparison] = compare_runs([weak, strong], replicates=300)
    by_metric = rows(comparison)
    for metric in ("avg", "task.count", "classify.acc", "count.only", "refer.multi.iou50"):
        assert by_metric[metric]["verdict"] == BETTER, metric
    assert by_metric["count.mae"]["delta"] < 0 and by_metric["count.mae"]["verdict"] == BETTER
    assert {t["name"]: t["verdict"] for t in comparison["mcnemar"]}["count.only"] == BETTER
    [reverse] = compare_runs([strong, weak], replicates=300)
    assert rows(reverse)["avg"]["verdict"] == WORSE


def test_point_estimates_reproduce_the_scorer(runs):
    weak, strong, _ = runs
    [comparison] = compare_runs([weak, strong], replicates=20)
    for side, folder in (("a", weak), ("b", strong)):
        metrics = json.loads((folder / "metrics.json").read_text())["metrics"]
        for row in comparison["scores"]:
            assert row[side] == pytest.approx(metrics[row["metric"]], abs=1e-9), row["metric"]
    assert {"avg", "avg_paper", "task.grounding", "count.rmse", "count.parse_fail", "grounding.abstract"} <= set(
        rows(comparison)
    )


def test_ci_contains_point_estimate_and_is_seeded(runs):
    weak, strong, _ = runs
    first = compare_runs([weak, strong], replicates=200, seed=7)
    for row in first[0]["scores"]:
        assert row["ci_low"] <= row["delta"] <= row["ci_high"], row["metric"]
    assert compare_runs([weak, strong], replicates=200, seed=7) == first
    other = compare_runs([weak, strong], replicates=200, seed=8)
    assert rows(other[0])["avg"]["ci_low"] != rows(first[0])["avg"]["ci_low"]


def test_samples_of_one_image_are_resampled_together(tmp_path):
    # every sample on one image: each replicate redraws that image, so the CI collapses
    a = make_run(tmp_path / "a", 0.4, seed=1, one_image=True)
    b = make_run(tmp_path / "b", 0.9, seed=2, one_image=True)
    [comparison] = compare_runs([a, b], replicates=50)
    assert comparison["clusters"] == 1
    avg = rows(comparison)["avg"]
    assert avg["ci_low"] == pytest.approx(avg["delta"]) == pytest.approx(avg["ci_high"])


def test_mcnemar_exact_hand_case():
    assert mcnemar_exact(1, 9) == pytest.approx(22 / 1024)  # 2 * P(X <= 1), X ~ Bin(10, 1/2)
    assert mcnemar_exact(9, 1) == pytest.approx(22 / 1024)
    assert mcnemar_exact(0, 0) == 1.0 and mcnemar_exact(5, 5) == 1.0
    assert mcnemar_exact(0, 5) == pytest.approx(2 / 32)


def test_mcnemar_counts_discordant_samples(runs):
    weak, strong, _ = runs
    [comparison] = compare_runs([weak, strong], replicates=10)
    a = [json.loads(l) for l in (weak / "details.jsonl").read_text().splitlines()]
    b = {r["id"]: r for r in map(json.loads, (strong / "details.jsonl").read_text().splitlines())}
    count = [(r["count_exact"], b[r["id"]]["count_exact"]) for r in a if r["subset"] == "count"]
    test = next(t for t in comparison["mcnemar"] if t["name"] == "count.only")
    assert (test["n"], test["a_only"], test["b_only"]) == (
        len(count),
        sum(x and not y for x, y in count),
        sum(y and not x for x, y in count),
    )
    assert test["p_value"] == pytest.approx(mcnemar_exact(test["a_only"], test["b_only"]))


def test_verdict_rule():
    assert verdict(0.1, 2.0, False) == BETTER and verdict(0.1, 2.0, True) == WORSE
    assert verdict(-2.0, -0.1, False) == WORSE and verdict(-2.0, -0.1, True) == BETTER
    assert verdict(-1.0, 1.0, False) == SAME and verdict(0.0, 0.0, False) == SAME


def test_scores_pool_like_the_protocol():
    sums = {"n|m": np.array([2.0, 0.0, 3.0]), "tp|A|m": np.array([1.0, 0.0, 0.0]), "den|A|m": np.array([4.0, 0.0, 0.0])}
    values = scores(sums, "A")["m"]
    assert values[0] == 25.0 and np.isnan(values[1]) and values[2] == 100.0  # 0/0 -> 100


def test_disagreements_list_both_responses(runs):
    weak, strong, _ = runs
    [comparison] = compare_runs([weak, strong], replicates=10, top=5)
    worst = comparison["disagreements"]
    assert len(worst) == 5 and all(abs(d["delta"]) == 100 for d in worst)
    assert all(d["a_response"] != d["b_response"] for d in worst)
    assert worst == sorted(worst, key=lambda d: (d["id"].split("/")[0], int(d["id"].split("/")[1])))


def test_responses_fall_back_to_predictions_files(runs, tmp_path):
    weak, strong, _ = runs
    stripped = tmp_path / "stripped"
    shutil.copytree(strong, stripped)
    lines = [json.loads(l) for l in (stripped / "details.jsonl").read_text().splitlines()]
    (stripped / "details.jsonl").write_text(
        "".join(json.dumps({k: v for k, v in line.items() if k != "response"}) + "\n" for line in lines)
    )
    (stripped / "predictions").mkdir()
    for subset in SUBSETS:
        (stripped / "predictions" / f"{subset}.jsonl").write_text(
            "".join(
                json.dumps({"id": l["id"], "response": f"from predictions {l['id']}"}) + "\n"
                for l in lines
                if l["subset"] == subset
            )
        )
    [comparison] = compare_runs([weak, stripped], replicates=10, top=3)
    assert all(d["b_response"] == f"from predictions {d['id']}" for d in comparison["disagreements"])


def test_different_data_is_refused_with_what_differs(runs, tmp_path):
    weak, _, _ = runs
    other = make_run(tmp_path / "other", 0.5, sha={**SHA, "SARChat_classify_test.json": "c" * 64})
    with pytest.raises(SystemExit, match="different data.*SARChat_classify_test.json: sha256 aaaa"):
        compare_runs([weak, other], replicates=10)
    fewer = make_run(tmp_path / "fewer", 0.5, per_subset=29)
    with pytest.raises(SystemExit, match=r"different samples: 9 only in A \(first classify/29\)"):
        compare_runs([weak, fewer], replicates=10)
    relabelled = tmp_path / "relabelled"
    shutil.copytree(weak, relabelled)
    (relabelled / "manifest.json").unlink()
    details = (relabelled / "details.jsonl").read_text().replace('"labels": "It is ship."', '"labels": "It is car."', 1)
    (relabelled / "details.jsonl").write_text(details)
    with pytest.raises(SystemExit, match="different reference answers for 1 samples"):
        compare_runs([weak, relabelled], replicates=10)


def test_cli_markdown_json_and_three_runs(runs, tmp_path, capsys):
    weak, strong, twin = runs
    assert main([str(weak), str(strong), "--bootstrap", "50", "--top", "3"]) == 0
    text = capsys.readouterr().out
    assert text.startswith("## strong (synthetic) (B) vs weak (synthetic) (A)")
    assert "| avg | " in text and "| better |" in text and "McNemar" in text
    assert "| count.mae ↓ |" in text
    out = tmp_path / "c.json"
    assert main([str(weak), str(strong), str(twin), "--bootstrap", "50", "--out", str(out)]) == 0
    document = json.loads(out.read_text())
    assert [c["b"]["name"] for c in document["comparisons"]] == ["strong (synthetic)", "weak (synthetic)"]


def test_caption_metrics_get_deltas_without_ci(runs, tmp_path, capsys):
    weak, strong, _ = runs
    copies = []
    for folder, cider in ((weak, 50.0), (strong, 80.0)):
        copy = tmp_path / folder.name
        shutil.copytree(folder, copy)
        result = json.loads((copy / "metrics.json").read_text())
        result["metrics"]["describe.cider"] = cider
        (copy / "metrics.json").write_text(json.dumps(result))
        copies.append(copy)
    [comparison] = compare_runs(copies, replicates=10)
    assert comparison["captions"] == [
        {"metric": "describe.cider", "a": 50.0, "b": 80.0, "delta": 30.0, "verdict": "n/a (corpus-level: no CI)"}
    ]


def test_common_compares_runs_over_different_tasks_on_the_samples_both_scored(runs, tmp_path, capsys):
    weak, _, _ = runs
    partial = make_run(
        tmp_path / "partial",
        0.9,
        seed=3,
        per_subset=20,
        subsets=("count", "classify"),
        sha={"SARChat_classify_count_test.json": SHA["SARChat_classify_count_test.json"]},
    )
    with pytest.raises(SystemExit, match="only in A.*--common compares"):
        compare_runs([weak, partial], replicates=10)
    [comparison] = compare_runs([weak, partial], replicates=50, common=True)
    assert comparison["samples"] == 40
    assert comparison["left_out"] == {"only_a": 9 * 30 - 40, "only_b": 0}
    assert "files 1 only in A (SARChat_classify_test.json)" in comparison["data_check"]
    assert comparison["captions"] == [] and comparison["warnings"] == []
    # A's side is A re-scored on exactly the shared samples
    shared = [
        json.loads(line)
        for line in (weak / "details.jsonl").read_text().splitlines()
        if json.loads(line)["subset"] in ("count", "classify") and int(json.loads(line)["id"].split("/")[1]) < 20
    ]
    assert len(shared) == 40
    by_metric = rows(comparison)
    hits = sum(r["counts"]["classify.acc"]["tp"] for r in shared if r["subset"] == "classify")
    errors = sum(
        r["counts"]["classify.acc"]["fp"] + r["counts"]["classify.acc"]["fn"]
        for r in shared
        if r["subset"] == "classify"
    )
    assert by_metric["classify.acc"]["a"] == pytest.approx(100 * hits / (hits + errors))
    assert set(by_metric) >= {"avg", "task.count", "count.only"} and "task.refer" not in by_metric
    assert main([str(weak), str(partial), "--common", "--bootstrap", "20"]) == 0
    assert "230 only in A and 0 only in B left out" in capsys.readouterr().out
    clashing = make_run(
        tmp_path / "clashing",
        0.9,
        per_subset=20,
        subsets=("count",),
        sha={"SARChat_classify_count_test.json": "f" * 64},
    )
    with pytest.raises(SystemExit, match="different data"):
        compare_runs([weak, clashing], replicates=10, common=True)


def test_top_zero_states_how_many_samples_differ(runs, tmp_path, capsys):
    weak, strong, twin = runs
    [comparison] = compare_runs([weak, strong], replicates=20, top=0)
    details = {
        folder: {
            json.loads(l)["id"]: json.loads(l)["counts"] for l in (folder / "details.jsonl").read_text().splitlines()
        }
        for folder in (weak, strong)
    }
    expected = sum(details[weak][i] != details[strong][i] for i in details[weak])
    assert comparison["differing"] == expected > 0
    assert main([str(weak), str(strong), "--bootstrap", "20", "--top", "0"]) == 0
    text = capsys.readouterr().out
    assert "score every sample the same" not in text
    assert f"**{expected} of {9 * 30} samples scored differently**" in text
    assert f"{expected} samples scored differently; none listed (--top 0)." in text
    assert main([str(weak), str(twin), "--bootstrap", "20"]) == 0
    assert "None: the runs score every sample the same." in capsys.readouterr().out


def test_report_explains_both_tests_and_labels_the_verdict(runs, capsys):
    weak, strong, _ = runs
    assert main([str(weak), str(strong), "--bootstrap", "20", "--top", "1"]) == 0
    text = capsys.readouterr().out
    assert "- Bootstrap CI (the verdict): images are resampled with replacement 20 times" in text
    assert "- McNemar (a second look, per-sample hits only):" in text and "read the CI" in text
    assert "| verdict (bootstrap CI) |" in text and "| McNemar verdict |" in text


def test_different_task_sets_are_refused_as_such(runs, tmp_path):
    weak, _, _ = runs
    counted = make_run(tmp_path / "counted", 0.5, subsets=("count",), sha=SHA)  # no manifest difference
    with pytest.raises(SystemExit, match=r"ran different task sets: subsets only in A \['classify', 'describe'"):
        compare_runs([weak, counted], replicates=10)
    files = make_run(tmp_path / "files", 0.5, subsets=("count",), sha={"SARChat_classify_count_test.json": "b" * 64})
    with pytest.raises(SystemExit, match=r"ran different task sets \(data files 1 only in A") as refused:
        compare_runs([weak, files], replicates=10)
    assert "different data" not in str(refused.value)


def test_forest_plot_is_written_beside_the_report(runs, tmp_path, capsys):
    weak, strong, _ = runs
    out = tmp_path / "cmp" / "report.md"
    assert main([str(weak), str(strong), "--bootstrap", "20", "--out", str(out)]) == 0
    png, pdf = tmp_path / "cmp" / "report_forest.png", tmp_path / "cmp" / "report_forest.pdf"
    assert png.read_bytes().startswith(b"\x89PNG") and png.stat().st_size > 5000
    data = pdf.read_bytes()
    assert b"/Type3" not in data and b"/CIDFontType2" in data  # Type 42 (TrueType) fonts only
    assert f"forest plot: {png}" in capsys.readouterr().err
    plot = tmp_path / "f.svg"
    assert main([str(weak), str(strong), "--bootstrap", "20", "--plot", str(plot)]) == 0
    assert plot.read_text().count("<g id=") > 10
